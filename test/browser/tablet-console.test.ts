/**
 * Issue #19, the shop tablet and the coordinator console, in a real browser on the demo
 * neighbourhood: the session form's "Geldig tot" and its hint say the same (point 16); a running
 * claim session ended from the sessions screen after a confirmation, its QR then refused on a
 * volunteer's phone; refund and cash-out amounts typed on the tablet's own keypad (13); the audit
 * log's actions, the ledger check and the shop's history in the screen's language (5 and 11).
 * Each screen is checked with axe-core in Dutch and English. Screenshots:
 * test-results/browser/tablet-console/.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, openConsole, requireTools, signInWithCard, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';
import { verify_checks } from '../../src/ledger/model.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };

let world: World;
let browser: Browser;
let coordinator: string;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();

/** The hint of the field `testid` (what its aria-describedby names first). */
async function hintOf(page: Page, testid: string): Promise<string> {
  return page.getByTestId(testid).evaluate((input) => {
    const id = (input.getAttribute('aria-describedby') ?? '').split(' ')[0] ?? '';
    return document.getElementById(id)?.textContent ?? '';
  });
}

/** A datetime-local value `minutes` from now, in the browser's zone (the tests run in Europe/Brussels). */
async function localInFuture(page: Page, minutes: number): Promise<string> {
  return page.evaluate((ms) => {
    const date = new Date(Date.now() + ms);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }, minutes * 60_000);
}

it('has a Chromium and its fonts', () => requireTools());

