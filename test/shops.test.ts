/**
 * Issue #4, shops and their tablets: creating shops with validated IBANs, pairing codes
 * (single-use, expiring, racing), several tablets per shop, revoking one, who may call which
 * route, bad input that writes nothing, and the tablet's own view: GET /shop (balance, pending
 * cash-outs, today's takings per tablet) and GET /shop/entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue } from './support/http-fixtures.js';
import { openWallet, registerVolunteer } from './support/volunteer-fixtures.js';
import {
  belgianIban, charge, createShop, fundedWallet, newPairingCode, pair, pairTablet, paperIban, pay, redeem, refund,
  requestPayment, shopCounts, shopView, shopWithTablet,
} from './support/shop-fixtures.js';
import type { Tablet } from './support/shop-fixtures.js';

const pairing_ttl_s = 120;
let t: TestApp;
let coord_tor: string;
let coord_ant: string;

beforeAll(async () => {
  t = await createTestApp({ PAIRING_CODE_TTL_S: String(pairing_ttl_s) });
  const tor = await createCurrency(t, 'TOR', 0);
  const ant = await createCurrency(t, 'ANT', 2);
  coord_tor = (await t.createStaff('coordinator', [tor.id])).token;
  coord_ant = (await t.createStaff('coordinator', [ant.id])).token;
});

afterAll(async () => {
  await t?.close();
});

/** The IBAN column as stored. */
async function storedIban(account: string): Promise<string | null> {
  const [row] = await t.sql<{ iban: string | null }[]>`SELECT iban FROM shops WHERE account_id = ${account}`;
  return row === undefined ? null : row.iban;
}

