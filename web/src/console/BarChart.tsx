/**
 * A bar chart in plain SVG for the reports page: one group of bars per label (a month, a
 * category, a shop), series side by side or stacked (series with the same `stack` share a bar).
 * Heights are computed from the API's decimal strings in BigInt (lib/money.ts), never from a
 * float of money. Accessible: the figure has a caption, the SVG a title and description, every
 * bar segment a <title> with its label, series and value in the console's language, and the
 * same figures stand in the table the page shows next to it.
 */
import { useId } from 'preact/hooks';
import { fromMinor, scaleOf, toMinor } from '../lib/money.js';

export interface ChartSeries {
  /** Used in `data-series` of its bars (tests, styles). */
  key: string;
  label: string;
  /** One decimal string per label ("12.50", "3"); negative values (corrections) are drawn as 0. */
  values: string[];
  /** Series with the same stack are drawn on one bar, one above the other. */
  stack: string;
}

const width = 720;
const height = 260;
const top = 24;
const bottom = 44;
const left = 8;
const right = 8;
const plot_height = height - top - bottom;
const bar_max = 56;
/** Label characters drawn under a bar; the whole label is in the bar's <title> and the table. */
const label_chars_max = 14;

function shorten(label: string, room: number): string {
  const chars = Math.max(3, Math.min(label_chars_max, Math.floor(room / 7)));
  return label.length <= chars ? label : `${label.slice(0, chars - 1)}…`;
}

/** Every value in minor units of the largest scale among them, so they add and compare exactly. */
function toCommonScale(series: ChartSeries[]): { scale: number; minor: bigint[][] } {
  const scale = Math.max(0, ...series.flatMap((s) => s.values.map(scaleOf)));
  return { scale, minor: series.map((s) => s.values.map((v) => { const m = toMinor(v, scale); return m < 0n ? 0n : m; })) };
}

/** The stacks in the order their first series come. */
function stacksOf(series: ChartSeries[]): string[] {
  return [...new Set(series.map((s) => s.stack))];
}

/** A pixel height for `value` of `max` (both minor units), in hundredths of a pixel, exactly. */
function pixels(value: bigint, max: bigint): number {
  return Number((value * BigInt(plot_height * 100)) / max) / 100;
}

interface Segment { series: number; label: number; x: number; y: number; w: number; h: number; value: string }

function layout(labels: string[], series: ChartSeries[]) {
  const { scale, minor } = toCommonScale(series);
  const stacks = stacksOf(series);
  const totals = labels.map((_, i) => stacks.map((stack) => series.reduce((sum, s, k) => (s.stack === stack ? sum + (minor[k]?.[i] ?? 0n) : sum), 0n)));
  const max_total = totals.flat().reduce((a, b) => (b > a ? b : a), 0n);
  const max = max_total === 0n ? 1n : max_total;
  const group = (width - left - right) / Math.max(1, labels.length);
  const bar = Math.min(bar_max, (group * 0.8) / stacks.length);
  const segments: Segment[] = [];
  labels.forEach((_, i) => {
    const start = left + i * group + (group - bar * stacks.length) / 2;
    stacks.forEach((stack, j) => {
      let base = 0n;
      series.forEach((s, k) => {
        if (s.stack !== stack) return;
        const value = minor[k]?.[i] ?? 0n;
        const y = top + plot_height - pixels(base + value, max);
        segments.push({ series: k, label: i, x: start + j * bar, y, w: Math.max(1, bar - 2), h: pixels(base + value, max) - pixels(base, max), value: s.values[i] ?? '0' });
        base += value;
      });
    });
  });
  return { segments, group, max: fromMinor(max_total, scale) };
}

/**
 * The chart. `format` writes a value as the page shows it ("12,50 TOR", "2,5 u"); `testid`
 * names the figure, each segment is a `rect` with `data-series`, `data-label` and `data-value`.
 */
export function BarChart({ title, description, labels, short_labels, series, format, testid }: {
  title: string; description: string; labels: string[]; short_labels?: string[];
  series: ChartSeries[]; format: (value: string) => string; testid: string;
}) {
  const id = useId();
  const { segments, group, max } = layout(labels, series);
  const every = Math.max(1, Math.ceil(labels.length / 24));
  return (
    <figure class="chart" data-testid={testid} data-labels={labels.length} data-series={series.length}>
      <figcaption id={`${id}-caption`} class="chart-caption">{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        <line class="chart-grid" x1={left} x2={width - right} y1={top} y2={top} />
        <text class="chart-axis" x={left} y={top - 8}>{format(max)}</text>
        <line class="chart-base" x1={left} x2={width - right} y1={top + plot_height} y2={top + plot_height} />
        {segments.map((s) => {
          const label = labels[s.label] ?? '';
          const name = series[s.series];
          return (
            <rect key={`${s.series}-${s.label}`} class={`chart-bar chart-series-${s.series}`} x={s.x} y={s.y} width={s.w} height={Math.max(0, s.h)}
              data-series={name?.key} data-label={label} data-value={s.value}>
              <title>{`${label} · ${name?.label ?? ''}: ${format(s.value)}`}</title>
            </rect>
          );
        })}
        {labels.map((label, i) => (i % every === 0 ? (
          <text key={`l-${i}`} class="chart-label" x={left + i * group + group / 2} y={top + plot_height + 18} text-anchor="middle" aria-hidden="true">
            {shorten(short_labels?.[i] ?? label, group * every)}
          </text>
        ) : null))}
      </svg>
      <ul class="chart-legend" aria-hidden="true">
        {series.map((s, k) => (
          <li key={s.key}><span class={`chart-swatch chart-series-${k}`} />{s.label}</li>
        ))}
      </ul>
    </figure>
  );
}
