/**
 * Exact arithmetic on the API's decimal strings ("12.50"), through integers of the smallest
 * unit (BigInt). Money is never a floating-point number here.
 */

/** Decimals written in an amount string. */
export function scaleOf(amount: string): number {
  const dot = amount.indexOf('.');
  return dot < 0 ? 0 : amount.length - dot - 1;
}

/** "12.50" at scale 2 → 1250n. Throws on anything that is not a plain decimal. */
export function toMinor(amount: string, scale: number): bigint {
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(amount.trim());
  if (match === null) throw new Error(`not a decimal amount: ${amount}`);
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > scale) throw new Error(`more than ${scale} decimals: ${amount}`);
  const minor = BigInt(whole + fraction.padEnd(scale, '0'));
  return sign === '-' ? -minor : minor;
}

/** 1250n at scale 2 → "12.50". */
export function fromMinor(minor: bigint, scale: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** a − b, at the larger of their scales. */
export function subtract(a: string, b: string): string {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  return fromMinor(toMinor(a, scale) - toMinor(b, scale), scale);
}

/** Compares two amounts: negative, 0 or positive. */
export function compare(a: string, b: string): number {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  const d = toMinor(a, scale) - toMinor(b, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function isNegative(amount: string): boolean {
  return amount.trim().startsWith('-');
}

/**
 * a × b, exactly, rounded to `decimals` places half to even ("123" × "0.10" → "12.30"): the
 * service's own rule for a euro value of coins, so the tablet shows the same cents.
 */
export function multiply(a: string, b: string, decimals: number): string {
  const sa = scaleOf(a);
  const sb = scaleOf(b);
  const product = toMinor(a, sa) * toMinor(b, sb);
  const drop = sa + sb - decimals;
  if (drop <= 0) return fromMinor(product * 10n ** BigInt(-drop), decimals);
  const unit = 10n ** BigInt(drop);
  const negative = product < 0n;
  const magnitude = negative ? -product : product;
  let quotient = magnitude / unit;
  const twice_rest = (magnitude % unit) * 2n;
  if (twice_rest > unit || (twice_rest === unit && quotient % 2n === 1n)) quotient += 1n;
  return fromMinor(negative ? -quotient : quotient, decimals);
}
