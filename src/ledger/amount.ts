import { Decimal } from 'decimal.js';
import { ValidationError } from './errors.js';

/** Largest amount one transfer may move, in minor units (keeps every balance sum far below 2^63). */
export const amount_minor_max = 10n ** 15n;

const decimal_pattern = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * Parses a decimal string of coin units ("12.50") into minor units for a currency of `scale`.
 * Rejects numbers, exponents, signs, more decimals than the scale, zero and amounts over the max.
 * `path` names the field in the validation error.
 */
export function parseAmount(input: unknown, scale: number, path = 'amount'): bigint {
  if (typeof input !== 'string') {
    throw new ValidationError([{ path, message: 'must be a decimal string such as "12.50"' }]);
  }
  const match = decimal_pattern.exec(input);
  if (match === null) {
    throw new ValidationError([{ path, message: 'must be a positive decimal string such as "12.50"' }]);
  }
  const decimals = match[2] === undefined ? 0 : match[2].length - 1;
  if (decimals > scale) {
    throw new ValidationError([{ path, message: `at most ${scale} decimals in this currency` }]);
  }
  // Exact in bigint: the digits without the point, the decimals padded to the scale.
  const minor = BigInt(`${match[1] ?? '0'}${(match[2] ?? '.').slice(1).padEnd(scale, '0')}`);
  if (minor <= 0n) {
    throw new ValidationError([{ path, message: 'must be greater than zero' }]);
  }
  if (minor > amount_minor_max) {
    throw new ValidationError([{ path, message: `must be at most ${formatAmount(amount_minor_max, scale)}` }]);
  }
  return minor;
}

/** Formats minor units as a decimal string with exactly `scale` decimals ("-3.10"), exactly in bigint. */
export function formatAmount(minor: bigint, scale: number): string {
  const digits = (minor < 0n ? -minor : minor).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const text = scale === 0 ? whole : `${whole}.${digits.slice(digits.length - scale)}`;
  return minor < 0n ? `-${text}` : text;
}

/**
 * Euros for `minor` coin units at `euro_per_unit`, computed exactly in decimal and rounded to
 * the cent (half to even) only when the product has more decimals than a bank can pay.
 */
export function euroValue(minor: bigint, scale: number, euro_per_unit: string): string {
  const units = new Decimal(minor.toString()).div(new Decimal(10).pow(scale));
  return units.mul(new Decimal(euro_per_unit)).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toFixed(2);
}
