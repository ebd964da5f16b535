import { randomUUID } from 'node:crypto';
import type { Queryable, Sql } from './client.js';
import { transaction } from './client.js';
import { insertAudit } from './audit.js';
import type { AuditEntry } from './audit.js';
import { DomainError, assert } from '../ledger/errors.js';
import type { Account, AccountKind, AccountStatus, Currency, Entry, Transfer } from '../ledger/model.js';
import { expiry_time_zone } from '../ledger/expiry.js';

export type NewCurrency = Pick<Currency,
  'code' | 'name' | 'scale' | 'euro_per_unit' | 'wallet_balance_max' | 'volunteer_cap_day' | 'volunteer_cap_year' | 'validity_days' | 'gifts_enabled' | 'gift_day_max'>;

type CurrencyRow = Omit<Currency, 'euro_per_unit'> & { euro_per_unit: string };

/**
 * Creates a currency and its issuance account in one transaction; `also` adds what every new
 * currency starts with (such as its activity catalogue) in the same transaction.
 */
export async function insertCurrency(
  sql: Sql, input: NewCurrency, also: (tx: Queryable, currency: Currency) => Promise<void> = async () => {},
): Promise<Currency> {
  const issuance_id = randomUUID();
  return transaction(sql, async (tx) => {
    const [existing] = await tx`SELECT 1 FROM currencies WHERE code = ${input.code}`;
    if (existing !== undefined) {
      throw new DomainError('currency_exists', `currency ${input.code} already exists`);
    }
    const [row] = await tx<CurrencyRow[]>`
      INSERT INTO currencies (code, name, scale, euro_per_unit, wallet_balance_max,
                              volunteer_cap_day, volunteer_cap_year, issuance_account_id, validity_days, validity_from,
                              gifts_enabled, gift_day_max)
      VALUES (${input.code}, ${input.name}, ${input.scale}, ${input.euro_per_unit},
              ${input.wallet_balance_max}, ${input.volunteer_cap_day}, ${input.volunteer_cap_year},
              ${issuance_id}, ${input.validity_days},
              CASE WHEN ${input.validity_days}::int IS NULL THEN NULL ELSE (now() AT TIME ZONE ${expiry_time_zone})::date END,
              ${input.gifts_enabled}, ${input.gift_day_max})
      RETURNING *`;
    assert(row !== undefined, 'insert returns the currency');
    await tx`INSERT INTO accounts (currency_id, id, kind, name)
             VALUES (${row.id}, ${issuance_id}, 'issuance', ${`${input.name} — issuance`})`;
    await also(tx, row);
    return row;
  });
}

/** Currencies by their codes (those that exist). */
export async function findCurrencies(sql: Queryable, codes: readonly string[]): Promise<Map<string, Currency>> {
  const rows = await sql<CurrencyRow[]>`SELECT * FROM currencies WHERE code = ANY(${codes as string[]}::text[])`;
  return new Map(rows.map((row) => [row.code, row]));
}

export async function findCurrency(sql: Queryable, code: string): Promise<Currency | undefined> {
  return (await findCurrencies(sql, [code])).get(code);
}

/**
 * Changes the settings of a currency that never touch balances. A validity that is set or
 * changed counts from today (validity_from) for the coins already in wallets.
 */
export async function updateCurrencySettings(
  sql: Queryable, currency: Currency,
  changes: Partial<Pick<Currency,
    'name' | 'payment_request_ttl_s' | 'payer_name' | 'payer_iban' | 'payer_bic' | 'sepa_version' | 'validity_days'
    | 'volunteer_cap_day' | 'volunteer_cap_year' | 'gifts_enabled' | 'gift_day_max'>>,
): Promise<Currency> {
  const next = { ...currency, ...changes };
  const [row] = await sql<CurrencyRow[]>`
    UPDATE currencies SET name = ${next.name}, payment_request_ttl_s = ${next.payment_request_ttl_s},
      payer_name = ${next.payer_name}, payer_iban = ${next.payer_iban}, payer_bic = ${next.payer_bic},
      sepa_version = ${next.sepa_version},
      volunteer_cap_day = ${next.volunteer_cap_day}, volunteer_cap_year = ${next.volunteer_cap_year},
      validity_from = CASE WHEN ${next.validity_days}::int IS NULL THEN NULL
                           WHEN validity_days IS NOT DISTINCT FROM ${next.validity_days}::int THEN validity_from
                           ELSE (now() AT TIME ZONE ${expiry_time_zone})::date END,
      validity_days = ${next.validity_days},
      gifts_enabled = ${next.gifts_enabled}, gift_day_max = ${next.gift_day_max}
    WHERE id = ${currency.id}
    RETURNING *`;
  assert(row !== undefined, 'the currency exists');
  return row;
}

