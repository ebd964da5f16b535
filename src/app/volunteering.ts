/**
 * Volunteering: a wallet claims a session's reward by its QR, a coordinator awards it to a
 * scanned card (event mode), and ends a session early. A reward is paid by the activity's
 * programme through the request batcher; at most once per wallet and session, within the
 * session's maximum and the legal day and year caps, never for a session ended or an activity
 * stopped (src/ledger/links.ts decides, against the locked session and counters).
 */
import type { Command, Idempotency } from '../ledger/batch.js';
import type { Currency, Transfer } from '../ledger/model.js';
import { capPeriods } from '../ledger/volunteering.js';
import type { Activity, ActivitySession } from '../ledger/volunteering.js';
import { newTransferId } from '../ledger/ids.js';
import { closeActivitySession } from '../db/volunteers.js';
import { insertAudit } from '../db/audit.js';
import type { Actor, AuditInput, Services } from './context.js';
import { post } from './posting.js';
import type { Answer } from './posting.js';

export interface Reward {
  currency: Currency;
  session: ActivitySession;
  activity: Activity;
  account_id: string;
  amount: bigint;
  hours: string | null;
  via: 'qr' | 'card';
}

/** The command of a reward: the programme pays the wallet, within the caps of today and this year. */
function rewardCommand(actor: Actor, reward: Reward, now = new Date()): Command {
  const { currency, session, activity } = reward;
  const periods = capPeriods(now);
  return {
    claim: {
      session_id: session.id, hours: reward.hours, via: reward.via,
      caps: [
        { label: 'day', period: periods.day, cap: currency.volunteer_cap_day },
        { label: 'year', period: periods.year, cap: currency.volunteer_cap_year },
      ],
    },
    posting: {
      id: newTransferId(), code: 'reward', debit_account_id: activity.programme_account_id, credit_account_id: reward.account_id,
      amount: reward.amount, memo: activity.name.nl, created_by: actor.label,
      metadata: { activity_id: activity.id, session_id: session.id, hours: reward.hours, via: reward.via, category: activity.category },
    },
  };
}

/** Pays a reward (a claim by QR or an award by card); `audit` says what the log records. */
export async function rewardVolunteer<T>(
  services: Services, actor: Actor, key: Idempotency, reward: Reward,
  present: (transfer: Transfer) => T, audit: (transfer: Transfer) => AuditInput,
): Promise<Answer<T>> {
  return post(services, actor, reward.currency, { ...rewardCommand(actor, reward), idempotency: key }, (transfer) => ({
    status: 201, body: present(transfer), audit: audit(transfer),
  }));
}

/** Ends a claim session at once: later claims of its QR are refused (session_closed). */
export async function closeSession(services: Services, actor: Actor, currency: Currency, session: ActivitySession): Promise<ActivitySession> {
  const closed = await closeActivitySession(services.sql, session);
  if (session.closed_at === null) {
    await insertAudit(services.sql, actor.record({ action: 'session.close', currency_id: currency.id, object: { kind: 'session', id: session.id } }));
  }
  return closed;
}
