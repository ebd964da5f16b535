/**
 * Long lists in a real browser: a wallet's history (20 a page) and an account's statement in the
 * console (25 a page) show the first page, then "load more" appends the next ones until every
 * entry the API holds is on screen, in the API's order, each once; the button then goes away.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openConsole, requireTools, typePin, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

const poll = { timeout: 20_000, interval: 100 };
/** More than two pages of either list. */
const extra_entries = 55;

let world: World;
let browser: Browser;
let coordinator: string;

/** Every transfer id of an account's entries, newest first, read from the API page by page. */
async function entriesFromApi(path: string, token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const reply = await world.api('GET', `${path}?limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { token });
    expect(reply.status).toBe(200);
    ids.push(...(reply.body.items as Array<{ transfer_id: string }>).map((e) => e.transfer_id));
    cursor = reply.body.next_cursor as string | null;
  } while (cursor !== null);
  return ids;
}

/** Clicks "load more" until it is gone, checking that each click adds one page. */
async function loadAll(page: Page, row: string, button: string, page_size: number, total: number): Promise<void> {
  let shown = Math.min(page_size, total);
  await expect.poll(() => page.getByTestId(row).count(), poll).toBe(shown);
  while (shown < total) {
    await page.getByTestId(button).click();
    shown = Math.min(shown + page_size, total);
    await expect.poll(() => page.getByTestId(row).count(), poll).toBe(shown);
  }
  await expect.poll(() => page.getByTestId(button).count(), poll).toBe(0);
}

it('has a Chromium and its fonts', () => requireTools());

describe('paged lists, in Chromium', () => {
  const suite = worldAndBrowser('paging');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
    // One volunteer gets many small rewards from a programme, in one batch.
    const volunteer = world.demo.volunteers[0]!;
    const programme = world.demo.programmes[0]!;
    const batch = await world.api('POST', `/currencies/${world.demo.currency.code}/transfers/batch`, {
      token: coordinator, idempotent: true,
      body: {
        atomic: true,
        transfers: Array.from({ length: extra_entries }, (_, i) => ({
          debit_account: programme.account, credit_account: volunteer.account, amount: '1', code: 'reward', memo: `Kleine beloning ${i + 1}`,
        })),
      },
    });
    expect(batch.status, JSON.stringify(batch.body).slice(0, 300)).toBe(200);
  }, 240_000);

  it('the wallet shows its whole history, 20 at a time', async () => {
    const volunteer = world.demo.volunteers[0]!;
    const session = await world.api('POST', '/wallet/session', { body: { card: volunteer.card, pin: volunteer.pin } });
    expect(session.status).toBe(200);
    const expected = await entriesFromApi('/wallet/entries', session.body.token as string);
    expect(expected.length).toBeGreaterThan(extra_entries);

    await withPage(browser, world, 'phone', 'nl', async (page) => {
      await page.goto(volunteer.card_url);
      await page.getByTestId('open-card').first().waitFor();
      await typePin(page, volunteer.pin);
      await page.getByTestId('history').waitFor();
      await loadAll(page, 'entry', 'load-more', 20, expected.length);
      const shown = await page.getByTestId('entry').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-transfer')));
      expect(shown).toEqual(expected);
    });
  }, 120_000);

  it("the console shows an account's whole statement, 25 at a time", async () => {
    const volunteer = world.demo.volunteers[0]!;
    const expected = await entriesFromApi(`/accounts/${volunteer.account}/entries`, coordinator);
    expect(expected.length).toBeGreaterThan(extra_entries);

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/wallets/${volunteer.account}`);
      await page.getByTestId('statement').waitFor();
      await loadAll(page, 'entry-row', 'statement-more', 25, expected.length);
      const shown = await page.getByTestId('entry-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-transfer')));
      expect(shown).toEqual(expected);
    });
  }, 120_000);
});
