/**
 * Ledger semantics over HTTP against a real PostgreSQL: currencies and supply, transfers and
 * statements, refusals that write nothing, reversals, pending transfers, batches, verify.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';

const api = '/api/v1';
let t: TestApp;

// Helpers ----------------------------------------------------------------------------------

interface CurrencyJson {
  id: number;
  code: string;
  scale: number;
  issuance_account: string;
  [field: string]: unknown;
}

/** POST as the admin, with a fresh Idempotency-Key unless `key` is given (null: none). */
function post(path: string, body?: unknown, key: string | null = newKey()): Promise<Reply> {
  return t.request('POST', `${api}${path}`, { token: t.adminToken, body, idempotencyKey: key ?? undefined });
}

function get(path: string): Promise<Reply> {
  return t.request('GET', `${api}${path}`, { token: t.adminToken });
}

function patch(path: string, body: unknown): Promise<Reply> {
  return t.request('PATCH', `${api}${path}`, { token: t.adminToken, body });
}

function expectProblem(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.code }).toEqual({ status, code });
  expect(reply.headers.get('content-type')).toContain('application/problem+json');
}

async function createCurrency(input: Record<string, unknown>): Promise<CurrencyJson> {
  const reply = await post('/currencies', { name: `Coin ${String(input.code)}`, ...input }, null);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body as CurrencyJson;
}

async function openAccount(code: string, kind: 'programme' | 'shop' | 'wallet', name: string): Promise<string> {
  const reply = await post(`/currencies/${code}/accounts`, { kind, name }, null);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
}

