import { describe, expect, it } from 'vitest';
import { formatIban, isValidIban, normalizeIban, sepa_iban_lengths } from '../src/ledger/iban.js';

const valid = {
  BE: 'BE68539007547034',
  NL: 'NL91ABNA0417164300',
  FR: 'FR1420041010050500013M02606',
  DE: 'DE89370400440532013000',
  GB: 'GB82WEST12345698765432',
};

describe('normalizeIban', () => {
  it('upper-cases and strips spaces, dashes and other whitespace, nothing else', () => {
    expect(normalizeIban('be68 5390 0754 7034')).toBe('BE68539007547034');
    expect(normalizeIban(' nl91-abna-0417-1643-00 ')).toBe('NL91ABNA0417164300');
    expect(normalizeIban('BE68\t5390\u00a00754 7034')).toBe('BE68539007547034');
    expect(normalizeIban('BE68.5390!0754')).toBe('BE68.5390!0754');
  });
});

describe('isValidIban', () => {
  it.each(Object.entries(valid))('accepts the %s example', (_country, iban) => {
    expect(isValidIban(iban)).toBe(true);
  });

  it('normalises lower-case, spaced and dashed input first', () => {
    expect(isValidIban('be68 5390 0754 7034')).toBe(true);
    expect(isValidIban('fr14 2004 1010 0505 0001 3m02 606')).toBe(true);
    expect(isValidIban('DE89-3704-0044-0532-0130-00')).toBe(true);
    expect(isValidIban(formatIban(valid.NL))).toBe(true);
  });

  it.each(Object.entries(valid))('rejects every single-digit change of the %s example', (_country, iban) => {
    for (let i = 2; i < iban.length; i++) {
      const char = iban.charAt(i);
      if (!/[0-9]/.test(char)) continue;
      const changed = iban.slice(0, i) + String((Number(char) + 1) % 10) + iban.slice(i + 1);
      expect(isValidIban(changed), changed).toBe(false);
    }
  });

  it.each(Object.entries(valid))('rejects every swap of two different adjacent characters in the %s example', (_country, iban) => {
    let swaps = 0;
    for (let i = 2; i < iban.length - 1; i++) {
      const a = iban.charAt(i);
      const b = iban.charAt(i + 1);
      if (a === b) continue;
      const swapped = iban.slice(0, i) + b + a + iban.slice(i + 2);
      expect(isValidIban(swapped), swapped).toBe(false);
      swaps++;
    }
    expect(swaps).toBeGreaterThan(5);
  });

  it('rejects the wrong length for the country, even with a correct checksum', () => {
    expect(isValidIban('BE6853900754703')).toBe(false);
    expect(isValidIban('BE685390075470340')).toBe(false);
    // A correct mod 97 checksum over a Belgian BBAN one digit too long: only the length rule catches it.
    const bban = '5390075470340';
    const check = String(98 - Number(BigInt(`${bban}111400`) % 97n)).padStart(2, '0');
    const long = `BE${check}${bban}`;
    expect(long).toHaveLength(17);
    expect(isValidIban(long)).toBe(false);
  });

  it('rejects non-alphanumeric characters', () => {
    expect(isValidIban('BE68.5390.0754.7034')).toBe(false);
    expect(isValidIban('BE68_539007547034')).toBe(false);
    expect(isValidIban('BE68539007547O34')).toBe(false); // letter O, not zero
    expect(isValidIban('ÉE68539007547034')).toBe(false);
    expect(isValidIban('')).toBe(false);
    expect(isValidIban('BE')).toBe(false);
    expect(isValidIban('BEXX539007547034')).toBe(false);
  });

  it('rejects unknown and non-SEPA countries', () => {
    expect(isValidIban('XX68539007547034')).toBe(false);
    // A checksum-valid Saudi IBAN: real, but not SEPA.
    expect(isValidIban('SA0380000000608010167519')).toBe(false);
    expect(isValidIban('__proto__1234567')).toBe(false);
    expect(isValidIban('TO68539007547034')).toBe(false);
  });

  it('knows the SEPA lengths asked for', () => {
    expect(sepa_iban_lengths).toMatchObject({
      BE: 16, NL: 18, FR: 27, DE: 22, LU: 20, ES: 24, IT: 27, AT: 20, IE: 22, PT: 25, FI: 18, GB: 22, CH: 21,
    });
  });

  it('handles the longest IBANs without precision loss', () => {
    // Malta, 31 characters: far beyond Number.MAX_SAFE_INTEGER once letters are expanded.
    expect(isValidIban('MT84MALT011000012345MTLCAST001S')).toBe(true);
    expect(isValidIban('MT84MALT011000012345MTLCAST001T')).toBe(false);
  });
});

describe('formatIban', () => {
  it('prints groups of four', () => {
    expect(formatIban('BE68539007547034')).toBe('BE68 5390 0754 7034');
    expect(formatIban('fr1420041010050500013m02606')).toBe('FR14 2004 1010 0505 0001 3M02 606');
    expect(formatIban('BE68 5390 0754 7034')).toBe('BE68 5390 0754 7034');
    expect(formatIban('')).toBe('');
  });
});
