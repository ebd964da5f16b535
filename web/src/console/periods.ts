/**
 * The periods of the reports page, as local days in Belgium ('YYYY-MM-DD', both included), and
 * the months they cover. Pure calendar arithmetic on strings; the API checks what is typed.
 */

export type PeriodChoice = 'this_month' | 'last_month' | 'this_year' | 'custom';

export interface Period {
  from: string;
  to: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The last day of a month 'YYYY-MM'. */
export function lastDayOf(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${pad(new Date(Date.UTC(year, m, 0)).getUTCDate())}`;
}

/** The month before 'YYYY-MM'. */
export function previousMonth(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${year - 1}-12` : `${year}-${pad(m - 1)}`;
}

/** The period a choice means on `today` (a custom period is what was typed). */
export function periodOf(choice: Exclude<PeriodChoice, 'custom'>, today: string): Period {
  const month = today.slice(0, 7);
  if (choice === 'this_month') return { from: `${month}-01`, to: lastDayOf(month) };
  if (choice === 'last_month') {
    const last = previousMonth(month);
    return { from: `${last}-01`, to: lastDayOf(last) };
  }
  return { from: `${today.slice(0, 4)}-01-01`, to: `${today.slice(0, 4)}-12-31` };
}

/** Every month 'YYYY-MM' from the one of `from` to the one of `to`, in order. */
export function monthsOf(period: Period): string[] {
  const months: string[] = [];
  const last = period.to.slice(0, 7);
  let [year, m] = period.from.slice(0, 7).split('-').map(Number) as [number, number];
  for (let month = `${year}-${pad(m)}`; month <= last; month = `${year}-${pad(m)}`) {
    months.push(month);
    m += 1;
    if (m === 13) {
      m = 1;
      year += 1;
    }
  }
  return months;
}
