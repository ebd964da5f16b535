import type { Queryable } from './client.js';
import type { CheckResult, Currency, VerifyCheck } from '../ledger/model.js';
import { verifySeals } from './seals.js';
import { allWalletCredits } from './expiry.js';
import { addDays, expiredOf, expiryAmount, localDateOf, lotsOf, validityOf } from '../ledger/expiry.js';

/** Offenders named in a check's detail, at most. */
const offenders_shown_max = 5;

function check(name: VerifyCheck, offenders: string[], ok_detail: string): CheckResult {
  if (offenders.length === 0) return { name, ok: true, detail: ok_detail };
  const shown = offenders.slice(0, offenders_shown_max).join('; ');
  const more = offenders.length > offenders_shown_max ? ` (and ${offenders.length - offenders_shown_max} more)` : '';
  return { name, ok: false, detail: `${shown}${more}` };
}

/**
 * Recomputes the invariants of the ledger on live data for one currency (DESIGN.md 1–6) from
 * the transfers themselves, without trusting the stored balances, every seal of history, and
 * that the expiry runs kept up (as of `now`).
 */
export async function verifyCurrency(sql: Queryable, currency: Currency, now = new Date()): Promise<CheckResult[]> {
  const c = currency.id;
  return Promise.all([
    sumIsZero(sql, c),
    balancesMatchTransfers(sql, c),
    balancesMatchEntries(sql, c),
    noAccountBelowZero(sql, currency),
    appendOnly(sql, c),
    noCrossCurrency(sql, c),
    atMostOnce(sql, c),
    limitsCounted(sql, c),
    verifySeals(sql, currency),
    noCoinsPastValidity(sql, currency, now),
  ]);
}

/** Wallets read at once by the expiry check. */
const expiry_page_wallets = 500;

/**
 * The expiry rule, checked on what wallets hold: no wallet keeps coins that expired before
 * today (the daily run, at whatever hour it runs, has taken everything due by yesterday), unless
 * the run must leave them — a frozen wallet, coins reserved by a pending transfer. It fails when
 * a day's run was missed. The lots and their days come from src/ledger/expiry.ts, as the run's.
 */
async function noCoinsPastValidity(sql: Queryable, currency: Currency, now: Date): Promise<CheckResult> {
  const validity = validityOf(currency);
  const ok = 'no wallet keeps coins past their validity';
  if (validity === undefined) return check('coins_within_validity', [], 'coins never expire in this currency');
  const yesterday = addDays(localDateOf(now), -1);
  const offenders: string[] = [];
  for await (const page of allWalletCredits(sql, currency.id, expiry_page_wallets)) {
    for (const wallet of page) {
      if (wallet.status === 'frozen') continue;
      const expired = expiredOf(lotsOf(wallet.credits, wallet.balance), validity, yesterday);
      const overdue = expired === undefined ? 0n : expiryAmount(expired.amount, wallet.balance - wallet.debits_pending);
      if (overdue > 0n) {
        offenders.push(`wallet ${wallet.account_id} keeps ${overdue} minor units earned ${expired?.earned_from}–${expired?.earned_to}, expired by ${yesterday}`);
      }
    }
  }
  return check('coins_within_validity', offenders, `${ok} (${validity.days} days): the expiry runs kept up`);
}

async function sumIsZero(sql: Queryable, c: number): Promise<CheckResult> {
  const [row] = await sql<{ posted: bigint; pending: bigint }[]>`
    SELECT coalesce(sum(credits_posted - debits_posted), 0)::bigint AS posted,
           coalesce(sum(credits_pending - debits_pending), 0)::bigint AS pending
    FROM accounts WHERE currency_id = ${c}`;
  const offenders = [];
  if (row?.posted !== 0n) offenders.push(`posted balances sum to ${row?.posted} minor units, not 0`);
  if (row?.pending !== 0n) offenders.push(`pending amounts sum to ${row?.pending} minor units, not 0`);
  return check('sum_is_zero', offenders, 'all balances sum to 0');
}

