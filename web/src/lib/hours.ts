/**
 * Hours as every screen shows them, in the current language: "2,5 u" (nl), "2.5 h" (en),
 * "2,5 h" (fr) — the number as Intl writes it (at most two decimals), a non-breaking space and
 * the language's short unit (`common.hours_value`).
 *
 *   formatHours('2.50')   // "2,5 u" in Dutch
 */
import { formatNumber, t } from '../i18n/index.js';

export function formatHours(hours: string): string {
  return t('common.hours_value', { hours: formatNumber(hours) });
}
