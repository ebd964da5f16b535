/**
 * The local calendar day of an instant in a time zone, as "2026-12-07" (its first 7 characters
 * are the month). One `Intl.DateTimeFormat` per time zone, made once: each one holds ICU's
 * calendar and time zone rules in native memory (~18 kB) until the garbage collector frees it,
 * and costs ~95 µs to make against ~1.5 µs to use. Made per request, `GET /wallet` (the caps'
 * periods) let the service's memory grow by that much per read (#15, docs/performance.md).
 */
const formats = new Map<string, Intl.DateTimeFormat>();

export function localDayIn(time_zone: string, instant: Date): string {
  let format = formats.get(time_zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: time_zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formats.set(time_zone, format);
  }
  return format.format(instant);
}