describe('creating shops', () => {
  it('a coordinator creates a shop; the IBAN typed with spaces in lower case is stored normalised and shown in groups of four', async () => {
    const before = Date.now();
    const reply = await t.request('POST', '/api/v1/currencies/TOR/shops', {
      token: coord_tor,
      body: { name: 'Bakkerij Rabot', iban: 'be68 5390 0754 7034', address: 'Rabotstraat 1, 9000 Gent', contact: '09 123 45 67' },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({
      name: 'Bakkerij Rabot', iban: 'BE68 5390 0754 7034', address: 'Rabotstraat 1, 9000 Gent', contact: '09 123 45 67',
      account: { kind: 'shop', name: 'Bakkerij Rabot', currency: 'TOR', balance: '0' },
    });
    expect(await storedIban(reply.body.account.id)).toBe('BE68539007547034');
    // Short and typeable: 8 Crockford symbols shown as XXXX-XXXX, expiring after the configured TTL.
    expect(reply.body.pairing_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    const expires = Date.parse(reply.body.pairing_expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + pairing_ttl_s * 1000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + pairing_ttl_s * 1000 + 1000);

    const listed = await t.request('GET', '/api/v1/currencies/TOR/shops', { token: coord_tor });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toContainEqual(expect.objectContaining({ name: 'Bakkerij Rabot', iban: 'BE68 5390 0754 7034' }));
    const one = await t.request('GET', `/api/v1/shops/${reply.body.account.id}`, { token: coord_tor });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: 'Bakkerij Rabot', iban: 'BE68 5390 0754 7034', account: { id: reply.body.account.id } });
  });

  it('an IBAN with a wrong checksum, of a non-SEPA country or of the wrong length is 422 and creates nothing', async () => {
    const before = await shopCounts(t);
    for (const iban of ['BE68 5390 0754 7035', 'BE68539007547', 'US12 3456 7890 1234 5678', 'not an iban', '']) {
      const reply = await t.request('POST', '/api/v1/currencies/TOR/shops', { token: coord_tor, body: { name: 'Bad IBAN shop', iban } });
      expectProblem(reply, 422, 'validation_failed');
      expect(reply.body.errors.map((e: { path: string }) => e.path)).toContain('iban');
    }
    expect(await shopCounts(t)).toEqual(before);
  });

  it('other IBANs of SEPA countries pass: Dutch, German, French (with letters in the BBAN), dashes allowed', async () => {
    for (const [typed, stored] of [
      ['NL91 ABNA 0417 1643 00', 'NL91ABNA0417164300'],
      ['de89-3704-0044-0532-0130-00', 'DE89370400440532013000'],
      ['FR14 2004 1010 0505 0001 3M02 606', 'FR1420041010050500013M02606'],
    ] as const) {
      const shop = await createShop(t, 'TOR', { iban: typed });
      expect(await storedIban(shop.account)).toBe(stored);
      expect(shop.iban).toBe(paperIban(stored));
    }
  });

  it('the test IBAN generator makes IBANs the service accepts', async () => {
    const iban = belgianIban(42);
    const shop = await createShop(t, 'TOR', { iban });
    expect(await storedIban(shop.account)).toBe(iban);
  });

  it('PATCH changes name and IBAN (normalised), a bad IBAN is 422 and changes nothing, null removes it', async () => {
    const shop = await createShop(t, 'TOR', { name: 'Kringwinkel', iban: 'BE68539007547034' });
    const renamed = await t.request('PATCH', `/api/v1/shops/${shop.account}`, {
      token: coord_tor, body: { name: 'Kringwinkel Rabot', iban: 'be71 0961 2345 6769' },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Kringwinkel Rabot', iban: 'BE71 0961 2345 6769', account: { name: 'Kringwinkel Rabot' } });
    expect(await storedIban(shop.account)).toBe('BE71096123456769');

    const bad = await t.request('PATCH', `/api/v1/shops/${shop.account}`, { token: coord_tor, body: { name: 'Changed', iban: 'BE71 0961 2345 6760' } });
    expectProblem(bad, 422, 'validation_failed');
    const unchanged = await t.request('GET', `/api/v1/shops/${shop.account}`, { token: coord_tor });
    expect(unchanged.body).toMatchObject({ name: 'Kringwinkel Rabot', iban: 'BE71 0961 2345 6769' });

    const removed = await t.request('PATCH', `/api/v1/shops/${shop.account}`, { token: coord_tor, body: { iban: null } });
    expect(removed.status).toBe(200);
    expect(removed.body.iban).toBeNull();
    expect(await storedIban(shop.account)).toBeNull();
  });

  it('bad shop input (empty or blank name, long address, NUL, wrong types) is 422 and writes nothing', async () => {
    const before = await shopCounts(t);
    const bodies: unknown[] = [
      { name: '' }, { name: '   ' }, { name: 'x'.repeat(201) }, { name: 'Ok', address: 'a'.repeat(501) },
      { name: 'Ok', contact: 'c'.repeat(201) }, { name: 'Nul\u0000shop' }, { name: 42 }, { iban: 'BE68539007547034' },
    ];
    for (const body of bodies) {
      expectProblem(await t.request('POST', '/api/v1/currencies/TOR/shops', { token: coord_tor, body }), 422, 'validation_failed');
    }
    expect(await shopCounts(t)).toEqual(before);
  });
});

describe('pairing tablets', () => {
  it('a code pairs one tablet, typed in lower case without the dash; the second use of the same code is 401', async () => {
    const shop = await createShop(t, 'TOR', { name: 'Fietsatelier' });
    const typed = shop.pairing_code.replace('-', '').toLowerCase();
    const first = await pair(t, typed, 'Till 1');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      token: expect.any(String), shop: { account: shop.account, name: 'Fietsatelier', currency: 'TOR' },
      device: { id: expect.any(String), name: 'Till 1' },
    });
    const me = await t.request('GET', '/api/v1/shop', { token: first.body.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ account: shop.account, name: 'Fietsatelier', device: { name: 'Till 1' } });

    const before = await shopCounts(t);
    expectProblem(await pair(t, shop.pairing_code, 'Till 2'), 401, 'unauthenticated');
    expect((await shopCounts(t)).devices).toBe(before.devices);
  });

  it('an expired code is 401 and pairs nothing; an unknown or malformed code is 401 too', async () => {
    const shop = await createShop(t, 'TOR');
    await t.sql`UPDATE pairing_codes SET expires_at = now() - interval '1 second'
                WHERE code = ${shop.pairing_code.replace('-', '')}`;
    const before = await shopCounts(t);
    expectProblem(await pair(t, shop.pairing_code, 'Too late'), 401, 'unauthenticated');
    expectProblem(await pair(t, '0000-0000', 'Guess'), 401, 'unauthenticated');
    expectProblem(await pair(t, 'not a code!', 'Guess'), 401, 'unauthenticated');
    expect(await shopCounts(t)).toEqual(before);
    // A fresh code from the coordinator works.
    await pairTablet(t, await newPairingCode(t, shop.account, coord_tor), 'In time');
  });

  it('two tablets racing with one code: exactly one is paired', async () => {
    for (let round = 0; round < 3; round += 1) {
      const shop = await createShop(t, 'TOR');
      const before = await shopCounts(t);
      const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => pair(t, shop.pairing_code, `Racer ${i}`)));
      expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
      for (const reply of replies.filter((r) => r.status !== 201)) expectProblem(reply, 401, 'unauthenticated');
      expect((await shopCounts(t)).devices).toBe(before.devices + 1);
      const listed = await t.request('GET', `/api/v1/shops/${shop.account}/devices`, { token: coord_tor });
      expect(listed.body.items).toHaveLength(1);
    }
  });

  it('an empty or blank device name is 422 and does not use up the code', async () => {
    const shop = await createShop(t, 'TOR');
    const before = await shopCounts(t);
    for (const device_name of ['', '   ', 'd'.repeat(101)]) {
      expectProblem(await pair(t, shop.pairing_code, device_name), 422, 'validation_failed');
    }
    expectProblem(await t.request('POST', '/api/v1/shop/devices', { body: { pairing_code: shop.pairing_code } }), 422, 'validation_failed');
    expect(await shopCounts(t)).toEqual(before);
    await pairTablet(t, shop.pairing_code, 'Named at last');
  });

  it('several tablets per shop: listed by the coordinator; revoking one kills its token at once, the other keeps working', async () => {
    const shop = await createShop(t, 'TOR', { name: 'Two tills' });
    const front = await pairTablet(t, shop.pairing_code, 'Front');
    const back = await pairTablet(t, await newPairingCode(t, shop.account, coord_tor), 'Back');
    expect(front.device).not.toBe(back.device);

    const listed = await t.request('GET', `/api/v1/shops/${shop.account}/devices`, { token: coord_tor });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((d: { name: string }) => d.name)).toEqual(['Front', 'Back']);
    expect(listed.body.items[0]).toMatchObject({ id: front.device, created_at: expect.any(String), last_seen_at: expect.any(String) });

    // Both work before.
    expect((await t.request('GET', '/api/v1/shop', { token: front.token })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/shop', { token: back.token })).status).toBe(200);

    const revoked = await t.request('DELETE', `/api/v1/shops/${shop.account}/devices/${front.device}`, { token: coord_tor });
    expect(revoked.status).toBe(204);
    expectProblem(await t.request('GET', '/api/v1/shop', { token: front.token }), 401, 'unauthenticated');
    expectProblem(await t.request('POST', '/api/v1/shop/payment-requests', { token: front.token, body: { amount: '5' } }), 401, 'unauthenticated');
    expect((await t.request('GET', '/api/v1/shop', { token: back.token })).status).toBe(200);
    await requestPayment(t, back, '5');

    const after = await t.request('GET', `/api/v1/shops/${shop.account}/devices`, { token: coord_tor });
    expect(after.body.items.map((d: { id: string }) => d.id)).toEqual([back.device]);
    // Revoking again, or a device of another shop, or garbage: 404.
    expectProblem(await t.request('DELETE', `/api/v1/shops/${shop.account}/devices/${front.device}`, { token: coord_tor }), 404, 'not_found');
    const other = await shopWithTablet(t, 'TOR');
    expectProblem(await t.request('DELETE', `/api/v1/shops/${shop.account}/devices/${other.tablet.device}`, { token: coord_tor }), 404, 'not_found');
    expectProblem(await t.request('DELETE', `/api/v1/shops/${shop.account}/devices/nope`, { token: coord_tor }), 404, 'not_found');
    expect((await t.request('GET', '/api/v1/shop', { token: other.tablet.token })).status).toBe(200);
  });

  it('a tablet unpairs itself: its token dies at once, the shop\'s other tablet keeps working, the euro rate is shown', async () => {
    const shop = await createShop(t, 'TOR', { name: 'Self unpair' });
    const leaving = await pairTablet(t, shop.pairing_code, 'Leaving');
    const staying = await pairTablet(t, await newPairingCode(t, shop.account, coord_tor), 'Staying');
    const view = await t.request('GET', '/api/v1/shop', { token: leaving.token });
    expect(view.body.euro_per_unit).toBe('0.10');

    expect((await t.request('DELETE', '/api/v1/shop/device', { token: leaving.token })).status).toBe(204);
    expectProblem(await t.request('GET', '/api/v1/shop', { token: leaving.token }), 401, 'unauthenticated');
    expectProblem(await t.request('DELETE', '/api/v1/shop/device', { token: leaving.token }), 401, 'unauthenticated');
    expect((await t.request('GET', '/api/v1/shop', { token: staying.token })).status).toBe(200);
    const listed = await t.request('GET', `/api/v1/shops/${shop.account}/devices`, { token: coord_tor });
    expect(listed.body.items.map((d: { name: string }) => d.name)).toEqual(['Staying']);
  });
});

