import type { AppContext } from './context.js';
import { requireStaff, coordinates } from './auth.js';
import { DomainError } from '../ledger/errors.js';
import { findAccount, findCurrencyById, findTransfer, listEntries } from '../db/ledger.js';
import { presentEntry } from './present.js';
import type { Account, Currency, Transfer } from '../ledger/model.js';
import type { User } from '../db/users.js';
import { assert } from '../ledger/errors.js';
import { uuid_pattern } from '../ledger/ids.js';
import { isCardCodeTypo, normalizeCardCode } from '../ledger/cards.js';
import { cardCodeTypo } from '../app/access.js';
import type { Activity, ActivitySession } from '../ledger/volunteering.js';
import { findActivity, findActivitySession, findCard, findWallet } from '../db/volunteers.js';
import type { Card, Wallet } from '../db/volunteers.js';
import { HistoryPages } from './history-pages.js';
import { findPayoutExport, findRedemption, findShop } from '../db/shops.js';
import type { PayoutExport, Redemption, Shop } from '../db/shops.js';
import { listPaymentsForOthers } from '../db/gifts.js';
import { mergeHistory } from '../ledger/history.js';

/**
 * The objects named in a request's path, found for the staff member who asks: an object of a
 * currency they do not coordinate is not found, like one that does not exist.
 */
export { uuid_pattern };
const currency_code_pattern = /^[A-Z][A-Z0-9]{1,9}$/;

/** The currency named in the path, if the staff user coordinates it (403 otherwise). */
export async function currencyForStaff(c: AppContext, code: string): Promise<{ user: User; currency: Currency }> {
  const user = requireStaff(c);
  // A code that cannot exist is not looked up (it could hold bytes PostgreSQL refuses).
  const currency = currency_code_pattern.test(code) ? await c.get('loaders').currencyByCode.load(code) : undefined;
  if (currency === undefined) throw new DomainError('currency_not_found', `no currency ${code}`);
  if (!coordinates(user, currency)) throw new DomainError('forbidden', `you do not coordinate ${code}`);
  return { user, currency };
}

async function currencyOf(c: AppContext, currency_id: number): Promise<Currency> {
  const currency = await findCurrencyById(c.get('deps').sql, currency_id);
  assert(currency !== undefined, 'every row of a currency has its currency');
  return currency;
}

/** `row` with its currency when it exists and `user` coordinates that currency; else the same 404 either way. */
async function seenBy<T extends { currency_id: number }>(
  c: AppContext, user: User, row: T | undefined, refusal: () => DomainError,
): Promise<{ user: User; row: T; currency: Currency }> {
  const currency = row === undefined ? undefined : await currencyOf(c, row.currency_id);
  if (row === undefined || currency === undefined || !coordinates(user, currency)) throw refusal();
  return { user, row, currency };
}

const byId = <T>(id: string, find: (id: string) => Promise<T | undefined>): Promise<T | undefined> =>
  uuid_pattern.test(id) ? find(id) : Promise.resolve(undefined);

/** An account the staff user may see; 404 for unknown ids and other currencies alike. */
export async function accountForStaff(c: AppContext, id: string): Promise<{ user: User; account: Account; currency: Currency }> {
  const user = requireStaff(c);
  const { row: account, currency } = await seenBy(c, user, await byId(id, (x) => findAccount(c.get('deps').sql, x)),
    () => new DomainError('not_found', `no account ${id}`));
  return { user, account, currency };
}

/** A transfer the staff user may see; 404 for unknown ids and other currencies alike. */
export async function transferForStaff(c: AppContext, id: string): Promise<{ user: User; transfer: Transfer; currency: Currency }> {
  const user = requireStaff(c);
  const { row: transfer, currency } = await seenBy(c, user, await byId(id, (x) => findTransfer(c.get('deps').sql, x)),
    () => new DomainError('transfer_not_found', `no transfer ${id}`));
  return { user, transfer, currency };
}

/** A volunteer's wallet the staff user may see. */
export async function walletForStaff(c: AppContext, id: string): Promise<{ wallet: Wallet; currency: Currency }> {
  const { account, currency } = await accountForStaff(c, id);
  const wallet = account.kind === 'wallet' ? await findWallet(c.get('deps').sql, account.id) : undefined;
  if (wallet === undefined) throw new DomainError('not_found', `no wallet ${id}`);
  return { wallet, currency };
}

/** A shop the staff user may see. */
export async function shopForStaff(c: AppContext, id: string): Promise<{ shop: Shop; currency: Currency }> {
  const { account, currency } = await accountForStaff(c, id);
  const shop = account.kind === 'shop' ? await findShop(c.get('deps').sql, account.id) : undefined;
  if (shop === undefined) throw new DomainError('not_found', `no shop ${id}`);
  return { shop, currency };
}

/** A card (typed with or without dashes) the staff user may see. */
export async function cardForStaff(c: AppContext, typed: string): Promise<{ card: Card; currency: Currency }> {
  const user = requireStaff(c);
  if (isCardCodeTypo(typed)) throw cardCodeTypo();
  const code = normalizeCardCode(typed);
  const found = code === undefined ? undefined : await findCard(c.get('deps').sql, code);
  const { row: card, currency } = await seenBy(c, user, found, () => new DomainError('not_found', 'no such card'));
  return { card, currency };
}

/** An activity of the catalogue the staff user may see. */
export async function activityForStaff(c: AppContext, id: string): Promise<{ activity: Activity; currency: Currency }> {
  const user = requireStaff(c);
  const { row: activity, currency } = await seenBy(c, user, await byId(id, (x) => findActivity(c.get('deps').sql, x)),
    () => new DomainError('not_found', `no activity ${id}`));
  return { activity, currency };
}

