/**
 * Issue #3: volunteers' wallets and printed cards — registration, card + PIN sessions, forgiving
 * typed codes, PIN lockout, lost cards, blocking, the card and session QR codes (decoded with a
 * real QR decoder), the printable sheet, and who may do what.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import {
  activityOf, award, balanceOf, claim, decodeQrSvg, fund, openSession, openWallet, programmeOf, registerVolunteer,
  volunteerCounts, walletSession,
} from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { cardCodeFromBytes } from '../src/ledger/cards.js';

const base_url = 'https://wijk.example.org';
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let t: TestApp;
/** Coordinator of TOR only, and of ANT only. */
let coord_tor: string;
let coord_ant: string;
let programme: string;
let activity_id: string;

beforeAll(async () => {
  t = await createTestApp({ PUBLIC_BASE_URL: base_url });
  const tor = await createCurrency(t, 'TOR', 0);
  const ant = await createCurrency(t, 'ANT', 2);
  coord_tor = (await t.createStaff('coordinator', [tor.id])).token;
  coord_ant = (await t.createStaff('coordinator', [ant.id])).token;
  programme = await programmeOf(t, 'TOR');
  await fund(t, 'TOR', programme, '10000');
  activity_id = (await activityOf(t, 'TOR')).id as string;
});

afterAll(async () => {
  await t?.close();
});

/** The 401 an unknown card gets: what every wrong card or PIN must look like, byte for byte. */
async function unknownCardReply(): Promise<Reply> {
  const reply = await walletSession(t, cardCodeFromBytes(randomBytes(10)), '2468');
  expectProblem(reply, 401, 'unauthenticated');
  return reply;
}

function expectSameAsUnknown(reply: Reply, unknown: Reply): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(401);
  expect(reply.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
  expect(JSON.stringify(reply.body)).toBe(JSON.stringify(unknown.body));
}

async function cardRow(code: string) {
  const [row] = await t.sql<{ status: string; pin_failures: number; locked_until: Date | null }[]>`
    SELECT status, pin_failures, locked_until FROM cards WHERE code = ${code}`;
  return row;
}

describe('registering a volunteer', () => {
  it('creates a wallet account and a 17-symbol card whose URL is <PUBLIC_BASE_URL>/c/<code>', async () => {
    const reply = await t.request('POST', '/api/v1/currencies/TOR/wallets', {
      token: coord_tor, body: { display_name: '  Fatima ', pin: '482913', language: 'fr' },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    const { account, card } = reply.body;
    expect(account).toMatchObject({ kind: 'wallet', currency: 'TOR', name: 'Fatima', balance: '0', status: 'active' });
    expect(reply.body).toMatchObject({ display_name: 'Fatima', language: 'fr' });
    expect(card.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{17}$/);
    expect(card.display_code).toBe(card.code.match(/.{1,4}/g).join('-'));
    expect(card).toMatchObject({ url: `${base_url}/c/${card.code}`, status: 'active', locked: false });

    const shown = await t.request('GET', `/api/v1/wallets/${account.id}`, { token: coord_tor });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ display_name: 'Fatima', language: 'fr', card: { code: card.code, status: 'active' } });

    // The PIN is stored hashed (scrypt), never as typed.
    const [wallet] = await t.sql<{ pin_hash: string }[]>`SELECT pin_hash FROM wallets WHERE account_id = ${account.id}`;
    expect(wallet?.pin_hash).toMatch(/^scrypt\$/);
    expect(wallet?.pin_hash).not.toContain('482913');
  });

  it('defaults the language to nl and accepts the boundaries: a 4-digit PIN, a 100-character name', async () => {
    const reply = await t.request('POST', '/api/v1/currencies/TOR/wallets', {
      token: coord_tor, body: { display_name: 'n'.repeat(100), pin: '4071' },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.language).toBe('nl');
    expect(reply.body.display_name).toHaveLength(100);
  });

  it('gives every card a different code (80 random bits)', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 10; i++) codes.add((await registerVolunteer(t, 'TOR')).code);
    expect(codes.size).toBe(10);
  });

  it('refuses PINs that are not 4–6 digits (422) and writes nothing', async () => {
    const before = await volunteerCounts(t);
    for (const pin of ['123', '1234567', 'abcd', 1234, '12 34', '', '١٢٣٤', null]) {
      const reply = await t.request('POST', '/api/v1/currencies/TOR/wallets', { token: coord_tor, body: { display_name: 'Pin Test', pin } });
      expectProblem(reply, 422, 'validation_failed');
      expect(reply.body.errors.some((e: { path: string }) => e.path === 'pin'), JSON.stringify(reply.body)).toBe(true);
    }
    expect(await volunteerCounts(t)).toEqual(before);
  });

  it('refuses an empty, blank or too long name and an unknown language (422) and writes nothing', async () => {
    const before = await volunteerCounts(t);
    for (const body of [
      { display_name: '', pin: '1234' },
      { display_name: '   ', pin: '1234' },
      { display_name: 'x'.repeat(101), pin: '1234' },
      { pin: '1234' },
      { display_name: 'Nul\u0000byte', pin: '1234' },
      { display_name: 'Dieter', pin: '1234', language: 'de' },
      { display_name: 'Dieter', pin: '1234', language: 'NL' },
    ]) {
      const reply = await t.request('POST', '/api/v1/currencies/TOR/wallets', { token: coord_tor, body });
      expectProblem(reply, 422, 'validation_failed');
    }
    const unknown_currency = await t.request('POST', '/api/v1/currencies/NOPE/wallets', { token: t.adminToken, body: { display_name: 'X', pin: '1234' } });
    expect(unknown_currency.status).toBe(404);
    expect(await volunteerCounts(t)).toEqual(before);
  });
});