describe('who may call what', () => {
  let tablet: Tablet;
  let shop_account: string;
  let wallet_token: string;

  beforeAll(async () => {
    const made = await shopWithTablet(t, 'TOR');
    tablet = made.tablet;
    shop_account = made.shop.account;
    const volunteer = await registerVolunteer(t, 'TOR');
    wallet_token = await openWallet(t, volunteer);
  });

  it('tablet routes without a token are 401, with a wallet or staff token 403, and write nothing', async () => {
    const before = await shopCounts(t);
    const calls: Array<[string, string, unknown]> = [
      ['GET', '/api/v1/shop', undefined],
      ['GET', '/api/v1/shop/entries', undefined],
      ['GET', '/api/v1/shop/redemptions', undefined],
      ['POST', '/api/v1/shop/payment-requests', { amount: '5' }],
      ['POST', '/api/v1/shop/charges', { card: 'X', pin: '1234', amount: '5' }],
      ['POST', '/api/v1/shop/refunds', { transfer_id: '00000000-0000-4000-8000-000000000000', amount: '1' }],
      ['POST', '/api/v1/shop/redemptions', { amount: '1' }],
    ];
    for (const [method, path, body] of calls) {
      const options = { body, idempotencyKey: newKey() };
      expectProblem(await t.request(method, path, options), 401, 'unauthenticated');
      expectProblem(await t.request(method, path, { ...options, token: wallet_token }), 403, 'forbidden');
      expectProblem(await t.request(method, path, { ...options, token: coord_tor }), 403, 'forbidden');
      expectProblem(await t.request(method, path, { ...options, token: t.adminToken }), 403, 'forbidden');
    }
    expect(await shopCounts(t)).toEqual(before);
  });

  it('a tablet on coordinator routes is 403 and writes nothing', async () => {
    const before = await shopCounts(t);
    const id = '00000000-0000-4000-8000-000000000000';
    const calls: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/currencies/TOR/shops', { name: 'Sneaky' }],
      ['GET', '/api/v1/currencies/TOR/shops', undefined],
      ['GET', `/api/v1/shops/${shop_account}`, undefined],
      ['PATCH', `/api/v1/shops/${shop_account}`, { name: 'Mine now' }],
      ['POST', `/api/v1/shops/${shop_account}/pairing-codes`, undefined],
      ['GET', `/api/v1/shops/${shop_account}/devices`, undefined],
      ['DELETE', `/api/v1/shops/${shop_account}/devices/${tablet.device}`, undefined],
      ['GET', '/api/v1/currencies/TOR/redemptions', undefined],
      ['POST', `/api/v1/redemptions/${id}/approve`, undefined],
      ['POST', `/api/v1/redemptions/${id}/reject`, undefined],
      ['GET', '/api/v1/currencies/TOR/payouts', undefined],
      ['POST', '/api/v1/currencies/TOR/payout-exports', undefined],
      ['GET', '/api/v1/currencies/TOR/payouts.csv', undefined],
      ['GET', '/api/v1/currencies/TOR/payouts.xml?export=00000000-0000-4000-8000-000000000000', undefined],
      ['PATCH', '/api/v1/currencies/TOR', { payment_request_ttl_s: 60 }],
      ['GET', `/api/v1/accounts/${shop_account}`, undefined],
      ['POST', '/api/v1/currencies/TOR/issue', { to_account: shop_account, amount: '100' }],
    ];
    for (const [method, path, body] of calls) {
      expectProblem(await t.request(method, path, { token: tablet.token, body, idempotencyKey: newKey() }), 403, 'forbidden');
    }
    expect(await shopCounts(t)).toEqual(before);
    // The tablet still works afterwards.
    expect((await t.request('GET', '/api/v1/shop', { token: tablet.token })).status).toBe(200);
  });

  it('a coordinator of another currency sees no shop or device of TOR (404) and may not create or list there (403)', async () => {
    const before = await shopCounts(t);
    expectProblem(await t.request('POST', '/api/v1/currencies/TOR/shops', { token: coord_ant, body: { name: 'Not mine' } }), 403, 'forbidden');
    expectProblem(await t.request('GET', '/api/v1/currencies/TOR/shops', { token: coord_ant }), 403, 'forbidden');
    expectProblem(await t.request('GET', `/api/v1/shops/${shop_account}`, { token: coord_ant }), 404, 'not_found');
    expectProblem(await t.request('PATCH', `/api/v1/shops/${shop_account}`, { token: coord_ant, body: { name: 'Mine' } }), 404, 'not_found');
    expectProblem(await t.request('POST', `/api/v1/shops/${shop_account}/pairing-codes`, { token: coord_ant }), 404, 'not_found');
    expectProblem(await t.request('GET', `/api/v1/shops/${shop_account}/devices`, { token: coord_ant }), 404, 'not_found');
    expectProblem(await t.request('DELETE', `/api/v1/shops/${shop_account}/devices/${tablet.device}`, { token: coord_ant }), 404, 'not_found');
    expect(await shopCounts(t)).toEqual(before);
    expect((await t.request('GET', '/api/v1/shop', { token: tablet.token })).status).toBe(200);
    // A coordinator of ANT may of course manage ANT's shops.
    await createShop(t, 'ANT', { name: 'Antwerp shop' }, coord_ant);
  });

  it('/shops/{id} on an account that is not a shop, or no account, is 404', async () => {
    const volunteer = await registerVolunteer(t, 'TOR');
    expectProblem(await t.request('GET', `/api/v1/shops/${volunteer.account}`, { token: coord_tor }), 404, 'not_found');
    expectProblem(await t.request('GET', '/api/v1/shops/00000000-0000-4000-8000-000000000000', { token: coord_tor }), 404, 'not_found');
    expectProblem(await t.request('GET', '/api/v1/shops/nope', { token: coord_tor }), 404, 'not_found');
  });
});

