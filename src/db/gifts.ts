/**
 * The rows of gifts and helpers (migrations/0014_gifts_helpers.sql): a wallet's receive code,
 * and the links between a volunteer's wallet and the wallets of their helpers. The limits
 * themselves are counters of the posting pipeline (volunteer_earnings), read here for display.
 */
import type { Queryable } from './client.js';
import { assert } from '../ledger/errors.js';
import type { PaymentForOther } from '../ledger/history.js';

/** The wallet's receive code, made from `fresh` the first time (two first requests agree on one). */
export async function receiveCodeOfWallet(sql: Queryable, currency_id: number, account_id: string, fresh: string): Promise<string> {
  const [row] = await sql<{ receive_code: string }[]>`
    UPDATE wallets SET receive_code = coalesce(receive_code, ${fresh})
    WHERE currency_id = ${currency_id} AND account_id = ${account_id}
    RETURNING receive_code`;
  assert(row !== undefined, 'the wallet exists');
  return row.receive_code;
}

/** The wallet a receive code names in the currency. */
export async function walletByReceiveCode(sql: Queryable, currency_id: number, code: string): Promise<{ account_id: string; display_name: string } | undefined> {
  const [row] = await sql<{ account_id: string; display_name: string }[]>`
    SELECT account_id, display_name FROM wallets WHERE currency_id = ${currency_id} AND receive_code = ${code}`;
  return row;
}

export interface HelperLink {
  currency_id: number;
  /** The helped volunteer's wallet. */
  account_id: string;
  helper_account_id: string;
  month_max: bigint;
  created_at: Date;
  revoked_at: Date | null;
}

/** Links a helper to a wallet with a monthly maximum; a revoked or existing link is made active with it. */
export async function upsertHelperLink(sql: Queryable, currency_id: number, account_id: string, helper_account_id: string, month_max: bigint): Promise<HelperLink> {
  const [row] = await sql<HelperLink[]>`
    INSERT INTO wallet_helpers (currency_id, account_id, helper_account_id, month_max)
    VALUES (${currency_id}, ${account_id}, ${helper_account_id}, ${month_max})
    ON CONFLICT (currency_id, account_id, helper_account_id)
      DO UPDATE SET month_max = EXCLUDED.month_max, revoked_at = NULL, created_at = now()
    RETURNING *`;
  assert(row !== undefined, 'the upsert returns the link');
  return row;
}

/** Revokes an active link; undefined when there was none. */
export async function revokeHelperLink(sql: Queryable, currency_id: number, account_id: string, helper_account_id: string): Promise<HelperLink | undefined> {
  const [row] = await sql<HelperLink[]>`
    UPDATE wallet_helpers SET revoked_at = now()
    WHERE currency_id = ${currency_id} AND account_id = ${account_id} AND helper_account_id = ${helper_account_id}
      AND revoked_at IS NULL
    RETURNING *`;
  return row;
}

/**
 * The active link of this helper to this wallet, locked (FOR SHARE) until the caller's
 * transaction ends: an unlink or a new maximum waits for a payment that read it.
 */
export async function lockActiveHelperLink(tx: Queryable, currency_id: number, account_id: string, helper_account_id: string): Promise<HelperLink | undefined> {
  const [row] = await tx<HelperLink[]>`
    SELECT * FROM wallet_helpers
    WHERE currency_id = ${currency_id} AND account_id = ${account_id} AND helper_account_id = ${helper_account_id}
      AND revoked_at IS NULL
    FOR SHARE`;
  return row;
}

/** An active link with the other wallet's name, and what the helper paid from it in `period`. */
export interface HelperLinkView extends HelperLink {
  display_name: string;
  /** What the other wallet can spend now (its balance less what is reserved). */
  available: bigint;
  status: string;
  spent: bigint;
}

/**
 * The active links of a helper (`side: 'helper'`, with the helped wallets) or of a helped wallet
 * (`side: 'helped'`, with its helpers); `month` ('2026-12') says which month's spending to read.
 */