export async function findCurrencyById(sql: Queryable, id: number): Promise<Currency | undefined> {
  const [row] = await sql<CurrencyRow[]>`SELECT * FROM currencies WHERE id = ${id}`;
  return row;
}

/** All currencies, or those with the given ids. */
export async function listCurrencies(sql: Queryable, ids?: number[]): Promise<Currency[]> {
  if (ids === undefined) return sql<CurrencyRow[]>`SELECT * FROM currencies ORDER BY code`;
  return sql<CurrencyRow[]>`SELECT * FROM currencies WHERE id = ANY(${ids}) ORDER BY code`;
}

export async function insertAccount(
  sql: Queryable, currency: Currency, kind: Exclude<AccountKind, 'issuance'>, name: string,
): Promise<Account> {
  const balance_max = kind === 'wallet' ? currency.wallet_balance_max : null;
  const [row] = await sql<Account[]>`
    INSERT INTO accounts (currency_id, id, kind, name, balance_max)
    VALUES (${currency.id}, ${randomUUID()}, ${kind}, ${name}, ${balance_max})
    RETURNING *`;
  assert(row !== undefined, 'insert returns the account');
  return row;
}

/** The accounts with these ids, in any currency (for checks before a transfer). */
export async function findAccountsIn(sql: Queryable, ids: string[]): Promise<Account[]> {
  if (ids.length === 0) return [];
  return sql<Account[]>`SELECT * FROM accounts WHERE id = ANY(${ids}::uuid[])`;
}

export async function findAccount(sql: Queryable, id: string): Promise<Account | undefined> {
  const [row] = await sql<Account[]>`SELECT * FROM accounts WHERE id = ${id}`;
  return row;
}

/**
 * Changes an account's status under its row lock: `decide` sees the account as locked (its
 * balances cannot change meanwhile), refuses by throwing, or returns the audit record written
 * with the change.
 */
export async function changeAccountStatus(
  sql: Sql, account: Account, status: AccountStatus, reason: string | null, decide: (locked: Account) => AuditEntry,
): Promise<Account> {
  return transaction(sql, async (tx) => {
    const [locked] = await tx<Account[]>`
      SELECT * FROM accounts WHERE currency_id = ${account.currency_id} AND id = ${account.id} FOR UPDATE`;
    assert(locked !== undefined, 'an account is never deleted');
    if (locked.kind === 'issuance') throw new DomainError('validation_failed', 'the issuance account cannot change status');
    const entry = decide(locked);
    const [row] = await tx<Account[]>`
      UPDATE accounts SET status = ${status}, status_reason = ${status === 'active' ? null : reason}
      WHERE currency_id = ${account.currency_id} AND id = ${account.id}
      RETURNING *`;
    assert(row !== undefined, 'the locked account is updated');
    await insertAudit(tx, entry);
    return row;
  });
}

export interface AccountQuery {
  kind?: AccountKind;
  /** Case-insensitive substring of the name. */
  q?: string;
  limit: number;
  /** Keyset: the (lower(name), id) of the last row of the previous page. */
  after?: { name: string; id: string };
}

