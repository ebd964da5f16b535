/**
 * Issue #20 points 5 and 6, in a real browser on the demo neighbourhood: what can I do this
 * week, and how much may I still earn. The wallet's home shows the next three public sessions
 * under "Meedoen" and a page lists them all, never with a claim token; the console's session
 * form sets the time, the place and the agenda; an admin lowers the day cap on the admin page,
 * and once less than a quarter of it is left the wallet says what is left, the volunteer's page shows the room, and event mode reads
 * it before awarding (a reward over it is not given). Dutch and English, checked with axe-core.
 * Screenshots: test-results/browser/agenda/.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseLanguage, checkScreen, openConsole, requireTools, withWalletHome, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';
import type { DemoVolunteer } from '../../src/demo.js';

const poll = { timeout: 20_000, interval: 100 };
const both = { languages: ['nl', 'en'] as Array<'nl' | 'en'> };
const hour_ms = 3_600_000;

let world: World;
let browser: Browser;
let admin: string;
let coordinator: string;
let person: DemoVolunteer;
let person_token: string;
let activities: Array<{ id: string; category: string; name: { nl: string; en?: string } }>;

const text = async (page: Page, testid: string) => (await page.getByTestId(testid).first().innerText()).replace(/\s+/g, ' ').trim();
const inHours = (hours: number) => new Date(Date.now() + hours * hour_ms).toISOString();
const activity = (category: string) => activities.find((a) => a.category === category)!;

/** The minute the test file started: times typed into the forms count from it, so their differences are exact. */
const minute_ms = 60_000;
const started_minute = Math.floor(Date.now() / minute_ms) * minute_ms;

