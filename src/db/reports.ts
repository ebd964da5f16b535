/**
 * Reports of a currency for a period, and the row sources of the streamed CSV exports.
 *
 * Days are local days in Belgium: a period [from, to] covers from 00:00 on `from` up to (not
 * including) 00:00 after `to`, Europe/Brussels time; "at a date" means at the end of that day.
 * Months are local months too. Amounts are minor units (bigint); the HTTP layer formats them.
 *
 * Corrections follow the ledger: a reversal counts on the day it was made, with the sign of
 * what it undoes (a reversal of a reward takes the reward's coins, hours and count back; a
 * reversal of that reversal gives them again), attributed to the original transfer's
 * activity, category, shop or wallet.
 */
import type postgres from 'postgres';
import type { Queryable, Sql } from './client.js';
import { isConnectionLost } from './client.js';
import { assert } from '../ledger/errors.js';
import type { AccountKind, AccountStatus, Currency, TransferCode, TransferPhase, TransferStatus } from '../ledger/model.js';

/** The time zone of local days and months. */
export const report_time_zone = 'Europe/Brussels';

export interface Bounds {
  /** First instant of the period (inclusive). */
  lo: Date;
  /** First instant after the period (exclusive). */
  hi: Date;
}

/** The instants that bound the local days `from` … `to` (YYYY-MM-DD, both inclusive). */
export async function periodBounds(sql: Queryable, from: string, to: string): Promise<Bounds> {
  const [row] = await sql<Bounds[]>`
    SELECT (${from}::date::timestamp AT TIME ZONE ${report_time_zone}) AS lo,
           ((${to}::date + 1)::timestamp AT TIME ZONE ${report_time_zone}) AS hi`;
  assert(row !== undefined, 'a SELECT without FROM returns a row');
  return row;
}

/** The first instant after the local day `at` (YYYY-MM-DD): "at the end of that day" means before it. */
export async function endOfDay(sql: Queryable, at: string): Promise<Date> {
  return (await periodBounds(sql, at, at)).hi;
}

type Fragment = postgres.PendingQuery<postgres.Row[]>;

/**
 * Local month (YYYY-MM) of a timestamptz expression. The zone is written out, not a parameter,
 * so that the same expression in SELECT and GROUP BY is recognised as the same.
 */
function monthOf(sql: Queryable, expression: Fragment): Fragment {
  return sql`to_char(${expression} AT TIME ZONE 'Europe/Brussels', 'YYYY-MM')`;
}

/**
 * CTEs `up` and `moves` (for a WITH RECURSIVE): every posted movement in [lo, hi) of a transfer
 * whose code is in `codes`, and every reversal in [lo, hi) whose chain of reversals ends at such
 * a transfer. Columns of moves: root_id (the original transfer), is_root (the movement is the
 * original itself), sign (+1, or ±1 for reversals by the parity of the chain), amount and
 * created_at of the movement, and the original's code, phase, pending_id, accounts and metadata.
 */
function movesCtes(sql: Queryable, currency_id: number, bounds: Bounds, codes: TransferCode[]): Fragment {
  return sql`
    up AS (
      SELECT v.id AS move_id, v.reverses_id AS cur, -1 AS sign, 1 AS depth
      FROM transfers v
      WHERE v.currency_id = ${currency_id} AND v.code = 'reversal'
        AND v.created_at >= ${bounds.lo} AND v.created_at < ${bounds.hi}
      UNION ALL
      SELECT up.move_id, t.reverses_id, -up.sign, up.depth + 1
      FROM up
      JOIN transfers t ON t.currency_id = ${currency_id} AND t.id = up.cur
      WHERE t.code = 'reversal' AND up.depth < 1000
    ),
    moves AS (
      SELECT t.id AS root_id, true AS is_root, 1 AS sign, t.amount, t.created_at,
             t.code, t.phase, t.pending_id, t.debit_account_id, t.credit_account_id, t.metadata
      FROM transfers t
      WHERE t.currency_id = ${currency_id} AND t.code = ANY(${codes}::text[]) AND t.phase IN ('single', 'post')
        AND t.created_at >= ${bounds.lo} AND t.created_at < ${bounds.hi}
      UNION ALL
      SELECT up.cur, false, up.sign, v.amount, v.created_at,
             r.code, r.phase, r.pending_id, r.debit_account_id, r.credit_account_id, r.metadata
      FROM up
      JOIN transfers r ON r.currency_id = ${currency_id} AND r.id = up.cur
                      AND r.code = ANY(${codes}::text[]) AND r.phase IN ('single', 'post')
      JOIN transfers v ON v.currency_id = ${currency_id} AND v.id = up.move_id
    )`;
}

