/**
 * Issue #5, in a real browser: the whole story of a coin, through the web client only.
 *
 * A coordinator funds a programme and opens a session; a volunteer opens the wallet from the card
 * link and scans the claim QR with the phone's camera; a shop tablet pairs and shows a payment
 * QR that the phone scans and pays, live; the tablet scans the volunteer's card and takes a PIN
 * payment (a wrong PIN first), refunds part of it, and asks for a cash-out that the coordinator
 * approves and exports as a SEPA file.
 *
 * Every camera is Chromium's fake camera playing a video of the QR code filmed off the other
 * screen. Every screen on the way is checked with axe-core in Dutch and English and for sideways
 * scrolling; screenshots are in test-results/browser/story/. The steps share one world and run in
 * order: each builds on the one before.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkScreen, dashboardLoaded, docScreenshot, expectNoPageErrors, filmQr, launchBrowser, newContext, newPage, requireTools,
  startWorld, typeAmount, typePin, writeAxeReport,
} from './support.js';
import type { World } from './support.js';

const both = { languages: ['nl', 'en'] as const satisfies Array<'nl' | 'en'> };
const poll = { timeout: 20_000, interval: 100 };

let world: World;
const browsers: Browser[] = [];
/** The coordinator's desk (no camera). */
let desk: Page;

// Carried from step to step.
let programme_id: string;
let session: { id: string; claim_url: string; reward: string };
let claim_video: string;
let card_video: string;
let wallet_state: Awaited<ReturnType<BrowserContext['storageState']>>;
let balance: bigint;
let tablet: Page;
let phone: Page;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).trim();
const attr = (page: Page, testid: string, name: string) => page.getByTestId(testid).first().getAttribute(name);

// A missing browser is a failure that says what to install, never a skip.
it('has a Chromium and its fonts', () => requireTools());

