/**
 * Issue #3: earning coins by volunteering — the default catalogue, activities, sessions, claims by
 * QR token (expired, tampered, foreign tokens), event-mode awards by card, the programme budget,
 * reward amounts and metadata, and the wallet's history.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, openAccount } from './support/http-fixtures.js';
import {
  activitiesOf, activityOf, award, balanceOf, claim, fund, jwsParts, openSession, openWallet, programmeOf, registerVolunteer,
  volunteerCounts,
} from './support/volunteer-fixtures.js';
import { signClaimToken } from '../src/security/tokens.js';
import { cardCodeFromBytes, formatCardCode } from '../src/ledger/cards.js';

let t: TestApp;
let coord_tor: string;
let coord_ant: string;
/** TOR: scale 0, 25 per hour by default; its programme is funded with 10000. */
let programme: string;
let repair: any;
/** ANT: scale 2, a second currency. */
let programme_ant: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  t = await createTestApp();
  const tor = await createCurrency(t, 'TOR', 0);
  const ant = await createCurrency(t, 'ANT', 2);
  coord_tor = (await t.createStaff('coordinator', [tor.id])).token;
  coord_ant = (await t.createStaff('coordinator', [ant.id])).token;
  programme = await programmeOf(t, 'TOR');
  programme_ant = await programmeOf(t, 'ANT');
  await fund(t, 'TOR', programme, '10000');
  await fund(t, 'ANT', programme_ant, '1000.00');
  repair = await activityOf(t, 'TOR', 'repair_cafe');
});

afterAll(async () => {
  await t?.close();
});

/** Reward transfers that name a session in their metadata. */
async function rewardsOf(session_id: string) {
  return t.sql<{ id: string; amount: bigint; credit_account_id: string; code: string }[]>`
    SELECT id, amount, credit_account_id, code FROM transfers WHERE metadata->>'session_id' = ${session_id}`;
}

describe('a new currency', () => {
  it('gets an empty programme "Vrijwilligerswerk <CODE>" and 5 default activities at 25 coins per hour paid from it', async () => {
    await createCurrency(t, 'NEW', 2);
    const items = await activitiesOf(t, 'NEW');
    expect(items).toHaveLength(5);
    expect(new Set(items.map((a) => a.category))).toEqual(new Set(['repair_cafe', 'it_repair', 'buurtbeheer', 'street_ambassador', 'neighbourhood_party']));
    const programmes = new Set(items.map((a) => a.programme_account));
    expect(programmes.size).toBe(1);
    for (const a of items) {
      expect(a).toMatchObject({ currency: 'NEW', rate_per_hour: '25.00', amount: null, active: true });
      expect(a.name).toEqual({ nl: expect.any(String), en: expect.any(String), fr: expect.any(String) });
    }
    const account = await t.request('GET', `/api/v1/accounts/${[...programmes][0]}`, { token: t.adminToken });
    expect(account.body).toMatchObject({ kind: 'programme', name: 'Vrijwilligerswerk NEW', balance: '0.00', currency: 'NEW' });
    // At scale 0 the same catalogue reads "25".
    expect((await activitiesOf(t, 'TOR')).every((a) => a.rate_per_hour === '25')).toBe(true);
  });
});

