import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import type { AppContext, AppEnv } from '../context.js';
import { requestLog } from '../context.js';
import { currencyForStaff } from '../lookup.js';
import { Amount, CsvFormatQuery, CurrencyCode, EuroAmount, Uuid, jsonResponse, problems } from '../schemas.js';
import { ValidationError } from '../../ledger/errors.js';
import { euroValue, formatAmount } from '../../ledger/amount.js';
import { csvFileName, csvWriter } from '../../ledger/csv.js';
import { totalIn } from '../../ledger/csv-headers.js';
import type { CsvLanguage } from '../../ledger/csv-headers.js';
import { liability_months_max } from '../../ledger/expiry.js';
import { liabilityAhead } from '../../app/expiry.js';
import type { CsvFormat, CsvLayout, CsvValues } from '../../ledger/csv.js';
import { account_kinds, account_statuses } from '../../ledger/model.js';
import type { Currency } from '../../ledger/model.js';
import {
  balancesQuery, circulationAt, endOfDay, inBatches, periodBounds, report_time_zone, shopsReport, supplyAt, transfersQuery,
  volunteeringReport,
} from '../../db/reports.js';
import type { BalanceRow, ShopMonthRow, ShopsGroup, TransferExportRow, VolunteeringGroup, VolunteeringRow } from '../../db/reports.js';
import { localDayIn } from '../../ledger/local-day.js';

/**
 * Reports of a currency for its coordinators (JSON), and the same as CSV, streamed: rows are
 * read from the database with a cursor and written as they come, so an export of any size
 * keeps the server's memory flat.
 */
export const reportRoutes = new OpenAPIHono<AppEnv>();

// Periods and dates -------------------------------------------------------------------------

/** The longest period a report may span, in years. */
export const report_years_max = 10;
/** Rows per cursor batch of a CSV export (one write to the response per batch). */
const export_batch_rows = 1000;

const LocalDate = z.string().regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, 'a date such as 2025-01-31').openapi({
  description: `A local day (${report_time_zone}), YYYY-MM-DD`, example: '2025-01-31',
});
const PeriodQuery = z.object({
  from: LocalDate.optional().openapi({ description: 'First day, inclusive (default: 1 January of the year of `to`, or of this year)' }),
  to: LocalDate.optional().openapi({ description: 'Last day, inclusive (default: 31 December of the year of `from`, or of this year)' }),
});
const AtQuery = z.object({
  at: LocalDate.optional().openapi({ description: 'The day at whose end to report (default: today)' }),
});
const CodeParam = z.object({ code: z.string().max(20) });

/** Today in Belgium, YYYY-MM-DD. */
function localToday(): string {
  return localDayIn(report_time_zone, new Date());
}

/** A calendar date that exists (no 2025-02-30), in years 1900–9999. */
function checkDate(value: string, path: string): string {
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    throw new ValidationError([{ path, message: 'not a calendar date' }]);
  }
  return value;
}

export interface Period {
  from: string;
  to: string;
}

/**
 * The period of a report: both days inclusive, the current year by default; 422 when `from`
 * is after `to` or the period spans more than report_years_max years.
 */
export function parsePeriod(query: { from?: string | undefined; to?: string | undefined }, today = localToday()): Period {
  const from_in = query.from === undefined ? undefined : checkDate(query.from, 'from');
  const to_in = query.to === undefined ? undefined : checkDate(query.to, 'to');
  const from = from_in ?? `${(to_in ?? today).slice(0, 4)}-01-01`;
  const to = to_in ?? `${(from_in ?? today).slice(0, 4)}-12-31`;
  // YYYY-MM-DD strings order like the days they name.
  if (from > to) throw new ValidationError([{ path: 'to', message: 'must not be before from' }]);
  const limit = `${String(Number(from.slice(0, 4)) + report_years_max).padStart(4, '0')}${from.slice(4)}`;
  if (to >= limit) {
    throw new ValidationError([{ path: 'to', message: `a period may span at most ${report_years_max} years` }]);
  }
  return { from, to };
}

