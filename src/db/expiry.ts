/**
 * What the expiry rule reads: the coins wallets still hold, with the days they were earned. No
 * table of lots: a wallet spends its oldest coins first, so the coins it holds are its newest
 * credits that add up to its balance (src/ledger/expiry.ts), read here from its entries in one
 * statement — a backward range scan of the entries key per wallet, stopping nowhere earlier but
 * returning only the credits that count. Payments write nothing for it.
 */
import type { Queryable, Sql, TransactionSql } from './client.js';
import type { AccountStatus } from '../ledger/model.js';
import type { Credit } from '../ledger/expiry.js';
import { expiry_time_zone } from '../ledger/expiry.js';

/** A wallet holding coins, as read with its credits. */
export interface WalletCredits {
  account_id: string;
  /** The account's version when read: the expiry transfer is refused if it moved since. */
  version: bigint;
  balance: bigint;
  debits_pending: bigint;
  status: AccountStatus;
  /** Newest first: the credits that make up the balance (the last one perhaps in part). */
  credits: Credit[];
}

interface Row {
  account_id: string;
  version: bigint;
  balance: bigint;
  debits_pending: bigint;
  status: AccountStatus;
  amount: bigint;
  earned_on: string;
}

export interface WalletPage {
  /** Only these wallets (those without coins are left out). */
  account_ids?: string[];
  /** Keyset: wallets with a greater id. */
  after?: string;
  /** Wallets at most. */
  limit: number;
}

/**
 * The wallets of a currency that hold coins, by id, each with the credits that make up its
 * balance. One statement, so balances and entries are of one snapshot.
 */
export async function walletCredits(sql: Queryable, currency_id: number, page: WalletPage): Promise<WalletCredits[]> {
  const rows = await sql<Row[]>`
    WITH w AS (
      SELECT a.id, a.version, a.credits_posted - a.debits_posted AS balance, a.debits_pending, a.status
      FROM accounts a
      WHERE a.currency_id = ${currency_id} AND a.kind = 'wallet' AND a.credits_posted > a.debits_posted
        AND (${page.account_ids ?? null}::uuid[] IS NULL OR a.id = ANY(${page.account_ids ?? null}::uuid[]))
        AND (${page.after ?? null}::uuid IS NULL OR a.id > ${page.after ?? null}::uuid)
      ORDER BY a.id
      LIMIT ${page.limit}
    )
    SELECT w.id AS account_id, w.version, w.balance, w.debits_pending, w.status, c.amount, c.earned_on
    FROM w
    CROSS JOIN LATERAL (
      SELECT x.amount, x.version, to_char(x.created_at AT TIME ZONE ${expiry_time_zone}, 'YYYY-MM-DD') AS earned_on
      FROM (
        SELECT e.amount, e.version, e.created_at,
               sum(e.amount) OVER (ORDER BY e.version DESC ROWS UNBOUNDED PRECEDING) - e.amount AS newer
        FROM entries e
        WHERE e.currency_id = ${currency_id} AND e.account_id = w.id AND e.amount > 0
      ) x
      WHERE x.newer < w.balance
    ) c
    ORDER BY w.id, c.version DESC`;
  const wallets: WalletCredits[] = [];
  for (const row of rows) {
    let wallet = wallets.at(-1);
    if (wallet?.account_id !== row.account_id) {
      wallet = {
        account_id: row.account_id, version: row.version, balance: row.balance, debits_pending: row.debits_pending,
        status: row.status, credits: [],
      };
      wallets.push(wallet);
    }
    wallet.credits.push({ amount: row.amount, earned_on: row.earned_on });
  }
  return wallets;
}

/** Every wallet holding coins, `page_wallets` at a time. */
export async function* allWalletCredits(sql: Queryable, currency_id: number, page_wallets: number): AsyncGenerator<WalletCredits[]> {
  let after: string | undefined;
  for (;;) {
    const page = await walletCredits(sql, currency_id, { limit: page_wallets, ...(after === undefined ? {} : { after }) });
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (last === undefined || page.length < page_wallets) return;
    after = last.account_id;
  }
}

/** Runs `read` on one snapshot of the database (a read-only REPEATABLE READ transaction). */
export async function readSnapshot<T>(sql: Sql, read: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return sql.begin('isolation level repeatable read read only', read) as Promise<T>;
}
