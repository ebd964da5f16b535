/**
 * Issue #20 point 1, in a real browser on the demo neighbourhood: coins that expire, with warning.
 * The wallet's home says how many coins expire on which day when that is within 30 days (in the
 * volunteer's language), and nothing otherwise; the coordinator's page of the volunteer lists
 * every date within 60 days ("Vervalt binnenkort").
 *
 * The API cannot date coins back and these tests do not reach the database, so the currency's
 * validity is set with PATCH /currencies/{code}: a new validity counts from today, so the demo's
 * coins (all earned today) expire exactly validity_days from now. First no validity (nothing
 * shown anywhere), then 45 days (the console lists it, the wallet is still quiet), then 10 days
 * (both show it). Each screen is checked with axe-core in Dutch and English.
 * Screenshots: test-results/browser/expiry/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseLanguage, checkScreen, expectNoPageErrors, newContext, newPage, openConsole, requireTools, withWalletHome, worldAndBrowser } from './support.js';
import type { World } from './support.js';
import type { DemoVolunteer } from '../../src/demo.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };

let world: World;
let browser: Browser;
let admin: string;
let coordinator: string;
/** A Dutch-speaking volunteer with coins. */
let person: DemoVolunteer;
let person_token: string;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

/** What GET /wallet says now. */
async function walletNow(): Promise<{ balance: string; currency: string; expiring: Array<{ amount: string; on: string }> }> {
  const answer = await world.api('GET', '/wallet', { token: person_token });
  expect(answer.status).toBe(200);
  return answer.body;
}

