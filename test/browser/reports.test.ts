/**
 * Issue #19 point 1 and #20 point 2, in a real browser on the demo neighbourhood: the console's
 * reports page. For a period (this month, last month, this year, from … to …) it shows the
 * figures the reports API gives for that period, charts with one bar per month, per kind of
 * activity and per shop (and per series), the city's bill for twelve months ahead, and downloads
 * each report as CSV and in its Excel form. Checked with axe-core in Dutch and English.
 * The demo's history is all of today, so this month has everything and last month nothing.
 * Screenshots: test-results/browser/reports/.
 */
import type { Browser, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkNoSidewaysScroll, checkScreen, chooseLanguage, expectNoPageErrors, newContext, newPage, openConsole, requireTools, worldAndBrowser } from './support.js';
import type { Lang, World } from './support.js';

let world: World;
let browser: Browser;
let coordinator: string;
let code: string;

const intl: Record<Lang, string> = { nl: 'nl-BE', en: 'en-GB', fr: 'fr-BE' };

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

/** An amount as the app writes it: "260 TOR" (the demo's currency has no decimals). */
function amountIn(lang: Lang, amount: string): string {
  const scale = amount.includes('.') ? amount.length - amount.indexOf('.') - 1 : 0;
  return `${new Intl.NumberFormat(intl[lang], { minimumFractionDigits: scale, maximumFractionDigits: scale }).format(amount as unknown as number)}\u00a0${code}`;
}
const euroIn = (lang: Lang, euros: string) => new Intl.NumberFormat(intl[lang], { style: 'currency', currency: 'EUR' }).format(euros as unknown as number);
const hoursIn = (lang: Lang, hours: string) => `${new Intl.NumberFormat(intl[lang], { maximumFractionDigits: 2 }).format(hours as unknown as number)} ${lang === 'nl' ? 'u' : 'h'}`;
const monthIn = (lang: Lang, month: string) => new Intl.DateTimeFormat(intl[lang], { month: 'long', year: 'numeric', timeZone: 'UTC' })
  .format(new Date(`${month}-01T00:00:00Z`));

function today(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}
function lastDay(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
}
function monthBefore(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

interface ApiReports { volunteering: any; categories: any; shops: any; shop_months: any; supply: any; circulation: any }

/** What the API says of a period, asked directly. */
async function apiReports(from: string, to: string): Promise<ApiReports> {
  const get = async (path: string) => {
    const answer = await world.api('GET', `/currencies/${code}/${path}`, { token: coordinator });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  const period = `from=${from}&to=${to}`;
  const at = to < today() ? to : today();
  return {
    volunteering: await get(`reports/volunteering?${period}&group=month`),
    categories: await get(`reports/volunteering?${period}&group=category`),
    shops: await get(`reports/shops?${period}&group=shop`),
    shop_months: await get(`reports/shops?${period}&group=month`),
    supply: await get(`reports/supply?at=${at}`),
    circulation: await get(`reports/circulation?${period}`),
  };
}

/** The figures on the page are the API's, in `lang`. */
async function expectFigures(page: Page, api: ApiReports, lang: Lang): Promise<void> {
  const v = api.volunteering.totals;
  const s = api.shops.totals;
  await page.getByTestId('report-figures').waitFor();
  expect(await page.getByTestId('fig-hours').locator('[data-value]').getAttribute('data-value')).toBe(v.hours);
  expect(await text(page, 'fig-hours')).toContain(hoursIn(lang, v.hours));
  expect(await page.getByTestId('fig-coins').locator('[data-amount]').getAttribute('data-amount')).toBe(v.coins);
  expect(await text(page, 'fig-coins')).toContain(amountIn(lang, v.coins).replace('\u00a0', ' '));
  const people = page.getByTestId('fig-volunteers').locator('[data-count]');
  expect(await people.getAttribute('data-count')).toBe(String(v.volunteers));
  expect(await people.getAttribute('data-new')).toBe(String(v.first_time_volunteers));
  expect(await people.getAttribute('data-returning')).toBe(String(v.volunteers - v.first_time_volunteers));
  expect(await page.getByTestId('fig-takings').locator('[data-amount]').getAttribute('data-amount')).toBe(s.takings);
  expect(await page.getByTestId('fig-cashouts').locator('[data-amount]').getAttribute('data-amount')).toBe(s.redemptions_approved);
  expect(await text(page, 'fig-cashouts-hint')).toContain(euroIn(lang, s.euros_paid_out).replace(/\u00a0/g, ' '));
  expect(await page.getByTestId('fig-circulating').locator('[data-amount]').getAttribute('data-amount')).toBe(api.supply.circulating);
  expect(await page.getByTestId('fig-euro').locator('[data-amount]').getAttribute('data-amount')).toBe(api.supply.euro_liability);
  // Circulation per month: volunteers' and shops' coins stacked, one bar per month begun.
  expect(await bars(page, 'chart-circulation')).toEqual(api.circulation.months.flatMap((m: any) => [
    ['in_wallets', monthIn(lang, m.month), m.in_wallets], ['in_shops', monthIn(lang, m.month), m.in_shops],
  ]));
  expect(await page.getByTestId('circulation-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-at'))))
    .toEqual(api.circulation.months.map((m: any) => m.at));
}

