/**
 * Issue #22 (#15, the read path): a wallet's own reads (`GET /wallet`, `GET /wallet/entries`)
 * are combined across concurrent requests and skip work a read does not need, yet every change
 * behind them takes effect at once — a blocked card, a closed session, a frozen wallet, a
 * changed currency, a payment — also while many reads are in flight. Over real HTTP (the
 * service's own listener), with real concurrent requests.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, rowCounts } from './support/http-fixtures.js';
import { fundedWallet, pay, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import type { Payer, Tablet } from './support/shop-fixtures.js';
import { localDayIn } from '../src/ledger/local-day.js';

let t: TestApp;
let server: Server;
let base: string;
let tablet: Tablet;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, 'RDS', 2);
  await createCurrency(t, 'RDX', 0);
  ({ tablet } = await shopWithTablet(t, 'RDS'));
  server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await t?.close();
});

/** A request over the listener (a real socket), as a phone sends it. */
async function get(path: string, token?: string): Promise<Reply> {
  const response = await fetch(`${base}/api/v1${path}`, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? null : JSON.parse(text) };
}

/** `n` concurrent GET /wallet of each token, all in flight at once. */
async function burst(tokens: string[], n: number): Promise<Reply[]> {
  return Promise.all(tokens.flatMap((token) => Array.from({ length: n }, () => get('/wallet', token))));
}

describe('GET /wallet and /wallet/entries under concurrent reads', () => {
  it('60 concurrent reads of 12 wallets of two currencies each get their own wallet, balance and currency', async () => {
    const wallets: Array<Payer & { currency: string; balance: string }> = [];
    for (let i = 0; i < 12; i++) {
      const currency = i % 3 === 0 ? 'RDX' : 'RDS';
      const amount = currency === 'RDX' ? String(10 + i) : `${10 + i}.${String(i).padStart(2, '0')}`;
      wallets.push({ ...await fundedWallet(t, currency, amount, `Reader ${i}`), currency, balance: amount });
    }
    const replies = await Promise.all(wallets.flatMap((w) => Array.from({ length: 5 }, async () => ({ w, reply: await get('/wallet', w.token) }))));
    expect(replies).toHaveLength(60);
    for (const { w, reply } of replies) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body).toEqual({
        account: w.account, currency: w.currency, display_name: w.name, language: 'nl', balance: w.balance, status: 'active', expiring: [], earning_room: null, gifts_enabled: false,
      });
    }
    const pages = await Promise.all(wallets.map(async (w) => ({ w, reply: await get('/wallet/entries', w.token) })));
    for (const { w, reply } of pages) {
      expect(reply.status).toBe(200);
      expect(reply.body.items).toHaveLength(1);
      expect(reply.body.items[0]).toMatchObject({ amount: w.balance, balance_after: w.balance, code: 'issue' });
    }
  });

  it('a payment shows in the balance and the history of the very next read', async () => {
    const payer = await fundedWallet(t, 'RDS', '20.00');
    expect((await burst([payer.token], 10)).every((r) => r.body.balance === '20.00')).toBe(true);
    const request = await requestPayment(t, tablet, '2.50');
    expect((await pay(t, payer.token, request.id)).status).toBe(201);
    const after = await burst([payer.token], 10);
    expect(after.map((r) => r.body.balance)).toEqual(Array(10).fill('17.50'));
    const page = await get('/wallet/entries', payer.token);
    expect(page.body.items[0]).toMatchObject({ amount: '-2.50', balance_after: '17.50', code: 'payment' });
  });
});

