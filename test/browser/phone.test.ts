/**
 * Issue #19 point 7, on a 360×640 phone in Dutch, English and French: every wallet screen keeps
 * its main button (or, on My card, the QR code and the typed code) whole and on the screen
 * without scrolling — the card code and PIN screens, also with an error; the home; My card;
 * change PIN, also with its error, and done; scan, also with a card's code typed in it; a claim and a
 * claim refused; a pay link, its success and the same link once paid; a pay link opened before
 * the wallet (card and PIN saying a payment waits); a session the server ended; a frozen
 * wallet's home with coins that expire soon, and its pay link. Each screen is also checked for
 * sideways scrolling and with axe-core. Screenshots: test-results/browser/phone/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DemoVolunteer } from '../../src/demo.js';
import { checkScreen, requireTools, signInWithCard, typePin, withPage, worldAndBrowser } from './support.js';
import type { Lang, World } from './support.js';

let world: World;
let browser: Browser;
/** An API tablet of the first demo shop, for pay links. */
let till: string;

it('has a Chromium and its fonts', () => requireTools());

/** Whether an element lies wholly in the viewport, and its text is not cut (no overflow). */
async function wholeAndVisible(page: Page, testid: string): Promise<{ testid: string; inside: boolean; cut: boolean; label: string; bottom: number }> {
  const element = page.getByTestId(testid).first();
  await element.waitFor();
  return element.evaluate((node, id) => {
    const box = node.getBoundingClientRect();
    const inside = box.top >= 0 && box.left >= 0 && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
    const cut = node.scrollWidth > node.clientWidth + 1 || [...node.querySelectorAll('*')].some((child) =>
      !(child instanceof SVGElement) && (child as HTMLElement).scrollWidth > (child as HTMLElement).clientWidth + 1);
    return { testid: id, inside, cut, label: (node.textContent ?? '').trim(), bottom: Math.round(box.bottom) };
  }, testid);
}

/** The screen's main elements are whole and on screen (page not scrolled), and the screen passes checkScreen. */
async function fits(page: Page, name: string, testids: string[]): Promise<void> {
  await checkScreen(page, world, name);
  await page.evaluate(() => window.scrollTo(0, 0));
  for (const testid of testids) {
    const seen = await wholeAndVisible(page, testid);
    expect(seen, `${name}: ${JSON.stringify(seen)}`).toMatchObject({ inside: true, cut: false });
  }
}

async function newRequest(amount: string): Promise<string> {
  const made = await world.api('POST', '/shop/payment-requests', { token: till, body: { amount } });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return made.body.id as string;
}

/** The first demo volunteer whose wallet speaks `lang`. */
const speaking = (lang: Lang): DemoVolunteer => world.demo.volunteers.find((v) => v.language === lang)!;

