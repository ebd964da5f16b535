/**
 * Issue #6, tamper evidence: history is sealed into a hash chain without blocking writers, and
 * verify recomputes every seal, naming the transfer that was changed, removed or slipped in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, issue, openAccount, transfer } from './support/http-fixtures.js';
import { findCurrency } from '../src/db/ledger.js';
import { sealCurrency } from '../src/db/seals.js';
import { verifyCurrency } from '../src/db/verify.js';
import type { Currency } from '../src/ledger/model.js';
import { transferHash } from '../src/ledger/seal.js';

let t: TestApp;
beforeAll(async () => { t = await createTestApp(); });
afterAll(async () => { await t?.close(); });

async function currency(code: string): Promise<Currency> {
  const found = await findCurrency(t.sql, code);
  if (found === undefined) throw new Error(`no currency ${code}`);
  return found;
}

/** A currency with some history: issues, rewards, a pending transfer posted, a reversal. */
async function busyCurrency(code: string): Promise<{ wallet: string; programme: string; transfers: string[] }> {
  await createCurrency(t, code);
  const programme = await openAccount(t, code, 'programme', 'Budget');
  const wallet = await openAccount(t, code, 'wallet', 'Ann');
  const shop = await openAccount(t, code, 'shop', 'Bakker');
  const ids = [(await issue(t, code, programme, '1000.00')).id as string];
  for (let i = 0; i < 5; i++) ids.push((await transfer(t, code, programme, wallet, '10.00')).id as string);
  const pending = await transfer(t, code, wallet, shop, '5.00', { pending: true, transfer_code: 'adjustment' });
  ids.push(pending.id as string);
  const posted = await t.request('POST', `/api/v1/transfers/${pending.id}/post`, { token: t.adminToken, idempotencyKey: newKey() });
  ids.push(posted.body.id as string);
  const reversal = await t.request('POST', `/api/v1/transfers/${ids[1]}/reverse`, { token: t.adminToken, idempotencyKey: newKey(), body: {} });
  ids.push(reversal.body.id as string);
  return { wallet, programme, transfers: ids };
}

/**
 * Seals until every transfer of the currency is sealed. One seal covers the transactions older
 * than the oldest one still running in the whole PostgreSQL cluster, and the other test files
 * share the cluster: under their load a single seal may stop short of the newest transfers.
 */
async function sealAll(c: Currency): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    await sealCurrency(t.sql, c);
    const [row] = await t.sql<{ done: boolean }[]>`
      SELECT (SELECT count(*) FROM transfers WHERE currency_id = ${c.id})
             = coalesce((SELECT sum(transfers_count) FROM seals WHERE currency_id = ${c.id}), 0) AS done`;
    if (row?.done === true) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${c.code}: transfers left unsealed after 200 seals`);
}

/** Waits until no transaction older than the currency's newest transfer runs in the cluster. */
async function settled(c: Currency): Promise<Currency> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const [row] = await t.sql<{ done: boolean }[]>`
      SELECT pg_snapshot_xmin(pg_current_snapshot()) > (SELECT max(txid) FROM transfers WHERE currency_id = ${c.id}) AS done`;
    if (row?.done === true) return c;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${c.code}: older transactions kept running`);
}

async function sealsCheck(code: string) {
  const checks = await verifyCurrency(t.sql, await currency(code));
  const seals = checks.find((c) => c.name === 'seals');
  expect(seals).toBeDefined();
  return { seals: seals!, all_ok: checks.every((c) => c.ok) };
}

/** Runs `change` with the append-only triggers of transfers and entries disabled. */
async function behindTheLedger(change: () => Promise<unknown>): Promise<void> {
  await t.sql`ALTER TABLE transfers DISABLE TRIGGER transfers_append_only`;
  await t.sql`ALTER TABLE entries DISABLE TRIGGER entries_append_only`;
  try {
    await change();
  } finally {
    await t.sql`ALTER TABLE transfers ENABLE TRIGGER transfers_append_only`;
    await t.sql`ALTER TABLE entries ENABLE TRIGGER entries_append_only`;
  }
}

