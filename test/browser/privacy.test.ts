/**
 * Issue #21 point 1 in the coordinator's console, in a real browser on the demo neighbourhood: a
 * volunteer's data printed as a page in their own language (Aïcha's in French) and saved as JSON,
 * then erased with a reason and the coins left moved to a programme; a reason naming her is
 * refused in words and changes nothing. After the erasure the page shows the pseudonym, says when she was erased, and
 * offers no profile to edit. Each screen is checked with axe-core in Dutch and English.
 * Screenshots: test-results/browser/privacy/.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, openConsole, requireTools, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };

let world: World;
let browser: Browser;
let coordinator: string;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

it('has a Chromium and its fonts', () => requireTools());

describe('a person\'s data in the console (#21 point 1), in Chromium', () => {
  const suite = worldAndBrowser('privacy');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
  }, 240_000);

  it('prints Aïcha\'s data in French, then erases it, moving her coins to a programme', async () => {
    const aicha = world.demo.volunteers.find((v) => v.name === 'Aïcha')!;
    const patched = await world.api('PATCH', `/wallets/${aicha.account}`, { token: coordinator, body: { full_name: 'Aïcha El Idrissi', phone: '0470 98 76 54' } });
    expect(patched.status).toBe(200);
    const before = (await world.api('GET', `/wallets/${aicha.account}`, { token: coordinator })).body;
    expect(Number(before.account.balance)).toBeGreaterThan(0);
    const programme = world.demo.programmes[0]!;

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/wallets/${aicha.account}`);
      await page.getByTestId('person-data').waitFor();
      expect(await text(page, 'person-data')).toContain('Alles afdrukken');

      // The printable export opens in a new window, in her language.
      const [printed] = await Promise.all([page.context().waitForEvent('page'), page.getByTestId('export-person').click()]);
      await expect.poll(() => printed.evaluate(() => document.documentElement.lang), poll).toBe('fr-BE');
      const sheet = await printed.evaluate(() => document.body.innerText);
      expect(sheet).toContain('Mes données chez');
      expect(sheet).toContain('Aïcha El Idrissi');
      expect(sheet).toContain('0470 98 76 54');
      expect(sheet).not.toContain(aicha.card);
      await printed.close();

      // And as a JSON file, for another system.
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-person-json').click()]);
      expect(file.suggestedFilename()).toBe(`wijkmunt-${aicha.account}.json`);
      const json = JSON.parse(readFileSync((await file.path())!, 'utf8'));
      expect(json.person).toMatchObject({ account: aicha.account, full_name: 'Aïcha El Idrissi', phone: '0470 98 76 54', language: 'fr' });

      // A reason that names her is refused in words; nothing is erased.
      await page.getByTestId('erase-person').click();
      await page.getByTestId('erase-dialog').getByTestId('erase-programme').waitFor();
      await checkScreen(page, world, 'console-erase-dialog', both);
      await page.getByTestId('erase-reason').fill('Verzoek van Aïcha El Idrissi per brief');
      await page.getByTestId('erase-dialog').getByTestId('confirm-ok').click();
      await expect.poll(() => text(page, 'erase-dialog'), poll).toContain('De reden blijft bewaard: laat de naam, contactgegevens en kaartcode van de persoon weg.');
      expect((await world.api('GET', `/wallets/${aicha.account}`, { token: coordinator })).body.erased_at).toBeNull();

      await page.getByTestId('erase-reason').fill('Verzoek per brief van 3 december');
      await page.getByTestId('erase-programme').selectOption(programme.account);
      await page.getByTestId('erase-dialog').getByTestId('confirm-ok').click();
      await page.getByTestId('wallet-erased').waitFor();
      const pseudonym = await text(page, 'wallet-name');
      expect(pseudonym).toMatch(/^Gewist [0-9A-F]{4}$/);
      expect(await text(page, 'card-action-done')).toBe(`De gegevens zijn gewist. De portemonnee heet nu ${pseudonym}.`);
      expect(await text(page, 'wallet-erased')).toMatch(/^De persoonsgegevens zijn gewist op \d{1,2} dec\.? 2026\. De geschiedenis blijft onder deze schuilnaam\.$/);
      expect(await page.getByTestId('wallet-profile').count()).toBe(0);
      expect(await page.getByTestId('erase-person').count()).toBe(0);
      // The statement shows the move to the programme, with the reason.
      await expect.poll(() => text(page, 'console-wallet'), poll).toContain('Verzoek per brief van 3 december');
      await checkScreen(page, world, 'console-wallet-erased', both);
    });

    const after = (await world.api('GET', `/wallets/${aicha.account}`, { token: coordinator })).body;
    expect(after).toMatchObject({ display_name: expect.stringMatching(/^Gewist /), full_name: null, phone: null, card: null, account: { balance: '0', status: 'closed' } });
    expect(after.erased_at).not.toBeNull();
    const verify = await world.api('GET', `/currencies/${world.demo.currency.code}/verify`, { token: coordinator });
    expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);
  }, 180_000);
});