async function setValidity(validity_days: number | null): Promise<void> {
  const answer = await world.api('PATCH', `/currencies/${world.demo.currency.code}`, { token: admin, body: { validity_days } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

/** An amount and a local day as the app writes them in `tag`: "12 TOR", "3 maart". */
function amountIn(tag: string, amount: string, currency: string): string {
  const scale = amount.includes('.') ? amount.length - amount.indexOf('.') - 1 : 0;
  return `${new Intl.NumberFormat(tag, { minimumFractionDigits: scale, maximumFractionDigits: scale }).format(amount as unknown as number)} ${currency}`;
}
function dayIn(tag: string, day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  const options: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'long', timeZone: 'UTC' };
  if (date.getUTCFullYear() !== new Date().getFullYear()) options.year = 'numeric';
  return new Intl.DateTimeFormat(tag, options).format(date);
}

/** The local day (Europe/Brussels) `days` from now. */
function brusselsDay(days: number): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  const date = new Date(`${today}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** Opens the volunteer's wallet on a phone and runs `steps` on its home, balance and history loaded. */
const onWalletHome = (steps: (page: Page) => Promise<void>) => withWalletHome(browser, world, person, async (page) => {
  await page.getByTestId('history').waitFor();
  await steps(page);
});

/** The coordinator's page of the volunteer, loaded, on a desk screen. */
async function onConsolePage(steps: (page: Page) => Promise<void>): Promise<void> {
  const context = await newContext(browser, world, 'tablet', 'nl');
  try {
    const page = await newPage(context);
    await openConsole(page, world.demo.coordinator);
    await page.goto(`/console/wallets/${person.account}`);
    await page.getByTestId('wallet-balance').waitFor();
    await steps(page);
    expectNoPageErrors(page);
  } finally {
    await context.close();
  }
}

it('has a Chromium and its fonts', () => requireTools());

describe('coins that expire, with warning (#20), in Chromium', () => {
  const suite = worldAndBrowser('expiry');
  beforeAll(async () => {
    ({ world, browser } = suite);
    admin = await world.login(world.demo.admin);
    coordinator = await world.login(world.demo.coordinator);
    person = world.demo.volunteers.find((v) => v.language === 'nl' && v.balance !== undefined && BigInt(v.balance.split('.')[0]!) > 1n)!;
    expect(person, 'a Dutch-speaking demo volunteer with coins').toBeDefined();
    const opened = await world.api('POST', '/wallet/session', { body: { card: person.card, pin: person.pin } });
    expect(opened.status).toBe(200);
    person_token = opened.body.token as string;
  }, 240_000);

  it('without a validity nothing expires: the wallet home and the volunteer page say nothing of it', async () => {
    await setValidity(null);
    expect((await walletNow()).expiring).toEqual([]);
    await onWalletHome(async (page) => {
      expect(await page.getByTestId('expiring').count()).toBe(0);
      expect(await page.getByTestId('wallet-home').innerText()).not.toContain('vervallen op');
    });
    await onConsolePage(async (page) => {
      expect(await page.getByTestId('wallet-expiring').count()).toBe(0);
    });
  }, 120_000);

  it('coins expiring in 45 days: listed on the volunteer page, not yet on the wallet home', async () => {
    await setValidity(45);
    const wallet = await walletNow();
    expect(wallet.expiring).toEqual([{ amount: wallet.balance, on: brusselsDay(45) }]);
    await onWalletHome(async (page) => {
      expect(await page.getByTestId('expiring').count()).toBe(0);
    });
    await onConsolePage(async (page) => {
      const row = page.getByTestId('wallet-expiring');
      await row.waitFor();
      expect(await text(page, 'wallet-expiring')).toBe(
        `Vervalt binnenkort ${amountIn('nl-BE', wallet.balance, wallet.currency)} op ${dayIn('nl-BE', brusselsDay(45))}`);
      expect(await page.getByTestId('wallet-expiring-item').getAttribute('data-on')).toBe(brusselsDay(45));
    });
  }, 120_000);

  it('coins expiring in 10 days: "… vervallen op …" on the wallet home (nl, en) and on the volunteer page', async () => {
    await setValidity(10);
    const wallet = await walletNow();
    const on = brusselsDay(10);
    expect(wallet.expiring).toEqual([{ amount: wallet.balance, on }]);

    await onWalletHome(async (page) => {
      const line = page.getByTestId('expiring-line');
      await line.waitFor();
      expect(await line.count()).toBe(1);
      expect(await line.getAttribute('data-amount')).toBe(wallet.balance);
      expect(await line.getAttribute('data-on')).toBe(on);
      expect(await text(page, 'expiring-line')).toBe(`${amountIn('nl-BE', wallet.balance, wallet.currency)} vervallen op ${dayIn('nl-BE', on)}.`);
      expect(await text(page, 'expiring')).toContain('Je betaalt altijd eerst met je oudste munten.');
      await checkScreen(page, world, 'wallet-home-expiring', both);
      await chooseLanguage(page, 'en');
      expect(await text(page, 'expiring-line')).toBe(`${amountIn('en-GB', wallet.balance, wallet.currency)} expire on ${dayIn('en-GB', on)}.`);
    });

    await onConsolePage(async (page) => {
      await page.getByTestId('wallet-expiring').waitFor();
      const items = page.getByTestId('wallet-expiring-item');
      expect(await items.count()).toBe(1);
      expect(await items.getAttribute('data-amount')).toBe(wallet.balance);
      expect(await text(page, 'wallet-expiring')).toBe(
        `Vervalt binnenkort ${amountIn('nl-BE', wallet.balance, wallet.currency)} op ${dayIn('nl-BE', on)}`);
      await checkScreen(page, world, 'console-wallet-expiring', both);
      await chooseLanguage(page, 'en');
      expect(await text(page, 'wallet-expiring')).toBe(
        `Expiring soon ${amountIn('en-GB', wallet.balance, wallet.currency)} on ${dayIn('en-GB', on)}`);
    });

    // The coordinator's API says the same as the page.
    const detail = await world.api('GET', `/wallets/${person.account}`, { token: coordinator });
    expect(detail.body.expiring).toEqual([{ amount: wallet.balance, on }]);
  }, 180_000);
});
