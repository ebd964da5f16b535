/**
 * Issue #19, the coordinator's first week, in a real browser on the demo neighbourhood: a
 * volunteer's details edited and saved (point 2); the volunteer list found by a name typed
 * without accents and by a card code, locked and blocked cards said as such (3); a session made
 * elsewhere listed on a fresh console login, with its QR (4); a partial correction with its
 * reason, the corrected row no longer offered for correction, the reason in the volunteer's
 * history (6); a card code with one wrong character in event mode said as a typo (16).
 * Each screen is checked with axe-core in Dutch and English. Screenshots: test-results/browser/day-one/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatCardCode } from '../../src/ledger/cards.js';
import { checkScreen, expectNoPageErrors, newContext, newPage, openConsole, requireTools, signInWithCard, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };

let world: World;
let browser: Browser;
let coordinator: string;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();
const volunteer = (name: string) => world.demo.volunteers.find((v) => v.name === name)!;

/** The same card code with its first symbol changed: the check symbol fails, so it is a typo. */
function mistyped(code: string): string {
  return formatCardCode(`${code.startsWith('A') ? 'B' : 'A'}${code.slice(1)}`);
}

it('has a Chromium and its fonts', () => requireTools());

describe('day one of a coordinator (#19), in Chromium', () => {
  const suite = worldAndBrowser('day-one');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
  }, 240_000);

  it('2. a volunteer\'s names, language, phone, email and note are edited and saved', async () => {
    const fatima = volunteer('Fatima');
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/wallets/${fatima.account}`);
      await expect.poll(() => page.getByTestId('profile-display-name').inputValue(), poll).toBe('Fatima');
      expect(await text(page, 'profile-private-note')).toBe('Telefoon, e-mail en notitie zijn alleen voor coördinatoren: de vrijwilliger ziet ze niet.');
      for (const label of ['Roepnaam', 'Volledige naam (optioneel)', 'Taal', 'Telefoon (optioneel)', 'E-mail (optioneel)', 'Notitie']) {
        expect(await page.getByTestId('wallet-profile').getByLabel(label).count(), label).toBe(1);
      }

      // An email address the server refuses is said on its field, in Dutch; nothing is saved.
      await page.getByTestId('profile-email').fill('fatima at example');
      await page.getByTestId('profile-save').click();
      await expect.poll(() => page.getByTestId('profile-email').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'wallet-profile')).toContain('Typ een e-mailadres zoals naam@voorbeeld.be.');
      expect((await world.api('GET', `/wallets/${fatima.account}`, { token: coordinator })).body.email).toBeNull();
      await checkScreen(page, world, 'console-wallet-profile-invalid', both);

      await page.getByTestId('profile-display-name').fill('Fatima B.');
      await page.getByTestId('profile-full-name').fill('Fatima Benali');
      await page.getByTestId('profile-language').selectOption('fr');
      await page.getByTestId('profile-phone').fill('0470 12 34 56');
      await page.getByTestId('profile-email').fill('fatima@example.org');
      await page.getByTestId('profile-note').fill('Komt meestal op dinsdag.');
      await page.getByTestId('profile-save').click();
      await page.getByTestId('profile-saved').waitFor();
      expect(await text(page, 'wallet-name')).toBe('Fatima B.');
      expect(await text(page, 'wallet-full-name')).toBe('Fatima Benali');
      await checkScreen(page, world, 'console-wallet-profile-saved', both);

      const saved = (await world.api('GET', `/wallets/${fatima.account}`, { token: coordinator })).body;
      expect(saved).toMatchObject({
        display_name: 'Fatima B.', full_name: 'Fatima Benali', language: 'fr', phone: '0470 12 34 56', email: 'fatima@example.org', note: 'Komt meestal op dinsdag.',
      });

      // Seen again after a reload; an emptied optional field is cleared.
      await page.reload();
      await expect.poll(() => page.getByTestId('profile-phone').inputValue(), poll).toBe('0470 12 34 56');
      expect(await page.getByTestId('profile-language').inputValue()).toBe('fr');
      await page.getByTestId('profile-phone').fill('');
      await page.getByTestId('profile-save').click();
      await page.getByTestId('profile-saved').waitFor();
      expect((await world.api('GET', `/wallets/${fatima.account}`, { token: coordinator })).body.phone).toBeNull();

      // Nothing changed: said so, nothing sent.
      await page.getByTestId('profile-save').click();
      await page.getByTestId('profile-unchanged').waitFor();
    });
  }, 120_000);

  it('3. the list finds "Aïcha" from "aicha" and a volunteer by card code; locked and blocked cards are said as such', async () => {
    const aicha = volunteer('Aïcha');
    const nadia = volunteer('Nadia');
    const kwame = volunteer('Kwame');
    // Nadia's card locked by wrong PINs, Kwame's blocked by a coordinator.
    const wrong = nadia.pin === '9999' ? '8888' : '9999';
    let status = 0;
    for (let tries = 0; tries < 10 && status !== 423; tries += 1) {
      status = (await world.api('POST', '/wallet/session', { body: { card: nadia.card, pin: wrong } })).status;
    }
    expect(status).toBe(423);
    expect((await world.api('POST', `/cards/${kwame.card}/block`, { token: coordinator })).status).toBe(200);

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.getByTestId('nav-wallets').click();
      await page.getByTestId('wallet-row').first().waitFor();
      expect(await page.getByLabel('Zoek op naam of kaartcode').count()).toBe(1);
      const statusOf = (name: string) => page.locator(`[data-testid="wallet-row"][data-name="${name}"]`).getByTestId('wallet-card-status');
      await expect.poll(() => statusOf('Nadia').getAttribute('data-status'), poll).toBe('locked');
      expect(await statusOf('Nadia').innerText()).toBe('Vergrendeld');
      expect(await statusOf('Kwame').getAttribute('data-status')).toBe('blocked');
      expect(await statusOf('Kwame').innerText()).toBe('Geblokkeerd');
      expect(await statusOf('Jonas').innerText()).toBe('Werkt');
      await checkScreen(page, world, 'console-wallets-card-states', both);

      const search = async (q: string) => {
        await page.getByTestId('wallet-search').fill(q);
        await page.getByTestId('wallet-search-submit').click();
      };
      const names = () => page.getByTestId('wallet-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));

      await search('aicha');
      await expect.poll(names, poll).toEqual(['Aïcha']);
      await search('AÏCHA');
      await expect.poll(names, poll).toEqual(['Aïcha']);
      await search(formatCardCode(kwame.card));
      await expect.poll(names, poll).toEqual(['Kwame']);
      await search(aicha.card.toLowerCase());
      await expect.poll(names, poll).toEqual(['Aïcha']);

      // A card code with one wrong character: check the code, not "nobody found".
      await search(mistyped(aicha.card));
      await page.getByTestId('wallets-code-typo').waitFor();
      expect(await text(page, 'wallets-code-typo')).toBe('Controleer de code: één teken klopt niet.');
      expect(await page.getByTestId('wallets-empty').count()).toBe(0);
      await checkScreen(page, world, 'console-wallets-code-typo', both);
    });
  }, 120_000);

  it('4. a session opened through the API shows on the sessions screen of a fresh console login, with its QR', async () => {
    const activities = (await world.api('GET', `/currencies/${world.demo.currency.code}/activities`, { token: coordinator })).body.items as Array<{
      id: string; name: { nl: string }; rate_per_hour: string | null; active: boolean;
    }>;
    const activity = activities.find((a) => a.active && a.rate_per_hour === null) ?? activities.find((a) => a.active)!;
    const made = await world.api('POST', `/activities/${activity.id}/sessions`, {
      token: coordinator, body: { max_claims: 12, ...(activity.rate_per_hour === null ? {} : { hours: '2.5' }) },
    });
    expect(made.status).toBe(201);
    const session = made.body as { id: string; claim_url: string };

    // A fresh browser: nothing remembered on this device.
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.getByTestId('nav-sessions').click();
      await page.getByTestId('console-sessions').waitFor();
      const row = page.locator(`[data-testid="session-list"][data-open="true"] [data-testid="session-row"][data-id="${session.id}"]`);
      await row.waitFor();
      expect(await row.getByTestId('session-row-name').innerText()).toBe(activity.name.nl);
      expect(await row.getByTestId('session-row-claims').innerText()).toBe('0 van 12 vrijwilligers');
      // The demo's running Repair Café is there too.
      await page.locator(`[data-testid="session-row"][data-id="${world.demo.open_session.id}"]`).waitFor();
      await page.getByTestId('sessions-ended').locator('[data-testid="session-row"], [data-testid="sessions-none"]').first().waitFor();
      expect(await page.getByTestId('nav-sessions').getAttribute('aria-current')).toBe('page');
      await checkScreen(page, world, 'console-sessions', both);

      await row.getByTestId('session-row-qr').click();
      await page.getByTestId('console-session').waitFor();
      await page.getByTestId('claim-qr').locator('svg').waitFor();
      expect(await page.getByTestId('claim-qr').getAttribute('data-qr-text')).toBe(session.claim_url);

      // The activities screen lists the running sessions from the server as well.
      await page.getByTestId('nav-activities').click();
      await page.getByTestId('sessions-open').locator(`[data-testid="session-row"][data-id="${session.id}"]`).waitFor();
    });
  }, 120_000);

  it('6. a partial correction with a reason; the row says "Gecorrigeerd" and the volunteer\'s history shows the reason', async () => {
    const mehmet = volunteer('Mehmet');
    expect(mehmet.language).toBe('nl');
    const entries = (await world.api('GET', `/accounts/${mehmet.account}/entries?limit=50`, { token: coordinator })).body.items as Array<{
      transfer_id: string; code: string; amount: string; reversed: boolean;
    }>;
    const reward = entries.find((e) => e.code === 'reward' && !e.reversed)!;
    expect(reward).toBeDefined();
    const balance = async () => BigInt((await world.api('GET', `/accounts/${mehmet.account}`, { token: coordinator })).body.balance);
    const before = await balance();

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/wallets/${mehmet.account}`);
      const row = page.locator(`[data-testid="entry-row"][data-transfer="${reward.transfer_id}"]`);
      await row.getByTestId('reverse').click();
      const dialog = page.locator('[data-testid="reverse-dialog"][open]');
      await dialog.waitFor();
      expect(await dialog.getByLabel('Bedrag (laat leeg voor alles)').count()).toBe(1);

      // The reason is required: said on its field, nothing sent.
      await dialog.getByTestId('confirm-ok').click();
      await expect.poll(() => dialog.getByTestId('reverse-memo').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await dialog.innerText()).toContain('Typ een reden.');
      await checkScreen(page, world, 'console-reverse-dialog-invalid', both);

      // More than the transfer: refused with what is left, in words.
      await dialog.getByTestId('reverse-memo').fill('Dubbel gescand');
      await dialog.getByTestId('reverse-amount').fill(String(BigInt(reward.amount) + 1n));
      await dialog.getByTestId('confirm-ok').click();
      await expect.poll(() => dialog.getByTestId('reverse-error').locator('[data-code]').getAttribute('data-code'), poll).toBe('reversal_exceeds_left');
      expect(await text(page, 'reverse-error')).toMatch(new RegExp(`^Je kan hoogstens ${reward.amount}\\D.*corrigeren: zoveel blijft er over van deze verrichting\\.$`));
      await checkScreen(page, world, 'console-reverse-dialog-exceeds', both);
      expect(await balance()).toBe(before);

      // Part of it, with the reason.
      await dialog.getByTestId('reverse-amount').fill('10');
      await dialog.getByTestId('confirm-ok').click();
      await page.getByTestId('reverse-success').waitFor();
      await expect.poll(() => row.getAttribute('data-reversed'), poll).toBe('true');
      expect(await row.getByTestId('entry-reversed').innerText()).toBe('Gecorrigeerd');
      expect(await row.getByTestId('reverse').count()).toBe(0);
      expect(await balance()).toBe(before - 10n);
      const correction = page.locator('[data-testid="entry-row"][data-code="reversal"]').first();
      expect(await correction.innerText()).toContain('Dubbel gescand');
      expect(await correction.getByTestId('reverse').count()).toBe(0);
    });

    // The volunteer's phone: the correction with its reason, the reward marked as corrected.
    const context = await newContext(browser, world, 'phone', 'nl');
    try {
      const phone = await newPage(context);
      await signInWithCard(phone, mehmet);
      await phone.getByTestId('history').waitFor();
      const correction = phone.locator('[data-testid="entry"][data-code="reversal"]').first();
      expect(await correction.getByTestId('entry-reason').innerText()).toBe('Correctie: Dubbel gescand');
      const original = phone.locator(`[data-testid="entry"][data-transfer="${reward.transfer_id}"]`);
      expect(await original.getAttribute('data-reversed')).toBe('true');
      expect(await original.getByTestId('entry-corrected').innerText()).toContain('Gecorrigeerd');
      await checkScreen(phone, world, 'wallet-home-correction', both);
      expectNoPageErrors(phone);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('16. a card code with one wrong character in event mode says to check the code', async () => {
    const jonas = volunteer('Jonas');
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/sessions/${world.demo.open_session.id}/event`);
      await page.getByTestId('console-event').waitFor();
      await expect.poll(() => page.getByTestId('scanner').getAttribute('data-camera'), poll).toMatch(/unavailable|denied/);
      for (const typed of [mistyped(jonas.card), 'NOTACARD']) {
        await page.getByTestId('scanner-manual-input').fill(typed);
        await page.getByTestId('scanner-manual-submit').click();
      }
      const rows = page.locator('[data-testid="award-row"]:not([data-status="pending"])');
      await expect.poll(() => rows.count(), poll).toBe(2);
      const typo = page.locator('[data-testid="award-row"][data-code="card_code_typo"]');
      expect(await typo.innerText()).toContain('Controleer de code: één teken klopt niet.');
      expect(await typo.innerText()).not.toContain('geen kaart van een vrijwilliger');
      expect(await page.locator('[data-testid="award-row"][data-code="not_a_card"]').innerText()).toContain('Dit is geen kaart van een vrijwilliger.');
      // Nothing was awarded.
      expect(await page.getByTestId('award-count').getAttribute('data-count')).toBe('0');
      await checkScreen(page, world, 'console-event-code-typo', both);
    });
  }, 120_000);
});
