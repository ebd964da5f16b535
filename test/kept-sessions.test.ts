/**
 * Kept wallet sessions (#22, src/http/kept-sessions.ts): a wallet's request reads its account
 * with its currency's sessions_version, and uses a session it read before only while that
 * version stands. Every change a session stands on raises the version in the database, whatever
 * path made it — so each is made here behind the service, with plain SQL or through a second
 * app on the same database (another process, the CLI), and the very next request must see it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KeptSessions } from '../src/http/kept-sessions.js';
import type { SessionRead } from '../src/db/loaders.js';
import { createTestApp } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, hitsAndMisses } from './support/http-fixtures.js';
import { fundedWallet } from './support/shop-fixtures.js';
import type { Payer } from './support/shop-fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, 'KSA', 2);
  await createCurrency(t, 'KSB', 2);
});

afterAll(async () => {
  await t?.close();
});

/** Kept (hit) and read (miss) sessions of an app so far. */
const counts = (app: TestApp) => hitsAndMisses(app.deps.metrics.wallet_sessions);

/** GET /wallet, and whether its session was a kept one. */
async function read(wallet: Payer, app = t): Promise<{ reply: Reply; kept: boolean }> {
  const before = await counts(app);
  const reply = await app.request('GET', '/api/v1/wallet', { token: wallet.token });
  const after = await counts(app);
  expect(after.hit + after.miss - before.hit - before.miss, 'one session check per request').toBe(1);
  return { reply, kept: after.hit > before.hit };
}

/** The sessions' version of a currency, as the database holds it. */
async function version(code: string): Promise<bigint> {
  const [row] = await t.sql<{ sessions_version: bigint }[]>`SELECT sessions_version FROM currencies WHERE code = ${code}`;
  return row!.sessions_version;
}

/** A wallet whose session this app keeps: read once (a miss), then kept (a hit). */
async function keptWallet(code = 'KSA'): Promise<Payer> {
  const wallet = await fundedWallet(t, code, '4.00');
  expect((await read(wallet)).kept).toBe(false);
  const second = await read(wallet);
  expect(second.reply.status).toBe(200);
  expect(second.kept).toBe(true);
  return wallet;
}

describe('KeptSessions', () => {
  const session = (currency_id: number, sessions_version: bigint, expires_in_ms: number, now_ms: number): SessionRead => ({
    wallet: { currency_id, account_id: 'a', display_name: 'A', pin_hash: 'x', language: 'nl', created_at: new Date(0), full_name: null, phone: null, email: null, note: null, updated_at: null, erased_at: null, receive_code: null, helps_others: false, card_code: 'C' },
    expires_at: new Date(now_ms + expires_in_ms), sessions_version,
  });

  it('gives a session only at the version it was read with, in its currency, before it expires; then forgets it', () => {
    const now = 1_000_000;
    const kept = new KeptSessions(10);
    kept.set('s1', session(1, 5n, 60_000, now));
    expect(kept.get('s1', 1, 5n, now)?.account_id).toBe('a');
    expect(kept.get('s1', 2, 5n, now)).toBeUndefined();
    expect(kept.size).toBe(0);
    kept.set('s1', session(1, 5n, 60_000, now));
    expect(kept.get('s1', 1, 6n, now)).toBeUndefined();
    kept.set('s1', session(1, 5n, 60_000, now));
    expect(kept.get('s1', 1, 5n, now + 60_000)).toBeUndefined();
    expect(kept.size).toBe(0);
  });

  it('keeps at most its number of sessions, dropping the oldest first', () => {
    const kept = new KeptSessions(3);
    for (const id of ['a', 'b', 'c', 'd']) kept.set(id, session(1, 1n, 60_000, Date.now()));
    expect(kept.size).toBe(3);
    expect(kept.get('a', 1, 1n, Date.now())).toBeUndefined();
    expect(kept.get('d', 1, 1n, Date.now())).toBeDefined();
  });
});