/**
 * The day each month of the period is counted at: its last day, or the period's last day, or
 * today, whichever comes first. Months that start after today are left out (nothing is known of
 * them yet).
 */
export function monthEnds(period: Period, today = localToday()): Array<{ month: string; day: string }> {
  const ends: Array<{ month: string; day: string }> = [];
  const stop = period.to < today ? period.to : today;
  let [year, month] = period.from.split('-').map(Number) as [number, number];
  for (;;) {
    const name = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    if (`${name}-01` > stop) break;
    const last = `${name}-${String(new Date(Date.UTC(year, month, 0)).getUTCDate()).padStart(2, '0')}`;
    ends.push({ month: name, day: last < stop ? last : stop });
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  }
  return ends;
}

function parseAt(at: string | undefined): string {
  return at === undefined ? localToday() : checkDate(at, 'at');
}

// CSV streaming -----------------------------------------------------------------------------

async function* mapBatches<T>(source: AsyncIterable<T[]>, toValues: (row: T) => CsvValues): AsyncGenerator<CsvValues[]> {
  for await (const batch of source) yield batch.map(toValues);
}

async function* oneBatch(rows: CsvValues[]): AsyncGenerator<CsvValues[]> {
  yield rows;
}

/** The streaming writer's own stream, to fail the response when an export breaks midway. */
type StreamWithWriter = { writer?: WritableStreamDefaultWriter<Uint8Array> };

/**
 * Answers with a CSV in `format` (its header in `language` when asked), named `name` (csvFileName), streamed batch by batch: the header, then each batch of records
 * as one write, awaited (backpressure: a slow client slows the cursor, never fills memory). The
 * first batch is read before answering, so a failing query is still a problem+json 500. A failure
 * later aborts the response instead of ending it cleanly, so a cut-off file never looks complete.
 * A client that goes away stops the cursor.
 */
export async function streamCsv(
  c: AppContext, name: string, layout: CsvLayout, batches: AsyncIterable<CsvValues[]>, format: CsvFormat = 'csv', language?: CsvLanguage,
): Promise<Response> {
  const writer = csvWriter(layout, format, language);
  const filename = csvFileName(name, format);
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${filename}"`);
  c.header('Cache-Control', 'private, no-store');
  return stream(c, async (out) => {
    let finished = false;
    try {
      await out.write(writer.start);
      let next = first;
      while (next.done !== true && !out.aborted) {
        await out.write(next.value.map(writer.row).join(''));
        next = await iterator.next();
      }
      finished = next.done === true;
    } catch (error) {
      requestLog(c).error({ err: error, filename }, 'CSV export failed midway');
      const writer = (out as unknown as StreamWithWriter).writer;
      if (writer === undefined) out.abort();
      else await writer.abort(error).catch(() => {});
      finished = true;
    } finally {
      // Stopped early (client gone): close the cursor and give its connection back.
      if (!finished) await iterator.return?.(undefined).catch(() => {});
    }
  });
}

const CsvResponse = {
  description: 'CSV, streamed: RFC 4180 (`format=csv`, the default), or for Excel in Belgian conventions (`format=excel`: '
    + '`;` separator, decimal comma in the amount, euro and hour columns, UTF-8 byte order mark); CRLF in both',
  content: { 'text/csv': { schema: z.string() } },
};

// Supply -------------------------------------------------------------------------------------

const SupplyOut = z.object({
  currency: CurrencyCode, at: z.string(),
  issued: Amount, redeemed: Amount, in_programmes: Amount, in_wallets: Amount, in_shops: Amount,
  circulating: Amount, euro_liability: EuroAmount,
}).openapi('SupplyReport');

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/reports/supply', tags: ['reports'],
  summary: 'Where the coins were at the end of a day: issued, redeemed, held by programmes, wallets and shops, and the euro liability',
  request: { params: CodeParam, query: AtQuery },
  responses: { 200: jsonResponse(SupplyOut, 'Supply at the end of the day'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const at = parseAt(c.req.valid('query').at);
  const sql = c.get('deps').sql;
  const supply = await supplyAt(sql, currency, await endOfDay(sql, at));
  const circulating = supply.in_wallets + supply.in_shops;
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  return c.json({
    currency: currency.code, at,
    issued: f(supply.issued), redeemed: f(supply.redeemed),
    in_programmes: f(supply.in_programmes), in_wallets: f(supply.in_wallets), in_shops: f(supply.in_shops),
    circulating: f(circulating), euro_liability: euroValue(circulating, currency.scale, currency.euro_per_unit),
  }, 200);
});

