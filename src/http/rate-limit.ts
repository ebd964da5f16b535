import { isIPv4, isIPv6 } from 'node:net';
import type { AppContext } from './context.js';
import { requestLog } from './context.js';
import { clientAddress } from './audit.js';
import { DomainError } from '../ledger/errors.js';
import type { AttemptKind } from '../app/context.js';

export type { AttemptKind };

/** One limit: at most `max` hits on `key` within the window. */
export interface RateRule {
  key: string;
  max: number;
}

export type RateTake =
  | { ok: true; release: () => void }
  | { ok: false; retry_after_s: number };

/**
 * A sliding-window limiter in memory: for each key, the times of its hits within the last
 * window. `take` checks every rule and records a hit on all of them, or on none; `release`
 * gives the hit back (a login that succeeded). Memory is bounded: at most `keys_max` keys, the
 * least recently hit dropped first, and each key holds at most its `max` times.
 */
export class SlidingWindowLimiter {
  readonly #hits = new Map<string, number[]>();

  constructor(
    readonly window_ms: number,
    readonly keys_max: number,
    readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#hits.size;
  }

  /** The hit times of `key` still within the window (older ones dropped). */
  #live(key: string, now: number): number[] {
    const hits = this.#hits.get(key);
    if (hits === undefined) return [];
    const from = now - this.window_ms;
    let stale = 0;
    while (stale < hits.length && (hits[stale] ?? 0) <= from) stale += 1;
    if (stale > 0) hits.splice(0, stale);
    if (hits.length === 0) this.#hits.delete(key);
    return hits;
  }

  take(rules: readonly RateRule[]): RateTake {
    const now = this.now();
    let wait_ms = 0;
    for (const rule of rules) {
      const hits = this.#live(rule.key, now);
      if (hits.length >= rule.max) {
        // Free again when enough of the oldest hits have left the window.
        const oldest_to_leave = hits[hits.length - rule.max] ?? now;
        wait_ms = Math.max(wait_ms, oldest_to_leave + this.window_ms - now);
      }
    }
    if (wait_ms > 0) return { ok: false, retry_after_s: Math.max(1, Math.ceil(wait_ms / 1000)) };
    for (const rule of rules) {
      const hits = this.#hits.get(rule.key) ?? [];
      // Most recently hit last: the first key of the map is the one to drop.
      this.#hits.delete(rule.key);
      hits.push(now);
      if (hits.length > rule.max) hits.splice(0, hits.length - rule.max);
      this.#hits.set(rule.key, hits);
    }
    while (this.#hits.size > this.keys_max) {
      const oldest = this.#hits.keys().next();
      if (oldest.done === true) break;
      this.#hits.delete(oldest.value);
    }
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const rule of rules) {
          const hits = this.#hits.get(rule.key);
          const index = hits?.lastIndexOf(now) ?? -1;
          if (hits === undefined || index < 0) continue;
          hits.splice(index, 1);
          if (hits.length === 0) this.#hits.delete(rule.key);
        }
      },
    };
  }
}

const minute_ms = 60_000;

/** The limiter of one app instance (its own memory; several processes each count for themselves). */
export function createRateLimiter(keys_max: number): SlidingWindowLimiter {
  return new SlidingWindowLimiter(minute_ms, keys_max);
}

/**
 * The client address as a rate-limit key: IPv4 as is, IPv6 by its /64 (one customer's whole
 * network), and one constant for requests without a socket (in-process tests), so those are
 * limited too.
 */
export function addressKey(address: string | null): string {
  if (address === null || address === '') return 'no-address';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(address)) return address;
  if (isIPv6(address)) {
    const [head = '', tail = ''] = address.toLowerCase().split('::');
    const left = head === '' ? [] : head.split(':');
    const right = tail === '' ? [] : tail.split(':');
    const groups = address.includes('::')
      ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
      : left;
    return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
  }
  // Whatever a trusted proxy forwarded: kept short, used as is.
  return address.slice(0, 100);
}


/**
 * Counts a guess against the limits of its kind — per client address, and for a login also per
 * email from that address — before anything is compared. Above a
 * limit: 429 rate_limited with Retry-After (seconds). Call `release()` when the guess was right,
 * so only failures count against the limit.
 */
export function takeAttempt(c: AppContext, kind: AttemptKind, target: string | undefined): { release: () => void } {
  const config = c.get('deps').config;
  const rate_limiter = c.get('rate_limiter');
  const address = addressKey(clientAddress(c));
  const rules: RateRule[] = [];
  switch (kind) {
    case 'login':
      rules.push({ key: `login:address:${address}`, max: config.LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX });
      // Per email *and* address: another address's failures never refuse the owner's login.
      if (target !== undefined) rules.push({ key: `login:email:${target.toLowerCase()}:${address}`, max: config.LOGIN_FAILURES_PER_EMAIL_PER_MINUTE_MAX });
      break;
    case 'pin':
      // Per card, the lockout in the database counts (src/app/access.ts): it is durable and a
      // coordinator's unlock clears it at once, which a count in memory would not.
      rules.push({ key: `pin:address:${address}`, max: config.PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX });
      break;
    case 'pairing':
      // No count over all addresses: others' failures must not block a tablet pairing with a
      // code a coordinator just gave. A code carries 40 random bits and lives a day at most.
      rules.push({ key: `pairing:address:${address}`, max: config.PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX });
      break;
  }
  const taken = rate_limiter.take(rules);
  if (!taken.ok) {
    // No target in the log: an email or a card code is personal; the address is enough to act on.
    requestLog(c).warn({ attempt: kind, address, retry_after_s: taken.retry_after_s }, 'rate limited');
    c.header('Retry-After', String(taken.retry_after_s));
    throw new DomainError('rate_limited', `too many failed attempts; try again in ${taken.retry_after_s} s`, {
      retry_after_s: taken.retry_after_s,
    });
  }
  return taken;
}
