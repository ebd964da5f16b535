/**
 * Access that holds against a patient guesser and never locks the owner out for good: a card's
 * lockout escalates and is remembered (15 min, 1 h, 4 h, then until a coordinator unlocks it),
 * weak PINs and passwords are refused where they are chosen, a forgotten PIN is reset by a
 * coordinator and a PIN is changed from the open wallet, and staff accounts are disabled,
 * enabled, signed out and given new passwords. Time moves by moving the lock in the database,
 * the clock the service reads: no test waits for a lock to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { openWallet, registerVolunteer, walletSession } from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { charge, shopWithTablet } from './support/shop-fixtures.js';
import type { Tablet } from './support/shop-fixtures.js';
import { weakPassword, weakPin } from '../src/ledger/secrets.js';

let t: TestApp;
let coordinator: string;
let tablet: Tablet;

beforeAll(async () => {
  // Requests made in the process share one address: the per-address limits are off here and
  // tested in test/rate-limit.test.ts (with an unlock that works at once under them).
  t = await createTestApp();
  const currency = await createCurrency(t, 'LCK', 2);
  coordinator = (await t.createStaff('coordinator', [currency.id])).token;
  tablet = (await shopWithTablet(t, 'LCK')).tablet;
});

afterAll(async () => {
  await t?.close();
});

async function cardOf(code: string) {
  const [row] = await t.sql<{ pin_failures: number; locked_until: Date | null; lock_count: number }[]>`
    SELECT pin_failures, locked_until, lock_count FROM cards WHERE code = ${code}`;
  if (row === undefined) throw new Error(`no card ${code}`);
  return row;
}

/** Time passes until the card's timed lock has ended (the lock is moved into the past). */
async function lockEnds(code: string): Promise<void> {
  await t.sql`UPDATE cards SET locked_until = now() - interval '1 second' WHERE code = ${code} AND locked_until IS NOT NULL`;
}

/** Five wrong PINs: four 401s counting down, then the locking 423. */
async function fiveWrong(v: Volunteer): Promise<Reply> {
  for (let left = 4; left >= 1; left -= 1) {
    const wrong = await walletSession(t, v.code, '0000');
    expectProblem(wrong, 401, 'unauthenticated');
    expect(wrong.body.tries_left).toBe(left);
  }
  const locking = await walletSession(t, v.code, '0000');
  expectProblem(locking, 423, 'card_locked');
  return locking;
}

describe('a card\'s lockout escalates and is remembered', () => {
  it('15 min, 1 h, 4 h, then locked until a coordinator unlocks it; a right PIN in between does not reset the escalation', async () => {
    const v = await registerVolunteer(t, 'LCK', { pin: '5827' });
    const expected_s = [15 * 60, 60 * 60, 4 * 60 * 60];
    for (const [n, seconds] of expected_s.entries()) {
      const locking = await fiveWrong(v);
      const lasts_s = (Date.parse(locking.body.locked_until as string) - Date.now()) / 1000;
      expect(lasts_s).toBeGreaterThan(seconds - 60);
      expect(lasts_s).toBeLessThanOrEqual(seconds + 1);
      expect(Number(locking.headers.get('retry-after'))).toBeGreaterThan(seconds - 60);
      expect(await cardOf(v.code)).toMatchObject({ pin_failures: 5, lock_count: n + 1 });
      expectProblem(await walletSession(t, v.code, v.pin), 423, 'card_locked');
      await lockEnds(v.code);
      // The owner's right PIN opens the wallet again, but the locks so far are remembered.
      expect((await walletSession(t, v.code, v.pin)).status).toBe(200);
      expect(await cardOf(v.code)).toMatchObject({ pin_failures: 0, lock_count: n + 1 });
    }
    const holding = await fiveWrong(v);
    expect(holding.body.locked_until).toBeNull();
    expect(holding.body.detail).toMatch(/until a coordinator unlocks it/);
    expect(holding.headers.get('retry-after')).toBeNull();
    expect(await cardOf(v.code)).toEqual({ pin_failures: 5, locked_until: null, lock_count: 4 });
    // However long one waits: a held card opens for no PIN, and a shop cannot charge it.
    await t.sql`UPDATE cards SET created_at = created_at - interval '400 days' WHERE code = ${v.code}`;
    expectProblem(await walletSession(t, v.code, v.pin), 423, 'card_locked');
    expectProblem(await charge(t, tablet, { card: v.code, pin: v.pin, amount: '1.00' }), 423, 'card_locked');
    const shown = await t.request('GET', `/api/v1/wallets/${v.account}`, { token: coordinator });
    expect(shown.body.card).toMatchObject({ locked: true, locked_until: null });

    // The coordinator's unlock works at once (no 429 from the failures that led to it) and starts afresh.
    const unlocked = await t.request('POST', `/api/v1/cards/${v.code}/unlock`, { token: coordinator });
    expect(unlocked.status, JSON.stringify(unlocked.body)).toBe(200);
    expect(await cardOf(v.code)).toEqual({ pin_failures: 0, locked_until: null, lock_count: 0 });
    expect((await walletSession(t, v.code, v.pin)).status).toBe(200);
    const again = await fiveWrong(v);
    expect((Date.parse(again.body.locked_until as string) - Date.now()) / 1000).toBeLessThanOrEqual(15 * 60 + 1);
  });

  it('a shop\'s charge counts the same lockout and tells the tablet how many tries are left', async () => {
    const v = await registerVolunteer(t, 'LCK', { pin: '6190' });
    for (let left = 4; left >= 1; left -= 1) {
      const wrong = await charge(t, tablet, { card: v.code, pin: '0000', amount: '1.00' });
      expectProblem(wrong, 422, 'invalid_card_or_pin');
      expect(wrong.body.tries_left).toBe(left);
    }
    const locking = await charge(t, tablet, { card: v.code, pin: '0000', amount: '1.00' });
    expectProblem(locking, 423, 'card_locked');
    expect(typeof locking.body.locked_until).toBe('string');
  });

  it('a lock caused by a stranger does not end the owner\'s phone; blocking the card does', async () => {
    const v = await registerVolunteer(t, 'LCK', { pin: '7036' });
    const phone = await openWallet(t, v);
    await fiveWrong(v);
    const read = await t.request('GET', '/api/v1/wallet', { token: phone });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect((await t.request('GET', '/api/v1/wallet/entries', { token: phone })).status).toBe(200);
    expect((await t.request('POST', `/api/v1/cards/${v.code}/block`, { token: coordinator })).status).toBe(200);
    expectProblem(await t.request('GET', '/api/v1/wallet', { token: phone }), 401, 'unauthenticated');
  });
});

