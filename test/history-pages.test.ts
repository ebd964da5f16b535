/**
 * Kept pages of wallet history (#22, src/http/history-pages.ts): a page is kept by its account's
 * version and its currency's names_version, so every change a page can show makes the next read
 * a miss — a new entry, a reversal, a refund, a renamed shop, volunteer or activity, an erasure's
 * pseudonym — and a kept page is byte for byte what the database gives. "What the database
 * gives" is read by a second app on the same database, which keeps nothing of its own yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryPages } from '../src/http/history-pages.js';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, hitsAndMisses, issue } from './support/http-fixtures.js';
import { fundedWallet, pay, refund, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import type { Payer } from './support/shop-fixtures.js';
import { activityOf, claim, fund, openSession } from './support/volunteer-fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, 'HPG', 2, { gifts_enabled: true });
});

afterAll(async () => {
  await t?.close();
});

/** Hits and misses of the kept pages so far (the app's metrics). */
const counts = (app: TestApp) => hitsAndMisses(app.deps.metrics.history_pages);

/** The raw body of a page, and whether it came from the kept pages. */
async function page(app: TestApp, wallet: Payer, query = ''): Promise<{ text: string; kept: boolean }> {
  const before = await counts(app);
  const reply = await app.request('GET', `/api/v1/wallet/entries${query}`, { token: wallet.token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  const after = await counts(app);
  expect(after.hit + after.miss - before.hit - before.miss).toBe(1);
  return { text: JSON.stringify(reply.body), kept: after.hit > before.hit };
}

/** A fresh app on the same database: what the database gives now, kept by nobody. */
async function fromDatabase(wallet: Payer, query = ''): Promise<string> {
  const fresh = await createTestApp({}, { database_url: t.database_url, keys: t.deps.keys });
  try {
    const reply = await fresh.request('GET', `/api/v1/wallet/entries${query}`, { token: wallet.token });
    expect(reply.status).toBe(200);
    return JSON.stringify(reply.body);
  } finally {
    await fresh.close();
  }
}

/** Reads the page twice: first read from the database (a miss), then kept; both as the database gives it. */
async function changedThenKept(wallet: Payer, query = ''): Promise<any> {
  const first = await page(t, wallet, query);
  expect(first.kept, 'a page that changed is read again').toBe(false);
  const second = await page(t, wallet, query);
  expect(second.kept).toBe(true);
  expect(second.text).toBe(first.text);
  expect(second.text).toBe(await fromDatabase(wallet, query));
  return JSON.parse(second.text);
}

describe('HistoryPages', () => {
  it('keeps pages within its bytes, dropping the least recently used first', () => {
    const pages = new HistoryPages(1_000);
    // A page counts two bytes per character (and its key): 401 bytes each, two fit.
    pages.set('a', 'x'.repeat(200));
    pages.set('b', 'y'.repeat(200));
    expect(pages.get('a')).toBe('x'.repeat(200));
    pages.set('c', 'z'.repeat(200));
    // 'b' was used least recently: it goes to make room for 'c'.
    expect(pages.get('b')).toBeUndefined();
    expect(pages.get('a')).toBeDefined();
    expect(pages.get('c')).toBeDefined();
    expect(pages.bytes).toBeLessThanOrEqual(1_000);
    // Set again: replaced, counted once.
    pages.set('c', 'w'.repeat(10));
    expect(pages.get('c')).toBe('w'.repeat(10));
    expect(pages.size).toBe(2);
    // Bigger than the whole budget: not kept, nothing else dropped.
    pages.set('huge', 'h'.repeat(600));
    expect(pages.get('huge')).toBeUndefined();
    expect(pages.size).toBe(2);
  });

  it('a key names every input of a page', () => {
    const base = { account_id: 'acc', version: 7n, names_version: 2n, scale: 2, limit: 50, cursor: undefined };
    const keys = new Set([
      HistoryPages.key(base), HistoryPages.key({ ...base, version: 8n }), HistoryPages.key({ ...base, names_version: 3n }),
      HistoryPages.key({ ...base, scale: 0 }), HistoryPages.key({ ...base, limit: 10 }), HistoryPages.key({ ...base, cursor: 'abc' }),
      HistoryPages.key({ ...base, account_id: 'other' }),
    ]);
    expect(keys.size).toBe(7);
  });
});

describe('GET /wallet/entries from kept pages', () => {
  it('every change a page shows makes the next read a miss; every kept page equals the database\'s', async () => {
    const volunteer = await fundedWallet(t, 'HPG', '50.00', 'Mariette');
    const giver = await fundedWallet(t, 'HPG', '4.00', 'Jonas');
    const { shop, tablet } = await shopWithTablet(t, 'HPG', { name: 'Bakkerij Noord' });
    const activity = await activityOf(t, 'HPG');
    await fund(t, 'HPG', activity.programme_account, '100.00');
    const session = await openSession(t, activity.id, { hours: '1.00' });
    const claimed = await claim(t, volunteer.token, session.claim_token);
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(201);
    const paid = await pay(t, volunteer.token, (await requestPayment(t, tablet, '3.00', 'Brood')).id);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const { code } = (await t.request('GET', '/api/v1/wallet/receive', { token: volunteer.token })).body;
    const gift = await t.request('POST', '/api/v1/wallet/gifts', { token: giver.token, idempotencyKey: newKey(), body: { to: code, amount: '4.00' } });
    expect(gift.status, JSON.stringify(gift.body)).toBe(201);

    let items = (await changedThenKept(volunteer)).items;
    expect(items.map((e: any) => e.code)).toEqual(['gift', 'payment', 'reward', 'issue']);

    // A second page (with a cursor) is kept on its own key.
    const first_two = await changedThenKept(volunteer, '?limit=2');
    expect(first_two.next_cursor).not.toBeNull();
    const older = `?limit=2&cursor=${encodeURIComponent(first_two.next_cursor)}`;
    expect((await changedThenKept(volunteer, older)).items.map((e: any) => e.code)).toEqual(['reward', 'issue']);

    // A new entry.
    await issue(t, 'HPG', volunteer.account, '1.00');
    items = (await changedThenKept(volunteer)).items;
    expect(items[0]).toMatchObject({ code: 'issue', amount: '1.00' });

    // A refund of the payment, then a reversal of the refund: new entries, and the refunded row marked.
    const refunded = await refund(t, tablet, paid.body.id, '1.00');
    expect(refunded.status, JSON.stringify(refunded.body)).toBe(201);
    expect((await changedThenKept(volunteer)).items[0]).toMatchObject({ code: 'refund', refund_of: paid.body.id });
    const reversal = await t.request('POST', `/api/v1/transfers/${refunded.body.id}/reverse`, {
      token: t.adminToken, idempotencyKey: newKey(), body: { memo: 'wrong amount' },
    });
    expect(reversal.status, JSON.stringify(reversal.body)).toBe(201);
    items = (await changedThenKept(volunteer)).items;
    expect(items.find((e: any) => e.transfer_id === refunded.body.id)?.reversed).toBe(true);

    // The shop renamed: no entry of the volunteer changes, the names do (the older page too).
    expect((await t.request('PATCH', `/api/v1/shops/${shop.account}`, { token: t.adminToken, body: { name: 'Bakkerij De Zon' } })).status).toBe(200);
    items = (await changedThenKept(volunteer)).items;
    expect(items.filter((e: any) => e.counterparty.id === shop.account).map((e: any) => e.counterparty.name))
      .toEqual(['Bakkerij De Zon', 'Bakkerij De Zon', 'Bakkerij De Zon']);
    await changedThenKept(volunteer, older);

    // The activity renamed.
    const renamed = await t.request('PATCH', `/api/v1/activities/${activity.id}`, {
      token: t.adminToken, body: { name: { nl: 'Herstelcafé Noord', en: 'Repair café North', fr: 'Repair café Nord' } },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    items = (await changedThenKept(volunteer)).items;
    expect(items.find((e: any) => e.code === 'reward')?.activity.name).toMatchObject({ nl: 'Herstelcafé Noord' });

    // The giver renamed, then erased: the receiver's history shows the new name, then the pseudonym.
    expect((await t.request('PATCH', `/api/v1/wallets/${giver.account}`, { token: t.adminToken, body: { display_name: 'Jonas B.' } })).status).toBe(200);
    expect((await changedThenKept(volunteer)).items.find((e: any) => e.code === 'gift')?.counterparty.name).toBe('Jonas B.');
    const erased = await t.request('POST', `/api/v1/wallets/${giver.account}/erase`, { token: t.adminToken, body: { reason: 'Verzoek van de persoon' } });
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    const gift_row = (await changedThenKept(volunteer)).items.find((e: any) => e.code === 'gift');
    expect(gift_row.counterparty.name).toBe(erased.body.display_name);
    expect(gift_row.counterparty.name).not.toContain('Jonas');

    // Another wallet's reads never get this wallet's pages.
    const other = await fundedWallet(t, 'HPG', '2.00');
    const theirs = await changedThenKept(other);
    expect(theirs.items.map((e: any) => e.amount)).toEqual(['2.00']);
  });

  it('a helper\'s history is read every time: it shows payments from the wallets it helps', async () => {
    const volunteer = await fundedWallet(t, 'HPG', '20.00', 'Anouk');
    const helper = await fundedWallet(t, 'HPG', '1.00', 'Bram');
    const { tablet } = await shopWithTablet(t, 'HPG');
    expect((await t.request('POST', `/api/v1/wallets/${volunteer.account}/helpers`, {
      token: t.adminToken, body: { helper_wallet: helper.account, month_max: '10.00' },
    })).status).toBe(201);
    expect((await page(t, helper)).kept).toBe(false);
    expect((await page(t, helper)).kept).toBe(false);
    // A payment from the helped wallet changes the helper's history, not the helper's version.
    const paid = await t.request('POST', `/api/v1/payment-requests/${(await requestPayment(t, tablet, '2.00')).id}/pay`, {
      token: helper.token, idempotencyKey: newKey(), body: { on_behalf_of: volunteer.account },
    });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const after = await page(t, helper);
    expect(after.kept).toBe(false);
    expect(JSON.parse(after.text).items[0]).toMatchObject({ transfer_id: paid.body.id, for_other: true });
    expect(after.text).toBe(await fromDatabase(helper));
  });

  it('a refused read (a cursor that is not one) keeps nothing and changes nothing', async () => {
    const volunteer = await fundedWallet(t, 'HPG', '1.00');
    const before = await counts(t);
    const reply = await t.request('GET', '/api/v1/wallet/entries?cursor=not-a-cursor', { token: volunteer.token });
    expect(reply.status).toBe(422);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const after = await counts(t);
    expect(after.hit).toBe(before.hit);
    expect((await page(t, volunteer)).kept).toBe(false);
  });
});
