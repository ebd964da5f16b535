/**
 * Card codes: 16 Crockford base32 symbols (80 random bits) and one Luhn mod 32 check symbol,
 * printed in groups of four ("K7QM-3D9X-P2RT-8HWV-Z"). Typing is forgiving: case, spaces and
 * dashes do not matter, and I/L read as 1, O as 0.
 */
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const card_code_symbols = 17;
const data_symbols = 16;

function checkSymbol(data: string): string {
  // Luhn mod N over the base32 alphabet: catches every single-symbol error and most swaps.
  let sum = 0;
  let factor = 2;
  for (let i = data.length - 1; i >= 0; i--) {
    let addend = factor * alphabet.indexOf(data.charAt(i));
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / 32) + (addend % 32);
    sum += addend;
  }
  return alphabet.charAt((32 - (sum % 32)) % 32);
}

/** A new card code from 10 random bytes (80 bits). */
export function cardCodeFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 10) throw new Error('a card code takes exactly 10 random bytes');
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let data = '';
  for (let i = 0; i < data_symbols; i++) {
    data = alphabet.charAt(Number(bits & 31n)) + data;
    bits >>= 5n;
  }
  return data + checkSymbol(data);
}

/**
 * The canonical code of what someone typed or scanned, or undefined when it cannot be a card
 * (wrong length, foreign symbols, or a failed check symbol: a typo).
 */
export function normalizeCardCode(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (code.length !== card_code_symbols || ![...code].every((c) => alphabet.includes(c))) return undefined;
  return checkSymbol(code.slice(0, data_symbols)) === code.charAt(data_symbols) ? code : undefined;
}

/**
 * Whether what someone typed has a card code's shape (17 symbols of the alphabet, forgiving as
 * above) but a check symbol that fails: one symbol was mistyped. Says nothing about whether a
 * card exists, so a coordinator's screen may say "check the code" rather than "no such card".
 */
export function isCardCodeTypo(input: string): boolean {
  if (input.length > 64) return false;
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  return code.length === card_code_symbols && [...code].every((c) => alphabet.includes(c)) && normalizeCardCode(input) === undefined;
}

/** "K7QM3D9XP2RT8HWVZ" → "K7QM-3D9X-P2RT-8HWV-Z", for print and screens. */
export function formatCardCode(code: string): string {
  return code.match(/.{1,4}/g)?.join('-') ?? code;
}
