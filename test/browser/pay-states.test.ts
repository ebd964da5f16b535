/**
 * Issue #19 points 8, 9 and 12, in a real browser on the demo neighbourhood: a pay link that is
 * already paid, cancelled or expired shows only its status, not the balance "after" as if paying
 * again (9); a frozen wallet (GET /wallet says so, or a refused payment) says so on its home and no longer
 * offers to pay (8); the shop's cash-out screen shows the euro value before sending, the same
 * cents as the service then computes (12). Each screen is checked with axe-core in Dutch and
 * English. Screenshots: test-results/browser/pay-states/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, expectNoPageErrors, newContext, newPage, requireTools, withWalletHome, worldAndBrowser } from './support.js';
import type { World } from './support.js';
import type { DemoVolunteer } from '../../src/demo.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };

let world: World;
let browser: Browser;
let coordinator: string;
/** An API tablet of the first demo shop. */
let till: string;
/** A Dutch-speaking volunteer with coins, and one whose wallet gets frozen. */
let payer: DemoVolunteer;
let frozen: DemoVolunteer;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

async function newRequest(amount: string): Promise<string> {
  const made = await world.api('POST', '/shop/payment-requests', { token: till, body: { amount } });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return made.body.id as string;
}

async function walletToken(who: DemoVolunteer): Promise<string> {
  const opened = await world.api('POST', '/wallet/session', { body: { card: who.card, pin: who.pin } });
  expect(opened.status).toBe(200);
  return opened.body.token as string;
}

/** Opens `who`'s wallet on a phone and runs `steps` from its home. */
const onPhone = (who: DemoVolunteer, steps: (page: Page) => Promise<void>) => withWalletHome(browser, world, who, steps);

const withCoins = (v: DemoVolunteer) => v.language === 'nl' && v.balance !== undefined && BigInt(v.balance.split('.')[0]!) >= 20n;

it('has a Chromium and its fonts', () => requireTools());

