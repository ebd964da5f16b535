/**
 * Kept no longer than needed (docs/privacy.md): the retention run. It deletes idempotency
 * records, finished or expired payment requests, ended sessions and pairing codes once they are
 * RETENTION_DAYS old, and pseudonymises audit rows once they are PSEUDONYMISE_AFTER_DAYS old
 * (client address cut to its network, a failed attempt's typed email or card code replaced by a
 * pseudonym). Transfers, entries, seals and the rest of the audit log are never touched.
 *
 * A replay needs the idempotency record and, for a payment, its payment request: both are
 * measured from the same moment (the payment's transaction), so they go together, and a replay
 * inside the window answers as before. After it, the key is forgotten: the same key is a new
 * request.
 *
 * Time comes from the caller (`now`), so tests move it without waiting. A run does its work in
 * steps of `step_rows_max` rows; running it twice, or in two processes, changes nothing more.
 */
import type { Config } from '../config.js';
import {
  pruneEndedSessions, pruneFinishedRequests, pruneIdempotencyRecords, pseudonymiseAgedAudit,
} from '../db/retention.js';
import { transaction } from '../db/client.js';
import type { Queryable } from '../db/client.js';
import { allowPseudonymising } from '../db/privacy.js';
import type { Services } from './context.js';
import { recordAudit, systemActor } from './context.js';

/** Rows one statement of the run deletes or changes at most. */
const step_rows_max = 5000;
const day_ms = 86_400_000;

/** The actor of the run: `system:retention` in the audit log. */
export const retention_actor = systemActor('retention');

/** What a run did. */
export interface RetentionRun {
  /** Records and rows deleted: older than this instant. */
  deleted_before: Date;
  idempotency_records: number;
  payment_requests: number;
  sessions: number;
  /** Audit rows pseudonymised: written before this instant. */
  pseudonymised_before: Date;
  audit_rows: number;
}

/** The settings of the run. */
export type RetentionSettings = Pick<Config, 'RETENTION_DAYS' | 'PSEUDONYMISE_AFTER_DAYS'>;

/** Repeats a step until it finds fewer rows than it may take. */
async function drain(step: (rows_max: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await step(step_rows_max);
    total += done;
    if (done < step_rows_max) return total;
  }
}

/** Runs the retention as of `now`, and records in the audit log what it did when it did something. */
export async function runRetention(
  services: Pick<Services, 'sql'>, settings: RetentionSettings, now = new Date(),
): Promise<RetentionRun> {
  const sql: Queryable = services.sql;
  const deleted_before = new Date(now.getTime() - settings.RETENTION_DAYS * day_ms);
  const pseudonymised_before = new Date(now.getTime() - settings.PSEUDONYMISE_AFTER_DAYS * day_ms);
  const run: RetentionRun = {
    deleted_before,
    idempotency_records: await drain((n) => pruneIdempotencyRecords(sql, deleted_before, n)),
    payment_requests: await drain((n) => pruneFinishedRequests(sql, deleted_before, n)),
    sessions: await drain((n) => pruneEndedSessions(sql, deleted_before, n)),
    pseudonymised_before,
    audit_rows: await drain((n) => transaction(services.sql, async (tx) => {
      await allowPseudonymising(tx);
      return pseudonymiseAgedAudit(tx, pseudonymised_before, n);
    })),
  };
  if (run.idempotency_records + run.payment_requests + run.sessions + run.audit_rows > 0) {
    await recordAudit(services, retention_actor, {
      action: 'retention.run', currency_id: null,
      changes: {
        deleted_before: deleted_before.toISOString(), idempotency_records: run.idempotency_records,
        payment_requests: run.payment_requests, sessions: run.sessions,
        pseudonymised_before: pseudonymised_before.toISOString(), audit_rows: run.audit_rows,
      },
    });
  }
  return run;
}
