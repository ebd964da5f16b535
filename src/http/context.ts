import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { Sql } from '../db/client.js';
import type { Config } from '../config.js';
import type { TokenKeys } from '../security/tokens.js';
import type { User } from '../db/users.js';
import type { Wallet } from '../db/volunteers.js';
import type { Device } from '../db/shops.js';
import type { PaymentEvents } from '../db/events.js';
import type { Batcher } from '../db/batch.js';
import type { HistoryPages } from './history-pages.js';
import type { KeptSessions } from './kept-sessions.js';
import type { AccountRead, Loaders } from '../db/loaders.js';

/** A wallet as seen through a live session: with the card it was opened with. */
export type SessionWallet = Wallet & { card_code: string };
import type { Metrics } from './metrics.js';
import type { SlidingWindowLimiter } from './rate-limit.js';

/** Everything the HTTP layer needs from outside, given once to createApp. */
export interface AppDeps {
  sql: Sql;
  config: Config;
  keys: TokenKeys;
  logger: Logger;
  metrics: Metrics;
  /** Set when shutdown begins: /readyz answers 503 from then on. */
  lifecycle: { shutting_down: boolean };
}

export type Principal =
  | { kind: 'staff'; user: User; session_id: string }
  /** `account`: the wallet's account and currency, read with the request's session check. */
  | { kind: 'wallet'; wallet: SessionWallet; session_id: string; account: AccountRead }
  | { kind: 'device'; device: Device; session_id: string };

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    principal: Principal | undefined;
    requestId: string;
    /** The request's logger, made on first use: read it with requestLog(c). */
    log: Logger | undefined;
    events: PaymentEvents;
    /** Combines concurrent value-moving requests into shared transactions. */
    batcher: Batcher;
    /** Lookups shared by concurrent requests. */
    loaders: Loaders;
    /** Failed login, PIN and pairing attempts of this app instance (see rate-limit.ts). */
    rate_limiter: SlidingWindowLimiter;
    /** Recent pages of wallets' histories, by what they depend on (history-pages.ts). */
    history_pages: HistoryPages;
    /** Wallet sessions as last read, used while their currency's sessions_version stands (kept-sessions.ts). */
    kept_sessions: KeptSessions;
  };
}

export type AppContext = Context<AppEnv>;

/**
 * The request's logger, with its request id; made on first use (most requests log nothing).
 * `base` is for an error met before the request's dependencies were set.
 */
export function requestLog(c: AppContext, base?: Logger): Logger {
  let log = c.get('log');
  if (log === undefined) {
    log = (c.get('deps')?.logger ?? base)?.child({ request_id: c.get('requestId') });
    if (log === undefined) throw new Error('no logger for this request');
    c.set('log', log);
  }
  return log;
}
