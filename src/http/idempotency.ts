import { createHash } from 'node:crypto';
import type { AppContext } from './context.js';
import { DomainError } from '../ledger/errors.js';
import { runIdempotent } from '../db/idempotency.js';
import type { Queryable } from '../db/client.js';
import { audit } from './audit.js';
import type { AuditInput } from './audit.js';

const key_length_max = 255;

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
  c: AppContext, scope: string, body: unknown, run: (tx: Queryable) => Promise<Outcome<T, S>>,
) {
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