async function balancesMatchTransfers(sql: Queryable, c: number): Promise<CheckResult> {
  const rows = await sql<{ id: string; stored: string; computed: string }[]>`
    WITH moves AS (
      SELECT t.credit_account_id AS account_id,
             CASE WHEN t.phase IN ('single', 'post') THEN t.amount ELSE 0 END AS credit_posted, 0::bigint AS debit_posted,
             CASE WHEN t.phase = 'pending' AND r.id IS NULL THEN t.amount ELSE 0 END AS credit_pending, 0::bigint AS debit_pending
      FROM transfers t LEFT JOIN transfers r ON r.currency_id = t.currency_id AND r.pending_id = t.id
      WHERE t.currency_id = ${c}
      UNION ALL
      SELECT t.debit_account_id, 0, CASE WHEN t.phase IN ('single', 'post') THEN t.amount ELSE 0 END,
             0, CASE WHEN t.phase = 'pending' AND r.id IS NULL THEN t.amount ELSE 0 END
      FROM transfers t LEFT JOIN transfers r ON r.currency_id = t.currency_id AND r.pending_id = t.id
      WHERE t.currency_id = ${c}
    ), sums AS (
      SELECT account_id, sum(credit_posted) AS cp, sum(debit_posted) AS dp,
             sum(credit_pending) AS cpe, sum(debit_pending) AS dpe
      FROM moves GROUP BY account_id
    )
    SELECT a.id,
           format('%s/%s posted, %s/%s pending', a.credits_posted, a.debits_posted, a.credits_pending, a.debits_pending) AS stored,
           format('%s/%s posted, %s/%s pending', coalesce(s.cp, 0), coalesce(s.dp, 0), coalesce(s.cpe, 0), coalesce(s.dpe, 0)) AS computed
    FROM accounts a LEFT JOIN sums s ON s.account_id = a.id
    WHERE a.currency_id = ${c}
      AND (a.credits_posted, a.debits_posted, a.credits_pending, a.debits_pending)
          IS DISTINCT FROM (coalesce(s.cp, 0), coalesce(s.dp, 0), coalesce(s.cpe, 0), coalesce(s.dpe, 0))`;
  return check('balances_match_transfers',
    rows.map((r) => `account ${r.id}: stored credits/debits ${r.stored}, transfers give ${r.computed}`),
    'every account balance equals its credits minus its debits over posted transfers');
}

async function balancesMatchEntries(sql: Queryable, c: number): Promise<CheckResult> {
  const rows = await sql<{ id: string; problem: string }[]>`
    SELECT a.id, format('balance %s, version %s; entries: %s, summing to %s, latest balance_after %s (version %s)',
                        a.credits_posted - a.debits_posted, a.version, e.n, e.total, l.balance_after, l.version) AS problem
    FROM accounts a
    LEFT JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM entries
                       WHERE currency_id = a.currency_id AND account_id = a.id) e ON true
    LEFT JOIN LATERAL (SELECT balance_after, version FROM entries
                       WHERE currency_id = a.currency_id AND account_id = a.id
                       ORDER BY version DESC LIMIT 1) l ON true
    WHERE a.currency_id = ${c}
      AND (e.total <> a.credits_posted - a.debits_posted
           OR e.n <> a.version
           OR coalesce(l.balance_after, 0) <> a.credits_posted - a.debits_posted
           OR coalesce(l.version, 0) <> a.version)`;
  return check('balances_match_entries', rows.map((r) => `account ${r.id}: ${r.problem}`),
    "every balance equals the sum of its entries and its latest entry's balance_after");
}

async function noAccountBelowZero(sql: Queryable, currency: Currency): Promise<CheckResult> {
  const rows = await sql<{ id: string; kind: string; balance: bigint; reserved: bigint }[]>`
    SELECT id, kind, credits_posted - debits_posted AS balance, debits_pending AS reserved
    FROM accounts
    WHERE currency_id = ${currency.id} AND kind <> 'issuance'
      AND (credits_posted - debits_posted - debits_pending < 0
           OR (kind = 'wallet' AND ${currency.wallet_balance_max}::bigint IS NOT NULL
               AND credits_posted + credits_pending - debits_posted > ${currency.wallet_balance_max}::bigint))`;
  return check('balances_within_limits',
    rows.map((r) => `${r.kind} account ${r.id}: balance ${r.balance}, reserved ${r.reserved}`),
    'no account but issuance below zero, no wallet above wallet_balance_max');
}

const append_only_triggers = [
  'transfers_append_only', 'transfers_no_truncate', 'entries_append_only', 'entries_no_truncate',
  'seals_append_only', 'seals_no_truncate', 'audit_log_append_only', 'audit_log_no_truncate', 'claims_append_only',
];

async function appendOnly(sql: Queryable, c: number): Promise<CheckResult> {
  const triggers = await sql<{ tgname: string }[]>`
    SELECT tgname FROM pg_trigger
    WHERE tgname = ANY(${append_only_triggers}) AND tgenabled IN ('O', 'A')`;
  const enabled = new Set(triggers.map((t) => t.tgname));
  const offenders = append_only_triggers.filter((t) => !enabled.has(t)).map((t) => `trigger ${t} missing or disabled`);
  const entries = await sql<{ id: string; problem: string }[]>`
    SELECT t.id, format('%s entries summing to %s, expected 2 summing to 0 (%s)', count(e.*), coalesce(sum(e.amount), 0), t.phase) AS problem
    FROM transfers t
    LEFT JOIN entries e ON e.currency_id = t.currency_id AND e.transfer_id = t.id
    WHERE t.currency_id = ${c}
    GROUP BY t.id, t.phase
    HAVING (t.phase IN ('single', 'post') AND (count(e.*) <> 2 OR sum(e.amount) <> 0
              OR max(e.amount) <> max(t.amount) OR min(e.amount) <> -max(t.amount)))
        OR (t.phase IN ('pending', 'void') AND count(e.*) <> 0)`;
  const orphans = await sql<{ transfer_id: string }[]>`
    SELECT e.transfer_id FROM entries e
    WHERE e.currency_id = ${c}
      AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.currency_id = e.currency_id AND t.id = e.transfer_id)`;
  offenders.push(...entries.map((r) => `transfer ${r.id}: ${r.problem}`));
  offenders.push(...orphans.map((r) => `entry of missing transfer ${r.transfer_id}`));
  return check('history_append_only', offenders,
    'append-only triggers in place; every posted transfer has its two entries and nothing else');
}

