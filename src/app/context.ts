/**
 * What a use case is given: the services it may call and who acts. Use cases know neither
 * HTTP nor SQL text: they parse nothing, ask src/ledger to decide, and hand the decision to a
 * writer of src/db (most often the one posting pipeline).
 */
import type { Sql } from '../db/client.js';
import type { Batcher } from '../db/batch.js';
import type { Loaders } from '../db/loaders.js';
import type { ActorKind, AuditEntry } from '../db/audit.js';
import type { Config } from '../config.js';
import type { TokenKeys } from '../security/tokens.js';
import { insertAudit } from '../db/audit.js';
import type { Queryable } from '../db/client.js';
import type { AuditAction, AuditObjectKind } from '../ledger/audit-actions.js';

export interface Services {
  sql: Sql;
  /** Combines concurrent postings of a currency into shared transactions. */
  batcher: Batcher;
  config: Config;
  /** Signs the tokens a login or a pairing hands out. */
  keys: TokenKeys;
  /** Lookups shared by concurrent requests (currencies, sessions, payment requests). */
  loaders: Loaders;
}

/** What the audit log records of an action; never a secret. */
export interface AuditInput {
  action: AuditAction;
  currency_id: number | null;
  object?: { kind: AuditObjectKind; id: string };
  changes?: Record<string, unknown>;
  /** Who acted when the request itself is not authenticated (a login, a pairing). */
  actor?: { kind: ActorKind; id: string | null };
}

/** Who acts: named on the transfers they make, and recorded with where they acted from. */
export interface Actor {
  /** `user:<id>`, `wallet:<account>`, `device:<id>`: the created_by of their transfers. */
  label: string;
  /** The audit record of an action by this actor, to be written with the action. */
  record(input: AuditInput): AuditEntry;
  /**
   * Counts a guess (a password, a PIN, a pairing code) against the limits of where this actor
   * acts from, before anything is compared; refuses with 429 `rate_limited` above a limit.
   * `release()` gives the guess back when it was right, so only failures count.
   */
  attempt(kind: AttemptKind, target: string | undefined): { release: () => void };
}

/** What is being guessed: a staff password, a card's PIN, a pairing code. */
export type AttemptKind = 'login' | 'pin' | 'pairing';

/** Writes the audit record of an action by `actor`; given the action's transaction, with it. */
export async function recordAudit(services: Pick<Services, 'sql'>, actor: Actor, input: AuditInput, sql: Queryable = services.sql): Promise<void> {
  await insertAudit(sql, actor.record(input));
}

/**
 * The service itself acting on a schedule (the daily expiry run): `system:<name>` on its
 * transfers, actor kind 'system' with id `name` in the audit log. It guesses no secret.
 */
export function systemActor(name: string): Actor {
  return {
    label: `system:${name}`,
    record: (input) => ({
      currency_id: input.currency_id, actor_kind: 'system', actor_id: name, action: input.action,
      object_kind: input.object?.kind ?? null, object_id: input.object?.id ?? null, ip: null, request_id: null,
      changes: input.changes ?? {},
    }),
    attempt: () => {
      throw new Error(`assertion failed: system:${name} guesses no secret`);
    },
  };
}
