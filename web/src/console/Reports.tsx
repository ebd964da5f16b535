/**
 * The reports page (/console/reports, #19 point 1 and #20 point 2): a period (this month, last
 * month, this year, from … to …), its figures, charts per month (with the coins in circulation
 * at each month's end), per kind of activity and per shop, the city's bill for the months ahead,
 * and each report as a CSV download (also in the Excel form). Every figure comes from the reports
 * API as it is; the page computes nothing but the returning volunteers (volunteers − first-timers,
 * counts), zeros for months without movements, and the bars' heights.
 * Loaded as its own chunk, so the console's first load does not grow.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { consoleApi, fetchRaw } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, formatDay, formatNumber, intlTag, locale, t } from '../i18n/index.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { categoryName } from './Activities.js';
import { BarChart } from './BarChart.js';
import type { ChartSeries } from './BarChart.js';
import { monthsOf, periodOf } from './periods.js';
import type { Period, PeriodChoice } from './periods.js';
import { ConsolePage } from './Shell.js';
import './reports.css';
import { Amount, Btn, Field, Panel, formatEuro } from './ui.js';
import { currency, fieldError, saveDownload, todayInBelgium } from './state.js';
import type { Currency } from './state.js';
import { formatHours } from '../lib/hours.js';

type Volunteering = ResponseOf<'/currencies/{code}/reports/volunteering', 'get'>;
type Shops = ResponseOf<'/currencies/{code}/reports/shops', 'get'>;
type Supply = ResponseOf<'/currencies/{code}/reports/supply', 'get'>;
type Liability = ResponseOf<'/currencies/{code}/reports/liability', 'get'>;
type Circulation = ResponseOf<'/currencies/{code}/reports/circulation', 'get'>;
type VolunteeringMeasures = Volunteering['totals'];
type ShopMeasures = Shops['totals'];

/** Everything the page shows of one period. */
interface Reports {
  period: Period;
  /** The day the coins in circulation are counted at: the period's last day, or today if that is later. */
  at: string;
  months: Volunteering;
  categories: Volunteering;
  shops: Shops;
  shop_months: Shops;
  supply: Supply;
  circulation: Circulation;
}

/** The months ahead in the liability chart. */
const liability_months = 12;

/** A period as a query: a field left empty is left out, so the server's default applies. */
function periodParams(period: Period): { from?: string; to?: string } {
  return { ...(period.from === '' ? {} : { from: period.from }), ...(period.to === '' ? {} : { to: period.to }) };
}

async function loadReports(code: string, asked: Period): Promise<Reports> {
  const path = { code };
  // The server's period (its defaults and checks) is the one shown and asked for the rest.
  const months = await consoleApi.get('/currencies/{code}/reports/volunteering', { path, query: { ...periodParams(asked), group: 'month' } });
  const period = { from: months.from, to: months.to };
  const today = todayInBelgium();
  const at = period.to < today ? period.to : today;
  const [categories, shops, shop_months, supply, circulation] = await Promise.all([
    consoleApi.get('/currencies/{code}/reports/volunteering', { path, query: { ...period, group: 'category' } }),
    consoleApi.get('/currencies/{code}/reports/shops', { path, query: { ...period, group: 'shop' } }),
    consoleApi.get('/currencies/{code}/reports/shops', { path, query: { ...period, group: 'month' } }),
    consoleApi.get('/currencies/{code}/reports/supply', { path, query: { at } }),
    consoleApi.get('/currencies/{code}/reports/circulation', { path, query: period }),
  ]);
  return { period, at, months, categories, shops, shop_months, supply, circulation };
}

/** A local month 'YYYY-MM' in the console's language: "december 2026", or "dec" in a chart's label. */
function formatMonth(month: string, style: 'long' | 'short'): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  const options: Intl.DateTimeFormatOptions = style === 'long' ? { month: 'long', year: 'numeric', timeZone: 'UTC' } : { month: 'short', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(intlTag.value, options).format(new Date(Date.UTC(year, m - 1, 1)));
}