describe('the tablet\'s view of its shop', () => {
  it('GET /shop: balance, available, pending cash-outs and today\'s takings per tablet, numbers checked', async () => {
    const { shop, tablet: front } = await shopWithTablet(t, 'ANT', { name: 'Kruidenier', tablet_name: 'Front' });
    const back = await pairTablet(t, await newPairingCode(t, shop.account), 'Back');
    const alice = await fundedWallet(t, 'ANT', '100.00');

    // Front: one QR payment of 12.50. Back: two card charges 3.25 + 4.00 and a refund of 1.25.
    const request = await requestPayment(t, front, '12.50');
    expect((await pay(t, alice.token, request.id)).status).toBe(201);
    const first = await charge(t, back, { card: alice.code, pin: alice.pin, amount: '3.25' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect((await charge(t, back, { card: alice.code, pin: alice.pin, amount: '4.00' })).status).toBe(201);
    expect((await refund(t, back, first.body.id, '1.25')).status).toBe(201);
    // An issue straight to the shop is not takings.
    await issue(t, 'ANT', shop.account, '50.00');

    let view = await shopView(t, back);
    expect(view).toMatchObject({
      account: shop.account, name: 'Kruidenier', currency: 'ANT', scale: 2,
      balance: '68.50', available: '68.50', pending_redemptions: '0.00', device: { id: back.device, name: 'Back' },
    });
    expect(view.today).toHaveLength(2);
    const byDevice = (id: string) => view.today.find((d: { device: { id: string } | null }) => d.device?.id === id);
    expect(byDevice(front.device)).toEqual({ device: { id: front.device, name: 'Front' }, payments: '12.50', payments_count: 1, refunds: '0.00' });
    expect(byDevice(back.device)).toEqual({ device: { id: back.device, name: 'Back' }, payments: '7.25', payments_count: 2, refunds: '1.25' });

    // A pending cash-out: balance unchanged, available and pending show it.
    expect((await redeem(t, front, '60.00')).status).toBe(201);
    view = await shopView(t, front);
    expect(view).toMatchObject({ balance: '68.50', available: '8.50', pending_redemptions: '60.00', device: { id: front.device } });
  });

  it('GET /shop/entries: the shop\'s history newest first, with running balance and paging', async () => {
    const { tablet } = await shopWithTablet(t, 'ANT', { name: 'Boekenruil' });
    const bob = await fundedWallet(t, 'ANT', '50.00', 'Bob');
    for (const amount of ['1.00', '2.00', '3.00']) {
      expect((await charge(t, tablet, { card: bob.code, pin: bob.pin, amount })).status).toBe(201);
    }
    const paid = await charge(t, tablet, { card: bob.code, pin: bob.pin, amount: '4.00', memo: 'Two books' });
    expect((await refund(t, tablet, paid.body.id, '0.50')).status).toBe(201);

    const page1 = await t.request('GET', '/api/v1/shop/entries?limit=3', { token: tablet.token });
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((e: { code: string; amount: string; balance_after: string }) => [e.code, e.amount, e.balance_after])).toEqual([
      ['refund', '-0.50', '9.50'], ['payment', '4.00', '10.00'], ['payment', '3.00', '6.00'],
    ]);
    expect(page1.body.items[1]).toMatchObject({ memo: 'Two books', counterparty: { id: bob.account, name: 'Bob' } });
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await t.request('GET', `/api/v1/shop/entries?limit=3&cursor=${page1.body.next_cursor}`, { token: tablet.token });
    expect(page2.body.items.map((e: { amount: string }) => e.amount)).toEqual(['2.00', '1.00']);
    expect(page2.body.next_cursor).toBeNull();
    expectProblem(await t.request('GET', '/api/v1/shop/entries?cursor=garbage', { token: tablet.token }), 422, 'validation_failed');
    expectProblem(await t.request('GET', '/api/v1/shop/entries?limit=0', { token: tablet.token }), 422, 'validation_failed');
  });

  it('today\'s takings leave out payments older than today (Brussels time)', async () => {
    const { tablet } = await shopWithTablet(t, 'ANT');
    const carol = await fundedWallet(t, 'ANT', '20.00');
    const old = await charge(t, tablet, { card: carol.code, pin: carol.pin, amount: '5.00' });
    expect(old.status).toBe(201);
    expect((await charge(t, tablet, { card: carol.code, pin: carol.pin, amount: '2.00' })).status).toBe(201);
    // Entries are append-only (triggers); backdate the old one with the triggers off, in this test's own transaction.
    await t.sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`UPDATE entries SET created_at = now() - interval '2 days' WHERE transfer_id = ${old.body.id}`;
    });
    const view = await shopView(t, tablet);
    expect(view.balance).toBe('7.00');
    expect(view.today).toEqual([{ device: { id: tablet.device, name: 'Till' }, payments: '2.00', payments_count: 1, refunds: '0.00' }]);
  });
});

