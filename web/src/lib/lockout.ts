/**
 * Plain words for the answers that guard a typed secret (a PIN, a password, a pairing code):
 * how many tries are left before a card locks, until when a locked card stays locked (423
 * card_locked), and when to try again after too many failures from this device (429
 * rate_limited) — with the time, in the user's language.
 *
 *   waitText(error, 'owner') ?? problemText(error, …)   // "… geblokkeerd tot 14:35 (nog 15 minuten) …"
 *   triesLeftText(error, 'owner')                       // "Nog 3 pogingen voor je kaart …"
 */
import { ApiError } from '../api.js';
import { formatDate, t } from '../i18n/index.js';

/** Who reads the words: the card's owner (wallet), or a shop's customer at the tablet ("this card"). */
export type Reader = 'owner' | 'shop';

/** Below this many minutes a lock also says how long it still holds ("nog 15 minuten"). */
const lock_minutes_shown_max = 59;
/** Below this many minutes a wait is said as a duration ("over 3 minuten"), from it as a clock time. */
const wait_minutes_as_duration_max = 90;

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** A moment as a clock time: "14:35" today, with the day otherwise ("12 jan. 02:15"). */
export function clockTime(at: Date | string, now = new Date()): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  return formatDate(date, sameDay(date, now) ? 'time' : 'short');
}

/** When to try again, `seconds` from now: "over 45 seconden", "over 3 minuten", "om 14:35". */
export function retryWhen(seconds: number, now = new Date()): string {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole < 60) return whole === 1 ? t('common.lockout.in_one_second') : t('common.lockout.in_seconds', { count: whole });
  const minutes = Math.ceil(whole / 60);
  if (minutes < wait_minutes_as_duration_max) {
    return minutes === 1 ? t('common.lockout.in_one_minute') : t('common.lockout.in_minutes', { count: minutes });
  }
  return t('common.lockout.at', { time: clockTime(new Date(now.getTime() + whole * 1000), now) });
}

/** Until when a timed lock holds: "tot 14:35 (nog 15 minuten)" within the hour, else "tot 18:35". */
export function lockedUntil(until: Date, seconds_left: number, now = new Date()): string {
  const time = clockTime(until, now);
  const minutes = Math.max(1, Math.ceil(seconds_left / 60));
  if (minutes > lock_minutes_shown_max) return t('common.lockout.until', { time });
  return minutes === 1 ? t('common.lockout.until_one_minute', { time }) : t('common.lockout.until_minutes', { time, minutes });
}

function secondsOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** 429 rate_limited in words, with when to try again when the server said so; else undefined. */
export function rateLimitText(error: unknown): string | undefined {
  if (!(error instanceof ApiError) || error.code !== 'rate_limited') return undefined;
  const seconds = secondsOf(error.extra.retry_after_s);
  return seconds === undefined ? t('common.errors.rate_limited') : t('common.lockout.rate_limited', { when: retryWhen(seconds) });
}

/** 423 card_locked in words: until when (or until a coordinator unlocks it); else undefined. */
export function cardLockedText(error: unknown, reader: Reader): string | undefined {
  if (!(error instanceof ApiError) || error.code !== 'card_locked' || !('locked_until' in error.extra)) return undefined;
  const until = error.extra.locked_until;
  if (until === null) return t(reader === 'owner' ? 'common.lockout.owner_held' : 'common.lockout.shop_held');
  if (typeof until !== 'string' || Number.isNaN(Date.parse(until))) return undefined;
  const now = new Date();
  const at = new Date(until);
  // The server's count of seconds is right even when this device's clock is not.
  const seconds_left = secondsOf(error.extra.retry_after_s) ?? (at.getTime() - now.getTime()) / 1000;
  const words = lockedUntil(at, seconds_left, now);
  return t(reader === 'owner' ? 'common.lockout.owner_until' : 'common.lockout.shop_until', { until: words });
}

/** A 423 or 429 in words with the time to try again; undefined for any other problem. */
export function waitText(error: unknown, reader: Reader): string | undefined {
  return cardLockedText(error, reader) ?? rateLimitText(error);
}

/** Tries left before the card locks, when the server said so (a wrong PIN on a real card). */
export function triesLeft(error: unknown): number | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const left = error.extra.tries_left;
  return typeof left === 'number' && Number.isInteger(left) && left >= 0 ? left : undefined;
}

/** "Nog 3 pogingen voor je kaart tijdelijk geblokkeerd wordt" (or "deze kaart" at a shop); undefined without a count. */
export function triesLeftText(error: unknown, reader: Reader): string | undefined {
  const left = triesLeft(error);
  if (left === undefined || left === 0) return undefined;
  if (reader === 'owner') return left === 1 ? t('common.lockout.owner_one_try') : t('common.lockout.owner_tries', { count: left });
  return left === 1 ? t('common.lockout.shop_one_try') : t('common.lockout.shop_tries', { count: left });
}
