import type { Queryable, Sql } from './client.js';
import { isConnectionLost, retried } from './client.js';
import type { AuditEntry } from './audit.js';
import { assert } from '../ledger/errors.js';
import { decideBatch, decideKey, keyOf } from '../ledger/batch.js';
import type {
  BatchState, BatchWrite, Command, Decision, HeldAccount, HeldRequest, HeldKey, HeldTransfer, Idempotency, KeyDecision,
} from '../ledger/batch.js';
import type { Transfer, TransferResult } from '../ledger/model.js';

/** Raised when an atomic list fails: the item's index, its failure code and detail. */
export class BatchItemError extends Error {
  readonly index: number;
  readonly code: string;
  readonly detail: Record<string, unknown>;

  constructor(index: number, code: string, detail: Record<string, unknown>) {
    super(`transfer ${index} failed: ${code}`);
    this.name = 'BatchItemError';
    this.index = index;
    this.code = code;
    this.detail = detail;
  }
}

/** What a posted command answers, recorded for its idempotency key, and its audit record. */
export interface Response {
  status: number;
  body: unknown;
  audit?: AuditEntry;
}

export interface BatchCommand extends Command {
  /** Builds the response of a posted command (pure: a retried transaction calls it again). */
  respond?: (transfer: Transfer, request: HeldRequest | undefined) => Response;
}

export type CommandResult =
  | { kind: 'posted'; transfer: Transfer; response?: Response }
  | Exclude<Decision, { kind: 'posted' }>;

type TransferJson = Omit<HeldTransfer, 'amount' | 'refunded'> & { amount: string; refunded: string };

interface LockedJson {
  now: string;
  sessions: Array<{ id: string; claims_count: number; max_claims: number; expires_at: string; closed_at: string | null; activity_active: boolean }>;
  transfers: TransferJson[];
  taken: string[];
  claimed: Array<{ session_id: string; account_id: string }>;
  earnings: Array<{ account_id: string; period: string; amount: string }>;
  keys: Array<{ locked: boolean; request_hash: string | null; status: number | null; body: unknown }>;
  requests: Array<Omit<HeldRequest, 'amount' | 'expires_at'> & { amount: string; expires_at: string }>;
  accounts: AccountJson[];
}

/** An account as wm_batch_lock returns it: an array, in the order of its columns there. */
type AccountJson = [string, string, string, string, string, string, string, string, string | null, string];

function accountFromJson(row: AccountJson): HeldAccount {
  const [id, kind, name, status, debits_pending, debits_posted, credits_pending, credits_posted, balance_max, version] = row;
  return {
    id, kind: kind as HeldAccount['kind'], name, status: status as HeldAccount['status'],
    debits_pending: BigInt(debits_pending), debits_posted: BigInt(debits_posted),
    credits_pending: BigInt(credits_pending), credits_posted: BigInt(credits_posted),
    balance_max: balance_max === null ? null : BigInt(balance_max), version: BigInt(version),
  };
}

/**
 * First statement of a batch: claims the idempotency keys, locks the payment requests and the
 * accounts (see migrations/0006_batching.sql) and returns their state.
 */
export async function lockBatch(tx: Queryable, currency_id: number, input: LockInput): Promise<BatchState> {
  return stateOf(currency_id, input, await lockQuery(tx, currency_id, input));
}

interface LockInput {
  request_ids: string[];
  account_ids: string[];
  keys: Array<{ scope: string; key: string }>;
  session_ids: string[];
  claims: Array<{ session_id: string; account_id: string }>;
  earnings: Array<{ account_id: string; period: string }>;
  /** Transfers referred to: resolved, reversed or refunded by a command. */
  transfer_ids: string[];
  /** Client-chosen ids of new transfers. */
  new_ids: string[];
}