// Circulation per month ----------------------------------------------------------------------

const CirculationMonth = z.object({
  month: z.string().openapi({ description: 'YYYY-MM, a local month', example: '2026-03' }),
  at: z.string().openapi({ description: 'The day at whose end the coins were counted: the month\'s last day, the period\'s, or today', example: '2026-03-31' }),
  in_programmes: Amount, in_wallets: Amount, in_shops: Amount,
  circulating: Amount.openapi({ description: 'in_wallets + in_shops' }),
  euro_liability: EuroAmount.openapi({ description: 'circulating × euro_per_unit, rounded to the cent (half to even)' }),
});

const CirculationOut = z.object({
  currency: CurrencyCode, from: z.string(), to: z.string(), months: z.array(CirculationMonth),
}).openapi('CirculationReport');

/** Where the coins were at the end of each month of a period (see monthEnds). */
async function circulation(c: AppContext, code: string, query: z.infer<typeof PeriodQuery>) {
  const { currency } = await currencyForStaff(c, code);
  const period = parsePeriod(query);
  const ends = monthEnds(period);
  const rows = await circulationAt(c.get('deps').sql, currency, ends.map((e) => e.day));
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  return {
    currency: currency.code, from: period.from, to: period.to,
    months: ends.map((end, i) => {
      const row = rows[i];
      if (row === undefined || row.day !== end.day) throw new Error('circulationAt answers each day, in order');
      const circulating = row.in_wallets + row.in_shops;
      return {
        month: end.month, at: end.day, in_programmes: f(row.in_programmes), in_wallets: f(row.in_wallets), in_shops: f(row.in_shops),
        circulating: f(circulating), euro_liability: euroValue(circulating, currency.scale, currency.euro_per_unit),
      };
    }),
  };
}

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/reports/circulation', tags: ['reports'],
  summary: 'Per month of a period: the coins held by programmes, wallets and shops at its end, those in circulation and their euro value',
  request: { params: CodeParam, query: PeriodQuery },
  responses: { 200: jsonResponse(CirculationOut, 'Month by month, up to this month'), ...problems(401, 403, 404, 422) },
}), async (c) => c.json(await circulation(c, c.req.valid('param').code, c.req.valid('query')), 200));

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/exports/circulation.csv', tags: ['reports'],
  summary: 'The circulation per month of a period as CSV, as the circulation report',
  request: { params: CodeParam, query: PeriodQuery.extend(CsvFormatQuery.shape) },
  responses: { 200: CsvResponse, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const query = c.req.valid('query');
  const report = await circulation(c, c.req.valid('param').code, query);
  const columns = ['in_programmes', 'in_wallets', 'in_shops', 'circulating', 'euro_liability'] as const;
  return streamCsv(c, `circulation-${report.currency}-${report.from}-${report.to}`, { header: ['month', 'at', ...columns], decimals: [...columns] },
    oneBatch(report.months.map((m) => [m.month, m.at, ...columns.map((column) => m[column])])), query.format, query.lang) as never;
});

// The city's bill ahead ---------------------------------------------------------------------

const LiabilityQuery = z.object({
  months: z.coerce.number().int().min(1).max(liability_months_max).default(12)
    .openapi({ description: `Months ahead, this one first (1–${liability_months_max}, default 12)` }),
});