describe('the wallet on a 360×640 phone (#19 point 7)', () => {
  const suite = worldAndBrowser('phone');
  beforeAll(async () => {
    ({ world, browser } = suite);
    const coordinator = await world.login(world.demo.coordinator);
    const code = await world.api('POST', `/shops/${world.demo.shops[0]!.account}/pairing-codes`, { token: coordinator });
    expect(code.status).toBe(201);
    const paired = await world.api('POST', '/shop/devices', { body: { pairing_code: code.body.pairing_code, device_name: 'API' } });
    expect(paired.status).toBe(201);
    till = paired.body.token as string;
  }, 240_000);

  for (const lang of ['nl', 'en', 'fr'] as const) {
    it(`${lang}: the card and PIN screens keep their whole submit key on screen, also with an error`, async () => {
      const person = speaking(lang);
      await withPage(browser, world, 'phone', lang, async (page) => {
        // No card on this phone yet: the card code is typed first, and a code that is none is said.
        await page.goto('/wallet');
        await page.getByTestId('card-input').waitFor();
        await fits(page, 'card', ['card-submit']);
        await page.getByTestId('card-input').fill('1234');
        await page.getByTestId('card-submit').click();
        await page.getByTestId('card-error').waitFor();
        await fits(page, 'card-invalid', ['card-submit']);

        await page.goto(person.card_url);
        await page.getByTestId('open-card').waitFor();
        await fits(page, 'pin', ['pin-ok']);
        const wrong = person.pin === '5827' ? '6190' : '5827';
        await typePin(page, wrong);
        await page.getByTestId('open-error').waitFor();
        await fits(page, 'pin-wrong', ['pin-ok']);
        expect((await wholeAndVisible(page, 'pin-ok')).label.length).toBeGreaterThan(2);
      });
    });

    it(`${lang}: home, My card, change PIN, scan, claim and pay keep their main button on screen`, async () => {
      const person = speaking(lang);
      await withPage(browser, world, 'phone', lang, async (page) => {
        await signInWithCard(page, person);
        await page.getByTestId('balance').waitFor();
        await fits(page, 'home', ['scan', 'my-card']);

        await page.goto('/wallet/card');
        await page.locator('[data-testid="card-qr"] svg').waitFor();
        await fits(page, 'my-card', ['card-qr', 'card-code']);

        await page.goto('/wallet/pin');
        await fits(page, 'change-pin', ['pin-ok']);
        await typePin(page, '12');
        await page.getByTestId('pin-change-error').waitFor();
        await fits(page, 'change-pin-error', ['pin-ok']);
        // Changed for good: the old PIN, the new one twice, then the way home.
        const new_pin = person.pin === '4817' ? '5926' : '4817';
        await typePin(page, person.pin);
        await page.locator('[data-testid="pin-change-step"][data-step="new"]').waitFor();
        await typePin(page, new_pin);
        await page.locator('[data-testid="pin-change-step"][data-step="again"]').waitFor();
        await fits(page, 'change-pin-again', ['pin-ok']);
        await typePin(page, new_pin);
        await page.getByTestId('pin-change-success').waitFor();
        await fits(page, 'change-pin-done', ['pin-change-home']);
        person.pin = new_pin;

        await page.goto('/wallet/scan');
        // The camera starts by itself; this phone has none, so it settles on "no camera" (or "denied").
        const settled = page.locator('[data-testid="scanner"]:is([data-camera="on"], [data-camera="unavailable"], [data-camera="denied"])');
        await settled.waitFor();
        const camera = await settled.getAttribute('data-camera') === 'on' ? 'camera-off' : 'camera-on';
        await fits(page, 'scan', [camera, 'scanner-manual-submit']);
        // A card's code typed where a claim or payment code goes: said above the scanner.
        await page.getByTestId('scanner-manual-input').fill(person.card_url);
        await page.getByTestId('scanner-manual-submit').click();
        await page.getByTestId('scan-problem').waitFor();
        await fits(page, 'scan-problem', ['scanner-manual-submit']);

        // A claim, then the same claim again (refused, with its words above the button).
        const claim = world.demo.open_session.claim_url.replace(world.base, '');
        await page.goto(claim);
        await page.getByTestId('claim-success').waitFor();
        await fits(page, 'claim-success', ['back-home']);
        await page.goto('/wallet');
        await page.getByTestId('balance').waitFor();
        await page.goto(claim);
        await page.getByTestId('claim-error').waitFor();
        await fits(page, 'claim-refused', ['back-home']);

        // A pay link: the confirm button, the success, the same link once paid.
        const id = await newRequest('1');
        await page.goto(`/p/${id}`);
        await page.getByTestId('pay-confirm').waitFor();
        await fits(page, 'pay', ['pay-confirm']);
        await page.getByTestId('pay-confirm').click();
        await page.getByTestId('pay-success').waitFor();
        await fits(page, 'pay-success', ['back-home']);
        await page.goto(`/p/${id}`);
        await page.getByTestId('pay-status').waitFor();
        await fits(page, 'pay-paid', ['back-home']);
      });
    });
  }

  for (const lang of ['nl', 'en', 'fr'] as const) {
    it(`${lang}: a pay link opened before the wallet, and a session the server ended, keep the card and PIN buttons on screen`, async () => {
      const person = world.demo.volunteers.filter((v) => v.language === lang).at(-1)!;
      const id = await newRequest('1');
      await withPage(browser, world, 'phone', lang, async (page) => {
        // The phone's camera opened a pay link: the card code first, then the PIN, each saying a payment waits.
        await page.goto(`/p/${id}`);
        await page.getByTestId('card-input').waitFor();
        await fits(page, 'card-for-payment', ['card-submit']);
        await page.getByTestId('card-input').fill(person.card);
        await page.getByTestId('card-submit').click();
        await page.getByTestId('open-card').waitFor();
        await fits(page, 'pin-for-payment', ['pin-ok']);
        await typePin(page, person.pin);
        await page.getByTestId('pay-confirm').waitFor();

        // The server ended the session (here: the token is gone): the PIN again, saying why.
        await page.evaluate(() => localStorage.removeItem('wm.token.wallet'));
        await page.goto('/wallet');
        await page.getByTestId('session-ended').waitFor();
        await fits(page, 'pin-session-ended', ['pin-ok']);
      });
    });
  }

  it('a frozen wallet\'s home, with coins that expire soon, keeps Scan and My card on screen, and its pay link the way home, in the three languages', async () => {
    // Both notices above the buttons at once: the wallet is frozen and its coins expire in 10 days.
    const admin = await world.login(world.demo.admin);
    const coordinator = await world.login(world.demo.coordinator);
    const validity = await world.api('PATCH', `/currencies/${world.demo.currency.code}`, { token: admin, body: { validity_days: 10 } });
    expect(validity.status, JSON.stringify(validity.body)).toBe(200);
    for (const lang of ['nl', 'en', 'fr'] as const) {
      const person = world.demo.volunteers.filter((v) => v.language === lang && v.balance !== undefined && v.balance !== '0')[1]!;
      const frozen = await world.api('PATCH', `/accounts/${person.account}`, { token: coordinator, body: { status: 'frozen', reason: 'Kaart mogelijk gestolen' } });
      expect(frozen.status, JSON.stringify(frozen.body)).toBe(200);
      await withPage(browser, world, 'phone', lang, async (page) => {
        await signInWithCard(page, person);
        await page.getByTestId('wallet-frozen').waitFor();
        await page.getByTestId('expiring').waitFor();
        await fits(page, 'home-frozen-expiring', ['scan', 'my-card']);
        // A pay link says the wallet is frozen instead of offering to pay, the way home on screen.
        await page.goto(`/p/${await newRequest('1')}`);
        await page.getByTestId('pay-blocked').waitFor();
        await fits(page, 'pay-frozen', ['back-home']);
      });
    }
  });
});
