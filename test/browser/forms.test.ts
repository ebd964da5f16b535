/**
 * The coordinator console's forms that send something, in a real browser, as an admin: a manual
 * transfer, a new currency and a new user each show their success, clear what was typed and
 * change the ledger (checked through the API); sent again where that must fail, each shows the
 * API's problem and no success.
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

it('has Chromium and ffmpeg', () => requireTools());

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
});
