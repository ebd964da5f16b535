/**
 * Coins that expire: which coins a wallet still holds and when they were earned, on which day
 * each expires, what the daily run takes back, and what the wallets of a currency will hold
 * month by month. Pure: dates are local days (Europe/Brussels) written YYYY-MM-DD, amounts are
 * minor units.
 *
 * A wallet spends its oldest coins first. So, whatever it spent and when, the coins it still
 * holds are its newest credits that add up to its balance (the oldest of those perhaps in
 * part): nothing needs to be written when coins are spent, and the lots are read back from the
 * wallet's entries (src/db/expiry.ts). Every credit is a lot of its own day — a reward, an
 * issue, a refund, a correction that gives coins back.
 *
 * A coin expires `validity.days` after the later of the day it was earned and `validity.from`,
 * the day the currency's validity was last set: changing it gives everyone that much notice.
 */
import type { Currency } from './model.js';
import type { PostingRule } from './batch.js';
import { fail } from './batch.js';
import { assert } from './errors.js';
import { localDayIn } from './local-day.js';

/** A local day, YYYY-MM-DD. Such strings order like the days they name. */
export type LocalDate = string;

/** The time zone of the days coins are earned and expire on. */
export const expiry_time_zone = 'Europe/Brussels';
/** How far ahead a wallet is told which of its coins expire. */
export const expiring_days_ahead = 60;
/** The longest validity a currency may set (ten years). */
export const validity_days_max = 3650;
/** The most months ahead the liability report looks. */
export const liability_months_max = 60;

/** A credit of a wallet: an amount and the local day it was earned. */
export interface Credit {
  amount: bigint;
  earned_on: LocalDate;
}

/** Coins still held, earned on one day (what is left of a credit). */
export type Lot = Credit;

/** How long a currency's coins stay valid, and from which day that counts at the earliest. */
export interface Validity {
  days: number;
  from: LocalDate;
}

const day_ms = 86_400_000;

/** The local day of an instant. */
export function localDateOf(instant: Date): LocalDate {
  return localDayIn(expiry_time_zone, instant);
}

function utcOf(day: LocalDate): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
}

export function addDays(day: LocalDate, days: number): LocalDate {
  return new Date(utcOf(day) + days * day_ms).toISOString().slice(0, 10);
}

/** YYYY-MM, `months` calendar months after the month of `day`. */
export function monthAfter(day: LocalDate, months: number): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + months;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The validity of a currency's coins, or undefined when they never expire. */
export function validityOf(currency: Pick<Currency, 'validity_days' | 'validity_from'>): Validity | undefined {
  if (currency.validity_days === null) return undefined;
  assert(currency.validity_from !== null, 'a validity has the day it counts from');
  return { days: currency.validity_days, from: currency.validity_from.toISOString().slice(0, 10) };
}

/**
 * The coins a wallet holds, oldest first: its newest credits that add up to its balance, the
 * oldest of them in part. `credits` are newest first; older ones than needed are ignored.
 */
export function lotsOf(credits_newest_first: Credit[], balance: bigint): Lot[] {
  const lots: Lot[] = [];
  let left = balance;
  for (const credit of credits_newest_first) {
    if (left <= 0n) break;
    const amount = credit.amount < left ? credit.amount : left;
    lots.push({ amount, earned_on: credit.earned_on });
    left -= amount;
  }
  assert(left <= 0n, 'a balance is covered by the credits that made it');
  return lots.reverse();
}

/** The day a lot expires. */
export function expiresOn(lot: Lot, validity: Validity): LocalDate {
  return addDays(lot.earned_on > validity.from ? lot.earned_on : validity.from, validity.days);
}

/** What has expired by `today`: the amount, and the days the oldest and newest of it were earned. */
export interface Expired {
  amount: bigint;
  earned_from: LocalDate;
  earned_to: LocalDate;
}

export function expiredOf(lots: Lot[], validity: Validity, today: LocalDate): Expired | undefined {
  const gone = lots.filter((lot) => expiresOn(lot, validity) <= today);
  const [first] = gone;
  const last = gone.at(-1);
  if (first === undefined || last === undefined) return undefined;
  return { amount: gone.reduce((sum, lot) => sum + lot.amount, 0n), earned_from: first.earned_on, earned_to: last.earned_on };
}

/**
 * What a run takes back: the expired coins, but never what a pending transfer has reserved
 * (that reservation, once posted, takes the oldest coins itself; once voided, the rest expires
 * at the next run).
 */
export function expiryAmount(expired: bigint, available: bigint): bigint {
  const amount = expired < available ? expired : available;
  return amount > 0n ? amount : 0n;
}

/**
 * The held coins by the day they expire; coins already expired count on `today` (the run
 * takes them today). Adds into `into` when given (a currency's wallets, one after another).
 */
export function expiringByDay(lots: Lot[], validity: Validity, today: LocalDate, into = new Map<LocalDate, bigint>()): Map<LocalDate, bigint> {
  for (const lot of lots) {
    const due = expiresOn(lot, validity);
    const on = due > today ? due : today;
    into.set(on, (into.get(on) ?? 0n) + lot.amount);
  }
  return into;
}

/** The days within `days_ahead` days on which coins expire, soonest first, with how many. */
export function expiringOf(lots: Lot[], validity: Validity, today: LocalDate, days_ahead = expiring_days_ahead): Array<{ amount: bigint; on: LocalDate }> {
  const last = addDays(today, days_ahead);
  return [...expiringByDay(lots, validity, today)]
    .filter(([on]) => on <= last)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([on, amount]) => ({ amount, on }));
}

/** One month ahead: what wallets hold at its end, and what expires during it. */
export interface MonthAhead {
  /** YYYY-MM. */
  month: string;
  in_wallets: bigint;
  expiring: bigint;
}

/**
 * The wallets' coins month by month, from the month of `today` on, if nothing but expiry moved
 * them: `in_wallets` now, less what expires by the end of each month (`expiring_by_day`).
 */
export function monthsAhead(in_wallets: bigint, expiring_by_day: Map<LocalDate, bigint>, today: LocalDate, months: number): MonthAhead[] {
  assert(months >= 1 && months <= liability_months_max, 'months ahead within bounds');
  const by_month = new Map<string, bigint>();
  for (const [on, amount] of expiring_by_day) by_month.set(on.slice(0, 7), (by_month.get(on.slice(0, 7)) ?? 0n) + amount);
  const out: MonthAhead[] = [];
  let held = in_wallets;
  for (let i = 0; i < months; i++) {
    const month = monthAfter(today, i);
    const expiring = by_month.get(month) ?? 0n;
    held -= expiring;
    assert(held >= 0n, 'wallets never expire more than they hold');
    out.push({ month, in_wallets: held, expiring });
  }
  return out;
}

/**
 * The rule of an expiry transfer, decided against the locked wallet: its lots were read at
 * `version`, so a wallet that moved since (it spent, or earned) is refused with `conflict`,
 * and the run reads it again. No decision is taken on lots read outside the lock.
 */
export function refuseMovedSince(version: bigint): PostingRule {
  return (debit) => {
    if (debit.kind !== 'wallet') return fail('code_not_allowed', { code: 'expiry', reason: 'only a wallet\'s coins expire' });
    if (debit.version !== version) return fail('conflict', { account_id: debit.id, reason: 'the wallet moved since its coins were read' });
    return undefined;
  };
}