describe('activities', () => {
  it('a coordinator adds an hourly and a fixed-amount activity, named in one or three languages', async () => {
    const hourly = await t.request('POST', '/api/v1/currencies/TOR/activities', {
      token: coord_tor, body: { name: 'Taalcafé', category: 'other', rate_per_hour: '30', programme_account: programme },
    });
    expect(hourly.status, JSON.stringify(hourly.body)).toBe(201);
    expect(hourly.body).toMatchObject({ name: { nl: 'Taalcafé' }, category: 'other', rate_per_hour: '30', amount: null, programme_account: programme, active: true });

    const fixed = await t.request('POST', '/api/v1/currencies/TOR/activities', {
      token: coord_tor,
      body: { name: { nl: 'Opruimdag', en: 'Clean-up day', fr: 'Journée de nettoyage' }, category: 'buurtbeheer', amount: '40', programme_account: programme },
    });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(201);
    expect(fixed.body).toMatchObject({ name: { nl: 'Opruimdag', en: 'Clean-up day', fr: 'Journée de nettoyage' }, rate_per_hour: null, amount: '40' });
    const listed = (await activitiesOf(t, 'TOR', coord_tor)).map((a) => a.id);
    expect(listed).toEqual(expect.arrayContaining([hourly.body.id, fixed.body.id]));
  });

  it('refuses both rate and amount, neither, a foreign or non-programme account, bad names and amounts (422), writing nothing', async () => {
    const shop = await openAccount(t, 'TOR', 'shop', 'Bakkerij');
    const wallet = (await registerVolunteer(t, 'TOR')).account;
    const before = await volunteerCounts(t);
    const good = { name: 'X', category: 'other', programme_account: programme };
    const bodies: Array<[string, Record<string, unknown>]> = [
      ['both', { ...good, rate_per_hour: '25', amount: '10' }],
      ['neither', { ...good }],
      ['programme of ANT', { ...good, amount: '10', programme_account: programme_ant }],
      ['a shop', { ...good, amount: '10', programme_account: shop }],
      ['a wallet', { ...good, amount: '10', programme_account: wallet }],
      ['unknown account', { ...good, amount: '10', programme_account: '00000000-0000-4000-8000-000000000000' }],
      ['not a uuid', { ...good, amount: '10', programme_account: 'programme' }],
      ['bad category', { ...good, amount: '10', category: 'gardening' }],
      ['empty name', { ...good, amount: '10', name: '' }],
      ['names without nl', { ...good, amount: '10', name: { en: 'Only English' } }],
      ['decimals at scale 0', { ...good, rate_per_hour: '12.5' }],
      ['zero rate', { ...good, rate_per_hour: '0' }],
      ['negative amount', { ...good, amount: '-5' }],
      ['number amount', { ...good, amount: 5 }],
    ];
    for (const [what, body] of bodies) {
      const reply = await t.request('POST', '/api/v1/currencies/TOR/activities', { token: coord_tor, body });
      expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).toBe(422);
      expect(reply.body.code).toBe('validation_failed');
    }
    // A coordinator of ANT cannot pay an ANT activity from the TOR programme either.
    const cross = await t.request('POST', '/api/v1/currencies/ANT/activities', { token: coord_ant, body: { ...good, amount: '1.00' } });
    expectProblem(cross, 422, 'validation_failed');
    expect(cross.body.errors).toEqual([expect.objectContaining({ path: 'programme_account' })]);
    expect(await volunteerCounts(t)).toEqual(before);
  });

  it('a coordinator edits an activity: names, rate → fixed amount, deactivation (no new sessions then)', async () => {
    const created = await t.request('POST', '/api/v1/currencies/TOR/activities', {
      token: coord_tor, body: { name: 'Fietsherstel', category: 'repair_cafe', rate_per_hour: '20', programme_account: programme },
    });
    const id = created.body.id as string;
    const renamed = await t.request('PATCH', `/api/v1/activities/${id}`, {
      token: coord_tor, body: { name: { nl: 'Fietsatelier', en: 'Bike workshop', fr: 'Atelier vélo' } },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toMatchObject({ name: { nl: 'Fietsatelier', en: 'Bike workshop', fr: 'Atelier vélo' }, rate_per_hour: '20' });

    const fixed = await t.request('PATCH', `/api/v1/activities/${id}`, { token: coord_tor, body: { amount: '15' } });
    expect(fixed.body).toMatchObject({ rate_per_hour: null, amount: '15' });
    expect((await openSession(t, id, { hours: '3' }, coord_tor)).reward).toBe('15');

    const before = await t.sql`SELECT name, rate_per_hour, amount, programme_account_id, active FROM activities WHERE id = ${id}`;
    for (const body of [{ rate_per_hour: '10', amount: '10' }, { programme_account: programme_ant }, { category: 'nope' }, { name: '' }]) {
      expectProblem(await t.request('PATCH', `/api/v1/activities/${id}`, { token: coord_tor, body }), 422, 'validation_failed');
    }
    expect(await t.sql`SELECT name, rate_per_hour, amount, programme_account_id, active FROM activities WHERE id = ${id}`).toEqual(before);
    expect((await t.request('PATCH', '/api/v1/activities/00000000-0000-4000-8000-000000000000', { token: coord_tor, body: { active: false } })).status).toBe(404);

    const off = await t.request('PATCH', `/api/v1/activities/${id}`, { token: coord_tor, body: { active: false } });
    expect(off.body.active).toBe(false);
    const sessions_before = await volunteerCounts(t);
    expectProblem(await t.request('POST', `/api/v1/activities/${id}/sessions`, { token: coord_tor, body: {} }), 422, 'validation_failed');
    expect(await volunteerCounts(t)).toEqual(sessions_before);
  });
});

describe('sessions', () => {
  it('defaults to 1 hour, 100 claims and a 12-hour expiry, and returns a signed claim token and URL', async () => {
    const opened_at = Date.now();
    const session = await openSession(t, repair.id, {}, coord_tor);
    expect(session).toMatchObject({ activity: repair.id, hours: '1.00', reward: '25', max_claims: 100, claims_count: 0 });
    expect(jwsParts(session.claim_token)).toBeDefined();
    expect(session.claim_url).toBe(`${t.deps.config.public_base_url}/claim#${session.claim_token}`);
    const ttl_ms = Date.parse(session.expires_at) - opened_at;
    expect(ttl_ms).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(ttl_ms).toBeLessThanOrEqual(12 * 3600_000 + 1000);
    const shown = await t.request('GET', `/api/v1/sessions/${session.id}`, { token: coord_tor });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id: session.id, claim_token: session.claim_token, claims_count: 0 });
  });

  it('refuses hours "0", "25", "1.234", "abc" and other bad input (422), writing nothing', async () => {
    const before = await volunteerCounts(t);
    const bodies: Array<Record<string, unknown>> = [
      { hours: '0' }, { hours: '25' }, { hours: '1.234' }, { hours: 'abc' }, { hours: '-1' }, { hours: '' }, { hours: '1e1' },
      { hours: 1.5 }, { hours: '0.00' }, { hours: '24.01' },
      { max_claims: 0 }, { max_claims: 10_001 }, { max_claims: 1.5 }, { max_claims: '10' },
      { expires_at: new Date(Date.now() - 60_000).toISOString() }, { expires_at: 'tomorrow' },
    ];
    for (const body of bodies) {
      const reply = await t.request('POST', `/api/v1/activities/${repair.id}/sessions`, { token: coord_tor, body });
      expect(reply.status, `${JSON.stringify(body)}: ${JSON.stringify(reply.body)}`).toBe(422);
      expect(reply.body.code).toBe('validation_failed');
    }
    expect(await volunteerCounts(t)).toEqual(before);
    // The edges are fine.
    expect((await openSession(t, repair.id, { hours: '24' }, coord_tor)).reward).toBe('600');
    expect((await openSession(t, repair.id, { hours: '0.5', max_claims: 10_000 }, coord_tor)).reward).toBe('13');
  });

  it('refuses a session whose reward would round to nothing (422), writing nothing', async () => {
    const before = await volunteerCounts(t);
    // 25 per hour × 0.01 h = 0.25 coin, 0 at scale 0: nobody can be paid 0.
    const reply = await t.request('POST', `/api/v1/activities/${repair.id}/sessions`, { token: coord_tor, body: { hours: '0.01' } });
    expectProblem(reply, 422, 'validation_failed');
    expect(await volunteerCounts(t)).toEqual(before);
  });
});