/**
 * True when the transfer `id` stands today: it was reversed an even number of times (a chain
 * of reversals, each transfer reversed at most once).
 */
function stands(sql: Queryable, currency_id: number, id: Fragment): Fragment {
  return sql`(
    WITH RECURSIVE chain AS (
      SELECT x.id FROM transfers x WHERE x.currency_id = ${currency_id} AND x.reverses_id = ${id}
      UNION ALL
      SELECT x.id FROM chain JOIN transfers x ON x.currency_id = ${currency_id} AND x.reverses_id = chain.id
    )
    SELECT count(*) % 2 = 0 FROM chain)`;
}

// Supply and balances at a date --------------------------------------------------------------

export interface BalanceRow {
  account_id: string;
  kind: AccountKind;
  name: string;
  status: AccountStatus;
  /** Posted balance at the instant: balance_after of the account's latest entry before it. */
  balance: bigint;
}

/**
 * Every account of the currency that existed before `before`, with its posted balance then:
 * one lateral lookup per account on the entries primary key (latest version first).
 */
export function balancesQuery(sql: Queryable, currency: Currency, before: Date): postgres.PendingQuery<BalanceRow[]> {
  return sql<BalanceRow[]>`
    SELECT a.id AS account_id, a.kind, a.name, a.status, coalesce(b.balance_after, 0)::bigint AS balance
    FROM accounts a
    LEFT JOIN LATERAL (
      SELECT e.balance_after FROM entries e
      WHERE e.currency_id = a.currency_id AND e.account_id = a.id AND e.created_at < ${before}
      ORDER BY e.version DESC
      LIMIT 1
    ) b ON true
    WHERE a.currency_id = ${currency.id} AND a.created_at < ${before}
    ORDER BY CASE a.kind WHEN 'issuance' THEN 0 WHEN 'programme' THEN 1 WHEN 'shop' THEN 2 ELSE 3 END, lower(a.name), a.id`;
}

export interface SupplyAt {
  issued: bigint;
  redeemed: bigint;
  in_programmes: bigint;
  in_wallets: bigint;
  in_shops: bigint;
}

/**
 * Supply as GET /supply computes it from the account counters, but from the entries before
 * `before`: issued and redeemed are the issuance account's debits and credits, the holdings
 * the balances of the other accounts then.
 */
export async function supplyAt(sql: Queryable, currency: Currency, before: Date): Promise<SupplyAt> {
  const [row] = await sql<SupplyAt[]>`
    WITH issuance AS (
      SELECT coalesce(sum(-e.amount) FILTER (WHERE e.amount < 0), 0)::bigint AS issued,
             coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0)::bigint AS redeemed
      FROM entries e
      WHERE e.currency_id = ${currency.id} AND e.account_id = ${currency.issuance_account_id} AND e.created_at < ${before}
    ), held AS (
      SELECT coalesce(sum(b.balance) FILTER (WHERE b.kind = 'programme'), 0)::bigint AS in_programmes,
             coalesce(sum(b.balance) FILTER (WHERE b.kind = 'wallet'), 0)::bigint AS in_wallets,
             coalesce(sum(b.balance) FILTER (WHERE b.kind = 'shop'), 0)::bigint AS in_shops
      FROM (${balancesQuery(sql, currency, before)}) b
    )
    SELECT * FROM issuance, held`;
  assert(row !== undefined, 'aggregates return a row');
  return row;
}

