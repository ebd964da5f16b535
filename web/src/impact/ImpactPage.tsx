/**
 * The public view of what a neighbourhood did (/impact/<code>, docs/impact.md): totals, a bar
 * chart of hours per month and of coins earned and spent per month, hours per kind of activity,
 * and the same figures as tables. No login; may be framed by the city's site. A figure about
 * fewer than ten people shows "< 10", one hidden with it "–". `?lang=nl|en|fr` picks the language
 * without remembering it. Charts are plain SVG; bar lengths are computed on the minor units as
 * bigint (never a float of an amount).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { ApiError, publicApi } from '../api.js';
import type { Schemas } from '../api.js';
import { formatAmount, formatNumber, intlTag, isLocale, locale, setLocale, t } from '../i18n/index.js';
import type { Key } from '../i18n/index.js';
import { Alert } from '../ui/Alert.js';
import { Icon } from '../ui/Icon.js';
import { LanguagePicker, Loading } from '../ui/Layout.js';
import './impact.css';

type Impact = Schemas['PublicImpact'];
type Hidden = Schemas['ImpactHidden'];
/** A group's figures when they are shown. */
type Figures<T> = Exclude<T, { suppressed: true }>;

/** What a hidden figure shows: "< 10" for a small group, "–" for one hidden with it. */
function hiddenText(hidden: Hidden): string {
  return hidden.reason === 'small_group' ? t('impact.fewer_than', { count: hidden.fewer_than }) : t('impact.withheld');
}

const hoursText = (hours: string) => t('impact.hours_value', { hours: formatNumber(hours, 1) });