describe('opening a wallet with card + PIN', () => {
  it('opens a session; GET /wallet shows the name, currency and balance; logout ends only that session', async () => {
    const v = await registerVolunteer(t, 'TOR', { name: 'Omar', pin: '7391', language: 'en' });
    const opened = await walletSession(t, v.code, '7391');
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect(opened.body.wallet).toEqual({ account: v.account, currency: 'TOR', display_name: 'Omar', language: 'en' });
    expect(Date.parse(opened.body.expires_at)).toBeGreaterThan(Date.now());
    const token = opened.body.token as string;
    const other = await openWallet(t, v);

    const wallet = await t.request('GET', '/api/v1/wallet', { token });
    expect(wallet.status).toBe(200);
    expect(wallet.body).toEqual({ account: v.account, currency: 'TOR', display_name: 'Omar', language: 'en', balance: '0', status: 'active', expiring: [], earning_room: null, gifts_enabled: false });

    expect((await t.request('POST', '/api/v1/wallet/logout', { token })).status).toBe(204);
    expectProblem(await t.request('GET', '/api/v1/wallet', { token }), 401, 'unauthenticated');
    expect((await t.request('GET', '/api/v1/wallet', { token: other })).status).toBe(200);
  });

  it('accepts a typed code in lowercase, with dashes or spaces, I or L for 1 and O for 0', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '5150' });
    // Reissue until the code holds both a 1 and a 0, so every substitution is really exercised.
    let code = v.code;
    for (let i = 0; i < 300 && !(code.includes('1') && code.includes('0')); i++) {
      const reissued = await t.request('POST', `/api/v1/wallets/${v.account}/cards`, { token: coord_tor });
      expect(reissued.status).toBe(201);
      code = reissued.body.code as string;
    }
    expect(code).toMatch(/1/);
    expect(code).toMatch(/0/);
    const grouped = code.match(/.{1,4}/g)!;
    const typed = [
      code.toLowerCase(),
      grouped.join('-'),
      grouped.join(' '),
      `  ${grouped.join(' - ').toLowerCase()}  `,
      code.replaceAll('1', 'I'),
      code.replaceAll('1', 'i'),
      code.replaceAll('1', 'L'),
      code.replaceAll('1', 'l'),
      code.replaceAll('0', 'O'),
      code.replaceAll('0', 'o'),
      grouped.join('-').toLowerCase().replaceAll('1', 'i').replaceAll('0', 'o'),
    ];
    for (const card of typed) {
      const reply = await walletSession(t, card, '5150');
      expect(reply.status, `${card}: ${JSON.stringify(reply.body)}`).toBe(200);
      expect(reply.body.wallet.account).toBe(v.account);
    }
  });

  it('refuses a code with a wrong check symbol or a typo with the same 401 as an unknown card', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '8085' });
    const unknown = await unknownCardReply();
    const check = v.code.charAt(16);
    const wrong_check = v.code.slice(0, 16) + alphabet.charAt((alphabet.indexOf(check) + 1) % 32);
    const typo = alphabet.charAt((alphabet.indexOf(v.code.charAt(5)) + 7) % 32);
    const typo_code = v.code.slice(0, 5) + typo + v.code.slice(6);
    for (const card of [wrong_check, typo_code, v.code.slice(0, 16), `${v.code}0`, 'UUUU-UUUU-UUUU-UUUU-U', '']) {
      expectSameAsUnknown(await walletSession(t, card, '8085'), unknown);
    }
    // None of this counted as a wrong PIN of the real card.
    expect((await cardRow(v.code))?.pin_failures).toBe(0);
  });

  it('answers an unknown card and a wrong PIN with the same 401 problem; a wrong PIN adds how many tries are left', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '4821' });
    const unknown = await unknownCardReply();
    const wrong_pin = await walletSession(t, v.code, '1234');
    const { tries_left, ...same } = wrong_pin.body as Record<string, unknown>;
    expect(wrong_pin.status).toBe(401);
    expect(same).toEqual(unknown.body);
    // Card codes carry 80 random bits: telling that this one exists gives a guesser nothing.
    expect(tries_left).toBe(4);
    expect(unknown.body.tries_left).toBeUndefined();
    expect(unknown.body.detail).not.toMatch(/card does not exist|unknown card|wrong pin$/i);
  });

  it('refuses a malformed PIN or card (422) without counting it as a try or opening anything', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '5829' });
    const before = await volunteerCounts(t);
    for (const body of [
      { card: v.code, pin: 2222 }, { card: v.code, pin: '22' }, { card: v.code, pin: 'abcd' }, { card: v.code },
      { pin: '5829' }, { card: 'X'.repeat(65), pin: '2222' },
    ]) {
      expectProblem(await t.request('POST', '/api/v1/wallet/session', { body }), 422, 'validation_failed');
    }
    expect(await volunteerCounts(t)).toEqual(before);
    expect((await cardRow(v.code))?.pin_failures).toBe(0);
  });
});