/** The bars of a chart: [series, label, value] of each. */
async function bars(page: Page, testid: string): Promise<Array<[string, string, string]>> {
  return page.getByTestId(testid).locator('rect[data-series]').evaluateAll((rects) => rects.map((r) => [
    r.getAttribute('data-series') ?? '', r.getAttribute('data-label') ?? '', r.getAttribute('data-value') ?? '',
  ] as [string, string, string]));
}

/** Opens the reports page as the coordinator, in `lang`, on a desk screen; runs `steps`. */
async function onReports(lang: Lang, steps: (page: Page) => Promise<void>): Promise<void> {
  const context = await newContext(browser, world, 'tablet', lang);
  try {
    const page = await newPage(context);
    await openConsole(page, world.demo.coordinator);
    await page.getByTestId('nav-reports').click();
    await page.getByTestId('console-reports').waitFor();
    await page.getByTestId('report-figures').waitFor();
    await page.getByTestId('liability-table').waitFor();
    await steps(page);
    expectNoPageErrors(page);
  } finally {
    await context.close();
  }
}

/** Waits until the page shows the period from … to. */
async function periodShown(page: Page, from: string, to: string): Promise<void> {
  await page.locator(`[data-testid="report-period"][data-from="${from}"][data-to="${to}"]`).waitFor();
  await page.getByTestId('report-figures').waitFor();
}

it('has a Chromium and its fonts', () => requireTools());

