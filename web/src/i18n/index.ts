import { computed, signal } from '@preact/signals';
import { nl } from './nl.js';
import type { Dictionary } from './nl.js';

export type { Dictionary } from './nl.js';

interface LocaleInfo {
  /** The language's name in itself, for the language picker. */
  name: string;
  /** BCP 47 tag for Intl (numbers, dates). */
  intl: string;
  load: () => Promise<Dictionary>;
}

/**
 * The languages of the client. Adding one: copy nl.ts to xx.ts, translate it (the type
 * `Dictionary` makes a missing key an error), and add one line here.
 * Dutch is the reference and the fallback, bundled with the app; the others load on demand.
 */
export const locales = {
  nl: { name: 'Nederlands', intl: 'nl-BE', load: () => Promise.resolve(nl) },
  en: { name: 'English', intl: 'en-GB', load: () => import('./en.js').then((m) => m.en) },
  fr: { name: 'Français', intl: 'fr-BE', load: () => import('./fr.js').then((m) => m.fr) },
} satisfies Record<string, LocaleInfo>;

export type Locale = keyof typeof locales;
export const default_locale: Locale = 'nl';

const storage_key = 'wm.locale';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && Object.hasOwn(locales, value);
}

/** The current language; read it in a component and the component follows changes. */
export const locale = signal<Locale>(default_locale);
const dictionary = signal<Dictionary>(nl);
/** The Intl tag of the current language, e.g. "nl-BE". */
export const intlTag = computed(() => locales[locale.value].intl);

/** The remembered language, else the browser's first known language, else Dutch. */
function initialLocale(): Locale {
  try {
    const stored = localStorage.getItem(storage_key);
    if (isLocale(stored)) return stored;
  } catch {
    // Storage may be off (private mode): fall through.
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLocale(base)) return base;
  }
  return default_locale;
}

/**
 * Switches the language (loading its file if needed) and, unless told not to, remembers it on
 * this device. Falls back to the current language when the file cannot load (offline).
 */
export async function setLocale(next: Locale, remember = true): Promise<void> {
  if (remember) {
    try {
      localStorage.setItem(storage_key, next);
    } catch {
      // Not remembered: still switched for this visit.
    }
  }
  try {
    dictionary.value = await locales[next].load();
  } catch {
    return;
  }
  locale.value = next;
  document.documentElement.lang = locales[next].intl;
}

/** Loads the remembered or browser language; call once before the first render. */
export async function initLocale(): Promise<void> {
  await setLocale(initialLocale(), false);
}

type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>
}[keyof T & string];

/** Every key of the dictionaries, as "section.name" (checked at compile time). */
export type Key = Leaves<Dictionary>;
export type Params = Record<string, string | number>;

function lookup(dict: Dictionary, key: string): string | undefined {
  let node: unknown = dict;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** The text of `key` in the current language, with `{name}` placeholders filled from params. */
export function t(key: Key, params: Params = {}): string {
  const text = lookup(dictionary.value, key) ?? lookup(nl, key) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** A key known only at run time (e.g. an error code): its text, or undefined when there is none. */
export function tMaybe(key: string, params: Params = {}): string | undefined {
  return lookup(dictionary.value, key) === undefined ? undefined : t(key as Key, params);
}

/** Number of decimals written in a decimal string ("12.50" → 2). */
function decimalsOf(amount: string): number {
  const dot = amount.indexOf('.');
  return dot < 0 ? 0 : amount.length - dot - 1;
}

/**
 * An amount as the API sends it (a decimal string, exactly `scale` decimals) with its currency,
 * for display only: "1.234,50 TOR" in nl-BE. Intl formats the string itself (exact in current
 * browsers); nothing here does arithmetic on money.
 */
export function formatAmount(amount: string, currency: string, options: { signed?: boolean } = {}): string {
  const scale = decimalsOf(amount);
  const format = new Intl.NumberFormat(intlTag.value, {
    minimumFractionDigits: scale,
    maximumFractionDigits: scale,
    signDisplay: options.signed === true ? 'exceptZero' : 'auto',
  });
  // Intl.NumberFormat.format takes a decimal string (ES2023); the lib types still say number.
  return `${format.format(amount as unknown as number)}\u00a0${currency}`;
}

/** A plain decimal from the API (e.g. hours, "1.50") in the current language: "1,5" in nl-BE. */
export function formatNumber(value: string, maximumFractionDigits = 2): string {
  // Intl.NumberFormat.format takes a decimal string (ES2023); the lib types still say number.
  return new Intl.NumberFormat(intlTag.value, { maximumFractionDigits }).format(value as unknown as number);
}

const date_styles = {
  date: { dateStyle: 'medium' },
  datetime: { dateStyle: 'medium', timeStyle: 'short' },
  time: { timeStyle: 'short' },
  /** Day, month and time; the year only when it is not this year (lists, history). */
  short: { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' },
} satisfies Record<string, Intl.DateTimeFormatOptions>;

/** A date (ISO string or Date) in the current language. */
export function formatDate(value: string | Date, style: keyof typeof date_styles = 'datetime'): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  const options: Intl.DateTimeFormatOptions = style === 'short' && date.getFullYear() !== new Date().getFullYear()
    ? { ...date_styles.short, year: 'numeric' }
    : date_styles[style];
  return new Intl.DateTimeFormat(intlTag.value, options).format(date);
}

/**
 * A local day as the API sends it ('YYYY-MM-DD') in the current language: "3 maart" in nl-BE,
 * with the year when it is not this year. Read as that calendar day wherever the device is.
 */
export function formatDay(day: string): string {
  const [year, month, date] = day.split('-').map(Number);
  const utc = new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, date ?? 1));
  const options: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'long', timeZone: 'UTC' };
  if (utc.getUTCFullYear() !== new Date().getFullYear()) options.year = 'numeric';
  return new Intl.DateTimeFormat(intlTag.value, options).format(utc);
}

/** A localized name ({nl, en?, fr?}) in the current language, else Dutch. */
export function localizedName(names: Record<string, string | undefined>): string {
  return names[locale.value] ?? names[default_locale] ?? Object.values(names).find((n) => n !== undefined) ?? '';
}
