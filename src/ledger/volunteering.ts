import { Decimal } from 'decimal.js';
import { ValidationError } from './errors.js';

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

/** Period keys of the legal caps: the local day and the year in Belgium. */
export function capPeriods(now: Date, time_zone = 'Europe/Brussels'): { day: string; year: string } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: time_zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return { day: `d${parts}`, year: `y${parts.slice(0, 4)}` };
}
