import DataLoader from 'dataloader';
import type { Sql } from './client.js';
import type { Wallet } from './volunteers.js';
import type { Device, PaymentRequest, Shop } from './shops.js';
import { findLiveDevices } from './shops.js';
import { findSessionUsers } from './users.js';
import { findCurrencies } from './ledger.js';
import type { User } from './users.js';
import type { Account, Currency } from '../ledger/model.js';
import type { Activity, ActivitySession } from '../ledger/volunteering.js';

/** A live wallet session as read, with the version of its currency's sessions at that read (migrations/0021). */
export interface SessionRead {
  wallet: Wallet & { card_code: string };
  expires_at: Date;
  sessions_version: bigint;
}

/** An account as it is now, with its currency (the row as of its row_version read with the account). */
export interface AccountRead {
  account: Account;
  currency: Currency;
  /** The database's clock when the account was read: a kept session expires by it, as a read one does. */
  read_at: Date;
}

/**
 * Lookups that every value-moving request makes first (its session — a wallet's, a staff
 * user's or a tablet's —, the payment request it pays), and a wallet's own reads (its account and currency), combined across concurrent
 * requests: the requests that arrive in one turn of the event loop share one query. Nothing is
 * cached (but the currency rows of `accountWithCurrency` and `paymentRequest`, checked by their
 * row_version on every read; a wallet's session is kept by
 * src/http/kept-sessions.ts, checked by its currency's sessions_version) — each request reads the
 * rows as they are when its query runs, so a revoked session, a frozen wallet or a cancelled
 * request is seen at once.
 */
export interface Loaders {
  /** A live session (neither revoked nor expired, its card active) with its wallet. */
  sessionWallet: DataLoader<string, SessionRead | undefined>;
  /** The user of a live staff session (neither revoked nor expired, the user not disabled). */
  staffSession: DataLoader<string, User | undefined>;
  /** A shop tablet that may act now (not revoked), by its id. */
  liveDevice: DataLoader<string, Device | undefined>;
  paymentRequest: DataLoader<string, { request: PaymentRequest; currency: Currency; shop: Shop } | undefined>;
  /** An activity session with its activity (what a claim QR names). */
  activitySession: DataLoader<string, { session: ActivitySession; activity: Activity } | undefined>;
  /** A currency by its code, as it is now (what a staff request names in its path). */
  currencyByCode: DataLoader<string, Currency | undefined>;
  /** An account with its currency, as they are now (what a wallet's own reads show): the account and its currency's row_version in one statement; the currency row itself only when that changed. */
  accountWithCurrency: DataLoader<string, AccountRead | undefined>;
}

/** Waits for the rest of this turn of the event loop (the other requests read meanwhile). */
const nextTurn = (callback: () => void) => { setImmediate(callback); };

/**
 * Reads again the currencies whose row changed since it was kept (its row_version, read with
 * the accounts, differs). A row read later is never replaced by one read earlier.
 */
async function refreshCurrencies(sql: Sql, kept: Map<number, Currency>, seen: Array<{ currency_id: number; currency_row_version: bigint }>): Promise<void> {
  const stale = [...new Set(seen.filter((r) => kept.get(r.currency_id)?.row_version !== r.currency_row_version).map((r) => r.currency_id))];
  if (stale.length === 0) return;
  for (const currency of await sql<Currency[]>`SELECT * FROM currencies WHERE id = ANY(${stale}::int[])`) {
    const held = kept.get(currency.id);
    if (held === undefined || held.row_version < currency.row_version) kept.set(currency.id, currency);
  }
}

type Found<V> = Map<string, V>;

async function readActivitySessions(sql: Sql, ids: readonly string[]): Promise<Found<{ session: ActivitySession; activity: Activity } | undefined>> {
  const sessions = await sql<(Omit<ActivitySession, 'hours'> & { hours: string | null })[]>`
    SELECT * FROM activity_sessions WHERE id = ANY(${ids as string[]}::uuid[])`;
  if (sessions.length === 0) return new Map();
  const activities = await sql<Activity[]>`
    SELECT * FROM activities WHERE id = ANY(${[...new Set(sessions.map((s) => s.activity_id))]}::uuid[])`;
  return new Map(sessions.map((session) => {
    const activity = activities.find((a) => a.id === session.activity_id && a.currency_id === session.currency_id);
    return [session.id, activity === undefined ? undefined : { session, activity }];
  }));
}

/**
 * Live wallet sessions with their wallets. The sessions' version is read in the same statement
 * (one snapshot): a change committed after it raised the version past the one returned here.
 */