/** A datetime-local value ("2026-12-08T18:00") `hours` after the start, in the browser's (and this machine's) time zone. */
function localInput(hours: number): string {
  const date = new Date(started_minute + hours * hour_ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

async function openSession(category: string, body: Record<string, unknown>): Promise<{ id: string; claim_token: string }> {
  const answer = await world.api('POST', `/activities/${activity(category).id}/sessions`, { token: coordinator, body });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

async function walletNow(): Promise<{ balance: string; currency: string; earning_room: { day: string | null; year: string | null; cap_day: string | null; cap_year: string | null } | null }> {
  const answer = await world.api('GET', '/wallet', { token: person_token });
  expect(answer.status).toBe(200);
  return answer.body;
}

/** Opens the volunteer's wallet on a phone and runs `steps` on its home, balance loaded. */
const onWalletHome = (steps: (page: Page) => Promise<void>) => withWalletHome(browser, world, person, steps);

it('has a Chromium and its fonts', () => requireTools());

describe('the agenda and earning room (#20 points 5 and 6), in Chromium', () => {
  const suite = worldAndBrowser('agenda');
  const sessions: Array<{ id: string; claim_token: string }> = [];
  beforeAll(async () => {
    ({ world, browser } = suite);
    admin = await world.login(world.demo.admin);
    coordinator = await world.login(world.demo.coordinator);
    person = world.demo.volunteers.find((v) => v.language === 'nl')!;
    expect(person, 'a Dutch-speaking demo volunteer').toBeDefined();
    const opened = await world.api('POST', '/wallet/session', { body: { card: person.card, pin: person.pin } });
    expect(opened.status).toBe(200);
    person_token = opened.body.token as string;
    const listed = await world.api('GET', `/currencies/${world.demo.currency.code}/activities`, { token: coordinator });
    activities = listed.body.items;
    // Four public sessions and a private one, sooner than all of them.
    await openSession('repair_cafe', { hours: '1', starts_at: inHours(1), place: 'Thuis bij Mieke' });
    sessions.push(await openSession('repair_cafe', { hours: '2', starts_at: inHours(3), ends_at: inHours(5), place: 'Buurthuis De Vonk', public: true }));
    sessions.push(await openSession('neighbourhood_party', { hours: '3', starts_at: inHours(27), place: 'Pierkespark', public: true }));
    sessions.push(await openSession('buurtbeheer', { hours: '1', starts_at: inHours(51), public: true }));
    sessions.push(await openSession('it_repair', { hours: '1.5', starts_at: inHours(75), ends_at: inHours(77), place: 'Bibliotheek', public: true }));
  }, 240_000);

  it('Meedoen on the wallet home: the next three public sessions; the agenda page: all four, never a claim token', async () => {
    await onWalletHome(async (page) => {
      const items = page.getByTestId('join-list').getByTestId('agenda-item');
      await expect.poll(() => items.count(), poll).toBe(3);
      expect(await Promise.all([0, 1, 2].map((i) => items.nth(i).getAttribute('data-session')))).toEqual(sessions.slice(0, 3).map((s) => s.id));
      expect(await text(page, 'join-in')).toContain('Meedoen');
      expect((await items.nth(0).innerText()).replace(/\s+/g, ' ')).toContain('Repair Café');
      expect(await items.nth(0).getByTestId('agenda-place').innerText()).toContain('Buurthuis De Vonk');
      expect((await items.nth(0).getByTestId('agenda-reward').innerText()).replace(/\s+/g, ' ')).toBe('+50 TOR');
      expect(await items.nth(1).getByTestId('agenda-name').innerText()).toBe('Buurtfeest');
      expect(await page.getByTestId('join-in').innerText()).not.toContain('Thuis bij Mieke');
      await checkScreen(page, world, 'wallet-home-join-in', both);
      await chooseLanguage(page, 'en');
      expect(await text(page, 'join-in')).toContain('Join in');
      expect(await items.nth(1).getByTestId('agenda-name').innerText()).toBe('Neighbourhood party');

      await page.getByTestId('agenda-all').click();
      await page.getByTestId('wallet-agenda').waitFor();
      const all = page.getByTestId('agenda-list').getByTestId('agenda-item');
      await expect.poll(() => all.count(), poll).toBe(4);
      expect(await all.nth(3).getByTestId('agenda-name').innerText()).toBe('IT repair');
      const html = await page.content();
      for (const session of sessions) expect(html).not.toContain(session.claim_token);
      await checkScreen(page, world, 'wallet-agenda', { languages: ['en', 'nl'] });
      await chooseLanguage(page, 'nl');
      expect(await all.nth(3).getByTestId('agenda-name').innerText()).toBe('Computerhulp');
    });
  }, 180_000);

  it('the console\'s session form sets the time, the place and the agenda; the session is then on the agenda, and its page changes them', async () => {
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/activities/${activity('repair_cafe').id}/session`);
      await page.getByTestId('session-starts').waitFor();
      // A public session without a start is refused on the form.
      await page.getByTestId('session-public').check();
      await page.getByTestId('session-create').click();
      expect(await page.getByTestId('console-new-session').innerText()).toContain('Kies wanneer de sessie begint.');
      await page.getByTestId('session-starts').fill(localInput(100));
      await page.getByTestId('session-ends').fill(localInput(102));
      await page.getByTestId('session-place').fill('Wijkcentrum Rabot');
      await checkScreen(page, world, 'console-new-session-agenda', both);
      await page.getByTestId('session-create').click();
      await page.getByTestId('console-session').waitFor();
      expect(await text(page, 'session-place')).toBe('Wijkcentrum Rabot');
      await page.getByTestId('session-when').waitFor();
      expect(await text(page, 'session-on-agenda')).toBe('Op de agenda');
      const id = page.url().split('/').at(-1)!;
      const agenda = await world.api('GET', `/currencies/${world.demo.currency.code}/agenda`);
      const listed = agenda.body.items.find((i: { session: string }) => i.session === id);
      expect(listed).toMatchObject({ place: 'Wijkcentrum Rabot', activity: { nl: 'Repair Café' } });
      expect(new Date(listed.ends_at).getTime() - new Date(listed.starts_at).getTime()).toBe(2 * hour_ms);

      // Changed on the session's page: another room; an end before the start is refused first.
      expect(await page.getByTestId('session-edit-place').inputValue()).toBe('Wijkcentrum Rabot');
      await page.getByTestId('session-edit-ends').fill(localInput(99));
      await page.getByTestId('session-edit-save').click();
      expect(await text(page, 'session-schedule')).toContain('Kies een einde na het begin.');
      await page.getByTestId('session-edit-ends').fill(localInput(103));
      await page.getByTestId('session-edit-place').fill('Wijkcentrum Rabot, zaal 2');
      await checkScreen(page, world, 'console-session-schedule', both);
      await page.getByTestId('session-edit-save').click();
      await page.getByTestId('session-edit-saved').waitFor();
      await expect.poll(() => text(page, 'session-place'), poll).toBe('Wijkcentrum Rabot, zaal 2');
      const changed = (await world.api('GET', `/currencies/${world.demo.currency.code}/agenda`)).body.items.find((i: { session: string }) => i.session === id);
      expect(changed).toMatchObject({ place: 'Wijkcentrum Rabot, zaal 2' });
      expect(new Date(changed.ends_at).getTime() - new Date(changed.starts_at).getTime()).toBe(3 * hour_ms);
    });
  }, 180_000);

  it('below a quarter of the day cap, set on the admin page: the wallet says what is left (nl, en); the volunteer page and event mode show the room', async () => {
    // Earn 50 today, then lower the day cap to leave 10 of it.
    const earn = await openSession('repair_cafe', { hours: '2' });
    expect((await world.api('POST', '/claims', { token: person_token, body: { token: earn.claim_token }, idempotent: true })).status).toBe(201);
    const before = await walletNow();
    const earned_today = 400n - BigInt(before.earning_room!.day!);
    // The admin lowers the day cap on the console's admin page (the year's stays).
    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.admin);
      await page.goto('/console/admin');
      await page.getByTestId('caps').waitFor();
      expect(await page.getByTestId('caps-day').inputValue()).toBe('400');
      await page.getByTestId('caps-day').fill('0');
      await page.getByTestId('caps-save').click();
      expect(await text(page, 'caps')).toContain('Typ een bedrag');
      await page.getByTestId('caps-day').fill(String(earned_today + 10n));
      await checkScreen(page, world, 'console-admin-caps', both);
      await page.getByTestId('caps-save').click();
      await page.getByTestId('caps-saved').waitFor();
    });
    const wallet = await walletNow();
    expect(wallet.earning_room).toMatchObject({ day: '10', cap_day: String(earned_today + 10n) });

    await onWalletHome(async (page) => {
      await page.getByTestId('earning-room').waitFor();
      expect(await text(page, 'earning-room-day')).toBe('Je kan vandaag nog 10 TOR verdienen.');
      expect(await page.getByTestId('earning-room-year').count()).toBe(0);
      await checkScreen(page, world, 'wallet-home-earning-room', both);
      await chooseLanguage(page, 'en');
      expect(await text(page, 'earning-room-day')).toBe('You can still earn 10 TOR today.');
    });

    await withPage(browser, world, 'tablet', 'nl', async (page) => {
      await openConsole(page, world.demo.coordinator);
      await page.goto(`/console/wallets/${person.account}`);
      await page.getByTestId('wallet-earning-room').waitFor();
      expect(await page.getByTestId('wallet-earning-room').getAttribute('data-day')).toBe('10');
      expect(await text(page, 'wallet-earning-room')).toContain('vandaag 10 TOR');

      const session = await openSession('repair_cafe', { hours: '1' });
      await page.goto(`/console/sessions/${session.id}/event`);
      await page.getByTestId('console-event').waitFor();
      await expect.poll(() => page.getByTestId('scanner').getAttribute('data-camera'), poll).toMatch(/unavailable|denied/);
      await page.getByTestId('scanner-manual-input').fill(person.card);
      await page.getByTestId('scanner-manual-submit').click();
      const row = page.locator('[data-testid="award-row"][data-status="error"]');
      await row.waitFor(poll);
      expect(await row.getAttribute('data-code')).toBe('volunteer_cap_exceeded');
      expect((await row.innerText()).replace(/\s+/g, ' ')).toContain(`${person.name} kan nog 10 TOR verdienen: minder dan 25 TOR.`);
      expect(await row.getByTestId('award-room').getAttribute('data-day')).toBe('10');
      // Not given: the balance is as it was, and the session counts no claim.
      expect((await walletNow()).balance).toBe(wallet.balance);
      expect(await page.getByTestId('award-count').getAttribute('data-count')).toBe('0');
      await checkScreen(page, world, 'console-event-earning-room', both);
    });
    const restored = await world.api('PATCH', `/currencies/${world.demo.currency.code}`, { token: admin, body: { volunteer_cap_day: '400' } });
    expect(restored.status).toBe(200);
  }, 180_000);
});
