/**
 * The ledger rules the database enforces by itself (triggers, CHECKs, keys), tried directly
 * with SQL, and `verify` catching data that was tampered with behind the service's back.
 */
import { randomUUID } from 'node:crypto';
import { runCommands, writeBatch } from '../src/db/batch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import type { Queryable } from '../src/db/client.js';

const api = '/api/v1';
let t: TestApp;

interface CurrencyJson {
  id: number;
  code: string;
  issuance_account: string;
}

function post(path: string, body?: unknown): Promise<Reply> {
  return t.request('POST', `${api}${path}`, { token: t.adminToken, body, idempotencyKey: newKey() });
}

async function created(reply: Promise<Reply>): Promise<Reply['body']> {
  const r = await reply;
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

async function createCurrency(code: string, extra: Record<string, unknown> = {}): Promise<CurrencyJson> {
  return created(t.request('POST', `${api}/currencies`, {
    token: t.adminToken, body: { code, name: `Coin ${code}`, scale: 2, euro_per_unit: '0.10', ...extra },
  }));
}

async function openAccount(code: string, kind: 'programme' | 'shop' | 'wallet', name: string): Promise<string> {
  return (await created(t.request('POST', `${api}/currencies/${code}/accounts`, { token: t.adminToken, body: { kind, name } }))).id;
}

function pay(code: string, debit_account: string, credit_account: string, amount: string, extra: Record<string, unknown> = {}) {
  return created(post(`/currencies/${code}/transfers`, { debit_account, credit_account, amount, code: 'adjustment', memo: 'correction', ...extra }));
}

interface DbError {
  code?: string;
  message?: string;
  constraint_name?: string;
}

/**
 * Runs `statement` in a transaction that is always rolled back, and returns the error it
 * raised; fails the test if it succeeded (nothing it did survives either way).
 */
async function refusal(statement: (tx: Queryable) => Promise<unknown>): Promise<DbError> {
  const succeeded = new Error('the statement succeeded');
  try {
    await t.sql.begin(async (tx) => {
      await statement(tx);
      throw succeeded;
    });
  } catch (error) {
    if (error === succeeded) throw error;
    return error as DbError;
  }
  throw new Error('unreachable');
}

/** Runs `statement` in a transaction that is rolled back, and returns what it returned. */
async function rolledBack<T>(statement: (tx: Queryable) => Promise<T>): Promise<T> {
  let value: T | undefined;
  const rollback = new Error('rollback');
  await t.sql.begin(async (tx) => {
    value = await statement(tx);
    throw rollback;
  }).catch((error: unknown) => {
    if (error !== rollback) throw error;
  });
  return value as T;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function verify(code: string): Promise<{ ok: boolean; checks: Check[] }> {
  const reply = await t.request('GET', `${api}/currencies/${code}/verify`, { token: t.adminToken });
  expect(reply.status).toBe(200);
  return reply.body;
}

const check_names = [
  'sum_is_zero', 'balances_match_transfers', 'balances_match_entries', 'balances_within_limits',
  'history_append_only', 'no_cross_currency', 'at_most_once', 'limits_counted', 'seals', 'coins_within_validity',
];

function failing(result: { checks: Check[] }): string[] {
  return result.checks.filter((c) => !c.ok).map((c) => c.name).sort();
}

function detailOf(result: { checks: Check[] }, name: string): string {
  const found = result.checks.find((c) => c.name === name);
  expect(found, name).toBeDefined();
  return found!.detail;
}

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t.close();
});

