/**
 * What makes a PIN or a password too easy to guess. Pure: the use cases refuse what these
 * name, at registration and at every change, with a plain message.
 */

/** The most chosen 4-digit PINs after the runs and repeats (published analyses of leaked PIN sets). */
const common_pins = new Set([
  '1212', '1004', '2000', '6969', '1122', '1313', '2001', '1010', '2580', '0852', '1984', '1986', '1985', '1987',
  '1990', '1991', '1992', '1980', '1988', '1989', '1020', '1230', '0007', '7777', '4545', '2020',
  '2121', '1221', '0101', '1001', '1100', '0110', '5683', '1369', '2323', '3131', '0911', '1998', '1999', '2002',
  '2003', '2010', '2011', '2012', '2019', '2021', '2022', '2023', '2024', '2025', '2026',
  '121212', '112233', '123123', '696969', '101010', '147258', '159753', '131313', '252525', '000007', '111222',
]);

function isRun(digits: string): boolean {
  const steps = new Set<number>();
  for (let i = 1; i < digits.length; i++) steps.add((digits.charCodeAt(i) - digits.charCodeAt(i - 1) + 10) % 10);
  // 1234, 4321, 7890, 0987: one step of +1 or −1 throughout (wrapping 9 → 0).
  return steps.size === 1 && (steps.has(1) || steps.has(9));
}

/** Why a PIN is too easy to guess, or undefined. */
export function weakPin(pin: string): string | undefined {
  if (/^(\d)\1*$/.test(pin)) return 'all the same digit';
  if (isRun(pin)) return 'a run of digits like 1234 or 4321';
  if (/^(\d\d)\1+$/.test(pin) || /^(\d\d\d)\1$/.test(pin)) return 'a repeated pair or triple like 1212';
  if (common_pins.has(pin)) return 'one of the most common PINs';
  return undefined;
}

/** The plain sentence shown when a PIN is refused. */
export function weakPinMessage(reason: string): string {
  return `this PIN is too easy to guess (${reason}); choose 4 to 6 digits that are not a run, a repeat or a year`;
}

/** The shortest password a staff member may choose. */
export const password_length_min = 12;

/** Common passwords of 12 characters or more (lowercased), from published breach lists, in Dutch, French and English. */
const common_passwords = new Set([
  '123456789012', '1234567890123', '12345678901234', '123456789123', '1234567891011', 'qwertyuiopas', 'qwerty123456',
  'password1234', 'password12345', 'password123456', 'passwordpassword', '1q2w3e4r5t6y', '1q2w3e4r5t6y7u', 'q1w2e3r4t5y6',
  'qwertyuiop12', 'qwertyuiop123', 'azertyuiopqs', 'azerty123456', 'azertyuiop12', 'azertyuiop123', 'iloveyou1234',
  'wachtwoord12', 'wachtwoord123', 'wachtwoord1234', 'motdepasse12', 'motdepasse123', 'motdepasse1234', 'welkom123456',
  'welcome12345', 'welcome123456', 'bienvenue123', 'changeme1234', 'letmein12345', 'administrator', 'administrator1',
  'adminadmin12', 'admin1234567', 'abcdefghijkl', 'abcdefgh1234', 'abc123456789', 'football1234', 'sunshine1234',
  'princess1234', 'superman1234', 'baseball1234', 'starwars1234', 'trustno11234', 'zaq12wsxcde3', '1qaz2wsx3edc',
  'wijkmunt1234', 'wijkmunt2026', 'gent12345678', 'belgie123456', 'belgique1234',
]);

/** Why a password is too easy to guess, or undefined. `email` is its owner's, which it must not repeat. */
export function weakPassword(password: string, email?: string): string | undefined {
  if ([...password].length < password_length_min) return `shorter than ${password_length_min} characters`;
  const lower = password.toLowerCase();
  if (/^(.)\1*$/su.test(password)) return 'one character repeated';
  if (common_passwords.has(lower)) return 'one of the most common passwords';
  if (isLetterOrDigitRun(lower)) return 'a run like 123456789012 or abcdefghijkl';
  const local = email?.toLowerCase().split('@')[0];
  if (local !== undefined && local.length >= 4 && lower.includes(local)) return 'it contains the email address';
  return undefined;
}

/** Digits or letters one after another throughout, up or down: 123456789012, lkjihgfedcba. */
function isLetterOrDigitRun(text: string): boolean {
  if (!/^[0-9]+$|^[a-z]+$/.test(text)) return false;
  const digits = /^[0-9]/.test(text);
  const steps = new Set<number>();
  for (let i = 1; i < text.length; i++) {
    const step = text.charCodeAt(i) - text.charCodeAt(i - 1);
    steps.add(digits ? (step + 10) % 10 : step);
  }
  return steps.size === 1 && (steps.has(1) || steps.has(digits ? 9 : -1));
}

/** The plain sentence shown when a password is refused. */
export function weakPasswordMessage(reason: string): string {
  return `this password is too easy to guess (${reason}); use at least ${password_length_min} characters, for example a few unrelated words`;
}
