/**
 * Brute-force brakes: failed logins, PINs and pairing codes are limited per client address (a
 * login also per email from that address), answering 429 problem+json with Retry-After before
 * any comparison, and writing nothing. No limit counts across addresses, so a stranger's
 * failures never refuse the owner elsewhere; per card, the durable lockout counts (test/cards.test.ts,
 * test/access-lockout.test.ts). The client address comes from X-Forwarded-For only with
 * TRUST_PROXY. The limiter itself: a sliding window, all or nothing over its rules, bounded memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue } from './support/http-fixtures.js';
import { registerVolunteer } from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { newPairingCode, shopCounts, shopWithTablet } from './support/shop-fixtures.js';
import type { Tablet } from './support/shop-fixtures.js';
import { SlidingWindowLimiter, addressKey } from '../src/http/rate-limit.js';

/** Low limits, so a handful of requests reach them. */
const limits = {
  LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '3',
  LOGIN_FAILURES_PER_EMAIL_PER_MINUTE_MAX: '2',
  PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '3',
  PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '2',
};

let t: TestApp;
let shop_account: string;
let tablet: Tablet;
const staff = [
  { email: 'ada.rate@example.org', password: 'ada-password-1' },
  { email: 'bob.rate@example.org', password: 'bob-password-1' },
  { email: 'cyd.rate@example.org', password: 'cyd-password-1' },
];