describe('the console\'s reports page (#19 point 1, #20 point 2), in Chromium', () => {
  const suite = worldAndBrowser('reports');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
    code = world.demo.currency.code;
  }, 240_000);

  it('this month: the API\'s figures, a bar per month and series, per kind of activity and per shop, and the bill ahead (nl, then en)', async () => {
    const month = today().slice(0, 7);
    const api = await apiReports(`${month}-01`, lastDay(month));
    const liability = (await world.api('GET', `/currencies/${code}/reports/liability?months=12`, { token: coordinator })).body;
    // The demo has something to show in each.
    expect(BigInt(api.volunteering.totals.coins)).toBeGreaterThan(0n);
    expect(api.categories.items.length).toBeGreaterThan(1);
    expect(api.shops.items.length).toBeGreaterThan(1);

    await onReports('nl', async (page) => {
      await periodShown(page, `${month}-01`, lastDay(month));
      expect(await page.getByTestId('period-this_month').getAttribute('aria-pressed')).toBe('true');
      await expectFigures(page, api, 'nl');

      const label = monthIn('nl', month);
      expect(await bars(page, 'chart-months')).toEqual([
        ['earned', label, api.volunteering.items[0].coins], ['spent', label, api.shop_months.items[0].takings],
      ]);
      const v = api.volunteering.totals;
      expect(await bars(page, 'chart-volunteers')).toEqual([
        ['new', label, String(v.first_time_volunteers)], ['returning', label, String(v.volunteers - v.first_time_volunteers)],
      ]);
      expect((await bars(page, 'chart-categories')).map(([, , value]) => value)).toEqual(api.categories.items.map((i: any) => i.coins));
      // Heights follow the figures: the largest reaches the top line (192 of the 260 units), the others in proportion.
      const heights = await page.getByTestId('chart-categories').locator('rect[data-series]').evaluateAll((rects) =>
        rects.map((r) => [Number(r.getAttribute('height')), Number(r.getAttribute('data-value'))]));
      const largest = Math.max(...heights.map(([, value]) => value!));
      for (const [height, value] of heights) expect(height).toBeCloseTo((192 * value!) / largest, 1);
      const shop_bars = await bars(page, 'chart-shops');
      expect(shop_bars).toHaveLength(api.shops.items.length * 2);
      expect(shop_bars.filter(([series]) => series === 'takings')).toEqual(api.shops.items.map((i: any) => ['takings', i.shop.name, i.takings]));
      expect(shop_bars.filter(([series]) => series === 'cashed_in').map(([, , value]) => value))
        .toEqual(api.shops.items.map((i: any) => i.redemptions_approved));
      // Twelve months ahead, each with wallets and shops stacked and what expires beside them.
      const ahead = await bars(page, 'chart-liability');
      expect(ahead).toHaveLength(36);
      expect(ahead.filter(([series]) => series === 'in_wallets').map(([, , value]) => value)).toEqual(liability.months.map((m: any) => m.in_wallets));
      expect(await page.getByTestId('liability-row').count()).toBe(12);
      expect(await page.getByTestId('liability-row').first().locator('[data-amount]').last().getAttribute('data-amount'))
        .toBe(liability.months[0].euro_liability);

      // Every bar says its figure in words; the chart has a title.
      expect(await page.getByTestId('chart-months').locator('rect[data-series="earned"] title').textContent())
        .toBe(`${label} · Verdiende munten: ${amountIn('nl', api.volunteering.items[0].coins)}`);
      expect(await page.getByTestId('chart-months').locator('svg > title').textContent()).toBe('Verdiende en uitgegeven munten per maand');
      expect(await page.getByTestId('month-row').count()).toBe(1);
      await checkScreen(page, world, 'console-reports', { languages: ['nl', 'en'] });

      await chooseLanguage(page, 'en');
      await expectFigures(page, api, 'en');
      expect((await bars(page, 'chart-months'))[0]?.[1]).toBe(monthIn('en', month));
      expect(await page.getByTestId('chart-months').locator('svg > title').textContent()).toBe('Coins earned and spent per month');
      expect(await text(page, 'fig-volunteers-hint'))
        .toBe(`${v.first_time_volunteers} new, ${v.volunteers - v.first_time_volunteers} returning`);
    });
  }, 180_000);

  it('switching the period changes the figures: this year has twelve months, last month nothing, a typed period its own (en, then nl)', async () => {
    const now = today();
    const year = now.slice(0, 4);
    const last = monthBefore(now.slice(0, 7));
    await onReports('en', async (page) => {
      await page.getByTestId('period-this_year').click();
      await periodShown(page, `${year}-01-01`, `${year}-12-31`);
      await expectFigures(page, await apiReports(`${year}-01-01`, `${year}-12-31`), 'en');
      expect(await bars(page, 'chart-months')).toHaveLength(24);
      // Months not begun yet have no circulation: this month is the last bar.
      expect(await bars(page, 'chart-circulation')).toHaveLength(2 * Number(now.slice(5, 7)));
      expect(await page.getByTestId('month-row').count()).toBe(12);

      await page.getByTestId('period-last_month').click();
      await periodShown(page, `${last}-01`, lastDay(last));
      const before = await apiReports(`${last}-01`, lastDay(last));
      expect(before.volunteering.totals.coins).toBe('0');
      await expectFigures(page, before, 'en');
      expect(await page.getByTestId('categories-none').count()).toBe(1);
      expect(await page.getByTestId('shops-none').count()).toBe(1);
      expect(await bars(page, 'chart-months')).toEqual([['earned', monthIn('en', last), '0'], ['spent', monthIn('en', last), '0']]);

      // Switched quickly: this year's answer, held back, arrives after last month's and is not shown.
      const this_year = /\/reports\/volunteering\?from=\d{4}-01-01&to=\d{4}-12-31&group=month/;
      await page.route(this_year, async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await route.continue();
      });
      // The page asks its other reports once the first answers; wait for the last of them.
      const held_back = page.waitForResponse(/\/reports\/circulation\?from=\d{4}-01-01&to=\d{4}-12-31/);
      await page.getByTestId('period-this_year').click();
      await page.getByTestId('period-last_month').click();
      await periodShown(page, `${last}-01`, lastDay(last));
      await held_back;
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      expect(await page.getByTestId('report-period').getAttribute('data-from')).toBe(`${last}-01`);
      expect(await page.getByTestId('period-last_month').getAttribute('aria-pressed')).toBe('true');
      await page.unroute(this_year);

      await chooseLanguage(page, 'nl');
      await page.getByTestId('period-from').fill(now);
      await page.getByTestId('period-to').fill(now);
      await page.getByTestId('period-apply').click();
      await periodShown(page, now, now);
      await expectFigures(page, await apiReports(now, now), 'nl');

      // Only a first day: the period runs to the end of its year, and the fields say so.
      await page.getByTestId('period-from').fill(`${year}-03-05`);
      await page.getByTestId('period-to').fill('');
      await page.getByTestId('period-apply').click();
      await periodShown(page, `${year}-03-05`, `${year}-12-31`);
      expect(await page.getByTestId('period-to').inputValue()).toBe(`${year}-12-31`);
      await expectFigures(page, await apiReports(`${year}-03-05`, `${year}-12-31`), 'nl');

      // On a tablet held upright (800 px) nothing scrolls sideways.
      await page.setViewportSize({ width: 800, height: 1100 });
      await checkNoSidewaysScroll(page, world, 'console-reports-upright');
      await page.setViewportSize({ width: 1280, height: 800 });

      // A period that ends before it starts: said on the field, in Dutch; nothing else shown.
      await page.getByTestId('period-from').fill(now);
      await page.getByTestId('period-to').fill(`${Number(year) - 1}-01-01`);
      await page.getByTestId('period-apply').click();
      await page.getByTestId('report-error').waitFor();
      expect(await page.getByTestId('report-figures').count()).toBe(0);
      expect(await page.getByTestId('period-to').getAttribute('aria-invalid')).toBe('true');
      const described = await page.getByTestId('period-to').getAttribute('aria-describedby');
      expect(await page.locator(`[id="${described}"]`).innerText()).toBe('Kies een bestaande dag vanaf de eerste dag, hoogstens tien jaar later.');
    });
  }, 180_000);

  it('downloads a report as CSV and in the Excel form in the console\'s language, the same rows the API exports', async () => {
    const month = today().slice(0, 7);
    const period = `from=${month}-01&to=${lastDay(month)}`;
    const direct = async (path: string) => {
      const response = await fetch(`${world.base}/api/v1/currencies/${code}/exports/${path}`, { headers: { Authorization: `Bearer ${coordinator}` } });
      expect(response.status).toBe(200);
      return Buffer.from(await response.arrayBuffer());
    };
    await onReports('nl', async (page) => {
      const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-shops-shop-csv').click()]);
      expect(csv.suggestedFilename()).toBe(`shops-${code}-shop-${month}-01-${lastDay(month)}.csv`);
      const csv_bytes = readFileSync((await csv.path())!);
      expect(csv_bytes.equals(await direct(`shops.csv?${period}&group=shop&lang=nl`))).toBe(true);
      expect(csv_bytes.toString('utf8').split('\r\n')[0]).toBe(
        'Kenmerk winkel,Winkel,Betalingen,Ontvangen,Terugbetaald,Netto,Uitbetaling aangevraagd,Uitbetaling goedgekeurd,Uitbetaling geweigerd,Euro uitbetaald');

      const [excel] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-volunteering-month-excel').click()]);
      expect(excel.suggestedFilename()).toBe(`volunteering-${code}-month-${month}-01-${lastDay(month)}-excel.csv`);
      const excel_bytes = readFileSync((await excel.path())!);
      expect(excel_bytes.equals(await direct(`volunteering.csv?${period}&group=month&format=excel&lang=nl`))).toBe(true);
      expect(excel_bytes.subarray(0, 3).toString('hex')).toBe('efbbbf');
      expect(excel_bytes.toString('utf8').split('\r\n')[1]).toMatch(new RegExp(`^${month};`));
      const [ahead] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-liability-csv').click()]);
      expect(ahead.suggestedFilename()).toBe(`liability-${code}-${today()}.csv`);
      expect(readFileSync((await ahead.path())!).equals(await direct('liability.csv?months=12&lang=nl'))).toBe(true);
      expect(await page.getByTestId('download-error').count()).toBe(0);
    });
  }, 180_000);
});