/** A local month ('YYYY-MM') in the current language: "maart 2026", or short (a chart's axis): "mrt". */
function monthText(month: string, style: 'long' | 'short' = 'long'): string {
  const [year, m] = month.split('-').map(Number);
  const date = new Date(Date.UTC(year ?? 1970, (m ?? 1) - 1, 1));
  const options: Intl.DateTimeFormatOptions = style === 'long'
    ? { month: 'long', year: 'numeric', timeZone: 'UTC' }
    : { month: 'short', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(intlTag.value, options).format(date);
}

/** A decimal string with a fixed number of decimals as an integer of its smallest unit ("20.50" → 2050n). */
function unitsOf(value: string): bigint {
  const units = BigInt(value.replace('.', ''));
  return units < 0n ? 0n : units;
}

interface Bar {
  label: string;
  /** The length, in smallest units; undefined when the figure is hidden. */
  units: bigint | undefined;
  /** What is written at the bar. */
  text: string;
}

const chart_width = 640;
const bar_area = 150;
const label_space = 34;

/** Vertical bars, one per label (months), each with its value written above it. */
function ColumnChart({ title, bars, testid, series }: { title: string; bars: Bar[]; testid: string; series: 'earned' | 'spent' | 'hours' }) {
  const max = bars.reduce((m, b) => (b.units !== undefined && b.units > m ? b.units : m), 0n);
  const slot = chart_width / Math.max(1, bars.length);
  const height = 24 + bar_area + label_space;
  return (
    <figure class="impact-chart" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${chart_width} ${height}`} role="img" aria-label={title} class={`impact-svg series-${series}`}>
        {bars.map((bar, i) => {
          const length = bar.units === undefined || max === 0n ? 0 : Number((bar.units * 1000n) / max) / 1000 * bar_area;
          const x = i * slot + slot * 0.15;
          const top = 24 + bar_area - length;
          return (
            <g key={bar.label}>
              {length > 0 && <rect x={x} y={top} width={slot * 0.7} height={length} rx="3" class="impact-bar" />}
              {/* The last value ends at the chart's edge rather than past it. */}
              <text x={i === bars.length - 1 ? chart_width : x + slot * 0.35} y={top - 6}
                text-anchor={i === bars.length - 1 ? 'end' : 'middle'} class="impact-value">{bar.text}</text>
              <text x={x + slot * 0.35} y={24 + bar_area + 20} text-anchor="middle" class="impact-label">{bar.label}</text>
            </g>
          );
        })}
        <line x1="0" x2={chart_width} y1={24 + bar_area} y2={24 + bar_area} class="impact-axis" />
      </svg>
    </figure>
  );
}

/** Horizontal bars, one per label (kinds of activity): the label above its bar, the value after it. */
function RowChart({ title, bars, testid }: { title: string; bars: Bar[]; testid: string }) {
  const max = bars.reduce((m, b) => (b.units !== undefined && b.units > m ? b.units : m), 0n);
  const row = 64;
  const room = chart_width - 130;
  return (
    <figure class="impact-chart" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${chart_width} ${bars.length * row}`} role="img" aria-label={title} class="impact-svg series-hours">
        {bars.map((bar, i) => {
          const length = bar.units === undefined || max === 0n ? 0 : Number((bar.units * 1000n) / max) / 1000 * room;
          return (
            <g key={bar.label}>
              <text x="0" y={i * row + 22} class="impact-label">{bar.label}</text>
              {length > 0 && <rect x="0" y={i * row + 32} width={length} height="22" rx="3" class="impact-bar" />}
              <text x={length + 8} y={i * row + 50} class="impact-value">{bar.text}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** A group's figure as written: `show` of its figures, or why it is hidden. */
function figure<T extends { suppressed: boolean }>(shown: T, show: (figures: Figures<T>) => string): string {
  return shown.suppressed ? hiddenText(shown as unknown as Hidden) : show(shown as Figures<T>);
}

/** A bar of a figure: its length in smallest units (none when hidden), and its text. */
function barOf<T extends { suppressed: boolean }>(
  label: string, shown: T, value: (figures: Figures<T>) => string, text: (value: string) => string,
): Bar {
  return { label, units: shown.suppressed ? undefined : unitsOf(value(shown as Figures<T>)), text: figure(shown, (f) => text(value(f))) };
}

function Totals({ impact }: { impact: Impact }) {
  const code = impact.currency.code;
  const { volunteering, spending, active_shops } = impact.total;
  const items: Array<[string, Key, string]> = [
    ['hours', 'impact.total_hours', figure(volunteering, (v) => hoursText(v.hours))],
    ['volunteers', 'impact.total_volunteers', figure(volunteering, (v) => formatNumber(String(v.volunteers)))],
    ['earned', 'impact.total_earned', figure(volunteering, (v) => formatAmount(v.coins_earned, code))],
    ['spent', 'impact.total_spent', figure(spending, (v) => formatAmount(v.coins_spent, code))],
    ['shops', 'impact.total_shops', formatNumber(String(active_shops))],
  ];
  return (
    <dl class="impact-totals" data-testid="impact-totals">
      {items.map(([id, label, value]) => (
        <div key={id} class="impact-total" data-testid={`impact-total-${id}`}>
          <dt>{t(label)}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function MonthTable({ impact }: { impact: Impact }) {
  const code = impact.currency.code;
  // On a phone the table scrolls sideways inside its own region, reachable by keyboard.
  return (
    <div class="impact-table-wrap" role="region" aria-labelledby="impact-months-caption" tabIndex={0}>
      <table class="impact-table" data-testid="impact-months">
        <caption id="impact-months-caption">{t('impact.table_months')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('impact.col_month')}</th>
            <th scope="col">{t('impact.total_hours')}</th>
            <th scope="col">{t('impact.total_volunteers')}</th>
            <th scope="col">{t('impact.total_earned')}</th>
            <th scope="col">{t('impact.total_spent')}</th>
            <th scope="col">{t('impact.total_shops')}</th>
          </tr>
        </thead>
        <tbody>
          {impact.months.map((m) => (
            <tr key={m.month} data-month={m.month}>
              <th scope="row">{monthText(m.month)}</th>
              <td>{figure(m.volunteering, (v) => hoursText(v.hours))}</td>
              <td>{figure(m.volunteering, (v) => formatNumber(String(v.volunteers)))}</td>
              <td>{figure(m.volunteering, (v) => formatAmount(v.coins_earned, code))}</td>
              <td>{figure(m.spending, (v) => formatAmount(v.coins_spent, code))}</td>
              <td>{formatNumber(String(m.active_shops))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ImpactView({ impact }: { impact: Impact }) {
  const code = impact.currency.code;
  const short = (month: string) => monthText(month, 'short');
  const plain = (value: string) => formatNumber(value);
  const hours = impact.months.map((m) => barOf(short(m.month), m.volunteering, (v) => v.hours, hoursText));
  const earned = impact.months.map((m) => barOf(short(m.month), m.volunteering, (v) => v.coins_earned, plain));
  const spent = impact.months.map((m) => barOf(short(m.month), m.spending, (v) => v.coins_spent, plain));
  const categories = impact.categories.map((k) => barOf(t(`impact.category_${k.category}`), k.volunteering, (v) => v.hours, hoursText));
  return (
    <>
      <p class="lead" data-testid="impact-period">
        {t('impact.period', { from: monthText(impact.from), to: monthText(impact.to) })}
      </p>
      <Totals impact={impact} />
      <ColumnChart title={t('impact.chart_hours')} testid="impact-chart-hours" series="hours" bars={hours} />
      <ColumnChart title={t('impact.chart_earned', { currency: code })} testid="impact-chart-earned" series="earned" bars={earned} />
      <ColumnChart title={t('impact.chart_spent', { currency: code })} testid="impact-chart-spent" series="spent" bars={spent} />
      <RowChart title={t('impact.chart_categories')} testid="impact-chart-categories" bars={categories} />
      <MonthTable impact={impact} />
      <p class="hint impact-note" data-testid="impact-note">
        {t('impact.note_small', { count: impact.people_min })} {t('impact.note_complement')}
      </p>
    </>
  );
}

/**
 * The page's frame: the app's header with its name as plain text, not a link — inside the city's
 * site a link away from this page would open a page that may not be framed — and the language.
 */
function PublicScreen({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · ${t('common.app_name')}`;
  }, [title]);
  return (
    <div class="screen screen-wide" data-testid="impact">
      <header class="app-header impact-header">
        <span class="header-link brand">
          <Icon name="coins" />
          <span>{t('common.app_name')}</span>
        </span>
        <LanguagePicker />
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}

/** `?lang=` of the page's address, when it names a language of the app. */
function languageAsked(): string | null {
  return new URLSearchParams(window.location.search).get('lang');
}

export default function ImpactPage() {
  const { params } = useRoute();
  const code = (params.code ?? '').toUpperCase();
  const [impact, setImpact] = useState<Impact | undefined>();
  const [failure, setFailure] = useState<ApiError | undefined>();
  useEffect(() => {
    const lang = languageAsked();
    if (isLocale(lang) && lang !== locale.value) void setLocale(lang, false);
  }, []);
  useEffect(() => {
    publicApi.get('/public/currencies/{code}/impact', { path: { code } })
      .then(setImpact, (error: unknown) => setFailure(error instanceof ApiError ? error : undefined));
  }, [code]);
  const title = impact === undefined ? t('impact.title_plain') : t('impact.title', { name: impact.currency.name });
  return (
    <PublicScreen title={title}>
      {impact !== undefined && <ImpactView impact={impact} />}
      {impact === undefined && failure === undefined && <Loading />}
      {failure !== undefined && (
        <Alert kind="error" data-testid="impact-error">
          {failure.status === 404 ? t('impact.unknown', { code }) : t('common.errors.network')}
        </Alert>
      )}
    </PublicScreen>
  );
}
