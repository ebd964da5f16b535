import type { Queryable, Sql } from './client.js';
import { transaction } from './client.js';
import { SealHasher, genesis_hash, sealMembers } from '../ledger/seal.js';
import type { SealedTransfer } from '../ledger/seal.js';
import type { CheckResult, Currency } from '../ledger/model.js';
import { assert } from '../ledger/errors.js';

export interface Seal {
  currency_id: number;
  seq: bigint;
  txid_from: string;
  txid_to: string;
  transfers_count: bigint;
  previous_hash: string;
  hash: string;
  transfer_ids: Uint8Array;
  transfer_hashes: Uint8Array;
  created_at: Date;
}

/** Rows fetched per round trip while hashing, so memory does not grow with the history. */
const cursor_rows = 1000;

/** Arbitrary base of the advisory locks that keep two sealers of one currency apart. */
const seal_lock_base = 7_406_100;

/** Streams the transfers with txid_from ≤ txid < txid_to, in seal order. */
async function eachInRange(sql: Queryable, currency: Currency, from: string, to: string, visit: (t: SealedTransfer) => void): Promise<void> {
  await sql<SealedTransfer[]>`
    SELECT t.id, ${currency.code}::text AS currency_code, t.debit_account_id, t.credit_account_id,
           t.amount::text AS amount, t.code, t.phase, t.pending_id, t.reverses_id, t.memo, t.metadata, t.created_by,
           to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
    FROM transfers t
    WHERE t.currency_id = ${currency.id} AND t.txid >= ${from}::xid8 AND t.txid < ${to}::xid8
    ORDER BY t.txid, t.id`.cursor(cursor_rows, (rows) => {
    for (const row of rows) visit(row);
  });
}

/**
 * Seals the transfers of a currency committed since the last seal. Writers are never blocked:
 * the seal covers the transactions older than the current snapshot's xmin, all of which have
 * ended; one still running is covered by the next seal. Undefined when there is nothing new.
 */
export async function sealCurrency(sql: Sql, currency: Currency): Promise<Seal | undefined> {
  return transaction(sql, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${seal_lock_base}, ${currency.id})`;
    // Read after the lock: this statement sees the seal a previous holder committed.
    const [last] = await tx<Seal[]>`
      SELECT seq, txid_to::text, hash FROM seals WHERE currency_id = ${currency.id} ORDER BY seq DESC LIMIT 1`;
    const [snapshot] = await tx<{ xmin: string }[]>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`;
    assert(snapshot !== undefined, 'a snapshot has an xmin');
    const from = last?.txid_to ?? '0';
    // Only after a logical restore into another server: its transaction ids are behind the data's.
    if (BigInt(snapshot.xmin) < BigInt(from)) throw new Error(transactionIdsBehind(currency, snapshot.xmin, last?.seq ?? 0n, from));
    const seq = (last?.seq ?? 0n) + 1n;
    const previous_hash = last?.hash ?? genesis_hash;
    const hasher = new SealHasher(currency.code, seq, previous_hash);
    // Each statement takes a newer snapshot, whose xmin is at least this one: every
    // transaction below snapshot.xmin has ended and is seen if it committed.
    await eachInRange(tx, currency, from, snapshot.xmin, (t) => { hasher.add(t); });
    if (hasher.count === 0) return undefined;
    const { ids, hashes } = hasher.members();
    const [seal] = await tx<Seal[]>`
      INSERT INTO seals (currency_id, seq, txid_from, txid_to, transfers_count, previous_hash, hash, transfer_ids, transfer_hashes)
      VALUES (${currency.id}, ${seq}, ${from}::xid8, ${snapshot.xmin}::xid8, ${hasher.count}, ${previous_hash},
              ${hasher.digest()}, ${ids}, ${hashes})
      RETURNING currency_id, seq, txid_from::text, txid_to::text, transfers_count, previous_hash, hash, created_at`;
    return seal;
  });
}