const returning = (m: VolunteeringMeasures) => m.volunteers - m.first_time_volunteers;

// Downloads ---------------------------------------------------------------------------------

interface DownloadFile { id: string; label: string; path: string; query: string }

function Downloads({ code, files }: { code: string; files: DownloadFile[] }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const get = (file: DownloadFile, format: 'csv' | 'excel') => {
    setBusy(true);
    setError(undefined);
    const path = `/currencies/${encodeURIComponent(code)}/exports/${file.path}?${file.query}&format=${format}&lang=${locale.value}`;
    fetchRaw('console', path)
      .then((response) => saveDownload(response, `${file.id}.csv`))
      .catch(setError)
      .finally(() => setBusy(false));
  };
  return (
    <div class="report-downloads">
      <ul class="plain-list">
        {files.map((file) => (
          <li key={file.id}>
            <span>{file.label}</span>
            <span class="button-row">
              <Btn small variant="secondary" icon="download" disabled={busy} onClick={() => get(file, 'csv')} data-testid={`download-${file.id}-csv`}
                aria-label={`${file.label}: ${t('console.download_csv')}`}>{t('console.download_csv')}</Btn>
              <Btn small variant="secondary" icon="download" disabled={busy} onClick={() => get(file, 'excel')} data-testid={`download-${file.id}-excel`}
                title={t('console.download_excel_hint')} aria-label={`${file.label}: ${t('console.download_excel')}`}>{t('console.download_excel')}</Btn>
            </span>
          </li>
        ))}
      </ul>
      {error !== undefined && <div data-testid="download-error"><ProblemAlert error={error} /></div>}
    </div>
  );
}

const periodQuery = (period: Period, group?: string) => `from=${period.from}&to=${period.to}${group === undefined ? '' : `&group=${group}`}`;

// The period --------------------------------------------------------------------------------

const choices: Array<Exclude<PeriodChoice, 'custom'>> = ['this_month', 'last_month', 'this_year'];

