import { signal } from '@preact/signals';
import { ApiError, clearToken, publicApi, setToken, shopApi, tokens } from '../api.js';
import type { ResponseOf } from '../api.js';
import { local, readJson } from '../lib/storage.js';

/** The shop this tablet is paired with, remembered on the tablet (no secret in it). */
export interface ShopInfo {
  account: string;
  name: string;
  currency: string;
  /** Decimals of the currency; known after the first GET /shop. */
  scale?: number;
  device: { id: string; name: string };
}

export type ShopState = ResponseOf<'/shop', 'get'>;
export type ShopEntry = ResponseOf<'/shop/entries', 'get'>['items'][number];
export type PaymentRequest = ResponseOf<'/shop/payment-requests', 'post'>;
export type Redemption = ResponseOf<'/shop/redemptions', 'get'>['items'][number];

const info_key = 'wm.shop';

export const shopInfo = signal<ShopInfo | undefined>(readJson<ShopInfo>(local, info_key));

/** The last GET /shop of this visit. */
export const shopState = signal<ShopState | undefined>(undefined);

/**
 * True while a card + PIN payment is being checked. The server answers a wrong card or PIN with
 * 401, and api.ts drops the role's token on any 401 — so during that request the tablet must not
 * fall back to the pairing screen; the caller restores the token and checks it (keepPairing).
 */
export const pinCheckInFlight = signal(false);

/** What the keypad held, kept across the payment QR screen (cleared once paid). */
export const tillDraft = signal<{ amount: string; memo: string }>({ amount: '', memo: '' });

function remember(info: ShopInfo): void {
  local.setItem(info_key, JSON.stringify(info));
  shopInfo.value = info;
}

/** Pairs this tablet with a one-time code; the shop's token is kept under the role "shop". */
export async function pairTablet(pairing_code: string, device_name: string): Promise<void> {
  const answer = await publicApi.post('/shop/devices', { body: { pairing_code, device_name } });
  setToken('shop', answer.token);
  remember({ ...answer.shop, device: answer.device });
  shopState.value = undefined;
  tillDraft.value = { amount: '', memo: '' };
  await refreshShop().catch(() => undefined);
}

/** GET /shop: balance, takings, the currency's scale (remembered for the keypad). */
export async function refreshShop(): Promise<ShopState> {
  const state = await shopApi.get('/shop');
  shopState.value = state;
  const info = shopInfo.value;
  if (info === undefined || info.scale !== state.scale || info.name !== state.name || info.device.name !== state.device.name) {
    remember({ account: state.account, name: state.name, currency: state.currency, scale: state.scale, device: state.device });
  }
  return state;
}

/** Forgets the pairing on this tablet (a new code from the coordinator pairs it again). */
export function unpairTablet(): void {
  // Best effort: the server revokes this tablet's token at once; offline, it is only forgotten here.
  if (tokens.value.shop !== undefined) void shopApi.delete('/shop/device').catch(() => {});
  clearToken('shop');
  local.removeItem(info_key);
  shopInfo.value = undefined;
  shopState.value = undefined;
  tillDraft.value = { amount: '', memo: '' };
}

/**
 * After a 401 from a card + PIN payment: puts the tablet's token back (api.ts dropped it) and
 * asks the server whether the tablet itself is still paired. Resolves true when it is (the 401
 * was about the card or PIN), false when the tablet was unpaired (then the token stays gone).
 */
export async function keepPairing(token: string | undefined): Promise<boolean> {
  if (token === undefined) return false;
  if (tokens.value.shop === undefined) setToken('shop', token);
  try {
    await refreshShop();
    return true;
  } catch (error) {
    return !(error instanceof ApiError && error.status === 401);
  }
}