export interface CirculationRow {
  /** The local day (YYYY-MM-DD) at whose end the coins were counted. */
  day: string;
  in_programmes: bigint;
  in_wallets: bigint;
  in_shops: bigint;
}

/**
 * Where the coins were at the end of each local day of `days` (YYYY-MM-DD, ascending), in one
 * statement and one pass over the entries: each entry before the last day's end is put in the
 * bucket of the first day it counts for (width_bucket over the days' ends), the buckets are
 * added up per kind of account, and a running sum over the days gives each day's holdings (a
 * balance is the sum of its entries, as verify checks). Reading each account's latest entry per
 * day instead would walk back over every later entry, day after day.
 */
export async function circulationAt(sql: Queryable, currency: Currency, days: string[]): Promise<CirculationRow[]> {
  const c = currency.id;
  return sql<CirculationRow[]>`
    WITH d AS (
      SELECT u.ord, u.day, ((u.day + 1)::timestamp AT TIME ZONE 'Europe/Brussels') AS before
      FROM unnest(${days}::date[]) WITH ORDINALITY AS u(day, ord)
    ),
    bounds AS (SELECT array_agg(d.before ORDER BY d.ord) AS befores, max(d.before) AS last FROM d),
    moved AS (
      SELECT width_bucket(e.created_at, b.befores) + 1 AS ord, a.kind, sum(e.amount) AS amount
      FROM bounds b
      JOIN entries e ON e.currency_id = ${c} AND e.created_at < b.last
      JOIN accounts a ON a.currency_id = e.currency_id AND a.id = e.account_id
      WHERE a.kind IN ('programme', 'wallet', 'shop')
      GROUP BY 1, 2
    )
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
           sum(coalesce(sum(m.amount) FILTER (WHERE m.kind = 'programme'), 0)) OVER (ORDER BY d.ord)::bigint AS in_programmes,
           sum(coalesce(sum(m.amount) FILTER (WHERE m.kind = 'wallet'), 0)) OVER (ORDER BY d.ord)::bigint AS in_wallets,
           sum(coalesce(sum(m.amount) FILTER (WHERE m.kind = 'shop'), 0)) OVER (ORDER BY d.ord)::bigint AS in_shops
    FROM d
    LEFT JOIN moved m ON m.ord = d.ord
    GROUP BY d.ord, d.day
    ORDER BY d.ord`;
}

// Volunteering ------------------------------------------------------------------------------

export type VolunteeringGroup = 'activity' | 'category' | 'month';

export interface VolunteeringRow {
  /** False for the totals row. */
  is_group: boolean;
  /** The activity id, category or month; null for rewards without a known activity (and the totals row). */
  key: string | null;
  /** For group = activity: the activity's current name and category. */
  activity_name: Record<string, string> | null;
  activity_category: string | null;
  /** Hours with two decimals, as text. */
  hours: string;
  coins: bigint;
  rewards: number;
  volunteers: number;
  first_time_volunteers: number;
}

/**
 * Volunteering in a period, per activity, category or local month, and a totals row (last).
 *
 * - coins, hours, rewards: rewards made in the period, minus reversals made in the period of
 *   rewards (whenever those were made), in the group of the reward reversed.
 * - volunteers: distinct wallets with a reward in the period that stands today (not reversed).
 * - first_time_volunteers: wallets whose first standing reward ever is in the period, counted in
 *   the group of that first reward (so the groups add up to the total).
 * No wallet ids or names leave this query: only counts.
 */
