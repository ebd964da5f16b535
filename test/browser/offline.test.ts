/**
 * Issue #19 point 10, on a 360×640 phone: with the server gone, "Mijn kaart" — never opened
 * before — still shows a QR code that a decoder reads as the card's link (drawn on the phone,
 * the renderer kept by the service worker); the home shows the history last read, with when
 * ("Laatst bijgewerkt …"), or says why it shows none; the "Geen verbinding" banner goes away by
 * itself once the server answers again, and with the browser's own offline flag too; what a
 * phone keeps belongs to the wallet open on it, never to a card opened there before; an answer to a
 * request sent before the network went does not take the banner away.
 * Screenshots: test-results/browser/offline/.
 */
import jsQRModule from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DemoVolunteer } from '../../src/demo.js';
import { decodePng } from './camera.js';
import { checkScreen, expectNoPageErrors, newContext, newPage, requireTools, signInWithCard, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

// jsqr is a CommonJS bundle: what a default import yields differs between type checker and run time.
type JsQR = typeof jsQRModule.default;
const jsQR: JsQR = (jsQRModule as unknown as { default?: JsQR }).default ?? (jsQRModule as unknown as JsQR);

/** The banner leaves after the server is back: the phone probes every 10 s at most, and the service takes a few seconds to start. */
const back_online = { timeout: 30_000, interval: 250 };
const poll = { timeout: 20_000, interval: 100 };

let world: World;
let browser: Browser;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();
const transfers = (page: Page) => page.getByTestId('entry').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-transfer')));

/** A Dutch-speaking demo volunteer with some history, the `index`-th. */
function volunteer(index: number): DemoVolunteer {
  return world.demo.volunteers.filter((v) => v.language === 'nl' && v.balance !== undefined)[index]!;
}

/** Opens `who`'s wallet on a fresh phone, waits for its home and for the service worker to control the page. */
async function openOnPhone(who: DemoVolunteer, steps: (page: Page) => Promise<void>): Promise<void> {
  const context = await newContext(browser, world, 'phone', 'nl', undefined, 'allow');
  try {
    const page = await newPage(context);
    await signInWithCard(page, who);
    await page.getByTestId('history').waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), poll).toBe(true);
    await steps(page);
    expectNoPageErrors(page);
  } finally {
    await context.close();
  }
}

it('has a Chromium and its fonts', () => requireTools());

