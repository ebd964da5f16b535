/** Issue #2: Idempotency-Key on every value-moving POST (API.md "Conventions"). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, openAccount, rowCounts, transfer } from './support/http-fixtures.js';

let t: TestApp;
let currency_id: number;
let programme: string;
let wallet: string;
let shop: string;

beforeAll(async () => {
  t = await createTestApp();
  currency_id = (await createCurrency(t, 'IDM', 2)).id;
  programme = await openAccount(t, 'IDM', 'programme', 'Programme');
  wallet = await openAccount(t, 'IDM', 'wallet', 'Wallet');
  shop = await openAccount(t, 'IDM', 'shop', 'Shop');
  await issue(t, 'IDM', programme, '100000.00');
  await transfer(t, 'IDM', programme, wallet, '1000.00');
});

afterAll(async () => {
  await t?.close();
});

interface Call {
  path: string;
  body?: Record<string, unknown>;
  /** Another body for the same path, to reuse the key with. */
  other_body: Record<string, unknown>;
  status: 200 | 201;
  /** Transfers one successful call writes. */
  writes: number;
}

/** One case per value-moving POST; `prepare` builds a fresh target so every test can succeed once. */
const routes: Array<{ route: string; prepare(): Promise<Call> }> = [
  {
    route: 'transfers',
    prepare: async () => ({
      path: '/api/v1/currencies/IDM/transfers',
      body: { debit_account: wallet, credit_account: shop, amount: '1.00', code: 'adjustment', memo: 'correction' },
      other_body: { debit_account: wallet, credit_account: shop, amount: '2.00', code: 'adjustment', memo: 'correction' },
      status: 201, writes: 1,
    }),
  },
  {
    route: 'transfers/batch',
    prepare: async () => {
      const item = { debit_account: wallet, credit_account: shop, amount: '1.00', code: 'adjustment', memo: 'correction' };
      return {
        path: '/api/v1/currencies/IDM/transfers/batch',
        body: { atomic: true, transfers: [item, { ...item, amount: '0.50' }] },
        other_body: { atomic: false, transfers: [item, { ...item, amount: '0.50' }] },
        status: 200, writes: 2,
      };
    },
  },
  {
    route: 'issue',
    prepare: async () => ({
      path: '/api/v1/currencies/IDM/issue',
      body: { to_account: wallet, amount: '3.00' },
      other_body: { to_account: wallet, amount: '3.00', memo: 'another' },
      status: 201, writes: 1,
    }),
  },
  {
    route: 'reverse',
    prepare: async () => {
      const original = await transfer(t, 'IDM', wallet, shop, '1.00', { transfer_code: 'adjustment' });
      return { path: `/api/v1/transfers/${original.id as string}/reverse`, body: { memo: 'typo' }, other_body: { memo: 'other' }, status: 201, writes: 1 };
    },
  },
  {
    route: 'post',
    prepare: async () => {
      const pending = await transfer(t, 'IDM', wallet, shop, '4.00', { pending: true, transfer_code: 'adjustment' });
      return { path: `/api/v1/transfers/${pending.id as string}/post`, body: { amount: '3.00' }, other_body: { amount: '2.00' }, status: 201, writes: 1 };
    },
  },
  {
    route: 'void',
    prepare: async () => {
      const pending = await transfer(t, 'IDM', wallet, shop, '4.00', { pending: true, transfer_code: 'adjustment' });
      // No body at all is the usual void.
      return { path: `/api/v1/transfers/${pending.id as string}/void`, other_body: { memo: 'other' }, status: 201, writes: 1 };
    },
  },
];

async function keyRecorded(scope_user_token: string, key: string): Promise<boolean> {
  const me = await t.request('GET', '/api/v1/auth/me', { token: scope_user_token });
  const rows = await t.sql`SELECT 1 FROM idempotency_keys WHERE scope = ${`user:${me.body.id as string}`} AND key = ${key}`;
  return rows.length === 1;
}

