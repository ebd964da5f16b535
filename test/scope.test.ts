/** Issue #2: a coordinator sees and moves nothing outside their own currencies. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, openAccount, rowCounts, transfer } from './support/http-fixtures.js';

let t: TestApp;
/** Coordinator of AAA only. */
let token_a: string;
const a = { programme: '', wallet: '' };
const b = { programme: '', wallet: '', shop: '', posted: '', pending_to_post: '', pending_to_void: '' };

beforeAll(async () => {
  t = await createTestApp();
  const currency_a = await createCurrency(t, 'AAA', 2);
  await createCurrency(t, 'BBB', 2);
  token_a = (await t.createStaff('coordinator', [currency_a.id])).token;

  a.programme = await openAccount(t, 'AAA', 'programme', 'A programme');
  a.wallet = await openAccount(t, 'AAA', 'wallet', 'A wallet');
  await issue(t, 'AAA', a.programme, '100.00');

  b.programme = await openAccount(t, 'BBB', 'programme', 'B programme');
  b.wallet = await openAccount(t, 'BBB', 'wallet', 'B wallet');
  b.shop = await openAccount(t, 'BBB', 'shop', 'B shop');
  await issue(t, 'BBB', b.programme, '100.00');
  b.posted = (await transfer(t, 'BBB', b.programme, b.wallet, '10.00')).id as string;
  b.pending_to_post = (await transfer(t, 'BBB', b.wallet, b.shop, '1.00', { pending: true, transfer_code: 'adjustment' })).id as string;
  b.pending_to_void = (await transfer(t, 'BBB', b.wallet, b.shop, '1.00', { pending: true, transfer_code: 'adjustment' })).id as string;
});

afterAll(async () => {
  await t?.close();
});

/** Everything stored about accounts and transfers, to show an attempt changed nothing. */
async function snapshot() {
  const accounts = await t.sql`SELECT id, status, debits_posted, credits_posted, debits_pending, credits_pending FROM accounts ORDER BY id`;
  return { counts: await rowCounts(t), accounts: accounts.map((r) => ({ ...r })) };
}

function expectHidden(reply: Reply): void {
  expect([403, 404], JSON.stringify(reply.body)).toContain(reply.status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  // Nothing about B leaks into the answer beyond what the caller already sent.
  expect(JSON.stringify(reply.body)).not.toMatch(/B programme|B wallet|B shop|balance/);
}

describe('a coordinator of currency AAA', () => {
  it('can work in AAA (control: the token and the routes work)', async () => {
    expect((await t.request('GET', '/api/v1/currencies/AAA', { token: token_a })).status).toBe(200);
    expect((await t.request('GET', `/api/v1/accounts/${a.wallet}`, { token: token_a })).status).toBe(200);
    const moved = await t.request('POST', '/api/v1/currencies/AAA/transfers', {
      token: token_a, idempotencyKey: newKey(),
      body: { debit_account: a.programme, credit_account: a.wallet, amount: '1.00', code: 'reward' },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(201);
  });

  it('gets 403 or 404 for every read of BBB', async () => {
    const before = await snapshot();
    const paths = [
      '/api/v1/currencies/BBB',
      '/api/v1/currencies/BBB/supply',
      '/api/v1/currencies/BBB/verify',
      '/api/v1/currencies/BBB/accounts',
      '/api/v1/currencies/BBB/accounts?kind=wallet&q=B',
      `/api/v1/accounts/${b.wallet}`,
      `/api/v1/accounts/${b.programme}/entries`,
    ];
    for (const path of paths) expectHidden(await t.request('GET', path, { token: token_a }));
    expect(await snapshot()).toEqual(before);
  });

  it('gets 403 or 404 for every write in BBB, and nothing is written', async () => {
    const before = await snapshot();
    const item = { debit_account: b.programme, credit_account: b.wallet, amount: '1.00', code: 'reward' };
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/currencies/BBB/accounts', { kind: 'wallet', name: 'Sneaky' }],
      ['POST', '/api/v1/currencies/BBB/transfers', item],
      ['POST', '/api/v1/currencies/BBB/transfers/batch', { atomic: false, transfers: [item] }],
      ['POST', '/api/v1/currencies/BBB/issue', { to_account: b.wallet, amount: '50.00' }],
      ['PATCH', `/api/v1/accounts/${b.wallet}`, { status: 'frozen', reason: 'not yours' }],
    ];
    for (const [method, path, body] of attempts) {
      expectHidden(await t.request(method, path, { token: token_a, idempotencyKey: newKey(), body }));
    }
    expect(await snapshot()).toEqual(before);
  });

  it('gets 404 for a BBB transfer, and cannot reverse, post or void it', async () => {
    const before = await snapshot();
    expectProblem(await t.request('GET', `/api/v1/transfers/${b.posted}`, { token: token_a }), 404, 'transfer_not_found');
    const attempts: Array<[string, unknown]> = [
      [`/api/v1/transfers/${b.posted}/reverse`, { memo: 'not mine' }],
      [`/api/v1/transfers/${b.pending_to_post}/post`, undefined],
      [`/api/v1/transfers/${b.pending_to_void}/void`, undefined],
    ];
    for (const [path, body] of attempts) {
      expectProblem(await t.request('POST', path, { token: token_a, idempotencyKey: newKey(), body }), 404, 'transfer_not_found');
    }
    expect(await snapshot()).toEqual(before);
    // The admin does see them, so the 404 was about scope, not existence.
    expect((await t.request('GET', `/api/v1/transfers/${b.posted}`, { token: t.adminToken })).status).toBe(200);
    expect((await t.request('GET', `/api/v1/accounts/${b.wallet}`, { token: t.adminToken })).status).toBe(200);
  });

  it('cannot pull BBB accounts into an AAA transfer or issue', async () => {
    const before = await snapshot();
    const in_a = await t.request('POST', '/api/v1/currencies/AAA/transfers', {
      token: token_a, idempotencyKey: newKey(),
      body: { debit_account: b.wallet, credit_account: a.wallet, amount: '1.00', code: 'adjustment', memo: 'correction' },
    });
    expect(in_a.status).toBe(422);
    expect(['cross_currency', 'account_not_found']).toContain(in_a.body.code);
    const issued = await t.request('POST', '/api/v1/currencies/AAA/issue', {
      token: token_a, idempotencyKey: newKey(), body: { to_account: b.wallet, amount: '1.00' },
    });
    expect(issued.status).toBe(422);
    expect(await snapshot()).toEqual(before);
  });

  it('lists only AAA under /currencies, while the admin lists both', async () => {
    const mine = await t.request('GET', '/api/v1/currencies', { token: token_a });
    expect(mine.status).toBe(200);
    expect((mine.body.items as Array<{ code: string }>).map((c) => c.code)).toEqual(['AAA']);
    const all = await t.request('GET', '/api/v1/currencies', { token: t.adminToken });
    expect((all.body.items as Array<{ code: string }>).map((c) => c.code)).toEqual(['AAA', 'BBB']);
  });

  it('answers the same for a BBB account as for one that does not exist', async () => {
    const foreign = await t.request('GET', `/api/v1/accounts/${b.wallet}`, { token: token_a });
    const missing = await t.request('GET', '/api/v1/accounts/00000000-0000-4000-8000-000000000000', { token: token_a });
    expect(foreign.status).toBe(missing.status);
    expect(foreign.body.code).toBe(missing.body.code);
  });
});