describe('PIN lockout', () => {
  it('locks the card after 5 wrong PINs (423 card_locked, also with the right PIN); a phone opened before keeps working; unlock restores it', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '1357' });
    const earlier = await openWallet(t, v);
    for (let i = 1; i <= 4; i++) {
      const wrong = await walletSession(t, v.code, '0000');
      expectProblem(wrong, 401, 'unauthenticated');
      expect(wrong.body.tries_left).toBe(5 - i);
    }
    const locking = await walletSession(t, v.code, '0000');
    expectProblem(locking, 423, 'card_locked');
    expect(Date.parse(locking.body.locked_until as string) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(Number(locking.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
    expectProblem(await walletSession(t, v.code, '1357'), 423, 'card_locked');
    expectProblem(await walletSession(t, v.code, '0000'), 423, 'card_locked');
    // A stranger who knows the card code cannot log the owner out: the phone opened before keeps working.
    expect((await t.request('GET', '/api/v1/wallet', { token: earlier })).status).toBe(200);
    const shown = await t.request('GET', `/api/v1/wallets/${v.account}`, { token: coord_tor });
    expect(shown.body.card).toMatchObject({ locked: true, status: 'active', locked_until: locking.body.locked_until });
    expect((await cardRow(v.code))?.pin_failures).toBe(5);
    // Not in event mode: the coordinator cannot award to it until it is unlocked.
    const session = await openSession(t, activity_id, { hours: '1' });
    expectProblem(await award(t, session.id, { card: v.code }), 423, 'card_locked');
    expect(await balanceOf(t, v.account)).toBe('0');

    const unlocked = await t.request('POST', `/api/v1/cards/${v.code}/unlock`, { token: coord_tor });
    expect(unlocked.status, JSON.stringify(unlocked.body)).toBe(200);
    expect(unlocked.body).toMatchObject({ code: v.code, locked: false, locked_until: null, status: 'active' });
    expect(await cardRow(v.code)).toMatchObject({ pin_failures: 0, locked_until: null });
    const reopened = await walletSession(t, v.code, '1357');
    expect(reopened.status, JSON.stringify(reopened.body)).toBe(200);
  });

  it('a right PIN resets the count: 4 wrong, 1 right, 4 wrong leave the card usable', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '2468' });
    for (let i = 0; i < 4; i++) expectProblem(await walletSession(t, v.code, '1111'), 401, 'unauthenticated');
    expect((await walletSession(t, v.code, '2468')).status).toBe(200);
    for (let i = 0; i < 4; i++) expectProblem(await walletSession(t, v.code, '1111'), 401, 'unauthenticated');
    expect((await walletSession(t, v.code, '2468')).status).toBe(200);
  });

  it('20 concurrent wrong guesses get at most 5 comparisons: 4 × 401, then 423; a later right PIN is 423', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '9753' });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => walletSession(t, v.code, String(1000 + i))));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s === 423)).toHaveLength(16);
    for (const reply of replies.filter((r) => r.status === 423)) expect(reply.body.code).toBe('card_locked');
    const row = await cardRow(v.code);
    expect(row?.pin_failures).toBe(5);
    expect(row?.locked_until).not.toBeNull();
    expectProblem(await walletSession(t, v.code, '9753'), 423, 'card_locked');

    expect((await t.request('POST', `/api/v1/cards/${v.display_code.toLowerCase()}/unlock`, { token: coord_tor })).status).toBe(200);
    expect((await walletSession(t, v.code, '9753')).status).toBe(200);
  });

  it('20 concurrent guesses including the right PIN still compare at most 5', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '3141' });
    const pins = Array.from({ length: 20 }, (_, i) => (i === 10 ? '3141' : String(5000 + i)));
    const replies = await Promise.all(pins.map((pin) => walletSession(t, v.code, pin)));
    const compared = replies.filter((r) => r.status !== 423);
    // Each comparison is a 401 (wrong) or a 200 (right); the rest were refused before comparing.
    expect(compared.length).toBeLessThanOrEqual(5);
    for (const reply of replies) expect([200, 401, 423]).toContain(reply.status);
    expect((await cardRow(v.code))?.pin_failures).toBeLessThanOrEqual(5);
  });
});