describe('claiming a session by its QR token', () => {
  it('pays rate × hours (1.5 h at 25 → 38, half up) from the programme as a reward transfer naming activity, session and hours', async () => {
    const v = await registerVolunteer(t, 'TOR');
    const token = await openWallet(t, v);
    const session = await openSession(t, repair.id, { hours: '1.5' }, coord_tor);
    expect(session.reward).toBe('38');
    const programme_before = await balanceOf(t, programme);

    const reply = await claim(t, token, session.claim_token);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({
      code: 'reward', amount: '38', currency: 'TOR', debit_account: programme, credit_account: v.account, status: 'posted',
      created_by: `wallet:${v.account}`,
    });
    expect(reply.body.metadata).toMatchObject({ activity_id: repair.id, session_id: session.id, hours: '1.50' });
    expect(BigInt(await balanceOf(t, programme))).toBe(BigInt(programme_before) - 38n);
    expect((await t.request('GET', '/api/v1/wallet', { token })).body.balance).toBe('38');

    const [row] = await t.sql<{ code: string; metadata: Record<string, unknown> }[]>`SELECT code, metadata FROM transfers WHERE id = ${reply.body.id}`;
    expect(row).toMatchObject({ code: 'reward', metadata: { activity_id: repair.id, session_id: session.id, hours: '1.50' } });
    const shown = await t.request('GET', `/api/v1/sessions/${session.id}`, { token: coord_tor });
    expect(shown.body.claims_count).toBe(1);
  });

  it('a replay with the same key returns the same transfer; a second claim is 409 already_claimed; nothing more is written', async () => {
    const v = await registerVolunteer(t, 'TOR');
    const token = await openWallet(t, v);
    const session = await openSession(t, repair.id, { hours: '2' }, coord_tor);
    const key = newKey();
    const first = await claim(t, token, session.claim_token, key);
    expect(first.status).toBe(201);
    const before = await volunteerCounts(t);
    const replay = await claim(t, token, session.claim_token, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expectProblem(await claim(t, token, session.claim_token), 409, 'already_claimed');
    // Without a key nothing happens either.
    expectProblem(await t.request('POST', '/api/v1/claims', { token, body: { token: session.claim_token } }), 400, 'idempotency_key_missing');
    expect(await volunteerCounts(t)).toEqual(before);
    expect(await rewardsOf(session.id)).toHaveLength(1);
    expect((await t.request('GET', '/api/v1/wallet', { token })).body.balance).toBe('50');
  });

  it('claiming again a session that has since filled up still says already_claimed', async () => {
    const v = await registerVolunteer(t, 'TOR');
    const token = await openWallet(t, v);
    const session = await openSession(t, repair.id, { max_claims: 1 }, coord_tor);
    expect((await claim(t, token, session.claim_token)).status).toBe(201);
    expectProblem(await claim(t, token, session.claim_token), 409, 'already_claimed');
    const other = await openWallet(t, await registerVolunteer(t, 'TOR'));
    expectProblem(await claim(t, other, session.claim_token), 409, 'session_full');
  });

  it('pays the fixed amount of a fixed-amount activity, whatever the hours', async () => {
    const created = await t.request('POST', '/api/v1/currencies/TOR/activities', {
      token: coord_tor, body: { name: 'Buurtfeest opbouw', category: 'neighbourhood_party', amount: '30', programme_account: programme },
    });
    const session = await openSession(t, created.body.id, { hours: '5' }, coord_tor);
    expect(session).toMatchObject({ hours: null, reward: '30' });
    const v = await registerVolunteer(t, 'TOR');
    const reply = await claim(t, await openWallet(t, v), session.claim_token);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({ amount: '30', code: 'reward' });
    expect(reply.body.metadata).toMatchObject({ activity_id: created.body.id, session_id: session.id, hours: null });
  });

  it('GET /wallet/entries shows the programme as counterparty and the activity name in every language', async () => {
    const v = await registerVolunteer(t, 'TOR', { language: 'fr' });
    const token = await openWallet(t, v);
    const it_repair = await activityOf(t, 'TOR', 'it_repair');
    const first = await openSession(t, repair.id, { hours: '1' }, coord_tor);
    const second = await openSession(t, it_repair.id, { hours: '3' }, coord_tor);
    expect((await claim(t, token, first.claim_token)).status).toBe(201);
    expect((await award(t, second.id, { card: v.code }, coord_tor)).status).toBe(201);

    const reply = await t.request('GET', '/api/v1/wallet/entries', { token });
    expect(reply.status).toBe(200);
    expect(reply.body.items).toHaveLength(2);
    const [newest, oldest] = reply.body.items;
    expect(newest).toMatchObject({
      amount: '75', balance_after: '100', code: 'reward',
      counterparty: { id: programme, name: 'Vrijwilligerswerk TOR' },
      activity: { id: it_repair.id, name: { nl: 'Computerhulp', en: 'IT repair', fr: 'Aide informatique' } },
    });
    expect(oldest).toMatchObject({
      amount: '25', balance_after: '25', counterparty: { name: 'Vrijwilligerswerk TOR' },
      activity: { id: repair.id, name: { nl: 'Repair Café', en: 'Repair café', fr: 'Repair Café' } },
    });
    const page = await t.request('GET', '/api/v1/wallet/entries?limit=1', { token });
    expect(page.body.items).toHaveLength(1);
    const next = await t.request('GET', `/api/v1/wallet/entries?limit=1&cursor=${page.body.next_cursor}`, { token });
    expect(next.body.items[0].transfer_id).toBe(oldest.transfer_id);
    expectProblem(await t.request('GET', '/api/v1/wallet/entries?cursor=garbage', { token }), 422, 'validation_failed');
  });
});

describe('claim tokens that must be refused', () => {
  let token: string;
  let session: any;

  beforeAll(async () => {
    token = await openWallet(t, await registerVolunteer(t, 'TOR'));
    session = await openSession(t, repair.id, {}, coord_tor);
  });

  /** Claims `claim_token` and expects a problem, with nothing written. */
  async function expectRefused(claim_token: string, status: number, code: string): Promise<void> {
    const before = await volunteerCounts(t);
    expectProblem(await claim(t, token, claim_token), status, code);
    expect(await volunteerCounts(t)).toEqual(before);
  }

  it('a well-signed token past its expiry is 409 expired', async () => {
    const past = await signClaimToken(t.deps.keys, { session_id: session.id, currency: 'TOR' }, new Date(Date.now() - 60_000));
    await expectRefused(past, 409, 'expired');
  });

  it('a changed signature is 422 invalid_token', async () => {
    const { header, payload, signature } = jwsParts(session.claim_token);
    const i = 10;
    const flipped = signature.slice(0, i) + (signature.charAt(i) === 'A' ? 'B' : 'A') + signature.slice(i + 1);
    await expectRefused(`${header}.${payload}.${flipped}`, 422, 'invalid_token');
    await expectRefused(`${header}.${payload}.`, 422, 'invalid_token');
  });

  it('a changed payload (another session, currency or expiry, re-encoded) is 422 invalid_token', async () => {
    const other = await openSession(t, repair.id, {}, coord_tor);
    const { header, payload, signature } = jwsParts(session.claim_token);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims.sub).toBe(session.id);
    for (const change of [{ sub: other.id }, { cur: 'ANT' }, { exp: Number(claims.exp) + 86400 }]) {
      const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url');
      await expectRefused(`${header}.${forged}.${signature}`, 422, 'invalid_token');
    }
  });

  it('a token signed with another key, an unsigned token, a wallet token or garbage is 422 invalid_token', async () => {
    const stranger = new Uint8Array(32).fill(7);
    const foreign = await new SignJWT({ cur: 'TOR' })
      .setProtectedHeader({ alg: 'HS256', kid: t.deps.keys.current_kid })
      .setSubject(session.id).setIssuer('wijkmunt').setAudience('claim').setExpirationTime('1h')
      .sign(stranger);
    await expectRefused(foreign, 422, 'invalid_token');
    const { payload } = jwsParts(session.claim_token);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    await expectRefused(none, 422, 'invalid_token');
    await expectRefused(token, 422, 'invalid_token');
    await expectRefused('not-a-token', 422, 'invalid_token');
    // Well signed, but naming no session.
    const nowhere = await signClaimToken(t.deps.keys, { session_id: '00000000-0000-4000-8000-000000000000', currency: 'TOR' }, new Date(Date.now() + 60_000));
    await expectRefused(nowhere, 422, 'invalid_token');
    expectProblem(await claim(t, token, ''), 422, 'validation_failed');
  });

  it('a token of another currency\'s session is 422 wrong_currency', async () => {
    const ant_activity = await activityOf(t, 'ANT');
    const ant_session = await openSession(t, ant_activity.id, {}, coord_ant);
    await expectRefused(ant_session.claim_token, 422, 'wrong_currency');
    // And the other way round: the ANT wallet cannot claim a TOR session.
    const ant_token = await openWallet(t, await registerVolunteer(t, 'ANT', { token: coord_ant }));
    expectProblem(await claim(t, ant_token, session.claim_token), 422, 'wrong_currency');
    // Control: the ANT wallet can claim the ANT session (25.00 at scale 2).
    const ok = await claim(t, ant_token, ant_session.claim_token);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body).toMatchObject({ amount: '25.00', currency: 'ANT' });
  });

  it('a session that has ended is 409 expired, by token expiry and by the session\'s own expiry, for claims and awards', async () => {
    const v = await registerVolunteer(t, 'TOR');
    const short = await openSession(t, repair.id, { expires_at: new Date(Date.now() + 1500).toISOString() }, coord_tor);
    await sleep(Math.max(0, Date.parse(short.expires_at) - Date.now()) + 1100);
    await expectRefused(short.claim_token, 409, 'expired');
    // A token still valid by its own clock, for a session the database says is over.
    const fresh = await signClaimToken(t.deps.keys, { session_id: short.id, currency: 'TOR' }, new Date(Date.now() + 3600_000));
    await expectRefused(fresh, 409, 'expired');
    const before = await volunteerCounts(t);
    expectProblem(await award(t, short.id, { card: v.code }, coord_tor), 409, 'expired');
    expect(await volunteerCounts(t)).toEqual(before);
  });
});

