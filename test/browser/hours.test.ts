/**
 * Issue #19 point 16 (hours): hours read the same way on every screen that shows them — "2,5 u"
 * in Dutch, "2.5 h" in English, "2,5 h" in French (web/src/lib/hours.ts) — in the coordinator
 * console's session list, a session's page and the dashboard's rewards of today, on the demo
 * neighbourhood and a session of 2.5 hours.
 * Screenshots: test-results/browser/hours/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, openConsole, requireTools, withPage, worldAndBrowser } from './support.js';
import type { Lang, World } from './support.js';

let world: World;
let browser: Browser;
/** A session of 2.5 hours, made through the API. */
let session_id: string;

const text = async (page: Page, locator: string) => (await page.locator(locator).first().innerText()).trim();

/** "2,5 u", "2.5 h", "2,5 h": the number as the language writes it, a non-breaking space, the unit. */
const expected: Record<Lang, { session: string; today: RegExp }> = {
  nl: { session: '2,5\u00a0u', today: /, \d+(,\d)?\u00a0u$/ },
  en: { session: '2.5\u00a0h', today: /, \d+(\.\d)?\u00a0h$/ },
  fr: { session: '2,5\u00a0h', today: /, \d+(,\d)?\u00a0h$/ },
};

it('has a Chromium and its fonts', () => requireTools());

describe('hours shown the same way everywhere (#19 point 16)', () => {
  const suite = worldAndBrowser('hours');
  beforeAll(async () => {
    ({ world, browser } = suite);
    const coordinator = await world.login(world.demo.coordinator);
    const activities = await world.api('GET', `/currencies/${world.demo.currency.code}/activities`, { token: coordinator });
    expect(activities.status).toBe(200);
    const hourly = (activities.body.items as Array<{ id: string; rate_per_hour: string | null; active: boolean }>)
      .find((activity) => activity.rate_per_hour !== null && activity.active);
    expect(hourly, 'a demo activity paid per hour').toBeDefined();
    const made = await world.api('POST', `/activities/${hourly!.id}/sessions`, { token: coordinator, body: { hours: '2.5', max_claims: 5 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    session_id = made.body.id as string;
    // One volunteer rewarded for its 2.5 hours: today's total gets a half hour.
    const award = await world.api('POST', `/sessions/${session_id}/awards`, { token: coordinator, idempotent: true, body: { card: world.demo.volunteers[0]!.card } });
    expect(award.status, JSON.stringify(award.body)).toBe(201);
  }, 240_000);

  for (const lang of ['nl', 'en', 'fr'] as const) {
    it(`${lang}: the session list, a session's page and today's rewards write hours as ${JSON.stringify(expected[lang].session)}`, async () => {
      await withPage(browser, world, 'tablet', lang, async (page) => {
        await openConsole(page, world.demo.coordinator);
        const hint = await text(page, '[data-testid="today-rewards"] .stat-hint');
        expect(hint).toMatch(expected[lang].today);
        // Today's total ends in a half hour: written with the language's decimal sign.
        expect(hint).toMatch(lang === 'en' ? /\d\.5\u00a0h$/ : /\d,5\u00a0[uh]$/);

        await page.goto('/console/sessions');
        const row = page.locator(`[data-testid="session-row"][data-id="${session_id}"]`);
        await row.waitFor();
        expect(await text(page, `[data-testid="session-row"][data-id="${session_id}"] [data-testid="session-row-hours"]`)).toBe(expected[lang].session);
        await checkScreen(page, world, 'console-sessions');

        await page.goto(`/console/sessions/${session_id}`);
        await page.getByTestId('session-hours-value').waitFor();
        expect(await text(page, '[data-testid="session-hours-value"]')).toBe(expected[lang].session);
        await checkScreen(page, world, 'console-session');
      });
    });
  }
});