describe('the wallet offline (#19 point 10)', () => {
  const suite = worldAndBrowser('offline');
  beforeAll(() => {
    ({ world, browser } = suite);
  }, 240_000);

  it('with the server gone: My card\'s QR, the last known history with its time; the banner leaves by itself when the server is back', async () => {
    const person = volunteer(0);
    try {
      await openOnPhone(person, async (page) => {
        const online_entries = await transfers(page);
        expect(online_entries.length).toBeGreaterThan(0);
        expect(await page.getByTestId('history-as-of').count()).toBe(0);

        await world.serviceDown();
        // My card was never opened on this phone: the page and the QR renderer come from the service worker.
        await page.goto('/wallet/card');
        const qr = page.getByTestId('card-qr');
        await qr.locator('svg').waitFor();
        const png = decodePng(await qr.screenshot());
        const read = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
        expect(read?.data).toBe(`${world.base}/c/${person.card}`);
        expect(await text(page, 'card-code')).toBe(person.card.replace(/(.{4})(?=.)/g, '$1-'));
        await checkScreen(page, world, 'offline-my-card');

        await page.goto('/wallet');
        await page.getByTestId('offline').waitFor();
        await page.getByTestId('history-as-of').waitFor();
        expect(await text(page, 'history-as-of')).toMatch(/^Laatst bijgewerkt: \d{1,2} [a-z]+\.? \d{4},? \d{2}:\d{2}$/);
        expect(await transfers(page)).toEqual(online_entries);
        expect(await text(page, 'balance-card')).toContain('Laatst gekend saldo');
        await checkScreen(page, world, 'offline-home', { languages: ['nl', 'en', 'fr'] });

        await world.serviceUp();
        // Nobody touches the phone: it notices the server by itself.
        await expect.poll(() => page.getByTestId('offline').count(), back_online).toBe(0);
        await expect.poll(() => page.getByTestId('history-as-of').count(), poll).toBe(0);
        await expect.poll(() => transfers(page), poll).toEqual(online_entries);
        await expect.poll(() => text(page, 'balance-card'), poll).not.toContain('Laatst gekend saldo');
      });
    } finally {
      await world.serviceUp().catch(() => undefined);
    }
  });

  it('with no history kept on the phone it says why; the browser\'s own offline flag shows and hides the banner', async () => {
    await openOnPhone(volunteer(1), async (page) => {
      await page.context().setOffline(true);
      await page.getByTestId('offline').waitFor();
      await page.evaluate(() => localStorage.removeItem('wm.wallet.history'));
      await page.reload();
      await page.getByTestId('history-unknown').waitFor();
      expect(await text(page, 'history-unknown')).toBe(
        'Je geschiedenis kan nu niet geladen worden: er is geen verbinding en ze staat nog niet op dit toestel. Ze verschijnt zodra je weer online bent.');
      expect(await page.getByTestId('history').count()).toBe(0);
      await checkScreen(page, world, 'offline-no-history', { languages: ['nl', 'en', 'fr'] });

      await page.context().setOffline(false);
      await expect.poll(() => page.getByTestId('offline').count(), back_online).toBe(0);
      await page.getByTestId('history').waitFor();
      expect(await page.getByTestId('history-unknown').count()).toBe(0);
      expect(await page.getByTestId('history-as-of').count()).toBe(0);
    });
  });

  it('an answer to a request sent before the browser went offline does not take the banner away', async () => {
    await openOnPhone(volunteer(4), async (page) => {
      let release = () => {};
      const released = new Promise<void>((resolve) => { release = resolve; });
      let held = () => {};
      const holding = new Promise<void>((resolve) => { held = resolve; });
      // The wallet's balance is read while online; its answer reaches the page only after the network went.
      await page.route('**/api/v1/wallet', async (route) => {
        const response = await route.fetch();
        held();
        await released;
        await route.fulfill({ response });
      });
      await page.reload();
      await holding;
      await page.context().setOffline(true);
      await page.getByTestId('offline').waitFor();
      const reply = page.waitForResponse('**/api/v1/wallet');
      release();
      expect((await reply).status()).toBe(200);
      // The answer is shown (not the balance last known), and the banner stays.
      await expect.poll(() => text(page, 'balance-card'), poll).not.toContain('Laatst gekend saldo');
      await page.getByTestId('balance').waitFor();
      expect(await page.getByTestId('offline').count()).toBe(1);
      await page.unroute('**/api/v1/wallet');
      await page.context().setOffline(false);
      await expect.poll(() => page.getByTestId('offline').count(), back_online).toBe(0);
    });
  });

  it('a second card opened on the same phone never shows the first one\'s balance or history while offline', async () => {
    const [first, second] = [volunteer(2), volunteer(3)];
    await withPage(browser, world, 'phone', 'nl', async (page) => {
      await signInWithCard(page, first);
      await page.getByTestId('history').waitFor();
      await page.getByTestId('balance').waitFor();

      // The second card opens (the session answers), then its balance and history cannot be read.
      await page.route('**/api/v1/wallet', (route) => route.abort('internetdisconnected'));
      await page.route('**/api/v1/wallet/entries?*', (route) => route.abort('internetdisconnected'));
      await signInWithCard(page, second);
      await page.getByTestId('history-unknown').waitFor();
      expect(await text(page, 'greeting')).toContain(second.name);
      expect(await page.getByTestId('balance').count()).toBe(0);
      expect(await page.getByTestId('entry').count()).toBe(0);
    });
  });
});