describe('a kept session is what the database would answer: every change behind the service shows on the next request', () => {
  it('a session revoked with a plain UPDATE: 401 at once; the wallet\'s other session is read again, then kept', async () => {
    const wallet = await keptWallet();
    const other = (await t.request('POST', '/api/v1/wallet/session', { body: { card: wallet.code, pin: wallet.pin } })).body.token as string;
    const before = await version('KSA');
    await t.sql`UPDATE wallet_sessions SET revoked_at = now() WHERE account_id = ${wallet.account} AND revoked_at IS NULL
      AND id <> (SELECT id FROM wallet_sessions WHERE account_id = ${wallet.account} ORDER BY created_at DESC LIMIT 1)`;
    expect(await version('KSA')).toBe(before + 1n);
    const after = await read(wallet);
    expectProblem(after.reply, 401, 'unauthenticated');
    const second = { ...wallet, token: other };
    expect((await read(second)).kept).toBe(false);
    expect((await read(second)).kept).toBe(true);
  });

  it('a card blocked with a plain UPDATE: 401 at once, for payments\' checks too', async () => {
    const wallet = await keptWallet();
    await t.sql`UPDATE cards SET status = 'blocked' WHERE code = ${wallet.code}`;
    expectProblem((await read(wallet)).reply, 401, 'unauthenticated');
    const pay = await t.request('POST', '/api/v1/wallet/gifts', { token: wallet.token, idempotencyKey: crypto.randomUUID(), body: { to: 'nobody', amount: '1.00' } });
    expectProblem(pay, 401, 'unauthenticated');
  });

  it('a wallet renamed with a plain UPDATE shows its new name on the next read', async () => {
    const wallet = await keptWallet();
    await t.sql`UPDATE wallets SET display_name = 'Renamed behind' WHERE account_id = ${wallet.account}`;
    const after = await read(wallet);
    expect(after.kept).toBe(false);
    expect(after.reply.body.display_name).toBe('Renamed behind');
  });

  it('a session deleted while live, or moved to have expired: 401 at once', async () => {
    const deleted = await keptWallet();
    await t.sql`DELETE FROM wallet_sessions WHERE account_id = ${deleted.account}`;
    expectProblem((await read(deleted)).reply, 401, 'unauthenticated');
    const expired = await keptWallet();
    await t.sql`UPDATE wallet_sessions SET expires_at = now() - interval '1 second' WHERE account_id = ${expired.account}`;
    expectProblem((await read(expired)).reply, 401, 'unauthenticated');
  });

  it('a kept session that reaches its expiry is not used, though nothing changed in the database', async () => {
    const wallet = await keptWallet();
    await t.sql`UPDATE wallet_sessions SET expires_at = now() + interval '1500 milliseconds' WHERE account_id = ${wallet.account}`;
    expect((await read(wallet)).kept).toBe(false);
    expect((await read(wallet)).kept).toBe(true);
    const before = await version('KSA');
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expectProblem((await read(wallet)).reply, 401, 'unauthenticated');
    expect(await version('KSA')).toBe(before);
  });

  it('a service whose clock lags the database\'s keeps no session past its expiry: it expires by the database\'s clock', async () => {
    const wallet = await keptWallet();
    await t.sql`UPDATE wallet_sessions SET expires_at = now() + interval '1500 milliseconds' WHERE account_id = ${wallet.account}`;
    expect((await read(wallet)).kept).toBe(false);
    expect((await read(wallet)).kept).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    // The service's clock (this process's Date) ten minutes behind the database's.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 10 * 60_000);
      expectProblem((await read(wallet)).reply, 401, 'unauthenticated');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a logout through a second app on the same database (another process) is 401 here at once', async () => {
    const wallet = await keptWallet();
    const elsewhere = await createTestApp({}, { database_url: t.database_url, keys: t.deps.keys });
    try {
      expect((await elsewhere.request('POST', '/api/v1/wallet/logout', { token: wallet.token })).status).toBe(204);
    } finally {
      await elsewhere.close();
    }
    expectProblem((await read(wallet)).reply, 401, 'unauthenticated');
  });

  it('what a session does not stand on raises nothing: wrong PINs on its card, a no-op update, expired sessions pruned, another currency\'s logout', async () => {
    const wallet = await keptWallet();
    const elsewhere = await keptWallet('KSB');
    const before = await version('KSA');
    await t.sql`UPDATE cards SET pin_failures = pin_failures + 1 WHERE code = ${wallet.code}`;
    await t.sql`UPDATE wallets SET display_name = display_name WHERE account_id = ${wallet.account}`;
    await t.sql`INSERT INTO wallet_sessions (currency_id, id, account_id, card_code, expires_at)
      SELECT currency_id, gen_random_uuid(), account_id, code, now() - interval '1 day' FROM cards WHERE code = ${wallet.code}`;
    await t.sql`DELETE FROM wallet_sessions WHERE account_id = ${wallet.account} AND expires_at < now()`;
    expect((await t.request('POST', '/api/v1/wallet/logout', { token: elsewhere.token })).status).toBe(204);
    expect(await version('KSA')).toBe(before);
    expect((await read(wallet)).kept).toBe(true);
  });

  it('20 concurrent reads, then a block: every request after the block is refused, in a currency of many kept sessions', async () => {
    const wallets: Payer[] = [];
    for (let i = 0; i < 4; i++) wallets.push(await keptWallet());
    const during = Promise.all(wallets.flatMap((w) => Array.from({ length: 5 }, () => t.request('GET', '/api/v1/wallet', { token: w.token }))));
    await t.sql`UPDATE cards SET status = 'blocked' WHERE code = ${wallets[0]!.code}`;
    for (const reply of await during) expect([200, 401]).toContain(reply.status);
    const after = await Promise.all(wallets.map((w) => t.request('GET', '/api/v1/wallet', { token: w.token })));
    expect(after.map((r) => r.status)).toEqual([401, 200, 200, 200]);
  });
});
