/**
 * Day one in a real neighbourhood, the API side: a volunteer can be edited (two Fatimas told
 * apart), found by a name typed without accents or by a card code, the list shows a locked or
 * blocked card as such, claim sessions are listed from the server (a second laptop sees the
 * running repair café), a correction can be partial and carries its reason into the
 * volunteer's history, and a mistyped card code says "check the code".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import {
  activityOf, award, balanceOf, claim, fund, openSession, openWallet, programmeOf, registerVolunteer, walletSession,
} from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { foldForSearch } from '../src/ledger/text.js';
import { isCardCodeTypo } from '../src/ledger/cards.js';

let t: TestApp;
let coordinator: string;

beforeAll(async () => {
  t = await createTestApp();
  const currency = await createCurrency(t, 'DAY', 2);
  await createCurrency(t, 'DAO', 2);
  coordinator = (await t.createStaff('coordinator', [currency.id])).token;
  await fund(t, 'DAY', await programmeOf(t, 'DAY'), '1000.00');
});

afterAll(async () => {
  await t?.close();
});

const list = (query: string, token = coordinator) => t.request('GET', `/api/v1/currencies/DAY/wallets?${query}`, { token });

describe('a volunteer can be edited', () => {
  it('display name, full name, language, phone, email and note; null clears; the account follows the display name', async () => {
    const v = await registerVolunteer(t, 'DAY', { name: 'Fatima', token: coordinator });
    const patched = await t.request('PATCH', `/api/v1/wallets/${v.account}`, {
      token: coordinator,
      body: { display_name: 'Fatima B.', full_name: 'Fatima Benali', language: 'fr', phone: '+32 470 12 34 56', email: 'fatima@example.org', note: 'Komt op dinsdag' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      display_name: 'Fatima B.', full_name: 'Fatima Benali', language: 'fr', phone: '+32 470 12 34 56', email: 'fatima@example.org',
      note: 'Komt op dinsdag', updated_at: expect.any(String), account: { name: 'Fatima B.' },
    });
    const cleared = await t.request('PATCH', `/api/v1/wallets/${v.account}`, { token: coordinator, body: { phone: null, note: null } });
    expect(cleared.body).toMatchObject({ phone: null, note: null, email: 'fatima@example.org' });
    const read = await t.request('GET', `/api/v1/wallets/${v.account}`, { token: coordinator });
    expect(read.body).toMatchObject({ full_name: 'Fatima Benali', phone: null });
    // The wallet itself never shows the coordinator's fields.
    const own = await t.request('GET', '/api/v1/wallet', { token: await openWallet(t, v) });
    expect(own.body).toEqual({ account: v.account, currency: 'DAY', display_name: 'Fatima B.', language: 'fr', balance: '0.00', status: 'active', expiring: [], earning_room: null, gifts_enabled: false });
    // The audit log names the fields, never the contact details or the note.
    const [row] = await t.sql<{ text: string }[]>`SELECT a::text AS text FROM audit_log a WHERE action = 'wallet.update' AND object_id = ${v.account} ORDER BY id LIMIT 1`;
    expect(row?.text).toContain('full_name');
    expect(row?.text).not.toContain('470 12 34');
    expect(row?.text).not.toContain('dinsdag');
  });

  it('refuses bad input with 422 and changes nothing; another currency\'s coordinator gets 404, a wallet 403', async () => {
    const v = await registerVolunteer(t, 'DAY', { name: 'Els', token: coordinator });
    for (const body of [{}, { display_name: '' }, { language: 'de' }, { email: 'not an email' }, { phone: 'call me' }, { note: 'x'.repeat(1001) }, { full_name: 5 }]) {
      expectProblem(await t.request('PATCH', `/api/v1/wallets/${v.account}`, { token: coordinator, body }), 422, 'validation_failed');
    }
    const [wallet] = await t.sql`SELECT display_name, full_name, updated_at FROM wallets WHERE account_id = ${v.account}`;
    expect(wallet).toEqual({ display_name: 'Els', full_name: null, updated_at: null });
    const elsewhere = (await t.createStaff('coordinator', [(await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'DAO'`)[0]!.id])).token;
    expectProblem(await t.request('PATCH', `/api/v1/wallets/${v.account}`, { token: elsewhere, body: { note: 'x' } }), 404, 'not_found');
    expectProblem(await t.request('PATCH', `/api/v1/wallets/${v.account}`, { token: await openWallet(t, v), body: { note: 'x' } }), 403, 'forbidden');
  });
});

describe('finding a volunteer', () => {
  let aicha: Volunteer;
  let locked: Volunteer;
  let blocked: Volunteer;

  beforeAll(async () => {
    aicha = await registerVolunteer(t, 'DAY', { name: 'Aïcha', token: coordinator });
    await t.request('PATCH', `/api/v1/wallets/${aicha.account}`, { token: coordinator, body: { full_name: 'Aïcha Øster-Müller' } });
    locked = await registerVolunteer(t, 'DAY', { name: 'Zoë', token: coordinator });
    for (let i = 0; i < 5; i += 1) await walletSession(t, locked.code, '0000');
    blocked = await registerVolunteer(t, 'DAY', { name: 'Zacharias', token: coordinator });
    expect((await t.request('POST', `/api/v1/cards/${blocked.code}/block`, { token: coordinator })).status).toBe(200);
  });

  it('folds case and accents the same way in TypeScript and in PostgreSQL', () => {
    expect(foldForSearch('  Aïcha ')).toBe('aicha');
    expect(foldForSearch('ZOË')).toBe('zoe');
  });

  it('finds "Aïcha" from "aicha", "AICHA" or a part of her full name, typed without accents', async () => {
    for (const q of ['aicha', 'AICHA', 'Aïc', 'muller', 'Mül']) {
      const found = await list(`q=${encodeURIComponent(q)}`);
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      expect(found.body.items.map((w: { account: string }) => w.account), q).toEqual([aicha.account]);
    }
    // A decomposed ï (i + U+0308) finds her too.
    expect((await list(`q=${encodeURIComponent('Ai\u0308cha')}`)).body.items).toHaveLength(1);
    expect((await list('q=nobody-is-called-this')).body.items).toEqual([]);
  });

  it('finds a wallet by its card code typed with or without dashes, in any case', async () => {
    for (const q of [aicha.code, aicha.display_code, aicha.display_code.toLowerCase()]) {
      expect((await list(`q=${encodeURIComponent(q)}`)).body.items.map((w: { account: string }) => w.account), q).toEqual([aicha.account]);
    }
  });

  it('shows a locked or blocked card as such', async () => {
    const z = (await list('q=z')).body.items as Array<{ account: string; card: { status: string; locked: boolean } }>;
    expect(z.find((w) => w.account === locked.account)?.card).toMatchObject({ status: 'active', locked: true });
    expect(z.find((w) => w.account === blocked.account)?.card).toMatchObject({ status: 'blocked', locked: false });
    expect(z.find((w) => w.account === aicha.account)).toBeUndefined();
  });

  it('pages by name, every volunteer once; a forged cursor is 422', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((w: { account: string }) => w.account));
      cursor = page.body.next_cursor as string | null;
    } while (cursor !== null);
    const [count] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM wallets w JOIN currencies c ON c.id = w.currency_id WHERE c.code = 'DAY'`;
    expect(seen).toHaveLength(count!.n);
    expect(new Set(seen).size).toBe(seen.length);
    expectProblem(await list('cursor=bm90LWEtY3Vyc29y'), 422, 'validation_failed');
  });
});

describe('claim sessions from the server', () => {
  it('a second laptop sees the running sessions with their QR; open=true leaves out ended, expired and full ones', async () => {
    const activity = await activityOf(t, 'DAY');
    const running = await openSession(t, activity.id as string, { hours: '2' }, coordinator);
    const ended = await openSession(t, activity.id as string, { hours: '1' }, coordinator);
    expect((await t.request('POST', `/api/v1/sessions/${ended.id as string}/close`, { token: coordinator })).status).toBe(200);
    const full = await openSession(t, activity.id as string, { hours: '1', max_claims: 1 }, coordinator);
    const v = await registerVolunteer(t, 'DAY', { token: coordinator });
    expect((await claim(t, await openWallet(t, v), full.claim_token as string)).status).toBe(201);

    const second_laptop = (await t.createStaff('coordinator', [(await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'DAY'`)[0]!.id])).token;
    const open = await t.request('GET', '/api/v1/currencies/DAY/sessions?open=true', { token: second_laptop });
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    const ids = open.body.items.map((s: { id: string }) => s.id);
    expect(ids).toContain(running.id);
    expect(ids).not.toContain(ended.id);
    expect(ids).not.toContain(full.id);
    const shown = open.body.items.find((s: { id: string }) => s.id === running.id);
    expect(shown).toMatchObject({ claim_url: running.claim_url, activity_name: activity.name, open: true, hours: '2.00' });

    const closed = await t.request('GET', '/api/v1/currencies/DAY/sessions?open=false', { token: second_laptop });
    expect(closed.body.items.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining([ended.id, full.id]));
    expect(closed.body.items.every((s: { open: boolean }) => !s.open)).toBe(true);
  });

  it('pages newest first with exact cursors; bad cursors and filters are 422; other callers 403/404', async () => {
    const activity = await activityOf(t, 'DAY');
    for (let i = 0; i < 3; i += 1) await openSession(t, activity.id as string, { hours: '1' }, coordinator);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await t.request('GET', `/api/v1/currencies/DAY/sessions?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, { token: coordinator });
      seen.push(...page.body.items.map((s: { id: string }) => s.id));
      cursor = page.body.next_cursor as string | null;
    } while (cursor !== null);
    const rows = await t.sql<{ id: string }[]>`
      SELECT s.id FROM activity_sessions s JOIN currencies c ON c.id = s.currency_id WHERE c.code = 'DAY' ORDER BY s.created_at DESC, s.id DESC`;
    expect(seen).toEqual(rows.map((r) => r.id));
    const forged = Buffer.from(JSON.stringify({ us: '99999999999999999999', id: rows[0]!.id })).toString('base64url');
    expectProblem(await t.request('GET', `/api/v1/currencies/DAY/sessions?cursor=${forged}`, { token: coordinator }), 422, 'validation_failed');
    expectProblem(await t.request('GET', '/api/v1/currencies/DAY/sessions?open=maybe', { token: coordinator }), 422, 'validation_failed');
    expectProblem(await t.request('GET', '/api/v1/currencies/DAY/sessions'), 401, 'unauthenticated');
    const v = await registerVolunteer(t, 'DAY', { token: coordinator });
    expectProblem(await t.request('GET', '/api/v1/currencies/DAY/sessions', { token: await openWallet(t, v) }), 403, 'forbidden');
  });
});

describe('corrections a volunteer understands', () => {
  it('a partial correction gives back part of a reward, with its reason in the volunteer\'s history; the row is then marked reversed', async () => {
    const activity = await activityOf(t, 'DAY');
    const session = await openSession(t, activity.id as string, { hours: '3' }, coordinator);
    const v = await registerVolunteer(t, 'DAY', { token: coordinator });
    const phone = await openWallet(t, v);
    const reward = await claim(t, phone, session.claim_token as string);
    expect(reward.status).toBe(201);
    const paid = reward.body.amount as string;
    const before = await balanceOf(t, v.account);
    expect(before).toBe(paid);

    const too_much = await t.request('POST', `/api/v1/transfers/${reward.body.id as string}/reverse`, {
      token: coordinator, idempotencyKey: newKey(), body: { memo: 'te veel uren', amount: '1000.00' },
    });
    expectProblem(too_much, 422, 'reversal_exceeds_left');
    expect(too_much.body.left).toBe(paid);
    expect(await balanceOf(t, v.account)).toBe(before);

    const correction = await t.request('POST', `/api/v1/transfers/${reward.body.id as string}/reverse`, {
      token: coordinator, idempotencyKey: newKey(), body: { memo: 'Eén uur te veel geteld', amount: '1.00' },
    });
    expect(correction.status, JSON.stringify(correction.body)).toBe(201);
    expect(correction.body).toMatchObject({ code: 'reversal', amount: '1.00', memo: 'Eén uur te veel geteld' });
    const history = await t.request('GET', '/api/v1/wallet/entries', { token: phone });
    const [latest, original] = history.body.items as Array<{ transfer_id: string; memo: string | null; amount: string; reversed: boolean; code: string }>;
    expect(latest).toMatchObject({ code: 'reversal', amount: '-1.00', memo: 'Eén uur te veel geteld', reversed: false });
    expect(original).toMatchObject({ transfer_id: reward.body.id, reversed: true });
    // Corrected once: the rest cannot be corrected again (a new adjustment with a reason can).
    expectProblem(await t.request('POST', `/api/v1/transfers/${reward.body.id as string}/reverse`, {
      token: coordinator, idempotencyKey: newKey(), body: { memo: 'nog eens' },
    }), 409, 'already_reversed');
    const [check] = (await t.request('GET', '/api/v1/currencies/DAY/verify', { token: coordinator })).body.checks.filter((c: { ok: boolean }) => !c.ok);
    expect(check).toBeUndefined();
  });

  it('an amount of zero, below a cent or malformed is 422; an approved cash-out is corrected only whole', async () => {
    const activity = await activityOf(t, 'DAY');
    const session = await openSession(t, activity.id as string, { hours: '1' }, coordinator);
    const v = await registerVolunteer(t, 'DAY', { token: coordinator });
    const reward = await claim(t, await openWallet(t, v), session.claim_token as string);
    for (const amount of ['0', '0.00', '0.001', '-1', 'een']) {
      const reply = await t.request('POST', `/api/v1/transfers/${reward.body.id as string}/reverse`, {
        token: coordinator, idempotencyKey: newKey(), body: { amount },
      });
      expect(reply.status, `${amount}: ${JSON.stringify(reply.body)}`).toBe(422);
    }
    expect(await balanceOf(t, v.account)).toBe(reward.body.amount);
  });
});

describe('a mistyped card code', () => {
  it('says "check the code" (422 card_code_typo) to a coordinator awarding or looking up a card; a wallet login still says nothing', async () => {
    const v = await registerVolunteer(t, 'DAY', { token: coordinator });
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const i = 5;
    const typo = v.code.slice(0, i) + alphabet.charAt((alphabet.indexOf(v.code.charAt(i)) + 3) % 32) + v.code.slice(i + 1);
    expect(isCardCodeTypo(typo)).toBe(true);
    expect(isCardCodeTypo(v.code)).toBe(false);
    expect(isCardCodeTypo('hello')).toBe(false);
    const session = await openSession(t, (await activityOf(t, 'DAY')).id as string, { hours: '1' }, coordinator);
    expectProblem(await award(t, session.id as string, { card: typo }, coordinator), 422, 'card_code_typo');
    expectProblem(await t.request('POST', `/api/v1/cards/${typo}/unlock`, { token: coordinator }), 422, 'card_code_typo');
    expectProblem(await walletSession(t, typo, v.pin), 401, 'unauthenticated');
    // A code that is no card at all stays 404 for the coordinator.
    expectProblem(await award(t, session.id as string, { card: 'ZZZZ' }, coordinator), 404, 'not_found');
  });
});