describe('pay links, a frozen wallet and the cash-out value (#19), in Chromium', () => {
  const suite = worldAndBrowser('pay-states');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
    const shop = world.demo.shops[0]!;
    const code = await world.api('POST', `/shops/${shop.account}/pairing-codes`, { token: coordinator });
    expect(code.status).toBe(201);
    const paired = await world.api('POST', '/shop/devices', { body: { pairing_code: code.body.pairing_code, device_name: 'API' } });
    expect(paired.status).toBe(201);
    till = paired.body.token as string;
    const rich = world.demo.volunteers.filter(withCoins);
    expect(rich.length, 'two Dutch-speaking demo volunteers with coins').toBeGreaterThanOrEqual(2);
    [payer, frozen] = [rich[0]!, rich[1]!];
  }, 240_000);

  it('9. a paid, cancelled or expired pay link shows only its status, not the balance after', async () => {
    const paid = await newRequest('3');
    const paying = await world.api('POST', `/payment-requests/${paid}/pay`, { token: await walletToken(payer), idempotent: true });
    expect(paying.status, JSON.stringify(paying.body)).toBeLessThan(300);
    const cancelled = await newRequest('2');
    expect((await world.api('POST', `/payment-requests/${cancelled}/cancel`, { token: till, idempotent: true })).status).toBeLessThan(300);
    const expired = await newRequest('4');
    const open = await newRequest('1');

    await onPhone(payer, async (page) => {
      // An open one still shows the balance now and after.
      await page.goto(`/p/${open}`);
      await page.getByTestId('pay-confirm').waitFor();
      expect(await page.getByTestId('pay-balance-after').count()).toBe(1);
      expect(await page.getByTestId('pay-status').count()).toBe(0);

      for (const [id, status, shown] of [[paid, 'paid', 'Al betaald'], [cancelled, 'cancelled', 'Geannuleerd']] as const) {
        await page.goto(`/p/${id}`);
        await page.getByTestId('pay-status').waitFor();
        expect(await page.getByTestId('pay-status').getAttribute('data-status')).toBe(status);
        expect(await text(page, 'pay-status')).toBe(shown);
        expect(await page.getByTestId('pay-balance-after').count()).toBe(0);
        expect(await page.getByTestId('pay-balance-now').count()).toBe(0);
        expect(await page.getByTestId('pay-confirm').count()).toBe(0);
        expect(await page.getByTestId('wallet-pay').innerText()).not.toContain('Je saldo daarna');
        await checkScreen(page, world, `wallet-pay-${status}`, both);
      }

      // Expired: the request's time is up (the service's answer, its expiry moved into the past).
      await page.route(`**/api/v1/payment-requests/${expired}`, async (route) => {
        const response = await route.fetch();
        const body = await response.json() as Record<string, unknown>;
        await route.fulfill({ response, json: { ...body, expires_at: new Date(Date.now() - 60_000).toISOString() } });
      });
      await page.goto(`/p/${expired}`);
      await page.getByTestId('pay-status').waitFor();
      expect(await page.getByTestId('pay-status').getAttribute('data-status')).toBe('expired');
      expect(await text(page, 'pay-status')).toBe('Verlopen');
      expect(await page.getByTestId('pay-balance-after').count()).toBe(0);
      expect(await page.getByTestId('pay-confirm').count()).toBe(0);
      await checkScreen(page, world, 'wallet-pay-expired', both);
    });
  }, 180_000);

  it('8. a frozen wallet says so on its home and offers no payment; frozen while a pay link is open, the refusal says it', async () => {
    const freeze = async (status: 'frozen' | 'active') => {
      const body = status === 'frozen' ? { status, reason: 'Kaart mogelijk gestolen' } : { status };
      const reply = await world.api('PATCH', `/accounts/${frozen.account}`, { token: coordinator, body });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    };
    await freeze('frozen');
    const id = await newRequest('2');

    await onPhone(frozen, async (page) => {
      // GET /wallet says the wallet is frozen: the home says so before any attempt.
      await page.goto('/wallet');
      await page.getByTestId('wallet-frozen').waitFor();
      expect(await text(page, 'wallet-frozen')).toContain('Je portemonnee is geblokkeerd');
      await checkScreen(page, world, 'wallet-home-frozen', both);

      // A pay link offers no payment.
      await page.goto(`/p/${id}`);
      await page.getByTestId('pay-blocked').waitFor();
      expect(await text(page, 'pay-blocked')).toBe('Je portemonnee is geblokkeerd. Vraag raad aan de coördinator.');
      expect(await page.getByTestId('pay-confirm').count()).toBe(0);
      await checkScreen(page, world, 'wallet-pay-frozen', both);

      // Released by the coordinator: the home no longer says it, and the link pays.
      await freeze('active');
      await page.goto('/wallet');
      await page.getByTestId('balance').waitFor();
      await expect.poll(() => page.getByTestId('wallet-frozen').count(), { timeout: 20_000 }).toBe(0);
      await page.goto(`/p/${id}`);
      await page.getByTestId('pay-confirm').click();
      await page.getByTestId('pay-success').waitFor();

      // Frozen while a pay link is open: the refused payment says it, and the home knows it.
      const other = await newRequest('1');
      await page.goto(`/p/${other}`);
      await page.getByTestId('pay-confirm').waitFor();
      await freeze('frozen');
      await page.getByTestId('pay-confirm').click();
      await page.getByTestId('pay-blocked').waitFor();
      expect(await page.getByTestId('pay-confirm').count()).toBe(0);
      await page.getByTestId('back-home').click();
      await page.getByTestId('wallet-frozen').waitFor();
      await freeze('active');
    });
  }, 180_000);

  it('12. the cash-out screen shows the euro value before sending, the same the service computes', async () => {
    // Coins for the shop to cash out.
    const id = await newRequest('12');
    expect((await world.api('POST', `/payment-requests/${id}/pay`, { token: await walletToken(payer), idempotent: true })).status).toBeLessThan(300);
    const shop = (await world.api('GET', '/shop', { token: till })).body as { euro_per_unit: string; scale: number };
    expect(shop).toMatchObject({ euro_per_unit: '0.10', scale: 0 });

    const context = await newContext(browser, world, 'tablet', 'nl');
    try {
      const page = await newPage(context);
      await page.goto('/shop');
      await page.getByTestId('pair-code-input').fill(world.demo.shops[0]!.pairing_code);
      await page.getByTestId('pair-name-input').fill('Kassa');
      await page.getByTestId('pair-submit').click();
      await page.getByTestId('shop-till').waitFor();
      await page.goto('/shop/cashout');
      await page.getByTestId('cashout-available').waitFor();
      expect(await text(page, 'cashout-euro-preview')).toBe('');

      await page.getByTestId('cashout-amount-input').fill('12');
      await expect.poll(() => page.getByTestId('cashout-euro-preview').getAttribute('data-euro'), poll).toBe('1.20');
      expect(await text(page, 'cashout-euro-preview')).toBe('Je krijgt € 1,20 op je rekening.');
      await checkScreen(page, world, 'shop-cashout-euro-preview', both);

      // More than available: no value, the warning instead.
      await page.getByTestId('cashout-amount-input').fill('999999');
      await page.getByTestId('cashout-too-much').waitFor();
      expect(await page.getByTestId('cashout-euro-preview').getAttribute('data-euro')).toBeNull();

      await page.getByTestId('cashout-amount-input').fill('7');
      await expect.poll(() => page.getByTestId('cashout-euro-preview').getAttribute('data-euro'), poll).toBe('0.70');
      await page.getByTestId('cashout-submit').click();
      await page.getByTestId('cashout-success').waitFor();
      expect(await page.getByTestId('cashout-euro').getAttribute('data-euro')).toBe('0.70');
      expectNoPageErrors(page);
    } finally {
      await context.close();
    }
  }, 180_000);
});