function lockQuery(tx: Queryable, currency_id: number, input: LockInput) {
  return tx<{ state: LockedJson }[]>`
    SELECT wm_batch_lock(${currency_id}, ${input.request_ids}::uuid[], ${input.account_ids}::uuid[],
                         ${input.keys.map((k) => k.scope)}::text[], ${input.keys.map((k) => k.key)}::text[],
                         ${input.session_ids}::uuid[], ${input.claims.map((c) => c.session_id)}::uuid[],
                         ${input.claims.map((c) => c.account_id)}::uuid[], ${input.earnings.map((e) => e.account_id)}::uuid[],
                         ${input.earnings.map((e) => e.period)}::text[], ${input.transfer_ids}::uuid[],
                         ${input.new_ids}::uuid[]) AS state`;
}

function stateOf(currency_id: number, input: LockInput, rows: Array<{ state: LockedJson }>): BatchState {
  const [row] = rows;
  assert(row !== undefined && row.state.keys.length === input.keys.length, 'one state per key');
  const keys = new Map<string, HeldKey>();
  input.keys.forEach((k, i) => {
    const held = row.state.keys[i];
    assert(held !== undefined, 'one state per key');
    keys.set(keyOf(k.scope, k.key), {
      locked: held.locked,
      stored: held.request_hash === null ? null : { request_hash: held.request_hash, status: held.status ?? 200, body: held.body },
    });
  });
  return {
    currency_id,
    now: new Date(row.state.now),
    keys,
    requests: new Map(row.state.requests.map((r) => [r.id, { ...r, amount: BigInt(r.amount), expires_at: new Date(r.expires_at) }])),
    accounts: new Map(row.state.accounts.map((a) => [a[0], accountFromJson(a)])),
    sessions: new Map(row.state.sessions.map((x) => [x.id, {
      ...x, expires_at: new Date(x.expires_at), closed_at: x.closed_at === null ? null : new Date(x.closed_at),
    }])),
    transfers: new Map(row.state.transfers.map((t) => [t.id, { ...t, amount: BigInt(t.amount), refunded: BigInt(t.refunded) }])),
    taken: new Set(row.state.taken),
    claimed: new Set(row.state.claimed.map((c) => keyOf(c.session_id, c.account_id))),
    earnings: new Map(row.state.earnings.map((e) => [keyOf(e.account_id, e.period), BigInt(e.amount)])),
  };
}

/** Second statement: everything the batch decided, written set-wise. */
export function writeBatch(
  tx: Queryable, currency_id: number, write: BatchWrite,
  records: { keys: Array<{ scope: string; key: string; request_hash: string; status: number; body: unknown }>; audit: AuditEntry[] },
) {
  const text = (value: bigint) => value.toString();
  const json = (value: unknown) => tx.json(value as never);
  return tx`
    SELECT wm_batch_write(${currency_id},
      ${json(write.transfers.map((t) => ({ ...t, amount: text(t.amount) })))},
      ${json(write.entries.map((e) => ({ ...e, version: text(e.version), amount: text(e.amount), balance_after: text(e.balance_after) })))},
      ${json(write.accounts.map((a) => ({
        id: a.id, debits: text(a.debits), credits: text(a.credits), debits_pending: text(a.debits_pending),
        credits_pending: text(a.credits_pending), entries: text(a.entries), version_after: text(a.version_after),
      })))},
      ${json(write.paid)}, ${json(records.keys)}, ${json(records.audit)},
      ${json(write.claims)}, ${json(write.sessions)},
      ${json(write.earnings.map((e) => ({ ...e, amount: text(e.amount), cap: e.cap === null ? null : text(e.cap) })))},
      ${json(write.refunds.map((r) => ({ ...r, paid: text(r.paid), amount: text(r.amount) })))})`;
}

type KeyRecord = { scope: string; key: string; request_hash: string; status: number; body: unknown };