describe('a lost card: the coordinator issues a new one', () => {
  it('kills the old card and its sessions at once; the new card works with the same PIN and the balance is untouched', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '6140', name: 'Rachid' });
    const session = await openSession(t, activity_id, { hours: '2' });
    expect((await award(t, session.id, { card: v.code })).status).toBe(201);
    const old_token = await openWallet(t, v);
    expect((await t.request('GET', '/api/v1/wallet', { token: old_token })).body.balance).toBe('50');
    const entries_before = await t.sql`SELECT count(*)::int AS n FROM entries WHERE account_id = ${v.account}`;

    const reissued = await t.request('POST', `/api/v1/wallets/${v.account}/cards`, { token: coord_tor });
    expect(reissued.status, JSON.stringify(reissued.body)).toBe(201);
    const fresh = reissued.body.code as string;
    expect(fresh).not.toBe(v.code);
    expect(reissued.body).toMatchObject({ url: `${base_url}/c/${fresh}`, status: 'active', locked: false });

    expectSameAsUnknown(await walletSession(t, v.code, '6140'), await unknownCardReply());
    expectProblem(await t.request('GET', '/api/v1/wallet', { token: old_token }), 401, 'unauthenticated');
    expect((await cardRow(v.code))?.status).toBe('replaced');

    const new_token = await openWallet(t, { code: fresh, pin: '6140' });
    const wallet = await t.request('GET', '/api/v1/wallet', { token: new_token });
    expect(wallet.body).toMatchObject({ account: v.account, balance: '50', display_name: 'Rachid' });
    expect(await balanceOf(t, v.account)).toBe('50');
    expect(await t.sql`SELECT count(*)::int AS n FROM entries WHERE account_id = ${v.account}`).toEqual(entries_before);
    const shown = await t.request('GET', `/api/v1/wallets/${v.account}`, { token: coord_tor });
    expect(shown.body.card.code).toBe(fresh);
  });

  it('a replaced card cannot be unblocked or blocked (409), nor used in event mode', async () => {
    const v = await registerVolunteer(t, 'TOR');
    expect((await t.request('POST', `/api/v1/wallets/${v.account}/cards`, { token: coord_tor })).status).toBe(201);
    expectProblem(await t.request('POST', `/api/v1/cards/${v.code}/unblock`, { token: coord_tor }), 409, 'card_replaced');
    expectProblem(await t.request('POST', `/api/v1/cards/${v.code}/block`, { token: coord_tor }), 409, 'card_replaced');
    expect((await cardRow(v.code))?.status).toBe('replaced');

    const session = await openSession(t, activity_id, {});
    const before = await volunteerCounts(t);
    expectProblem(await award(t, session.id, { card: v.code }), 409, 'card_replaced');
    expect(await volunteerCounts(t)).toEqual(before);
  });

  it('a wallet of a non-wallet account or an unknown id cannot get a card (404)', async () => {
    const before = await volunteerCounts(t);
    expect((await t.request('POST', `/api/v1/wallets/${programme}/cards`, { token: coord_tor })).status).toBe(404);
    expect((await t.request('POST', '/api/v1/wallets/00000000-0000-4000-8000-000000000000/cards', { token: coord_tor })).status).toBe(404);
    expect((await t.request('POST', '/api/v1/wallets/not-a-uuid/cards', { token: coord_tor })).status).toBe(404);
    expect(await volunteerCounts(t)).toEqual(before);
  });
});