export async function volunteeringReport(
  sql: Queryable, currency: Currency, bounds: Bounds, group: VolunteeringGroup,
): Promise<VolunteeringRow[]> {
  const c = currency.id;
  const key = group === 'activity' ? sql`x.activity_id::text`
    : group === 'category' ? sql`x.category`
      : monthOf(sql, sql`x.created_at`);
  return sql<VolunteeringRow[]>`
    WITH RECURSIVE ${movesCtes(sql, c, bounds, ['reward'])},
    rewarded AS (
      SELECT m.root_id, m.is_root, m.sign, m.amount, m.created_at, m.credit_account_id AS wallet,
             CASE WHEN m.phase = 'post' THEN coalesce(p.metadata, '{}'::jsonb) || m.metadata ELSE m.metadata END AS md
      FROM moves m
      LEFT JOIN transfers p ON m.phase = 'post' AND p.currency_id = ${c} AND p.id = m.pending_id
    ),
    x AS (
      SELECT rw.root_id, rw.is_root, rw.sign, rw.amount, rw.created_at, rw.wallet,
             act.id AS activity_id,
             CASE WHEN act.id IS NULL THEN NULL ELSE coalesce(rw.md->>'category', act.category) END AS category,
             rw.sign * CASE WHEN rw.md->>'hours' ~ '^[0-9]{1,6}(\\.[0-9]{1,2})?$' THEN (rw.md->>'hours')::numeric ELSE 0 END AS hours,
             rw.is_root AND ${stands(sql, c, sql`rw.root_id`)} AS takes_part
      FROM rewarded rw
      LEFT JOIN activities act ON act.currency_id = ${c} AND act.id::text = rw.md->>'activity_id'
    ),
    firsts AS (
      SELECT f.transfer_id
      FROM (SELECT DISTINCT wallet FROM x WHERE takes_part) w
      CROSS JOIN LATERAL (
        SELECT e.transfer_id
        FROM entries e
        JOIN transfers t ON t.currency_id = e.currency_id AND t.id = e.transfer_id
        WHERE e.currency_id = ${c} AND e.account_id = w.wallet AND e.amount > 0
          AND t.code = 'reward' AND t.credit_account_id = w.wallet AND ${stands(sql, c, sql`t.id`)}
        ORDER BY e.version
        LIMIT 1
      ) f
    ),
    g AS (
      SELECT GROUPING(${key}) = 0 AS is_group, ${key} AS key,
             coalesce(sum(x.hours), 0)::numeric(16, 2)::text AS hours,
             coalesce(sum(x.sign * x.amount), 0)::bigint AS coins,
             coalesce(sum(x.sign), 0)::int AS rewards,
             count(DISTINCT x.wallet) FILTER (WHERE x.takes_part)::int AS volunteers,
             count(DISTINCT x.wallet) FILTER (WHERE x.takes_part AND x.root_id IN (SELECT transfer_id FROM firsts))::int
               AS first_time_volunteers
      FROM x
      GROUP BY GROUPING SETS ((${key}), ())
    )
    SELECT g.*, a.name AS activity_name, a.category AS activity_category
    FROM g
    LEFT JOIN activities a ON ${group === 'activity'} AND a.currency_id = ${c} AND a.id::text = g.key
    ORDER BY g.is_group DESC, ${group === 'activity' ? sql`a.name->>'nl'` : sql`g.key`} NULLS LAST, g.key NULLS LAST`;
}

// Shops -----------------------------------------------------------------------------------

export interface ShopMonthRow {
  /** False for the totals row. */
  is_group: boolean;
  /** Null in the totals row, and when grouped per month. */
  shop_account_id: string | null;
  shop_name: string | null;
  /** Null in the totals row, and when grouped per shop. */
  month: string | null;
  /** Payments to the shop (net of reversed payments). */
  payments: number;
  takings: bigint;
  refunds: bigint;
  redemptions_requested: bigint;
  redemptions_approved: bigint;
  redemptions_rejected: bigint;
  /** Euros owed to the shop for cash-outs approved in the month (payouts), exact to the cent. */
  euros_paid_out: string;
}

/** How the shops report groups its rows: per shop and month (the default), per shop, or per month. */
export type ShopsGroup = 'shop_month' | 'shop' | 'month';