describe('bad tablet input writes nothing', () => {
  it('payment request amounts and memos that are not acceptable are 422', async () => {
    const { tablet } = await shopWithTablet(t, 'ANT');
    const before = await shopCounts(t);
    const bodies: unknown[] = [
      { amount: '0' }, { amount: '0.00' }, { amount: '-1.00' }, { amount: '1.234' }, { amount: 'abc' }, { amount: '1e3' },
      { amount: ' 5' }, { amount: '' }, { amount: 5 }, {}, { amount: '10000000000000.01' }, { amount: '5.00', memo: 'm'.repeat(501) },
      { amount: '5.00', memo: 'nul\u0000' }, { amount: '5.00', memo: 7 },
    ];
    for (const body of bodies) {
      const reply = await t.request('POST', '/api/v1/shop/payment-requests', { token: tablet.token, body });
      expectProblem(reply, 422, 'validation_failed');
    }
    expectProblem(await t.request('POST', '/api/v1/shop/payment-requests', { token: tablet.token, raw: '{"amount":', headers: { 'Content-Type': 'application/json' } }), 400, 'malformed_json');
    expect(await shopCounts(t)).toEqual(before);
    // A memo of exactly 500 characters is fine.
    expect((await requestPayment(t, tablet, '5.00', 'm'.repeat(500))).memo).toHaveLength(500);
  });

  it('charges, refunds and cash-outs with bad amounts, PINs or ids are 422, count no PIN attempt and move nothing', async () => {
    const { tablet } = await shopWithTablet(t, 'ANT');
    const dave = await fundedWallet(t, 'ANT', '10.00');
    const paid = await charge(t, tablet, { card: dave.code, pin: dave.pin, amount: '1.00' });
    expect(paid.status).toBe(201);
    const before = await shopCounts(t);
    for (const amount of ['0', '1.001', '-2', 'ten']) {
      expectProblem(await charge(t, tablet, { card: dave.code, pin: dave.pin, amount }), 422, 'validation_failed');
      expectProblem(await refund(t, tablet, paid.body.id, amount), 422, 'validation_failed');
      expectProblem(await redeem(t, tablet, amount), 422, 'validation_failed');
    }
    for (const pin of ['12', '1234567', 'abcd', '']) {
      expectProblem(await charge(t, tablet, { card: dave.code, pin, amount: '1.00' }), 422, 'validation_failed');
    }
    expectProblem(await charge(t, tablet, { card: dave.code, pin: dave.pin, amount: '1.00', memo: 'm'.repeat(501) }), 422, 'validation_failed');
    expectProblem(await refund(t, tablet, 'not-a-uuid', '1.00'), 422, 'validation_failed');
    expect(await shopCounts(t)).toEqual(before);
  });
});
