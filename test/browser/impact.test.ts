/**
 * #21 point 3, in a real browser on the demo neighbourhood: the public page /impact/<code>,
 * without a login. It shows the same figures as GET /public/currencies/{code}/impact, written in
 * the visitor's language (Dutch "2,5 u", English "2.5 h"), a group of fewer than ten people as
 * "< 10", charts as SVG images with their titles, and a table per month. `?lang=en` picks English
 * without a language remembered. Checked with axe-core in Dutch and English, on a desk screen
 * and on a phone (no sideways scrolling); it links nowhere, as it may be shown in a frame.
 * Screenshots: test-results/browser/impact/.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, expectNoPageErrors, newContext, newPage, requireTools, worldAndBrowser } from './support.js';
import type { Lang, World } from './support.js';
import type { Browser } from 'playwright-core';

let world: World;
let browser: Browser;
// The API's answer, read loosely.
let impact: any;

const intl: Record<Lang, string> = { nl: 'nl-BE', en: 'en-GB', fr: 'fr-BE' };
const hours_unit: Record<Lang, string> = { nl: 'u', en: 'h', fr: 'h' };

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

/** What the page writes for a group's hours in `lang`: "2,5 u", or "< 10" / "–" when hidden. */
function hoursIn(lang: Lang, shown: any): string {
  if (shown.suppressed) return shown.reason === 'small_group' ? `< ${shown.fewer_than as number}` : '–';
  return `${new Intl.NumberFormat(intl[lang], { maximumFractionDigits: 1 }).format(shown.hours)} ${hours_unit[lang]}`;
}

/** Opens the page in `lang` (the browser's language, or `?lang=`) and waits for its figures. */
async function onImpactPage(lang: Lang, device: 'tablet' | 'phone', query: string, steps: (page: Page) => Promise<void>): Promise<void> {
  const context = await newContext(browser, world, device, lang);
  try {
    const page = await newPage(context);
    await page.goto(`/impact/${world.demo.currency.code}${query}`);
    await page.getByTestId('impact-totals').waitFor();
    await steps(page);
    expectNoPageErrors(page);
  } finally {
    await context.close();
  }
}

/**
 * Every kind of activity of the demo has fewer than ten volunteers: ten more come to a repair café
 * session and an IT repair session this month. The demo's small groups together are still fewer
 * than ten people, so one of the two large ones is hidden with them (the page's "–").
 */
async function tenMoreAtTwoActivities(): Promise<void> {
  const code = world.demo.currency.code;
  const token = await world.login(world.demo.coordinator);
  const activities = await world.api('GET', `/currencies/${code}/activities`, { token });
  const sessions: string[] = [];
  for (const category of ['repair_cafe', 'it_repair']) {
    const activity = activities.body.items.find((a: any) => a.category === category);
    const session = await world.api('POST', `/activities/${activity.id as string}/sessions`, { token, body: { hours: '2.5', max_claims: 20 } });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    sessions.push(session.body.id as string);
  }
  for (let i = 1; i <= 10; i += 1) {
    const wallet = await world.api('POST', `/currencies/${code}/wallets`, { token, body: { display_name: `Buur ${i}`, pin: '2468' } });
    expect(wallet.status, JSON.stringify(wallet.body)).toBe(201);
    for (const session of sessions) {
      const awarded = await world.api('POST', `/sessions/${session}/awards`, { token, idempotent: true, body: { card: wallet.body.card.code } });
      expect(awarded.status, JSON.stringify(awarded.body)).toBe(201);
    }
  }
}

it('has a Chromium and its fonts', () => requireTools());