describe('a blocked card', () => {
  it('cannot open a session, its sessions die, event mode refuses it; unblock restores it (old sessions stay dead)', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '7391' });
    const earlier = await openWallet(t, v);
    const blocked = await t.request('POST', `/api/v1/cards/${v.display_code}/block`, { token: coord_tor });
    expect(blocked.status, JSON.stringify(blocked.body)).toBe(200);
    expect(blocked.body).toMatchObject({ code: v.code, status: 'blocked' });

    expectProblem(await t.request('GET', '/api/v1/wallet', { token: earlier }), 401, 'unauthenticated');
    expectSameAsUnknown(await walletSession(t, v.code, '7391'), await unknownCardReply());
    const session = await openSession(t, activity_id, {});
    const before = await volunteerCounts(t);
    expectProblem(await award(t, session.id, { card: v.code }), 409, 'card_replaced');
    expect(await volunteerCounts(t)).toEqual(before);
    expect((await t.request('GET', `/api/v1/wallets/${v.account}`, { token: coord_tor })).body.card.status).toBe('blocked');

    const unblocked = await t.request('POST', `/api/v1/cards/${v.code}/unblock`, { token: coord_tor });
    expect(unblocked.status).toBe(200);
    expect(unblocked.body.status).toBe('active');
    expect((await walletSession(t, v.code, '7391')).status).toBe(200);
    expectProblem(await t.request('GET', '/api/v1/wallet', { token: earlier }), 401, 'unauthenticated');
    expect((await award(t, session.id, { card: v.code })).status).toBe(201);
  });

  it('unlock also unblocks a blocked card', async () => {
    const v = await registerVolunteer(t, 'TOR', { pin: '7183' });
    expect((await t.request('POST', `/api/v1/cards/${v.code}/block`, { token: coord_tor })).status).toBe(200);
    const unlocked = await t.request('POST', `/api/v1/cards/${v.code}/unlock`, { token: coord_tor });
    expect(unlocked.body).toMatchObject({ status: 'active', locked: false });
    expect((await walletSession(t, v.code, '7183')).status).toBe(200);
  });

  it('block, unblock, unlock of an unknown or malformed code are 404', async () => {
    for (const action of ['block', 'unblock', 'unlock']) {
      expect((await t.request('POST', `/api/v1/cards/${cardCodeFromBytes(randomBytes(10))}/${action}`, { token: coord_tor })).status).toBe(404);
      expect((await t.request('POST', `/api/v1/cards/nonsense/${action}`, { token: coord_tor })).status).toBe(404);
    }
  });
});

describe('QR codes', () => {
  it('the card QR decodes (jsqr) to <PUBLIC_BASE_URL>/c/<code>, also when the path holds a typed code', async () => {
    const v = await registerVolunteer(t, 'TOR');
    for (const typed of [v.code, v.display_code.toLowerCase()]) {
      const reply = await t.request('GET', `/api/v1/cards/${typed}/qr.svg`, { token: coord_tor });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(typeof reply.body).toBe('string');
      expect(decodeQrSvg(reply.body as string)).toBe(`${base_url}/c/${v.code}`);
    }
    expect(v.url).toBe(`${base_url}/c/${v.code}`);
  });

  it('the session QR decodes to its claim_url (<PUBLIC_BASE_URL>/claim#<token>)', async () => {
    const session = await openSession(t, activity_id, { hours: '1.5', max_claims: 3 });
    expect(session.claim_url).toBe(`${base_url}/claim#${session.claim_token}`);
    const reply = await t.request('GET', `/api/v1/sessions/${session.id}/qr.svg`, { token: coord_tor });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(decodeQrSvg(reply.body as string)).toBe(session.claim_url);
  });

  it('the QR of an unknown card or session is 404', async () => {
    expect((await t.request('GET', `/api/v1/cards/${cardCodeFromBytes(randomBytes(10))}/qr.svg`, { token: coord_tor })).status).toBe(404);
    expect((await t.request('GET', '/api/v1/sessions/00000000-0000-4000-8000-000000000000/qr.svg', { token: coord_tor })).status).toBe(404);
  });
});

