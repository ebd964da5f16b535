/**
 * What the console knows about the logged-in coordinator: the user, the currencies they work
 * in, the one chosen (remembered on this device), and small helpers shared by its screens.
 */
import { computed, signal } from '@preact/signals';
import { ApiError, clearToken, consoleApi, publicApi, setToken, tokens } from '../api.js';
import type { Schemas } from '../api.js';
import { local, readJson } from '../lib/storage.js';

export type StaffUser = Schemas['User'];
export type Currency = Schemas['Currency'];
export type Account = Schemas['Account'];
/** A statement line: with the activity of a reward, and whether a correction reversed it. */
export type Entry = Schemas['Entry'];
export type Card = Schemas['Card'];
export type Activity = Schemas['Activity'];
export type ActivitySession = Schemas['ActivitySession'];
/** A session as the currency's list of sessions shows it: with its activity's names and whether it still rewards. */
export type SessionListItem = Schemas['ActivitySessionListItem'];
export type Shop = Schemas['Shop'];
export type Redemption = Schemas['Redemption'];
export type Payout = NonNullable<Schemas['Payout']>;
export type PayoutExport = Schemas['PayoutExport'];
export type AuditEntry = Schemas['AuditEntry'];
/** A volunteer as GET /wallets/{id} (and PATCH) answers: account, card, names, language, contact details, note. */
export type WalletDetail = Schemas['VolunteerWallet'];
/** A volunteer in the currency's list: names, language and the current card's state. */
export type VolunteerListItem = Schemas['VolunteerListItem'];

const user_key = 'wm.console.user';
const currency_key = 'wm.console.currency';

/** The logged-in staff user (remembered, refreshed from /auth/me on every start). */
export const me = signal<StaffUser | undefined>(readJson<StaffUser>(local, user_key));
/** The currencies this user works in; undefined until loaded. */
export const currencies = signal<Currency[] | undefined>(undefined);
/** The code of the chosen currency. */
const chosen = signal<string | undefined>(local.getItem(currency_key) ?? undefined);
/** The session ended by the server (a refused token): the login screen says so. */
export const sessionEnded = signal(false);

/** The currency every screen works in: the chosen one, else the first. */
export const currency = computed<Currency | undefined>(() => {
  const list = currencies.value;
  if (list === undefined) return undefined;
  return list.find((c) => c.code === chosen.value) ?? list[0];
});

export const loggedIn = computed(() => tokens.value.console !== undefined);
export const isAdmin = computed(() => me.value?.role === 'admin');

export function chooseCurrency(code: string): void {
  chosen.value = code;
  local.setItem(currency_key, code);
}

function rememberUser(user: StaffUser | undefined): void {
  me.value = user;
  if (user === undefined) local.removeItem(user_key);
  else local.setItem(user_key, JSON.stringify(user));
}

export async function login(email: string, password: string): Promise<void> {
  const answer = await publicApi.post('/auth/login', { body: { email, password } });
  setToken('console', answer.token);
  rememberUser(answer.user);
  sessionEnded.value = false;
  currencies.value = undefined;
}

export async function logout(): Promise<void> {
  try {
    if (tokens.value.console !== undefined) await consoleApi.post('/auth/logout');
  } catch {
    // Offline or already ended: forgetting the token here is what matters.
  }
  clearToken('console');
  rememberUser(undefined);
  currencies.value = undefined;
  sessionEnded.value = false;
}

/** Loads the user and their currencies (after login, on start, after creating a currency). */
export async function loadSession(): Promise<void> {
  const [user, list] = await Promise.all([consoleApi.get('/auth/me'), consoleApi.get('/currencies')]);
  rememberUser(user);
  currencies.value = list.items;
}

// Small helpers ---------------------------------------------------------------------------------

/** The server's message for one field of a refused form (422 validation_failed), if it named that field. */
export function fieldError(error: unknown, path: string): string | undefined {
  return error instanceof ApiError ? error.errors.find((e) => e.path === path)?.message : undefined;
}

/** Today in Belgium as YYYY-MM-DD (the day reports count in). */
export function todayInBelgium(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date());
}

/**
 * A typed amount ("12,5" or "12.50") as the API's decimal string at `scale` decimals, or
 * undefined when it is not a positive amount with at most `scale` decimals.
 */
export function amountInput(typed: string, scale: number): string | undefined {
  const text = typed.trim().replace(/\s/g, '').replace(',', '.');
  const match = /^([0-9]+)(?:\.([0-9]*))?$/.exec(text);
  if (match === null) return undefined;
  const whole = (match[1] ?? '0').replace(/^0+(?=[0-9])/, '');
  const fraction = match[2] ?? '';
  if (fraction.length > scale) return undefined;
  const value = scale === 0 ? whole : `${whole}.${fraction.padEnd(scale, '0')}`;
  return /^[0.]+$/.test(value) ? undefined : value;
}

/** Hours typed as "2,5" → "2.5" (the API checks the range). */
export function hoursInput(typed: string): string | undefined {
  const text = typed.trim().replace(',', '.');
  return /^[0-9]{1,2}(\.[0-9]{1,2})?$/.test(text) && Number(text) > 0 ? text : undefined;
}

/** The file name a download answer proposes (Content-Disposition), else `fallback`. */
export function fileNameOf(response: Response, fallback: string): string {
  const header = response.headers.get('Content-Disposition') ?? '';
  const match = /filename="?([^";]+)"?/i.exec(header);
  return match?.[1] ?? fallback;
}

/** Saves a fetched answer as a file. */
export async function saveDownload(response: Response, fallback: string): Promise<string> {
  const name = fileNameOf(response, fallback);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