describe('sealing', () => {
  it('seals what is new, chains seals, and verify recomputes them', async () => {
    const { programme, wallet } = await busyCurrency('SLA');
    // Each seal stops at the oldest transaction running in the cluster (other test files too).
    const first = await sealCurrency(t.sql, await settled(await currency('SLA')));
    expect(first?.seq).toBe(1n);
    expect(first?.transfers_count).toBe(9n);
    expect(first?.previous_hash).toBe('0'.repeat(64));
    expect(await sealCurrency(t.sql, await currency('SLA'))).toBeUndefined();

    await transfer(t, 'SLA', programme, wallet, '1.00');
    const second = await sealCurrency(t.sql, await settled(await currency('SLA')));
    expect(second?.seq).toBe(2n);
    expect(second?.transfers_count).toBe(1n);
    expect(second?.previous_hash).toBe(first?.hash);
    expect(second?.txid_from).toBe(first?.txid_to);

    const { seals, all_ok } = await sealsCheck('SLA');
    expect(seals).toMatchObject({ ok: true, detail: '2 seals recomputed, chain intact' });
    expect(all_ok).toBe(true);
  });

  it('the hash of a transfer is its canonical encoding, independent of key order and time zone', () => {
    const base = {
      id: '0b0e3f7c-8a9a-4d44-9d4e-3a2f4c1b2a10', currency_code: 'TOR', debit_account_id: 'a', credit_account_id: 'b',
      amount: '1250', code: 'payment', phase: 'single', pending_id: null, reverses_id: null, memo: 'brood',
      created_by: 'wallet:x', created_at: '2026-11-26T10:00:00.123456Z',
    };
    const one = transferHash({ ...base, metadata: { b: 1, a: 'x' } });
    expect(transferHash({ ...base, metadata: { a: 'x', b: 1 } })).toBe(one);
    expect(transferHash({ ...base, metadata: { a: 'x', b: 2 } })).not.toBe(one);
    expect(transferHash({ ...base, metadata: { b: 1, a: 'x' }, amount: '1251' })).not.toBe(one);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
  });

  it('20 writers transferring while seals are taken: every transfer ends up sealed exactly once', async () => {
    await createCurrency(t, 'SLB');
    const programme = await openAccount(t, 'SLB', 'programme', 'Budget');
    const wallets = await Promise.all([1, 2, 3, 4].map((i) => openAccount(t, 'SLB', 'wallet', `W${i}`)));
    await issue(t, 'SLB', programme, '100000.00');
    const slb = await currency('SLB');
    let writing = true;
    const writers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = 0; i < 15; i++) await transfer(t, 'SLB', programme, wallets[(w + i) % 4]!, '1.00');
    });
    const sealer = (async () => {
      let taken = 0;
      while (writing) {
        if (await sealCurrency(t.sql, slb) !== undefined) taken += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return taken;
    })();
    await Promise.all(writers);
    writing = false;
    const taken_while_writing = await sealer;
    await sealAll(slb);
    expect(taken_while_writing).toBeGreaterThan(1);

    const [counts] = await t.sql<{ transfers: bigint; sealed: bigint }[]>`
      SELECT (SELECT count(*) FROM transfers WHERE currency_id = ${slb.id})::bigint AS transfers,
             (SELECT sum(transfers_count) FROM seals WHERE currency_id = ${slb.id})::bigint AS sealed`;
    expect(counts).toEqual({ transfers: 301n, sealed: 301n });
    // Every id appears in exactly one seal's member list.
    const [members] = await t.sql<{ ids: number; distinct_ids: number; missing: number }[]>`
      WITH m AS (
        SELECT encode(substring(s.transfer_ids FROM (i * 16 + 1)::int FOR 16), 'hex') AS id
        FROM seals s, generate_series(0, s.transfers_count - 1) AS i
        WHERE s.currency_id = ${slb.id})
      SELECT count(*)::int AS ids, count(DISTINCT id)::int AS distinct_ids,
             (SELECT count(*)::int FROM transfers t WHERE t.currency_id = ${slb.id}
               AND replace(t.id::text, '-', '') NOT IN (SELECT id FROM m)) AS missing
      FROM m`;
    expect(members).toEqual({ ids: 301, distinct_ids: 301, missing: 0 });
    expect((await sealsCheck('SLB')).seals.ok).toBe(true);
  });
});

/** The number of the seal that holds a transfer. */
async function sealOf(code: string, transfer_id: string): Promise<string> {
  const [row] = await t.sql<{ seq: string }[]>`
    SELECT s.seq::text AS seq FROM seals s JOIN currencies c ON c.id = s.currency_id, generate_series(0, s.transfers_count - 1) AS i
    WHERE c.code = ${code} AND substring(s.transfer_ids FROM (i * 16 + 1)::int FOR 16) = decode(replace(${transfer_id}, '-', ''), 'hex')`;
  expect(row, `no seal holds ${transfer_id}`).toBeDefined();
  return row!.seq;
}