/** What the first statement must lock and read for these commands. */
function lockInput(commands: BatchCommand[]) {
  const request_ids = new Set<string>();
  const account_ids = new Set<string>();
  const keys = new Map<string, { scope: string; key: string }>();
  const session_ids = new Set<string>();
  const claims = new Map<string, { session_id: string; account_id: string }>();
  const earnings = new Map<string, { account_id: string; period: string }>();
  const transfer_ids = new Set<string>();
  const new_ids: string[] = [];
  for (const command of commands) {
    const { pending_id, reverses_id } = command.posting;
    for (const id of [pending_id, reverses_id, command.refunds]) if (id !== undefined) transfer_ids.add(id);
    if (command.client_id === true) new_ids.push(command.posting.id);
    if (command.pays_request !== undefined) request_ids.add(command.pays_request);
    const wallet = command.posting.credit_account_id;
    if (command.claim !== undefined && wallet !== undefined) {
      session_ids.add(command.claim.session_id);
      claims.set(keyOf(command.claim.session_id, wallet), { session_id: command.claim.session_id, account_id: wallet });
      for (const { period } of command.claim.caps) earnings.set(keyOf(wallet, period), { account_id: wallet, period });
    }
    for (const { account_id, period } of command.limits ?? []) earnings.set(keyOf(account_id, period), { account_id, period });
    if (command.posting.debit_account_id !== undefined) account_ids.add(command.posting.debit_account_id);
    if (command.posting.credit_account_id !== undefined) account_ids.add(command.posting.credit_account_id);
    const k = command.idempotency;
    if (k !== undefined) keys.set(keyOf(k.scope, k.key), { scope: k.scope, key: k.key });
  }
  // Counters in a fixed order, as they are locked (account, then period).
  const earnings_sorted = [...earnings.values()].sort((a, b) => (a.account_id + a.period < b.account_id + b.period ? -1 : 1));
  return {
    request_ids: [...request_ids], account_ids: [...account_ids], keys: [...keys.values()],
    session_ids: [...session_ids], claims: [...claims.values()], earnings: earnings_sorted,
    transfer_ids: [...transfer_ids], new_ids,
  };
}

/** Decides the commands and builds their responses, idempotency records and audit rows. */
function decide(state: BatchState, commands: BatchCommand[], atomic: boolean) {
  const decided = decideBatch(state, commands, { atomic });
  const records = { keys: [] as KeyRecord[], audit: [] as AuditEntry[] };
  if (decided.failed_index !== undefined) {
    return { results: decided.decisions as CommandResult[], failed_index: decided.failed_index, write: decided.write, records, writes: false };
  }
  const results: CommandResult[] = decided.decisions.map((decision, i) => {
    if (decision.kind !== 'posted') return decision;
    const command = commands[i];
    assert(command !== undefined, 'one decision per command');
    const response = command.respond?.(decision.transfer, decision.request);
    if (response !== undefined) {
      if (command.idempotency !== undefined) records.keys.push({ ...command.idempotency, status: response.status, body: response.body });
      if (response.audit !== undefined) records.audit.push(response.audit);
    }
    return response === undefined ? { kind: 'posted', transfer: decision.transfer } : { kind: 'posted', transfer: decision.transfer, response };
  });
  const writes = decided.write.transfers.length > 0 || records.keys.length > 0 || records.audit.length > 0;
  return { results, write: decided.write, records, writes, failed_index: undefined };
}

/**
 * Runs commands of one currency in the caller's transaction: two statements, whatever their
 * number. Atomic: the first failure is reported by its index and nothing is written.
 */
export async function runCommands(
  tx: Queryable, currency_id: number, commands: BatchCommand[], atomic = false,
): Promise<{ results: CommandResult[]; failed_index?: number }> {
  const state = await lockBatch(tx, currency_id, lockInput(commands));
  const decided = decide(state, commands, atomic);
  if (decided.failed_index !== undefined) return { results: decided.results, failed_index: decided.failed_index };
  if (decided.writes) await writeBatch(tx, currency_id, decided.write, decided.records);
  return { results: decided.results };
}

type Reserved = Awaited<ReturnType<Sql['reserve']>>;
/** A statement not yet sent. */
type Statement = { execute(): Promise<unknown> };

/**
 * A transaction of two round trips on a reserved connection: `BEGIN` goes out with the first
 * statement and `COMMIT` with the last (pipelined). `body` gets the connection and ends the
 * transaction with `finish` (write, then COMMIT) or by returning without it (ROLLBACK).
 * Retried on deadlocks and serialization failures, which leave nothing written.
 */