/**
 * Per shop account and local month (or per shop, or per month: `group`): payments received
 * (takings) and refunds given, each net of reversals; cash-out requests by the month they were
 * made, approvals and rejections by the month they were decided (coins), and the euros of the
 * payouts created by the approvals. The totals row comes last. Grouped per shop, `month` is null;
 * per month, the shop is.
 */
export async function shopsReport(
  sql: Queryable, currency: Currency, bounds: Bounds, group: ShopsGroup = 'shop_month',
): Promise<ShopMonthRow[]> {
  const c = currency.id;
  const { lo, hi } = bounds;
  const shop = group === 'month' ? sql`NULL::uuid` : sql`f.shop`;
  const month = group === 'shop' ? sql`NULL::text` : sql`f.month`;
  const set = group === 'shop' ? sql`(f.shop)` : group === 'month' ? sql`(f.month)` : sql`(f.shop, f.month)`;
  return sql<ShopMonthRow[]>`
    WITH RECURSIVE ${movesCtes(sql, c, bounds, ['payment', 'refund'])},
    flows AS (
      SELECT CASE m.code WHEN 'payment' THEN m.credit_account_id ELSE m.debit_account_id END AS shop,
             ${monthOf(sql, sql`m.created_at`)} AS month,
             CASE WHEN m.code = 'payment' THEN m.sign ELSE 0 END AS payments,
             CASE WHEN m.code = 'payment' THEN m.sign * m.amount ELSE 0 END AS takings,
             CASE WHEN m.code = 'refund' THEN m.sign * m.amount ELSE 0 END AS refunds,
             0::bigint AS requested, 0::bigint AS approved, 0::bigint AS rejected, 0::numeric AS euros
      FROM moves m
      UNION ALL
      SELECT d.shop_account_id, ${monthOf(sql, sql`d.created_at`)}, 0, 0, 0, d.amount, 0, 0, 0
      FROM redemptions d
      WHERE d.currency_id = ${c} AND d.created_at >= ${lo} AND d.created_at < ${hi}
      UNION ALL
      SELECT d.shop_account_id, ${monthOf(sql, sql`d.decided_at`)}, 0, 0, 0, 0,
             CASE WHEN d.status = 'approved' THEN d.amount ELSE 0 END,
             CASE WHEN d.status = 'rejected' THEN d.amount ELSE 0 END, 0
      FROM redemptions d
      WHERE d.currency_id = ${c} AND d.decided_at >= ${lo} AND d.decided_at < ${hi}
      UNION ALL
      SELECT p.shop_account_id, ${monthOf(sql, sql`p.created_at`)}, 0, 0, 0, 0, 0, 0, p.euro_amount
      FROM payouts p
      WHERE p.currency_id = ${c} AND p.created_at >= ${lo} AND p.created_at < ${hi}
    ),
    g AS (
      SELECT GROUPING(${group === 'month' ? sql`f.month` : sql`f.shop`}) = 0 AS is_group, ${shop} AS shop, ${month} AS month,
             sum(f.payments)::int AS payments,
             sum(f.takings)::bigint AS takings,
             sum(f.refunds)::bigint AS refunds,
             sum(f.requested)::bigint AS redemptions_requested,
             sum(f.approved)::bigint AS redemptions_approved,
             sum(f.rejected)::bigint AS redemptions_rejected,
             sum(f.euros)::numeric(18, 2)::text AS euros_paid_out
      FROM flows f
      JOIN accounts a ON a.currency_id = ${c} AND a.id = f.shop AND a.kind = 'shop'
      GROUP BY GROUPING SETS (${set}, ())
    )
    SELECT g.is_group, g.shop AS shop_account_id, coalesce(s.name, a.name) AS shop_name, g.month,
           coalesce(g.payments, 0) AS payments, coalesce(g.takings, 0::bigint) AS takings,
           coalesce(g.refunds, 0::bigint) AS refunds,
           coalesce(g.redemptions_requested, 0::bigint) AS redemptions_requested,
           coalesce(g.redemptions_approved, 0::bigint) AS redemptions_approved,
           coalesce(g.redemptions_rejected, 0::bigint) AS redemptions_rejected,
           coalesce(g.euros_paid_out, '0.00') AS euros_paid_out
    FROM g
    LEFT JOIN accounts a ON a.currency_id = ${c} AND a.id = g.shop
    LEFT JOIN shops s ON s.currency_id = ${c} AND s.account_id = g.shop
    ORDER BY g.is_group DESC, lower(coalesce(s.name, a.name)), g.shop, g.month`;
}