const LiabilityMonth = z.object({
  month: z.string().openapi({ description: 'YYYY-MM, a local month', example: '2026-03' }),
  in_wallets: Amount.openapi({ description: 'Coins in wallets at the end of the month, if nothing but expiry moved them' }),
  in_shops: Amount.openapi({ description: 'Coins in shops (they never expire): as now' }),
  expiring: Amount.openapi({
    description: 'Coins of wallets that expire during the month (in this month: from today on, with those expired but not yet taken back)',
  }),
  circulating: Amount.openapi({ description: 'in_wallets + in_shops: what could be cashed in at the end of the month' }),
  euro_liability: EuroAmount.openapi({ description: 'circulating × euro_per_unit, exact, rounded to the cent only beyond it' }),
});

const LiabilityOut = z.object({
  currency: CurrencyCode, today: z.string(), validity_days: z.number().int().nullable(),
  now: z.object({ in_programmes: Amount, in_wallets: Amount, in_shops: Amount, circulating: Amount, euro_liability: EuroAmount }),
  months: z.array(LiabilityMonth),
}).openapi('LiabilityReport');

/** The liability report of the currency named `code`, formatted: the JSON report and its CSV. */
async function liability(c: AppContext, code: string, months: number) {
  const { currency } = await currencyForStaff(c, code);
  const report = await liabilityAhead({ sql: c.get('deps').sql }, currency, months);
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  const euros = (minor: bigint) => euroValue(minor, currency.scale, currency.euro_per_unit);
  const { supply } = report;
  const circulating = supply.in_wallets + supply.in_shops;
  return {
    currency: currency.code, today: report.today, validity_days: currency.validity_days,
    now: {
      in_programmes: f(supply.in_programmes), in_wallets: f(supply.in_wallets), in_shops: f(supply.in_shops),
      circulating: f(circulating), euro_liability: euros(circulating),
    },
    months: report.months.map((m) => ({
      month: m.month, in_wallets: f(m.in_wallets), in_shops: f(supply.in_shops), expiring: f(m.expiring),
      circulating: f(m.in_wallets + supply.in_shops), euro_liability: euros(m.in_wallets + supply.in_shops),
    })),
  };
}

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/reports/liability', tags: ['reports'],
  summary: 'The city\'s bill ahead: per month, the coins in wallets and shops, the coins expected to expire, and the euro liability',
  request: { params: CodeParam, query: LiabilityQuery },
  responses: { 200: jsonResponse(LiabilityOut, 'Month by month, this month first'), ...problems(401, 403, 404, 422) },
}), async (c) => c.json(await liability(c, c.req.valid('param').code, c.req.valid('query').months), 200));

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/exports/liability.csv', tags: ['reports'],
  summary: 'The city\'s bill ahead as CSV: one row per month ahead, this month first, as the liability report',
  request: { params: CodeParam, query: LiabilityQuery.extend(CsvFormatQuery.shape) },
  responses: { 200: CsvResponse, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const query = c.req.valid('query');
  const report = await liability(c, c.req.valid('param').code, query.months);
  const columns = ['in_wallets', 'in_shops', 'expiring', 'circulating', 'euro_liability'] as const;
  return streamCsv(c, `liability-${report.currency}-${report.today}`, { header: ['month', ...columns], decimals: [...columns] },
    oneBatch(report.months.map((m) => [m.month, ...columns.map((column) => m[column])])), query.format, query.lang) as never;
});

// Volunteering -------------------------------------------------------------------------------

const VolunteeringQuery = PeriodQuery.extend({
  group: z.enum(['activity', 'category', 'month']).default('activity'),
});

const VolunteeringMeasures = z.object({
  hours: z.string().openapi({ example: '12.50' }),
  coins: Amount,
  rewards: z.number().int().openapi({ description: 'Rewards made, minus reversals of rewards, in the period' }),
  volunteers: z.number().int().openapi({ description: 'Distinct wallets with a reward in the period that was not reversed' }),
  first_time_volunteers: z.number().int().openapi({ description: 'Wallets whose first (unreversed) reward ever is in the period, counted in its group' }),
});

const VolunteeringItem = VolunteeringMeasures.extend({
  key: z.string().nullable().openapi({ description: 'The activity id, category or month (YYYY-MM); null for rewards without a known activity' }),
  activity: z.object({ id: Uuid, name: z.record(z.string(), z.string()), category: z.string() }).nullable().optional(),
});