function transactionIdsBehind(currency: Pick<Currency, 'code'>, next: string, seq: bigint, txid_to: string): string {
  return `${currency.code}: this server's transaction ids (at ${next}) are behind the end of seal ${seq} (${txid_to}), `
    + 'so new transfers would fall into sealed history: the database was restored into another server; '
    + 'advance its transaction ids as docs/operations.md explains before writing';
}

/**
 * A message when this server's transaction ids are behind the end of a seal, which only happens
 * after a logical restore (pg_dump) into another server: new transfers would then fall into
 * sealed ranges. Undefined when all is well.
 */
export async function transactionIdsBehindSeals(sql: Queryable): Promise<string | undefined> {
  const [row] = await sql<{ code: string; seq: bigint; txid_to: string; next: string }[]>`
    SELECT c.code, s.seq, s.txid_to::text, pg_snapshot_xmax(pg_current_snapshot())::text AS next
    FROM seals s JOIN currencies c ON c.id = s.currency_id
    WHERE s.txid_to > pg_snapshot_xmax(pg_current_snapshot())
    ORDER BY s.txid_to DESC LIMIT 1`;
  return row === undefined ? undefined : transactionIdsBehind({ code: row.code }, row.next, row.seq, row.txid_to);
}

/**
 * Recomputes every seal of a currency from the transfers as they are now and checks the
 * chain; names each transfer that was changed, removed or slipped into a sealed range.
 */
export async function verifySeals(sql: Queryable, currency: Currency): Promise<CheckResult> {
  const seals = await sql<Seal[]>`
    SELECT seq, txid_from::text, txid_to::text, transfers_count, previous_hash, hash, transfer_ids, transfer_hashes
    FROM seals WHERE currency_id = ${currency.id} ORDER BY seq`;
  const problems: string[] = [];
  let previous = genesis_hash;
  let expected_from = '0';
  let expected_seq = 1n;
  for (const seal of seals) {
    const problems_before = problems.length;
    if (seal.seq !== expected_seq) problems.push(`seal ${expected_seq} is missing`);
    if (seal.previous_hash !== previous) problems.push(`seal ${seal.seq} does not chain to the seal before it`);
    if (seal.txid_from !== expected_from) problems.push(`seal ${seal.seq} does not start where the seal before it ended`);
    const sealed = new Map(sealMembers(seal.transfer_ids, seal.transfer_hashes).map((m) => [m.id, m.hash]));
    if (BigInt(sealed.size) !== seal.transfers_count) problems.push(`seal ${seal.seq}: its member list was altered`);
    const hasher = new SealHasher(currency.code, seal.seq, seal.previous_hash);
    await eachInRange(sql, currency, seal.txid_from, seal.txid_to, (t) => {
      const now = hasher.add(t);
      const then = sealed.get(t.id);
      if (then === undefined) problems.push(`transfer ${t.id} was inserted into sealed history (seal ${seal.seq})`);
      else if (then !== now) problems.push(`transfer ${t.id} was changed after seal ${seal.seq}`);
      sealed.delete(t.id);
    });
    for (const id of sealed.keys()) problems.push(`transfer ${id} was removed after seal ${seal.seq}`);
    if (hasher.digest() !== seal.hash && problems.length === problems_before) problems.push(`seal ${seal.seq}: its hash was altered`);
    previous = seal.hash;
    expected_from = seal.txid_to;
    expected_seq = seal.seq + 1n;
  }
  const last = seals.at(-1);
  if (last !== undefined) {
    // New transactions get ids from xmax on; they must not fall below the end of the last seal.
    const [server] = await sql<{ next: string }[]>`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next`;
    assert(server !== undefined, 'a snapshot has an xmax');
    if (BigInt(server.next) < BigInt(last.txid_to)) problems.push(transactionIdsBehind(currency, server.next, last.seq, last.txid_to));
  }
  if (problems.length > 0) {
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
    return { name: 'seals', ok: false, detail: problems.slice(0, 10).join('; ') + more };
  }
  return { name: 'seals', ok: true, detail: `${seals.length} seals recomputed, chain intact` };
}
