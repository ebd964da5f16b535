import type { Sql, TransactionSql } from './client.js';
import { transaction } from './client.js';
import { DomainError } from '../ledger/errors.js';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotentOutcome =
  | { replayed: false; response: StoredResponse }
  | { replayed: true; response: StoredResponse };

/**
 * Runs `fn` at most once per (scope, key). The key is claimed with a transaction-scoped
 * advisory lock (a second request while the first runs gets 409 at once), and the response is
 * recorded in the same transaction as what `fn` wrote, so a replay survives restarts and a
 * crash can never leave a write without its record. Only successful responses are recorded:
 * a rejected request writes nothing, so it may be retried with the same key.
 */
export async function runIdempotent(
  sql: Sql, scope: string, key: string, request_hash: string,
  fn: (tx: TransactionSql) => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  return transaction(sql, async (tx) => {
    const [lock] = await tx<{ locked: boolean }[]>`
      SELECT pg_try_advisory_xact_lock(hashtextextended(${scope} || chr(31) || ${key}, 0)) AS locked`;
    if (lock === undefined || !lock.locked) {
      throw new DomainError('idempotency_key_in_flight', 'a request with this Idempotency-Key is still being processed');
    }
    // Read after the lock is held: in READ COMMITTED this statement sees a record committed by
    // whoever held the lock before.
    const [stored] = await tx<{ request_hash: string; response_status: number; response_body: unknown }[]>`
      SELECT request_hash, response_status, response_body FROM idempotency_keys
      WHERE scope = ${scope} AND key = ${key}`;
    if (stored !== undefined) {
      if (stored.request_hash !== request_hash) {
        throw new DomainError('idempotency_key_reused', 'this Idempotency-Key was used with another request');
      }
      return { replayed: true, response: { status: stored.response_status, body: stored.response_body } };
    }
    const response = await fn(tx);
    await tx`INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body)
             VALUES (${scope}, ${key}, ${request_hash}, ${response.status}, ${tx.json(response.body as never)})`;
    return { replayed: false, response };
  });
}