describe('PINs that are easy to guess', () => {
  it('names what makes a PIN weak: one digit, runs, repeated pairs, the most common ones', () => {
    for (const pin of ['0000', '7777', '1234', '4321', '7890', '0987', '123456', '654321', '1212', '6969', '121212', '123123', '2580', '1004', '2000', '1986']) {
      expect(weakPin(pin), pin).toBeDefined();
    }
    for (const pin of ['5827', '6190', '7036', '2468', '1357', '9135', '480261']) expect(weakPin(pin), pin).toBeUndefined();
  });

  it('are refused at registration, at a coordinator\'s reset and at a change, in plain words, and nothing is stored', async () => {
    const [before] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM wallets`;
    for (const pin of ['1111', '1234', '9876', '1212', '2000']) {
      const reply = await t.request('POST', '/api/v1/currencies/LCK/wallets', { token: coordinator, body: { display_name: 'Weak', pin } });
      expectProblem(reply, 422, 'validation_failed');
      expect(reply.body.errors).toEqual([{ path: 'pin', message: expect.stringMatching(/too easy to guess/) }]);
    }
    const [after] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM wallets`;
    expect(after?.n).toBe(before?.n);
    const v = await registerVolunteer(t, 'LCK', { pin: '3906' });
    expectProblem(await t.request('POST', `/api/v1/cards/${v.code}/pin`, { token: coordinator, body: { pin: '4444' } }), 422, 'validation_failed');
    const phone = await openWallet(t, v);
    const change = await t.request('POST', '/api/v1/wallet/pin', { token: phone, body: { old_pin: '3906', new_pin: '2345' } });
    expectProblem(change, 422, 'validation_failed');
    expect(change.body.errors).toEqual([{ path: 'new_pin', message: expect.stringMatching(/too easy to guess/) }]);
    expect((await walletSession(t, v.code, '3906')).status).toBe(200);
  });
});