describe('the printable sheet of cards', () => {
  const titles = { nl: 'Mijn wijkmuntkaart', en: 'My neighbourhood coin card', fr: 'Ma carte de monnaie de quartier' } as const;

  it('holds each volunteer\'s name, grouped code, an inline QR and instructions in their language', async () => {
    const people: Array<{ v: Volunteer; language: keyof typeof titles; shown: string }> = [
      { v: await registerVolunteer(t, 'TOR', { name: 'Anneke', language: 'nl' }), language: 'nl', shown: 'Anneke' },
      { v: await registerVolunteer(t, 'TOR', { name: 'Ben <b>&', language: 'en' }), language: 'en', shown: 'Ben &#60;b&#62;&#38;' },
      { v: await registerVolunteer(t, 'TOR', { name: 'Chloé "C"', language: 'fr' }), language: 'fr', shown: 'Chloé &#34;C&#34;' },
    ];
    const query = people.map((p) => `wallet=${p.v.account}`).join('&');
    const reply = await t.request('GET', `/api/v1/currencies/TOR/cards/sheet?${query}`, { token: coord_tor });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
    const html = reply.body as string;
    expect(html).toMatch(/@page\s*{[^}]*A4/);
    expect(html).not.toContain('<b>&');

    const sections = html.split('<section').slice(1);
    expect(sections).toHaveLength(3);
    people.forEach(({ v, language, shown }, i) => {
      const section = sections[i]!;
      expect(section).toContain(`lang="${language}"`);
      expect(section).toContain(shown);
      expect(section).toContain(v.display_code);
      expect(section).toContain(titles[language]);
      for (const other of Object.keys(titles) as Array<keyof typeof titles>) {
        if (other !== language) expect(section).not.toContain(titles[other]);
      }
      const svg = /<svg[\s\S]*?<\/svg>/.exec(section)?.[0];
      expect(svg).toBeDefined();
      expect(decodeQrSvg(svg!)).toBe(`${base_url}/c/${v.code}`);
    });
    expect(sections[1]).toContain('Scan the code with your phone');
    expect(sections[2]).toContain('Scannez le code');
    expect(sections[0]).toContain('Scan de code met je gsm');
  });

  it('prints the current card of a wallet whose card was replaced', async () => {
    const v = await registerVolunteer(t, 'TOR');
    const fresh = await t.request('POST', `/api/v1/wallets/${v.account}/cards`, { token: coord_tor });
    const reply = await t.request('GET', `/api/v1/currencies/TOR/cards/sheet?wallet=${v.account}`, { token: coord_tor });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain(fresh.body.display_code);
    expect(reply.body).not.toContain(v.display_code);
  });

  it('refuses a wallet of another currency, a non-wallet account or an unknown id (404), and a non-uuid (422)', async () => {
    const mine = await registerVolunteer(t, 'TOR');
    const foreign = await registerVolunteer(t, 'ANT', { name: 'Foreign Fred' });
    for (const id of [foreign.account, programme, '00000000-0000-4000-8000-000000000000']) {
      const reply = await t.request('GET', `/api/v1/currencies/TOR/cards/sheet?wallet=${mine.account}&wallet=${id}`, { token: coord_tor });
      expect(reply.status, JSON.stringify(reply.body)).toBe(404);
      expect(JSON.stringify(reply.body)).not.toContain('Foreign Fred');
    }
    const bad = await t.request('GET', `/api/v1/currencies/TOR/cards/sheet?wallet=${mine.account}&wallet=not-a-uuid`, { token: coord_tor });
    expect(bad.status).toBe(422);
    expect((await t.request('GET', '/api/v1/currencies/TOR/cards/sheet', { token: coord_tor })).status).toBe(422);
  });
});

