import { createHash } from 'node:crypto';
import type { AppContext } from './context.js';
import { DomainError, assert } from '../ledger/errors.js';
import { failureError } from '../ledger/failures.js';
import type { Command, HeldRequest, Idempotency, KeyDecision } from '../ledger/batch.js';
import type { Currency, Transfer, TransferResult } from '../ledger/model.js';
import { executeKeyed } from '../db/batch.js';
import { BatchItemError } from '../db/ledger.js';
import type { AuditEntry } from '../db/audit.js';
import { runIdempotent } from '../db/idempotency.js';
import type { TransactionSql } from '../db/client.js';
import { audit, auditEntry } from './audit.js';
import type { AuditInput } from './audit.js';

const key_length_max = 255;

/** The Idempotency-Key of a value-moving request and the fingerprint of what it asks. */
function idempotencyOf(c: AppContext, scope: string, body: unknown): Idempotency {
  const key = c.req.header('Idempotency-Key');
  if (key === undefined || key.length === 0) {
    throw new DomainError('idempotency_key_missing', 'this request moves value and needs an Idempotency-Key header');
  }
  if (key.length > key_length_max) {
    throw new DomainError('idempotency_key_invalid', `Idempotency-Key must be 1–${key_length_max} characters`);
  }
  const request_hash = createHash('sha256')
    .update(`${c.req.method} ${c.req.path}\n${JSON.stringify(body)}`)
    .digest('hex');
  return { scope, key, request_hash };
}

/** What a value-moving handler answers, and the transfers it committed (for the metrics). */
export interface Outcome<T, S> {
  status: S;
  body: T;
  transfers: Array<{ code: string }>;
  /** What to record in the audit log, in the same transaction (not on replays). */
  audit?: AuditInput;
}

/**
 * Runs a value-moving request at most once per Idempotency-Key of the caller (`scope`). The
 * same key with the same body replays the first response with `Idempotency-Replayed: true`.
 */
export async function idempotent<T extends object, S extends 200 | 201>(
  c: AppContext, scope: string, body: unknown, run: (tx: TransactionSql) => Promise<Outcome<T, S>>,
) {
  const { key, request_hash } = idempotencyOf(c, scope, body);
  // Reassigned on every attempt: a retried transaction counts only what finally committed.
  let committed: Outcome<T, S> | undefined;
  const outcome = await runIdempotent(c.get('deps').sql, scope, key, request_hash, async (tx) => {
    committed = await run(tx);
    // In the same transaction: a crash or a lost connection after the commit must not leave an
    // action without its record, since a retry only replays the response (the bank test found it).
    if (committed.audit !== undefined) await audit(c, committed.audit, tx);
    return committed;
  });
  if (outcome.replayed) {
    c.header('Idempotency-Replayed', 'true');
  } else if (committed !== undefined) {
    for (const transfer of committed.transfers) c.get('deps').metrics.transfers.inc({ code: transfer.code });
  }
  // A replay carries the body recorded for this very request: the same shape T.
  return c.json(outcome.response.body as T, outcome.response.status as S);
}

/**
 * A single-phase transfer of `currency` (a payment, a charge), run at most once per
 * Idempotency-Key like `idempotent`, but combined with the concurrent ones into one database
 * transaction by the batcher. The answer leaves after that transaction committed.
 */
export async function idempotentPosting<T extends object, S extends 200 | 201>(
  c: AppContext, scope: string, body: unknown, currency: Currency,
  command: Omit<Command, 'idempotency'>,
  respond: (transfer: Transfer, request: HeldRequest | undefined) => Outcome<T, S>,
) {
  const idempotency = idempotencyOf(c, scope, body);
  const result = await c.get('batcher').submit(currency.id, {
    ...command, idempotency,
    respond: (transfer, request) => stored(c, respond(transfer, request)),
  });
  switch (result.kind) {
    case 'posted': {
      assert(result.response !== undefined, 'a posted command has its response');
      c.get('deps').metrics.transfers.inc({ code: result.transfer.code });
      return c.json(result.response.body as T, result.response.status as S);
    }
    case 'replayed':
    case 'key_in_flight':
    case 'key_reused':
      return keyAnswer<T, S>(c, result);
    case 'failed':
      throw failureError(result.code, result.detail, currency.scale);
  }
}

/**
 * A request that posts many commands under one Idempotency-Key (a coordinator's batch), at most
 * once like `idempotent`, in one transaction of two round trips (executeKeyed): the key is
 * claimed with the accounts' locks, and its record and the audit row are written with the
 * transfers. `answer` turns the results into the outcome. Atomic: the first failure throws
 * BatchItemError and nothing is written. Undefined when a transfer id of the batch was
 * committed meanwhile by another request: the caller then takes its general way.
 */
export async function idempotentBatch<T extends object, S extends 200 | 201>(
  c: AppContext, scope: string, body: unknown, currency: Currency, commands: Command[], atomic: boolean,
  answer: (results: TransferResult[]) => Outcome<T, S>,
) {
  const key = idempotencyOf(c, scope, body);
  let result: Awaited<ReturnType<typeof executeKeyed<StoredOutcome<T, S>>>>;
  try {
    result = await executeKeyed(c.get('deps').sql, currency.id, key, commands, atomic, (results) => stored(c, answer(results)));
  } catch (error) {
    if (!(error instanceof BatchItemError) && (error as { code?: string }).code === '23505') return undefined;
    throw error;
  }
  if (result.kind !== 'done') return keyAnswer<T, S>(c, result);
  for (const transfer of result.response.transfers) c.get('deps').metrics.transfers.inc({ code: transfer.code });
  return c.json(result.response.body, result.response.status);
}

/** An outcome as it is recorded for its key: its audit input made an audit row of this request. */
type StoredOutcome<T, S> = Omit<Outcome<T, S>, 'audit'> & { audit?: AuditEntry };

function stored<T, S>(c: AppContext, outcome: Outcome<T, S>): StoredOutcome<T, S> {
  const { audit: input, ...rest } = outcome;
  return input === undefined ? rest : { ...rest, audit: auditEntry(c, input) };
}

/** The answer when the key decided: the recorded response again, or a refusal. */
function keyAnswer<T extends object, S extends 200 | 201>(c: AppContext, result: KeyDecision) {
  if (result.kind === 'key_in_flight') {
    throw new DomainError('idempotency_key_in_flight', 'a request with this Idempotency-Key is still being processed');
  }
  if (result.kind === 'key_reused') {
    throw new DomainError('idempotency_key_reused', 'this Idempotency-Key was used with another request');
  }
  c.header('Idempotency-Replayed', 'true');
  return c.json(result.body as T, result.status as S);
}
