/**
 * Pairing codes: 8 Crockford base32 symbols (40 bits), typed once on a shop's tablet, shown as
 * "K7QM-3D9X". They are single-use and expire, so 40 bits are plenty.
 */
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const symbols = 8;

/** A pairing code from 8 random bytes (256 is a multiple of 32, so each symbol is uniform). */
export function pairingCodeFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== symbols) throw new Error('a pairing code takes exactly 8 random bytes');
  return [...bytes].map((b) => alphabet.charAt(b % 32)).join('');
}

/** What someone typed, made canonical (case, dashes, spaces, I/L → 1, O → 0), or undefined. */
export function normalizePairingCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  return code.length === symbols && [...code].every((c) => alphabet.includes(c)) ? code : undefined;
}

export function formatPairingCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}