export async function listAccounts(sql: Queryable, currency_id: number, query: AccountQuery): Promise<Account[]> {
  const pattern = query.q === undefined ? null : `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<Account[]>`
    SELECT * FROM accounts
    WHERE currency_id = ${currency_id}
      AND (${query.kind ?? null}::text IS NULL OR kind = ${query.kind ?? null})
      AND (${pattern}::text IS NULL OR name ILIKE ${pattern})
      AND (${query.after?.name ?? null}::text IS NULL
           OR (lower(name), id) > (${query.after?.name ?? null}, ${query.after?.id ?? null}::uuid))
    ORDER BY lower(name), id
    LIMIT ${query.limit}`;
}

export async function findTransfer(sql: Queryable, id: string): Promise<Transfer | undefined> {
  const [row] = await sql<Transfer[]>`
    SELECT t.*, r.phase AS resolved_by_phase
    FROM transfers t
    LEFT JOIN transfers r ON r.currency_id = t.currency_id AND r.pending_id = t.id
    WHERE t.id = ${id}`;
  return row;
}

/**
 * Newest first; `before_version` is the keyset cursor. One range scan of the entries key; the
 * activity of a reward is named from its metadata, and whether a correction reversed the row
 * is one probe of the reverse-once index.
 */
export async function listEntries(
  sql: Queryable, account: Account, limit: number, before_version?: bigint,
): Promise<Entry[]> {
  return sql<Entry[]>`
    SELECT e.transfer_id, e.account_id, e.version, e.amount, e.balance_after, t.code, t.memo,
           cp.id AS counterparty_id, cp.name AS counterparty_name, cp.kind AS counterparty_kind, e.created_at,
           CASE WHEN t.code = 'refund' THEN t.metadata->>'refund_of' END AS refund_of, t.reverses_id AS reverses,
           act.id AS activity_id, act.name AS activity_name,
           helper.id AS helper_id, helper.name AS helper_name, helped.id AS helped_id, helped.name AS helped_name,
           EXISTS (SELECT 1 FROM transfers r WHERE r.currency_id = e.currency_id AND r.reverses_id = e.transfer_id) AS reversed
    FROM entries e
    JOIN transfers t ON t.currency_id = e.currency_id AND t.id = e.transfer_id
    JOIN accounts cp ON cp.currency_id = e.currency_id
      AND cp.id = CASE WHEN t.debit_account_id = e.account_id THEN t.credit_account_id ELSE t.debit_account_id END
    LEFT JOIN activities act ON act.currency_id = e.currency_id AND act.id::text = t.metadata->>'activity_id'
    LEFT JOIN accounts helper ON helper.currency_id = e.currency_id AND helper.id = (t.metadata->>'helper_account_id')::uuid
    LEFT JOIN accounts helped ON helped.currency_id = e.currency_id AND helped.id = t.debit_account_id AND helper.id IS NOT NULL
    WHERE e.currency_id = ${account.currency_id} AND e.account_id = ${account.id}
      AND e.version < ${before_version ?? 9_223_372_036_854_775_807n}
    ORDER BY e.version DESC
    LIMIT ${limit}`;
}

export interface Supply {
  /** Everything the issuance account ever sent out (budgets and direct issues). */
  issued: bigint;
  /** Everything that came back to the issuance account (redemptions, reversals of issues). */
  redeemed: bigint;
  in_programmes: bigint;
  in_wallets: bigint;
  in_shops: bigint;
}

/** Where the coins of a currency are; issued - redeemed = programmes + wallets + shops. */
export async function supplyOf(sql: Queryable, currency: Currency): Promise<Supply> {
  const [row] = await sql<Supply[]>`
    SELECT
      coalesce(sum(debits_posted) FILTER (WHERE kind = 'issuance'), 0)::bigint AS issued,
      coalesce(sum(credits_posted) FILTER (WHERE kind = 'issuance'), 0)::bigint AS redeemed,
      coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind = 'programme'), 0)::bigint AS in_programmes,
      coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind = 'wallet'), 0)::bigint AS in_wallets,
      coalesce(sum(credits_posted - debits_posted) FILTER (WHERE kind = 'shop'), 0)::bigint AS in_shops
    FROM accounts WHERE currency_id = ${currency.id}`;
  assert(row !== undefined, 'aggregate returns a row');
  return row;
}