describe.each(routes)('POST $route', ({ prepare }) => {
  it('without Idempotency-Key is 400 idempotency_key_missing and writes nothing', async () => {
    const call = await prepare();
    const before = await rowCounts(t);
    const missing = await t.request('POST', call.path, { token: t.adminToken, body: call.body });
    expectProblem(missing, 400, 'idempotency_key_missing');
    const empty = await t.request('POST', call.path, { token: t.adminToken, body: call.body, headers: { 'Idempotency-Key': '' } });
    expectProblem(empty, 400, 'idempotency_key_missing');
    expect(await rowCounts(t)).toEqual(before);
  });

  it('with a key of 256 characters is 400 and writes nothing; 255 characters is accepted', async () => {
    const call = await prepare();
    const before = await rowCounts(t);
    const too_long = await t.request('POST', call.path, { token: t.adminToken, body: call.body, idempotencyKey: 'k'.repeat(256) });
    expectProblem(too_long, 400, 'idempotency_key_invalid');
    expect(await rowCounts(t)).toEqual(before);

    const longest = await t.request('POST', call.path, { token: t.adminToken, body: call.body, idempotencyKey: `${newKey()}-`.padEnd(255, 'k') });
    expect(longest.status, JSON.stringify(longest.body)).toBe(call.status);
    expect((await rowCounts(t)).transfers).toBe(before.transfers + call.writes);
  });

  it('the same key and body replay the first response with Idempotency-Replayed, writing once', async () => {
    const call = await prepare();
    const key = newKey();
    const before = await rowCounts(t);
    const first = await t.request('POST', call.path, { token: t.adminToken, body: call.body, idempotencyKey: key });
    expect(first.status, JSON.stringify(first.body)).toBe(call.status);
    expect(first.headers.get('idempotency-replayed')).toBeNull();
    const after_first = await rowCounts(t);
    expect(after_first.transfers).toBe(before.transfers + call.writes);

    const again = await t.request('POST', call.path, { token: t.adminToken, body: call.body, idempotencyKey: key });
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await rowCounts(t)).toEqual(after_first);
  });

  it('the same key with another body is 422 idempotency_key_reused and writes nothing', async () => {
    const call = await prepare();
    const key = newKey();
    const first = await t.request('POST', call.path, { token: t.adminToken, body: call.body, idempotencyKey: key });
    expect(first.status, JSON.stringify(first.body)).toBe(call.status);
    const before = await rowCounts(t);
    const reused = await t.request('POST', call.path, { token: t.adminToken, body: call.other_body, idempotencyKey: key });
    expectProblem(reused, 422, 'idempotency_key_reused');
    expect(await rowCounts(t)).toEqual(before);
  });
});