const VolunteeringOut = z.object({
  currency: CurrencyCode, from: z.string(), to: z.string(), group: z.enum(['activity', 'category', 'month']),
  items: z.array(VolunteeringItem), totals: VolunteeringMeasures,
}).openapi('VolunteeringReport');

function volunteeringMeasures(row: VolunteeringRow, currency: Currency) {
  return {
    hours: row.hours, coins: formatAmount(row.coins, currency.scale), rewards: row.rewards,
    volunteers: row.volunteers, first_time_volunteers: row.first_time_volunteers,
  };
}

async function volunteering(c: AppContext, code: string, query: z.infer<typeof VolunteeringQuery>) {
  const { currency } = await currencyForStaff(c, code);
  const period = parsePeriod(query);
  const sql = c.get('deps').sql;
  const rows = await volunteeringReport(sql, currency, await periodBounds(sql, period.from, period.to), query.group);
  const totals = rows.find((r) => !r.is_group);
  if (totals === undefined) throw new Error('the volunteering report has a totals row');
  return { currency, period, group: query.group as VolunteeringGroup, items: rows.filter((r) => r.is_group), totals };
}

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/reports/volunteering', tags: ['reports'],
  summary: 'Hours, coins, rewards and volunteers per activity, category or month of a period (aggregates only: no names)',
  request: { params: CodeParam, query: VolunteeringQuery },
  responses: { 200: jsonResponse(VolunteeringOut, 'Volunteering in the period'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const report = await volunteering(c, c.req.valid('param').code, c.req.valid('query'));
  const { currency } = report;
  return c.json({
    currency: currency.code, from: report.period.from, to: report.period.to, group: report.group,
    items: report.items.map((row) => ({
      key: row.key,
      ...(report.group === 'activity' ? {
        activity: row.key === null || row.activity_name === null || row.activity_category === null
          ? null : { id: row.key, name: row.activity_name, category: row.activity_category },
      } : {}),
      ...volunteeringMeasures(row, currency),
    })),
    totals: volunteeringMeasures(report.totals, currency),
  }, 200);
});

// Shops --------------------------------------------------------------------------------------

const ShopMeasures = z.object({
  payments: z.number().int(), takings: Amount, refunds: Amount, net: Amount,
  redemptions_requested: Amount, redemptions_approved: Amount, redemptions_rejected: Amount,
  euros_paid_out: EuroAmount,
});

const shops_groups = ['shop_month', 'shop', 'month'] as const;

const ShopsQuery = PeriodQuery.extend({
  group: z.enum(shops_groups).default('shop_month').openapi({
    description: 'One row per shop and month (default), per shop (the whole period), or per month (all shops together)',
  }),
});

const ShopsOut = z.object({
  currency: CurrencyCode, from: z.string(), to: z.string(), group: z.enum(shops_groups),
  items: z.array(ShopMeasures.extend({
    shop: z.object({ account: Uuid, name: z.string() }).optional()
      .openapi({ description: 'The shop (group `shop_month` and `shop`)' }),
    month: z.string().optional().openapi({ description: 'YYYY-MM, a local month (group `shop_month` and `month`)' }),
  })),
  totals: ShopMeasures,
}).openapi('ShopsReport');

function shopMeasures(row: ShopMonthRow, currency: Currency) {
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  return {
    payments: row.payments, takings: f(row.takings), refunds: f(row.refunds), net: f(row.takings - row.refunds),
    redemptions_requested: f(row.redemptions_requested), redemptions_approved: f(row.redemptions_approved),
    redemptions_rejected: f(row.redemptions_rejected), euros_paid_out: row.euros_paid_out,
  };
}

