import type { Queryable } from './client.js';

export type ActorKind = 'user' | 'wallet' | 'device' | 'anonymous' | 'system';

export interface AuditEntry {
  currency_id: number | null;
  actor_kind: ActorKind;
  actor_id: string | null;
  action: string;
  object_kind: string | null;
  object_id: string | null;
  ip: string | null;
  request_id: string | null;
  /** The changed fields, never a secret. */
  changes: Record<string, unknown>;
}

export interface AuditRow extends AuditEntry {
  id: bigint;
  at: Date;
}

export async function insertAudit(sql: Queryable, entry: AuditEntry): Promise<void> {
  await sql`
    INSERT INTO audit_log (currency_id, actor_kind, actor_id, action, object_kind, object_id, ip, request_id, changes)
    VALUES (${entry.currency_id}, ${entry.actor_kind}, ${entry.actor_id}, ${entry.action}, ${entry.object_kind},
            ${entry.object_id}, ${entry.ip}, ${entry.request_id}, ${sql.json(entry.changes as never)})`;
}

export interface AuditQuery {
  /** A currency's log, or (undefined) everything, logins included. */
  currency_id?: number;
  actor?: string;
  object?: string;
  action?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** Keyset: entries older than this id. */
  before_id?: bigint;
}

/** Newest first. */
export async function listAudit(sql: Queryable, query: AuditQuery): Promise<AuditRow[]> {
  return sql<AuditRow[]>`
    SELECT * FROM audit_log
    WHERE (${query.currency_id ?? null}::int IS NULL OR currency_id = ${query.currency_id ?? null}::int)
      AND (${query.actor ?? null}::text IS NULL OR actor_id = ${query.actor ?? null}::text)
      AND (${query.object ?? null}::text IS NULL OR object_id = ${query.object ?? null}::text)
      AND (${query.action ?? null}::text IS NULL OR action = ${query.action ?? null}::text OR starts_with(action, ${`${query.action ?? ''}.`}))
      AND (${query.from ?? null}::timestamptz IS NULL OR at >= ${query.from ?? null}::timestamptz)
      AND (${query.to ?? null}::timestamptz IS NULL OR at < ${query.to ?? null}::timestamptz)
      AND (${query.before_id ?? null}::bigint IS NULL OR id < ${query.before_id ?? null}::bigint)
    ORDER BY id DESC
    LIMIT ${query.limit}`;
}