// The public view -----------------------------------------------------------------------------

export interface ImpactRow {
  /** The local month (YYYY-MM) of a month's row, the category of a category's row; both null for the totals row. */
  month: string | null;
  category: string | null;
  /** Hours with two decimals, as text; coins earned by rewards; both net of reversals. */
  hours: string;
  coins_earned: bigint;
  /** Wallets rewarded (reversals not counted), and wallets with any reward or its reversal. */
  volunteers: number;
  volunteer_people: number;
  /** Payments to shops minus refunds, net of reversals; wallets that paid or were refunded. */
  coins_spent: bigint;
  payers: number;
  /** Shops paid at least once. */
  shops: number;
}

/**
 * What the neighbourhood did in a period, for the public view (src/app/impact.ts decides what of
 * it may be shown): per local month, per activity category (rewards without an activity count as
 * `other`), and the totals. Counts only, never an account: no id or name leaves this query.
 */
export async function impactRows(sql: Queryable, currency: Currency, bounds: Bounds): Promise<ImpactRow[]> {
  const c = currency.id;
  return sql<ImpactRow[]>`
    WITH RECURSIVE ${movesCtes(sql, c, bounds, ['reward', 'payment', 'refund'])},
    x AS (
      SELECT m.code, m.is_root, m.sign, m.amount, ${monthOf(sql, sql`m.created_at`)} AS month,
             CASE WHEN m.code = 'reward' THEN coalesce(md.md->>'category', act.category, 'other') END AS category,
             CASE m.code WHEN 'payment' THEN m.debit_account_id ELSE m.credit_account_id END AS person,
             CASE m.code WHEN 'payment' THEN m.credit_account_id ELSE m.debit_account_id END AS shop,
             m.sign * CASE WHEN md.md->>'hours' ~ '^[0-9]{1,6}(\\.[0-9]{1,2})?$' THEN (md.md->>'hours')::numeric ELSE 0 END AS hours
      FROM moves m
      LEFT JOIN transfers p ON m.phase = 'post' AND p.currency_id = ${c} AND p.id = m.pending_id
      CROSS JOIN LATERAL (SELECT CASE WHEN m.phase = 'post' THEN coalesce(p.metadata, '{}'::jsonb) || m.metadata ELSE m.metadata END AS md) md
      LEFT JOIN activities act ON m.code = 'reward' AND act.currency_id = ${c} AND act.id::text = md.md->>'activity_id'
    )
    SELECT x.month, x.category,
           (coalesce(sum(x.hours) FILTER (WHERE x.code = 'reward'), 0))::numeric(16, 2)::text AS hours,
           coalesce(sum(x.sign * x.amount) FILTER (WHERE x.code = 'reward'), 0)::bigint AS coins_earned,
           count(DISTINCT x.person) FILTER (WHERE x.code = 'reward' AND x.is_root)::int AS volunteers,
           count(DISTINCT x.person) FILTER (WHERE x.code = 'reward')::int AS volunteer_people,
           (coalesce(sum(x.sign * x.amount) FILTER (WHERE x.code = 'payment'), 0)
             - coalesce(sum(x.sign * x.amount) FILTER (WHERE x.code = 'refund'), 0))::bigint AS coins_spent,
           count(DISTINCT x.person) FILTER (WHERE x.code IN ('payment', 'refund'))::int AS payers,
           count(DISTINCT x.shop) FILTER (WHERE x.code = 'payment' AND x.is_root)::int AS shops
    FROM x
    GROUP BY GROUPING SETS ((x.month), (x.category), ())
    HAVING GROUPING(x.category) = 1 OR x.category IS NOT NULL`;
}