describe('verify names tampering with sealed history', () => {
  it('a memo edited behind the ledger: the transfer is named', async () => {
    const { transfers } = await busyCurrency('TMA');
    await sealAll(await currency('TMA'));
    const victim = transfers[3]!;
    await behindTheLedger(() => t.sql`UPDATE transfers SET memo = 'nothing to see' WHERE id = ${victim}`);
    const { seals, all_ok } = await sealsCheck('TMA');
    expect(all_ok).toBe(false);
    expect(seals.ok).toBe(false);
    // Usually seal 1; a sealing that met a transaction still open seals in two steps.
    expect(seals.detail).toContain(`transfer ${victim} was changed after seal ${await sealOf('TMA', victim)}`);
  });

  it('an amount edited behind the ledger: the seal names the transfer and the balances fail too', async () => {
    const { transfers } = await busyCurrency('TMB');
    await sealAll(await currency('TMB'));
    const victim = transfers[2]!;
    await behindTheLedger(() => t.sql`UPDATE transfers SET amount = amount + 1 WHERE id = ${victim}`);
    const checks = await verifyCurrency(t.sql, await currency('TMB'));
    const failed = checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toEqual(expect.arrayContaining(['balances_match_transfers', 'seals']));
    expect(checks.find((c) => c.name === 'seals')?.detail).toContain(`transfer ${victim} was changed`);
  });

  it('a transfer deleted behind the ledger: named as removed', async () => {
    const { transfers } = await busyCurrency('TMC');
    await sealAll(await currency('TMC'));
    const victim = transfers[4]!;
    // Under load the transfers may take more than one seal: the one that holds the victim.
    const [holder] = await t.sql<{ seq: bigint }[]>`
      SELECT seq FROM seals
      WHERE currency_id = ${(await currency('TMC')).id}
        AND (position(decode(replace(${victim}, '-', ''), 'hex') IN transfer_ids) - 1) % 16 = 0
        AND position(decode(replace(${victim}, '-', ''), 'hex') IN transfer_ids) > 0`;
    expect(holder).toBeDefined();
    await behindTheLedger(async () => {
      await t.sql`DELETE FROM entries WHERE transfer_id = ${victim}`;
      await t.sql`DELETE FROM transfers WHERE id = ${victim}`;
    });
    const { seals } = await sealsCheck('TMC');
    expect(seals.ok).toBe(false);
    expect(seals.detail).toContain(`transfer ${victim} was removed after seal ${holder!.seq}`);
  });

  it('a transfer slipped into sealed history: named as inserted', async () => {
    const { wallet, programme } = await busyCurrency('TMD');
    const tmd = await currency('TMD');
    const seal = await sealCurrency(t.sql, await settled(tmd));
    expect(seal).toBeDefined();
    const forged = crypto.randomUUID();
    await t.sql`INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, created_by, txid)
                VALUES (${tmd.id}, ${forged}, ${programme}, ${wallet}, 100, 'reward', 'single', 'forger', ${seal!.txid_from}::xid8)`;
    const { seals } = await sealsCheck('TMD');
    expect(seals.ok).toBe(false);
    expect(seals.detail).toContain(`transfer ${forged} was inserted into sealed history (seal 1)`);
  });

  it('a seal rewritten behind the ledger: the chain breaks', async () => {
    const { programme, wallet } = await busyCurrency('TME');
    const tme = await currency('TME');
    // sealAll, not one sealCurrency: a transaction of another test still open in the cluster
    // holds newer transfers back from a seal, and this test needs a second seal to chain.
    await sealAll(tme);
    await transfer(t, 'TME', programme, wallet, '1.00');
    await sealAll(tme);
    const [sealed] = await t.sql<{ seals_count: number }[]>`SELECT count(*)::int AS seals_count FROM seals WHERE currency_id = ${tme.id}`;
    expect(sealed?.seals_count).toBeGreaterThanOrEqual(2);
    await t.sql`ALTER TABLE seals DISABLE TRIGGER seals_append_only`;
    try {
      await t.sql`UPDATE seals SET hash = repeat('a', 64) WHERE currency_id = ${tme.id} AND seq = 1`;
    } finally {
      await t.sql`ALTER TABLE seals ENABLE TRIGGER seals_append_only`;
    }
    const { seals } = await sealsCheck('TME');
    expect(seals.ok).toBe(false);
    expect(seals.detail).toContain('seal 1: its hash was altered');
    expect(seals.detail).toContain('seal 2 does not chain to the seal before it');
  });

  it('seals cannot be updated or deleted', async () => {
    await busyCurrency('TMF');
    await sealAll(await currency('TMF'));
    await expect(t.sql`UPDATE seals SET hash = repeat('b', 64)`).rejects.toThrow(/append-only/);
    await expect(t.sql`DELETE FROM seals`).rejects.toThrow(/append-only/);
  });
});