async function shops(c: AppContext, code: string, query: z.infer<typeof ShopsQuery>) {
  const { currency } = await currencyForStaff(c, code);
  const period = parsePeriod(query);
  const sql = c.get('deps').sql;
  const group: ShopsGroup = query.group;
  const rows = await shopsReport(sql, currency, await periodBounds(sql, period.from, period.to), group);
  const totals = rows.find((r) => !r.is_group);
  if (totals === undefined) throw new Error('the shops report has a totals row');
  return { currency, period, group, items: rows.filter((r) => r.is_group), totals };
}

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/reports/shops', tags: ['reports'],
  summary: 'Per shop and month (or per shop, or per month): takings, refunds, net, cash-outs requested, approved and rejected, euros paid out',
  request: { params: CodeParam, query: ShopsQuery },
  responses: { 200: jsonResponse(ShopsOut, 'Shops in the period'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const report = await shops(c, c.req.valid('param').code, c.req.valid('query'));
  const { currency } = report;
  return c.json({
    currency: currency.code, from: report.period.from, to: report.period.to, group: report.group,
    items: report.items.map((row) => ({
      ...(report.group === 'month' ? {} : { shop: { account: row.shop_account_id ?? '', name: row.shop_name ?? '' } }),
      ...(report.group === 'shop' ? {} : { month: row.month ?? '' }),
      ...shopMeasures(row, currency),
    })),
    totals: shopMeasures(report.totals, currency),
  }, 200);
});

// Balances at a date -------------------------------------------------------------------------

const BalancesOut = z.object({
  currency: CurrencyCode, at: z.string(),
  items: z.array(z.object({
    account: Uuid, kind: z.enum(account_kinds), name: z.string(), status: z.enum(account_statuses), balance: Amount,
  })),
  totals: z.object({ issuance: Amount, programmes: Amount, shops: Amount, wallets: Amount }),
}).openapi('BalancesReport');

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/reports/balances', tags: ['reports'],
  summary: 'Every account\'s posted balance at the end of a day, from the entries',
  request: { params: CodeParam, query: AtQuery },
  responses: { 200: jsonResponse(BalancesOut, 'Balances at the end of the day'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const at = parseAt(c.req.valid('query').at);
  const sql = c.get('deps').sql;
  const rows = await balancesQuery(sql, currency, await endOfDay(sql, at));
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  const total = (kind: BalanceRow['kind']) => rows.reduce((sum, r) => (r.kind === kind ? sum + r.balance : sum), 0n);
  return c.json({
    currency: currency.code, at,
    items: rows.map((r) => ({ account: r.account_id, kind: r.kind, name: r.name, status: r.status, balance: f(r.balance) })),
    totals: { issuance: f(total('issuance')), programmes: f(total('programme')), shops: f(total('shop')), wallets: f(total('wallet')) },
  }, 200);
});