describe('a forgotten PIN, and a PIN changed by its owner', () => {
  it('a coordinator sets a new PIN: the lock ends, the old PIN no longer opens, the phone stays open; audited without the PIN', async () => {
    const v = await registerVolunteer(t, 'LCK', { pin: '4173' });
    const phone = await openWallet(t, v);
    await fiveWrong(v);
    const set = await t.request('POST', `/api/v1/cards/${v.display_code.toLowerCase()}/pin`, { token: coordinator, body: { pin: '8351' } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ code: v.code, locked: false, locked_until: null });
    expect(await cardOf(v.code)).toEqual({ pin_failures: 0, locked_until: null, lock_count: 0 });
    expectProblem(await walletSession(t, v.code, '4173'), 401, 'unauthenticated');
    expect((await walletSession(t, v.code, '8351')).status).toBe(200);
    expect((await t.request('GET', '/api/v1/wallet', { token: phone })).status).toBe(200);
    const [row] = await t.sql<{ text: string }[]>`SELECT a::text AS text FROM audit_log a WHERE action = 'card.pin_set' AND object_id = ${v.code}`;
    expect(row?.text).toBeDefined();
    expect(row?.text).not.toContain('8351');
  });

  it('only a coordinator of the card\'s currency may set it: another currency\'s is 404, a wallet or a tablet 403, a replaced card 409', async () => {
    const v = await registerVolunteer(t, 'LCK', { pin: '4173' });
    const other = await createCurrency(t, 'LCO', 2);
    const elsewhere = (await t.createStaff('coordinator', [other.id])).token;
    expectProblem(await t.request('POST', `/api/v1/cards/${v.code}/pin`, { token: elsewhere, body: { pin: '8351' } }), 404, 'not_found');
    expectProblem(await t.request('POST', `/api/v1/cards/${v.code}/pin`, { token: await openWallet(t, v), body: { pin: '8351' } }), 403, 'forbidden');
    expectProblem(await t.request('POST', `/api/v1/cards/${v.code}/pin`, { token: tablet.token, body: { pin: '8351' } }), 403, 'forbidden');
    expect((await t.request('POST', `/api/v1/wallets/${v.account}/cards`, { token: coordinator })).status).toBe(201);
    expectProblem(await t.request('POST', `/api/v1/cards/${v.code}/pin`, { token: coordinator, body: { pin: '8351' } }), 409, 'card_replaced');
  });

  it('the owner changes their PIN from the open wallet: a wrong old PIN counts as a PIN attempt; the new one opens, the old does not', async () => {
    const v = await registerVolunteer(t, 'LCK', { pin: '6284' });
    const phone = await openWallet(t, v);
    const wrong = await t.request('POST', '/api/v1/wallet/pin', { token: phone, body: { old_pin: '0000', new_pin: '7395' } });
    expectProblem(wrong, 422, 'invalid_card_or_pin');
    expect(wrong.body.tries_left).toBe(4);
    expect((await cardOf(v.code)).pin_failures).toBe(1);
    const changed = await t.request('POST', '/api/v1/wallet/pin', { token: phone, body: { old_pin: '6284', new_pin: '7395' } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    expect((await t.request('GET', '/api/v1/wallet', { token: phone })).status).toBe(200);
    expectProblem(await walletSession(t, v.code, '6284'), 401, 'unauthenticated');
    expect((await walletSession(t, v.code, '7395')).status).toBe(200);
    expectProblem(await t.request('POST', '/api/v1/wallet/pin', { token: coordinator, body: { old_pin: '7395', new_pin: '5173' } }), 403, 'forbidden');
  });
});

describe('staff accounts', () => {
  async function newStaff(email: string, password: string) {
    const created = await t.request('POST', '/api/v1/users', { token: t.adminToken, body: { email, password, role: 'coordinator', currencies: ['LCK'] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id as string;
  }
  const login = (email: string, password: string) => t.request('POST', '/api/v1/auth/login', { body: { email, password } });
  const me = (token: string) => t.request('GET', '/api/v1/auth/me', { token });

  it('passwords: at least 12 characters, not a common one', () => {
    for (const password of ['kort genoeg', 'password1234', 'Wachtwoord123', '111111111111111', '123456789012', 'abcdefghijklmnop']) {
      expect(weakPassword(password), password).toBeDefined();
    }
    expect(weakPassword('fiets-kaas-Gent-7')).toBeUndefined();
    expect(weakPassword('marie.dubois-2026', 'marie.dubois@example.org')).toBeDefined();
  });

  it('an admin disables a user (every session ends at once) and enables them again', async () => {
    const id = await newStaff('disable.me@example.org', 'fiets-kaas-Gent-7');
    const session = (await login('disable.me@example.org', 'fiets-kaas-Gent-7')).body.token as string;
    const disabled = await t.request('PATCH', `/api/v1/users/${id}`, { token: t.adminToken, body: { disabled: true } });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body).toMatchObject({ id, disabled: true });
    expectProblem(await me(session), 401, 'unauthenticated');
    expectProblem(await login('disable.me@example.org', 'fiets-kaas-Gent-7'), 401, 'unauthenticated');
    const enabled = await t.request('PATCH', `/api/v1/users/${id}`, { token: t.adminToken, body: { disabled: false } });
    expect(enabled.body).toMatchObject({ id, disabled: false });
    expect((await login('disable.me@example.org', 'fiets-kaas-Gent-7')).status).toBe(200);
    const listed = await t.request('GET', '/api/v1/users', { token: t.adminToken });
    expect(listed.body.items).toContainEqual(expect.objectContaining({ id, disabled: false }));
  });

  it('changes a role and currencies; the last admin who can log in can be neither disabled nor demoted (409 last_admin)', async () => {
    const id = await newStaff('promote.me@example.org', 'fiets-kaas-Gent-7');
    const promoted = await t.request('PATCH', `/api/v1/users/${id}`, { token: t.adminToken, body: { role: 'admin', currencies: [] } });
    expect(promoted.body).toMatchObject({ role: 'admin', currencies: [] });
    const demoted = await t.request('PATCH', `/api/v1/users/${id}`, { token: t.adminToken, body: { role: 'coordinator', currencies: ['LCK'] } });
    expect(demoted.body).toMatchObject({ role: 'coordinator', currencies: ['LCK'] });
    const admins = await t.sql<{ id: string }[]>`SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL`;
    const [self, ...others] = admins;
    await t.sql`UPDATE users SET disabled_at = now() WHERE id = ANY(${others.map((a) => a.id)}::uuid[])`;
    try {
      expectProblem(await t.request('PATCH', `/api/v1/users/${self!.id}`, { token: t.adminToken, body: { disabled: true } }), 409, 'last_admin');
      expectProblem(await t.request('PATCH', `/api/v1/users/${self!.id}`, { token: t.adminToken, body: { role: 'coordinator' } }), 409, 'last_admin');
    } finally {
      await t.sql`UPDATE users SET disabled_at = NULL WHERE id = ANY(${others.map((a) => a.id)}::uuid[])`;
    }
    expectProblem(await t.request('PATCH', `/api/v1/users/${id}`, { token: coordinator, body: { disabled: true } }), 403, 'forbidden');
    expectProblem(await t.request('PATCH', `/api/v1/users/${id}`, { token: t.adminToken, body: {} }), 422, 'validation_failed');
  });

  it('an admin ends every session of a user, and sets a new password (sessions end; the new one logs in)', async () => {
    const id = await newStaff('lost.laptop@example.org', 'fiets-kaas-Gent-7');
    const first = (await login('lost.laptop@example.org', 'fiets-kaas-Gent-7')).body.token as string;
    const second = (await login('lost.laptop@example.org', 'fiets-kaas-Gent-7')).body.token as string;
    expect((await t.request('POST', `/api/v1/users/${id}/sessions/revoke`, { token: t.adminToken })).status).toBe(204);
    expectProblem(await me(first), 401, 'unauthenticated');
    expectProblem(await me(second), 401, 'unauthenticated');
    const third = (await login('lost.laptop@example.org', 'fiets-kaas-Gent-7')).body.token as string;
    expectProblem(await t.request('POST', `/api/v1/users/${id}/password`, { token: t.adminToken, body: { password: 'password1234' } }), 422, 'validation_failed');
    expect((await t.request('POST', `/api/v1/users/${id}/password`, { token: t.adminToken, body: { password: 'brood-Melk-Kaas-3' } })).status).toBe(204);
    expectProblem(await me(third), 401, 'unauthenticated');
    expectProblem(await login('lost.laptop@example.org', 'fiets-kaas-Gent-7'), 401, 'unauthenticated');
    const fresh = await login('lost.laptop@example.org', 'brood-Melk-Kaas-3');
    expect(fresh.status).toBe(200);
    expect(fresh.body.user.password_changed_at).toEqual(expect.any(String));
    expectProblem(await t.request('POST', `/api/v1/users/${id}/password`, { token: coordinator, body: { password: 'brood-Melk-Kaas-4' } }), 403, 'forbidden');
  });

  it('a user changes their own password with the old one; their other sessions end, this one stays', async () => {
    await newStaff('change.mine@example.org', 'fiets-kaas-Gent-7');
    const here = (await login('change.mine@example.org', 'fiets-kaas-Gent-7')).body.token as string;
    const elsewhere = (await login('change.mine@example.org', 'fiets-kaas-Gent-7')).body.token as string;
    const change = (old_password: string, new_password: string) => t.request('POST', '/api/v1/auth/password', { token: here, body: { old_password, new_password } });
    expectProblem(await change('not-the-password', 'zon-Zee-Strand-44'), 422, 'wrong_password');
    expectProblem(await change('fiets-kaas-Gent-7', 'qwerty123456'), 422, 'validation_failed');
    expect((await change('fiets-kaas-Gent-7', 'zon-Zee-Strand-44')).status).toBe(204);
    expect((await me(here)).status).toBe(200);
    expectProblem(await me(elsewhere), 401, 'unauthenticated');
    expect((await login('change.mine@example.org', 'zon-Zee-Strand-44')).status).toBe(200);
    expectProblem(await login('change.mine@example.org', 'fiets-kaas-Gent-7'), 401, 'unauthenticated');
  });
});
