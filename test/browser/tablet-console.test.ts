/**
 * Issue #19, the shop tablet and the coordinator console, in a real browser on the demo
 * neighbourhood: the session form's "Geldig tot" and its hint say the same (point 16); a running
 * claim session ended from the sessions screen after a confirmation, its QR then refused on a
 * volunteer's phone; refund and cash-out amounts typed on the tablet's own keypad (13); the audit
 * log's actions, the ledger check and the shop's history in the screen's language (5 and 11).
 * Each screen is checked with axe-core in Dutch and English. Screenshots:
 * test-results/browser/tablet-console/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, openConsole, requireTools, typePin, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };

let world: World;
let browser: Browser;
let coordinator: string;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

/** The hint of the field `testid` (what its aria-describedby names first). */
async function hintOf(page: Page, testid: string): Promise<string> {
  return page.getByTestId(testid).evaluate((input) => {
    const id = (input.getAttribute('aria-describedby') ?? '').split(' ')[0] ?? '';
    return document.getElementById(id)?.textContent ?? '';
  });
}

/** A datetime-local value `minutes` from now, in the browser's zone (the tests run in Europe/Brussels). */
async function localInFuture(page: Page, minutes: number): Promise<string> {
  return page.evaluate((ms) => {
    const date = new Date(Date.now() + ms);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }, minutes * 60_000);
}

it('has a Chromium and its fonts', () => requireTools());

describe('the shop tablet and the coordinator console (#19), in Chromium', () => {
  const suite = worldAndBrowser('tablet-console');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
  }, 240_000);

  it('16 and ending a session: the form\'s "Geldig tot" and its hint agree; a running session ended after a confirmation, its QR refused', async () => {
    const activities = (await world.api('GET', `/currencies/${world.demo.currency.code}/activities`, { token: coordinator })).body.items as Array<{
      id: string; name: { nl: string }; rate_per_hour: string | null; active: boolean;
    }>;
    const activity = activities.find((a) => a.active && a.rate_per_hour !== null)!;
    const volunteer = world.demo.volunteers.find((v) => v.language === 'nl')!;
    let session: { id: string; claim_url: string } | undefined;

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/activities/${activity.id}/session`);
      await page.getByTestId('session-expires').waitFor();
      // Filled in 4 hours ahead, and the hint says so (not "leave empty: 12 hours").
      expect(await hintOf(page, 'session-expires')).toBe('Daarna werkt de QR-code niet meer: nog 4 u vanaf nu.');
      await page.getByTestId('session-expires').fill(await localInFuture(page, 150));
      await expect.poll(() => hintOf(page, 'session-expires'), poll).toBe('Daarna werkt de QR-code niet meer: nog 2,5 u vanaf nu.');
      await checkScreen(page, world, 'console-new-session', both);

      // Emptied: the hint asks for a time and the form refuses to send; nothing is made.
      const before = (await world.api('GET', `/currencies/${world.demo.currency.code}/sessions?open=true`, { token: coordinator })).body.items.length as number;
      await page.getByTestId('session-expires').fill('');
      await expect.poll(() => hintOf(page, 'session-expires'), poll).toBe('Kies tot wanneer de QR-code werkt.');
      await page.getByTestId('session-create').click();
      await expect.poll(() => page.getByTestId('session-expires').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'console-new-session')).toContain('Kies een moment in de toekomst.');
      expect((await world.api('GET', `/currencies/${world.demo.currency.code}/sessions?open=true`, { token: coordinator })).body.items.length).toBe(before);

      const until = await localInFuture(page, 150);
      await page.getByTestId('session-expires').fill(until);
      await page.getByTestId('session-create').click();
      await page.getByTestId('console-session').waitFor();
      await page.getByTestId('claim-qr').locator('svg').waitFor();
      const id = new URL(page.url()).pathname.split('/').pop()!;
      session = { id, claim_url: (await page.getByTestId('claim-qr').getAttribute('data-qr-text'))! };
      const made = (await world.api('GET', `/sessions/${id}`, { token: coordinator })).body as { expires_at: string; closed_at: string | null };
      // The time chosen is the time the session got.
      const chosen = await page.evaluate((value) => new Date(value).toISOString(), until);
      expect(made.expires_at).toBe(chosen);
      expect(made.closed_at).toBeNull();

      // The sessions screen: "Nu beëindigen", asked first; cancelling changes nothing.
      await page.getByTestId('nav-sessions').click();
      const row = page.locator(`[data-testid="session-list"][data-open="true"] [data-testid="session-row"][data-id="${id}"]`);
      await row.waitFor();
      expect(await row.getByTestId('session-end').innerText()).toBe('Nu beëindigen');
      await row.getByTestId('session-end').click();
      const dialog = page.getByTestId('session-end-dialog');
      await dialog.getByTestId('confirm-ok').waitFor();
      expect(await dialog.innerText()).toContain(`${activity.name.nl}: wie de QR-code hierna scant, krijgt geen munten meer.`);
      await checkScreen(page, world, 'console-session-end-confirm', both);
      await dialog.getByTestId('confirm-cancel').click();
      await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open), poll).toBe(false);
      expect((await world.api('GET', `/sessions/${id}`, { token: coordinator })).body.closed_at).toBeNull();

      await row.getByTestId('session-end').click();
      await dialog.getByTestId('confirm-ok').click();
      // It leaves the running sessions and joins the ended ones.
      await page.locator(`[data-testid="session-list"][data-open="false"] [data-testid="session-row"][data-id="${id}"]`).waitFor();
      expect(await row.count()).toBe(0);
      expect((await world.api('GET', `/sessions/${id}`, { token: coordinator })).body.closed_at).not.toBeNull();
      // The demo's own running session was not touched.
      await page.locator(`[data-testid="session-list"][data-open="true"] [data-testid="session-row"][data-id="${world.demo.open_session.id}"]`).waitFor();

      // Its page no longer shows a QR, nor offers to end it again.
      await page.goto(`/console/sessions/${id}`);
      await page.getByTestId('session-ended-note').waitFor();
      expect(await page.getByTestId('session-state').getAttribute('data-state')).toBe('ended');
      expect(await page.getByTestId('claim-qr').count()).toBe(0);
      expect(await page.getByTestId('session-end').count()).toBe(0);
      await checkScreen(page, world, 'console-session-ended', both);
    });

    // A volunteer scanning the QR afterwards gets no coins, and is told why in Dutch.
    await withPage(browser, world, 'phone', 'nl', async (page) => {
      await page.goto(volunteer.card_url);
      await page.getByTestId('open-card').waitFor();
      await typePin(page, volunteer.pin);
      await page.getByTestId('wallet-home').waitFor();
      const balance = await page.getByTestId('balance').getAttribute('data-amount');
      await page.goto(session!.claim_url.slice(world.base.length));
      await expect.poll(() => page.getByTestId('claim-error').locator('[data-code]').getAttribute('data-code'), poll).toBe('session_closed');
      expect(await text(page, 'claim-error')).toContain('De coördinator heeft deze activiteit beëindigd: deze QR-code geeft geen munten meer.');
      expect(await page.getByTestId('claim-success').count()).toBe(0);
      const wallet = await world.api('POST', '/wallet/session', { body: { card: volunteer.card, pin: volunteer.pin } });
      const now = await world.api('GET', '/wallet', { token: wallet.body.token });
      expect(now.body.balance).toBe(balance);
    });
  }, 180_000);
});