function PeriodPicker({ choice, period, error, onChoose }: {
  choice: PeriodChoice; period: Period; error: unknown; onChoose: (choice: PeriodChoice, period: Period) => void;
}) {
  const [from, setFrom] = useState(period.from);
  const [to, setTo] = useState(period.to);
  useEffect(() => {
    setFrom(period.from);
    setTo(period.to);
  }, [period.from, period.to]);
  return (
    <div class="report-period" role="group" aria-label={t('console.reports_period')}>
      <div class="button-row">
        {choices.map((c) => (
          <Btn key={c} small variant={choice === c ? 'primary' : 'secondary'} aria-pressed={choice === c} data-testid={`period-${c}`}
            onClick={() => onChoose(c, periodOf(c, todayInBelgium()))}>{t(`console.reports_${c}`)}</Btn>
        ))}
      </div>
      <form class="report-custom" noValidate data-testid="period-custom"
        onSubmit={(event) => {
          event.preventDefault();
          onChoose('custom', { from, to });
        }}>
        <Field label={t('console.reports_from')} error={fieldError(error, 'from') === undefined ? undefined : t('console.reports_from_invalid')}>
          {(attrs) => <input type="date" {...attrs} value={from} data-testid="period-from" onInput={(e) => setFrom(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.reports_to')} error={fieldError(error, 'to') === undefined ? undefined : t('console.reports_to_invalid')}>
          {(attrs) => <input type="date" {...attrs} value={to} data-testid="period-to" onInput={(e) => setTo(e.currentTarget.value)} />}
        </Field>
        <Btn type="submit" variant={choice === 'custom' ? 'primary' : 'secondary'} icon="calendar" data-testid="period-apply">{t('console.reports_show')}</Btn>
      </form>
    </div>
  );
}

// Figures -----------------------------------------------------------------------------------

function Stat({ label, children, testid, hint }: { label: string; children: ComponentChildren; testid: string; hint?: string }) {
  return (
    <div class="stat" data-testid={testid}>
      <dt>{label}</dt>
      <dd>{children}</dd>
      {hint !== undefined && <dd class="stat-hint" data-testid={`${testid}-hint`}>{hint}</dd>}
    </div>
  );
}

function Figures({ reports, cur }: { reports: Reports; cur: Currency }) {
  const v = reports.months.totals;
  const s = reports.shops.totals;
  const day = formatDay(reports.at);
  return (
    <dl class="stats" data-testid="report-figures">
      <Stat label={t('console.reports_hours')} testid="fig-hours" hint={t('console.reports_hours_hint', { count: v.rewards })}>
        <span data-value={v.hours}>{formatHours(v.hours)}</span>
      </Stat>
      <Stat label={t('console.reports_coins')} testid="fig-coins" hint={t('console.reports_coins_hint')}>
        <Amount value={v.coins} currency={cur.code} />
      </Stat>
      <Stat label={t('console.reports_volunteers')} testid="fig-volunteers"
        hint={t('console.reports_volunteers_hint', { new: v.first_time_volunteers, returning: returning(v) })}>
        <span data-count={v.volunteers} data-new={v.first_time_volunteers} data-returning={returning(v)}>{formatNumber(String(v.volunteers))}</span>
      </Stat>
      <Stat label={t('console.reports_takings')} testid="fig-takings"
        hint={t('console.reports_takings_hint', { count: s.payments, refunds: formatAmount(s.refunds, cur.code) })}>
        <Amount value={s.takings} currency={cur.code} />
      </Stat>
      <Stat label={t('console.reports_cashouts')} testid="fig-cashouts" hint={t('console.reports_cashouts_hint', { euros: formatEuro(s.euros_paid_out) })}>
        <Amount value={s.redemptions_approved} currency={cur.code} />
      </Stat>
      <Stat label={t('console.reports_circulating', { day })} testid="fig-circulating" hint={t('console.reports_circulating_hint')}>
        <Amount value={reports.supply.circulating} currency={cur.code} />
      </Stat>
      <Stat label={t('console.reports_euro_value', { day })} testid="fig-euro" hint={t('console.reports_euro_value_hint', { rate: formatEuro(cur.euro_per_unit) })}>
        <span class="amount" data-amount={reports.supply.euro_liability}>{formatEuro(reports.supply.euro_liability)}</span>
      </Stat>
    </dl>
  );
}

/** A table's box, which scrolls sideways on a narrow screen: reachable with the keyboard, named. */
function TableRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return <div class="table-wrap" tabIndex={0} role="region" aria-label={label}>{children}</div>;
}

// Per month ---------------------------------------------------------------------------------

const zero_volunteering: VolunteeringMeasures = { hours: '0', coins: '0', rewards: 0, volunteers: 0, first_time_volunteers: 0 };

function MonthsPanel({ reports, cur }: { reports: Reports; cur: Currency }) {
  const months = monthsOf(reports.period);
  const volunteering = new Map(reports.months.items.map((i) => [i.key ?? '', i as VolunteeringMeasures]));
  const shops = new Map(reports.shop_months.items.map((i) => [i.month ?? '', i as ShopMeasures]));
  const v = (month: string) => volunteering.get(month) ?? zero_volunteering;
  const s = (month: string) => shops.get(month);
  const labels = months.map((m) => formatMonth(m, 'long'));
  const short = months.map((m) => formatMonth(m, months.length > 12 ? 'long' : 'short'));
  const coins: ChartSeries[] = [
    { key: 'earned', label: t('console.reports_coins'), values: months.map((m) => v(m).coins), stack: 'earned' },
    { key: 'spent', label: t('console.reports_takings'), values: months.map((m) => s(m)?.takings ?? '0'), stack: 'spent' },
  ];
  const people: ChartSeries[] = [
    { key: 'new', label: t('console.col_new'), values: months.map((m) => String(v(m).first_time_volunteers)), stack: 'people' },
    { key: 'returning', label: t('console.col_returning'), values: months.map((m) => String(returning(v(m)))), stack: 'people' },
  ];
  return (
    <Panel title={t('console.reports_per_month')} icon="calendar" testid="report-months">
      <div class="chart-pair">
        <BarChart testid="chart-months" title={t('console.reports_months_chart')} description={t('console.reports_months_desc')}
          labels={labels} short_labels={short} series={coins} format={(x) => formatAmount(x, cur.code)} />
        <BarChart testid="chart-volunteers" title={t('console.reports_volunteers_chart')} description={t('console.reports_volunteers_desc')}
          labels={labels} short_labels={short} series={people} format={(x) => formatNumber(x)} />
      </div>
      <TableRegion label={t('console.reports_per_month')}>
        <table class="table report-table" data-testid="months-table">
          <caption class="sr-only">{t('console.reports_per_month')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('console.col_month')}</th>
              <th scope="col" class="num">{t('console.col_hours')}</th>
              <th scope="col" class="num">{t('console.col_coins')}</th>
              <th scope="col" class="num">{t('console.col_new')}</th>
              <th scope="col" class="num">{t('console.col_returning')}</th>
              <th scope="col" class="num">{t('console.col_spent')}</th>
              <th scope="col" class="num">{t('console.col_cashed_in')}</th>
              <th scope="col" class="num">{t('console.col_euros_paid')}</th>
            </tr>
          </thead>
          <tbody>
            {months.map((m, i) => (
              <tr key={m} data-testid="month-row" data-month={m}>
                <th scope="row">{labels[i]}</th>
                <td class="num" data-value={v(m).hours}>{formatHours(v(m).hours)}</td>
                <td class="num"><Amount value={v(m).coins} currency={cur.code} /></td>
                <td class="num">{formatNumber(String(v(m).first_time_volunteers))}</td>
                <td class="num">{formatNumber(String(returning(v(m))))}</td>
                <td class="num"><Amount value={s(m)?.takings ?? '0'} currency={cur.code} /></td>
                <td class="num"><Amount value={s(m)?.redemptions_approved ?? '0'} currency={cur.code} /></td>
                <td class="num">{formatEuro(s(m)?.euros_paid_out ?? '0')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
      <Downloads code={cur.code} files={[
        { id: 'volunteering-month', label: t('console.reports_file_volunteering_month'), path: 'volunteering.csv', query: periodQuery(reports.period, 'month') },
        { id: 'shops-month', label: t('console.reports_file_shops_month'), path: 'shops.csv', query: periodQuery(reports.period, 'month') },
        { id: 'transfers', label: t('console.reports_file_transfers'), path: 'transfers.csv', query: periodQuery(reports.period) },
        { id: 'balances', label: t('console.reports_file_balances', { day: formatDay(reports.at) }), path: 'balances.csv', query: `at=${reports.at}` },
      ]} />
    </Panel>
  );
}

// Circulation per month -----------------------------------------------------------------------

function CirculationPanel({ reports, cur }: { reports: Reports; cur: Currency }) {
  const months = reports.circulation.months;
  const labels = months.map((m) => formatMonth(m.month, 'long'));
  const short = months.map((m) => formatMonth(m.month, months.length > 12 ? 'long' : 'short'));
  const series: ChartSeries[] = [
    { key: 'in_wallets', label: t('console.col_in_wallets'), values: months.map((m) => m.in_wallets), stack: 'held' },
    { key: 'in_shops', label: t('console.col_in_shops'), values: months.map((m) => m.in_shops), stack: 'held' },
  ];
  return (
    <Panel title={t('console.reports_circulation')} icon="coins" testid="report-circulation">
      {months.length === 0 ? <p class="muted" data-testid="circulation-none">{t('console.reports_none')}</p> : (
        <>
          <BarChart testid="chart-circulation" title={t('console.reports_circulation_chart')} description={t('console.reports_circulation_desc')}
            labels={labels} short_labels={short} series={series} format={(x) => formatAmount(x, cur.code)} />
          <TableRegion label={t('console.reports_circulation')}>
            <table class="table report-table" data-testid="circulation-table">
              <caption class="sr-only">{t('console.reports_circulation')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('console.col_month')}</th>
                  <th scope="col">{t('console.col_counted_on')}</th>
                  <th scope="col" class="num">{t('console.col_in_wallets')}</th>
                  <th scope="col" class="num">{t('console.col_in_shops')}</th>
                  <th scope="col" class="num">{t('console.col_circulating')}</th>
                  <th scope="col" class="num">{t('console.col_euro_liability')}</th>
                </tr>
              </thead>
              <tbody>
                {months.map((m, i) => (
                  <tr key={m.month} data-testid="circulation-row" data-month={m.month} data-at={m.at}>
                    <th scope="row">{labels[i]}</th>
                    <td>{formatDay(m.at)}</td>
                    <td class="num"><Amount value={m.in_wallets} currency={cur.code} /></td>
                    <td class="num"><Amount value={m.in_shops} currency={cur.code} /></td>
                    <td class="num"><Amount value={m.circulating} currency={cur.code} /></td>
                    <td class="num"><span class="amount" data-amount={m.euro_liability}>{formatEuro(m.euro_liability)}</span></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        </>
      )}
      <Downloads code={cur.code} files={[
        { id: 'circulation', label: t('console.reports_file_circulation'), path: 'circulation.csv', query: periodQuery(reports.period) },
      ]} />
    </Panel>
  );
}

// Per category and per shop -------------------------------------------------------------------

function CategoriesPanel({ reports, cur }: { reports: Reports; cur: Currency }) {
  const items = reports.categories.items;
  const labels = items.map((i) => (i.key === null ? t('console.reports_no_activity') : categoryName(i.key)));
  return (
    <Panel title={t('console.reports_per_category')} icon="star" testid="report-categories">
      {items.length === 0 ? <p class="muted" data-testid="categories-none">{t('console.reports_none')}</p> : (
        <>
          <BarChart testid="chart-categories" title={t('console.reports_categories_chart')} description={t('console.reports_categories_desc')}
            labels={labels} series={[{ key: 'coins', label: t('console.col_coins'), values: items.map((i) => i.coins), stack: 'coins' }]}
            format={(x) => formatAmount(x, cur.code)} />
          <TableRegion label={t('console.reports_per_category')}>
            <table class="table report-table" data-testid="categories-table">
              <caption class="sr-only">{t('console.reports_per_category')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('console.col_category')}</th>
                  <th scope="col" class="num">{t('console.col_hours')}</th>
                  <th scope="col" class="num">{t('console.col_coins')}</th>
                  <th scope="col" class="num">{t('console.col_rewards')}</th>
                  <th scope="col" class="num">{t('console.col_volunteers')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((item, i) => (
                  <tr key={item.key ?? ''} data-testid="category-row" data-key={item.key ?? ''}>
                    <th scope="row">{labels[i]}</th>
                    <td class="num" data-value={item.hours}>{formatHours(item.hours)}</td>
                    <td class="num"><Amount value={item.coins} currency={cur.code} /></td>
                    <td class="num">{formatNumber(String(item.rewards))}</td>
                    <td class="num">{formatNumber(String(item.volunteers))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        </>
      )}
      <Downloads code={cur.code} files={[
        { id: 'volunteering-category', label: t('console.reports_file_volunteering_category'), path: 'volunteering.csv', query: periodQuery(reports.period, 'category') },
      ]} />
    </Panel>
  );
}

function ShopsPanel({ reports, cur }: { reports: Reports; cur: Currency }) {
  const items = reports.shops.items;
  const labels = items.map((i) => i.shop?.name ?? '');
  const series: ChartSeries[] = [
    { key: 'takings', label: t('console.col_takings'), values: items.map((i) => i.takings), stack: 'takings' },
    { key: 'cashed_in', label: t('console.col_cashed_in'), values: items.map((i) => i.redemptions_approved), stack: 'cashed_in' },
  ];
  return (
    <Panel title={t('console.reports_per_shop')} icon="shop" testid="report-shops">
      {items.length === 0 ? <p class="muted" data-testid="shops-none">{t('console.reports_none')}</p> : (
        <>
          <BarChart testid="chart-shops" title={t('console.reports_shops_chart')} description={t('console.reports_shops_desc')}
            labels={labels} series={series} format={(x) => formatAmount(x, cur.code)} />
          <TableRegion label={t('console.reports_per_shop')}>
            <table class="table report-table" data-testid="shops-table">
              <caption class="sr-only">{t('console.reports_per_shop')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('console.col_shop')}</th>
                  <th scope="col" class="num">{t('console.col_payments')}</th>
                  <th scope="col" class="num">{t('console.col_takings')}</th>
                  <th scope="col" class="num">{t('console.col_refunds')}</th>
                  <th scope="col" class="num">{t('console.col_cashed_in')}</th>
                  <th scope="col" class="num">{t('console.col_euros_paid')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((item, i) => (
                  <tr key={item.shop?.account ?? ''} data-testid="shop-report-row" data-id={item.shop?.account ?? ''}>
                    <th scope="row">{labels[i]}</th>
                    <td class="num">{formatNumber(String(item.payments))}</td>
                    <td class="num"><Amount value={item.takings} currency={cur.code} /></td>
                    <td class="num"><Amount value={item.refunds} currency={cur.code} /></td>
                    <td class="num"><Amount value={item.redemptions_approved} currency={cur.code} /></td>
                    <td class="num">{formatEuro(item.euros_paid_out)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableRegion>
        </>
      )}
      <Downloads code={cur.code} files={[
        { id: 'shops-shop', label: t('console.reports_file_shops_shop'), path: 'shops.csv', query: periodQuery(reports.period, 'shop') },
      ]} />
    </Panel>
  );
}

// The city's bill ahead -----------------------------------------------------------------------

function LiabilityPanel({ cur }: { cur: Currency }) {
  const [report, setReport] = useState<Liability | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const load = () => {
    setError(undefined);
    consoleApi.get('/currencies/{code}/reports/liability', { path: { code: cur.code }, query: { months: liability_months } })
      .then(setReport, setError);
  };
  useEffect(load, [cur.code]);
  return (
    <Panel title={t('console.reports_liability')} icon="bank" testid="report-liability">
      <p class="hint">{t('console.reports_liability_hint')}</p>
      {error !== undefined && <ProblemAlert error={error} onRetry={load} />}
      {report === undefined ? (error === undefined && <Loading />) : <LiabilityChart report={report} cur={cur} />}
      <Downloads code={cur.code} files={[
        { id: 'liability', label: t('console.reports_file_liability'), path: 'liability.csv', query: `months=${liability_months}` },
      ]} />
    </Panel>
  );
}

function LiabilityChart({ report, cur }: { report: Liability; cur: Currency }) {
  const labels = report.months.map((m) => formatMonth(m.month, 'long'));
  const short = report.months.map((m) => formatMonth(m.month, 'short'));
  const series: ChartSeries[] = [
    { key: 'in_wallets', label: t('console.col_in_wallets'), values: report.months.map((m) => m.in_wallets), stack: 'held' },
    { key: 'in_shops', label: t('console.col_in_shops'), values: report.months.map((m) => m.in_shops), stack: 'held' },
    { key: 'expiring', label: t('console.col_expiring'), values: report.months.map((m) => m.expiring), stack: 'expiring' },
  ];
  return (
    <>
      {report.validity_days === null && <p class="muted" data-testid="liability-no-expiry">{t('console.reports_no_expiry', { currency: cur.code })}</p>}
      <BarChart testid="chart-liability" title={t('console.reports_liability_chart')} description={t('console.reports_liability_desc')}
        labels={labels} short_labels={short} series={series} format={(x) => formatAmount(x, cur.code)} />
      <TableRegion label={t('console.reports_liability')}>
        <table class="table report-table" data-testid="liability-table">
          <caption class="sr-only">{t('console.reports_liability')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('console.col_month')}</th>
              <th scope="col" class="num">{t('console.col_in_wallets')}</th>
              <th scope="col" class="num">{t('console.col_in_shops')}</th>
              <th scope="col" class="num">{t('console.col_expiring')}</th>
              <th scope="col" class="num">{t('console.col_circulating')}</th>
              <th scope="col" class="num">{t('console.col_euro_liability')}</th>
            </tr>
          </thead>
          <tbody>
            {report.months.map((m, i) => (
              <tr key={m.month} data-testid="liability-row" data-month={m.month}>
                <th scope="row">{labels[i]}</th>
                <td class="num"><Amount value={m.in_wallets} currency={cur.code} /></td>
                <td class="num"><Amount value={m.in_shops} currency={cur.code} /></td>
                <td class="num"><Amount value={m.expiring} currency={cur.code} /></td>
                <td class="num"><Amount value={m.circulating} currency={cur.code} /></td>
                <td class="num"><span class="amount" data-amount={m.euro_liability}>{formatEuro(m.euro_liability)}</span></td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableRegion>
    </>
  );
}

// The page ----------------------------------------------------------------------------------

function CurrencyReports({ cur }: { cur: Currency }) {
  const [choice, setChoice] = useState<PeriodChoice>('this_month');
  const [period, setPeriod] = useState<Period>(() => periodOf('this_month', todayInBelgium()));
  const [reports, setReports] = useState<Reports | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  // Only the answer to the latest request is shown, however quickly periods are switched.
  const latest = useRef(0);
  const load = (next: Period) => {
    const request = ++latest.current;
    setError(undefined);
    setReports(undefined);
    loadReports(cur.code, next).then(
      (answer) => { if (request === latest.current) setReports(answer); },
      (caught: unknown) => { if (request === latest.current) setError(caught); },
    );
  };
  useEffect(() => load(period), [cur.code, period.from, period.to]);
  const choose = (next_choice: PeriodChoice, next: Period) => {
    setChoice(next_choice);
    if (next.from === period.from && next.to === period.to) load(next);
    else setPeriod(next);
  };
  return (
    <>
      {/* The fields show the period the server answered for: a lone "from" runs to the end of its year. */}
      <PeriodPicker choice={choice} period={reports?.period ?? period} error={error} onChoose={choose} />
      {error !== undefined && <div data-testid="report-error"><ProblemAlert error={error} onRetry={() => load(period)} /></div>}
      {reports === undefined ? (error === undefined && <Loading />) : (
        <>
          <Panel title={t('console.reports_figures')} icon="chart" testid="report-summary">
            <p class="muted" data-testid="report-period" data-from={reports.period.from} data-to={reports.period.to}>
              {t('console.reports_period_shown', { from: formatDay(reports.period.from), to: formatDay(reports.period.to) })}
            </p>
            <Figures reports={reports} cur={cur} />
          </Panel>
          <MonthsPanel reports={reports} cur={cur} />
          <CirculationPanel reports={reports} cur={cur} />
          <CategoriesPanel reports={reports} cur={cur} />
          <ShopsPanel reports={reports} cur={cur} />
        </>
      )}
      <LiabilityPanel cur={cur} />
    </>
  );
}

export function ReportsPage() {
  const cur = currency.value;
  return (
    <ConsolePage title={t('console.reports_title')} testid="console-reports">
      {cur === undefined ? <p class="muted">{t('console.no_currency')}</p> : <CurrencyReports cur={cur} />}
    </ConsolePage>
  );
}

export default ReportsPage;