export async function listHelperLinks(sql: Queryable, currency_id: number, account_id: string, side: 'helper' | 'helped', month: string): Promise<HelperLinkView[]> {
  return sql<HelperLinkView[]>`
    SELECT h.*, w.display_name, a.credits_posted - a.debits_posted - a.debits_pending AS available, a.status,
           coalesce(e.amount, 0)::bigint AS spent
    FROM wallet_helpers h
    JOIN wallets w ON w.currency_id = h.currency_id
      AND w.account_id = CASE WHEN ${side} = 'helper' THEN h.account_id ELSE h.helper_account_id END
    JOIN accounts a ON a.currency_id = h.currency_id AND a.id = w.account_id
    LEFT JOIN volunteer_earnings e ON e.currency_id = h.currency_id AND e.account_id = h.account_id
      AND e.period = 'h' || h.helper_account_id || 'm' || ${month}
    WHERE h.currency_id = ${currency_id} AND h.revoked_at IS NULL
      AND (CASE WHEN ${side} = 'helper' THEN h.helper_account_id ELSE h.account_id END) = ${account_id}
    ORDER BY lower(w.display_name), w.account_id
    LIMIT 100`;
}

/**
 * Makes the counter of (account, period) exist before the posting pipeline locks it, so that
 * payments in transactions of their own wait for one another on it (the pipeline's write would
 * refuse a counter that another transaction created meanwhile).
 */
export async function ensureCounter(tx: Queryable, currency_id: number, account_id: string, period: string): Promise<void> {
  await tx`
    INSERT INTO volunteer_earnings (currency_id, account_id, period, amount)
    VALUES (${currency_id}, ${account_id}, ${period}, 0)
    ON CONFLICT (currency_id, account_id, period) DO NOTHING`;
}

/**
 * The payments this helper made from the wallets it helps (or helped), newest first, from
 * `from` (inclusive: the first row not yet shown). Only the wallets linked to this helper are
 * read, and of their entries only the payments whose sealed metadata names this helper: never
 * another wallet's own payments, nor another helper's.
 */
export async function listPaymentsForOthers(
  sql: Queryable, currency_id: number, helper_account_id: string, limit: number, from?: { at_us: string; id: string },
): Promise<PaymentForOther[]> {
  return sql<PaymentForOther[]>`
    SELECT e.transfer_id, e.account_id, e.amount, t.code, t.memo, e.created_at, (extract(epoch FROM e.created_at) * 1000000)::bigint::text AS at_us,
           cp.id AS counterparty_id, cp.name AS counterparty_name, cp.kind AS counterparty_kind,
           NULL::uuid AS activity_id, NULL::jsonb AS activity_name, NULL::uuid AS refund_of, NULL::uuid AS reverses,
           me.id AS helper_id, me.name AS helper_name, helped.id AS helped_id, helped.name AS helped_name,
           EXISTS (SELECT 1 FROM transfers r WHERE r.currency_id = e.currency_id AND r.reverses_id = e.transfer_id) AS reversed
    FROM wallet_helpers h
    JOIN accounts me ON me.currency_id = h.currency_id AND me.id = h.helper_account_id
    JOIN accounts helped ON helped.currency_id = h.currency_id AND helped.id = h.account_id
    JOIN entries e ON e.currency_id = h.currency_id AND e.account_id = h.account_id AND e.amount < 0
    JOIN transfers t ON t.currency_id = e.currency_id AND t.id = e.transfer_id
      AND t.code = 'payment' AND t.metadata->>'helper_account_id' = h.helper_account_id::text
    JOIN accounts cp ON cp.currency_id = t.currency_id AND cp.id = t.credit_account_id
    WHERE h.currency_id = ${currency_id} AND h.helper_account_id = ${helper_account_id}
      AND (${from?.at_us ?? null}::bigint IS NULL
           OR (e.created_at, e.transfer_id) <= ('epoch'::timestamptz + ${from?.at_us ?? null}::bigint * interval '1 microsecond', ${from?.id ?? null}::uuid))
    ORDER BY e.created_at DESC, e.transfer_id DESC
    LIMIT ${limit}`;
}