describe('every change behind a read takes effect at once', () => {
  it('a blocked card: reads in flight are answered, every read after the block is 401 (entries too); unblocking does not revive the session', async () => {
    const payer = await fundedWallet(t, 'RDS', '5.00');
    const other = await fundedWallet(t, 'RDS', '6.00');
    const during = burst([payer.token, other.token], 20);
    const blocked = await t.request('POST', `/api/v1/cards/${payer.code}/block`, { token: t.adminToken });
    expect(blocked.status, JSON.stringify(blocked.body)).toBe(200);
    // Each read in flight saw the card either before or after the block: nothing else.
    for (const reply of await during) expect([200, 401]).toContain(reply.status);
    const after = await burst([payer.token, other.token], 10);
    expect(after.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(401));
    expect(after.slice(10).map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(after[0]?.body.code).toBe('unauthenticated');
    expect((await get('/wallet/entries', payer.token)).status).toBe(401);
    expect((await t.request('POST', `/api/v1/cards/${payer.code}/unblock`, { token: t.adminToken })).status).toBe(200);
    expect((await get('/wallet', payer.token)).status).toBe(401);
  });

  it('a closed session is 401 on the next read, while another session of the same wallet reads on', async () => {
    const payer = await fundedWallet(t, 'RDS', '5.00');
    const second = (await t.request('POST', '/api/v1/wallet/session', { body: { card: payer.code, pin: payer.pin } })).body.token as string;
    expect((await burst([payer.token, second], 5)).every((r) => r.status === 200)).toBe(true);
    expect((await t.request('POST', '/api/v1/wallet/logout', { token: payer.token })).status).toBe(204);
    const after = await burst([payer.token, second], 5);
    expect(after.map((r) => r.status)).toEqual([...Array(5).fill(401), ...Array(5).fill(200)]);
  });

  it('a frozen wallet says frozen on the next read, and active again once released', async () => {
    const payer = await fundedWallet(t, 'RDS', '5.00');
    expect((await burst([payer.token], 5)).map((r) => r.body.status)).toEqual(Array(5).fill('active'));
    const frozen = await t.request('PATCH', `/api/v1/accounts/${payer.account}`, { token: t.adminToken, body: { status: 'frozen', reason: 'lost phone' } });
    expect(frozen.status, JSON.stringify(frozen.body)).toBe(200);
    expect((await burst([payer.token], 5)).map((r) => r.body.status)).toEqual(Array(5).fill('frozen'));
    expect((await t.request('PATCH', `/api/v1/accounts/${payer.account}`, { token: t.adminToken, body: { status: 'active' } })).status).toBe(200);
    expect((await burst([payer.token], 5)).map((r) => r.body.status)).toEqual(Array(5).fill('active'));
  });

  it('a currency given a validity shows the coins that expire on the next read; taken away, none', async () => {
    await createCurrency(t, 'RDV', 2);
    const payer = await fundedWallet(t, 'RDV', '7.00');
    expect((await get('/wallet', payer.token)).body.expiring).toEqual([]);
    const changed = await t.request('PATCH', '/api/v1/currencies/RDV', { token: t.adminToken, body: { validity_days: 30 } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const after = await burst([payer.token], 5);
    for (const reply of after) {
      expect(reply.body.expiring).toHaveLength(1);
      expect(reply.body.expiring[0].amount).toBe('7.00');
    }
    expect((await t.request('PATCH', '/api/v1/currencies/RDV', { token: t.adminToken, body: { validity_days: null } })).status).toBe(200);
    expect((await get('/wallet', payer.token)).body.expiring).toEqual([]);
  });

  it('a currency changed behind the service (a plain UPDATE) shows on the next read: its row_version moves with every change', async () => {
    await createCurrency(t, 'RDB', 2, { volunteer_cap_day: '10.00' });
    const payer = await fundedWallet(t, 'RDB', '3.00');
    expect((await get('/wallet', payer.token)).body.earning_room).toMatchObject({ cap_day: '10.00' });
    const [before] = await t.sql<{ row_version: bigint }[]>`SELECT row_version FROM currencies WHERE code = 'RDB'`;
    await t.sql`UPDATE currencies SET volunteer_cap_day = 2500 WHERE code = 'RDB'`;
    const [after] = await t.sql<{ row_version: bigint }[]>`SELECT row_version FROM currencies WHERE code = 'RDB'`;
    expect(after!.row_version).toBe(before!.row_version + 1n);
    for (const reply of await burst([payer.token], 5)) expect(reply.body.earning_room).toMatchObject({ cap_day: '25.00' });
    await t.sql`UPDATE currencies SET volunteer_cap_day = NULL, volunteer_cap_year = NULL WHERE code = 'RDB'`;
    expect((await get('/wallet', payer.token)).body.earning_room).toBeNull();
  });

  it('another issue shows on the next read of the history, newest first', async () => {
    const payer = await fundedWallet(t, 'RDS', '1.00');
    await issue(t, 'RDS', payer.account, '2.00');
    const [wallet, page] = await Promise.all([get('/wallet', payer.token), get('/wallet/entries?limit=1', payer.token)]);
    expect(wallet.body.balance).toBe('3.00');
    expect(page.body.items).toEqual([expect.objectContaining({ amount: '2.00', balance_after: '3.00' })]);
    expect(page.body.next_cursor).toEqual(expect.any(String));
  });
});

describe('a payment request is shown with its shop and currency as they are now', () => {
  it('a shop and a currency renamed behind the service (plain UPDATEs) show at once: in the request, and in a payment refused for its currency', async () => {
    await createCurrency(t, 'RDQ', 2);
    const { tablet: till, shop } = await shopWithTablet(t, 'RDQ');
    const request = await requestPayment(t, till, '1.00');
    const show = async () => (await t.request('GET', `/api/v1/payment-requests/${request.id}`)).body;
    expect((await show()).shop.name).toBe(shop.name);
    await t.sql`UPDATE shops SET name = 'Bakkerij Achteraf' WHERE account_id = ${shop.account}`;
    await t.sql`UPDATE currencies SET name = 'Quartiermunt' WHERE code = 'RDQ'`;
    expect(await show()).toMatchObject({ shop: { name: 'Bakkerij Achteraf' }, currency: 'RDQ', amount: '1.00' });
    const stranger = await fundedWallet(t, 'RDS', '5.00');
    const refused = await pay(t, stranger.token, request.id);
    expectProblem(refused, 422, 'wrong_currency');
    expect(refused.body.detail).toContain('Quartiermunt');
  });
});

describe('what a read refuses, over the listener', () => {
  it('no token 401, a staff token 403, a malformed or forged token 401, a bad cursor or limit 422; nothing is written', async () => {
    const payer = await fundedWallet(t, 'RDS', '1.00');
    const before = await rowCounts(t);
    expectProblem(await get('/wallet'), 401, 'unauthenticated');
    expectProblem(await get('/wallet', t.adminToken), 403, 'forbidden');
    expectProblem(await get('/wallet', 'not-a-token'), 401, 'unauthenticated');
    const [head, claims] = payer.token.split('.');
    expectProblem(await get('/wallet', `${head}.${claims}.${'A'.repeat(43)}`), 401, 'unauthenticated');
    expect((await get('/wallet/entries?cursor=%%%', payer.token)).status).toBe(422);
    expect((await get('/wallet/entries?limit=0', payer.token)).status).toBe(422);
    expect(await rowCounts(t)).toEqual(before);
  });

  it('a GET that streams a body (chunked) is answered as the read it is: its body is never read, as before', async () => {
    const payer = await fundedWallet(t, 'RDS', '1.00');
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${base}/api/v1/wallet`);
      const req = httpRequest({
        host: url.hostname, port: url.port, path: url.pathname, method: 'GET',
        headers: { Authorization: `Bearer ${payer.token}`, 'Transfer-Encoding': 'chunked' },
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { body += chunk; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('x'.repeat(t.deps.config.BODY_SIZE_MAX_BYTES + 1));
      req.end();
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ account: payer.account, balance: '1.00' });
  });
});

describe('a read keeps no native memory of its own (#15: the service\'s peak memory under GET /wallet)', () => {
  it('80 concurrent GET /wallet make no Intl.DateTimeFormat (each holds ~18 kB of ICU memory until collected)', async () => {
    const reader = await fundedWallet(t, 'RDS', '7.50', 'Memory reader');
    expect((await get('/wallet', reader.token)).status).toBe(200);
    const original = Intl.DateTimeFormat;
    let made = 0;
    Intl.DateTimeFormat = new Proxy(original, {
      construct(target, args: unknown[], new_target: (...a: unknown[]) => unknown) {
        made += 1;
        return Reflect.construct(target, args, new_target) as object;
      },
      apply(target, this_arg: unknown, args: unknown[]) {
        made += 1;
        return Reflect.apply(target, this_arg, args) as unknown;
      },
    });
    let replies: Reply[];
    try {
      replies = await burst([reader.token], 80);
    } finally {
      Intl.DateTimeFormat = original;
    }
    expect(replies.map((r) => r.status)).toEqual(Array.from({ length: 80 }, () => 200));
    expect(replies.every((r) => (r.body as { balance: string }).balance === '7.50')).toBe(true);
    expect(made).toBe(0);
  });

  it('the one formatter per time zone still gives the local day, across both daylight saving changes', () => {
    expect(localDayIn('Europe/Brussels', new Date('2026-03-28T22:59:59Z'))).toBe('2026-03-28');
    expect(localDayIn('Europe/Brussels', new Date('2026-03-28T23:00:00Z'))).toBe('2026-03-29');
    expect(localDayIn('Europe/Brussels', new Date('2026-03-29T21:59:59Z'))).toBe('2026-03-29');
    expect(localDayIn('Europe/Brussels', new Date('2026-03-29T22:00:00Z'))).toBe('2026-03-30');
    expect(localDayIn('Europe/Brussels', new Date('2026-10-25T22:59:59Z'))).toBe('2026-10-25');
    expect(localDayIn('Europe/Brussels', new Date('2026-10-25T23:00:00Z'))).toBe('2026-10-26');
    expect(localDayIn('UTC', new Date('2026-10-25T23:00:00Z'))).toBe('2026-10-25');
    expect(localDayIn('Europe/Brussels', new Date('2026-10-25T23:00:00Z'))).toBe('2026-10-26');
  });
});
