/**
 * The coordinator console's forms that send something, in a real browser, as an admin: a manual
 * transfer, a new currency and a new user each show their success, clear what was typed and
 * change the ledger (checked through the API); sent again where that must fail, each shows the
 * API's problem and no success. The currency's paying account, freezing an account and
 * registering a shop likewise.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openConsole, requireTools, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

const poll = { timeout: 20_000, interval: 100 };

let world: World;
let browser: Browser;
let admin: string;

const problemCode = (page: Page, testid: string) => page.getByTestId(testid).locator('[data-code]').getAttribute('data-code');

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
      await page.getByTestId('account-dialog').getByTestId('confirm-ok').click();
      await page.getByTestId('account-unfreeze').waitFor();
      expect(await status()).toBe('frozen');
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
});