async function pipelined<T>(
  sql: Sql, body: (connection: Reserved, finish: (write?: () => Statement) => Promise<void>) => Promise<T>,
): Promise<T> {
  return retried(async () => {
    const connection = await sql.reserve();
    let open = true;
    let lost = false;
    try {
      const begin = connection`BEGIN`.execute();
      const finish = async (write?: () => Statement) => {
        // Handed to the driver in this order (execute), so they leave in this order. A failed
        // write turns the COMMIT behind it into a rollback; its error rejects here.
        if (write === undefined) await connection`COMMIT`;
        else await Promise.all([write().execute(), connection`COMMIT`.execute()]);
        open = false;
      };
      const [, result] = await Promise.all([begin, body(connection, finish)]);
      if (open) {
        await connection`ROLLBACK`;
        open = false;
      }
      return result;
    } catch (error) {
      lost = isConnectionLost(error);
      if (open && !lost) await connection`ROLLBACK`.catch(() => {});
      throw error;
    } finally {
      // A lost connection is not handed back: the driver has moved it (or will, once its socket
      // closes) to its closed connections, and releasing it would put a dead socket back into
      // the pool, which postgres.js 3.4.9 then writes to and crashes the process.
      if (!lost) connection.release();
    }
  });
}

/**
 * Runs commands in their own transaction and answers only after it committed. Two round trips
 * whatever the number of commands.
 */
export async function executeCommands(sql: Sql, currency_id: number, commands: BatchCommand[]): Promise<CommandResult[]> {
  const input = lockInput(commands);
  return pipelined(sql, async (connection, finish) => {
    const locked = await lockQuery(connection, currency_id, input).execute();
    const decided = decide(stateOf(currency_id, input, locked), commands, false);
    await finish(decided.writes ? () => writeBatch(connection, currency_id, decided.write, decided.records) : undefined);
    return decided.results;
  });
}

/** How a request of many commands under one Idempotency-Key ended. */
export type KeyedOutcome<R> = { kind: 'done'; response: R; posted: Transfer[] } | KeyDecision;

/**
 * One request that posts many commands (a coordinator's batch) under one Idempotency-Key, in
 * its own transaction of two round trips: the key is claimed and read with the accounts'
 * locks, and its record and the audit row are written with the transfers, just before COMMIT.
 * `respond` builds the answer from the results. Atomic: the first failure writes nothing and
 * is thrown as BatchItemError. A client's transfer id committed by someone else between the
 * two statements fails the write (unique violation): then the list runs once more, and its
 * lock sees the id taken.
 */
export async function executeKeyed<R extends Response>(
  sql: Sql, currency_id: number, key: Idempotency, commands: Command[], atomic: boolean,
  respond: (results: TransferResult[]) => R,
): Promise<KeyedOutcome<R>> {
  const input = lockInput(commands);
  input.keys = [{ scope: key.scope, key: key.key }];
  const attempt = () => pipelined(sql, async (connection, finish): Promise<KeyedOutcome<R>> => {
    const state = stateOf(currency_id, input, await lockQuery(connection, currency_id, input).execute());
    const by_key = decideKey(state.keys.get(keyOf(key.scope, key.key)), key.request_hash);
    if (by_key !== undefined) return by_key;
    const decided = decide(state, commands, atomic);
    if (decided.failed_index !== undefined) throw itemError(decided.results, decided.failed_index);
    const response = respond(decided.results.map(transferResult));
    const records = {
      keys: [{ ...key, status: response.status, body: response.body }],
      audit: response.audit === undefined ? [] : [response.audit],
    };
    await finish(() => writeBatch(connection, currency_id, decided.write, records));
    return { kind: 'done', response, posted: decided.write.transfers };
  });
  try {
    return await attempt();
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    return attempt();
  }
}

/** A command's result as the result of a transfer of a list (commands without keys). */
function transferResult(result: CommandResult): TransferResult {
  if (result.kind === 'posted') return { ok: true, transfer: result.transfer };
  assert(result.kind === 'failed', 'commands without keys are posted or failed');
  return { ok: false, code: result.code, detail: result.detail };
}

/** The failure that stopped an atomic list. */
function itemError(results: CommandResult[], index: number): BatchItemError {
  const failed = results[index];
  assert(failed !== undefined && failed.kind === 'failed', 'the failed index names a failure');
  return new BatchItemError(index, failed.code, failed.detail);
}

