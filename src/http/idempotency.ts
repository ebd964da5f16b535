import { createHash } from 'node:crypto';
import type { AppContext } from './context.js';
import { DomainError } from '../ledger/errors.js';
import type { Idempotency } from '../ledger/batch.js';
import type { Actor, Services } from '../app/context.js';
import type { Answer } from '../app/posting.js';
import { actorOf } from './auth.js';
import { auditEntry } from './audit.js';
import { takeAttempt } from './rate-limit.js';

const key_length_max = 255;

/**
 * The Idempotency-Key of a value-moving request, scoped to its caller, and the fingerprint of
 * what it asks. The use cases decide what the key means (src/app/posting.ts).
 */
export function idempotencyOf(c: AppContext, body: unknown): Idempotency {
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
  return { scope: actorOf(c), key, request_hash };
}

/** Who acts in this request, as the use cases see them. */
export function actor(c: AppContext): Actor {
  return {
    label: actorOf(c),
    record: (input) => auditEntry(c, input),
    attempt: (kind, target) => takeAttempt(c, kind, target),
  };
}

/** The services of this request's app. */
export function services(c: AppContext): Services {
  const deps = c.get('deps');
  return { sql: deps.sql, batcher: c.get('batcher'), config: deps.config, keys: deps.keys, loaders: c.get('loaders') };
}

/** A use case's answer as the response: a replay says so, new transfers are counted. */
export function answer<T extends object, S extends 200 | 201>(c: AppContext, result: Answer<T>) {
  if (result.replayed) c.header('Idempotency-Replayed', 'true');
  for (const code of result.posted) c.get('deps').metrics.transfers.inc({ code });
  return c.json(result.body, result.status as S);
}