async function issue(code: string, to_account: string, amount: string): Promise<Reply['body']> {
  const reply = await post(`/currencies/${code}/issue`, { to_account, amount });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

function transfer(code: string, debit_account: string, credit_account: string, amount: string,
  extra: Record<string, unknown> = {}): Promise<Reply> {
  return post(`/currencies/${code}/transfers`, { debit_account, credit_account, amount, code: 'adjustment', memo: 'correction', ...extra });
}

async function transferOk(code: string, debit: string, credit: string, amount: string,
  extra: Record<string, unknown> = {}): Promise<Reply['body']> {
  const reply = await transfer(code, debit, credit, amount, extra);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

async function accountOf(id: string): Promise<Reply['body']> {
  const reply = await get(`/accounts/${id}`);
  expect(reply.status).toBe(200);
  return reply.body;
}

async function balanceOf(id: string): Promise<string> {
  return (await accountOf(id)).balance as string;
}

/** Minor units of a decimal string written with exactly the scale's decimals ("-12.50" → -1250n). */
function minor(amount: string): bigint {
  return BigInt(amount.replace('.', ''));
}

interface Snapshot {
  counts: { transfers: bigint; entries: bigint; idempotency_keys: bigint; accounts: bigint };
  accounts: unknown[];
}

/** Everything a ledger request could write: transfers, entries, balances, idempotency records. */
async function snapshot(): Promise<Snapshot> {
  const [counts] = await t.sql<Snapshot['counts'][]>`
    SELECT (SELECT count(*) FROM transfers) AS transfers, (SELECT count(*) FROM entries) AS entries,
           (SELECT count(*) FROM idempotency_keys) AS idempotency_keys, (SELECT count(*) FROM accounts) AS accounts`;
  const accounts = await t.sql`
    SELECT id, status, credits_posted, debits_posted, credits_pending, debits_pending, version
    FROM accounts ORDER BY id`;
  return { counts: counts!, accounts };
}

/** Runs `request` and checks that it was rejected with `status`/`code` and wrote nothing. */
async function expectRejected(request: () => Promise<Reply>, status: number, code: string): Promise<Reply> {
  const before = await snapshot();
  const reply = await request();
  expectProblem(reply, status, code);
  expect(await snapshot()).toEqual(before);
  return reply;
}

/** Walks a paginated list with `limit`, returning every page's items. */
async function walk(path: string, limit: number): Promise<{ items: Array<Record<string, unknown>>; pages: number }> {
  const items: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  let pages = 0;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const page: Reply = await get(`${path}${separator}limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.body.items);
    cursor = page.body.next_cursor;
    pages += 1;
    expect(pages).toBeLessThan(100);
  } while (cursor !== null);
  return { items, pages };
}

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t.close();
});

// Currencies, accounts, supply --------------------------------------------------------------

describe('currencies and accounts', () => {
  it('creating a currency makes exactly one issuance account, named by issuance_account', async () => {
    const currency = await createCurrency({ code: 'TOR', scale: 0, euro_per_unit: '0.10' });
    expect(currency).toMatchObject({ code: 'TOR', scale: 0, wallet_balance_max: null });
    expect(typeof currency.id).toBe('number');
    expect(Number(currency.euro_per_unit)).toBe(0.1);

    const rows = await t.sql<{ id: string }[]>`
      SELECT id FROM accounts WHERE currency_id = ${currency.id} AND kind = 'issuance'`;
    expect(rows.map((r) => r.id)).toEqual([currency.issuance_account]);

    const issuance = await accountOf(currency.issuance_account);
    expect(issuance).toMatchObject({ id: currency.issuance_account, currency: 'TOR', kind: 'issuance', balance: '0', status: 'active' });
    const listed = await get('/currencies/TOR/accounts?kind=issuance');
    expect(listed.body.items.map((a: { id: string }) => a.id)).toEqual([currency.issuance_account]);
  });

  it('a second currency with the same code is refused (409) and adds no issuance account', async () => {
    const before = await t.sql`SELECT count(*) AS n FROM accounts WHERE kind = 'issuance'`;
    const reply = await post('/currencies', { code: 'TOR', name: 'Again', scale: 2, euro_per_unit: '1' }, null);
    expectProblem(reply, 409, 'currency_exists');
    expect(await t.sql`SELECT count(*) AS n FROM accounts WHERE kind = 'issuance'`).toEqual(before);
    expect(await t.sql`SELECT count(*) AS n FROM currencies WHERE code = 'TOR'`).toEqual([{ n: 1n }]);
  });

  it('accounts of each kind open active with a zero balance, and list by kind', async () => {
    const ids = {
      programme: await openAccount('TOR', 'programme', 'Repair Café Rabot 2026'),
      shop: await openAccount('TOR', 'shop', 'Bakkerij Rabot'),
      wallet: await openAccount('TOR', 'wallet', 'Fatima'),
    };
    for (const [kind, id] of Object.entries(ids)) {
      expect(await accountOf(id)).toMatchObject({
        id, kind, currency: 'TOR', balance: '0', available: '0', status: 'active',
      });
      const listed = await get(`/currencies/TOR/accounts?kind=${kind}`);
      expect(listed.status).toBe(200);
      const items = listed.body.items as Array<{ id: string; kind: string }>;
      expect(items.map((a) => a.id)).toContain(id);
      expect(items.filter((a) => a.kind !== kind)).toEqual([]);
    }
  });

  it('an issuance account cannot be opened through the API (422, nothing written)', async () => {
    await expectRejected(() => post('/currencies/TOR/accounts', { kind: 'issuance', name: 'Second issuance' }, null),
      422, 'validation_failed');
  });

  it('issuing to a programme is a budget, to a wallet or shop an issue; to issuance it is refused', async () => {
    const currency = await createCurrency({ code: 'ISS', scale: 2, euro_per_unit: '1' });
    const programme = await openAccount('ISS', 'programme', 'Budget');
    const wallet = await openAccount('ISS', 'wallet', 'Wallet');
    const shop = await openAccount('ISS', 'shop', 'Shop');

    const budget = await issue('ISS', programme, '500');
    expect(budget).toMatchObject({
      code: 'budget', amount: '500.00', status: 'posted', currency: 'ISS',
      debit_account: currency.issuance_account, credit_account: programme,
    });
    expect(await issue('ISS', wallet, '20.5')).toMatchObject({ code: 'issue', amount: '20.50', credit_account: wallet });
    expect(await issue('ISS', shop, '1')).toMatchObject({ code: 'issue', amount: '1.00', credit_account: shop });
    expect(await balanceOf(currency.issuance_account)).toBe('-521.50');

    await expectRejected(() => post('/currencies/ISS/issue', { to_account: currency.issuance_account, amount: '1' }),
      422, 'same_account');
    await expectRejected(() => post('/currencies/ISS/issue', { to_account: randomUUID(), amount: '1' }),
      422, 'account_not_found');
  });

  it('supply adds up: issued − redeemed = programmes + wallets + shops; euro liability is exact', async () => {
    const currency = await createCurrency({ code: 'SUP', scale: 0, euro_per_unit: '0.10' });
    const programme = await openAccount('SUP', 'programme', 'Buurtbeheer');
    const wallet = await openAccount('SUP', 'wallet', 'Jan');
    const shop = await openAccount('SUP', 'shop', 'Kruidenier');

    const empty = await get('/currencies/SUP/supply');
    expect(empty.body).toEqual({
      issued: '0', in_programmes: '0', in_wallets: '0', in_shops: '0', redeemed: '0', circulating: '0', euro_liability: '0.00',
    });

    await issue('SUP', programme, '2000');
    await issue('SUP', wallet, '1000');
    await transferOk('SUP', programme, wallet, '234', { code: 'reward' });
    await transferOk('SUP', wallet, shop, '400');

    const first = await get('/currencies/SUP/supply');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      issued: '3000', in_programmes: '1766', in_wallets: '834', in_shops: '400', redeemed: '0',
      circulating: '1234', euro_liability: '123.40',
    });

    await transferOk('SUP', shop, currency.issuance_account, '34', { code: 'adjustment' });
    const second = (await get('/currencies/SUP/supply')).body as Record<string, string>;
    expect(second).toMatchObject({ issued: '3000', redeemed: '34', in_shops: '366', circulating: '1200', euro_liability: '120.00' });
    const value = (field: string) => minor(second[field] ?? 'missing');
    expect(value('issued') - value('redeemed')).toBe(value('in_programmes') + value('in_wallets') + value('in_shops'));
    expect(value('circulating')).toBe(value('in_wallets') + value('in_shops'));
    expect(minor(await balanceOf(currency.issuance_account))).toBe(-(value('issued') - value('redeemed')));
  });

  it('euro liability multiplies exactly at scale 2 (no float drift)', async () => {
    await createCurrency({ code: 'EXA', scale: 2, euro_per_unit: '0.1' });
    const wallet = await openAccount('EXA', 'wallet', 'W');
    // 0.1 + 0.2 style amounts: 1234.57 × 0.1 = 123.457 → 123.46 (half even).
    await issue('EXA', wallet, '1234.57');
    const supply = await get('/currencies/EXA/supply');
    expect(supply.body).toMatchObject({ in_wallets: '1234.57', circulating: '1234.57', euro_liability: '123.46' });
  });
});

// Transfers and statements -------------------------------------------------------------------

describe('transfers and statements', () => {
  let cur: CurrencyJson;
  let programme: string;
  let wallet: string;
  let shop: string;

  beforeAll(async () => {
    cur = await createCurrency({ code: 'CNT', scale: 2, euro_per_unit: '1' });
    programme = await openAccount('CNT', 'programme', 'Programme CNT');
    wallet = await openAccount('CNT', 'wallet', 'Wallet CNT');
    shop = await openAccount('CNT', 'shop', 'Shop CNT');
    await issue('CNT', programme, '1000');
  });

  it('amounts are written with exactly scale decimals at scale 2', async () => {
    const created = await transferOk('CNT', programme, wallet, '12.5', { code: 'reward', memo: 'repair café' });
    expect(created).toMatchObject({
      currency: 'CNT', debit_account: programme, credit_account: wallet, amount: '12.50', code: 'reward',
      memo: 'repair café', status: 'posted',
    });
    expect(created.reverses).toBeUndefined();
    const again = await get(`/transfers/${created.id}`);
    expect(again.body).toEqual(created);
    expect(await accountOf(wallet)).toMatchObject({ balance: '12.50', available: '12.50', pending_debits: '0.00' });
    expect((await transferOk('CNT', programme, wallet, '3', { code: 'reward' })).amount).toBe('3.00');
    expect((await transferOk('CNT', programme, wallet, '0.01', { code: 'reward' })).amount).toBe('0.01');
    expect(await balanceOf(wallet)).toBe('15.51');
  });

  it('amounts are written without decimals at scale 0', async () => {
    await createCurrency({ code: 'WHL', scale: 0, euro_per_unit: '0.10' });
    const p = await openAccount('WHL', 'programme', 'P');
    const w = await openAccount('WHL', 'wallet', 'W');
    expect((await issue('WHL', p, '100')).amount).toBe('100');
    expect((await transferOk('WHL', p, w, '12', { code: 'reward' })).amount).toBe('12');
    expect(await balanceOf(w)).toBe('12');
    expect(await balanceOf(p)).toBe('88');
    const entries = await get(`/accounts/${w}/entries`);
    expect(entries.body.items[0]).toMatchObject({ amount: '12', balance_after: '12' });
    // More decimals than the scale allows is refused.
    await expectRejected(() => transfer('WHL', p, w, '12.5'), 422, 'validation_failed');
    await expectRejected(() => transfer('WHL', p, w, '12.0'), 422, 'validation_failed');
  });

  it.each([
    ['too many decimals', '1.234'], ['zero', '0'], ['zero with decimals', '0.00'], ['negative', '-1'],
    ['exponent', '1e3'], ['a JSON number', 12], ['empty', ''], ['too large', '99999999999999999'],
  ])('a transfer amount that is %s is refused with 422 and writes nothing', async (_name, amount) => {
    const reply = await expectRejected(
      () => post('/currencies/CNT/transfers', { debit_account: programme, credit_account: wallet, amount, code: 'payment' }),
      422, 'validation_failed');
    expect(reply.body.errors.map((e: { path: string }) => e.path)).toContain('amount');
  });

  it('a transfer without Idempotency-Key is refused (400) and writes nothing', async () => {
    await expectRejected(() => post('/currencies/CNT/transfers',
      { debit_account: programme, credit_account: wallet, amount: '1', code: 'payment' }, null),
    400, 'idempotency_key_missing');
  });

  it('a client-chosen transfer id is used at most once (409 already_exists, nothing written)', async () => {
    const id = randomUUID();
    const first = await transferOk('CNT', programme, wallet, '1.00', { id, code: 'reward' });
    expect(first.id).toBe(id);
    await expectRejected(() => transfer('CNT', programme, wallet, '2.00', { id, code: 'reward' }), 409, 'already_exists');
    expect((await get(`/transfers/${id}`)).body.amount).toBe('1.00');
  });

  it('a client-chosen transfer id of another currency is not used again (409 already_exists)', async () => {
    await createCurrency({ code: 'IDX', scale: 2, euro_per_unit: '1' });
    const p = await openAccount('IDX', 'programme', 'P');
    const w = await openAccount('IDX', 'wallet', 'W');
    await issue('IDX', p, '10');
    const id = randomUUID();
    await transferOk('CNT', programme, wallet, '1.00', { id, code: 'reward' });
    await expectRejected(() => transfer('IDX', p, w, '2.00', { id, code: 'reward' }), 409, 'already_exists');
    expect((await get(`/transfers/${id}`)).body).toMatchObject({ currency: 'CNT', amount: '1.00' });
  });

  it('the same Idempotency-Key and body replay the first transfer without writing again', async () => {
    const key = newKey();
    const body = { debit_account: programme, credit_account: wallet, amount: '2', code: 'reward' };
    const first = await post('/currencies/CNT/transfers', body, key);
    expect(first.status).toBe(201);
    const before = await snapshot();
    const second = await post('/currencies/CNT/transfers', body, key);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await snapshot()).toEqual(before);
  });

  it('entries are newest first with signed amount, running balance and counterparty', async () => {
    const w = await openAccount('CNT', 'wallet', 'Statement wallet');
    const a = await transferOk('CNT', programme, w, '20.00', { code: 'reward', memo: 'hour 1' });
    const b = await transferOk('CNT', w, shop, '7.25', { memo: 'bread' });
    const c = await transferOk('CNT', programme, w, '0.75', { code: 'reward' });
    const d = await transferOk('CNT', w, shop, '13.50');

    const reply = await get(`/accounts/${w}/entries`);
    expect(reply.status).toBe(200);
    expect(reply.body.next_cursor).toBeNull();
    const strip = (e: Record<string, unknown>) => ({ ...e, created_at: typeof e.created_at });
    expect(reply.body.items.map(strip)).toEqual([
      { transfer_id: d.id, amount: '-13.50', balance_after: '0.00', code: 'adjustment', memo: 'correction', counterparty: { id: shop, name: 'Shop CNT', kind: 'shop' }, activity: null, refund_of: null, reverses: null, reversed: false, on_behalf: null, for_other: false, created_at: 'string' },
      { transfer_id: c.id, amount: '0.75', balance_after: '13.50', code: 'reward', memo: 'correction', counterparty: { id: programme, name: 'Programme CNT', kind: 'programme' }, activity: null, refund_of: null, reverses: null, reversed: false, on_behalf: null, for_other: false, created_at: 'string' },
      { transfer_id: b.id, amount: '-7.25', balance_after: '12.75', code: 'adjustment', memo: 'bread', counterparty: { id: shop, name: 'Shop CNT', kind: 'shop' }, activity: null, refund_of: null, reverses: null, reversed: false, on_behalf: null, for_other: false, created_at: 'string' },
      { transfer_id: a.id, amount: '20.00', balance_after: '20.00', code: 'reward', memo: 'hour 1', counterparty: { id: programme, name: 'Programme CNT', kind: 'programme' }, activity: null, refund_of: null, reverses: null, reversed: false, on_behalf: null, for_other: false, created_at: 'string' },
    ]);
    // Running balance: each balance_after is the one below it plus its amount.
    const items = reply.body.items as Array<{ amount: string; balance_after: string }>;
    for (let i = 0; i < items.length - 1; i++) {
      expect(minor(items[i]!.balance_after)).toBe(minor(items[i + 1]!.balance_after) + minor(items[i]!.amount));
    }
    expect(await balanceOf(w)).toBe('0.00');
    // The shop sees the same transfers from the other side, with the wallet as counterparty.
    const shopEntries = await get(`/accounts/${shop}/entries?limit=2`);
    expect(shopEntries.body.items.map((e: { transfer_id: string; amount: string; counterparty: unknown }) =>
      [e.transfer_id, e.amount, e.counterparty])).toEqual([
      [d.id, '13.50', { id: w, name: 'Statement wallet', kind: 'wallet' }],
      [b.id, '7.25', { id: w, name: 'Statement wallet', kind: 'wallet' }],
    ]);
  });

  it('entries pagination with limit and next_cursor walks every entry exactly once', async () => {
    const w = await openAccount('CNT', 'wallet', 'Paged wallet');
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++) ids.push((await transferOk('CNT', programme, w, `${i}.00`, { code: 'reward' })).id);

    const { items, pages } = await walk(`/accounts/${w}/entries`, 3);
    expect(pages).toBe(3);
    expect(items.map((e) => e.transfer_id)).toEqual([...ids].reverse());
    expect(items.map((e) => e.balance_after)).toEqual(['28.00', '21.00', '15.00', '10.00', '6.00', '3.00', '1.00']);

    // A limit equal to the count gives one page and no cursor.
    const exact = await get(`/accounts/${w}/entries?limit=7`);
    expect(exact.body.items).toHaveLength(7);
    expect(exact.body.next_cursor).toBeNull();
  });

  it('accounts pagination walks every account exactly once, in name order', async () => {
    await createCurrency({ code: 'PAG', scale: 2, euro_per_unit: '1' });
    // Equal names in different case tie on lower(name): the id breaks the tie.
    const names = ['anna', 'Anna', 'ANNA', 'Bert', 'carla', 'Dirk', 'emma', 'Émile', 'Frank', 'anna'];
    const created = new Map<string, string>();
    for (const name of names) created.set(await openAccount('PAG', 'wallet', name), name);

    const { items, pages } = await walk('/currencies/PAG/accounts?kind=wallet', 3);
    expect(pages).toBe(4);
    expect(items).toHaveLength(names.length);
    expect(new Set(items.map((a) => a.id))).toEqual(new Set(created.keys()));
    const order = items.map((a) => String(a.name).toLowerCase());
    expect(order.slice(0, 4)).toEqual(['anna', 'anna', 'anna', 'anna']);

    // Everything, the issuance account included, with limit 1.
    const every = await t.sql<{ id: string }[]>`
      SELECT a.id FROM accounts a JOIN currencies c ON c.id = a.currency_id WHERE c.code = 'PAG'`;
    expect(every.length).toBeGreaterThan(names.length);
    const all = await walk('/currencies/PAG/accounts', 1);
    expect(all.pages).toBe(every.length);
    expect(all.items.map((a) => a.id).sort()).toEqual(every.map((r) => r.id).sort());

    // The q filter combined with paging.
    const annas = await walk('/currencies/PAG/accounts?q=ann', 2);
    expect(annas.items.map((a) => a.name).sort()).toEqual(['ANNA', 'Anna', 'anna', 'anna']);
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['JSON of the wrong shape', Buffer.from(JSON.stringify({ n: 1 })).toString('base64url')],
    ['a number out of range', Buffer.from(JSON.stringify('99999999999999999999')).toString('base64url')],
  ])('a bogus cursor (%s) is refused with 422 on entries and accounts', async (_name, cursor) => {
    const entries = await get(`/accounts/${wallet}/entries?cursor=${encodeURIComponent(cursor)}`);
    expectProblem(entries, 422, 'validation_failed');
    const accounts = await get(`/currencies/CNT/accounts?cursor=${encodeURIComponent(cursor)}`);
    expectProblem(accounts, 422, 'validation_failed');
  });

  it('the cursor of one list does not fit the other (422)', async () => {
    const page = await get(`/accounts/${programme}/entries?limit=1`);
    expect(page.body.next_cursor).toEqual(expect.any(String));
    const accounts = await get(`/currencies/CNT/accounts?cursor=${encodeURIComponent(page.body.next_cursor)}`);
    expectProblem(accounts, 422, 'validation_failed');
  });

  it('a limit outside 1..500 is refused (422)', async () => {
    expectProblem(await get(`/accounts/${wallet}/entries?limit=0`), 422, 'validation_failed');
    expectProblem(await get(`/currencies/CNT/accounts?limit=501`), 422, 'validation_failed');
  });

  it('the issuance account itself keeps a statement of what it issued', async () => {
    const entries = await get(`/accounts/${cur.issuance_account}/entries`);
    expect(entries.body.items).toEqual([
      expect.objectContaining({ amount: '-1000.00', balance_after: '-1000.00', code: 'budget', counterparty: { id: programme, name: 'Programme CNT', kind: 'programme' } }),
    ]);
  });
});

// Refusals ----------------------------------------------------------------------------------

describe('refused transfers write nothing', () => {
  let cur: CurrencyJson;
  let other: CurrencyJson;
  let programme: string;
  let wallet: string;
  let shop: string;
  let otherWallet: string;

  beforeAll(async () => {
    cur = await createCurrency({ code: 'REF', scale: 2, euro_per_unit: '1', wallet_balance_max: '100.00' });
    other = await createCurrency({ code: 'OTH', scale: 2, euro_per_unit: '1' });
    programme = await openAccount('REF', 'programme', 'Programme REF');
    wallet = await openAccount('REF', 'wallet', 'Wallet REF');
    shop = await openAccount('REF', 'shop', 'Shop REF');
    otherWallet = await openAccount('OTH', 'wallet', 'Wallet OTH');
    await issue('REF', programme, '1000');
    await issue('OTH', otherWallet, '50');
    await transferOk('REF', programme, wallet, '30.00', { code: 'reward' });
  });

  it('more than the balance → 422 insufficient_funds naming the account, nothing written', async () => {
    const reply = await expectRejected(() => transfer('REF', wallet, shop, '30.01'), 422, 'insufficient_funds');
    expect(reply.body.account_id).toBe(wallet);
    expect(reply.body.detail).toContain('30.00');
    expect(await balanceOf(wallet)).toBe('30.00');
    expect(await balanceOf(shop)).toBe('0.00');
    // Exactly the balance is fine.
    await transferOk('REF', wallet, shop, '30.00');
    expect(await balanceOf(wallet)).toBe('0.00');
    await expectRejected(() => transfer('REF', wallet, shop, '0.01'), 422, 'insufficient_funds');
  });

  it('a rejected request records no idempotency key: the same key succeeds once funds are there', async () => {
    const key = newKey();
    const body = { debit_account: wallet, credit_account: shop, amount: '5.00', code: 'adjustment', memo: 'correction' };
    await expectRejected(() => post('/currencies/REF/transfers', body, key), 422, 'insufficient_funds');
    await transferOk('REF', programme, wallet, '5.00', { code: 'reward' });
    const retried = await post('/currencies/REF/transfers', body, key);
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotency-replayed')).toBeNull();
    expect(await balanceOf(wallet)).toBe('0.00');
  });

  it('a wallet above wallet_balance_max → 422 balance_max_exceeded, by transfer or issue; the max itself is fine', async () => {
    const w = await openAccount('REF', 'wallet', 'Capped wallet');
    await issue('REF', w, '80');
    const reply = await expectRejected(() => transfer('REF', programme, w, '20.01', { code: 'reward' }), 422, 'balance_max_exceeded');
    expect(reply.body.account_id).toBe(w);
    await expectRejected(() => post('/currencies/REF/issue', { to_account: w, amount: '20.01' }), 422, 'balance_max_exceeded');
    await transferOk('REF', programme, w, '20.00', { code: 'reward' });
    expect(await balanceOf(w)).toBe('100.00');
    await expectRejected(() => transfer('REF', programme, w, '0.01', { code: 'reward' }), 422, 'balance_max_exceeded');
    // Shops and programmes have no such cap.
    await transferOk('REF', programme, shop, '150.00', { code: 'adjustment' });
  });

  it('a pending credit counts toward wallet_balance_max', async () => {
    const w = await openAccount('REF', 'wallet', 'Pending capped wallet');
    await transferOk('REF', programme, w, '90.00', { code: 'reward', pending: true });
    await expectRejected(() => transfer('REF', programme, w, '10.01', { code: 'reward' }), 422, 'balance_max_exceeded');
  });

  it('a transfer to itself → 422 same_account, nothing written', async () => {
    await expectRejected(() => transfer('REF', programme, programme, '1.00'), 422, 'same_account');
  });

  it('an account of another currency → 422 cross_currency, as debit, as credit, and for issue', async () => {
    const otherBefore = await balanceOf(otherWallet);
    await expectRejected(() => transfer('REF', programme, otherWallet, '1.00'), 422, 'cross_currency');
    await expectRejected(() => transfer('REF', otherWallet, shop, '1.00'), 422, 'cross_currency');
    // Both accounts of the other currency, posted under REF.
    await expectRejected(() => transfer('REF', otherWallet, other.issuance_account, '1.00'), 422, 'cross_currency');
    await expectRejected(() => post('/currencies/REF/issue', { to_account: otherWallet, amount: '1' }), 422, 'cross_currency');
    expect(await balanceOf(otherWallet)).toBe(otherBefore);
  });

  it('an unknown account → 422 account_not_found, nothing written', async () => {
    await expectRejected(() => transfer('REF', programme, randomUUID(), '1.00'), 422, 'account_not_found');
  });

  it('an unknown currency → 404 currency_not_found, nothing written', async () => {
    await expectRejected(() => transfer('NOPE', programme, shop, '1.00'), 404, 'currency_not_found');
  });

  it('a frozen account is refused as debit and credit (422 account_frozen); unfreezing works again', async () => {
    const w = await openAccount('REF', 'wallet', 'Freezable');
    await transferOk('REF', programme, w, '10.00', { code: 'reward' });
    const frozen = await patch(`/accounts/${w}`, { status: 'frozen', reason: 'checking a complaint' });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ id: w, status: 'frozen', balance: '10.00' });

    const asDebit = await expectRejected(() => transfer('REF', w, shop, '1.00'), 422, 'account_frozen');
    expect(asDebit.body.account_id).toBe(w);
    const asCredit = await expectRejected(() => transfer('REF', programme, w, '1.00', { code: 'reward' }), 422, 'account_frozen');
    expect(asCredit.body.account_id).toBe(w);
    await expectRejected(() => post('/currencies/REF/issue', { to_account: w, amount: '1' }), 422, 'account_frozen');
    await expectRejected(() => transfer('REF', w, shop, '1.00', { pending: true }), 422, 'account_frozen');

    const active = await patch(`/accounts/${w}`, { status: 'active' });
    expect(active.body.status).toBe('active');
    await transferOk('REF', w, shop, '1.00');
    await transferOk('REF', programme, w, '1.00', { code: 'reward' });
    expect(await balanceOf(w)).toBe('10.00');
  });

  it('a closed account refuses transfers (422 account_closed) and stays closed', async () => {
    const w = await openAccount('REF', 'wallet', 'Closable');
    await transferOk('REF', programme, w, '5.00', { code: 'reward' });
    await transferOk('REF', w, programme, '5.00');
    expect((await patch(`/accounts/${w}`, { status: 'closed' })).body.status).toBe('closed');
    await expectRejected(() => transfer('REF', w, shop, '1.00'), 422, 'account_closed');
    await expectRejected(() => transfer('REF', programme, w, '1.00', { code: 'reward' }), 422, 'account_closed');

    const reopen = await patch(`/accounts/${w}`, { status: 'active' });
    expectProblem(reopen, 422, 'account_closed');
    const unfreeze = await patch(`/accounts/${w}`, { status: 'frozen', reason: 'checking a complaint' });
    expectProblem(unfreeze, 422, 'account_closed');
    expect((await accountOf(w)).status).toBe('closed');
    expect((await t.sql`SELECT status FROM accounts WHERE id = ${w}`)[0]).toEqual({ status: 'closed' });
  });

  it('the issuance account cannot be frozen (422)', async () => {
    const reply = await patch(`/accounts/${cur.issuance_account}`, { status: 'frozen', reason: 'not allowed' });
    expectProblem(reply, 422, 'validation_failed');
    expect((await accountOf(cur.issuance_account)).status).toBe('active');
  });

  it('reversal code and unknown codes cannot be posted directly (422); a gift is only a wallet\'s', async () => {
    await expectRejected(() => transfer('REF', programme, shop, '1.00', { code: 'reversal' }), 422, 'validation_failed');
    await expectRejected(() => transfer('REF', programme, shop, '1.00', { code: 'present' }), 422, 'validation_failed');
    await expectRejected(() => transfer('REF', programme, shop, '1.00', { code: 'gift' }), 422, 'code_not_allowed');
  });
});

// Reversals ----------------------------------------------------------------------------------

describe('reversals', () => {
  let programme: string;
  let shop: string;

  beforeAll(async () => {
    await createCurrency({ code: 'REV', scale: 2, euro_per_unit: '1' });
    programme = await openAccount('REV', 'programme', 'Programme REV');
    shop = await openAccount('REV', 'shop', 'Shop REV');
    await issue('REV', programme, '1000');
  });

  it('a reversal is the opposite transfer naming `reverses`; balances are restored', async () => {
    const w = await openAccount('REV', 'wallet', 'Reversed wallet');
    const original = await transferOk('REV', programme, w, '40.00', { code: 'reward' });
    const before = await snapshot();

    const reply = await post(`/transfers/${original.id}/reverse`, { memo: 'wrong wallet' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({
      debit_account: w, credit_account: programme, amount: '40.00', code: 'reversal', status: 'posted',
      reverses: original.id, memo: 'wrong wallet', currency: 'REV',
    });
    expect(reply.body.id).not.toBe(original.id);
    expect(await balanceOf(w)).toBe('0.00');
    expect(await balanceOf(programme)).toBe('1000.00');
    const entries = await get(`/accounts/${w}/entries`);
    expect(entries.body.items[0]).toMatchObject({ transfer_id: reply.body.id, amount: '-40.00', balance_after: '0.00', code: 'reversal' });
    expect((await get(`/transfers/${reply.body.id}`)).body.reverses).toBe(original.id);
    // The original itself is untouched.
    expect((await get(`/transfers/${original.id}`)).body).toEqual(original);
    expect((await snapshot()).counts.transfers).toBe(before.counts.transfers + 1n);

    const second = await expectRejected(() => post(`/transfers/${original.id}/reverse`, {}), 409, 'already_reversed');
    expect(second.body.detail).toContain(original.id);
  });

  it('a reversal needs no body but does need an Idempotency-Key', async () => {
    const w = await openAccount('REV', 'wallet', 'No-body wallet');
    const original = await transferOk('REV', programme, w, '1.00', { code: 'reward' });
    await expectRejected(() => post(`/transfers/${original.id}/reverse`, undefined, null), 400, 'idempotency_key_missing');
    const reply = await post(`/transfers/${original.id}/reverse`);
    expect(reply.status).toBe(201);
    expect(reply.body.memo).toBeNull();
  });

  it('reversing when the receiver already spent the coins → 422 insufficient_funds, nothing written', async () => {
    const w = await openAccount('REV', 'wallet', 'Spender');
    const original = await transferOk('REV', programme, w, '50.00', { code: 'reward' });
    await transferOk('REV', w, shop, '40.00');
    const reply = await expectRejected(() => post(`/transfers/${original.id}/reverse`), 422, 'insufficient_funds');
    expect(reply.body.account_id).toBe(w);
    // Once the shop refunds, the reversal goes through.
    await transferOk('REV', shop, w, '40.00', { code: 'adjustment' });
    expect((await post(`/transfers/${original.id}/reverse`)).status).toBe(201);
    expect(await balanceOf(w)).toBe('0.00');
  });

  it('reversing a pending transfer → 422 not_reversible; so is reversing a void', async () => {
    const w = await openAccount('REV', 'wallet', 'Pending reversal');
    await transferOk('REV', programme, w, '10.00', { code: 'reward' });
    const pending = await transferOk('REV', w, shop, '5.00', { pending: true });
    await expectRejected(() => post(`/transfers/${pending.id}/reverse`), 422, 'not_reversible');
    const voided = await post(`/transfers/${pending.id}/void`);
    expect(voided.status).toBe(201);
    await expectRejected(() => post(`/transfers/${voided.body.id}/reverse`), 422, 'not_reversible');
  });

  it('a posted resolution of a pending transfer can be reversed', async () => {
    const w = await openAccount('REV', 'wallet', 'Posted reversal');
    await transferOk('REV', programme, w, '10.00', { code: 'reward' });
    const pending = await transferOk('REV', w, shop, '6.00', { pending: true });
    const posted = await post(`/transfers/${pending.id}/post`, { amount: '4.00' });
    expect(posted.status).toBe(201);
    const reversal = await post(`/transfers/${posted.body.id}/reverse`);
    expect(reversal.status).toBe(201);
    expect(reversal.body).toMatchObject({ amount: '4.00', debit_account: shop, credit_account: w, reverses: posted.body.id });
    expect(await accountOf(w)).toMatchObject({ balance: '10.00', available: '10.00' });
  });

  it('reversing an unknown transfer → 404', async () => {
    await expectRejected(() => post(`/transfers/${randomUUID()}/reverse`), 404, 'transfer_not_found');
  });

  it('two reversals of one transfer at once: exactly one succeeds', async () => {
    const w = await openAccount('REV', 'wallet', 'Race');
    const original = await transferOk('REV', programme, w, '3.00', { code: 'reward' });
    const replies = await Promise.all([post(`/transfers/${original.id}/reverse`), post(`/transfers/${original.id}/reverse`)]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(replies.find((r) => r.status === 409)?.body.code).toBe('already_reversed');
    const rows = await t.sql`SELECT id FROM transfers WHERE reverses_id = ${original.id}`;
    expect(rows).toHaveLength(1);
    expect(await balanceOf(w)).toBe('0.00');
  });
});

// Pending transfers ---------------------------------------------------------------------------

describe('pending transfers', () => {
  let programme: string;
  let shop: string;

  beforeAll(async () => {
    await createCurrency({ code: 'PND', scale: 2, euro_per_unit: '1' });
    programme = await openAccount('PND', 'programme', 'Programme PND');
    shop = await openAccount('PND', 'shop', 'Shop PND');
    await issue('PND', programme, '1000');
  });

  async function funded(name: string, amount: string): Promise<string> {
    const w = await openAccount('PND', 'wallet', name);
    await transferOk('PND', programme, w, amount, { code: 'reward' });
    return w;
  }

  it('pending reserves: available drops, the balance does not, no entries yet, status pending', async () => {
    const w = await funded('Reserver', '100.00');
    const entriesBefore = await t.sql`SELECT count(*) AS n FROM entries`;
    const pending = await transferOk('PND', w, shop, '60.00', { pending: true, code: 'adjustment' });
    expect(pending).toMatchObject({ status: 'pending', amount: '60.00', debit_account: w, credit_account: shop });
    expect(await accountOf(w)).toMatchObject({ balance: '100.00', available: '40.00', pending_debits: '60.00' });
    expect(await accountOf(shop)).toMatchObject({ balance: '0.00', pending_credits: '60.00' });
    expect((await get(`/transfers/${pending.id}`)).body.status).toBe('pending');
    expect(await t.sql`SELECT count(*) AS n FROM entries`).toEqual(entriesBefore);
    expect((await get(`/accounts/${w}/entries`)).body.items).toHaveLength(1);
  });

  it('reserved funds cannot be spent twice: a plain or pending transfer over what is available fails', async () => {
    const w = await funded('Double spender', '100.00');
    await transferOk('PND', w, shop, '70.00', { pending: true });
    await expectRejected(() => transfer('PND', w, shop, '30.01'), 422, 'insufficient_funds');
    await expectRejected(() => transfer('PND', w, shop, '30.01', { pending: true }), 422, 'insufficient_funds');
    await transferOk('PND', w, shop, '30.00', { pending: true });
    await expectRejected(() => transfer('PND', w, shop, '0.01'), 422, 'insufficient_funds');
    expect(await accountOf(w)).toMatchObject({ balance: '100.00', available: '0.00', pending_debits: '100.00' });
  });

  it('post for less than reserved releases the rest; the pending transfer becomes posted', async () => {
    const w = await funded('Partial poster', '100.00');
    const pending = await transferOk('PND', w, shop, '60.00', { pending: true, code: 'adjustment', memo: 'cash-out' });
    const shopBefore = await accountOf(shop);

    const posted = await post(`/transfers/${pending.id}/post`, { amount: '45.5' });
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    expect(posted.body).toMatchObject({
      amount: '45.50', status: 'posted', pending_id: pending.id, debit_account: w, credit_account: shop, code: 'adjustment',
    });
    expect(await accountOf(w)).toMatchObject({ balance: '54.50', available: '54.50', pending_debits: '0.00' });
    const shopAfter = await accountOf(shop);
    expect(minor(shopAfter.balance)).toBe(minor(shopBefore.balance) + 4550n);
    expect(minor(shopAfter.pending_credits)).toBe(minor(shopBefore.pending_credits) - 6000n);
    expect((await get(`/transfers/${pending.id}`)).body).toMatchObject({ status: 'posted', amount: '60.00' });
    const entries = await get(`/accounts/${w}/entries?limit=1`);
    expect(entries.body.items[0]).toMatchObject({ transfer_id: posted.body.id, amount: '-45.50', balance_after: '54.50' });

    await expectRejected(() => post(`/transfers/${pending.id}/post`, {}), 409, 'already_resolved');
    await expectRejected(() => post(`/transfers/${pending.id}/void`), 409, 'already_resolved');
  });

  it('post without an amount posts everything reserved', async () => {
    const w = await funded('Full poster', '10.00');
    const pending = await transferOk('PND', w, shop, '10.00', { pending: true });
    const posted = await post(`/transfers/${pending.id}/post`);
    expect(posted.status).toBe(201);
    expect(posted.body.amount).toBe('10.00');
    expect(await accountOf(w)).toMatchObject({ balance: '0.00', available: '0.00' });
  });

  it('void releases everything: status voided, balances as before; then post or void again → 409', async () => {
    const w = await funded('Voider', '100.00');
    const shopBefore = await accountOf(shop);
    const pending = await transferOk('PND', w, shop, '25.00', { pending: true });
    const voided = await post(`/transfers/${pending.id}/void`);
    expect(voided.status, JSON.stringify(voided.body)).toBe(201);
    expect(voided.body).toMatchObject({ status: 'voided', pending_id: pending.id, amount: '25.00' });
    expect(await accountOf(w)).toMatchObject({ balance: '100.00', available: '100.00', pending_debits: '0.00' });
    expect(await accountOf(shop)).toEqual(shopBefore);
    expect((await get(`/transfers/${pending.id}`)).body.status).toBe('voided');
    expect((await get(`/accounts/${w}/entries`)).body.items).toHaveLength(1);

    await expectRejected(() => post(`/transfers/${pending.id}/post`), 409, 'already_resolved');
    await expectRejected(() => post(`/transfers/${pending.id}/void`), 409, 'already_resolved');
  });

  it('post for more than reserved → 422 amount_exceeds_pending; the reservation stays', async () => {
    const w = await funded('Over poster', '100.00');
    const pending = await transferOk('PND', w, shop, '20.00', { pending: true });
    const reply = await expectRejected(() => post(`/transfers/${pending.id}/post`, { amount: '20.01' }), 422, 'amount_exceeds_pending');
    expect(reply.body.detail).toContain('20.00');
    await expectRejected(() => post(`/transfers/${pending.id}/post`, { amount: '0' }), 422, 'validation_failed');
    await expectRejected(() => post(`/transfers/${pending.id}/post`, { amount: '1.001' }), 422, 'validation_failed');
    expect((await get(`/transfers/${pending.id}`)).body.status).toBe('pending');
    expect((await post(`/transfers/${pending.id}/post`, { amount: '20.00' })).status).toBe(201);
  });

  it('posting or voiding a transfer that is not pending → 422 not_pending', async () => {
    const w = await funded('Not pending', '5.00');
    const plain = await transferOk('PND', w, shop, '1.00');
    await expectRejected(() => post(`/transfers/${plain.id}/post`), 422, 'not_pending');
    await expectRejected(() => post(`/transfers/${plain.id}/void`), 422, 'not_pending');
    await expectRejected(() => post(`/transfers/${randomUUID()}/void`), 404, 'transfer_not_found');
  });

  it('a pending transfer is resolved once even when post and void race', async () => {
    const w = await funded('Racer', '10.00');
    const pending = await transferOk('PND', w, shop, '10.00', { pending: true });
    const replies = await Promise.all([post(`/transfers/${pending.id}/post`), post(`/transfers/${pending.id}/void`)]);
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await t.sql`SELECT count(*) AS n FROM transfers WHERE pending_id = ${pending.id}`).toEqual([{ n: 1n }]);
    const account = await accountOf(w);
    expect(account.pending_debits).toBe('0.00');
    expect(account.balance).toBe(replies.some((r) => r.body.status === 'voided') ? '10.00' : '0.00');
  });
});

// Batches ---------------------------------------------------------------------------------------

describe('batches', () => {
  let cur: CurrencyJson;
  let programme: string;
  let shop: string;
  let otherWallet: string;

  beforeAll(async () => {
    cur = await createCurrency({ code: 'BAT', scale: 2, euro_per_unit: '1' });
    await createCurrency({ code: 'BOT', scale: 2, euro_per_unit: '1' });
    programme = await openAccount('BAT', 'programme', 'Programme BAT');
    shop = await openAccount('BAT', 'shop', 'Shop BAT');
    otherWallet = await openAccount('BOT', 'wallet', 'Wallet BOT');
    await issue('BAT', programme, '1000');
  });

  const item = (debit_account: string, credit_account: string, amount: unknown, extra: Record<string, unknown> = {}) =>
    ({ debit_account, credit_account, amount, code: 'adjustment', memo: 'correction', ...extra });

  function batch(atomic: boolean, transfers: unknown[], key: string | null = newKey()): Promise<Reply> {
    return post('/currencies/BAT/transfers/batch', { atomic, transfers }, key);
  }

  async function transferCount(): Promise<bigint> {
    const [row] = await t.sql<{ n: bigint }[]>`SELECT count(*) AS n FROM transfers WHERE currency_id = ${cur.id}`;
    return row!.n;
  }

  it('atomic success creates every transfer, in order', async () => {
    const w = await openAccount('BAT', 'wallet', 'Atomic wallet');
    const before = await transferCount();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const reply = await batch(true, [
      item(programme, w, '10.00', { id: ids[0], code: 'reward' }),
      item(w, shop, '4.00', { id: ids[1] }),
      item(w, shop, '6.00', { id: ids[2] }),
    ]);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.results).toEqual(ids.map((id) => ({ id, status: 'created' })));
    expect(await transferCount()).toBe(before + 3n);
    expect(await balanceOf(w)).toBe('0.00');
    const entries = await get(`/accounts/${w}/entries`);
    expect(entries.body.items.map((e: { transfer_id: string }) => e.transfer_id)).toEqual([...ids].reverse());
  });

  it('atomic with insufficient funds at index 2 → 422 batch_item_failed naming index 2, nothing written', async () => {
    const w = await openAccount('BAT', 'wallet', 'Atomic failure');
    const reply = await expectRejected(() => batch(true, [
      item(programme, w, '10.00', { code: 'reward' }),
      item(w, shop, '4.00'),
      item(w, shop, '6.01'),
      item(programme, shop, '1.00'),
    ]), 422, 'batch_item_failed');
    expect(reply.body.index).toBe(2);
    expect(reply.body.item_code).toBe('insufficient_funds');
    expect(reply.body.detail).toContain('transfer 2');
    expect(await balanceOf(w)).toBe('0.00');
  });

  it('atomic with an account of another currency at index 1 → 422 naming index 1, nothing written', async () => {
    const reply = await expectRejected(() => batch(true, [
      item(programme, shop, '1.00'),
      item(programme, otherWallet, '1.00'),
    ]), 422, 'batch_item_failed');
    expect(reply.body).toMatchObject({ index: 1, item_code: 'cross_currency' });
  });

  it('atomic with a bad amount → 422 validation_failed naming the item, nothing written', async () => {
    const reply = await expectRejected(() => batch(true, [item(programme, shop, '1.00'), item(programme, shop, '1.001')]),
      422, 'validation_failed');
    expect(reply.body.errors.map((e: { path: string }) => e.path)).toEqual(['transfers.1.amount']);
  });

  it('non-atomic mixed items → 200 with per-item results; only the good ones are written', async () => {
    const w = await openAccount('BAT', 'wallet', 'Mixed wallet');
    const existing = await transferOk('BAT', programme, shop, '1.00');
    const ids = Array.from({ length: 7 }, () => randomUUID());
    const before = await transferCount();
    const reply = await batch(false, [
      item(programme, w, '5.00', { id: ids[0], code: 'reward' }), // created
      item(w, shop, '5.01', { id: ids[1] }), // insufficient funds
      item(w, shop, '2.00', { id: ids[2] }), // created
      item(w, w, '1.00', { id: ids[3] }), // same account
      item(programme, otherWallet, '1.00', { id: ids[4] }), // cross currency
      item(programme, randomUUID(), '1.00', { id: ids[5] }), // unknown account
      item(programme, shop, '1.00', { id: existing.id }), // id already used
      item(w, shop, '3.00', { id: ids[6] }), // created, uses up the rest
    ]);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const results = reply.body.results as Array<{ id: string; status: string; error?: { code: string; detail: string } }>;
    expect(results.map((r) => [r.id, r.status, r.error?.code])).toEqual([
      [ids[0], 'created', undefined],
      [ids[1], 'failed', 'insufficient_funds'],
      [ids[2], 'created', undefined],
      [ids[3], 'failed', 'same_account'],
      [ids[4], 'failed', 'cross_currency'],
      [ids[5], 'failed', 'account_not_found'],
      [existing.id, 'failed', 'already_exists'],
      [ids[6], 'created', undefined],
    ]);
    for (const r of results) if (r.error !== undefined) expect(r.error.detail.length).toBeGreaterThan(0);
    expect(await transferCount()).toBe(before + 3n);
    const written = await t.sql<{ id: string }[]>`SELECT id FROM transfers WHERE id = ANY(${ids}::uuid[]) ORDER BY created_at, id`;
    expect(new Set(written.map((r) => r.id))).toEqual(new Set([ids[0], ids[2], ids[6]]));
    expect(await balanceOf(w)).toBe('0.00');
    expect((await get(`/transfers/${existing.id}`)).body.amount).toBe('1.00');
  });

  it('a bad amount in a non-atomic batch fails only that item', async () => {
    const w = await openAccount('BAT', 'wallet', 'Bad amount wallet');
    const before = await transferCount();
    const reply = await batch(false, [
      item(programme, w, '1.00', { code: 'reward' }),
      item(programme, w, '1.001', { code: 'reward' }),
      item(programme, w, '0', { code: 'reward' }),
      item(programme, w, '2.00', { code: 'reward' }),
    ]);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const results = reply.body.results as Array<{ id: string; status: string; error?: { code: string; detail: string } }>;
    expect(results.map((r) => [r.status, r.error?.code])).toEqual([
      ['created', undefined], ['failed', 'validation_failed'], ['failed', 'validation_failed'], ['created', undefined],
    ]);
    expect(results[1]!.error!.detail).toContain('transfers.1.amount');
    expect(results.every((r) => /^[0-9a-f-]{36}$/.test(r.id))).toBe(true);
    expect(await transferCount()).toBe(before + 2n);
    expect(await balanceOf(w)).toBe('3.00');
  });

  it('a non-atomic batch in which every item fails writes nothing and still answers 200', async () => {
    const w = await openAccount('BAT', 'wallet', 'Empty wallet');
    const before = await snapshot();
    const reply = await batch(false, [item(w, shop, '1.00'), item(w, shop, '1.001')]);
    expect(reply.status).toBe(200);
    expect(reply.body.results.map((r: { status: string }) => r.status)).toEqual(['failed', 'failed']);
    const after = await snapshot();
    // Only the idempotency record of this (successful) request is new.
    expect(after.counts).toEqual({ ...before.counts, idempotency_keys: before.counts.idempotency_keys + 1n });
    expect(after.accounts).toEqual(before.accounts);
  });

  it('a batch of more than 1000 items → 422, nothing written', async () => {
    const w = await openAccount('BAT', 'wallet', 'Big batch');
    const items = Array.from({ length: 1001 }, () => item(programme, w, '0.01', { code: 'reward' }));
    const reply = await expectRejected(() => batch(false, items), 422, 'validation_failed');
    expect(reply.body.errors.map((e: { path: string }) => e.path)).toContain('transfers');
    await expectRejected(() => batch(true, []), 422, 'validation_failed');
  });

  it('a batch of exactly 1000 items is applied', async () => {
    const w = await openAccount('BAT', 'wallet', 'Full batch');
    const items = Array.from({ length: 1000 }, () => item(programme, w, '0.01', { code: 'reward' }));
    const reply = await batch(true, items);
    expect(reply.status, JSON.stringify(reply.body).slice(0, 500)).toBe(200);
    expect(reply.body.results).toHaveLength(1000);
    expect(await balanceOf(w)).toBe('10.00');
    const [last] = (await get(`/accounts/${w}/entries?limit=1`)).body.items;
    expect(last).toMatchObject({ balance_after: '10.00' });
  });

  it('duplicate ids within a batch → 422, nothing written', async () => {
    const id = randomUUID();
    await expectRejected(() => batch(true, [item(programme, shop, '1.00', { id }), item(programme, shop, '2.00', { id })]),
      422, 'validation_failed');
    await expectRejected(() => batch(false, [item(programme, shop, '1.00', { id }), item(programme, shop, '2.00', { id })]),
      422, 'validation_failed');
  });

  it('a batch replays with the same Idempotency-Key and writes nothing the second time', async () => {
    const w = await openAccount('BAT', 'wallet', 'Replayed batch');
    const key = newKey();
    const items = [item(programme, w, '1.00', { code: 'reward' }), item(programme, w, '2.00', { code: 'reward' })];
    const first = await batch(true, items, key);
    expect(first.status).toBe(200);
    const before = await snapshot();
    const second = await batch(true, items, key);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await snapshot()).toEqual(before);
    expect(await balanceOf(w)).toBe('3.00');
  });
});

// Verify --------------------------------------------------------------------------------------

describe('verify', () => {
  it('every currency of this busy history verifies: ok with every check', async () => {
    const currencies = (await get('/currencies')).body.items as CurrencyJson[];
    expect(currencies.length).toBeGreaterThanOrEqual(10);
    for (const currency of currencies) {
      const reply = await get(`/currencies/${currency.code}/verify`);
      expect(reply.status).toBe(200);
      expect(reply.body.checks.map((c: { name: string }) => c.name)).toEqual([
        'sum_is_zero', 'balances_match_transfers', 'balances_match_entries', 'balances_within_limits',
        'history_append_only', 'no_cross_currency', 'at_most_once', 'limits_counted', 'seals', 'coins_within_validity',
      ]);
      expect({ code: currency.code, ok: reply.body.ok, failed: reply.body.checks.filter((c: { ok: boolean }) => !c.ok) })
        .toEqual({ code: currency.code, ok: true, failed: [] });
    }
  });

  it('verify of an unknown currency → 404', async () => {
    expectProblem(await get('/currencies/NOPE/verify'), 404, 'currency_not_found');
  });
});
