/**
 * The coordinator console's forms that send something, in a real browser, as an admin: a manual
 * transfer, a new currency and a new user each show their success, clear what was typed and
 * change the ledger (checked through the API); sent again where that must fail, each shows the
 * API's problem and no success. The currency's paying account, freezing an account and
 * registering a shop likewise. Then PINs and passwords: a wrong PIN says how many tries are
 * left, a locked card and too many tries say until when, a volunteer changes their PIN (a weak
 * one refused in words), a coordinator sets a new PIN for a locked card, an admin manages the
 * staff accounts, and a coordinator changes their own password.
 */
import type { Browser, Page, Route } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openConsole, requireTools, typePin, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

const poll = { timeout: 20_000, interval: 100 };

let world: World;
let browser: Browser;
let admin: string;

const problemCode = (page: Page, testid: string) => page.getByTestId(testid).locator('[data-code]').getAttribute('data-code');
const text = async (page: Page, testid: string) => (await page.getByTestId(testid).innerText()).replace(/\s+/g, ' ').trim();

/** A made-up problem+json answer, for states the demo cannot reach quickly (a lock that holds, too many tries). */
const problem = (status: number, code: string, extra: Record<string, unknown>) => (route: Route) => route.fulfill({
  status, contentType: 'application/problem+json',
  body: JSON.stringify({ type: 'about:blank', title: code, status, code, detail: code, ...extra }),
});

/** The wallet's change-PIN screen: the current PIN, then the new one twice, one PIN pad at a time. */
async function changePin(page: Page, old_pin: string, new_pin: string): Promise<void> {
  const step = () => page.getByTestId('pin-change-step').getAttribute('data-step');
  await expect.poll(step, poll).toBe('old');
  await typePin(page, old_pin);
  await expect.poll(step, poll).toBe('new');
  await typePin(page, new_pin);
  await expect.poll(step, poll).toBe('again');
  await typePin(page, new_pin);
}

it('has a Chromium and its fonts', () => requireTools());