beforeAll(async () => {
  t = await createTestApp({ ...limits, TRUST_PROXY: 'true' });
  await createCurrency(t, 'RAT', 2);
  for (const user of staff) {
    const created = await t.request('POST', '/api/v1/users', { token: t.adminToken, body: { ...user, role: 'coordinator', currencies: ['RAT'] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  const made = await shopWithTablet(t, 'RAT');
  shop_account = made.shop.account;
  tablet = made.tablet;
});

afterAll(async () => {
  await t?.close();
});

/** As a trusted proxy forwards it: whatever the client claimed first, the address it saw last. */
function from(address: string): Record<string, string> {
  return { 'X-Forwarded-For': `192.0.2.${Math.floor(Math.random() * 250)}, ${address}` };
}

function login(address: string, email: string, password: string, app: TestApp = t): Promise<Reply> {
  return app.request('POST', '/api/v1/auth/login', { body: { email, password }, headers: from(address) });
}

function walletSession(address: string, card: string, pin: string): Promise<Reply> {
  return t.request('POST', '/api/v1/wallet/session', { body: { card, pin }, headers: from(address) });
}

function charge(address: string, card: string, pin: string): Promise<Reply> {
  return t.request('POST', '/api/v1/shop/charges', {
    token: tablet.token, idempotencyKey: newKey(), body: { card, pin, amount: '1.00' }, headers: from(address),
  });
}

function pair(address: string, pairing_code: string): Promise<Reply> {
  return t.request('POST', '/api/v1/shop/devices', { body: { pairing_code, device_name: 'Till' }, headers: from(address) });
}

/** A 429 rate_limited with a Retry-After of whole seconds within the minute, also in the body. */
function expectLimited(reply: Reply): void {
  expectProblem(reply, 429, 'rate_limited');
  const retry_after = reply.headers.get('retry-after');
  expect(retry_after).toMatch(/^[0-9]+$/);
  expect(Number(retry_after)).toBeGreaterThanOrEqual(1);
  expect(Number(retry_after)).toBeLessThanOrEqual(60);
  expect(reply.body.retry_after_s).toBe(Number(retry_after));
}

async function counts() {
  const [row] = await t.sql<{ auth_sessions: number; wallet_sessions: number; audit: number; pin_failures: number }[]>`
    SELECT (SELECT count(*) FROM auth_sessions)::int AS auth_sessions,
           (SELECT count(*) FROM wallet_sessions)::int AS wallet_sessions,
           (SELECT count(*) FROM audit_log)::int AS audit,
           (SELECT coalesce(sum(pin_failures), 0) FROM cards)::int AS pin_failures`;
  if (row === undefined) throw new Error('no counts');
  return row;
}

async function pinFailuresOf(card: string): Promise<number> {
  const [row] = await t.sql<{ pin_failures: number }[]>`SELECT pin_failures FROM cards WHERE code = ${card}`;
  return row?.pin_failures ?? -1;
}

describe('the limiter', () => {
  it('allows max hits in any sliding window, then tells how long until the oldest leaves it', () => {
    let now = 1_000_000;
    const limiter = new SlidingWindowLimiter(60_000, 100, () => now);
    const rule = [{ key: 'k', max: 3 }];
    for (const at of [0, 10_000, 20_000]) {
      now = 1_000_000 + at;
      expect(limiter.take(rule).ok).toBe(true);
    }
    now = 1_000_000 + 30_000;
    expect(limiter.take(rule)).toEqual({ ok: false, retry_after_s: 30 });
    // Denied attempts are not recorded: the window still frees at 60 s.
    now = 1_000_000 + 59_500;
    expect(limiter.take(rule)).toEqual({ ok: false, retry_after_s: 1 });
    now = 1_000_000 + 60_001;
    expect(limiter.take(rule).ok).toBe(true);
    // Now hits at 10, 20 and 60 s: the next frees when the one at 10 s leaves.
    expect(limiter.take(rule)).toEqual({ ok: false, retry_after_s: 10 });
  });

  it('release gives a hit back (a success does not count); a second release changes nothing', () => {
    const now = 5_000;
    const limiter = new SlidingWindowLimiter(60_000, 100, () => now);
    const rule = [{ key: 'k', max: 2 }];
    const first = limiter.take(rule);
    expect(first.ok).toBe(true);
    if (first.ok) {
      first.release();
      first.release();
    }
    expect(limiter.take(rule).ok).toBe(true);
    expect(limiter.take(rule).ok).toBe(true);
    expect(limiter.take(rule).ok).toBe(false);
  });

  it('is all or nothing over its rules: a denied take records no hit on the others', () => {
    const limiter = new SlidingWindowLimiter(60_000, 100, () => 0);
    expect(limiter.take([{ key: 'address', max: 1 }]).ok).toBe(true);
    for (let i = 0; i < 5; i += 1) expect(limiter.take([{ key: 'address', max: 1 }, { key: 'card', max: 2 }]).ok).toBe(false);
    // The card was never hit: two takes on it alone still pass.
    expect(limiter.take([{ key: 'card', max: 2 }]).ok).toBe(true);
    expect(limiter.take([{ key: 'card', max: 2 }]).ok).toBe(true);
    expect(limiter.take([{ key: 'card', max: 2 }]).ok).toBe(false);
  });

  it('keeps at most keys_max keys, dropping the least recently hit first', () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter(60_000, 100, () => now);
    expect(limiter.take([{ key: 'hot', max: 1 }]).ok).toBe(true);
    expect(limiter.take([{ key: 'cold', max: 1 }]).ok).toBe(true);
    for (let i = 0; i < 10_000; i += 1) {
      now += 1;
      limiter.take([{ key: `spray-${i}`, max: 5 }]);
      // 'hot' is hit again and again (denied, so not recorded): only recorded hits refresh a key.
      if (i % 50 === 0) limiter.take([{ key: 'hot', max: 1 }]);
    }
    expect(limiter.size).toBe(100);
    // The newest sprayed key is kept (still limited at max 1)...
    expect(limiter.take([{ key: 'spray-9999', max: 1 }]).ok).toBe(false);
    // ... the oldest keys were dropped, so they start again.
    expect(limiter.take([{ key: 'cold', max: 1 }]).ok).toBe(true);
    expect(limiter.take([{ key: 'spray-0', max: 1 }]).ok).toBe(true);
    expect(limiter.size).toBe(100);
  });

  it('keys addresses: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64, no socket as one constant', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(null)).toBe(addressKey(null));
    expect(addressKey(null)).not.toBe(addressKey('203.0.113.7'));
  });
});

describe('staff login', () => {
  it('per address (the proxy\'s last X-Forwarded-For entry; a client-sent prefix changes nothing): after 3 failures even the right password is 429, opens no session; another address logs in', async () => {
    for (let i = 0; i < 3; i += 1) expectProblem(await login('10.1.0.1', `nobody-1-${i}@example.org`, 'wrong-password'), 401, 'unauthenticated');
    const before = await counts();
    const limited = await login('10.1.0.1', staff[0]!.email, staff[0]!.password);
    expectLimited(limited);
    expect(await counts()).toEqual(before);
    // The client is the last address in X-Forwarded-For (the proxy's): another client is not held up.
    expect((await login('10.1.0.2', staff[0]!.email, staff[0]!.password)).status).toBe(200);
  });

  it('per email from one address: that address is refused for that email; the owner logs in from another address at once', async () => {
    const { email, password } = staff[1]!;
    expectProblem(await login('10.2.0.1', email, 'wrong-password'), 401, 'unauthenticated');
    expectProblem(await login('10.2.0.1', email.toUpperCase(), 'wrong-password'), 401, 'unauthenticated');
    const before = await counts();
    expectLimited(await login('10.2.0.1', email, password));
    expect(await counts()).toEqual(before);
    // Strangers failing from many addresses do not lock the real staff member out from theirs.
    for (const address of ['10.2.0.2', '10.2.0.3', '10.2.0.4', '10.2.0.5']) {
      for (let i = 0; i < 2; i += 1) expectProblem(await login(address, email, 'wrong-password'), 401, 'unauthenticated');
    }
    expect((await login('10.2.0.9', email, password)).status).toBe(200);
    expect((await login('10.2.0.1', staff[2]!.email, staff[2]!.password)).status).toBe(200);
  });

  it('successful logins do not count; malformed ones (422) do not either', async () => {
    const { email, password } = staff[2]!;
    for (let i = 0; i < 6; i += 1) expect((await login('10.3.0.1', email, password)).status).toBe(200);
    for (let i = 0; i < 6; i += 1) expectProblem(await login('10.3.0.1', 'not-an-email', 'x'), 422, 'validation_failed');
    for (let i = 0; i < 3; i += 1) expectProblem(await login('10.3.0.1', `nobody-3-${i}@example.org`, 'wrong'), 401, 'unauthenticated');
    expectLimited(await login('10.3.0.1', email, password));
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: every request counts against the one real address', async () => {
    const direct = await createTestApp({ ...limits, TRUST_PROXY: 'false' }, { database_url: t.database_url });
    try {
      for (let i = 0; i < 3; i += 1) {
        expectProblem(await login(`10.4.0.${i}`, `nobody-4-${i}@example.org`, 'wrong', direct), 401, 'unauthenticated');
      }
      expectLimited(await login('10.4.0.9', staff[0]!.email, staff[0]!.password, direct));
      // Each app instance counts for itself: the first app is not affected.
      expect((await login('10.4.0.9', staff[0]!.email, staff[0]!.password)).status).toBe(200);
    } finally {
      await direct.close();
    }
  });
});

describe('card + PIN', () => {
  let cards: Volunteer[];

  beforeAll(async () => {
    cards = [];
    for (let i = 0; i < 5; i += 1) cards.push(await registerVolunteer(t, 'RAT', { pin: '1357' }));
  });

  it('per address, across wallet logins and shop charges: after 3 failures even the right PIN is 429, with nothing written', async () => {
    const [a, b, c] = cards as [Volunteer, Volunteer, Volunteer];
    expectProblem(await walletSession('10.5.0.1', a.code, '0000'), 401, 'unauthenticated');
    expectProblem(await charge('10.5.0.1', b.code, '0000'), 422, 'invalid_card_or_pin');
    expectProblem(await walletSession('10.5.0.1', 'ZZZZZZZZZZZZZZZZZ', '1357'), 401, 'unauthenticated');
    const before = { ...(await counts()), ...(await shopCounts(t)) };
    expectLimited(await walletSession('10.5.0.1', c.code, c.pin));
    expectLimited(await charge('10.5.0.1', c.code, c.pin));
    // No session, no transfer, no idempotency record, no PIN counted, no audit line.
    expect({ ...(await counts()), ...(await shopCounts(t)) }).toEqual(before);
    expect(await pinFailuresOf(c.code)).toBe(0);
    // Another address opens the wallet; the card itself is fine.
    expect((await walletSession('10.5.0.2', c.code, c.pin)).status).toBe(200);
  });

  it('per card, the lockout counts, not the limiter: failures from several addresses add up to a lock; a coordinator\'s unlock works at once', async () => {
    const [, , , d, e] = cards as [Volunteer, Volunteer, Volunteer, Volunteer, Volunteer];
    const addresses = ['10.6.0.1', '10.6.0.2', '10.6.0.3', '10.6.0.4', '10.6.0.5'];
    for (const [i, address] of addresses.entries()) {
      const wrong = await walletSession(address, d.code, '0000');
      if (i < 4) expectProblem(wrong, 401, 'unauthenticated');
      else expectProblem(wrong, 423, 'card_locked');
    }
    expect(await pinFailuresOf(d.code)).toBe(5);
    expectProblem(await walletSession('10.6.0.6', d.code, d.pin), 423, 'card_locked');
    expect((await walletSession('10.6.0.6', e.code, e.pin)).status).toBe(200);
    // The unlock clears everything that counted against the card: the next right PIN opens it, no 429.
    expect((await t.request('POST', `/api/v1/cards/${d.code}/unlock`, { token: t.adminToken })).status).toBe(200);
    expect((await walletSession('10.6.0.5', d.code, d.pin)).status).toBe(200);
  });

  it('right PINs do not count: a busy tablet keeps charging', async () => {
    const [a] = cards as [Volunteer];
    await issue(t, 'RAT', a.account, '20.00');
    for (let i = 0; i < 8; i += 1) {
      const paid = await charge('10.7.0.1', a.code, a.pin);
      expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    }
    const [row] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM transfers WHERE credit_account_id = ${shop_account}`;
    expect(row?.n).toBe(8);
  });
});

describe('pairing codes', () => {
  it('per address: after 2 wrong codes a valid one is 429 and stays unused; from another address it pairs', async () => {
    const shop = await shopWithTablet(t, 'RAT');
    const code = await newPairingCode(t, shop.shop.account);
    expectProblem(await pair('10.8.0.1', 'AAAA-AAAA'), 401, 'unauthenticated');
    expectProblem(await pair('10.8.0.1', 'not a code at all'), 401, 'unauthenticated');
    const before = await shopCounts(t);
    expectLimited(await pair('10.8.0.1', code));
    expect(await shopCounts(t)).toEqual(before);
    expect((await pair('10.8.0.2', code)).status).toBe(201);
  });

  it('others\' failures from many addresses do not block pairing with a code the coordinator just gave', async () => {
    const shop = await shopWithTablet(t, 'RAT');
    const code = await newPairingCode(t, shop.shop.account);
    for (const address of ['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']) {
      for (let i = 0; i < 2; i += 1) expectProblem(await pair(address, 'BBBB-BBBB'), 401, 'unauthenticated');
    }
    expect((await pair('10.9.0.9', code)).status).toBe(201);
  });
});