// CSV exports --------------------------------------------------------------------------------

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/exports/transfers.csv', tags: ['reports'],
  summary: 'Every transfer of a period as CSV, oldest first, streamed',
  request: { params: CodeParam, query: PeriodQuery.extend(CsvFormatQuery.shape) },
  responses: { 200: CsvResponse, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const query = c.req.valid('query');
  const period = parsePeriod(query);
  const sql = c.get('deps').sql;
  const bounds = await periodBounds(sql, period.from, period.to);
  const rows = inBatches(sql, (q) => transfersQuery(q, currency, bounds), export_batch_rows);
  return streamCsv(c, `transfers-${currency.code}-${period.from}-${period.to}`, {
    header: [
      'id', 'created_at', 'code', 'phase', 'status', 'debit_account_id', 'debit_account_name',
      'credit_account_id', 'credit_account_name', 'amount', 'memo', 'created_by', 'pending_id', 'reverses_id',
    ],
    decimals: ['amount'],
  }, mapBatches(rows, (t: TransferExportRow) => [
    t.id, t.created_at.toISOString(), t.code, t.phase, t.status, t.debit_account_id, t.debit_account_name,
    t.credit_account_id, t.credit_account_name, formatAmount(t.amount, currency.scale), t.memo, t.created_by,
    t.pending_id, t.reverses_id,
  ]), query.format, query.lang) as never;
});

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/exports/balances.csv', tags: ['reports'],
  summary: 'Every account\'s balance at the end of a day as CSV, streamed',
  request: { params: CodeParam, query: AtQuery.extend(CsvFormatQuery.shape) },
  responses: { 200: CsvResponse, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const query = c.req.valid('query');
  const at = parseAt(query.at);
  const sql = c.get('deps').sql;
  const before = await endOfDay(sql, at);
  const rows = inBatches(sql, (q) => balancesQuery(q, currency, before), export_batch_rows);
  return streamCsv(c, `balances-${currency.code}-${at}`, { header: ['account_id', 'kind', 'name', 'status', 'balance'], decimals: ['balance'] },
    mapBatches(rows, (r: BalanceRow) => [r.account_id, r.kind, r.name, r.status, formatAmount(r.balance, currency.scale)]), query.format, query.lang) as never;
});

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/exports/volunteering.csv', tags: ['reports'],
  summary: 'The volunteering report as CSV (aggregates only), with a last row "total"',
  request: { params: CodeParam, query: VolunteeringQuery.extend(CsvFormatQuery.shape) },
  responses: { 200: CsvResponse, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const query = c.req.valid('query');
  const report = await volunteering(c, c.req.valid('param').code, query);
  const { currency, group } = report;
  const keys = group === 'activity' ? ['activity_id', 'activity_nl', 'activity_en', 'activity_fr', 'category'] : [group];
  const measures = (row: VolunteeringRow): CsvValues => {
    const m = volunteeringMeasures(row, currency);
    return [m.hours, m.coins, String(m.rewards), String(m.volunteers), String(m.first_time_volunteers)];
  };
  const keyValues = (row: VolunteeringRow): CsvValues => group === 'activity'
    ? [row.key, row.activity_name?.nl ?? null, row.activity_name?.en ?? null, row.activity_name?.fr ?? null, row.activity_category]
    : [row.key];
  const blank = keys.slice(1).map(() => null);
  return streamCsv(c, `volunteering-${currency.code}-${group}-${report.period.from}-${report.period.to}`,
    { header: [...keys, 'hours', 'coins', 'rewards', 'volunteers', 'first_time_volunteers'], decimals: ['hours', 'coins'] },
    oneBatch([
      ...report.items.map((row) => [...keyValues(row), ...measures(row)]),
      [totalIn(query.lang), ...blank, ...measures(report.totals)],
    ]), query.format, query.lang) as never;
});

reportRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/exports/shops.csv', tags: ['reports'],
  summary: 'The shops report as CSV, one row per shop and month (or per shop, or per month), with a last row "total"',
  request: { params: CodeParam, query: ShopsQuery.extend(CsvFormatQuery.shape) },
  responses: { 200: CsvResponse, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const query = c.req.valid('query');
  const report = await shops(c, c.req.valid('param').code, query);
  const { currency, group } = report;
  const measures = (row: ShopMonthRow): CsvValues => {
    const m = shopMeasures(row, currency);
    return [String(m.payments), m.takings, m.refunds, m.net, m.redemptions_requested, m.redemptions_approved,
      m.redemptions_rejected, m.euros_paid_out];
  };
  const keys = [...(group === 'month' ? [] : ['shop_account_id', 'shop_name']), ...(group === 'shop' ? [] : ['month'])];
  const keyValues = (row: ShopMonthRow): CsvValues => [
    ...(group === 'month' ? [] : [row.shop_account_id, row.shop_name]), ...(group === 'shop' ? [] : [row.month]),
  ];
  // The default keeps the name it always had; the other groupings say theirs, as volunteering.csv does.
  const name = `shops-${currency.code}${group === 'shop_month' ? '' : `-${group}`}-${report.period.from}-${report.period.to}`;
  return streamCsv(c, name, {
    header: [
      ...keys, 'payments', 'takings', 'refunds', 'net',
      'redemptions_requested', 'redemptions_approved', 'redemptions_rejected', 'euros_paid_out',
    ],
    decimals: ['takings', 'refunds', 'net', 'redemptions_requested', 'redemptions_approved', 'redemptions_rejected', 'euros_paid_out'],
  }, oneBatch([
    ...report.items.map((row) => [...keyValues(row), ...measures(row)]),
    [totalIn(query.lang), ...keys.slice(1).map(() => null), ...measures(report.totals)],
  ]), query.format, query.lang) as never;
});