describe('who may do what', () => {
  let v: Volunteer;
  let wallet_token: string;
  let session: { id: string; claim_token: string };

  beforeAll(async () => {
    v = await registerVolunteer(t, 'TOR', { name: 'Guarded Gina', pin: '8642' });
    wallet_token = await openWallet(t, v);
    session = await openSession(t, activity_id, {});
  });

  /** Staff routes touching TOR, as [method, path, body]. */
  function staffRoutes(): Array<[string, string, unknown?]> {
    return [
      ['POST', '/api/v1/currencies/TOR/wallets', { display_name: 'Intruder', pin: '1234' }],
      ['GET', `/api/v1/wallets/${v.account}`],
      ['POST', `/api/v1/wallets/${v.account}/cards`],
      ['POST', `/api/v1/cards/${v.code}/block`],
      ['POST', `/api/v1/cards/${v.code}/unblock`],
      ['POST', `/api/v1/cards/${v.code}/unlock`],
      ['GET', `/api/v1/cards/${v.code}/qr.svg`],
      ['GET', `/api/v1/currencies/TOR/cards/sheet?wallet=${v.account}`],
      ['GET', '/api/v1/currencies/TOR/activities'],
      ['POST', '/api/v1/currencies/TOR/activities', { name: 'Sneaky', category: 'other', amount: '5', programme_account: programme }],
      ['PATCH', `/api/v1/activities/${activity_id}`, { active: false }],
      ['POST', `/api/v1/activities/${activity_id}/sessions`, {}],
      ['GET', `/api/v1/sessions/${session.id}`],
      ['GET', `/api/v1/sessions/${session.id}/qr.svg`],
      ['POST', `/api/v1/sessions/${session.id}/awards`, { card: v.code }],
    ];
  }

  it('a wallet token gets 403 on every staff route and changes nothing', async () => {
    const before = await volunteerCounts(t);
    for (const [method, path, body] of [...staffRoutes(), ['POST', '/api/v1/currencies/TOR/issue', { to_account: v.account, amount: '5' }] as [string, string, unknown]]) {
      const reply = await t.request(method, path, { token: wallet_token, body, idempotencyKey: newKey() });
      expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(403);
      expect(reply.body.code).toBe('forbidden');
    }
    expect(await volunteerCounts(t)).toEqual(before);
    expect((await cardRow(v.code))?.status).toBe('active');
    expect((await activityOf(t, 'TOR')).active).toBe(true);
  });

  it('a staff token cannot claim or read a wallet (403); no token is 401', async () => {
    const before = await volunteerCounts(t);
    for (const token of [coord_tor, t.adminToken]) {
      expectProblem(await claim(t, token, session.claim_token), 403, 'forbidden');
      expectProblem(await t.request('GET', '/api/v1/wallet', { token }), 403, 'forbidden');
      expectProblem(await t.request('GET', '/api/v1/wallet/entries', { token }), 403, 'forbidden');
      expectProblem(await t.request('POST', '/api/v1/wallet/logout', { token }), 403, 'forbidden');
    }
    expectProblem(await t.request('POST', '/api/v1/claims', { idempotencyKey: newKey(), body: { token: session.claim_token } }), 401, 'unauthenticated');
    expectProblem(await t.request('GET', '/api/v1/wallet'), 401, 'unauthenticated');
    for (const [method, path, body] of staffRoutes()) {
      const reply = await t.request(method, path, { body, idempotencyKey: newKey() });
      expect(reply.status, `${method} ${path}`).toBe(401);
    }
    expect(await volunteerCounts(t)).toEqual(before);
  });

  it('a coordinator of another currency gets 404/403 on TOR wallets, cards, activities and sessions, and changes nothing', async () => {
    const before = await volunteerCounts(t);
    for (const [method, path, body] of staffRoutes()) {
      const reply = await t.request(method, path, { token: coord_ant, body, idempotencyKey: newKey() });
      expect([403, 404], `${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`).toContain(reply.status);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(reply.body)).not.toContain('Guarded Gina');
    }
    expect(await volunteerCounts(t)).toEqual(before);
    expect((await cardRow(v.code))?.status).toBe('active');
    // Control: the TOR coordinator may.
    expect((await t.request('GET', `/api/v1/wallets/${v.account}`, { token: coord_tor })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/wallet', { token: wallet_token })).status).toBe(200);
  });
});
