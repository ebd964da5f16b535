/**
 * Issue #5, in a real browser: every screen of the wallet, the shop tablet and the coordinator
 * console — with its error states and dialogs — in Dutch and in English, checked with axe-core
 * (no serious or critical violation) and for sideways scrolling on a 360×640 phone and a
 * 1280×800 tablet. The world is the demo neighbourhood; the screens come up by their deep links
 * and a few clicks. Screenshots are in test-results/browser/screens/.
 */
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkNoSidewaysScroll, checkScreen, dashboardLoaded, docScreenshot, expectNoPageErrors, newContext, newPage, requireTools,
  typeAmount, typePin, viewports, worldAndBrowser, writeAxeReport,
} from './support.js';
import type { Lang, World } from './support.js';

const languages: Lang[] = ['nl', 'en'];
const poll = { timeout: 20_000, interval: 100 };

let world: World;
let browser: Browser;
/** Made through the API: a payment request still open, and one already paid. */
let open_request: string;
let paid_request: string;
let coordinator: string;

/**
 * The screen as it is: axe-core and no sideways scrolling at the page's own viewport, then no
 * sideways scrolling at the other one (phone ↔ tablet) too.
 */
async function screen(page: Page, name: string): Promise<void> {
  await checkScreen(page, world, name);
  const own = page.viewportSize()!;
  const other = own.width === viewports.phone.width ? viewports.tablet : viewports.phone;
  await page.setViewportSize(other);
  await checkNoSidewaysScroll(page, world, name);
  await page.setViewportSize(own);
}

/** What the pages showed when a step failed, for the test results. */
async function failureScreenshot(context: BrowserContext, label: string): Promise<void> {
  for (const [index, page] of context.pages().entries()) {
    await page.screenshot({ path: path.join(world.shots, `FAILED-${label}-${index}.png`), fullPage: true }).catch(() => undefined);
  }
}

const testid = (page: Page, id: string) => page.getByTestId(id).first();

// A missing browser is a failure that says what to install, never a skip.
it('has a Chromium and its fonts', () => requireTools());

