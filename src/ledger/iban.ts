/**
 * IBANs (ISO 13616): normalising what people type, validating, and printing in groups of four.
 * Pure functions; no I/O.
 */

/**
 * IBAN length per country for the countries in the SEPA schemes (EPC list of participating
 * countries). Payouts only go through SEPA credit transfers, so an IBAN from any other country
 * is of no use to us and is rejected like an unknown country. Territories that use another
 * country's IBAN (Åland → FI, the French overseas departments → FR, Jersey/Guernsey/Isle of
 * Man → GB) need no entry of their own.
 */
export const sepa_iban_lengths: Readonly<Record<string, number>> = Object.freeze({
  AD: 24, // Andorra
  AL: 28, // Albania
  AT: 20, // Austria
  BE: 16, // Belgium
  BG: 22, // Bulgaria
  CH: 21, // Switzerland
  CY: 28, // Cyprus
  CZ: 24, // Czechia
  DE: 22, // Germany
  DK: 18, // Denmark
  EE: 20, // Estonia
  ES: 24, // Spain
  FI: 18, // Finland
  FR: 27, // France
  GB: 22, // United Kingdom
  GI: 23, // Gibraltar
  GR: 27, // Greece
  HR: 21, // Croatia
  HU: 28, // Hungary
  IE: 22, // Ireland
  IS: 26, // Iceland
  IT: 27, // Italy
  LI: 21, // Liechtenstein
  LT: 20, // Lithuania
  LU: 20, // Luxembourg
  LV: 21, // Latvia
  MC: 27, // Monaco
  MD: 24, // Moldova
  ME: 22, // Montenegro
  MK: 19, // North Macedonia
  MT: 31, // Malta
  NL: 18, // Netherlands
  NO: 15, // Norway
  PL: 28, // Poland
  PT: 25, // Portugal
  RO: 24, // Romania
  SE: 24, // Sweden
  SI: 19, // Slovenia
  SK: 24, // Slovakia
  SM: 27, // San Marino
  VA: 22, // Vatican City
});

/**
 * Upper-cases `input` and removes whitespace and dashes, the separators people copy from
 * statements and web forms. Nothing else changes, so an invalid IBAN stays invalid.
 */
export function normalizeIban(input: string): string {
  return input.replace(/[\s-]+/g, '').toUpperCase();
}

/** Shape after normalising: country, two check digits, an alphanumeric BBAN. */
const iban_shape = /^([A-Z]{2})([0-9]{2})[A-Z0-9]+$/;

/**
 * True when `input` (normalised first, so "be68 5390 0754 7034" passes) is an IBAN of a SEPA
 * country with that country's exact length and a correct ISO 7064 mod 97-10 checksum.
 */
export function isValidIban(input: string): boolean {
  const iban = normalizeIban(input);
  const match = iban_shape.exec(iban);
  if (match === null) return false;
  const country = match[1] as string;
  const expected_length = Object.hasOwn(sepa_iban_lengths, country) ? sepa_iban_lengths[country] : undefined;
  if (expected_length === undefined || iban.length !== expected_length) return false;
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
}

/**
 * Remainder modulo 97 of the number written by `rearranged`, letters counting as 10..35.
 * Folds one character at a time so the running value stays below 97 * 100 and a JS number
 * never loses precision, whatever the IBAN's length.
 */
function mod97(rearranged: string): number {
  let remainder = 0;
  for (const char of rearranged) {
    const value = Number.parseInt(char, 36);
    remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97;
  }
  return remainder;
}

/**
 * The IBAN in the paper format of ISO 13616: normalised, then groups of four separated by
 * single spaces ("BE68 5390 0754 7034"). Does not validate; call isValidIban for that.
 */
export function formatIban(iban: string): string {
  return normalizeIban(iban).replace(/(.{4})(?=.)/g, '$1 ');
}
