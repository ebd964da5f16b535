/**
 * Amounts as the tablet types them. The canonical form is a plain decimal string with a dot
 * ("12.5", "12.", "" while typing); what is shown uses the language's decimal separator. Every
 * check and sum goes through lib/money.ts (BigInt of the smallest unit), never a float.
 */
import { intlTag } from '../i18n/index.js';
import { fromMinor, scaleOf, toMinor } from '../lib/money.js';

/** Digits before the decimal separator: far more than any till needs, far less than the ledger holds. */
const whole_digits_max = 9;

/** The decimal separator of the current language ("," in nl-BE and fr-BE, "." in en-GB). */
export function decimalSeparator(): string {
  return new Intl.NumberFormat(intlTag.value).formatToParts(1.5).find((part) => part.type === 'decimal')?.value ?? ',';
}

/**
 * What was typed or pasted, made canonical: comma or dot as the separator, only digits, at most
 * `scale` decimals (none when the currency has no decimals), no leading zeros.
 */
export function cleanAmount(typed: string, scale: number): string {
  const text = typed.replace(/\s/g, '').replace(/,/g, '.').replace(/[^0-9.]/g, '');
  const dot = text.indexOf('.');
  let whole = dot < 0 ? text : text.slice(0, dot);
  let fraction = dot < 0 ? undefined : text.slice(dot + 1).replace(/\./g, '');
  whole = whole.replace(/^0+(?=[0-9])/, '').slice(0, whole_digits_max);
  if (scale === 0 || fraction === undefined) return whole;
  fraction = fraction.slice(0, scale);
  return `${whole === '' ? '0' : whole}.${fraction}`;
}

/** One more key pressed on the amount pad ("0"–"9", "00" or "." for the separator). */
export function pressKey(current: string, key: string, scale: number): string {
  if (key === '.') {
    if (scale === 0 || current.includes('.')) return current;
    return `${current === '' ? '0' : current}.`;
  }
  const dot = current.indexOf('.');
  if (dot >= 0 && current.length - dot - 1 >= scale) return current;
  const whole = dot < 0 ? current : current.slice(0, dot);
  if (dot < 0 && whole.replace(/^0+/, '').length >= whole_digits_max) return current;
  return cleanAmount(current + key, scale);
}

/** The canonical amount for the API at the currency's scale ("12.5" → "12.50"), or undefined when not a positive amount. */
export function amountForApi(canonical: string, scale: number): string | undefined {
  const text = canonical.endsWith('.') ? canonical.slice(0, -1) : canonical;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || scaleOf(text) > scale) return undefined;
  const minor = toMinor(text, scale);
  return minor > 0n ? fromMinor(minor, scale) : undefined;
}

/** The canonical amount as the input field shows it ("12.5" → "12,5" in Dutch). */
export function shownAmount(canonical: string): string {
  return canonical.replace('.', decimalSeparator());
}

/** a + b, exactly, at the larger of their scales. */
export function addAmounts(a: string, b: string): string {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  return fromMinor(toMinor(a, scale) + toMinor(b, scale), scale);
}

/** Euros for display ("€ 12,50" in nl-BE) from the API's decimal string. */
export function formatEuro(value: string): string {
  // Intl.NumberFormat.format takes a decimal string (ES2023); the lib types still say number.
  return new Intl.NumberFormat(intlTag.value, { style: 'currency', currency: 'EUR' }).format(value as unknown as number);
}

/** mm:ss until `until` (an ISO date), or undefined once past. */
export function remaining(until: string, now: number): string | undefined {
  const ms = new Date(until).getTime() - now;
  if (ms <= 0) return undefined;
  const s = Math.ceil(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
