import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { amount_minor_max, euroValue, formatAmount, parseAmount } from '../src/ledger/amount.js';
import { ValidationError } from '../src/ledger/errors.js';

describe('parseAmount turns decimal strings into minor units', () => {
  it('accepts plain decimals up to the scale', () => {
    expect(parseAmount('12.50', 2)).toBe(1250n);
    expect(parseAmount('12.5', 2)).toBe(1250n);
    expect(parseAmount('12', 2)).toBe(1200n);
    expect(parseAmount('0.01', 2)).toBe(1n);
    expect(parseAmount('15', 0)).toBe(15n);
    expect(parseAmount('10000000000000.00', 2)).toBe(amount_minor_max);
  });

  it.each([
    ['0'], ['0.00'], ['-1'], ['1e3'], ['12.345'], ['abc'], [''], [' 1'], ['1 '], ['1.'], ['.5'], ['0x10'],
    ['01'], ['+1'], ['1,5'], ['Infinity'], ['NaN'], ['10000000000000.01'], ['99999999999999999999'],
  ])('rejects %j at scale 2 with a validation error on the field', (input) => {
    expect(() => parseAmount(input, 2)).toThrow(ValidationError);
    try {
      parseAmount(input, 2, 'transfers.3.amount');
    } catch (error) {
      expect((error as ValidationError).errors[0]?.path).toBe('transfers.3.amount');
    }
  });

  it.each([[12.5], [1], [null], [undefined], [{}], [['1']], [true]])('rejects the non-string %j', (input) => {
    expect(() => parseAmount(input, 2)).toThrow(/decimal string/);
  });

  it('rejects decimals at scale 0', () => {
    expect(() => parseAmount('1.5', 0)).toThrow(/at most 0 decimals/);
  });
});

describe('formatAmount writes exactly scale decimals', () => {
  it('pads, signs and handles scale 0', () => {
    expect(formatAmount(1250n, 2)).toBe('12.50');
    expect(formatAmount(-310n, 2)).toBe('-3.10');
    expect(formatAmount(0n, 2)).toBe('0.00');
    expect(formatAmount(12n, 0)).toBe('12');
    expect(formatAmount(9_000_000_000_000_000_001n, 2)).toBe('90000000000000000.01');
  });

  it('round-trips with parseAmount', () => {
    for (const text of ['0.01', '1.00', '123456789.99', '10000000000000.00']) {
      expect(formatAmount(parseAmount(text, 2), 2)).toBe(text);
    }
  });

  it('agrees with decimal arithmetic on every scale, sign and length (both ways)', () => {
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let i = 0; i < 2000; i++) {
      const scale = next() % 7;
      const digits = 1 + (next() % 16);
      let minor = 0n;
      for (let d = 0; d < digits; d++) minor = minor * 10n + BigInt(next() % 10);
      const signed = next() % 2 === 0 ? minor : -minor;
      const expected = new Decimal(signed.toString()).div(new Decimal(10).pow(scale)).toFixed(scale);
      expect(formatAmount(signed, scale)).toBe(expected);
      if (minor > 0n && minor <= amount_minor_max) {
        // Without trailing zeros too ("12.5" for 1250 at scale 2), as a client may send it.
        const short = new Decimal(minor.toString()).div(new Decimal(10).pow(scale)).toString();
        expect(parseAmount(expected.replace(/^-/, ''), scale)).toBe(minor);
        if (!short.includes('e')) expect(parseAmount(short, scale)).toBe(minor);
      }
    }
  });
});

describe('euroValue is exact', () => {
  it('multiplies coin units by the euro rate without floats', () => {
    expect(euroValue(1234n, 0, '0.10')).toBe('123.40');
    expect(euroValue(123400n, 2, '0.10')).toBe('123.40');
    // 0.1 + 0.2 style traps: 3 coins at 0.1 is exactly 0.30.
    expect(euroValue(3n, 0, '0.1')).toBe('0.30');
    expect(euroValue(10n ** 15n, 0, '0.10')).toBe('100000000000000.00');
  });
});
