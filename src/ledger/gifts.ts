/**
 * Gifts between neighbours and helpers who pay for someone (#20, points 3 and 4), as pure
 * rules: the receive code that names a wallet in a QR, and the counted limits — what a giver
 * gives in a local day, what a helper pays from a wallet in a calendar month — that the one
 * posting pipeline locks and keeps (src/ledger/links.ts, `refuseLimits`). docs/gifts-and-helpers.md.
 */
import type { Limit } from './batch.js';
import type { Currency } from './model.js';
import { fail } from './batch.js';
import type { Failure } from './links.js';
import { localDayIn } from './local-day.js';

/** Days and months are Belgian ones, as for the legal caps and expiry. */
export const gift_time_zone = 'Europe/Brussels';

/** A receive code: 20 symbols of RFC 4648 base32 in lower case (100 random bits). */
export const receive_code_pattern = /^[a-z2-7]{20}$/;
const base32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** The receive code of 20 random bytes (5 bits of each). */
export function receiveCodeFromBytes(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 20)].map((b) => base32[b % 32]).join('');
}

/** The receive code of a scanned or typed text: the code itself, or a URL ending in /r/<code>. */
export function receiveCodeOf(text: string): string | undefined {
  const code = text.trim().replace(/^.*\/r\//, '').replace(/[/?#].*$/, '').toLowerCase();
  return receive_code_pattern.test(code) ? code : undefined;
}

function localDay(now: Date): string {
  return localDayIn(gift_time_zone, now);
}

/** The calendar month ('2026-12') whose payments a helper's limit counts. */
export function helperMonth(now: Date): string {
  return localDay(now).slice(0, 7);
}

/** What the giver may still give today, counted on the giver's account; none without a daily limit. */
export function giftLimits(currency: Currency, giver_account_id: string, now: Date): Limit[] {
  if (currency.gift_day_max === null) return [];
  return [{ account_id: giver_account_id, period: `g${localDay(now)}`, label: 'day', max: currency.gift_day_max, code: 'gift_limit_exceeded' }];
}

/** What a helper may still pay from the helped wallet this calendar month, counted on that wallet. */
export function helperLimit(link: { account_id: string; helper_account_id: string; month_max: bigint }, now: Date): Limit {
  return {
    account_id: link.account_id, period: `h${link.helper_account_id}m${helperMonth(now)}`,
    label: 'month', max: link.month_max, code: 'helper_limit_exceeded',
  };
}

/** Gifts only where the currency allows them (a gift to oneself is the pipeline's same_account). */
export function refuseGifts(currency: Currency): Failure | undefined {
  return currency.gifts_enabled ? undefined : fail('gifts_disabled', {});
}
