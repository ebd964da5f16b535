/**
 * Volunteering: a wallet claims a session's reward by its QR, a coordinator awards it to a
 * scanned card (event mode), and ends a session early. A reward is paid by the activity's
 * programme through the request batcher; at most once per wallet and session, within the
 * session's maximum and the legal day and year caps, never for a session ended or an activity
 * stopped (src/ledger/links.ts decides, against the locked session and counters).
 */
import type { Command, Idempotency } from '../ledger/batch.js';
import type { Currency, Transfer } from '../ledger/model.js';
import { capLeft, capsOf, checkSchedule, parseHours, rewardFor } from '../ledger/volunteering.js';
import type { Activity, ActivitySession } from '../ledger/volunteering.js';
import { newTransferId, uuid_pattern } from '../ledger/ids.js';
import { DomainError, ValidationError } from '../ledger/errors.js';
import { verifyClaimToken } from '../security/tokens.js';
import type { Wallet } from '../db/volunteers.js';
import { closeActivitySession, earnedIn, insertActivity, insertActivitySession, updateActivity, updateSessionSchedule } from '../db/volunteers.js';
import type { SessionSchedule } from '../db/volunteers.js';
import { findAccount } from '../db/ledger.js';
import { transaction } from '../db/client.js';
import { parseAmount } from '../ledger/amount.js';
import type { ActivityCategory, LocalizedName } from '../ledger/volunteering.js';
import { walletOfScannedCard } from './access.js';
import type { Actor, AuditInput, Services } from './context.js';
import { recordAudit } from './context.js';
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
  return {
    claim: { session_id: session.id, hours: reward.hours, via: reward.via, caps: capsOf(currency, now) },
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

// The activity catalogue ---------------------------------------------------------------------

/** An activity as a coordinator types it: amounts as decimal strings, the paying programme by id. */
export interface ActivityInput {
  /** One name, or names per language (nl required). */
  name?: string | LocalizedName | undefined;
  category?: ActivityCategory | undefined;
  rate_per_hour?: string | undefined;
  amount?: string | undefined;
  programme_account?: string | undefined;
  active?: boolean | undefined;
}

function localized(name: string | LocalizedName): LocalizedName {
  return typeof name === 'string' ? { nl: name } : name;
}

async function programmeIn(services: Services, currency: Currency, id: string): Promise<string> {
  const account = uuid_pattern.test(id) ? await findAccount(services.sql, id) : undefined;
  if (account === undefined || account.currency_id !== currency.id || account.kind !== 'programme') {
    throw new ValidationError([{ path: 'programme_account', message: `not a programme account of ${currency.code}` }]);
  }
  return account.id;
}

/** An activity pays either per hour or a fixed amount, never both. */
function rateOrAmount(input: ActivityInput, currency: Currency): { rate_per_hour: bigint | null; amount: bigint | null } {
  if ((input.rate_per_hour === undefined) === (input.amount === undefined)) {
    throw new ValidationError([{ path: 'rate_per_hour', message: 'give either rate_per_hour or amount' }]);
  }
  return {
    rate_per_hour: input.rate_per_hour === undefined ? null : parseAmount(input.rate_per_hour, currency.scale, 'rate_per_hour'),
    amount: input.amount === undefined ? null : parseAmount(input.amount, currency.scale, 'amount'),
  };
}

/** Adds an activity to the catalogue, paid by one of the currency's programmes. */
export async function addActivity(
  services: Services, actor: Actor, currency: Currency,
  input: ActivityInput & { name: string | LocalizedName; category: ActivityCategory; programme_account: string },
): Promise<Activity> {
  const activity = await insertActivity(services.sql, currency.id, {
    name: localized(input.name), category: input.category, ...rateOrAmount(input, currency),
    programme_account_id: await programmeIn(services, currency, input.programme_account),
  });
  await recordAudit(services, actor, { action: 'activity.create', currency_id: currency.id, object: { kind: 'activity', id: activity.id }, changes: { ...input } });
  return activity;
}

/** Edits an activity; stopping it (`active: false`) also stops the claims of its open sessions. */
export async function editActivity(services: Services, actor: Actor, currency: Currency, activity: Activity, input: ActivityInput): Promise<Activity> {
  const pay = input.rate_per_hour === undefined && input.amount === undefined ? {} : rateOrAmount(input, currency);
  const updated = await updateActivity(services.sql, activity, {
    ...(input.name === undefined ? {} : { name: localized(input.name) }),
    ...(input.category === undefined ? {} : { category: input.category }),
    ...(input.active === undefined ? {} : { active: input.active }),
    ...(input.programme_account === undefined ? {} : { programme_account_id: await programmeIn(services, currency, input.programme_account) }),
    ...pay,
  });
  await recordAudit(services, actor, { action: 'activity.update', currency_id: currency.id, object: { kind: 'activity', id: activity.id }, changes: { ...input } });
  return updated;
}

// Sessions, claims and awards ----------------------------------------------------------------

/**
 * A wallet claims the reward of the session named by a scanned claim QR (a signed token):
 * refused when the token is expired, forged, of another currency or names no session.
 */
export async function claimByToken<T>(
  services: Services, actor: Actor, key: Idempotency, wallet: Wallet, currency: Currency, token: string,
  present: (transfer: Transfer) => T,
): Promise<Answer<T>> {
  const claim = await verifyClaimToken(services.keys, token);
  if (claim === 'expired') throw new DomainError('expired', 'this QR code has expired; ask the coordinator for a new one');
  if (claim === 'invalid') throw new DomainError('invalid_token', 'this is not a valid claim QR code');
  if (claim.currency !== currency.code) {
    throw new DomainError('wrong_currency', `this QR code is for ${claim.currency}, your wallet holds ${currency.code}`);
  }
  const found = uuid_pattern.test(claim.session_id) ? await services.loaders.activitySession.load(claim.session_id) : undefined;
  const { session, activity } = found ?? {};
  if (session === undefined || activity === undefined || session.currency_id !== currency.id) {
    throw new DomainError('invalid_token', 'this claim QR code names no session');
  }
  const reward = { currency, session, activity, account_id: wallet.account_id, amount: rewardFor(activity, session.hours), hours: session.hours, via: 'qr' as const };
  return rewardVolunteer(services, actor, key, reward, present, (transfer) => ({
    action: 'session.claim', currency_id: currency.id, object: { kind: 'session', id: session.id },
    changes: { wallet: wallet.account_id, hours: session.hours, transfer: transfer.id },
  }));
}

/**
 * Event mode: a coordinator rewards the volunteer whose card was scanned, for the session's
 * hours or the hours typed (when the activity pays per hour).
 */
export async function awardByCard<T>(
  services: Services, actor: Actor, key: Idempotency, currency: Currency, session: ActivitySession, activity: Activity,
  input: { card: string; hours?: string | undefined }, present: (transfer: Transfer, wallet: Wallet) => T,
): Promise<Answer<T>> {
  const { card, wallet } = await walletOfScannedCard(services, currency, input.card);
  const hours = activity.rate_per_hour === null ? null : (input.hours === undefined ? session.hours : parseHours(input.hours));
  const reward = { currency, session, activity, account_id: wallet.account_id, amount: rewardFor(activity, hours), hours, via: 'card' as const };
  return rewardVolunteer(services, actor, key, reward, (transfer) => present(transfer, wallet), (transfer) => ({
    action: 'session.award', currency_id: currency.id, object: { kind: 'session', id: session.id },
    changes: { wallet: wallet.account_id, card: card.code, hours, transfer: transfer.id },
  }));
}

/** What a volunteer may still earn today and this year; null for a cap the currency does not set. */
export interface EarningRoom {
  day: bigint | null;
  year: bigint | null;
}

/**
 * The room left under the legal caps at `now`, measured like a reward is (the same caps, the
 * same counters, capLeft); undefined when the currency sets no cap.
 */
export async function earningRoom(
  services: Pick<Services, 'sql'>, currency: Currency, account_id: string, now = new Date(),
): Promise<EarningRoom | undefined> {
  const caps = capsOf(currency, now);
  if (caps.every((c) => c.cap === null)) return undefined;
  const earned = await earnedIn(services.sql, currency.id, account_id, caps.map((c) => c.period));
  const room: EarningRoom = { day: null, year: null };
  for (const { label, period, cap } of caps) {
    if (cap !== null) room[label] = capLeft(cap, earned.get(period) ?? 0n);
  }
  return room;
}

/** When and where a session takes place, as a coordinator types it (times as ISO strings). */
export interface ScheduleInput {
  starts_at?: string | null | undefined;
  ends_at?: string | null | undefined;
  place?: string | null | undefined;
  public?: boolean | undefined;
  expires_at?: string | undefined;
}

const dateOrNull = (value: string | null): Date | null => (value === null ? null : new Date(value));

/**
 * A session's schedule after `input` changes `current` (nothing said: unchanged). A claim QR
 * without an expiry of its own works until CLAIM_SESSION_TTL_S after the session ends (or
 * starts; for a session without times, after now); moving a session later extends it so.
 */
function scheduleOf(services: Services, current: SessionSchedule | undefined, input: ScheduleInput, now: Date): SessionSchedule {
  const starts_at = input.starts_at === undefined ? (current?.starts_at ?? null) : dateOrNull(input.starts_at);
  const ends_at = input.ends_at === undefined ? (current?.ends_at ?? null) : dateOrNull(input.ends_at);
  const from = Math.max((ends_at ?? starts_at ?? now).getTime(), now.getTime());
  const at_least = from + services.config.CLAIM_SESSION_TTL_S * 1000;
  const moved = input.starts_at !== undefined || input.ends_at !== undefined;
  const expires_at = input.expires_at !== undefined ? new Date(input.expires_at)
    : current === undefined ? new Date(at_least)
      : moved ? new Date(Math.max(current.expires_at.getTime(), at_least)) : current.expires_at;
  const schedule = {
    starts_at, ends_at, expires_at,
    place: input.place === undefined ? (current?.place ?? null) : input.place,
    public: input.public ?? current?.public ?? false,
  };
  checkSchedule(schedule);
  return schedule;
}

/** Changes when and where a session takes place, until when its QR works, or whether the agenda shows it. */
export async function editSession(
  services: Services, actor: Actor, currency: Currency, session: ActivitySession, input: ScheduleInput,
): Promise<ActivitySession> {
  if (Object.values(input).every((v) => v === undefined)) throw new ValidationError([{ path: '', message: 'nothing to change' }]);
  if (input.expires_at !== undefined && new Date(input.expires_at) <= new Date()) {
    throw new ValidationError([{ path: 'expires_at', message: 'must be in the future' }]);
  }
  const updated = await updateSessionSchedule(services.sql, session, scheduleOf(services, session, input, new Date()));
  await recordAudit(services, actor, {
    action: 'session.update', currency_id: currency.id, object: { kind: 'session', id: session.id }, changes: { ...input },
  });
  return updated;
}

/** Default when a coordinator does not say: room for a big repair café. */
const max_claims_default = 100;

/** Opens a session of an active activity: what its claim QR will pay, until when, for how many. */
export async function openSession(
  services: Services, actor: Actor, currency: Currency, activity: Activity,
  input: ScheduleInput & { hours?: string | undefined; max_claims?: number | undefined },
): Promise<ActivitySession> {
  if (!activity.active) throw new DomainError('validation_failed', 'this activity is no longer active', { errors: [{ path: '', message: 'inactive activity' }] });
  const hours = input.hours === undefined ? (activity.rate_per_hour === null ? null : '1.00') : parseHours(input.hours);
  const now = new Date();
  if (input.expires_at !== undefined && new Date(input.expires_at) <= now) {
    throw new ValidationError([{ path: 'expires_at', message: 'must be in the future' }]);
  }
  const schedule = scheduleOf(services, undefined, input, now);
  rewardFor(activity, hours);
  const session = await insertActivitySession(services.sql, activity, {
    ...schedule, hours: activity.rate_per_hour === null ? null : hours, max_claims: input.max_claims ?? max_claims_default,
    created_by: actor.label,
  });
  await recordAudit(services, actor, {
    action: 'session.create', currency_id: currency.id, object: { kind: 'session', id: session.id },
    changes: {
      activity: activity.id, hours: session.hours, max_claims: session.max_claims, expires_at: session.expires_at.toISOString(),
      starts_at: session.starts_at?.toISOString() ?? null, ends_at: session.ends_at?.toISOString() ?? null, place: session.place, public: session.public,
    },
  });
  return session;
}

/** Ends a claim session at once: later claims of its QR are refused (session_closed). */
export async function closeSession(services: Services, actor: Actor, currency: Currency, session: ActivitySession): Promise<ActivitySession> {
  // The close and its audit row commit together, and only the close that ended the session is audited.
  return transaction(services.sql, async (tx) => {
    const { session: closed, closed_now } = await closeActivitySession(tx, session);
    if (closed_now) {
      await recordAudit(services, actor, { action: 'session.close', currency_id: currency.id, object: { kind: 'session', id: session.id } }, tx);
    }
    return closed;
  });
}