describe('the database enforces the ledger rules itself', () => {
  let a: CurrencyJson;
  let b: CurrencyJson;
  let walletA: string;
  let shopA: string;
  let walletB: string;
  let transferId: string;

  beforeAll(async () => {
    a = await createCurrency('DBA', { wallet_balance_max: '100.00' });
    b = await createCurrency('DBB');
    walletA = await openAccount('DBA', 'wallet', 'Wallet A');
    shopA = await openAccount('DBA', 'shop', 'Shop A');
    walletB = await openAccount('DBB', 'wallet', 'Wallet B');
    await created(post('/currencies/DBA/issue', { to_account: walletA, amount: '50' }));
    await created(post('/currencies/DBB/issue', { to_account: walletB, amount: '50' }));
    transferId = (await pay('DBA', walletA, shopA, '20.00')).id;
  });

  it('UPDATE and DELETE of a transfer raise', async () => {
    const update = await refusal((tx) => tx`UPDATE transfers SET amount = 1 WHERE id = ${transferId}`);
    expect(update).toMatchObject({ code: 'WM900' });
    expect(update.message).toMatch(/UPDATE on transfers is forbidden/);
    const memo = await refusal((tx) => tx`UPDATE transfers SET memo = 'edited' WHERE id = ${transferId}`);
    expect(memo.code).toBe('WM900');
    const remove = await refusal((tx) => tx`DELETE FROM transfers WHERE id = ${transferId}`);
    expect(remove).toMatchObject({ code: 'WM900' });
    expect(remove.message).toMatch(/DELETE on transfers is forbidden/);
    expect(await t.sql`SELECT amount, memo FROM transfers WHERE id = ${transferId}`).toEqual([{ amount: 2000n, memo: 'correction' }]);
  });

  it('UPDATE and DELETE of an entry raise', async () => {
    const update = await refusal((tx) => tx`UPDATE entries SET balance_after = 0 WHERE transfer_id = ${transferId}`);
    expect(update).toMatchObject({ code: 'WM900' });
    expect(update.message).toMatch(/UPDATE on entries is forbidden/);
    const remove = await refusal((tx) => tx`DELETE FROM entries WHERE transfer_id = ${transferId}`);
    expect(remove).toMatchObject({ code: 'WM900' });
    expect(await t.sql`SELECT count(*) AS n FROM entries WHERE transfer_id = ${transferId}`).toEqual([{ n: 2n }]);
  });

  it('TRUNCATE of transfers, entries or accounts raises', async () => {
    const entries = await refusal((tx) => tx`TRUNCATE entries`);
    expect(entries).toMatchObject({ code: 'WM900' });
    expect(entries.message).toMatch(/TRUNCATE on entries is forbidden/);
    // CASCADE gets past the foreign keys, so only the trigger stands in the way.
    const transfers = await refusal((tx) => tx`TRUNCATE transfers CASCADE`);
    expect(transfers).toMatchObject({ code: 'WM900' });
    const accounts = await refusal((tx) => tx`TRUNCATE accounts CASCADE`);
    expect(accounts).toMatchObject({ code: 'WM900' });
    expect((await t.sql`SELECT count(*) AS n FROM entries`)[0]!.n).toBeGreaterThan(0n);
  });

  it('DELETE of an account raises; its status can change instead', async () => {
    const remove = await refusal((tx) => tx`DELETE FROM accounts WHERE id = ${walletA}`);
    expect(remove).toMatchObject({ code: 'WM900' });
    expect(remove.message).toMatch(/DELETE on accounts is forbidden/);
    const fresh = randomUUID();
    await t.sql`INSERT INTO accounts (currency_id, id, kind, name) VALUES (${a.id}, ${fresh}, 'shop', 'Never used')`;
    expect(await refusal((tx) => tx`DELETE FROM accounts WHERE id = ${fresh}`)).toMatchObject({ code: 'WM900' });
  });

  it('an UPDATE making a wallet negative violates the CHECK; the issuance account may go negative', async () => {
    const posted = await refusal((tx) => tx`UPDATE accounts SET debits_posted = credits_posted + 1 WHERE id = ${walletA}`);
    expect(posted).toMatchObject({ code: '23514', constraint_name: 'accounts_not_negative' });
    // Reserving more than the balance counts too.
    const reserved = await refusal((tx) => tx`
      UPDATE accounts SET debits_pending = credits_posted - debits_posted + 1 WHERE id = ${walletA}`);
    expect(reserved).toMatchObject({ code: '23514', constraint_name: 'accounts_not_negative' });
    const shop = await refusal((tx) => tx`UPDATE accounts SET debits_posted = credits_posted + 1 WHERE id = ${shopA}`);
    expect(shop).toMatchObject({ code: '23514', constraint_name: 'accounts_not_negative' });
    // The negative counters themselves are refused outright.
    const counter = await refusal((tx) => tx`UPDATE accounts SET credits_posted = -1 WHERE id = ${walletA}`);
    expect(counter.code).toBe('23514');

    const issuance = await rolledBack(async (tx) => {
      const [row] = await tx<{ balance: bigint }[]>`
        UPDATE accounts SET debits_posted = debits_posted + 1 WHERE id = ${a.issuance_account}
        RETURNING credits_posted - debits_posted AS balance`;
      return row?.balance;
    });
    expect(issuance).toBeLessThan(0n);
  });

  it('an UPDATE taking a wallet above its balance_max violates the CHECK', async () => {
    const error = await refusal((tx) => tx`UPDATE accounts SET credits_posted = debits_posted + 10001 WHERE id = ${walletA}`);
    expect(error).toMatchObject({ code: '23514', constraint_name: 'accounts_balance_max' });
  });

  it('a transfer between accounts of two currencies cannot be inserted (foreign keys)', async () => {
    for (const currency_id of [a.id, b.id]) {
      const error = await refusal((tx) => tx`
        INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, created_by)
        VALUES (${currency_id}, ${randomUUID()}, ${walletA}, ${walletB}, 1, 'payment', 'single', 'test')`);
      expect(error.code).toBe('23503');
      expect(error.constraint_name).toMatch(/^transfers_(debit|credit)_account_id_fkey$|^transfers_currency_id_/);
    }
    // An entry cannot name an account of another currency either.
    const entry = await refusal((tx) => tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after)
      VALUES (${b.id}, ${walletA}, 99, ${transferId}, 1, 1)`);
    expect(entry.code).toBe('23503');
  });

  it('the key checks are per statement: one bad row of many refuses all of them, naming the key', async () => {
    const issuance = a.issuance_account;
    // 3 good transfers and one whose credit account does not exist, in one INSERT.
    const missing = randomUUID();
    const rows = [walletA, shopA, walletA, missing].map((credit) => ({ id: randomUUID(), credit }));
    const error = await refusal((tx) => tx`
      INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, created_by)
      SELECT ${a.id}, r.id, ${issuance}, r.credit, 1, 'issue', 'single', 'test'
      FROM jsonb_to_recordset(${tx.json(rows)}) AS r(id uuid, credit uuid)`);
    expect(error).toMatchObject({ code: '23503', constraint_name: 'transfers_currency_id_credit_account_id_fkey' });
    expect(error.message).toMatch(/violates foreign key constraint/);
    const debit = await refusal((tx) => tx`
      INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, created_by)
      VALUES (${a.id}, ${randomUUID()}, ${missing}, ${walletA}, 1, 'issue', 'single', 'test')`);
    expect(debit).toMatchObject({ code: '23503', constraint_name: 'transfers_currency_id_debit_account_id_fkey' });
    expect(await t.sql`SELECT count(*) AS n FROM transfers WHERE id = ANY(${rows.map((r) => r.id)}::uuid[])`).toEqual([{ n: 0n }]);
  });

  it('an entry must be for one of its transfer\'s two accounts, in the transfer\'s currency', async () => {
    // transferId moved value from walletA to shopA. An entry of the issuance account names it.
    const stranger = await refusal((tx) => tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after)
      VALUES (${a.id}, ${a.issuance_account}, 99, ${transferId}, 1, 1)`);
    expect(stranger).toMatchObject({ code: '23503', constraint_name: 'entries_currency_id_transfer_id_fkey' });
    const unknown = await refusal((tx) => tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after)
      VALUES (${a.id}, ${walletA}, 99, ${randomUUID()}, 1, 1)`);
    expect(unknown).toMatchObject({ code: '23503', constraint_name: 'entries_currency_id_transfer_id_fkey' });
    // Entries of both parties of a new transfer are accepted (then rolled back).
    const fresh = randomUUID();
    const accepted = await rolledBack(async (tx) => {
      await tx`
        INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, created_by)
        VALUES (${a.id}, ${fresh}, ${walletA}, ${shopA}, 1, 'payment', 'single', 'test')`;
      return tx`
        INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after)
        VALUES (${a.id}, ${walletA}, 99, ${fresh}, -1, 1), (${a.id}, ${shopA}, 99, ${fresh}, 1, 1) RETURNING account_id`;
    });
    expect(accepted).toEqual([{ account_id: walletA }, { account_id: shopA }]);
  });

  it('an account\'s currency and id never change (transfers and entries name them); its balance does', async () => {
    const rekey = await refusal((tx) => tx`UPDATE accounts SET id = ${randomUUID()} WHERE id = ${shopA}`);
    expect(rekey).toMatchObject({ code: 'WM900' });
    expect(rekey.message).toMatch(/currency and id of an account never change/);
    const move = await refusal((tx) => tx`UPDATE accounts SET currency_id = ${b.id} WHERE id = ${shopA}`);
    expect(move).toMatchObject({ code: 'WM900' });
    const balance = await rolledBack((tx) => tx<{ credits_posted: bigint }[]>`
      UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = ${shopA} RETURNING credits_posted`);
    expect(balance).toEqual([{ credits_posted: 2001n }]);
    expect(await t.sql`SELECT count(*) AS n FROM accounts WHERE id = ${shopA} AND currency_id = ${a.id}`).toEqual([{ n: 1n }]);
  });

  it('the posting pipeline refuses an account of another currency and writes nothing; its write asserts it again', async () => {
    const before = await t.sql`SELECT (SELECT count(*) FROM transfers) AS transfers, (SELECT count(*) FROM entries) AS entries`;
    const posting = { id: randomUUID(), code: 'adjustment' as const, debit_account_id: walletA, credit_account_id: walletB, amount: 1n, memo: 'test', created_by: 'test' };
    const { results } = await t.sql.begin((tx) => runCommands(tx, a.id, [{ posting }]));
    expect(results).toEqual([expect.objectContaining({ kind: 'failed', code: 'account_not_found' })]);
    // Written behind the decision, the same transfer is refused by the database (invariant 6).
    const error = await refusal((tx) => writeBatch(tx, a.id, {
      transfers: [{ ...posting, currency_id: a.id, phase: 'single', pending_id: null, reverses_id: null, metadata: {}, created_at: new Date() }],
      entries: [], accounts: [], paid: [], claims: [], sessions: [], earnings: [], refunds: [],
    }, { keys: [], audit: [] }));
    expect(error).toMatchObject({ code: '23503' });
    expect(await t.sql`SELECT (SELECT count(*) FROM transfers) AS transfers, (SELECT count(*) FROM entries) AS entries`)
      .toEqual(before);
  });

  it('a second issuance account for a currency is refused', async () => {
    const error = await refusal((tx) => tx`
      INSERT INTO accounts (currency_id, id, kind, name) VALUES (${a.id}, ${randomUUID()}, 'issuance', 'Second')`);
    expect(error).toMatchObject({ code: '23505', constraint_name: 'accounts_one_issuance' });
    expect(await t.sql`SELECT count(*) AS n FROM accounts WHERE currency_id = ${a.id} AND kind = 'issuance'`).toEqual([{ n: 1n }]);
  });

  it('a currency cannot exist without its issuance account (deferred key, checked at commit)', async () => {
    const error = await t.sql.begin((tx) => tx`
      INSERT INTO currencies (code, name, scale, euro_per_unit, issuance_account_id)
      VALUES ('NOISS', 'No issuance', 2, 1, ${randomUUID()})`).then(() => undefined, (e: DbError) => e);
    expect(error).toMatchObject({ code: '23503', constraint_name: 'currencies_issuance_account' });
    expect(await t.sql`SELECT count(*) AS n FROM currencies WHERE code = 'NOISS'`).toEqual([{ n: 0n }]);
  });

  it('transfer CHECKs: positive amount, two different accounts, a known code', async () => {
    const insert = (debit: string, credit: string, amount: number, code: string) => refusal((tx) => tx`
      INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, created_by)
      VALUES (${a.id}, ${randomUUID()}, ${debit}, ${credit}, ${amount}, ${code}, 'single', 'test')`);
    expect((await insert(walletA, shopA, 0, 'payment')).code).toBe('23514');
    expect((await insert(walletA, shopA, -5, 'payment')).code).toBe('23514');
    expect((await insert(walletA, walletA, 1, 'payment')).code).toBe('23514');
    expect((await insert(walletA, shopA, 1, 'present')).code).toBe('23514');
  });

  it('a transfer is reversed at most once (unique index)', async () => {
    const reverse = (tx: Queryable) => tx`
      INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, reverses_id, created_by)
      VALUES (${a.id}, ${randomUUID()}, ${shopA}, ${walletA}, 2000, 'reversal', 'single', ${transferId}, 'test')`;
    const error = await refusal(async (tx) => {
      await reverse(tx);
      await reverse(tx);
    });
    expect(error).toMatchObject({ code: '23505', constraint_name: 'transfers_reverse_once' });
  });
});

describe('verify', () => {
  it('a busy history verifies: ok, with every check', async () => {
    const currency = await createCurrency('VOK', { wallet_balance_max: '500.00' });
    const programme = await openAccount('VOK', 'programme', 'Programme');
    const shop = await openAccount('VOK', 'shop', 'Shop');
    const wallets = [await openAccount('VOK', 'wallet', 'W1'), await openAccount('VOK', 'wallet', 'W2')];
    await created(post('/currencies/VOK/issue', { to_account: programme, amount: '1000' }));
    await created(post('/currencies/VOK/issue', { to_account: wallets[0], amount: '10.10' }));
    for (const w of wallets) await pay('VOK', programme, w, '100.00', { code: 'reward' });
    const spent = await pay('VOK', wallets[0]!, shop, '30.00');
    await created(post(`/transfers/${spent.id}/reverse`, {}));
    const partial = await pay('VOK', wallets[1]!, shop, '40.00', { pending: true });
    await created(post(`/transfers/${partial.id}/post`, { amount: '25.00' }));
    const voided = await pay('VOK', wallets[1]!, shop, '10.00', { pending: true });
    await created(post(`/transfers/${voided.id}/void`));
    await pay('VOK', wallets[1]!, shop, '5.00', { pending: true }); // left pending
    const batch = await post('/currencies/VOK/transfers/batch', {
      atomic: false,
      transfers: [
        { debit_account: wallets[0], credit_account: shop, amount: '1.00', code: 'adjustment', memo: 'correction' },
        { debit_account: wallets[0], credit_account: shop, amount: '9999.00', code: 'adjustment', memo: 'correction' },
      ],
    });
    expect(batch.status).toBe(200);
    await pay('VOK', shop, currency.issuance_account, '20.00', { code: 'adjustment' });

    const result = await verify('VOK');
    expect(result.checks.map((c) => c.name)).toEqual(check_names);
    expect(failing(result)).toEqual([]);
    expect(result.ok).toBe(true);
    for (const c of result.checks) expect(c.detail.length).toBeGreaterThan(0);
  });

  it('a stored balance changed behind the ledger: ok false, naming the checks and the account', async () => {
    await createCurrency('VBAL');
    const programme = await openAccount('VBAL', 'programme', 'Programme');
    const wallet = await openAccount('VBAL', 'wallet', 'Tampered wallet');
    await created(post('/currencies/VBAL/issue', { to_account: programme, amount: '100' }));
    await pay('VBAL', programme, wallet, '10.00', { code: 'reward' });
    expect((await verify('VBAL')).ok).toBe(true);

    await t.sql`UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = ${wallet}`;
    const result = await verify('VBAL');
    expect(result.ok).toBe(false);
    expect(failing(result)).toEqual(['balances_match_entries', 'balances_match_transfers', 'sum_is_zero']);
    expect(detailOf(result, 'sum_is_zero')).toContain('1 minor units');
    expect(detailOf(result, 'balances_match_transfers')).toContain(wallet);
    expect(detailOf(result, 'balances_match_entries')).toContain(wallet);
    expect(detailOf(result, 'balances_match_transfers')).not.toContain(programme);
    // Another currency in the same database is not affected.
    expect((await verify('VOK')).ok).toBe(true);
  });

  it('a transfer amount changed with the append-only trigger disabled: ok false, naming the transfer', async () => {
    await createCurrency('VTRF');
    const programme = await openAccount('VTRF', 'programme', 'Programme');
    const wallet = await openAccount('VTRF', 'wallet', 'Wallet');
    await created(post('/currencies/VTRF/issue', { to_account: programme, amount: '100' }));
    const victim = await pay('VTRF', programme, wallet, '10.00', { code: 'reward' });
    expect((await verify('VTRF')).ok).toBe(true);

    await t.sql`ALTER TABLE transfers DISABLE TRIGGER transfers_append_only`;
    try {
      await t.sql`UPDATE transfers SET amount = amount + 1 WHERE id = ${victim.id}`;
      const whileDisabled = await verify('VTRF');
      expect(whileDisabled.ok).toBe(false);
      expect(detailOf(whileDisabled, 'history_append_only')).toContain('trigger transfers_append_only missing or disabled');
      expect(detailOf(whileDisabled, 'history_append_only')).toContain(victim.id);
    } finally {
      await t.sql`ALTER TABLE transfers ENABLE TRIGGER transfers_append_only`;
    }
    const result = await verify('VTRF');
    expect(result.ok).toBe(false);
    expect(failing(result)).toEqual(['balances_match_transfers', 'history_append_only']);
    const history = detailOf(result, 'history_append_only');
    expect(history).toContain(`transfer ${victim.id}`);
    expect(history).not.toContain('trigger');
    const balances = detailOf(result, 'balances_match_transfers');
    expect(balances).toContain(programme);
    expect(balances).toContain(wallet);
  });

  it('an entry changed with its trigger disabled: balances_match_entries names the account', async () => {
    await createCurrency('VENT');
    const programme = await openAccount('VENT', 'programme', 'Programme');
    const wallet = await openAccount('VENT', 'wallet', 'Wallet');
    await created(post('/currencies/VENT/issue', { to_account: programme, amount: '100' }));
    const victim = await pay('VENT', programme, wallet, '10.00', { code: 'reward' });

    await t.sql`ALTER TABLE entries DISABLE TRIGGER entries_append_only`;
    try {
      await t.sql`UPDATE entries SET balance_after = balance_after + 1 WHERE transfer_id = ${victim.id} AND account_id = ${wallet}`;
    } finally {
      await t.sql`ALTER TABLE entries ENABLE TRIGGER entries_append_only`;
    }
    const result = await verify('VENT');
    expect(result.ok).toBe(false);
    expect(failing(result)).toEqual(['balances_match_entries']);
    expect(detailOf(result, 'balances_match_entries')).toContain(wallet);
  });

  it('a wallet above the currency\'s wallet_balance_max: balances_within_limits names it', async () => {
    await createCurrency('VMAX', { wallet_balance_max: '100.00' });
    const wallet = await openAccount('VMAX', 'wallet', 'Full wallet');
    await created(post('/currencies/VMAX/issue', { to_account: wallet, amount: '50' }));
    expect((await verify('VMAX')).ok).toBe(true);

    await t.sql`UPDATE currencies SET wallet_balance_max = 4999 WHERE code = 'VMAX'`;
    const result = await verify('VMAX');
    expect(result.ok).toBe(false);
    expect(failing(result)).toEqual(['balances_within_limits']);
    expect(detailOf(result, 'balances_within_limits')).toContain(wallet);
  });

  it('a transfer smuggled across currencies (foreign keys bypassed): no_cross_currency names it', async () => {
    await createCurrency('VXA');
    await createCurrency('VXB');
    const source = await openAccount('VXA', 'programme', 'Source');
    const foreign = await openAccount('VXB', 'wallet', 'Foreign');
    const [row] = await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'VXA'`;
    const smuggled = randomUUID();
    await t.sql.begin(async (tx) => {
      // Replica mode skips foreign-key and user triggers for this transaction only.
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`
        INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, created_by)
        VALUES (${row!.id}, ${smuggled}, ${source}, ${foreign}, 100, 'payment', 'single', 'tamper')`;
    });
    const result = await verify('VXA');
    expect(result.ok).toBe(false);
    expect(failing(result)).toEqual(['balances_match_transfers', 'history_append_only', 'no_cross_currency']);
    expect(detailOf(result, 'no_cross_currency')).toContain(smuggled);
    expect(detailOf(result, 'history_append_only')).toContain(smuggled);
    expect(detailOf(result, 'balances_match_transfers')).toContain(source);
    expect((await verify('VXB')).ok).toBe(true);
  });
});