// Streaming ---------------------------------------------------------------------------------

/**
 * How long one export query may run. Far above the pool's statement timeout: a million rows
 * take tens of seconds to stream, more to a slow client (whose reading paces the cursor).
 */
export const export_statement_timeout_ms = 30 * 60 * 1000;

/**
 * The rows of `query`, `batch_rows` at a time, through a server-side cursor: memory holds one
 * batch, whatever the size of the result. The query runs on a reserved connection, in a
 * read-only transaction whose statement timeout is export_statement_timeout_ms; the connection
 * goes back to the pool when the rows end, fail, or the consumer stops early (return()).
 */
export async function* inBatches<T extends object>(
  sql: Sql, query: (q: Queryable) => postgres.PendingQuery<T[]>, batch_rows: number,
): AsyncGenerator<T[]> {
  const reserved = await sql.reserve();
  let open = false;
  let lost = false;
  try {
    await reserved`BEGIN READ ONLY`;
    open = true;
    await reserved`SELECT set_config('statement_timeout', ${String(export_statement_timeout_ms)}, true)`;
    for await (const rows of query(reserved).cursor(batch_rows)) yield rows;
    open = false;
    await reserved`COMMIT`;
  } catch (error) {
    lost = isConnectionLost(error);
    throw error;
  } finally {
    // A lost connection gets nothing more: postgres.js 3.4.9 would write to its null socket
    // (and crash the process), and releasing it would put the dead connection back in the pool
    // (see beginGuarded in client.ts). Unreleased, the pool reconnects it when needed.
    if (!lost) {
      if (open) await reserved`ROLLBACK`.catch(() => {});
      reserved.release();
    }
  }
}

// Transfers export ---------------------------------------------------------------------------

export interface TransferExportRow {
  id: string;
  created_at: Date;
  code: TransferCode;
  phase: TransferPhase;
  status: TransferStatus;
  debit_account_id: string;
  debit_account_name: string;
  credit_account_id: string;
  credit_account_name: string;
  amount: bigint;
  memo: string | null;
  created_by: string;
  pending_id: string | null;
  reverses_id: string | null;
}

/**
 * Every transfer of the currency created in [lo, hi), oldest first, with both account names
 * and the status a client sees (a pending transfer is posted or voided once resolved). A range
 * scan of transfers_by_time; meant to be read with a cursor.
 */
export function transfersQuery(sql: Queryable, currency: Currency, bounds: Bounds): postgres.PendingQuery<TransferExportRow[]> {
  const c = currency.id;
  return sql<TransferExportRow[]>`
    SELECT t.id, t.created_at, t.code, t.phase,
           CASE WHEN t.phase = 'void' THEN 'voided'
                WHEN t.phase = 'pending' THEN CASE r.phase WHEN 'post' THEN 'posted' WHEN 'void' THEN 'voided' ELSE 'pending' END
                ELSE 'posted' END AS status,
           t.debit_account_id, d.name AS debit_account_name,
           t.credit_account_id, k.name AS credit_account_name,
           t.amount, t.memo, t.created_by, t.pending_id, t.reverses_id
    FROM transfers t
    JOIN accounts d ON d.currency_id = t.currency_id AND d.id = t.debit_account_id
    JOIN accounts k ON k.currency_id = t.currency_id AND k.id = t.credit_account_id
    LEFT JOIN transfers r ON t.phase = 'pending' AND r.currency_id = t.currency_id AND r.pending_id = t.id
    WHERE t.currency_id = ${c} AND t.created_at >= ${bounds.lo} AND t.created_at < ${bounds.hi}
    ORDER BY t.created_at, t.id`;
}
