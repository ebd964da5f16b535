/**
 * Concurrency: many requests at once through the app against the real PostgreSQL. Proves that
 * locking never lets a deadlock or serialization failure reach a client, that no interleaving
 * breaks the ledger's invariants, and that the at-most-once rules hold under races.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';

/** Every currency in this file has two decimals. */
const scale = 2;

/** "12.34" → 1234n; amounts in responses always carry exactly `scale` decimals. */
function toMinor(amount: string): bigint {
  const match = /^(-?)([0-9]+)\.([0-9]{2})$/.exec(amount);
  if (match === null) throw new Error(`not an amount with ${scale} decimals: ${amount}`);
  const value = BigInt(`${match[2]}${match[3]}`);
  return match[1] === '-' ? -value : value;
}

/** 1234n → "12.34" */
function toAmount(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const digits = (minor < 0n ? -minor : minor).toString().padStart(scale + 1, '0');
  return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Small seeded PRNG (mulberry32): a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface CurrencyRef {
  code: string;
  id: number;
  issuance: string;
}

let t: TestApp;
let token: string;

beforeAll(async () => {
  t = await createTestApp();
  token = t.adminToken;
});

afterAll(async () => {
  await t.close();
});

async function createCurrency(code: string): Promise<CurrencyRef> {
  const reply = await t.request('POST', '/api/v1/currencies', {
    token, body: { code, name: `Concurrency ${code}`, scale, euro_per_unit: '1.00' },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return { code, id: reply.body.id as number, issuance: reply.body.issuance_account as string };
}

async function openAccount(currency: CurrencyRef, kind: 'programme' | 'wallet', name: string): Promise<string> {
  const reply = await t.request('POST', `/api/v1/currencies/${currency.code}/accounts`, { token, body: { kind, name } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
}

function issue(currency: CurrencyRef, to_account: string, amount: string): Promise<Reply> {
  return t.request('POST', `/api/v1/currencies/${currency.code}/issue`, {
    token, idempotencyKey: newKey(), body: { to_account, amount },
  });
}

function transfer(currency: CurrencyRef, body: Record<string, unknown>): Promise<Reply> {
  return t.request('POST', `/api/v1/currencies/${currency.code}/transfers`, { token, idempotencyKey: newKey(), body });
}

/**
 * Posted balance of every account of the currency that holds anything, in minor units: an
 * account missing from the map is at zero (a currency also starts with accounts of its own).
 */
async function balances(currency: CurrencyRef): Promise<Map<string, bigint>> {
  const rows = await t.sql<{ id: string; balance: bigint }[]>`
    SELECT id, credits_posted - debits_posted AS balance FROM accounts
    WHERE currency_id = ${currency.id} AND credits_posted - debits_posted <> 0`;
  return new Map(rows.map((r) => [r.id, r.balance]));
}

/** The map without its zero balances, to compare with `balances`. */
function nonZero(map: Map<string, bigint>): Map<string, bigint> {
  return new Map([...map].filter(([, balance]) => balance !== 0n));
}

async function transferCount(currency: CurrencyRef): Promise<bigint> {
  const [row] = await t.sql<{ n: bigint }[]>`SELECT count(*) AS n FROM transfers WHERE currency_id = ${currency.id}`;
  return row?.n ?? -1n;
}

/** Anything a client should never see from a race: a 5xx, or a lock problem leaking through. */
function expectNoLockTrouble(replies: Reply[]): void {
  const trouble = replies.filter((r) => r.status >= 500
    || /deadlock|serializ/i.test(String(r.body?.detail ?? '')));
  expect(trouble.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
}

/**
 * The invariants of the ledger, checked twice: by the service's own GET /verify and by SQL
 * written here, so a bug shared by both cannot hide.
 */
async function expectLedgerSound(currency: CurrencyRef): Promise<void> {
  const verify = await t.request('GET', `/api/v1/currencies/${currency.code}/verify`, { token });
  expect(verify.status).toBe(200);
  expect(verify.body.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
  expect(verify.body.ok).toBe(true);

  const [sums] = await t.sql<{ posted: bigint; pending: bigint }[]>`
    SELECT coalesce(sum(credits_posted - debits_posted), 0)::bigint AS posted,
           coalesce(sum(credits_pending - debits_pending), 0)::bigint AS pending
    FROM accounts WHERE currency_id = ${currency.id}`;
  expect(sums).toEqual({ posted: 0n, pending: 0n });

  const negative = await t.sql`
    SELECT id FROM accounts
    WHERE currency_id = ${currency.id} AND kind <> 'issuance'
      AND credits_posted - debits_posted - debits_pending < 0`;
  expect(negative).toEqual([]);

  // Each balance is the sum of its entries and its latest balance_after; versions run 1..n
  // without gaps, and each entry's balance_after is the previous one plus its amount.
  const mismatched = await t.sql`
    SELECT a.id FROM accounts a
    LEFT JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total, max(version) AS top
                       FROM entries WHERE currency_id = a.currency_id AND account_id = a.id) e ON true
    LEFT JOIN LATERAL (SELECT balance_after FROM entries
                       WHERE currency_id = a.currency_id AND account_id = a.id
                       ORDER BY version DESC LIMIT 1) l ON true
    WHERE a.currency_id = ${currency.id}
      AND (e.total <> a.credits_posted - a.debits_posted
           OR coalesce(l.balance_after, 0) <> a.credits_posted - a.debits_posted
           OR e.n <> a.version OR coalesce(e.top, 0) <> e.n)`;
  expect(mismatched).toEqual([]);
  const broken_chain = await t.sql`
    SELECT account_id, version FROM (
      SELECT account_id, version, amount, balance_after,
             lag(balance_after, 1, 0::bigint) OVER (PARTITION BY account_id ORDER BY version) AS before
      FROM entries WHERE currency_id = ${currency.id}) e
    WHERE before + amount <> balance_after`;
  expect(broken_chain).toEqual([]);
}

describe('concurrent requests', () => {
  it('random transfers from 20 workers keep every invariant and match a recomputation from the 201s', async () => {
    const currency = await createCurrency('RND');
    const seed_minor = 5_000n;
    const wallets: string[] = [];
    for (let i = 0; i < 10; i++) wallets.push(await openAccount(currency, 'wallet', `Wallet ${i}`));
    for (const wallet of wallets) {
      const reply = await issue(currency, wallet, toAmount(seed_minor));
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    }
    const expected = new Map<string, bigint>(wallets.map((w) => [w, seed_minor]));
    expected.set(currency.issuance, -seed_minor * BigInt(wallets.length));
    const seeded_transfers = await transferCount(currency);
    expect(seeded_transfers).toBe(BigInt(wallets.length));

    const workers = 20;
    const per_worker = 250;
    const seed = Date.now() % 1_000_000;
    interface Attempt { debit: string; credit: string; amount: string; reply: Reply }
    const attempts: Attempt[] = [];
    const worker = async (w: number) => {
      const random = prng(seed * 100 + w);
      for (let i = 0; i < per_worker; i++) {
        const d = Math.floor(random() * wallets.length);
        const c = (d + 1 + Math.floor(random() * (wallets.length - 1))) % wallets.length;
        // Up to twice the starting balance: many attempts find the debit account short.
        const amount = toAmount(1n + BigInt(Math.floor(random() * 2 ** 32)) % (2n * seed_minor));
        const debit = wallets[d] as string;
        const credit = wallets[c] as string;
        const reply = await transfer(currency, { debit_account: debit, credit_account: credit, amount, code: 'adjustment', memo: 'correction' });
        attempts.push({ debit, credit, amount, reply });
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));

    const context = `seed ${seed}`;
    expect(attempts.length).toBe(workers * per_worker);
    expectNoLockTrouble(attempts.map((a) => a.reply));
    const unexpected = attempts.filter((a) => !(a.reply.status === 201
      || (a.reply.status === 422 && a.reply.body?.code === 'insufficient_funds')));
    expect(unexpected.map((a) => `${a.reply.status} ${JSON.stringify(a.reply.body)}`), context).toEqual([]);
    const created = attempts.filter((a) => a.reply.status === 201);
    // Both outcomes must really have happened for the run to prove anything.
    expect(created.length, context).toBeGreaterThan(attempts.length / 10);
    expect(attempts.length - created.length, context).toBeGreaterThan(attempts.length / 10);

    for (const a of created) {
      expect(a.reply.body).toMatchObject({ debit_account: a.debit, credit_account: a.credit, amount: a.amount, status: 'posted' });
      const amount = toMinor(a.reply.body.amount as string);
      expected.set(a.debit, (expected.get(a.debit) ?? 0n) - amount);
      expected.set(a.credit, (expected.get(a.credit) ?? 0n) + amount);
    }

    // Exactly the 201s were written: no more, no fewer, and a rejected attempt left nothing.
    expect(await transferCount(currency)).toBe(seeded_transfers + BigInt(created.length));
    const stored = await t.sql<{ id: string }[]>`
      SELECT id FROM transfers WHERE currency_id = ${currency.id} AND code = 'adjustment'`;
    expect(new Set(stored.map((r) => r.id))).toEqual(new Set(created.map((a) => a.reply.body.id as string)));
    const [entries] = await t.sql<{ n: bigint }[]>`SELECT count(*) AS n FROM entries WHERE currency_id = ${currency.id}`;
    expect(entries?.n).toBe(2n * (seeded_transfers + BigInt(created.length)));

    expect(await balances(currency), context).toEqual(nonZero(expected));
    await expectLedgerSound(currency);
  });

  it('500 A→B at the same time as 500 B→A all succeed without a deadlock reaching anyone', async () => {
    const currency = await createCurrency('TRAP');
    const a = await openAccount(currency, 'wallet', 'A');
    const b = await openAccount(currency, 'wallet', 'B');
    for (const wallet of [a, b]) expect((await issue(currency, wallet, '1000.00')).status).toBe(201);
    const before = await balances(currency);

    // Interleaved, so both directions are in flight together from the first request on.
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => transfer(currency, i % 2 === 0
      ? { debit_account: a, credit_account: b, amount: '1.00', code: 'adjustment', memo: 'correction' }
      : { debit_account: b, credit_account: a, amount: '1.00', code: 'adjustment', memo: 'correction' })));

    expectNoLockTrouble(replies);
    expect(replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    expect(await transferCount(currency)).toBe(1002n);
    expect(await balances(currency)).toEqual(before);
    const [versions] = await t.sql<{ a: bigint; b: bigint }[]>`
      SELECT (SELECT version FROM accounts WHERE currency_id = ${currency.id} AND id = ${a}) AS a,
             (SELECT version FROM accounts WHERE currency_id = ${currency.id} AND id = ${b}) AS b`;
    expect(versions).toEqual({ a: 1001n, b: 1001n });
    await expectLedgerSound(currency);
  });

  it('200 concurrent issues through the one issuance account all succeed and it ends at minus their total', async () => {
    const currency = await createCurrency('HOT');
    const wallets: string[] = [];
    for (let i = 0; i < 20; i++) wallets.push(await openAccount(currency, 'wallet', `Hot ${i}`));
    const plan = Array.from({ length: 200 }, (_, i) => ({
      to: wallets[i % wallets.length] as string, amount: toAmount(100n + (BigInt(i) * 37n) % 1000n),
    }));

    const replies = await Promise.all(plan.map((p) => issue(currency, p.to, p.amount)));

    expectNoLockTrouble(replies);
    expect(replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    const expected = new Map<string, bigint>();
    let total = 0n;
    for (const p of plan) {
      total += toMinor(p.amount);
      expected.set(p.to, (expected.get(p.to) ?? 0n) + toMinor(p.amount));
    }
    expected.set(currency.issuance, -total);
    expect(await balances(currency)).toEqual(nonZero(expected));
    const issuance = await t.request('GET', `/api/v1/accounts/${currency.issuance}`, { token });
    expect(issuance.body.balance).toBe(toAmount(-total));
    expect(await transferCount(currency)).toBe(200n);
    await expectLedgerSound(currency);
  });

  describe('at-most-once rules under races', () => {
    let currency: CurrencyRef;
    let x: string;
    let y: string;

    beforeAll(async () => {
      currency = await createCurrency('ONCE');
      x = await openAccount(currency, 'wallet', 'X');
      y = await openAccount(currency, 'wallet', 'Y');
      expect((await issue(currency, x, '100.00')).status).toBe(201);
    });

    it('20 concurrent reversals of one transfer: exactly one 201, the rest 409 already_reversed', async () => {
      const original = await transfer(currency, { debit_account: x, credit_account: y, amount: '10.00', code: 'adjustment', memo: 'correction' });
      expect(original.status).toBe(201);
      const before = await balances(currency);

      const replies = await Promise.all(Array.from({ length: 20 }, () =>
        t.request('POST', `/api/v1/transfers/${original.body.id}/reverse`, { token, idempotencyKey: newKey() })));

      expectNoLockTrouble(replies);
      const created = replies.filter((r) => r.status === 201);
      expect(created.length).toBe(1);
      expect(created[0]?.body).toMatchObject({ reverses: original.body.id, debit_account: y, credit_account: x, amount: '10.00' });
      const losers = replies.filter((r) => r.status !== 201);
      expect(losers.map((r) => `${r.status} ${r.body?.code}`)).toEqual(Array(19).fill('409 already_reversed'));
      const reversals = await t.sql`SELECT id FROM transfers WHERE currency_id = ${currency.id} AND reverses_id = ${original.body.id}`;
      expect(reversals.map((r) => r.id)).toEqual([created[0]?.body.id]);
      const after = await balances(currency);
      expect(after.get(x) ?? 0n).toBe((before.get(x) ?? 0n) + 1000n);
      expect(after.get(y) ?? 0n).toBe((before.get(y) ?? 0n) - 1000n);
      await expectLedgerSound(currency);
    });

    it('20 concurrent posts and voids of one pending transfer: exactly one wins, the rest 409 already_resolved', async () => {
      const pending = await transfer(currency, { debit_account: x, credit_account: y, amount: '5.00', code: 'adjustment', memo: 'correction', pending: true });
      expect(pending.status).toBe(201);
      expect(pending.body.status).toBe('pending');
      const before = await balances(currency);

      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        t.request('POST', `/api/v1/transfers/${pending.body.id}/${i % 2 === 0 ? 'post' : 'void'}`, { token, idempotencyKey: newKey() })));

      expectNoLockTrouble(replies);
      const created = replies.filter((r) => r.status === 201);
      expect(created.length).toBe(1);
      const losers = replies.filter((r) => r.status !== 201);
      expect(losers.map((r) => `${r.status} ${r.body?.code}`)).toEqual(Array(19).fill('409 already_resolved'));
      const resolutions = await t.sql<{ id: string; phase: string }[]>`
        SELECT id, phase FROM transfers WHERE currency_id = ${currency.id} AND pending_id = ${pending.body.id}`;
      expect(resolutions.map((r) => r.id)).toEqual([created[0]?.body.id]);
      // The reservation is released either way; only a post moves the 5.00.
      const moved = resolutions[0]?.phase === 'post' ? 500n : 0n;
      const after = await balances(currency);
      expect(after.get(x) ?? 0n).toBe((before.get(x) ?? 0n) - moved);
      expect(after.get(y) ?? 0n).toBe((before.get(y) ?? 0n) + moved);
      const [reserved] = await t.sql<{ debits_pending: bigint; credits_pending: bigint }[]>`
        SELECT sum(debits_pending)::bigint AS debits_pending, sum(credits_pending)::bigint AS credits_pending
        FROM accounts WHERE currency_id = ${currency.id}`;
      expect(reserved).toEqual({ debits_pending: 0n, credits_pending: 0n });
      await expectLedgerSound(currency);
    });

    it('20 concurrent transfers with one client-chosen id: exactly one 201, the rest 409 already_exists', async () => {
      const id = randomUUID();
      const before = await balances(currency);
      const count_before = await transferCount(currency);

      const replies = await Promise.all(Array.from({ length: 20 }, () =>
        transfer(currency, { id, debit_account: x, credit_account: y, amount: '1.00', code: 'adjustment', memo: 'correction' })));

      expectNoLockTrouble(replies);
      const created = replies.filter((r) => r.status === 201);
      expect(created.map((r) => r.body.id)).toEqual([id]);
      const losers = replies.filter((r) => r.status !== 201);
      expect(losers.map((r) => `${r.status} ${r.body?.code}`)).toEqual(Array(19).fill('409 already_exists'));
      expect(await transferCount(currency)).toBe(count_before + 1n);
      const after = await balances(currency);
      expect(after.get(x) ?? 0n).toBe((before.get(x) ?? 0n) - 100n);
      expect(after.get(y) ?? 0n).toBe((before.get(y) ?? 0n) + 100n);
      await expectLedgerSound(currency);
    });
  });

  it('50 concurrent spends of 1.00 from a wallet holding 10.00: exactly 10 succeed and it ends at 0.00', async () => {
    const currency = await createCurrency('RACE');
    const payer = await openAccount(currency, 'wallet', 'Payer');
    const payee = await openAccount(currency, 'wallet', 'Payee');
    expect((await issue(currency, payer, '10.00')).status).toBe(201);

    const replies = await Promise.all(Array.from({ length: 50 }, () =>
      transfer(currency, { debit_account: payer, credit_account: payee, amount: '1.00', code: 'adjustment', memo: 'correction' })));

    expectNoLockTrouble(replies);
    expect(replies.filter((r) => r.status === 201).length).toBe(10);
    const refused = replies.filter((r) => r.status !== 201);
    expect(refused.map((r) => `${r.status} ${r.body?.code}`)).toEqual(Array(40).fill('422 insufficient_funds'));
    expect(await transferCount(currency)).toBe(11n);
    const account = await t.request('GET', `/api/v1/accounts/${payer}`, { token });
    expect(account.body).toMatchObject({ balance: '0.00', available: '0.00' });
    expect((await balances(currency)).get(payee)).toBe(1000n);
    await expectLedgerSound(currency);
  });
});