export interface BatcherOptions {
  /** Most commands in one transaction. */
  size_max: number;
  /** Most transactions of one currency in flight at once. */
  inflight_max: number;
  /** Told about a batch that failed as a whole and was retried command by command. */
  onBatchFailure?: (error: unknown, size: number) => void;
  /** Told about every committed batch (for the metrics). */
  onBatch?: (size: number, duration_s: number) => void;
}

/**
 * Combines concurrent commands into shared transactions (group commit, as TigerBeetle batches
 * requests): a command waits only while `inflight_max` batches of its currency are being
 * written, so an idle service runs each command at once and a busy one runs many per
 * transaction. Every command's promise settles after its transaction committed.
 */
export interface Batcher {
  submit(currency_id: number, command: BatchCommand): Promise<CommandResult>;
}

interface Waiting {
  command: BatchCommand;
  resolve: (result: CommandResult) => void;
  reject: (error: unknown) => void;
}

/** Settles each waiting command with its result, in order. */
function settle(batch: Waiting[], results: CommandResult[]): void {
  batch.forEach((waiting, i) => {
    const result = results[i];
    if (result === undefined) waiting.reject(new Error('batch: no result for a command'));
    else waiting.resolve(result);
  });
}

/**
 * Writes one batch in one transaction and settles its commands; `release` frees the batch's
 * place in flight once it committed. A batch that failed as a whole is retried command by command.
 */
async function runBatch(sql: Sql, options: BatcherOptions, currency_id: number, batch: Waiting[], release: () => void): Promise<void> {
  const started = process.hrtime.bigint();
  let results: CommandResult[];
  try {
    results = await executeCommands(sql, currency_id, batch.map((w) => w.command));
  } catch (error) {
    // A lost connection leaves the outcome unknown: the clients retry with their keys.
    if (isConnectionLost(error)) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    // Nothing was written: one bad command must not fail the others, so each runs alone. A lone
    // command runs once more too: the one expected failure — an earnings counter that another
    // process created after this batch locked — passes on a second try, which sees the counter.
    options.onBatchFailure?.(error, batch.length);
    await Promise.all(batch.map(async (waiting) => {
      try {
        settle([waiting], await executeCommands(sql, currency_id, [waiting.command]));
      } catch (alone) {
        waiting.reject(alone);
      }
    }));
    return;
  }
  // Committed. The next batch leaves for PostgreSQL before these answers are built, so the
  // thread builds and sends them while PostgreSQL locks and reads the next batch.
  release();
  settle(batch, results);
  options.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
}

export function createBatcher(sql: Sql, options: BatcherOptions): Batcher {
  const queues = new Map<number, Waiting[]>();
  const inflight = new Map<number, number>();
  const scheduled = new Set<number>();

  const schedule = (currency_id: number) => {
    if (scheduled.has(currency_id) || (inflight.get(currency_id) ?? 0) >= options.inflight_max) return;
    scheduled.add(currency_id);
    // After the I/O of this turn of the event loop: requests that arrived together go together.
    setImmediate(() => {
      scheduled.delete(currency_id);
      flush(currency_id);
    });
  };

  const flush = (currency_id: number) => {
    const queue = queues.get(currency_id);
    if (queue === undefined || queue.length === 0) return;
    const batch = queue.splice(0, options.size_max);
    if (queue.length === 0) queues.delete(currency_id);
    inflight.set(currency_id, (inflight.get(currency_id) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (inflight.get(currency_id) ?? 1) - 1;
      if (left === 0) inflight.delete(currency_id);
      else inflight.set(currency_id, left);
      // What queued while this batch was written goes at once: it has waited a turn already.
      if (!scheduled.has(currency_id)) flush(currency_id);
    };
    void runBatch(sql, options, currency_id, batch, release).finally(release);
    schedule(currency_id);
  };

  return {
    submit(currency_id, command) {
      return new Promise<CommandResult>((resolve, reject) => {
        let queue = queues.get(currency_id);
        if (queue === undefined) {
          queue = [];
          queues.set(currency_id, queue);
        }
        queue.push({ command, resolve, reject });
        schedule(currency_id);
      });
    },
  };
}