describe('idempotency keys', () => {
  it('are scoped per caller: two coordinators using the same key each get their own transfer', async () => {
    const [alice, bob] = [await t.createStaff('coordinator', [currency_id]), await t.createStaff('coordinator', [currency_id])];
    const key = newKey();
    const body = { debit_account: wallet, credit_account: shop, amount: '1.25', code: 'adjustment', memo: 'correction' };
    const before = await rowCounts(t);
    const by_alice = await t.request('POST', '/api/v1/currencies/IDM/transfers', { token: alice.token, body, idempotencyKey: key });
    const by_bob = await t.request('POST', '/api/v1/currencies/IDM/transfers', { token: bob.token, body, idempotencyKey: key });
    const by_admin = await t.request('POST', '/api/v1/currencies/IDM/transfers', { token: t.adminToken, body, idempotencyKey: key });
    for (const reply of [by_alice, by_bob, by_admin]) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);
      expect(reply.headers.get('idempotency-replayed')).toBeNull();
    }
    expect(new Set([by_alice.body.id, by_bob.body.id, by_admin.body.id]).size).toBe(3);
    expect((await rowCounts(t)).transfers).toBe(before.transfers + 3);
    // And each caller's replay is its own.
    const alice_again = await t.request('POST', '/api/v1/currencies/IDM/transfers', { token: alice.token, body, idempotencyKey: key });
    expect(alice_again.body).toEqual(by_alice.body);
    expect(alice_again.headers.get('idempotency-replayed')).toBe('true');
  });

  it('a failed request (422 insufficient funds) is not recorded: the same key succeeds after funding', async () => {
    const empty = await openAccount(t, 'IDM', 'wallet', 'Empty wallet');
    const key = newKey();
    const body = { debit_account: empty, credit_account: shop, amount: '5.00', code: 'adjustment', memo: 'correction' };
    const before = await rowCounts(t);
    const refused = await t.request('POST', '/api/v1/currencies/IDM/transfers', { token: t.adminToken, body, idempotencyKey: key });
    expectProblem(refused, 422, 'insufficient_funds');
    expect(await rowCounts(t)).toEqual(before);
    expect(await keyRecorded(t.adminToken, key)).toBe(false);

    await issue(t, 'IDM', empty, '5.00');
    const retried = await t.request('POST', '/api/v1/currencies/IDM/transfers', { token: t.adminToken, body, idempotencyKey: key });
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.headers.get('idempotency-replayed')).toBeNull();
    expect(await keyRecorded(t.adminToken, key)).toBe(true);
    const [row] = await t.sql<{ balance: bigint }[]>`SELECT credits_posted - debits_posted AS balance FROM accounts WHERE id = ${empty}`;
    expect(row?.balance).toBe(0n);
  });

  it('20 concurrent requests with the same key apply exactly once; the others replay or get 409 in flight', async () => {
    const key = newKey();
    const body = { debit_account: wallet, credit_account: shop, amount: '0.01', code: 'adjustment', memo: 'concurrent' };
    const before = await rowCounts(t);
    const replies: Reply[] = await Promise.all(Array.from({ length: 20 }, () =>
      t.request('POST', '/api/v1/currencies/IDM/transfers', { token: t.adminToken, body, idempotencyKey: key })));

    const created = replies.filter((r) => r.status === 201);
    const in_flight = replies.filter((r) => r.status === 409);
    expect(created.length + in_flight.length, JSON.stringify(replies.map((r) => [r.status, r.body]))).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created.filter((r) => r.headers.get('idempotency-replayed') === null)).toHaveLength(1);
    const ids = new Set(created.map((r) => r.body.id as string));
    expect(ids.size).toBe(1);
    for (const r of created) expect(r.body).toEqual(created[0]?.body);
    for (const r of in_flight) expectProblem(r, 409, 'idempotency_key_in_flight');

    const after = await rowCounts(t);
    expect(after.transfers).toBe(before.transfers + 1);
    expect(after.entries).toBe(before.entries + 2);
    const rows = await t.sql`SELECT id FROM transfers WHERE memo = 'concurrent'`;
    expect(rows.map((r) => r.id)).toEqual([...ids]);
  });

  it('replays survive a restart: a second app on the same database replays the first response', async () => {
    const key = newKey();
    const body = { debit_account: wallet, credit_account: shop, amount: '7.00', code: 'adjustment', memo: 'correction' };
    const first = await t.request('POST', '/api/v1/currencies/IDM/transfers', { token: t.adminToken, body, idempotencyKey: key });
    expect(first.status).toBe(201);
    const before = await rowCounts(t);

    // The restarted service keeps its database and its signing key, so the session token stays valid.
    const restarted = await createTestApp({}, { database_url: t.database_url, keys: t.deps.keys });
    try {
      const replay = await restarted.request('POST', '/api/v1/currencies/IDM/transfers', { token: t.adminToken, body, idempotencyKey: key });
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(first.body);
      expect(replay.headers.get('idempotency-replayed')).toBe('true');
      const reused = await restarted.request('POST', '/api/v1/currencies/IDM/transfers', {
        token: t.adminToken, body: { ...body, amount: '8.00' }, idempotencyKey: key,
      });
      expectProblem(reused, 422, 'idempotency_key_reused');
    } finally {
      await restarted.close();
    }
    // The restarted app's own admin login is the only new row.
    expect(await rowCounts(t)).toEqual({ ...before, users: before.users + 1 });
    expect((await t.request('GET', '/livez')).status).toBe(200);
  });
});