describe('the programme budget', () => {
  it('an empty programme refuses claims and awards with insufficient_funds naming the programme; funding it helps', async () => {
    const emp = await createCurrency(t, 'EMP', 0);
    const coord_emp = (await t.createStaff('coordinator', [emp.id])).token;
    const activity = await activityOf(t, 'EMP');
    const v = await registerVolunteer(t, 'EMP', { token: coord_emp });
    const token = await openWallet(t, v);
    const session = await openSession(t, activity.id, {}, coord_emp);
    const before = await volunteerCounts(t);
    const refused = await claim(t, token, session.claim_token);
    expectProblem(refused, 422, 'insufficient_funds');
    expect(refused.body.detail).toContain('Vrijwilligerswerk EMP');
    const by_card = await award(t, session.id, { card: v.code }, coord_emp);
    expectProblem(by_card, 422, 'insufficient_funds');
    expect(by_card.body.detail).toContain('Vrijwilligerswerk EMP');
    expect(await volunteerCounts(t)).toEqual(before);
    expect((await t.request('GET', `/api/v1/sessions/${session.id}`, { token: coord_emp })).body.claims_count).toBe(0);

    await fund(t, 'EMP', activity.programme_account, '25');
    expect((await claim(t, token, session.claim_token)).status).toBe(201);
    expect(await balanceOf(t, activity.programme_account)).toBe('0');
  });
});

