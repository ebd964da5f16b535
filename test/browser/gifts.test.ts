/**
 * Issue #20 points 3 and 4, in a real browser on the demo neighbourhood. Gifts: once an admin
 * allows them, the wallet home offers "Ontvangen" with the wallet's receive QR; another wallet
 * scans it (here: the scanner's typed link) and lands on a send screen with the receiver's name,
 * an amount and a message; over the day's limit it says what is left. Helpers: the coordinator
 * links a helper on the volunteer's page; the helper's wallet lists whom it helps and its pay
 * screen lets it choose whose wallet pays; the volunteer's history then says "betaald door …
 * voor …", and the helper's own "Betaald voor … bij …", apart from its own balance. Each screen
 * is checked with axe-core in Dutch and English.
 * Screenshots: test-results/browser/gifts/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseLanguage, checkScreen, expectNoPageErrors, newContext, newPage, openConsole, requireTools, withWalletHome, worldAndBrowser } from './support.js';
import type { World } from './support.js';
import type { DemoVolunteer } from '../../src/demo.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };
/** The same, for a screen shown in English (checkScreen starts with the current language). */
const both_from_en = { languages: ['en', 'nl'] as Array<'nl' | 'en'> };

let world: World;
let browser: Browser;
let admin: string;
let till: string;
/** Dutch-speaking demo volunteers with coins: a giver, a receiver (later the helped one), a helper. */
let giver: DemoVolunteer;
let receiver: DemoVolunteer;
let helper: DemoVolunteer;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

async function walletToken(who: DemoVolunteer): Promise<string> {
  const opened = await world.api('POST', '/wallet/session', { body: { card: who.card, pin: who.pin } });
  expect(opened.status).toBe(200);
  return opened.body.token as string;
}

async function balanceOf(who: DemoVolunteer): Promise<bigint> {
  const wallet = await world.api('GET', '/wallet', { token: await walletToken(who) });
  return BigInt(wallet.body.balance as string);
}

/** Opens `who`'s wallet on a phone and runs `steps` from its home. */
const onPhone = (who: DemoVolunteer, steps: (page: Page) => Promise<void>) => withWalletHome(browser, world, who, steps);

const withCoins = (v: DemoVolunteer) => v.language === 'nl' && v.balance !== undefined && BigInt(v.balance.split('.')[0]!) >= 30n;

it('has a Chromium and its fonts', () => requireTools());