describe('the shop tablet and the coordinator console (#19), in Chromium', () => {
  const suite = worldAndBrowser('tablet-console');
  beforeAll(async () => {
    ({ world, browser } = suite);
    coordinator = await world.login(world.demo.coordinator);
  }, 240_000);

  it('16 and ending a session: the form\'s "Geldig tot" and its hint agree; a running session ended after a confirmation, its QR refused', async () => {
    const activities = (await world.api('GET', `/currencies/${world.demo.currency.code}/activities`, { token: coordinator })).body.items as Array<{
      id: string; name: { nl: string }; rate_per_hour: string | null; active: boolean;
    }>;
    const activity = activities.find((a) => a.active && a.rate_per_hour !== null)!;
    const volunteer = world.demo.volunteers.find((v) => v.language === 'nl')!;
    let session: { id: string; claim_url: string } | undefined;

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/activities/${activity.id}/session`);
      await page.getByTestId('session-expires').waitFor();
      // Filled in 4 hours ahead, and the hint says so (not "leave empty: 12 hours").
      expect(await hintOf(page, 'session-expires')).toBe('Daarna werkt de QR-code niet meer: nog 4 u vanaf nu.');
      await page.getByTestId('session-expires').fill(await localInFuture(page, 150));
      await expect.poll(() => hintOf(page, 'session-expires'), poll).toBe('Daarna werkt de QR-code niet meer: nog 2,5 u vanaf nu.');
      await checkScreen(page, world, 'console-new-session', both);

      // Emptied: the hint asks for a time and the form refuses to send; nothing is made.
      const before = (await world.api('GET', `/currencies/${world.demo.currency.code}/sessions?open=true`, { token: coordinator })).body.items.length as number;
      await page.getByTestId('session-expires').fill('');
      await expect.poll(() => hintOf(page, 'session-expires'), poll).toBe('Kies tot wanneer de QR-code werkt.');
      await page.getByTestId('session-create').click();
      await expect.poll(() => page.getByTestId('session-expires').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'console-new-session')).toContain('Kies een moment in de toekomst.');
      expect((await world.api('GET', `/currencies/${world.demo.currency.code}/sessions?open=true`, { token: coordinator })).body.items.length).toBe(before);

      const until = await localInFuture(page, 150);
      await page.getByTestId('session-expires').fill(until);
      await page.getByTestId('session-create').click();
      await page.getByTestId('console-session').waitFor();
      await page.getByTestId('claim-qr').locator('svg').waitFor();
      const id = new URL(page.url()).pathname.split('/').pop()!;
      session = { id, claim_url: (await page.getByTestId('claim-qr').getAttribute('data-qr-text'))! };
      const made = (await world.api('GET', `/sessions/${id}`, { token: coordinator })).body as { expires_at: string; closed_at: string | null };
      // The time chosen is the time the session got.
      const chosen = await page.evaluate((value) => new Date(value).toISOString(), until);
      expect(made.expires_at).toBe(chosen);
      expect(made.closed_at).toBeNull();

      // The sessions screen: "Nu beëindigen", asked first; cancelling changes nothing.
      await page.getByTestId('nav-sessions').click();
      const row = page.locator(`[data-testid="session-list"][data-open="true"] [data-testid="session-row"][data-id="${id}"]`);
      await row.waitFor();
      expect(await row.getByTestId('session-end').innerText()).toBe('Nu beëindigen');
      await row.getByTestId('session-end').click();
      const dialog = page.getByTestId('session-end-dialog');
      await dialog.getByTestId('confirm-ok').waitFor();
      expect(await dialog.innerText()).toContain(`${activity.name.nl}: wie de QR-code hierna scant, krijgt geen munten meer.`);
      await checkScreen(page, world, 'console-session-end-confirm', both);
      await dialog.getByTestId('confirm-cancel').click();
      await expect.poll(() => dialog.evaluate((d) => (d as HTMLDialogElement).open), poll).toBe(false);
      expect((await world.api('GET', `/sessions/${id}`, { token: coordinator })).body.closed_at).toBeNull();

      await row.getByTestId('session-end').click();
      await dialog.getByTestId('confirm-ok').click();
      // It leaves the running sessions and joins the ended ones.
      await page.locator(`[data-testid="session-list"][data-open="false"] [data-testid="session-row"][data-id="${id}"]`).waitFor();
      expect(await row.count()).toBe(0);
      expect((await world.api('GET', `/sessions/${id}`, { token: coordinator })).body.closed_at).not.toBeNull();
      // The demo's own running session was not touched.
      await page.locator(`[data-testid="session-list"][data-open="true"] [data-testid="session-row"][data-id="${world.demo.open_session.id}"]`).waitFor();

      // Its page no longer shows a QR, nor offers to end it again.
      await page.goto(`/console/sessions/${id}`);
      await page.getByTestId('session-ended-note').waitFor();
      expect(await page.getByTestId('session-state').getAttribute('data-state')).toBe('ended');
      expect(await page.getByTestId('claim-qr').count()).toBe(0);
      expect(await page.getByTestId('session-end').count()).toBe(0);
      await checkScreen(page, world, 'console-session-ended', both);
    });

    // A volunteer scanning the QR afterwards gets no coins, and is told why in Dutch.
    await withPage(browser, world, 'phone', 'nl', async (page) => {
      await signInWithCard(page, volunteer);
      await page.getByTestId('wallet-home').waitFor();
      const balance = await page.getByTestId('balance').getAttribute('data-amount');
      await page.goto(session!.claim_url.slice(world.base.length));
      await expect.poll(() => page.getByTestId('claim-error').locator('[data-code]').getAttribute('data-code'), poll).toBe('session_closed');
      expect(await text(page, 'claim-error')).toContain('De coördinator heeft deze activiteit beëindigd: deze QR-code geeft geen munten meer.');
      expect(await page.getByTestId('claim-success').count()).toBe(0);
      const wallet = await world.api('POST', '/wallet/session', { body: { card: volunteer.card, pin: volunteer.pin } });
      const now = await world.api('GET', '/wallet', { token: wallet.body.token });
      expect(now.body.balance).toBe(balance);
    });
  }, 180_000);

  it('13. refund and cash-out amounts are typed on the tablet\'s own keypad, like the till', async () => {
    const shop = world.demo.shops[0]!;
    const payer = world.demo.volunteers.find((v) => v.language === 'nl' && v.balance !== undefined && BigInt(v.balance.split('.')[0]!) >= 12n)!;
    const wallet = (await world.api('POST', '/wallet/session', { body: { card: payer.card, pin: payer.pin } })).body.token as string;
    const code = await world.api('POST', `/shops/${shop.account}/pairing-codes`, { token: coordinator });
    expect(code.status).toBe(201);

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await page.goto('/shop');
      await page.getByTestId('pair-code-input').fill(code.body.pairing_code);
      await page.getByTestId('pair-name-input').fill('Toonbank');
      await page.getByTestId('pair-submit').click();
      await page.getByTestId('shop-till').waitFor();

      // A payment of 12 to refund: asked on this till, paid from a phone.
      for (const key of '12') await page.getByTestId(`amount-key-${key}`).click();
      await page.getByTestId('request-payment').click();
      await page.waitForURL(/\/shop\/request\/[0-9a-f-]{36}$/);
      const request = new URL(page.url()).pathname.split('/').pop()!;
      const paid = await world.api('POST', `/payment-requests/${request}/pay`, { token: wallet, idempotent: true });
      expect(paid.status, JSON.stringify(paid.body)).toBe(201);
      const payment = paid.body.id as string;

      await page.goto('/shop/today');
      const entry = page.locator(`[data-testid="shop-entry"][data-transfer="${payment}"]`);
      await entry.getByTestId('entry-refund').click();
      const form = entry.getByTestId('refund-form');
      // The only field is the keypad's, which opens no on-screen keyboard; the whole payment is filled in.
      expect(await form.locator('input, textarea').count()).toBe(1);
      const input = form.getByTestId('refund-amount-input');
      expect(await input.getAttribute('inputmode')).toBe('none');
      expect(await input.inputValue()).toBe('12');
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid')), poll).toBe('refund-amount-input');
      // The first key types a new amount; more than the payment is said and not sent.
      await form.getByTestId('amount-key-5').click();
      expect(await input.inputValue()).toBe('5');
      await form.getByTestId('amount-key-0').click();
      expect(await input.getAttribute('data-amount')).toBe('50');
      await form.getByTestId('refund-too-much').waitFor();
      expect(await form.getByTestId('refund-submit').isDisabled()).toBe(true);
      await checkScreen(page, world, 'shop-refund-keypad-too-much', both);
      await form.getByTestId('amount-key-erase').click();
      expect(await input.getAttribute('data-amount')).toBe('5');
      expect(await text(page, 'refund-submit')).toBe('Betaal 5 TOR terug');
      await checkScreen(page, world, 'shop-refund-keypad', both);
      await form.getByTestId('refund-submit').click();
      await page.getByTestId('refund-success').waitFor();
      const entries = (await world.api('GET', '/wallet/entries', { token: wallet })).body.items as Array<{ code: string; amount: string }>;
      expect(entries.filter((e) => e.code === 'refund').map((e) => e.amount)).toContain('5');

      // Cash-out: the same keypad, the euro value before sending.
      await page.goto('/shop/cashout');
      await page.getByTestId('cashout-available').waitFor();
      const cash = page.getByTestId('cashout-amount-input');
      expect(await cash.getAttribute('inputmode')).toBe('none');
      expect(await page.getByTestId('shop-cashout').locator('input, textarea').count()).toBe(1);
      await page.getByTestId('amount-key-7').click();
      await expect.poll(() => page.getByTestId('cashout-euro-preview').getAttribute('data-euro'), poll).toBe('0.70');
      // Keypad and button side by side, as on the till: the button is on a 1280×800 tablet's screen without scrolling.
      const button = (await page.getByTestId('cashout-submit').boundingBox())!;
      expect(button.y + button.height).toBeLessThanOrEqual(800);
      await checkScreen(page, world, 'shop-cashout-keypad', both);
      await page.getByTestId('amount-clear').click();
      expect(await cash.inputValue()).toBe('');
      expect(await page.getByTestId('cashout-submit').isDisabled()).toBe(true);
      await page.getByTestId('amount-key-7').click();
      await page.getByTestId('cashout-submit').click();
      await page.getByTestId('cashout-success').waitFor();
      expect(await page.getByTestId('cashout-euro').getAttribute('data-euro')).toBe('0.70');
    });
  }, 180_000);

  it('5 and 11. the audit log, the ledger check and the shop\'s history speak the screen\'s language, not codes', async () => {
    const fatima = world.demo.volunteers.find((v) => v.name === 'Fatima')!;
    expect((await world.api('POST', `/cards/${fatima.card}/block`, { token: coordinator })).status).toBe(200);
    expect((await world.api('POST', `/cards/${fatima.card}/unblock`, { token: coordinator })).status).toBe(200);
    // Coins for the second demo shop to cash out: a payment through a tablet of the API.
    const shop = world.demo.shops[1]!;
    const pairingCode = async () => (await world.api('POST', `/shops/${shop.account}/pairing-codes`, { token: coordinator })).body.pairing_code as string;
    const till = (await world.api('POST', '/shop/devices', { body: { pairing_code: await pairingCode(), device_name: 'API' } })).body.token as string;
    const request = await world.api('POST', '/shop/payment-requests', { token: till, body: { amount: '5' } });
    const payer = world.demo.volunteers.find((v) => v.name === 'Mehmet')!;
    const wallet = (await world.api('POST', '/wallet/session', { body: { card: payer.card, pin: payer.pin } })).body.token as string;
    expect((await world.api('POST', `/payment-requests/${request.body.id}/pay`, { token: wallet, idempotent: true })).status).toBe(201);
    const code = await pairingCode();

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.getByTestId('nav-audit').click();
      await page.getByTestId('audit-row').first().waitFor();
      // No action is shown as its code, on the whole first page.
      const actions = await page.getByTestId('audit-action').allInnerTexts();
      expect(actions.length).toBeGreaterThan(10);
      expect(actions.filter((a) => /^[a-z_]+\.[a-z_]+$/.test(a.trim()))).toEqual([]);

      // One action, chosen by its words; a name typed in part finds the volunteer's card.
      await page.getByTestId('audit-filter-action').selectOption({ label: 'Kaart geblokkeerd' });
      await page.getByTestId('audit-filter-name').fill('fati');
      await page.getByTestId('audit-filter-apply').click();
      const rows = page.getByTestId('audit-row');
      await expect.poll(async () => [...new Set(await rows.evaluateAll((r) => r.map((e) => e.getAttribute('data-action'))))], poll).toEqual(['card.block']);
      const row = rows.first();
      expect((await row.getByTestId('audit-action').innerText()).trim()).toBe('Kaart geblokkeerd');
      expect(await row.getByTestId('audit-object').innerText()).toContain('Kaart Fatima');
      expect(await row.getByTestId('audit-actor').innerText()).toContain(`Medewerker ${world.demo.coordinator.email}`);
      await checkScreen(page, world, 'console-audit-card-block', both);
      await page.getByTestId('language').first().selectOption('fr');
      await page.waitForFunction(() => document.documentElement.lang === 'fr-BE');
      await expect.poll(() => row.getByTestId('audit-action').innerText(), poll).toBe('Carte bloquée');
      expect(await row.getByTestId('audit-object').innerText()).toContain('Carte Fatima');
      await page.getByTestId('language').first().selectOption('nl');
      await page.waitForFunction(() => document.documentElement.lang === 'nl-BE');

      // Every card action at once: the object's "all actions".
      await page.getByTestId('audit-filter-action').selectOption({ label: 'Kaarten: alle acties' });
      await page.getByTestId('audit-filter-apply').click();
      await expect.poll(async () => [...new Set(await rows.evaluateAll((r) => r.map((e) => e.getAttribute('data-action'))))].sort(), poll)
        .toEqual(['card.block', 'card.unblock']);
      expect(await page.locator('[data-action="card.unblock"] [data-testid="audit-action"]').first().innerText()).toBe('Kaart weer in gebruik');
      // Too short a name is said on its field; nothing is asked of the server.
      await page.getByTestId('audit-filter-name').fill('f');
      await page.getByTestId('audit-filter-apply').click();
      await expect.poll(() => page.getByTestId('audit-filter-name').getAttribute('aria-invalid'), poll).toBe('true');
      expect(await text(page, 'console-audit')).toContain('Typ minstens 2 tekens.');

      // The ledger check: each check in words, the service's English only behind "technical details" when one fails.
      await page.getByTestId('nav-ledger').click();
      await page.getByTestId('verify-run').click();
      await page.getByTestId('verify-result').waitFor();
      expect(await page.getByTestId('verify-result').getAttribute('data-ok')).toBe('true');
      const checks = (await page.getByTestId('verify-check').allInnerTexts()).map((c) => c.replace(/\s+/g, ' ').trim());
      expect(checks).toHaveLength(verify_checks.length);
      expect(checks[0]).toBe('In orde: Alle saldi samen zijn nul — Elke munt die van de uitgifte vertrok, staat op een rekening: samen geven alle saldi nul.');
      const verify = await text(page, 'verify');
      for (const english of ['sum to 0', 'every account', 'append-only', 'seals recomputed', 'at most once']) expect(verify).not.toContain(english);
      await checkScreen(page, world, 'console-verify', both);
    });

    // The shop's history: the city, not "Torekes — issuance"; no "cash-out" memo.
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await page.goto('/shop');
      await page.getByTestId('pair-code-input').fill(code);
      await page.getByTestId('pair-name-input').fill('Kassa 2');
      await page.getByTestId('pair-submit').click();
      await page.getByTestId('shop-till').waitFor();
      await page.goto('/shop/cashout');
      await page.getByTestId('cashout-available').waitFor();
      await page.getByTestId('amount-key-5').click();
      await page.getByTestId('cashout-submit').click();
      await page.getByTestId('cashout-success').waitFor();
      const pending = (await world.api('GET', `/currencies/${world.demo.currency.code}/redemptions?status=pending`, { token: coordinator })).body.items as Array<{ id: string; shop: string; amount: string }>;
      const mine = pending.find((r) => r.shop === shop.account && r.amount === '5')!;
      expect(mine, JSON.stringify(pending)).toBeTruthy();
      expect((await world.api('POST', `/redemptions/${mine.id}/approve`, { token: coordinator, idempotent: true })).status).toBe(200);

      await page.goto('/shop/today');
      const redemption = page.locator('[data-testid="shop-entry"][data-code="redemption"]').first();
      await redemption.waitFor();
      expect(await redemption.getByTestId('entry-title').innerText()).toBe('De stad');
      const history = await text(page, 'history');
      expect(history).not.toContain('issuance');
      expect(history).not.toMatch(/cash-out|refund [0-9a-f]{8}/i);
      await checkScreen(page, world, 'shop-today-history', both);
    });

    // A volunteer's history: coins issued to the wallet come from the city, in French too.
    const issued = await world.api('POST', `/currencies/${world.demo.currency.code}/issue`, {
      token: coordinator, idempotent: true, body: { to_account: payer.account, amount: '1', memo: 'Welkom' },
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    await withPage(browser, world, 'phone', 'nl', async (page) => {
      await signInWithCard(page, payer);
      const entry = page.locator(`[data-testid="entry"][data-transfer="${issued.body.id}"]`);
      await entry.waitFor();
      expect(await entry.locator('.entry-title').innerText()).toBe('De stad');
      await page.getByTestId('language').first().selectOption('fr');
      await expect.poll(() => entry.locator('.entry-title').innerText(), poll).toBe('La ville');
      expect(await page.getByTestId('wallet-home').innerText()).not.toContain('issuance');
    });
  }, 180_000);

  it('11. the console\'s payout CSVs have their header in the console\'s language; the API\'s default stays the machine header', async () => {
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.getByTestId('nav-cashouts').click();
      await page.getByTestId('console-cashouts').waitFor();
      // The demo left an approved payout waiting for a bank file.
      await page.getByTestId('payout-export').click();
      const result = page.getByTestId('export-result');
      await result.waitFor();
      const [csv] = await Promise.all([page.waitForEvent('download'), result.getByTestId('download-csv').click()]);
      const text = readFileSync((await csv.path())!, 'utf8');
      expect(text.split('\r\n')[0]).toBe('Kenmerk uitbetaling,Winkel,IBAN,Bedrag in euro,Mededeling,Kenmerk aanvraag,Tijdstip (UTC),Kenmerk betaalbestand,Betaalbestand gemaakt (UTC)');
      await page.getByTestId('language').first().selectOption('fr');
      await page.waitForFunction(() => document.documentElement.lang === 'fr-BE');
      const [excel] = await Promise.all([page.waitForEvent('download'), result.getByTestId('download-excel').click()]);
      const french = readFileSync((await excel.path())!, 'utf8');
      expect(french.split('\r\n')[0]).toBe('\uFEFFRéférence du versement;Commerce;IBAN;Montant en euros;Communication;Référence de la demande;Moment (UTC);Référence du fichier de paiement;Fichier de paiement créé (UTC)');
      // Asked without a language, the API still answers the documented column names.
      const machine = await fetch(`${world.base}/api/v1/currencies/${world.demo.currency.code}/payouts.csv`, { headers: { Authorization: `Bearer ${coordinator}` } });
      expect((await machine.text()).split('\r\n')[0]).toBe('payout_id,shop,iban,euro_amount,reference,redemption_id,created_at,export_id,exported_at');
    });
  }, 120_000);
});
