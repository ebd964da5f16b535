import type { Queryable } from './client.js';
import type { AuditAction, AuditObjectKind } from '../ledger/audit-actions.js';

export type ActorKind = 'user' | 'wallet' | 'device' | 'anonymous' | 'system';

export interface AuditEntry {
  currency_id: number | null;
  actor_kind: ActorKind;
  actor_id: string | null;
  action: AuditAction;
  object_kind: AuditObjectKind | null;
  object_id: string | null;
  ip: string | null;
  request_id: string | null;
  /** The changed fields, never a secret. */
  changes: Record<string, unknown>;
}

/** A record as read back: its action may be one an earlier version wrote and no longer lists. */
export interface AuditRow extends Omit<AuditEntry, 'action' | 'object_kind'> {
  action: string;
  object_kind: string | null;
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
  /** Rows whose actor or object is one of these ids (a name typed in part, see idsNamed). */
  named?: string[];
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
      AND (${query.named ?? null}::text[] IS NULL OR actor_id = ANY(${query.named ?? null}::text[]) OR object_id = ANY(${query.named ?? null}::text[]))
      AND (${query.action ?? null}::text IS NULL OR action = ${query.action ?? null}::text OR starts_with(action, ${`${query.action ?? ''}.`}))
      AND (${query.from ?? null}::timestamptz IS NULL OR at >= ${query.from ?? null}::timestamptz)
      AND (${query.to ?? null}::timestamptz IS NULL OR at < ${query.to ?? null}::timestamptz)
      AND (${query.before_id ?? null}::bigint IS NULL OR id < ${query.before_id ?? null}::bigint)
    ORDER BY id DESC
    LIMIT ${query.limit}`;
}

/** Who or what an audit row names, by kind and id. */
export interface AuditRef {
  kind: string;
  id: string;
}

const uuid_text = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const card_code_text = /^[0-9A-HJKMNP-TV-Z]{17}$/;

/**
 * The names a person reads next to the ids of audit rows: a staff member's email, a volunteer's
 * display name (also for their card), a shop's or an account's name, a tablet's name with its
 * shop's. One query per kind present; a kind without a name (a transfer) is left out.
 * Keys are `kind:id`.
 */
export async function auditNames(sql: Queryable, refs: AuditRef[]): Promise<Map<string, string>> {
  const ids = (kinds: string[], pattern: RegExp) => [...new Set(refs.filter((r) => kinds.includes(r.kind) && pattern.test(r.id)).map((r) => r.id))];
  const names = new Map<string, string>();
  const users = ids(['user'], uuid_text);
  const accounts = ids(['wallet', 'account', 'shop'], uuid_text);
  const cards = ids(['card'], card_code_text);
  const devices = ids(['device'], uuid_text);
  const put = (kinds: string[], rows: Array<{ id: string; name: string }>) => {
    for (const row of rows) for (const kind of kinds) names.set(`${kind}:${row.id}`, row.name);
  };
  if (users.length > 0) put(['user'], await sql<{ id: string; name: string }[]>`SELECT id::text, email AS name FROM users WHERE id = ANY(${users}::uuid[])`);
  if (accounts.length > 0) {
    put(['wallet', 'account', 'shop'], await sql<{ id: string; name: string }[]>`
      SELECT a.id::text, coalesce(s.name, a.name) AS name FROM accounts a
      LEFT JOIN shops s ON s.currency_id = a.currency_id AND s.account_id = a.id
      WHERE a.id = ANY(${accounts}::uuid[])`);
  }
  if (cards.length > 0) {
    put(['card'], await sql<{ id: string; name: string }[]>`
      SELECT c.code AS id, w.display_name AS name FROM cards c
      JOIN wallets w ON w.currency_id = c.currency_id AND w.account_id = c.account_id
      WHERE c.code = ANY(${cards}::text[])`);
  }
  if (devices.length > 0) {
    put(['device'], await sql<{ id: string; name: string }[]>`
      SELECT d.id::text, d.name || ' (' || s.name || ')' AS name FROM devices d
      JOIN shops s ON s.currency_id = d.currency_id AND s.account_id = d.shop_account_id
      WHERE d.id = ANY(${devices}::uuid[])`);
  }
  return names;
}

/**
 * The ids (users, accounts, cards, tablets) whose name holds `folded` — lower case, accents
 * dropped (src/ledger/text.ts) — within a currency, or everywhere: what an audit filter by a
 * name typed in part looks for as actor or object. At most `limit` ids.
 */
export async function idsNamed(sql: Queryable, currency_id: number | undefined, folded: string, limit = 500): Promise<string[]> {
  const pattern = `%${folded.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await sql<{ id: string }[]>`
    SELECT id::text FROM users WHERE lower(email) LIKE ${pattern}
    UNION ALL
    SELECT a.id::text FROM accounts a
      LEFT JOIN wallets w ON w.currency_id = a.currency_id AND w.account_id = a.id
      LEFT JOIN shops s ON s.currency_id = a.currency_id AND s.account_id = a.id
    WHERE (${currency_id ?? null}::int IS NULL OR a.currency_id = ${currency_id ?? null}::int)
      AND (regexp_replace(normalize(lower(a.name), NFD), ${'[\\u0300-\\u036f]'}, '', 'g') LIKE ${pattern}
           OR regexp_replace(normalize(lower(coalesce(w.full_name, '')), NFD), ${'[\\u0300-\\u036f]'}, '', 'g') LIKE ${pattern}
           OR regexp_replace(normalize(lower(coalesce(s.name, '')), NFD), ${'[\\u0300-\\u036f]'}, '', 'g') LIKE ${pattern})
    UNION ALL
    SELECT c.code FROM cards c JOIN wallets w ON w.currency_id = c.currency_id AND w.account_id = c.account_id
    WHERE (${currency_id ?? null}::int IS NULL OR c.currency_id = ${currency_id ?? null}::int)
      AND regexp_replace(normalize(lower(w.display_name), NFD), ${'[\\u0300-\\u036f]'}, '', 'g') LIKE ${pattern}
    UNION ALL
    SELECT d.id::text FROM devices d
    WHERE (${currency_id ?? null}::int IS NULL OR d.currency_id = ${currency_id ?? null}::int)
      AND regexp_replace(normalize(lower(d.name), NFD), ${'[\\u0300-\\u036f]'}, '', 'g') LIKE ${pattern}
    LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