describe('the public impact page (#21 point 3), in Chromium', () => {
  const suite = worldAndBrowser('impact');
  beforeAll(async () => {
    ({ world, browser } = suite);
    await tenMoreAtTwoActivities();
    const answer = await world.api('GET', `/public/currencies/${world.demo.currency.code}/impact`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    impact = answer.body;
    // Now all three: a kind of activity shown, one of fewer than ten people, one hidden with those.
    const categories = impact.categories.map((k: any) => k.volunteering);
    expect(categories.some((v: any) => !v.suppressed && v.volunteers >= 10), JSON.stringify(categories)).toBe(true);
    expect(categories.some((v: any) => v.suppressed && v.reason === 'small_group'), JSON.stringify(categories)).toBe(true);
    expect(categories.some((v: any) => v.suppressed && v.reason === 'complement'), JSON.stringify(categories)).toBe(true);
  }, 240_000);

  it('in Dutch: the figures of the API as Dutch writes them, "< 10" for a small group, charts and a table per month', async () => {
    await onImpactPage('nl', 'tablet', '', async (page) => {
      expect(await page.locator('h1').innerText()).toBe(`${world.demo.currency.name}: wat de wijk deed`);
      expect(await page.title()).toContain('wat de wijk deed');
      expect(await text(page, 'impact-total-hours')).toBe(`Uren vrijwilligerswerk ${hoursIn('nl', impact.total.volunteering)}`);
      const shops = String(impact.total.active_shops);
      expect(await text(page, 'impact-total-shops')).toBe(`Actieve handelaars ${shops}`);
      const chart = page.getByTestId('impact-chart-categories');
      expect(await chart.locator('svg').getAttribute('role')).toBe('img');
      expect(await chart.locator('svg').getAttribute('aria-label')).toBe('Uren per soort activiteit');
      const chart_text = (await chart.innerText()).replace(/\s+/g, ' ');
      for (const k of impact.categories) expect(chart_text).toContain(hoursIn('nl', k.volunteering));
      expect(chart_text).toContain('< 10');
      expect(chart_text).toContain('–');
      expect(chart_text).toContain('Repair Café');
      // Only shown figures have a bar.
      const shown_categories = impact.categories.filter((k: any) => !k.volunteering.suppressed && k.volunteering.hours !== '0.00').length;
      expect(await chart.locator('rect').count()).toBe(shown_categories);
      const rows = page.getByTestId('impact-months').locator('tbody tr');
      expect(await rows.count()).toBe(12);
      const this_month = impact.months.at(-1);
      expect(await rows.last().getAttribute('data-month')).toBe(this_month.month);
      expect(await rows.last().locator('td').first().innerText()).toBe(hoursIn('nl', this_month.volunteering));
      expect(await text(page, 'impact-note')).toContain('< 10: over minder dan 10 mensen');
      expect(await page.getByTestId('impact-chart-hours').locator('svg').count()).toBe(1);
      await checkScreen(page, world, 'impact-desk', { languages: ['nl', 'en'] });
    });
  }, 120_000);

  it('in English with ?lang=en, also on a phone, without sideways scrolling', async () => {
    await onImpactPage('nl', 'phone', '?lang=en', async (page) => {
      await page.getByText('What the neighbourhood did', { exact: false }).first().waitFor();
      expect(await page.locator('h1').innerText()).toBe(`${world.demo.currency.name}: what the neighbourhood did`);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en-GB');
      expect(await text(page, 'impact-total-hours')).toBe(`Hours volunteered ${hoursIn('en', impact.total.volunteering)}`);
      const chart_text = await page.getByTestId('impact-chart-categories').innerText();
      for (const k of impact.categories) expect(chart_text).toContain(hoursIn('en', k.volunteering));
      expect(await page.getByTestId('impact-chart-categories').locator('svg').getAttribute('aria-label')).toBe('Hours per kind of activity');
      // Shown inside the city's site, the page links nowhere (a page elsewhere may not be framed).
      expect(await page.locator('a[href]').count()).toBe(0);
      // The language of the address is not remembered on the device.
      expect(await page.evaluate(() => localStorage.getItem('wm.locale'))).toBe('nl');
      await checkScreen(page, world, 'impact-phone');
    });
  }, 120_000);

  it('an unknown currency says so', async () => {
    const context = await newContext(browser, world, 'tablet', 'en');
    try {
      const page = await newPage(context);
      await page.goto('/impact/NOPE');
      await page.getByTestId('impact-error').waitFor();
      expect(await text(page, 'impact-error')).toBe('There is no neighbourhood coin with code NOPE.');
      expectNoPageErrors(page);
    } finally {
      await context.close();
    }
  }, 60_000);
});
