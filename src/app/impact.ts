/**
 * The public view of what a neighbourhood did (docs/impact.md): hours volunteered, coins earned,
 * coins spent at shops, active volunteers and shops, per local month and per activity category,
 * for anyone without a login. Figures about fewer than ten people are hidden
 * (src/ledger/impact.ts); no account, name or id is ever part of it.
 */
import { DomainError } from '../ledger/errors.js';
import { suppressSmallGroups } from '../ledger/impact.js';
import type { Counted, Shown } from '../ledger/impact.js';
import type { Currency } from '../ledger/model.js';
import { activity_categories } from '../ledger/volunteering.js';
import type { ActivityCategory } from '../ledger/volunteering.js';
import { findCurrency } from '../db/ledger.js';
import { impactRows, periodBounds, report_time_zone } from '../db/reports.js';
import type { ImpactRow } from '../db/reports.js';
import type { Services } from './context.js';
import { localDayIn } from '../ledger/local-day.js';

/** Months the public view covers by default, and at most. */
export const impact_months_default = 12;
export const impact_months_max = 36;

export interface VolunteeringFigures {
  /** Hours with two decimals. */
  hours: string;
  coins_earned: bigint;
  volunteers: number;
}

export interface SpendingFigures {
  coins_spent: bigint;
}

export interface ImpactMonth {
  month: string;
  volunteering: Shown<VolunteeringFigures>;
  spending: Shown<SpendingFigures>;
  /** Shops paid in the month: businesses, not people, so always shown. */
  active_shops: number;
}

export interface PublicImpact {
  currency: Currency;
  /** First and last local month (YYYY-MM), both included. */
  from: string;
  to: string;
  months: ImpactMonth[];
  categories: Array<{ category: ActivityCategory; volunteering: Shown<VolunteeringFigures> }>;
  total: { volunteering: Shown<VolunteeringFigures>; spending: Shown<SpendingFigures>; active_shops: number };
}

/** The local month (YYYY-MM) of an instant. */
function localMonth(now: Date): string {
  return localDayIn(report_time_zone, now).slice(0, 7);
}

/** The month `delta` months after `month` (YYYY-MM). */
function addMonths(month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + delta;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The last day (YYYY-MM-DD) of a month. */
function lastDay(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
}

const empty: ImpactRow = {
  month: null, category: null, hours: '0.00', coins_earned: 0n, volunteers: 0, volunteer_people: 0, coins_spent: 0n, payers: 0, shops: 0,
};

const volunteeringOf = (row: ImpactRow): Counted<VolunteeringFigures> => ({
  people: row.volunteer_people, figures: { hours: row.hours, coins_earned: row.coins_earned, volunteers: row.volunteers },
});
const spendingOf = (row: ImpactRow): Counted<SpendingFigures> => ({ people: row.payers, figures: { coins_spent: row.coins_spent } });

/**
 * The last `months` local months of currency `code` up to the month of `now`; 404 `not_found`
 * for an unknown currency. Every month and every category is listed, also when nothing happened.
 */
export async function publicImpact(services: Pick<Services, 'sql'>, code: string, months: number, now = new Date()): Promise<PublicImpact> {
  const currency = await findCurrency(services.sql, code);
  if (currency === undefined) throw new DomainError('not_found', `no currency ${code}`);
  const to = localMonth(now);
  const from = addMonths(to, 1 - months);
  const rows = await impactRows(services.sql, currency, await periodBounds(services.sql, `${from}-01`, lastDay(to)));
  const month_keys = Array.from({ length: months }, (_, i) => addMonths(from, i));
  const by_month = month_keys.map((month) => rows.find((r) => r.month === month) ?? empty);
  const by_category = activity_categories.map((category) => rows.find((r) => r.category === category) ?? empty);
  const total = rows.find((r) => r.month === null && r.category === null) ?? empty;

  const volunteering_months = suppressSmallGroups(by_month.map(volunteeringOf), volunteeringOf(total));
  const spending_months = suppressSmallGroups(by_month.map(spendingOf), spendingOf(total));
  const volunteering_categories = suppressSmallGroups(by_category.map(volunteeringOf), volunteeringOf(total));
  // A total hidden in one dimension is hidden in the other too.
  const total_volunteering = volunteering_months.total.hidden ? volunteering_months.total : volunteering_categories.total;
  return {
    currency, from, to,
    months: month_keys.map((month, i) => ({
      month, volunteering: volunteering_months.groups[i]!, spending: spending_months.groups[i]!, active_shops: by_month[i]!.shops,
    })),
    categories: activity_categories.map((category, i) => ({ category, volunteering: volunteering_categories.groups[i]! })),
    total: { volunteering: total_volunteering, spending: spending_months.total, active_shops: total.shops },
  };
}