/** A claim session the staff user may see, with its activity. */
export async function sessionForStaff(c: AppContext, id: string): Promise<{ session: ActivitySession; activity: Activity; currency: Currency }> {
  const user = requireStaff(c);
  const sql = c.get('deps').sql;
  const refusal = () => new DomainError('not_found', `no session ${id}`);
  const { row: session, currency } = await seenBy(c, user, await byId(id, (x) => findActivitySession(sql, x)), refusal);
  const activity = await findActivity(sql, session.activity_id);
  if (activity === undefined) throw refusal();
  return { session, activity, currency };
}

/** A cash-out request the staff user may see. */
export async function redemptionForStaff(c: AppContext, id: string): Promise<{ redemption: Redemption; currency: Currency }> {
  const user = requireStaff(c);
  const { row: redemption, currency } = await seenBy(c, user, await byId(id, (x) => findRedemption(c.get('deps').sql, x)),
    () => new DomainError('not_found', `no cash-out request ${id}`));
  return { redemption, currency };
}

/** A bank export of the currency (already checked for the staff user), or 404. */
export async function payoutExportNamed(c: AppContext, currency: Currency, id: string): Promise<PayoutExport> {
  const found = await byId(id, (x) => findPayoutExport(c.get('deps').sql, currency.id, x));
  if (found === undefined) throw new DomainError('not_found', `no payout export ${id}`);
  return found;
}

/** A bank export of the currency, when one is named. */
export async function payoutExportOf(c: AppContext, currency: Currency, id: string | undefined): Promise<PayoutExport | undefined> {
  return id === undefined ? undefined : payoutExportNamed(c, currency, id);
}

/** Opaque keyset cursors. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, guard: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!guard(value)) throw new DomainError('validation_failed', 'cursor is not valid', { errors: [{ path: 'cursor', message: 'not a cursor from this list' }] });
  return value;
}

/** A positive bigint as a string, within PostgreSQL's bigint (19 digits can exceed it). */
export const isBigintCursor = (v: unknown): v is string =>
  typeof v === 'string' && /^[1-9][0-9]{0,18}$/.test(v) && BigInt(v) <= 9223372036854775807n;

const isVersionCursor = isBigintCursor;

/** One page of an account's statement, newest first, with the cursor of the next page. */
export async function entriesPage(c: AppContext, account: Account, currency: Currency, query: { limit: number; cursor?: string | undefined }) {
  const before = decodeCursor(query.cursor, isVersionCursor);
  const rows = await listEntries(c.get('deps').sql, account, query.limit + 1, before === undefined ? undefined : BigInt(before));
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((e) => presentEntry(e, currency)),
    next_cursor: rows.length > query.limit && last !== undefined ? encodeCursor(last.version.toString()) : null,
  };
}

/** A wallet history's cursor: the next row of its own entries and of its payments for others. */
interface WalletCursor { own: string | null; other: [string, string] | null }

const isWalletCursor = (v: unknown): v is WalletCursor => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const { own, other } = v as Record<string, unknown>;
  const own_ok = own === null || (isBigintCursor(own) && BigInt(own) < 9223372036854775807n);
  const other_ok = other === null || (Array.isArray(other) && other.length === 2
    && typeof other[0] === 'string' && /^[0-9]{1,16}$/.test(other[0]) && typeof other[1] === 'string' && uuid_pattern.test(other[1]));
  return own_ok && other_ok && !(own === null && other === null);
};

/**
 * A page of the wallet's own history as its JSON body: a kept page when its account version and
 * its currency's names are those it was made with (history-pages.ts), else read and kept. A
 * helper's page (payments for others, from other accounts) is read every time.
 */
export async function walletHistoryBody(
  c: AppContext, wallet: Pick<Wallet, 'helps_others'>, account: Account, currency: Currency, query: { limit: number; cursor?: string | undefined },
): Promise<string> {
  const pages = c.get('history_pages');
  const key = wallet.helps_others ? undefined : HistoryPages.key({
    account_id: account.id, version: account.version, names_version: currency.names_version, scale: currency.scale,
    limit: query.limit, cursor: query.cursor,
  });
  const kept = key === undefined ? undefined : pages.get(key);
  c.get('deps').metrics.history_pages.inc({ result: kept === undefined ? 'miss' : 'hit' });
  if (kept !== undefined) return kept;
  const body = JSON.stringify(await walletEntriesPage(c, wallet, account, currency, query));
  if (key !== undefined) pages.set(key, body);
  return body;
}

/**
 * One page of a wallet's own history: its entries and, for a helper, the payments it made from
 * the wallets it helps (`for_other`), newest first (src/ledger/history.ts merges and pages them).
 */
export async function walletEntriesPage(
  c: AppContext, wallet: Pick<Wallet, 'helps_others'>, account: Account, currency: Currency, query: { limit: number; cursor?: string | undefined },
) {
  const from = decodeCursor(query.cursor, isWalletCursor);
  const sql = c.get('deps').sql;
  const [own, others] = await Promise.all([
    from?.own === null ? [] : listEntries(sql, account, query.limit + 1, from === undefined ? undefined : BigInt(from.own) + 1n),
    // A wallet that never helped anyone paid nothing for others: one query per page, not two.
    from?.other === null || !wallet.helps_others ? [] : listPaymentsForOthers(sql, account.currency_id, account.id, query.limit + 1,
      from === undefined ? undefined : { at_us: from.other[0], id: from.other[1] }),
  ]);
  const { items, next } = mergeHistory(own, others, query.limit);
  return {
    items: items.map((e) => presentEntry(e, currency)),
    next_cursor: next === null ? null : encodeCursor({
      own: next.own === 'done' ? null : next.own.toString(),
      other: next.other === 'done' ? null : [next.other.at_us, next.other.id],
    }),
  };
}
