import { Decimal } from 'decimal.js';
import { ValidationError } from './errors.js';
import type { Cap } from './batch.js';
import type { Currency } from './model.js';
import { localDayIn } from './local-day.js';

export const activity_categories = [
  'repair_cafe', 'it_repair', 'buurtbeheer', 'street_ambassador', 'neighbourhood_party', 'other',
] as const;
export type ActivityCategory = (typeof activity_categories)[number];

export const languages = ['nl', 'en', 'fr'] as const;
export type Language = (typeof languages)[number];

export interface LocalizedName {
  nl: string;
  en?: string;
  fr?: string;
}

export interface Activity {
  id: string;
  currency_id: number;
  name: LocalizedName;
  category: ActivityCategory;
  /** Minor units per hour, or null for a fixed amount. */
  rate_per_hour: bigint | null;
  /** Minor units per claim, or null for an hourly rate. */
  amount: bigint | null;
  programme_account_id: string;
  active: boolean;
  created_at: Date;
}

export interface ActivitySession {
  id: string;
  currency_id: number;
  activity_id: string;
  /** Decimal string, e.g. "2.50", or null for fixed-amount activities. */
  hours: string | null;
  max_claims: number;
  claims_count: number;
  expires_at: Date;
  /** When a coordinator ended it early; null while it runs until expires_at. */
  closed_at: Date | null;
  created_by: string;
  created_at: Date;
  /** When and where it takes place (all optional); `public`: on the currency's agenda. */
  starts_at: Date | null;
  ends_at: Date | null;
  place: string | null;
  public: boolean;
}

/** When a session takes place and whether the agenda shows it, as a coordinator sets it. */
export interface Schedule {
  starts_at: Date | null;
  ends_at: Date | null;
  public: boolean;
  expires_at: Date;
}

/**
 * A session's schedule holds together: it ends after it starts, its claim QR does not stop
 * working before the session starts, and a session on the agenda says when it starts.
 */
export function checkSchedule(schedule: Schedule): void {
  const { starts_at, ends_at, expires_at } = schedule;
  if (ends_at !== null && starts_at === null) throw new ValidationError([{ path: 'starts_at', message: 'a session that ends also says when it starts' }]);
  if (ends_at !== null && starts_at !== null && ends_at <= starts_at) throw new ValidationError([{ path: 'ends_at', message: 'must be after starts_at' }]);
  if (starts_at !== null && expires_at <= starts_at) throw new ValidationError([{ path: 'expires_at', message: 'the claim QR would stop working before the session starts' }]);
  if (schedule.public && starts_at === null) throw new ValidationError([{ path: 'starts_at', message: 'a session on the agenda says when it starts' }]);
}

/** Hours as a decimal string with at most two decimals, 0 < hours ≤ 24. */
export function parseHours(input: string, path = 'hours'): string {
  if (!/^(0|[1-9][0-9]?)(\.[0-9]{1,2})?$/.test(input)) {
    throw new ValidationError([{ path, message: 'hours as a decimal string with at most two decimals, e.g. "2.5"' }]);
  }
  const hours = new Decimal(input);
  if (hours.lte(0) || hours.gt(24)) throw new ValidationError([{ path, message: 'between 0 and 24 hours' }]);
  return hours.toFixed(2);
}

/**
 * The reward of one claim, in minor units: the fixed amount, or rate × hours rounded half up
 * to the smallest unit (a rate of 25 per hour for 1.5 h is 37.5 → 38 at scale 0).
 */
export function rewardFor(activity: Pick<Activity, 'rate_per_hour' | 'amount'>, hours: string | null): bigint {
  if (activity.amount !== null) return activity.amount;
  if (activity.rate_per_hour === null || hours === null) {
    throw new ValidationError([{ path: 'hours', message: 'this activity pays per hour: give the hours' }]);
  }
  const minor = new Decimal(activity.rate_per_hour.toString()).mul(hours).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  // A reward must move something: a few minutes at a low rate can round to 0 minor units.
  if (minor.lte(0)) throw new ValidationError([{ path: 'hours', message: 'too few hours: the reward rounds to nothing' }]);
  return BigInt(minor.toFixed(0));
}

/** The default catalogue of a new currency: rates in coin units per hour (Torekes: 25). */
export const default_activities: Array<{ name: LocalizedName; category: ActivityCategory; rate_per_hour_units: number }> = [
  { name: { nl: 'Repair Café', en: 'Repair café', fr: 'Repair Café' }, category: 'repair_cafe', rate_per_hour_units: 25 },
  { name: { nl: 'Computerhulp', en: 'IT repair', fr: 'Aide informatique' }, category: 'it_repair', rate_per_hour_units: 25 },
  { name: { nl: 'Buurtbeheer', en: 'Neighbourhood upkeep', fr: 'Entretien du quartier' }, category: 'buurtbeheer', rate_per_hour_units: 25 },
  { name: { nl: 'Straatambassadeur', en: 'Street ambassador', fr: 'Ambassadeur de rue' }, category: 'street_ambassador', rate_per_hour_units: 25 },
  { name: { nl: 'Buurtfeest', en: 'Neighbourhood party', fr: 'Fête de quartier' }, category: 'neighbourhood_party', rate_per_hour_units: 25 },
];

/**
 * The legal caps a reward is checked against at `now` (today's and this year's), each with the
 * key of the earnings counter it is measured on; a null cap does not apply.
 */
export function capsOf(currency: Pick<Currency, 'volunteer_cap_day' | 'volunteer_cap_year'>, now: Date): Cap[] {
  const periods = capPeriods(now);
  return [
    { label: 'day', period: periods.day, cap: currency.volunteer_cap_day },
    { label: 'year', period: periods.year, cap: currency.volunteer_cap_year },
  ];
}

/** What a volunteer may still earn under a cap, having earned `so_far` in its period (never below 0). */
export function capLeft(cap: bigint, so_far: bigint): bigint {
  const left = cap - so_far;
  return left > 0n ? left : 0n;
}

/** Period keys of the legal caps: the local day and the year in Belgium. */
export function capPeriods(now: Date, time_zone = 'Europe/Brussels'): { day: string; year: string } {
  const parts = localDayIn(time_zone, now);
  return { day: `d${parts}`, year: `y${parts.slice(0, 4)}` };
}
