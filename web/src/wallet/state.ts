import { computed, signal } from '@preact/signals';
import { clearToken, publicApi, setToken, tokens, walletApi } from '../api.js';
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

export const walletInfo = signal<WalletInfo | undefined>(readJson<WalletInfo>(local, info_key));

/** Open: a token and the wallet it belongs to. A refused token (401) closes it by itself. */
export const walletOpen = computed(() => tokens.value.wallet !== undefined && walletInfo.value !== undefined);

/** The last balance seen, shown (marked as such) while offline. */
export const lastKnown = signal<{ balance: string; currency: string; at: string } | undefined>(
  readJson(local, last_key),
);

/** Opens the wallet with card + PIN; the wallet's registered language applies from then on. */
export async function openWallet(typed_card: string, pin: string): Promise<void> {
  const card = normalizeCardCode(typed_card) ?? typed_card;
  const answer = await publicApi.post('/wallet/session', { body: { card, pin } });
  setToken('wallet', answer.token);
  const info: WalletInfo = { ...answer.wallet, card };
  local.setItem(info_key, JSON.stringify(info));
  walletInfo.value = info;
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
  walletInfo.value = undefined;
  lastKnown.value = undefined;
}

/** The wallet's balance now (and remembered as the last known one). */
export async function fetchWallet(): Promise<WalletState> {
  const wallet = await walletApi.get('/wallet');
  const last = { balance: wallet.balance, currency: wallet.currency, at: new Date().toISOString() };
  local.setItem(last_key, JSON.stringify(last));
  lastKnown.value = last;
  return wallet;
}