describe('every screen, in Chromium', () => {
  const suite = worldAndBrowser('screens');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
    // A tablet of the thrift shop (its printed pairing code) and a wallet to pay from.
    const paired = await world.api('POST', '/shop/devices', { body: { pairing_code: world.demo.shops[1]!.pairing_code, device_name: 'API' } });
    expect(paired.status).toBe(201);
    const till = paired.body.token as string;
    const payer = world.demo.volunteers.find((v) => v.name === 'Jonas')!;
    const opened = await world.api('POST', '/wallet/session', { body: { card: payer.card, pin: payer.pin } });
    expect(opened.status).toBe(200);
    const request = async (amount: string) => {
      const made = await world.api('POST', '/shop/payment-requests', { token: till, body: { amount, memo: 'Boeken' } });
      expect(made.status).toBe(201);
      return made.body.id as string;
    };
    open_request = await request('4');
    paid_request = await request('3');
    expect((await world.api('POST', `/payment-requests/${paid_request}/pay`, { token: opened.body.token, idempotent: true })).status).toBe(201);
  }, 240_000);

  // Runs before worldAndBrowser's own afterAll (hooks after tests run in reverse order).
  afterAll(() => {
    if (world !== undefined) writeAxeReport(world);
  });

  describe.each(languages)('every screen in %s', (lang) => {
    it('the phone wallet (360×640)', async () => {
      const person = world.demo.volunteers.find((v) => v.language === lang && v.name !== 'Jonas')!;
      const context = await newContext(browser, world, 'phone', lang);
      const page = await newPage(context);
      try {
        await page.goto('/');
        await testid(page, 'landing').waitFor();
        await screen(page, 'landing');

        await page.goto('/wallet');
        await testid(page, 'card-input').waitFor();
        await screen(page, 'wallet-open');
        await testid(page, 'card-input').fill('not a card');
        await testid(page, 'card-submit').click();
        await testid(page, 'card-error').waitFor();
        await screen(page, 'wallet-open-invalid');

        await page.goto(person.card_url);
        await testid(page, 'open-card').waitFor();
        await typePin(page, person.pin);
        await testid(page, 'wallet-home').waitFor();
        await testid(page, 'history').waitFor();
        await screen(page, 'wallet-home');

        await testid(page, 'scan').click();
        await testid(page, 'wallet-scan').waitFor();
        // No camera in this browser: it says so and offers to type the code.
        await expect.poll(() => testid(page, 'scanner').getAttribute('data-camera'), poll).toMatch(/unavailable|denied/);
        await screen(page, 'wallet-scan');
        await testid(page, 'scanner-manual-input').fill(person.card);
        await testid(page, 'scanner-manual-submit').click();
        await testid(page, 'scan-problem').waitFor();
        await screen(page, 'wallet-scan-problem');

        await page.goto('/wallet/card');
        await testid(page, 'card-qr').locator('svg').waitFor();
        await screen(page, 'wallet-card');

        await page.goto('/wallet/pin');
        await testid(page, 'pin-change-step').waitFor();
        await screen(page, 'wallet-pin-change');

        await page.goto(`/p/${open_request}`);
        await testid(page, 'pay-summary').waitFor();
        await testid(page, 'pay-confirm').waitFor();
        await screen(page, 'wallet-pay');
        await page.goto(`/p/${paid_request}`);
        await testid(page, 'pay-blocked').waitFor();
        await screen(page, 'wallet-pay-paid-already');

        // The demo's open session: claimed once, then "already claimed".
        const claim = world.demo.open_session.claim_url.slice(world.base.length);
        await page.goto(claim);
        await testid(page, 'claim-success').waitFor();
        await screen(page, 'wallet-claim');
        await page.reload();
        await expect.poll(() => page.getByTestId('claim-error').locator('[data-code]').getAttribute('data-code'), poll).toBe('already_claimed');
        await screen(page, 'wallet-claim-already');

        await page.goto('/wallet/nothing-here');
        await testid(page, 'not-found').waitFor();
        await screen(page, 'not-found');
        expectNoPageErrors(page);
      } catch (error) {
        await failureScreenshot(context, `wallet-${lang}`);
        throw error;
      } finally {
        await context.close();
      }
    }, 120_000);

    it('the shop tablet (1280×800)', async () => {
      const shop = world.demo.shops[2]!;
      const code = await world.api('POST', `/shops/${shop.account}/pairing-codes`, { token: coordinator });
      expect(code.status).toBe(201);
      const context = await newContext(browser, world, 'tablet', lang);
      const page = await newPage(context);
      try {
        await page.goto('/shop');
        await testid(page, 'pair-code-input').fill('AAAA-AAAA');
        await testid(page, 'pair-name-input').fill('Kassa');
        await testid(page, 'pair-submit').click();
        await testid(page, 'pair-error').waitFor();
        await screen(page, 'shop-pair-wrong');
        await testid(page, 'pair-code-input').fill(code.body.pairing_code);
        await testid(page, 'pair-submit').click();
        await testid(page, 'shop-till').waitFor();
        await testid(page, 'request-payment').waitFor();
        await screen(page, 'shop-till-empty');

        await typeAmount(page, '7');
        await testid(page, 'memo-input').fill('Fietsbel');
        await testid(page, 'request-payment').click();
        await testid(page, 'payment-qr').locator('svg').waitFor();
        await screen(page, 'shop-payment-qr');
        await testid(page, 'payment-cancel').click();
        await testid(page, 'till-notice').waitFor();
        await screen(page, 'shop-till-cancelled');

        // A paid request shows "paid" (then the keypad comes back by itself).
        await page.goto(`/shop/request/${paid_request}`);
        await testid(page, 'payment-paid').waitFor();
        await checkScreen(page, world, 'shop-paid');

        await page.goto('/shop/card');
        await expect.poll(() => testid(page, 'scanner').getAttribute('data-camera'), poll).toMatch(/unavailable|denied/);
        await screen(page, 'shop-card-scan');
        await testid(page, 'scanner-manual-input').fill(open_request);
        await testid(page, 'scanner-manual-submit').click();
        await testid(page, 'card-scan-problem').waitFor();
        await screen(page, 'shop-card-scan-not-a-card');
        await testid(page, 'scanner-manual-input').fill(world.demo.volunteers[0]!.card);
        await testid(page, 'scanner-manual-submit').click();
        await expect.poll(() => testid(page, 'charge-step').getAttribute('data-step'), poll).toBe('amount');
        await typeAmount(page, '1');
        await testid(page, 'charge-continue').click();
        await expect.poll(() => testid(page, 'charge-step').getAttribute('data-step'), poll).toBe('pin');
        await typePin(page, '12');
        await testid(page, 'charge-error').waitFor();
        await screen(page, 'shop-card-pin-too-short');

        await page.goto('/shop/today');
        await testid(page, 'history').waitFor();
        await screen(page, 'shop-today');
        await testid(page, 'unpair').click();
        await testid(page, 'unpair-confirm-box').waitFor();
        await screen(page, 'shop-unpair-confirm');
        await testid(page, 'unpair-cancel').click();

        await page.goto('/shop/cashout');
        await testid(page, 'cashout-available').waitFor();
        await testid(page, 'cashout-amount-input').fill('999999');
        await testid(page, 'cashout-too-much').waitFor();
        await screen(page, 'shop-cashout-too-much');

        await page.goto('/shop/nothing-here');
        await testid(page, 'shop-not-found').waitFor();
        await screen(page, 'shop-not-found');
        expectNoPageErrors(page);
      } catch (error) {
        await failureScreenshot(context, `shop-${lang}`);
        throw error;
      } finally {
        await context.close();
      }
    }, 120_000);

    it('the coordinator console (1280×800), as an admin', async () => {
      const context = await newContext(browser, world, 'tablet', lang);
      const page = await newPage(context);
      const wallet = world.demo.volunteers[1]!;
      const programme = world.demo.programmes[0]!;
      const activities = (await world.api('GET', '/currencies/TOR/activities', { token: coordinator })).body.items as Array<{ id: string }>;
      try {
        await page.goto('/console');
        await testid(page, 'login-email').fill(world.demo.admin.email);
        await testid(page, 'login-password').fill('wrong password');
        await testid(page, 'login-submit').click();
        await testid(page, 'login-error').waitFor();
        await screen(page, 'console-login-wrong');
        await testid(page, 'login-password').fill(world.demo.admin.password);
        await testid(page, 'login-submit').click();
        await dashboardLoaded(page);
        await screen(page, 'console-dashboard');

        // Volunteers: the list, selecting, the printed card sheet.
        await page.goto('/console/wallets');
        await testid(page, 'wallet-row').waitFor();
        await testid(page, 'wallet-select-all').check();
        await screen(page, 'console-wallets');
        const [sheet] = await Promise.all([context.waitForEvent('page'), testid(page, 'print-cards').click()]);
        await expect.poll(() => sheet.url(), poll).toMatch(/^blob:/);
        await sheet.waitForLoadState('load');
        await sheet.locator('svg').first().waitFor();
        // The sheet's own styles arrive as a constructed stylesheet once it has loaded.
        await expect.poll(() => sheet.evaluate(() => document.adoptedStyleSheets.length), poll).toBeGreaterThan(0);
        if (lang === 'nl') await docScreenshot(sheet, world, 'card-sheet');
        await checkScreen(sheet, world, 'card-sheet');
        await sheet.close();

        await page.goto('/console/wallets/new');
        await testid(page, 'register-submit').click();
        await page.locator('[aria-invalid="true"]').first().waitFor();
        await screen(page, 'console-register-invalid');
        await testid(page, 'register-name').fill(`Yasmina ${lang}`);
        await testid(page, 'register-language').selectOption(lang);
        await testid(page, 'register-pin').fill('4826');
        await testid(page, 'register-pin-again').fill('4826');
        await testid(page, 'register-submit').click();
        await testid(page, 'register-success').waitFor();
        await screen(page, 'console-register-done');

        await page.goto(`/console/wallets/${wallet.account}`);
        await testid(page, 'wallet-card-qr').locator('svg').waitFor();
        await testid(page, 'entry-row').waitFor();
        await screen(page, 'console-wallet');
        await testid(page, 'block-card').click();
        await page.locator('[data-testid="card-dialog"][open]').waitFor();
        await screen(page, 'console-block-dialog');
        await testid(page, 'confirm-cancel').click();
        await testid(page, 'set-pin').click();
        await page.locator('[data-testid="card-dialog"][open]').waitFor();
        await testid(page, 'set-pin-new').waitFor();
        await screen(page, 'console-set-pin-dialog');
        await testid(page, 'confirm-cancel').click();

        // Activities and sessions.
        await page.goto('/console/activities');
        await testid(page, 'activity-row').waitFor();
        await screen(page, 'console-activities');
        await page.goto(`/console/activities/${activities[0]!.id}`);
        await expect.poll(() => testid(page, 'activity-name-nl').inputValue(), poll).not.toBe('');
        await screen(page, 'console-activity-edit');
        await page.goto('/console/sessions');
        await testid(page, 'session-row').waitFor();
        await screen(page, 'console-sessions');
        await page.goto(`/console/sessions/${world.demo.open_session.id}`);
        await testid(page, 'claim-qr').locator('svg').waitFor();
        await screen(page, 'console-session');
        await testid(page, 'event-mode').click();
        await testid(page, 'console-event').waitFor();
        await expect.poll(() => testid(page, 'scanner').getAttribute('data-camera'), poll).toMatch(/unavailable|denied/);
        for (const card of [world.demo.volunteers[lang === 'nl' ? 6 : 7]!.card, 'NOTACARD']) {
          await testid(page, 'scanner-manual-input').fill(card);
          await testid(page, 'scanner-manual-submit').click();
        }
        await expect.poll(() => page.locator('[data-testid="award-row"]:not([data-status="pending"])').count(), poll).toBe(2);
        await screen(page, 'console-event');

        // Shops.
        await page.goto('/console/shops');
        await testid(page, 'shop-row').waitFor();
        await screen(page, 'console-shops');
        await page.goto('/console/shops/new');
        await testid(page, 'shop-name').fill(`Buurtwinkel ${lang}`);
        await testid(page, 'shop-iban').fill('BE00 1234');
        await testid(page, 'shop-save').click();
        await page.locator('[aria-invalid="true"], [data-testid="shop-error"]').first().waitFor();
        await screen(page, 'console-new-shop-invalid');
        await page.goto(`/console/shops/${world.demo.shops[0]!.account}`);
        await testid(page, 'device-row').waitFor();
        await testid(page, 'new-pairing-code').click();
        await testid(page, 'pairing-code').waitFor();
        await screen(page, 'console-shop');
        await testid(page, 'device-revoke').click();
        await page.locator('[data-testid="revoke-dialog"][open]').waitFor();
        await screen(page, 'console-revoke-dialog');
        await testid(page, 'confirm-cancel').click();

        // Cash-outs, ledger, an account's statement, audit, admin.
        await page.goto('/console/cashouts');
        await testid(page, 'payouts').waitFor();
        await screen(page, 'console-cashouts');
        await page.goto('/console/ledger');
        await testid(page, 'programme-row').waitFor();
        await testid(page, 'verify-run').click();
        await testid(page, 'verify-result').waitFor();
        expect(await testid(page, 'verify-result').getAttribute('data-ok')).toBe('true');
        await screen(page, 'console-ledger-verified');
        await page.goto(`/console/accounts/${programme.account}`);
        await testid(page, 'entry-row').waitFor();
        await screen(page, 'console-account');
        await testid(page, 'reverse').click();
        await page.locator('[data-testid="reverse-dialog"][open]').waitFor();
        await screen(page, 'console-reverse-dialog');
        await testid(page, 'confirm-cancel').click();
        await page.goto('/console/audit');
        await testid(page, 'audit-row').waitFor();
        await screen(page, 'console-audit');
        await page.goto('/console/admin');
        await testid(page, 'currency-code').waitFor();
        await testid(page, 'user-row').waitFor();
        await screen(page, 'console-admin');
        await testid(page, 'user-set-password').click();
        await page.locator('[data-testid="user-dialog"][open]').waitFor();
        await screen(page, 'console-user-password-dialog');
        await testid(page, 'confirm-cancel').click();
        await testid(page, 'change-password').click();
        await testid(page, 'password-old').waitFor();
        await screen(page, 'console-password');
        await page.goto('/console/nothing-here');
        await testid(page, 'console-not-found').waitFor();
        await screen(page, 'console-not-found');
        expectNoPageErrors(page);
      } catch (error) {
        await failureScreenshot(context, `console-${lang}`);
        throw error;
      } finally {
        await context.close();
      }
    }, 180_000);
  });
});