describe('gifts between neighbours and helpers (#20 points 3 and 4), in Chromium', () => {
  const suite = worldAndBrowser('gifts');
  beforeAll(async () => {
    ({ world, browser } = suite);
    admin = await world.login(world.demo.admin);
    const coordinator = await world.login(world.demo.coordinator);
    const code = await world.api('POST', `/shops/${world.demo.shops[0]!.account}/pairing-codes`, { token: coordinator });
    const paired = await world.api('POST', '/shop/devices', { body: { pairing_code: code.body.pairing_code, device_name: 'API' } });
    expect(paired.status).toBe(201);
    till = paired.body.token as string;
    const rich = world.demo.volunteers.filter(withCoins);
    expect(rich.length, 'three Dutch-speaking demo volunteers with coins').toBeGreaterThanOrEqual(3);
    [giver, receiver, helper] = [rich[0]!, rich[1]!, rich[2]!];
  }, 240_000);

  it('gifts are off in the demo: no "Ontvangen" on the wallet home', async () => {
    const currency = await world.api('GET', `/currencies/${world.demo.currency.code}`, { token: admin });
    expect(currency.body.gifts_enabled).toBe(false);
    await onPhone(receiver, async (page) => {
      await page.getByTestId('my-card').waitFor();
      expect(await page.getByTestId('receive').count()).toBe(0);
    });
  }, 120_000);

  it('allowed, a wallet shows its receive QR; another scans it, gives coins with a message, and is told the day\'s limit', async () => {
    const allowed = await world.api('PATCH', `/currencies/${world.demo.currency.code}`, { token: admin, body: { gifts_enabled: true, gift_day_max: '20' } });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    const receive = await world.api('GET', '/wallet/receive', { token: await walletToken(receiver) });
    expect(receive.body.url).toBe(`${world.base}/r/${receive.body.code as string}`);

    await onPhone(receiver, async (page) => {
      await page.getByTestId('receive').click();
      const qr = page.getByTestId('receive-qr');
      await qr.waitFor();
      expect(await qr.getAttribute('data-qr-text')).toBe(receive.body.url);
      await expect.poll(() => qr.locator('svg').count(), poll).toBe(1);
      expect(await text(page, 'wallet-receive')).toContain('Laat je buur deze QR-code scannen');
      await checkScreen(page, world, 'wallet-receive', both);
    });

    const before = { giver: await balanceOf(giver), receiver: await balanceOf(receiver) };
    await onPhone(giver, async (page) => {
      await page.getByTestId('scan').click();
      await page.getByTestId('scanner-manual-input').fill(receive.body.url as string);
      await page.getByTestId('scanner-manual-submit').click();
      await page.getByTestId('gift-to').waitFor();
      expect(new URL(page.url()).pathname).toBe(`/r/${receive.body.code as string}`);
      expect(await text(page, 'gift-to')).toBe(receiver.name);
      await page.getByTestId('gift-amount').fill('12');
      await page.getByTestId('gift-memo').fill('Voor de soep');
      expect(await text(page, 'gift-send')).toBe('Geef 12 TOR');
      await checkScreen(page, world, 'wallet-gift', both);
      await page.getByTestId('gift-send').click();
      await page.getByTestId('gift-success').waitFor();
      expect(await text(page, 'gift-success-body')).toBe(`Je gaf 12 TOR aan ${receiver.name}.`);
      await checkScreen(page, world, 'wallet-gift-done', both);

      // Over the day's limit of 20: 8 are left, in English too.
      await page.goto(`/r/${receive.body.code as string}`);
      await chooseLanguage(page, 'en');
      await page.getByTestId('gift-amount').fill('9');
      expect(await text(page, 'gift-send')).toBe('Give 9 TOR');
      await page.getByTestId('gift-send').click();
      await page.getByTestId('gift-error').waitFor();
      expect(await text(page, 'gift-error')).toBe('You can give 8 TOR more today.');
      await checkScreen(page, world, 'wallet-gift-limit', both_from_en);
      await chooseLanguage(page, 'nl');
      expect(await text(page, 'gift-error')).toBe('Je kunt vandaag nog 8 TOR geven.');
    });
    expect(await balanceOf(giver)).toBe(before.giver - 12n);
    expect(await balanceOf(receiver)).toBe(before.receiver + 12n);

    await onPhone(receiver, async (page) => {
      const entry = page.locator('[data-testid="entry"][data-code="gift"]').first();
      await entry.waitFor();
      expect((await entry.innerText()).replace(/\s+/g, ' ')).toContain(giver.name);
      expect((await entry.innerText()).replace(/\s+/g, ' ')).toContain('Geschenk');
    });
  }, 240_000);

  it('a coordinator links a helper; the helper chooses whose wallet pays; both see "betaald door … voor …", the helper\'s own history "Betaald voor … bij …"', async () => {
    const context = await newContext(browser, world, 'tablet', 'nl');
    try {
      const page = await newPage(context);
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/wallets/${receiver.account}`);
      await page.getByTestId('wallet-helpers').waitFor();
      await page.getByTestId('helpers-empty').waitFor();
      await page.getByTestId('helper-search').fill(helper.name);
      await expect.poll(async () => (await page.getByTestId('helper-choose').inputValue()), poll).toBe(helper.account);
      await page.getByTestId('helper-month-max').fill('30');
      await page.getByTestId('helper-link').click();
      await page.getByTestId('helper-done').waitFor();
      expect(await text(page, 'helper-done')).toBe(`${helper.name} is helper, tot 30 TOR per maand.`);
      expect(await text(page, 'helper-item')).toBe(`${helper.name}: 0 TOR van 30 TOR deze maand Ontkoppelen`);
      await checkScreen(page, world, 'console-wallet-helpers', both);
      expectNoPageErrors(page);
    } finally {
      await context.close();
    }

    const made = await world.api('POST', '/shop/payment-requests', { token: till, body: { amount: '7' } });
    expect(made.status).toBe(201);
    const shop_name = world.demo.shops[0]!.name;
    const before = { helper: await balanceOf(helper), helped: await balanceOf(receiver) };
    await onPhone(helper, async (page) => {
      await page.getByTestId('helped-item').waitFor();
      expect(await text(page, 'helped-item')).toBe(`${receiver.name}: nog 30 TOR deze maand`);
      await page.goto(`/p/${made.body.id as string}`);
      await page.getByTestId('payer-choice').waitFor();
      await page.getByTestId(`payer-${receiver.account}`).check();
      expect(await text(page, 'pay-balance-now')).toBe(`${before.helped} TOR`);
      await checkScreen(page, world, 'wallet-pay-helper', both);
      await page.getByTestId('pay-confirm').click();
      await page.getByTestId('pay-success').waitFor();
      await page.goto('/wallet');
      await page.getByTestId('helped-item').waitFor();
      expect(await text(page, 'helped-item')).toBe(`${receiver.name}: nog 23 TOR deze maand`);
      // The helper's own history says what it paid for whom and where, apart from its own coins.
      const row = page.locator('[data-testid="entry"][data-for-other="true"]');
      await row.first().waitFor();
      expect(await row.count()).toBe(1);
      const request = await world.api('GET', `/payment-requests/${made.body.id as string}`);
      expect(request.body.transfer_id).toBeDefined();
      expect(await row.getAttribute('data-transfer')).toBe(request.body.transfer_id);
      expect(await text(page, 'entry-for-other')).toBe(`Betaald voor ${receiver.name} bij ${shop_name}`);
      expect(await text(page, 'entry-not-from-balance')).toBe('Niet van je eigen saldo');
      expect((await row.locator('.entry-amount').innerText()).replace(/\s+/g, ' ')).toBe('7 TOR');
      await chooseLanguage(page, 'en');
      expect(await text(page, 'entry-for-other')).toBe(`Paid for ${receiver.name} at ${shop_name}`);
      expect(await text(page, 'entry-not-from-balance')).toBe('Not from your own balance');
      await checkScreen(page, world, 'wallet-home-paid-for-other', both_from_en);
    });
    expect(await balanceOf(helper)).toBe(before.helper);
    expect(await balanceOf(receiver)).toBe(before.helped - 7n);

    await onPhone(receiver, async (page) => {
      const line = page.getByTestId('entry-on-behalf').first();
      await line.waitFor();
      expect(await text(page, 'entry-on-behalf')).toBe(`betaald door ${helper.name} voor ${receiver.name}`);
      await chooseLanguage(page, 'en');
      expect(await text(page, 'entry-on-behalf')).toBe(`paid by ${helper.name} for ${receiver.name}`);
      await checkScreen(page, world, 'wallet-home-paid-by-helper', both_from_en);
    });
  }, 240_000);
});
