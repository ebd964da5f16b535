/**
 * A person's data on request (docs/privacy-requests.md): what an erased volunteer is called
 * from then on, how their card codes are shown in an export, and how recorded text (audit
 * changes, recorded answers) loses what named them. Pure: src/app/privacy.ts reads and writes.
 */

/** What an erased wallet is called: "Gewist 7F3A" (4 random hex digits, so two erased people differ). */
export function pseudonymFrom(bytes: Uint8Array): string {
  if (bytes.length !== 2) throw new Error('a pseudonym takes exactly 2 random bytes');
  return `Gewist ${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('').toUpperCase()}`;
}

/** Stored instead of an erased wallet's PIN hash: no PIN verifies against it (not a scrypt hash). */
export const erased_pin_hash = 'erased';

/** A card code as an export shows it: only its last group and check symbol ("••••-••••-••••-8HWV-Z"). */
export function maskCardCode(code: string): string {
  return `••••-••••-••••-${code.slice(12, 16)}-${code.slice(16)}`;
}

/** A text that named the person, and what takes its place. */
export interface Replacement {
  text: string;
  by: string;
}

const letter_or_digit = '[\\p{L}\\p{N}]';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A matcher of the replaced texts as whole words (not "Jo" in "Johan"), case-insensitive,
 * longest first (a full name before the first name inside it). Undefined when there is none.
 */
function matcherOf(replacements: Replacement[]): { pattern: RegExp; by: Map<string, string> } | undefined {
  const usable = replacements.filter((r) => r.text.trim() !== '').sort((a, b) => b.text.length - a.text.length);
  if (usable.length === 0) return undefined;
  const alternatives = usable.map((r) => escapeRegExp(r.text)).join('|');
  return {
    pattern: new RegExp(`(?<!${letter_or_digit})(?:${alternatives})(?!${letter_or_digit})`, 'giu'),
    by: new Map(usable.map((r) => [r.text.toLocaleLowerCase(), r.by])),
  };
}

/** Whether `text` names the person: holds one of the texts as a whole word. */
export function names(text: string, replacements: Replacement[]): boolean {
  const matcher = matcherOf(replacements);
  return matcher !== undefined && new RegExp(matcher.pattern.source, 'iu').test(text);
}

/**
 * `value` (JSON as stored) with every text that named the person replaced in every string, and
 * every string under one of `personal_keys` (display_name, full_name, …) replaced whole by
 * `whole`: an earlier name is replaced too, though it is no longer the current one.
 */
export function scrubbed(value: unknown, replacements: Replacement[], personal_keys: ReadonlySet<string> = new Set(), whole = ''): unknown {
  const matcher = matcherOf(replacements);
  const visit = (v: unknown, personal: boolean): unknown => {
    if (typeof v === 'string') {
      if (personal) return whole;
      return matcher === undefined ? v : v.replace(matcher.pattern, (found) => matcher.by.get(found.toLocaleLowerCase()) ?? whole);
    }
    if (Array.isArray(v)) return v.map((item) => visit(item, personal));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, visit(item, personal || personal_keys.has(key))]));
    }
    return v;
  };
  return visit(value, false);
}

/** The keys of recorded changes that hold a person's name or contact details, whatever their value. */
export const personal_keys: ReadonlySet<string> = new Set(['display_name', 'full_name', 'name', 'phone', 'email', 'note']);