describe('the whole story, in Chromium', () => {
  beforeAll(async () => {
    world = await startWorld('story');
    const browser = await launchBrowser();
    browsers.push(browser);
    desk = await newPage(await newContext(browser, world, 'tablet', 'nl'));
  }, 240_000);

  afterAll(async () => {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    if (world !== undefined) {
      writeAxeReport(world);
      await world.stop();
    }
  }, 60_000);

  const volunteer = () => {
    const found = world.demo.volunteers.find((v) => v.language === 'nl');
    if (found === undefined) throw new Error('the demo has a Dutch-speaking volunteer');
    return found;
  };
  const shop = () => world.demo.shops[0]!;

  it('1. a coordinator logs in, creates a programme, an activity and a session, and shows its claim QR', async () => {
    const page = desk;
    await page.goto('/console');
    await page.getByTestId('console-login').waitFor();
    await checkScreen(page, world, 'console-login', both);
    await page.getByTestId('login-email').fill(world.demo.coordinator.email);
    await page.getByTestId('login-password').fill(world.demo.coordinator.password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('console-dashboard').waitFor();
    await dashboardLoaded(page);

    // A programme, funded.
    await page.getByTestId('nav-ledger').click();
    await page.getByTestId('console-ledger').waitFor();
    await page.getByTestId('programme-name').fill('Buurtfeest Rabot');
    await page.getByTestId('programme-create').click();
    const row = page.locator('[data-testid="programme-row"][data-name="Buurtfeest Rabot"]');
    await row.waitFor();
    programme_id = (await row.getAttribute('data-id'))!;
    await page.getByTestId('issue-account').selectOption(programme_id);
    await page.getByTestId('issue-amount').fill('1000');
    await page.getByTestId('issue-memo').fill('Budget buurtfeest');
    await page.getByTestId('issue-submit').click();
    await page.getByTestId('issue-done').waitFor();
    await expect.poll(() => row.getByTestId('programme-available').getAttribute('data-amount'), poll).toBe('1000');
    await checkScreen(page, world, 'console-ledger', both);

    // An activity paid per hour from it.
    await page.getByTestId('nav-activities').click();
    await page.getByTestId('console-activities').waitFor();
    await page.getByTestId('activity-new').click();
    await page.getByTestId('console-activity-form').waitFor();
    await page.getByTestId('activity-name-nl').fill('Buurtfeest opbouwen');
    await page.getByTestId('activity-name-en').fill('Setting up the street party');
    await page.getByTestId('activity-name-fr').fill('Monter la fête de quartier');
    await page.getByTestId('activity-category').selectOption('neighbourhood_party');
    await page.getByTestId('activity-pay-hour').check();
    await page.getByTestId('activity-amount').fill('25');
    await page.getByTestId('activity-programme').selectOption(programme_id);
    await checkScreen(page, world, 'console-activity-form', both);
    await page.getByTestId('activity-save').click();
    const activity = page.locator('[data-testid="activity-row"][data-name="Buurtfeest opbouwen"]');
    await activity.waitFor();

    // A session of two hours: 50 TOR for each volunteer.
    await activity.getByTestId('session-start').click();
    await page.getByTestId('console-new-session').waitFor();
    await page.getByTestId('session-hours').fill('2');
    await page.getByTestId('session-max-claims').fill('20');
    await expect.poll(() => attr(page, 'session-reward-preview', 'data-amount'), poll).toBe('50');
    await checkScreen(page, world, 'console-new-session', both);
    await page.getByTestId('session-create').click();
    await page.getByTestId('console-session').waitFor();
    await expect.poll(() => page.getByTestId('claim-qr').locator('svg').count(), poll).toBe(1);
    session = {
      id: page.url().split('/').pop()!,
      claim_url: (await attr(page, 'claim-qr', 'data-qr-text'))!,
      reward: (await attr(page, 'session-reward', 'data-amount'))!,
    };
    expect(session.claim_url.startsWith(`${world.base}/claim#`)).toBe(true);
    expect(session.reward).toBe('50');
    // Hours in Dutch: "2", not the API's "2.00".
    expect(await text(page, 'session-facts')).not.toContain('2.00');
    await checkScreen(page, world, 'console-session', both);

    // The claim QR full screen, for the volunteers to scan.
    await page.getByTestId('session-fullscreen').click();
    const full = page.getByTestId('claim-qr-fullscreen');
    await full.waitFor();
    expect(await full.getAttribute('data-qr-text')).toBe(session.claim_url);
    await checkScreen(page, world, 'console-claim-qr-fullscreen', both);
    await docScreenshot(page, world, 'console-claim-qr-fullscreen');
    claim_video = await filmQr(full, world, 'claim');
    await page.keyboard.press('Escape');
    await page.getByTestId('qr-fullscreen').waitFor({ state: 'detached' });
    expectNoPageErrors(page);
  }, 120_000);

  it('2. a volunteer opens the card link, types the PIN, scans the claim QR: the balance shows the coins', async () => {
    const person = volunteer();
    balance = BigInt(person.balance!);
    const browser = await launchBrowser(claim_video);
    browsers.push(browser);
    const context = await newContext(browser, world, 'phone', 'nl');
    const page = await newPage(context);
    await page.goto(person.card_url);
    await page.getByTestId('open-card').waitFor();
    await checkScreen(page, world, 'wallet-pin', both);

    // A wrong PIN says so in plain words; the right one opens the wallet.
    const wrong = person.pin === '9999' ? '8888' : '9999';
    await typePin(page, wrong);
    const refused = page.getByTestId('open-error').locator('[data-code]');
    await refused.waitFor();
    expect(await refused.getAttribute('data-code')).toBe('unauthenticated');
    expect(await refused.innerText()).toMatch(/pincode/i);
    expect(await page.getByTestId('tries-left').innerText()).toBe('Nog 4 pogingen voor je kaart tijdelijk geblokkeerd wordt.');
    await checkScreen(page, world, 'wallet-pin-wrong', both);
    await typePin(page, person.pin);
    await page.getByTestId('wallet-home').waitFor();
    await expect.poll(() => attr(page, 'balance', 'data-amount'), poll).toBe(String(balance));

    // Scan: the camera reads the claim QR, the coins arrive, and that is celebrated.
    await page.getByTestId('scan').click();
    await page.getByTestId('wallet-scan').waitFor();
    await page.getByTestId('claim-success').waitFor({ timeout: 30_000 });
    expect(await attr(page, 'claim-amount', 'data-amount')).toBe(session.reward);
    expect(await text(page, 'claim-activity')).toContain('Buurtfeest opbouwen');
    balance += BigInt(session.reward);
    expect(await text(page, 'claim-balance')).toContain(String(balance));
    await docScreenshot(page, world, 'wallet-claim');
    await checkScreen(page, world, 'wallet-claim-success', both);
    await page.getByTestId('back-home').click();
    await page.getByTestId('wallet-home').waitFor();
    await expect.poll(() => attr(page, 'balance', 'data-amount'), poll).toBe(String(balance));
    await page.getByTestId('history').waitFor();
    await docScreenshot(page, world, 'wallet-home');
    await checkScreen(page, world, 'wallet-home', both);

    // My card: the QR a shop scans (filmed for the tablet's camera in step 4).
    await page.getByTestId('my-card').click();
    await page.getByTestId('wallet-card').waitFor();
    const card_qr = page.getByTestId('card-qr');
    expect(await card_qr.getAttribute('data-qr-text')).toBe(person.card_url);
    card_video = await filmQr(card_qr, world, 'card');
    await checkScreen(page, world, 'wallet-card', both);
    expectNoPageErrors(page);
    wallet_state = await context.storageState();
    await browser.close();

    // The session counts the claim.
    await desk.reload();
    await expect.poll(() => attr(desk, 'session-claims', 'data-count'), poll).toBe('1');
  }, 120_000);

  it('3. a tablet pairs, asks for an amount with a QR; the phone scans and pays; the tablet shows "Betaald" live', async () => {
    // The tablet's camera is pointed at the volunteer's card (used in step 4).
    const browser = await launchBrowser(card_video);
    browsers.push(browser);
    tablet = await newPage(await newContext(browser, world, 'tablet', 'nl'));
    await tablet.goto('/shop');
    await tablet.getByTestId('shop-pair').waitFor();
    await checkScreen(tablet, world, 'shop-pair', both);
    // Typed the way people do: lower case, no dash.
    await tablet.getByTestId('pair-code-input').fill(shop().pairing_code.replace(/-/g, '').toLowerCase());
    await tablet.getByTestId('pair-name-input').fill('Kassa 2');
    await tablet.getByTestId('pair-submit').click();
    await tablet.getByTestId('shop-till').waitFor();

    await typeAmount(tablet, '12');
    await expect.poll(() => attr(tablet, 'amount-input', 'data-amount'), poll).toBe('12');
    await checkScreen(tablet, world, 'shop-till', both);
    await tablet.getByTestId('request-payment').click();
    await tablet.getByTestId('shop-payment').waitFor();
    const qr = tablet.getByTestId('payment-qr');
    await qr.locator('svg').waitFor();
    const pay_url = (await qr.getAttribute('data-qr-text'))!;
    expect(pay_url).toMatch(new RegExp(`^${world.base.replace(/[.]/g, '\\.')}/p/[0-9a-f-]{36}$`));
    expect(await attr(tablet, 'payment-amount', 'data-amount')).toBe('12');
    expect(await attr(tablet, 'payment-status', 'data-status')).toBe('open');
    await checkScreen(tablet, world, 'shop-payment-qr', both);
    await docScreenshot(tablet, world, 'shop-payment-qr');
    const pay_video = await filmQr(qr, world, 'pay');
    // Marks this page: a reload would lose the mark.
    await tablet.evaluate(() => { (window as unknown as { still_here: boolean }).still_here = true; });

    // The volunteer's phone (same wallet, now filming the tablet) scans and pays.
    const phone_browser = await launchBrowser(pay_video);
    browsers.push(phone_browser);
    phone = await newPage(await newContext(phone_browser, world, 'phone', 'nl', wallet_state));
    await phone.goto('/wallet');
    await phone.getByTestId('wallet-home').waitFor();
    await phone.getByTestId('scan').click();
    await phone.getByTestId('pay-summary').waitFor({ timeout: 30_000 });
    expect(phone.url()).toBe(pay_url);
    expect(await text(phone, 'pay-shop')).toBe(shop().name);
    expect(await attr(phone, 'pay-amount', 'data-amount')).toBe('12');
    expect(await text(phone, 'pay-balance-after')).toContain(String(balance - 12n));
    await checkScreen(phone, world, 'wallet-pay', both);
    await phone.getByTestId('pay-confirm').click();
    await phone.getByTestId('pay-success').waitFor();
    balance -= 12n;
    expect(await text(phone, 'pay-balance')).toContain(String(balance));
    await checkScreen(phone, world, 'wallet-pay-success');

    // The tablet saw it happen, without a reload, on the event stream.
    await expect.poll(() => attr(tablet, 'payment-status', 'data-status'), poll).toBe('paid');
    expect(await attr(tablet, 'payment-status', 'data-live')).toBe('sse');
    expect(await tablet.evaluate(() => (window as unknown as { still_here?: boolean }).still_here)).toBe(true);
    expect(await text(tablet, 'payment-paid')).toContain('Betaald ✓');
    expect(await attr(tablet, 'payment-paid-amount', 'data-amount')).toBe('12');
    await docScreenshot(tablet, world, 'shop-paid');
    // The tablet returns to its keypad by itself after a few seconds: one language here, both in screens.test.ts.
    await checkScreen(tablet, world, 'shop-paid');
    await tablet.getByTestId('shop-till').waitFor({ timeout: 15_000 });
    expectNoPageErrors(tablet);
    expectNoPageErrors(phone);
  }, 120_000);

  it('4. the tablet scans the card and takes a PIN payment (a wrong PIN first), then refunds part of it', async () => {
    const person = volunteer();
    await tablet.getByTestId('till-card').click();
    await tablet.getByTestId('shop-card').waitFor();
    // The camera reads the card's QR: on to the amount.
    await expect.poll(() => attr(tablet, 'charge-step', 'data-step'), { ...poll, timeout: 30_000 }).toBe('amount');
    expect((await text(tablet, 'charge-card')).replace(/[^A-Z0-9]/g, '')).toContain(person.card);
    await typeAmount(tablet, '20');
    await checkScreen(tablet, world, 'shop-card-amount', both);
    await tablet.getByTestId('charge-continue').click();
    await expect.poll(() => attr(tablet, 'charge-step', 'data-step'), poll).toBe('pin');
    expect(await attr(tablet, 'charge-amount', 'data-amount')).toBe('20');
    await checkScreen(tablet, world, 'shop-card-pin', both);

    const wrong = person.pin === '9999' ? '8888' : '9999';
    await typePin(tablet, wrong);
    const refused = tablet.getByTestId('charge-error').locator('[data-code]');
    await refused.waitFor();
    expect(await refused.getAttribute('data-code')).toBe('invalid_card_or_pin');
    expect(await refused.innerText()).toBe('De pincode klopt niet (of deze kaart werkt niet meer). Probeer opnieuw.');
    expect(await tablet.getByTestId('tries-left').innerText()).toBe('Nog 4 pogingen voor deze kaart tijdelijk geblokkeerd wordt.');
    // Still the same payment, still paired.
    expect(await attr(tablet, 'charge-step', 'data-step')).toBe('pin');
    await checkScreen(tablet, world, 'shop-card-wrong-pin', both);

    const charged = tablet.waitForResponse((r) => r.url().endsWith('/api/v1/shop/charges') && r.request().method() === 'POST' && r.status() === 201);
    await typePin(tablet, person.pin);
    const charge = await (await charged).json() as { id: string; amount: string };
    await tablet.getByTestId('charge-success').waitFor();
    expect(await attr(tablet, 'charge-success-amount', 'data-amount')).toBe('20');
    balance -= 20n;
    await checkScreen(tablet, world, 'shop-card-paid', both);

    // Refund 5 of the 20 from today's history.
    await tablet.getByTestId('nav-today').click();
    await tablet.getByTestId('shop-today').waitFor();
    const entry = tablet.locator(`[data-testid="shop-entry"][data-transfer="${charge.id}"]`);
    await entry.waitFor();
    await entry.getByTestId('entry-refund').click();
    const input = tablet.getByTestId('refund-amount-input');
    await input.waitFor();
    expect(await input.inputValue()).toBe('20');
    await input.fill('5');
    await checkScreen(tablet, world, 'shop-refund-form', both);
    await tablet.getByTestId('refund-submit').click();
    await tablet.getByTestId('refund-success').waitFor();
    balance += 5n;
    await entry.getByTestId('entry-refunded').waitFor();
    await checkScreen(tablet, world, 'shop-today', both);

    // The volunteer's phone shows it all.
    await phone.goto('/wallet');
    await expect.poll(() => attr(phone, 'balance', 'data-amount'), poll).toBe(String(balance));
    await phone.locator('[data-testid="entry"][data-code="refund"]').first().waitFor();
    expectNoPageErrors(tablet);
  }, 120_000);

  it('5. the shop asks for a cash-out; the coordinator approves it and downloads the SEPA file', async () => {
    await tablet.getByTestId('nav-cashout').click();
    await tablet.getByTestId('shop-cashout').waitFor();
    await tablet.getByTestId('cashout-amount-input').fill('30');
    const requested = tablet.waitForResponse((r) => r.url().endsWith('/api/v1/shop/redemptions') && r.request().method() === 'POST' && r.status() === 201);
    await tablet.getByTestId('cashout-submit').click();
    const redemption = await (await requested).json() as { id: string };
    await tablet.getByTestId('cashout-success').waitFor();
    expect(await attr(tablet, 'cashout-euro', 'data-euro')).toBe('3.00');
    const mine = tablet.locator(`[data-testid="redemption"][data-id="${redemption.id}"]`);
    await mine.waitFor();
    expect(await mine.getAttribute('data-status')).toBe('pending');
    await checkScreen(tablet, world, 'shop-cashout', both);

    // What the bank file must hold: every approved payout not yet exported (the demo left one).
    const page = desk;
    await page.getByTestId('nav-cashouts').click();
    await page.getByTestId('console-cashouts').waitFor();
    const row = page.locator(`[data-testid="redemption-row"][data-id="${redemption.id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('pending');
    await checkScreen(page, world, 'console-cashouts', both);
    await row.getByTestId('redemption-approve').click();
    await page.getByTestId('redemption-dialog').locator('form').waitFor();
    await checkScreen(page, world, 'console-approve-dialog', both);
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('redemption-done').waitFor();

    const token = await world.login(world.demo.coordinator);
    const waiting = ((await world.api('GET', '/currencies/TOR/payouts', { token })).body.items as Array<{ export_id: string | null; euro_amount: string; shop: { name: string } }>)
      .filter((p) => p.export_id === null);
    expect(waiting.map((p) => p.shop.name)).toContain(shop().name);
    const cents = waiting.reduce((sum, p) => sum + BigInt(p.euro_amount.replace('.', '')), 0n);
    const ctrl_sum = `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;

    await page.getByTestId('payout-export').click();
    await page.getByTestId('export-result').waitFor();
    await checkScreen(page, world, 'console-export-done', both);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-result').getByTestId('download-xml').click()]);
    expect(download.suggestedFilename()).toMatch(/\.xml$/);
    const xml = readFileSync((await download.path())!, 'utf8');
    const header = /<GrpHdr>([\s\S]*?)<\/GrpHdr>/.exec(xml)?.[1] ?? '';
    expect(/<NbOfTxs>(\d+)<\/NbOfTxs>/.exec(header)?.[1]).toBe(String(waiting.length));
    expect(/<CtrlSum>([0-9.]+)<\/CtrlSum>/.exec(header)?.[1]).toBe(ctrl_sum);
    // Our 30 TOR, €3.00, to the bakery's IBAN.
    const iban = shop().iban.replace(/\s/g, '');
    const ours = [...xml.matchAll(/<CdtTrfTxInf>([\s\S]*?)<\/CdtTrfTxInf>/g)].map((m) => m[1]!).find((tx) => tx.includes(iban) && tx.includes('>3.00<'));
    expect(ours, `a transfer of 3.00 to ${iban} in:\n${xml}`).toBeDefined();

    // The tablet sees the decision.
    await tablet.reload();
    await expect.poll(() => mine.getAttribute('data-status'), poll).toBe('approved');

    // The dashboard after all that.
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('console-dashboard').waitFor();
    await dashboardLoaded(page);
    await docScreenshot(page, world, 'console-dashboard');
    await checkScreen(page, world, 'console-dashboard', both);
    expectNoPageErrors(page);
    expectNoPageErrors(tablet);
  }, 120_000);
});