describe('console forms, in Chromium', () => {
  const suite = worldAndBrowser('forms');
  beforeAll(async () => {
    ({ world, browser } = suite);
    admin = await world.login(world.demo.admin);
  }, 240_000);

  it('a manual transfer, then one the balance cannot cover; a currency and a user, then each again', async () => {
    const code = world.demo.currency.code;
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.admin);

      // A manual transfer between the two accounts the pickers start on.
      await page.goto('/console/ledger');
      await expect.poll(() => page.getByTestId('transfer-from').inputValue(), poll).not.toBe('');
      await expect.poll(() => page.getByTestId('transfer-to').inputValue(), poll).not.toBe('');
      const from = await page.getByTestId('transfer-from').inputValue();
      const to = await page.getByTestId('transfer-to').inputValue();
      const balance = async (account: string) => {
        const reply = await world.api('GET', `/accounts/${account}`, { token: admin });
        expect(reply.status).toBe(200);
        return BigInt(String(reply.body.balance).replace('.', ''));
      };
      const [from_before, to_before] = [await balance(from), await balance(to)];
      expect(from_before).toBeGreaterThan(0n);
      await page.getByTestId('transfer-amount').fill('1');
      await page.getByTestId('transfer-memo').fill('Correctie');
      await page.getByTestId('transfer-submit').click();
      await page.getByTestId('transfer-done').waitFor();
      expect(await page.getByTestId('transfer-amount').inputValue()).toBe('');
      expect(await page.getByTestId('transfer-memo').inputValue()).toBe('');
      expect([await balance(from), await balance(to)]).toEqual([from_before - 1n, to_before + 1n]);

      // More than the account holds: the problem, no success, nothing moved.
      await page.getByTestId('transfer-amount').fill(String(from_before * 10n));
      await page.getByTestId('transfer-submit').click();
      await expect.poll(() => problemCode(page, 'transfer-error'), poll).toBe('insufficient_funds');
      expect(await page.getByTestId('transfer-done').count()).toBe(0);
      expect([await balance(from), await balance(to)]).toEqual([from_before - 1n, to_before + 1n]);

      // A user, then the same e-mail address again.
      await page.goto('/console/admin');
      await page.getByTestId('user-email').fill('nieuwe.coordinator@wijkmunt.example');
      await page.getByTestId('user-password').fill('een lang wachtwoord');
      await page.getByTestId('user-create').click();
      await page.getByTestId('user-created').waitFor();
      expect(await page.getByTestId('user-email').inputValue()).toBe('');
      expect(await world.login({ email: 'nieuwe.coordinator@wijkmunt.example', password: 'een lang wachtwoord' })).not.toBe('');
      await page.getByTestId('user-email').fill('nieuwe.coordinator@wijkmunt.example');
      await page.getByTestId('user-password').fill('een ander lang wachtwoord');
      await page.getByTestId('user-create').click();
      await expect.poll(() => problemCode(page, 'user-error'), poll).toBe('email_exists');
      expect(await page.getByTestId('user-created').count()).toBe(0);

      // A currency (the console then works in it), then the same code again.
      await page.getByTestId('currency-code').fill('PAG');
      await page.getByTestId('currency-name').fill('Paginamunt');
      await page.getByTestId('currency-create').click();
      await page.getByTestId('currency-created').waitFor();
      expect(await page.getByTestId('currency-code').inputValue()).toBe('');
      expect((await world.api('GET', '/currencies/PAG', { token: admin })).status).toBe(200);
      await page.getByTestId('currency-code').fill('PAG');
      await page.getByTestId('currency-name').fill('Paginamunt');
      await page.getByTestId('currency-create').click();
      await expect.poll(() => problemCode(page, 'currency-error'), poll).toBe('currency_exists');
      expect(await page.getByTestId('currency-created').count()).toBe(0);
      expect((await world.api('GET', `/currencies/${code}`, { token: admin })).status).toBe(200);
    });
  }, 120_000);

  it('the paying account (a wrong IBAN first), an account frozen and thawed, a shop registered', async () => {
    const code = world.demo.currency.code;
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.admin);

      // The console works in the demo's currency (the test before made another and chose it).
      await page.goto('/console/admin');
      // The shell shows the one currency, or a picker once there are several.
      await page.locator('[data-testid="currency-current"], [data-testid="currency-picker"]').first().waitFor();
      if (await page.getByTestId('currency-picker').count() > 0) await page.getByTestId('currency-picker').selectOption(code);
      await expect.poll(() => page.getByTestId('payer-name').inputValue(), poll).toContain('Stad Gent');

      // The currency's paying account: a wrong IBAN is refused on its field, then a right one saved.
      await page.getByTestId('payer-name').fill('Stad Gent');
      await page.getByTestId('payer-iban').fill('BE00 0000 0000 0000');
      await page.getByTestId('payer-save').click();
      await page.getByTestId('payer-error').waitFor();
      expect(await page.getByTestId('payer-saved').count()).toBe(0);
      await page.getByTestId('payer-iban').fill('BE68 5390 0754 7034');
      await page.getByTestId('payer-save').click();
      await page.getByTestId('payer-saved').waitFor();
      expect(await page.getByTestId('payer-error').count()).toBe(0);
      const currency = await world.api('GET', `/currencies/${code}`, { token: admin });
      expect(currency.body.payer).toMatchObject({ name: 'Stad Gent', iban: 'BE68539007547034' });

      // A wallet frozen, then thawed, from its account page.
      const wallets = await world.api('GET', `/currencies/${code}/accounts?kind=wallet&limit=1`, { token: admin });
      const wallet = String(wallets.body.items[0].id);
      const status = async () => (await world.api('GET', `/accounts/${wallet}`, { token: admin })).body.status;
      await page.goto(`/console/accounts/${wallet}`);
      await page.getByTestId('account-freeze').click();
      // Freezing asks why; the reason is shown with the account.
      await page.getByTestId('account-freeze-reason').fill('Kaart gestolen');
      await page.getByTestId('account-dialog').getByTestId('confirm-ok').click();
      await page.getByTestId('account-unfreeze').waitFor();
      expect(await status()).toBe('frozen');
      expect(await page.getByTestId('account-status-reason').textContent()).toBe('Kaart gestolen');
      await page.getByTestId('account-unfreeze').click();
      await page.getByTestId('account-dialog').getByTestId('confirm-ok').click();
      await page.getByTestId('account-freeze').waitFor();
      expect(await status()).toBe('active');

      // A shop registered: its pairing code is shown, and the shop is in the currency.
      await page.goto('/console/shops/new');
      await page.getByTestId('shop-name').fill('Fietsherstel Macharius');
      await page.getByTestId('shop-save').click();
      await page.getByTestId('shop-created').waitFor();
      expect(await page.getByTestId('pairing-code').getAttribute('data-code')).toMatch(/\S/);
      const shops = await world.api('GET', `/currencies/${code}/shops`, { token: admin });
      expect(shops.body.items.map((shop: { name: string }) => shop.name)).toContain('Fietsherstel Macharius');
    });
  }, 120_000);

  it('PINs and passwords: tries left, locks in words, a changed PIN, a new PIN from the console, staff accounts', async () => {
    const person = world.demo.volunteers.find((v) => v.name === 'Pieter')!;
    const wrong = person.pin === '9999' ? '8888' : '9999';
    const new_pin = person.pin === '5831' ? '5832' : '5831';
    const strong = '7392';
    const session = (pin: string) => world.api('POST', '/wallet/session', { body: { card: person.card, pin } });

    await withPage(browser, world, 'phone', 'nl', async (page) => {
      await page.goto(person.card_url);
      await page.getByTestId('open-card').waitFor();

      // A wrong PIN says how many tries are left before the card locks.
      await typePin(page, wrong);
      await expect.poll(() => page.getByTestId('tries-left').getAttribute('data-tries'), poll).toBe('4');
      expect(await text(page, 'tries-left')).toBe('Nog 4 pogingen voor je kaart tijdelijk geblokkeerd wordt.');

      // A lock that holds until a coordinator unlocks it, and too many tries from this device, in words.
      await page.route('**/api/v1/wallet/session', problem(423, 'card_locked', { locked_until: null }));
      await typePin(page, wrong);
      await expect.poll(() => problemCode(page, 'open-error'), poll).toBe('card_locked');
      expect(await text(page, 'open-error')).toContain('je kaart is geblokkeerd tot de coördinator je kaart ontgrendelt');
      await page.unroute('**/api/v1/wallet/session');
      await page.route('**/api/v1/wallet/session', problem(429, 'rate_limited', { retry_after_s: 170 }));
      await typePin(page, wrong);
      await expect.poll(() => problemCode(page, 'open-error'), poll).toBe('rate_limited');
      expect(await text(page, 'open-error')).toBe('Te veel mislukte pogingen na elkaar. Probeer opnieuw over 3 minuten.');
      await page.unroute('**/api/v1/wallet/session');
      await typePin(page, person.pin);
      await page.getByTestId('wallet-home').waitFor();

      // Changing the PIN: a weak new one is refused in plain words, a good one works at once.
      await page.getByTestId('change-pin').click();
      await page.getByTestId('wallet-pin').waitFor();
      await changePin(page, person.pin, '1234');
      await expect.poll(() => problemCode(page, 'pin-change-error'), poll).toBe('validation_failed');
      expect(await text(page, 'pin-change-error')).toBe('Kies een pincode die moeilijker te raden is: niet vier dezelfde cijfers, geen reeks zoals 1234, geen jaartal.');
      expect(await page.getByTestId('pin-change-step').getAttribute('data-step')).toBe('new');
      await typePin(page, new_pin);
      await expect.poll(() => page.getByTestId('pin-change-step').getAttribute('data-step'), poll).toBe('again');
      await typePin(page, new_pin);
      await page.getByTestId('pin-change-success').waitFor();
      expect((await session(new_pin)).status).toBe(200);
      expect((await session(person.pin)).status).toBe(401);

      // A wrong current PIN counts like any wrong PIN: tries left, then the lock with its time.
      await page.goto('/wallet/pin');
      await changePin(page, person.pin, strong);
      await expect.poll(() => problemCode(page, 'pin-change-error'), poll).toBe('invalid_card_or_pin');
      expect(await text(page, 'tries-left')).toBe('Nog 3 pogingen voor je kaart tijdelijk geblokkeerd wordt.');
      expect((await session(person.pin)).status).toBe(401);
      await changePin(page, person.pin, strong);
      await expect.poll(() => text(page, 'tries-left'), poll).toBe('Nog 1 poging voor je kaart tijdelijk geblokkeerd wordt.');
      await changePin(page, person.pin, strong);
      await expect.poll(() => problemCode(page, 'pin-change-error'), poll).toBe('card_locked');
      expect(await text(page, 'pin-change-error')).toMatch(/je kaart is geblokkeerd tot [^()]*\d{1,2}:\d{2} \(nog 1[45] minuten\)/);
      expect(await page.getByTestId('tries-left').count()).toBe(0);
    });

    const coordinator = { email: world.demo.coordinator.email, password: 'fiets boom lantaarn regen' };
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      // Too many logins from this device, in words (made up here), then the real login.
      await page.goto('/console');
      await page.route('**/api/v1/auth/login', problem(429, 'rate_limited', { retry_after_s: 42 }));
      await page.getByTestId('login-email').fill(world.demo.admin.email);
      await page.getByTestId('login-password').fill(world.demo.admin.password);
      await page.getByTestId('login-submit').click();
      await expect.poll(() => problemCode(page, 'login-error'), poll).toBe('rate_limited');
      expect(await text(page, 'login-error')).toBe('Te veel mislukte pogingen na elkaar. Probeer opnieuw over 42 seconden.');
      await page.unroute('**/api/v1/auth/login');
      await openConsole(page, world.demo.admin);

      // The locked card says until when; a weak new PIN is refused, a good one unlocks the card.
      await page.goto(`/console/wallets/${person.account}`);
      await expect.poll(() => page.getByTestId('card-status').getAttribute('data-locked'), poll).toBe('true');
      expect(await text(page, 'card-locked')).toMatch(/^Vergrendeld tot [^()]*\d{1,2}:\d{2}$/);
      await page.getByTestId('set-pin').click();
      await page.locator('[data-testid="card-dialog"][open]').waitFor();
      await page.getByTestId('set-pin-new').fill('1111');
      await page.getByTestId('set-pin-again').fill('1111');
      await page.getByTestId('card-dialog').getByTestId('confirm-ok').click();
      await expect.poll(() => page.getByTestId('set-pin-new').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'card-dialog')).toContain('Kies een pincode die moeilijker te raden is');
      await page.getByTestId('set-pin-new').fill(strong);
      await page.getByTestId('set-pin-again').fill(strong);
      await page.getByTestId('card-dialog').getByTestId('confirm-ok').click();
      await page.getByTestId('card-action-done').waitFor();
      await expect.poll(() => page.getByTestId('card-status').getAttribute('data-locked'), poll).toBe('false');
      expect((await session(strong)).status).toBe(200);

      // A lock that holds until the coordinator unlocks it (made up here) says so.
      await page.route(`**/api/v1/wallets/${person.account}`, async (route) => {
        const response = await route.fetch();
        const wallet = await response.json();
        await route.fulfill({ response, json: { ...wallet, card: { ...wallet.card, locked: true, locked_until: null } } });
      });
      await page.reload();
      await expect.poll(() => text(page, 'card-locked'), poll).toBe('Vergrendeld tot je ontgrendelt');
      await page.getByTestId('unlock-card').waitFor();
      await page.unroute(`**/api/v1/wallets/${person.account}`);

      // Registering with a weak PIN: the field says why.
      await page.goto('/console/wallets/new');
      await page.getByTestId('register-name').fill('Zwakke Pin');
      await page.getByTestId('register-pin').fill('1234');
      await page.getByTestId('register-pin-again').fill('1234');
      await page.getByTestId('register-submit').click();
      await expect.poll(() => page.getByTestId('register-pin').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'console-register')).toContain('Kies een pincode die moeilijker te raden is');
      expect(await page.getByTestId('register-success').count()).toBe(0);

      // Staff accounts: a new password (a weak one refused first), logged out everywhere, disabled and enabled.
      await page.goto('/console/admin');
      const row = page.locator(`[data-testid="user-row"][data-email="${coordinator.email}"]`);
      await row.waitFor();
      await row.getByTestId('user-set-password').click();
      await page.locator('[data-testid="user-dialog"][open]').waitFor();
      await page.getByTestId('user-new-password').fill('kort');
      await page.getByTestId('user-dialog').getByTestId('confirm-ok').click();
      await expect.poll(() => page.getByTestId('user-new-password').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'user-dialog')).toContain('Kies een wachtwoord dat moeilijker te raden is');
      await page.getByTestId('user-new-password').fill(coordinator.password);
      await page.getByTestId('user-dialog').getByTestId('confirm-ok').click();
      await page.getByTestId('user-action-done').waitFor();
      const token = await world.login(coordinator);

      await row.getByTestId('user-revoke').click();
      await page.getByTestId('user-dialog').getByTestId('confirm-ok').click();
      await expect.poll(() => text(page, 'user-action-done'), poll).toContain('overal afgemeld');
      expect((await world.api('GET', '/auth/me', { token })).status).toBe(401);

      await row.getByTestId('user-disable').click();
      await page.getByTestId('user-dialog').getByTestId('confirm-ok').click();
      await expect.poll(() => row.getAttribute('data-disabled'), poll).toBe('true');
      expect((await world.api('POST', '/auth/login', { body: coordinator })).status).toBe(401);
      await row.getByTestId('user-enable').click();
      await page.getByTestId('user-dialog').getByTestId('confirm-ok').click();
      await expect.poll(() => row.getAttribute('data-disabled'), poll).toBe('false');
      expect((await world.api('POST', '/auth/login', { body: coordinator })).status).toBe(200);
    });

    // The coordinator changes their own password: their other sessions end, this one stays.
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, coordinator);
      const other = await world.login(coordinator);
      await page.getByTestId('change-password').click();
      await page.getByTestId('console-password').waitFor();
      expect(await page.getByTestId('change-password').getAttribute('aria-current')).toBe('page');
      const send = async (old_password: string, new_password: string) => {
        await page.getByTestId('password-old').fill(old_password);
        await page.getByTestId('password-new').fill(new_password);
        await page.getByTestId('password-again').fill(new_password);
        await page.getByTestId('password-submit').click();
      };
      await send('niet mijn wachtwoord', 'zon maan sterren zee');
      await expect.poll(() => problemCode(page, 'password-error'), poll).toBe('wrong_password');
      expect(await page.getByTestId('password-old').getAttribute('aria-invalid')).toBe('true');
      await send(coordinator.password, 'kort');
      await expect.poll(() => page.getByTestId('password-new').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'console-password')).toContain('Kies een wachtwoord dat moeilijker te raden is');
      await send(coordinator.password, 'zon maan sterren zee');
      await page.getByTestId('password-changed').waitFor();
      expect((await world.api('GET', '/auth/me', { token: other })).status).toBe(401);
      expect(await world.login({ email: coordinator.email, password: 'zon maan sterren zee' })).not.toBe('');
      await page.getByTestId('nav-wallets').click();
      await page.getByTestId('wallet-row').first().waitFor();
    });
  }, 180_000);
});