describe('event mode: the coordinator scans cards', () => {
  it('awards per-person hours, or the session\'s hours, as reward transfers via card', async () => {
    const session = await openSession(t, repair.id, { hours: '1.5' }, coord_tor);
    const [a, b, c] = [await registerVolunteer(t, 'TOR', { name: 'Aïcha' }), await registerVolunteer(t, 'TOR'), await registerVolunteer(t, 'TOR')];
    const by_hours = await award(t, session.id, { card: a.display_code.toLowerCase(), hours: '2' }, coord_tor);
    expect(by_hours.status, JSON.stringify(by_hours.body)).toBe(201);
    expect(by_hours.body).toMatchObject({
      amount: '50', code: 'reward', debit_account: programme, credit_account: a.account,
      volunteer: { account: a.account, display_name: 'Aïcha' },
    });
    expect(by_hours.body.metadata).toMatchObject({ activity_id: repair.id, session_id: session.id, hours: '2.00', via: 'card' });
    const default_hours = await award(t, session.id, { card: b.code }, coord_tor);
    expect(default_hours.body).toMatchObject({ amount: '38', metadata: { hours: '1.50' } });
    const half = await award(t, session.id, { card: c.code, hours: '0.5' }, coord_tor);
    expect(half.body).toMatchObject({ amount: '13', metadata: { hours: '0.50' } });
    expect((await t.request('GET', `/api/v1/sessions/${session.id}`, { token: coord_tor })).body.claims_count).toBe(3);
    expect((await rewardsOf(session.id)).map((r) => r.amount).sort()).toEqual([13n, 38n, 50n]);
  });

  it('the same volunteer once per session (409 already_claimed), whether by card or by QR; a replay returns the same transfer', async () => {
    const session = await openSession(t, repair.id, {}, coord_tor);
    const v = await registerVolunteer(t, 'TOR');
    const key = newKey();
    const first = await award(t, session.id, { card: v.code }, coord_tor, key);
    expect(first.status).toBe(201);
    const before = await volunteerCounts(t);
    const replay = await award(t, session.id, { card: v.code }, coord_tor, key);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expectProblem(await award(t, session.id, { card: v.code, hours: '3' }, coord_tor), 409, 'already_claimed');
    expectProblem(await claim(t, await openWallet(t, v), session.claim_token), 409, 'already_claimed');
    const after = await volunteerCounts(t);
    expect({ ...after, wallet_sessions: before.wallet_sessions }).toEqual(before);
    expect(await rewardsOf(session.id)).toHaveLength(1);
  });

  it('refuses a card of another currency (422 wrong_currency), an unknown card (404) and bad hours (422), writing nothing', async () => {
    const session = await openSession(t, repair.id, {}, coord_tor);
    const mine = await registerVolunteer(t, 'TOR');
    const foreign = await registerVolunteer(t, 'ANT', { token: coord_ant });
    const before = await volunteerCounts(t);
    expectProblem(await award(t, session.id, { card: foreign.code }, coord_tor), 422, 'wrong_currency');
    // A code of the right shape whose check symbol fails is a typo; a well-formed unknown code is no card.
    expectProblem(await award(t, session.id, { card: 'AAAA-BBBB-CCCC-DDDD-E' }, coord_tor), 422, 'card_code_typo');
    expectProblem(await award(t, session.id, { card: formatCardCode(cardCodeFromBytes(randomBytes(10))) }, coord_tor), 404, 'not_found');
    for (const hours of ['0', '25', '1.234', 'abc', '0.01']) {
      expectProblem(await award(t, session.id, { card: mine.code, hours }, coord_tor), 422, 'validation_failed');
    }
    expectProblem(await t.request('POST', `/api/v1/sessions/${session.id}/awards`, { token: coord_tor, body: { card: mine.code } }), 400, 'idempotency_key_missing');
    expect((await award(t, '00000000-0000-4000-8000-000000000000', { card: mine.code }, coord_tor)).status).toBe(404);
    expect(await volunteerCounts(t)).toEqual(before);
  });

  it('a full session refuses the next card with 409 session_full', async () => {
    const session = await openSession(t, repair.id, { max_claims: 2 }, coord_tor);
    for (let i = 0; i < 2; i++) expect((await award(t, session.id, { card: (await registerVolunteer(t, 'TOR')).code }, coord_tor)).status).toBe(201);
    const late = await registerVolunteer(t, 'TOR');
    const before = await volunteerCounts(t);
    expectProblem(await award(t, session.id, { card: late.code }, coord_tor), 409, 'session_full');
    expect(await volunteerCounts(t)).toEqual(before);
  });
});