async function readSessionWallets(sql: Sql, ids: readonly string[]): Promise<Found<SessionRead>> {
  const rows = await sql<(Wallet & { card_code: string; session_id: string; session_expires_at: Date; sessions_version: bigint })[]>`
    SELECT w.*, s.card_code, s.id AS session_id, s.expires_at AS session_expires_at, cu.sessions_version
    FROM wallet_sessions s
    JOIN cards c ON c.currency_id = s.currency_id AND c.code = s.card_code
    JOIN wallets w ON w.currency_id = s.currency_id AND w.account_id = s.account_id
    JOIN currencies cu ON cu.id = s.currency_id
    WHERE s.id = ANY(${ids as string[]}::uuid[]) AND s.revoked_at IS NULL AND s.expires_at > now()
      AND c.status = 'active'`;
  return new Map(rows.map(({ session_id, session_expires_at, sessions_version, ...wallet }) =>
    [session_id, { wallet, expires_at: session_expires_at, sessions_version }]));
}

/** Accounts with their currency's row_version; the currency rows from `kept`, read again when they moved. */
async function readAccounts(sql: Sql, kept: Map<number, Currency>, ids: readonly string[]): Promise<Found<AccountRead | undefined>> {
  const rows = await sql<(Account & { currency_row_version: bigint; read_at: Date })[]>`
    SELECT a.*, c.row_version AS currency_row_version, now() AS read_at FROM accounts a JOIN currencies c ON c.id = a.currency_id
    WHERE a.id = ANY(${ids as string[]}::uuid[])`;
  await refreshCurrencies(sql, kept, rows);
  return new Map(rows.map(({ currency_row_version: _version, read_at, ...account }) => {
    const currency = kept.get(account.currency_id);
    return [account.id, currency === undefined ? undefined : { account, currency, read_at }];
  }));
}

/**
 * Payment requests with their currency's row_version, and their shops, in one round trip (two
 * statements at once); the currency rows from `kept`, read again when they moved.
 */
async function readPaymentRequests(
  sql: Sql, kept: Map<number, Currency>, ids: readonly string[],
): Promise<Found<{ request: PaymentRequest; currency: Currency; shop: Shop } | undefined>> {
  const [rows, shops] = await Promise.all([
    sql<(PaymentRequest & { currency_row_version: bigint })[]>`
      SELECT r.*, c.row_version AS currency_row_version FROM payment_requests r JOIN currencies c ON c.id = r.currency_id
      WHERE r.id = ANY(${ids as string[]}::uuid[])`,
    sql<Shop[]>`
      SELECT s.* FROM shops s
      WHERE (s.currency_id, s.account_id) IN (SELECT r.currency_id, r.shop_account_id FROM payment_requests r WHERE r.id = ANY(${ids as string[]}::uuid[]))`,
  ]);
  await refreshCurrencies(sql, kept, rows);
  const shop_by_key = new Map(shops.map((s) => [`${s.currency_id}:${s.account_id}`, s]));
  return new Map(rows.map(({ currency_row_version: _version, ...request }) => {
    const currency = kept.get(request.currency_id);
    const shop = shop_by_key.get(`${request.currency_id}:${request.shop_account_id}`);
    return [request.id, currency === undefined || shop === undefined ? undefined : { request, currency, shop }];
  }));
}

/** A loader of string keys answering each key from what `read` found (undefined when not found). */
function loaderOf<V>(read: (ids: readonly string[]) => Promise<Found<V>>, batch_size_max: number): DataLoader<string, V | undefined> {
  return new DataLoader<string, V | undefined>(async (ids) => {
    const found = await read(ids);
    return ids.map((id) => found.get(id));
  }, { cache: false, batchScheduleFn: nextTurn, maxBatchSize: batch_size_max });
}

export function createLoaders(sql: Sql, options: { batch_size_max: number }): Loaders {
  // The currency rows the wallets' reads and the payment requests last met, by id: read again when their row_version moves.
  const currencies_read = new Map<number, Currency>();
  const max = options.batch_size_max;
  return {
    activitySession: loaderOf((ids) => readActivitySessions(sql, ids), max),
    sessionWallet: loaderOf((ids) => readSessionWallets(sql, ids), max),
    staffSession: loaderOf((ids) => findSessionUsers(sql, ids), max),
    currencyByCode: loaderOf((codes) => findCurrencies(sql, codes), max),
    liveDevice: loaderOf((ids) => findLiveDevices(sql, ids), max),
    accountWithCurrency: loaderOf((ids) => readAccounts(sql, currencies_read, ids), max),
    paymentRequest: loaderOf((ids) => readPaymentRequests(sql, currencies_read, ids), max),
  };
}
