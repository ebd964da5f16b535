/**
 * The statements of the retention run (src/app/retention.ts, docs/privacy.md): deletes what is
 * kept for a while only, and pseudonymises old audit rows. Each statement works through at most
 * `rows_max` rows, so a run never holds long locks; the caller repeats until nothing is left.
 * Nothing here touches a transfer, an entry or a seal.
 */
import type { Queryable } from './client.js';

/**
 * Idempotency records written before `before`. A payment request is deleted no earlier than the
 * record of its payment (pruneFinishedRequests keys on the same moment), so a replay inside the
 * window finds both.
 */
export async function pruneIdempotencyRecords(sql: Queryable, before: Date, rows_max: number): Promise<number> {
  const rows = await sql`
    DELETE FROM idempotency_keys
    WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys WHERE created_at < ${before} LIMIT ${rows_max})`;
  return rows.count;
}

/**
 * Payment requests finished (paid, cancelled, expired) before `before`: a paid or cancelled one
 * by the moment it changed (updated_at, written in the same transaction as its payment's
 * idempotency record), an open one once it expired before then.
 */
export async function pruneFinishedRequests(sql: Queryable, before: Date, rows_max: number): Promise<number> {
  const rows = await sql`
    DELETE FROM payment_requests
    WHERE (currency_id, id) IN (
      SELECT currency_id, id FROM payment_requests
      WHERE (status <> 'open' AND updated_at < ${before}) OR (status = 'open' AND expires_at < ${before})
      LIMIT ${rows_max})`;
  return rows.count;
}

/** Staff and wallet sessions, and pairing codes, that ended (expired) before `before`. */
export async function pruneEndedSessions(sql: Queryable, before: Date, rows_max: number): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    WITH staff AS (
      DELETE FROM auth_sessions
      WHERE id IN (SELECT id FROM auth_sessions WHERE expires_at < ${before} LIMIT ${rows_max})
      RETURNING 1
    ), wallet AS (
      DELETE FROM wallet_sessions
      WHERE (currency_id, id) IN (SELECT currency_id, id FROM wallet_sessions WHERE expires_at < ${before} LIMIT ${rows_max})
      RETURNING 1
    ), pairing AS (
      DELETE FROM pairing_codes
      WHERE (currency_id, code) IN (SELECT currency_id, code FROM pairing_codes WHERE expires_at < ${before} LIMIT ${rows_max})
      RETURNING 1
    )
    SELECT ((SELECT count(*) FROM staff) + (SELECT count(*) FROM wallet) + (SELECT count(*) FROM pairing))::int AS count`;
  return row?.count ?? 0;
}

/**
 * Audit rows written before `before` and not yet pseudonymised: the address becomes its network
 * (wm_network_of), and a failed attempt's typed email, unknown card code or device name becomes
 * a pseudonym (`p-` and 12 hex digits of SHA-256 over the installation's salt and the text, the
 * email lower-cased): the same text gives the same pseudonym, so repeated attempts still show.
 * Inside a transaction after allowPseudonymising (src/db/privacy.ts): the audit log's guard allows it only there.
 */
export async function pseudonymiseAgedAudit(sql: Queryable, before: Date, rows_max: number): Promise<number> {
  const rows = await sql`
    WITH salt AS (SELECT salt FROM privacy_salt),
    due AS (
      SELECT id FROM audit_log WHERE pseudonymised_at IS NULL AND at < ${before}
      ORDER BY at LIMIT ${rows_max}
    )
    UPDATE audit_log a SET
      pseudonymised_at = now(),
      ip = wm_network_of(a.ip),
      object_id = CASE WHEN a.action IN ('card.pin_failed', 'card.locked') AND a.changes->>'reason' = 'unknown card'
                       THEN 'p-' || left(encode(sha256(convert_to((SELECT salt FROM salt) || a.object_id, 'UTF8')), 'hex'), 12)
                       ELSE a.object_id END,
      changes = CASE
        WHEN a.action = 'auth.login_failed' AND a.changes ? 'email' THEN jsonb_set(a.changes, '{email}', to_jsonb(
          'p-' || left(encode(sha256(convert_to((SELECT salt FROM salt) || lower(a.changes->>'email'), 'UTF8')), 'hex'), 12)))
        WHEN a.action = 'device.pair_failed' AND a.changes ? 'device_name' THEN jsonb_set(a.changes, '{device_name}', to_jsonb(
          'p-' || left(encode(sha256(convert_to((SELECT salt FROM salt) || (a.changes->>'device_name'), 'UTF8')), 'hex'), 12)))
        ELSE a.changes END
    -- Checked again on the row itself: a run that waited for another's lock on it skips it,
    -- instead of making a pseudonym of the pseudonym.
    WHERE a.id IN (SELECT id FROM due) AND a.pseudonymised_at IS NULL`;
  return rows.count;
}