async function noCrossCurrency(sql: Queryable, c: number): Promise<CheckResult> {
  const rows = await sql<{ id: string }[]>`
    SELECT t.id FROM transfers t
    WHERE t.currency_id = ${c}
      AND (NOT EXISTS (SELECT 1 FROM accounts a WHERE a.currency_id = t.currency_id AND a.id = t.debit_account_id)
        OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.currency_id = t.currency_id AND a.id = t.credit_account_id))`;
  return check('no_cross_currency', rows.map((r) => `transfer ${r.id} names an account of another currency`),
    'every transfer stays within its currency');
}

/** Invariant 5, recomputed: what the unique keys promise, in case a key was dropped. */
async function atMostOnce(sql: Queryable, c: number): Promise<CheckResult> {
  const rows = await sql<{ problem: string }[]>`
    SELECT format('transfer %s was resolved %s times', pending_id, count(*)) AS problem
      FROM transfers WHERE currency_id = ${c} AND pending_id IS NOT NULL GROUP BY pending_id HAVING count(*) > 1
    UNION ALL
    SELECT format('transfer %s was reversed %s times', reverses_id, count(*))
      FROM transfers WHERE currency_id = ${c} AND reverses_id IS NOT NULL GROUP BY reverses_id HAVING count(*) > 1
    UNION ALL
    SELECT format('transfer id %s is used %s times', id, count(*))
      FROM transfers WHERE currency_id = ${c} GROUP BY id HAVING count(*) > 1
    UNION ALL
    SELECT format('wallet %s claimed session %s %s times', account_id, session_id, count(*))
      FROM claims WHERE currency_id = ${c} GROUP BY session_id, account_id HAVING count(*) > 1
    UNION ALL
    SELECT format('payment request %s was paid %s times', id, count(*))
      FROM payment_requests WHERE currency_id = ${c} AND transfer_id IS NOT NULL GROUP BY id HAVING count(*) > 1`;
  return check('at_most_once', rows.map((r) => r.problem),
    'every transfer id, reversal, resolution, claim and payment happened at most once');
}

/**
 * Gifts and helpers' payments are counted where their limits are kept (volunteer_earnings): per
 * giver all gift counters add up to the gifts given, per wallet and helper all month counters
 * to the payments that helper made from it. A movement that escaped its counter could pass a limit.
 */
async function limitsCounted(sql: Queryable, c: number): Promise<CheckResult> {
  const rows = await sql<{ account: string; what: string; moved: bigint; counted: bigint }[]>`
    WITH moved AS (
      SELECT debit_account_id AS account, CASE WHEN code = 'gift' THEN 'g' ELSE 'h' || (metadata->>'helper_account_id') END AS what,
             sum(amount)::bigint AS moved
      FROM transfers WHERE currency_id = ${c} AND (code = 'gift' OR (code = 'payment' AND metadata ? 'helper_account_id'))
      GROUP BY 1, 2
    ), counted AS (
      SELECT account_id AS account, CASE WHEN period LIKE 'g%' THEN 'g' ELSE substring(period FROM 1 FOR 37) END AS what,
             sum(amount)::bigint AS counted
      FROM volunteer_earnings WHERE currency_id = ${c} AND (period LIKE 'g%' OR period LIKE 'h%')
      GROUP BY 1, 2
    )
    SELECT coalesce(m.account, n.account)::text AS account, coalesce(m.what, n.what) AS what,
           coalesce(m.moved, 0)::bigint AS moved, coalesce(n.counted, 0)::bigint AS counted
    FROM moved m FULL JOIN counted n ON n.account = m.account AND n.what = m.what
    WHERE coalesce(m.moved, 0) <> coalesce(n.counted, 0)`;
  return check('limits_counted', rows.map((r) => `${r.what === 'g' ? 'gifts of' : `payments by helper ${r.what.slice(1)} from`} ${r.account}: `
    + `${r.moved} minor units moved, ${r.counted} counted`), 'every gift and helper\'s payment is counted against its limit');
}
