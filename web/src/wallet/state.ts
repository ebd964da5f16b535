import { computed, signal } from '@preact/signals';
import { ApiError, clearToken, publicApi, setToken, tokens, walletApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { isLocale, setLocale } from '../i18n/index.js';
import { local, readJson } from '../lib/storage.js';
import { normalizeCardCode } from '../lib/links.js';

/** The wallet opened on this phone: who, which currency, and the card it was opened with. */
export interface WalletInfo {
  account: string;
  currency: string;
  display_name: string;
  language: string;
  card: string;
}

export type WalletState = ResponseOf<'/wallet', 'get'>;
export type WalletEntry = ResponseOf<'/wallet/entries', 'get'>['items'][number];

const info_key = 'wm.wallet';
const last_key = 'wm.wallet.last';
const frozen_key = 'wm.wallet.frozen';
const history_key = 'wm.wallet.history';

export const walletInfo = signal<WalletInfo | undefined>(readJson<WalletInfo>(local, info_key));

/** Open: a token and the wallet it belongs to. A refused token (401) closes it by itself. */
export const walletOpen = computed(() => tokens.value.wallet !== undefined && walletInfo.value !== undefined);

const lastBalance = signal<{ account?: string; balance: string; currency: string; at: string } | undefined>(
  readJson(local, last_key),
);

/** The last balance seen of the wallet open on this phone (not another card's), shown (marked as such) while offline. */
export const lastKnown = computed(() => {
  const last = lastBalance.value;
  return last !== undefined && last.account === walletInfo.value?.account ? last : undefined;
});

/** The first page of the history as last read from the server, shown (with its time) while it cannot be read. */
export interface KnownHistory {
  account: string;
  currency: string;
  items: WalletEntry[];
  at: string;
}

const lastHistory = signal<KnownHistory | undefined>(readJson(local, history_key));

/** The history last read for the wallet open on this phone (not another card's that was open before). */
export const knownHistory = computed(() => {
  const known = lastHistory.value;
  return known !== undefined && known.account === walletInfo.value?.account ? known : undefined;
});

/** Keeps the first page of the history just read, for when the server cannot be reached. */
export function rememberHistory(items: WalletEntry[]): void {
  const info = walletInfo.value;
  if (info === undefined) return;
  const known: KnownHistory = { account: info.account, currency: info.currency, items, at: new Date().toISOString() };
  local.setItem(history_key, JSON.stringify(known));
  lastHistory.value = known;
}

/**
 * The account this phone knows is frozen: GET /wallet says so (status), and so does a payment or
 * claim refused with 422 `account_frozen` naming its own account; a movement that goes through,
 * opening the wallet again, or GET /wallet saying it is active again, forgets it.
 */
export const frozenAccount = signal<string | undefined>(local.getItem(frozen_key) ?? undefined);

/** True when the wallet open on this phone is known to be frozen. */
export const walletFrozen = computed(() => frozenAccount.value !== undefined && frozenAccount.value === walletInfo.value?.account);

function setFrozen(account: string | undefined): void {
  if (account === undefined) local.removeItem(frozen_key);
  else local.setItem(frozen_key, account);
  frozenAccount.value = account;
}

/** Notes what an answer says of the wallet's own account: frozen (422 naming it) or not (a movement went through). */
export function noteMovement(outcome: unknown): void {
  if (outcome instanceof ApiError) {
    const account = walletInfo.value?.account;
    if (outcome.code === 'account_frozen' && account !== undefined && outcome.extra.account_id === account) setFrozen(account);
    return;
  }
  if (frozenAccount.value !== undefined) setFrozen(undefined);
}

/** Forgets that the wallet was frozen, e.g. to try again after the coordinator unfroze it. */
export function forgetFrozen(): void {
  setFrozen(undefined);
}

/** Opens the wallet with card + PIN; the wallet's registered language applies from then on. */
export async function openWallet(typed_card: string, pin: string): Promise<void> {
  const card = normalizeCardCode(typed_card) ?? typed_card;
  const answer = await publicApi.post('/wallet/session', { body: { card, pin } });
  setToken('wallet', answer.token);
  const info: WalletInfo = { ...answer.wallet, card };
  local.setItem(info_key, JSON.stringify(info));
  walletInfo.value = info;
  setFrozen(undefined);
  if (isLocale(answer.wallet.language)) await setLocale(answer.wallet.language);
}

/** Closes the session on the server (if it can) and forgets the wallet on this phone. */
export async function closeWallet(): Promise<void> {
  try {
    if (tokens.value.wallet !== undefined) await walletApi.post('/wallet/logout');
  } catch {
    // Offline or already closed: forgetting it here is what matters.
  }
  clearToken('wallet');
  local.removeItem(info_key);
  local.removeItem(last_key);
  local.removeItem(history_key);
  setFrozen(undefined);
  walletInfo.value = undefined;
  lastBalance.value = undefined;
  lastHistory.value = undefined;
}

/** The wallet's balance now (and remembered as the last known one). */
export async function fetchWallet(): Promise<WalletState> {
  const wallet = await walletApi.get('/wallet');
  if (wallet.status !== 'active') setFrozen(wallet.account);
  else if (frozenAccount.value === wallet.account) setFrozen(undefined);
  const last = { account: wallet.account, balance: wallet.balance, currency: wallet.currency, at: new Date().toISOString() };
  local.setItem(last_key, JSON.stringify(last));
  lastBalance.value = last;
  return wallet;
}
