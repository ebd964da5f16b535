/**
 * Issue #4, getting paid: payment requests paid exactly once whatever the races (20 wallets),
 * idempotent replays, expiry, cancelling, wrong currency, insufficient funds, frozen accounts;
 * the live event stream (SSE over LISTEN/NOTIFY, also from a second server process); card + PIN
 * charges sharing the wallet's PIN lockout; refunds that never add up to more than the payment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue } from './support/http-fixtures.js';
import { balanceOf, registerVolunteer, walletSession } from './support/volunteer-fixtures.js';
import {
  charge, expectVerified, fundedWallet, ledgerOf, openEvents, pay, refund, requestPayment, shopCounts, shopWithTablet,
} from './support/shop-fixtures.js';
import type { Tablet } from './support/shop-fixtures.js';

const base_url = 'https://wijkmunt.example.org';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ PUBLIC_BASE_URL: base_url });
  // PAY: scale 2, wallets hold at most 100.00. TOR: scale 0, another currency.
  await createCurrency(t, 'PAY', 2, { wallet_balance_max: '100.00' });
  await createCurrency(t, 'TOR', 0);
});

afterAll(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The payment transfers that name a payment request in their metadata. */
async function paymentsOf(request_id: string) {
  return t.sql<{ id: string; amount: bigint; debit_account_id: string }[]>`
    SELECT id, amount, debit_account_id FROM transfers WHERE metadata->>'payment_request_id' = ${request_id}`;
}

async function expire(request_id: string): Promise<void> {
  await t.sql`UPDATE payment_requests SET expires_at = now() - interval '1 second' WHERE id = ${request_id}`;
}

describe('payment requests', () => {
  it('the tablet asks for an amount: a pay_url for the QR, an expiry from the currency, a public summary for the wallet', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY', { name: 'Bakker Jan' });
    const before = Date.now();
    const created = await requestPayment(t, tablet, '4.5', 'Two breads');
    expect(created).toMatchObject({
      id: expect.any(String), shop: { account: shop.account, name: 'Bakker Jan' }, amount: '4.50', currency: 'PAY',
      memo: 'Two breads', status: 'open', pay_url: `${base_url}/p/${created.id}`,
    });
    expect(created.transfer_id).toBeUndefined();
    // Default expiry: 300 s.
    const expires = Date.parse(created.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 299_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 301_000);

    const summary = await t.request('GET', `/api/v1/payment-requests/${created.id}`);
    expect(summary.status).toBe(200);
    expect(summary.headers.get('cache-control')).toBe('no-store');
    expect(summary.body).toEqual(created);
    expectProblem(await t.request('GET', '/api/v1/payment-requests/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
    expectProblem(await t.request('GET', '/api/v1/payment-requests/nope'), 404, 'not_found');
  });

  it('the expiry follows the currency\'s payment_request_ttl_s, which only an admin may change', async () => {
    const { tablet } = await shopWithTablet(t, 'TOR');
    const coordinator = (await t.createStaff('coordinator', [(await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'TOR'`)[0]!.id])).token;
    expectProblem(await t.request('PATCH', '/api/v1/currencies/TOR', { token: coordinator, body: { payment_request_ttl_s: 60 } }), 403, 'forbidden');
    for (const bad of [5, 86_401, '60', 1.5]) {
      expectProblem(await t.request('PATCH', '/api/v1/currencies/TOR', { token: t.adminToken, body: { payment_request_ttl_s: bad } }), 422, 'validation_failed');
    }
    const patched = await t.request('PATCH', '/api/v1/currencies/TOR', { token: t.adminToken, body: { payment_request_ttl_s: 60 } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.payment_request_ttl_s).toBe(60);
    const before = Date.now();
    const created = await requestPayment(t, tablet, '25');
    expect(created.amount).toBe('25');
    const expires = Date.parse(created.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 59_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 61_000);
    await t.request('PATCH', '/api/v1/currencies/TOR', { token: t.adminToken, body: { payment_request_ttl_s: 300 } });
  });

  it('a wallet pays: one payment transfer wallet → shop, the request is paid, polling shows it', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const alice = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '7.25', 'Soup');
    const paid = await pay(t, alice.token, request.id);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    expect(paid.body).toMatchObject({
      debit_account: alice.account, credit_account: shop.account, amount: '7.25', code: 'payment', memo: 'Soup',
      status: 'posted', metadata: { payment_request_id: request.id, device_id: tablet.device },
    });
    expect(await balanceOf(t, alice.account)).toBe('12.75');
    expect(await balanceOf(t, shop.account)).toBe('7.25');
    const summary = await t.request('GET', `/api/v1/payment-requests/${request.id}`);
    expect(summary.body).toMatchObject({ status: 'paid', transfer_id: paid.body.id });
  });

  it('20 wallets paying the same request at the same moment: exactly one 201, the rest 409 already_paid, one transfer', async () => {
    for (let round = 0; round < 2; round += 1) {
      const { shop, tablet } = await shopWithTablet(t, 'PAY');
      const wallets = await Promise.all(Array.from({ length: 20 }, (_, i) => fundedWallet(t, 'PAY', '10.00', `Racer ${round}.${i}`)));
      const request = await requestPayment(t, tablet, '3.00');
      const before = await shopCounts(t);
      const replies = await Promise.all(wallets.map((w) => pay(t, w.token, request.id)));
      const winners = replies.flatMap((r, i) => (r.status === 201 ? [i] : []));
      expect(winners, JSON.stringify(replies.map((r) => r.body.code ?? r.status))).toHaveLength(1);
      for (const reply of replies.filter((r) => r.status !== 201)) expectProblem(reply, 409, 'already_paid');

      const payments = await paymentsOf(request.id);
      expect(payments).toHaveLength(1);
      const winner = wallets[winners[0]!]!;
      expect(payments[0]).toMatchObject({ amount: 300n, debit_account_id: winner.account });
      const after = await shopCounts(t);
      expect(after.transfers).toBe(before.transfers + 1);
      expect(after.payment_requests_paid).toBe(before.payment_requests_paid + 1);
      expect(await balanceOf(t, shop.account)).toBe('3.00');
      for (const wallet of wallets) {
        expect(await balanceOf(t, wallet.account)).toBe(wallet === winner ? '7.00' : '10.00');
      }
    }
    await expectVerified(t, 'PAY');
  });

  it('paid, then paid again: the same Idempotency-Key replays the first answer, another key is 409 already_paid', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const bob = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '5.00');
    const other = await requestPayment(t, tablet, '1.00');
    const key = newKey();
    const first = await pay(t, bob.token, request.id, key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotency-replayed')).toBeNull();
    const before = await shopCounts(t);

    const replay = await pay(t, bob.token, request.id, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);

    expectProblem(await pay(t, bob.token, request.id, newKey()), 409, 'already_paid');
    // The same key for another request is a different request: 422.
    expectProblem(await pay(t, bob.token, other.id, key), 422, 'idempotency_key_reused');

    expect(await shopCounts(t)).toEqual(before);
    expect(await paymentsOf(request.id)).toHaveLength(1);
    expect(await balanceOf(t, bob.account)).toBe('15.00');
    expect(await balanceOf(t, shop.account)).toBe('5.00');
  });

  it('an expired request cannot be paid: 409 expired, and the summary says expired', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const carol = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '2.00');
    await expire(request.id);
    const before = await shopCounts(t);
    expectProblem(await pay(t, carol.token, request.id), 409, 'expired');
    expect(await shopCounts(t)).toEqual(before);
    expect((await t.request('GET', `/api/v1/payment-requests/${request.id}`)).body.status).toBe('expired');
    // Nor can it be cancelled any more.
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`, { token: tablet.token }), 409, 'expired');
    expect(await balanceOf(t, carol.account)).toBe('20.00');
    expect(await balanceOf(t, shop.account)).toBe('0.00');
  });

  it('a cancelled request cannot be paid (409 cancelled); cancelling is repeatable; a paid request cannot be cancelled', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const dave = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '2.00');
    const cancelled = await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`, { token: tablet.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: request.id, status: 'cancelled' });
    const before = await shopCounts(t);
    expectProblem(await pay(t, dave.token, request.id), 409, 'cancelled');
    expect(await shopCounts(t)).toEqual(before);
    expect((await t.request('GET', `/api/v1/payment-requests/${request.id}`)).body.status).toBe('cancelled');
    expect((await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`, { token: tablet.token })).body.status).toBe('cancelled');

    const paid = await requestPayment(t, tablet, '1.00');
    expect((await pay(t, dave.token, paid.id)).status).toBe(201);
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${paid.id}/cancel`, { token: tablet.token }), 409, 'already_paid');
    expect((await t.request('GET', `/api/v1/payment-requests/${paid.id}`)).body.status).toBe('paid');
  });

  it('a wallet of another currency is 422 wrong_currency and moves nothing', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const stranger = await fundedWallet(t, 'TOR', '500');
    const request = await requestPayment(t, tablet, '1.00');
    const before = await shopCounts(t);
    expectProblem(await pay(t, stranger.token, request.id), 422, 'wrong_currency');
    expect(await shopCounts(t)).toEqual(before);
    expect(await balanceOf(t, stranger.account)).toBe('500');
    expect((await t.request('GET', `/api/v1/payment-requests/${request.id}`)).body.status).toBe('open');
  });

  it('too little in the wallet is 422 insufficient_funds; the request stays open for another wallet', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const poor = await fundedWallet(t, 'PAY', '1.99');
    const rich = await fundedWallet(t, 'PAY', '2.00');
    const request = await requestPayment(t, tablet, '2.00');
    const before = await shopCounts(t);
    expectProblem(await pay(t, poor.token, request.id), 422, 'insufficient_funds');
    expect(await shopCounts(t)).toEqual(before);
    expect((await t.request('GET', `/api/v1/payment-requests/${request.id}`)).body.status).toBe('open');
    expect((await pay(t, rich.token, request.id)).status).toBe(201);
    expect(await balanceOf(t, poor.account)).toBe('1.99');
    expect(await balanceOf(t, rich.account)).toBe('0.00');
    expect(await balanceOf(t, shop.account)).toBe('2.00');
  });

  it('a frozen wallet or a frozen shop is 422 account_frozen, for QR payments and card charges alike', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const erin = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '1.00');
    const freeze = async (account: string, status: 'frozen' | 'active') => {
      const reply = await t.request('PATCH', `/api/v1/accounts/${account}`, { token: t.adminToken, body: status === 'frozen' ? { status, reason: 'testing a frozen account' } : { status } });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    };
    const before = await shopCounts(t);
    await freeze(erin.account, 'frozen');
    expectProblem(await pay(t, erin.token, request.id), 422, 'account_frozen');
    expectProblem(await charge(t, tablet, { card: erin.code, pin: erin.pin, amount: '1.00' }), 422, 'account_frozen');
    await freeze(erin.account, 'active');
    await freeze(shop.account, 'frozen');
    expectProblem(await pay(t, erin.token, request.id), 422, 'account_frozen');
    expectProblem(await charge(t, tablet, { card: erin.code, pin: erin.pin, amount: '1.00' }), 422, 'account_frozen');
    expect(await shopCounts(t)).toEqual(before);
    await freeze(shop.account, 'active');
    expect((await pay(t, erin.token, request.id)).status).toBe(201);
    expect(await balanceOf(t, erin.account)).toBe('19.00');
  });

  it('a tablet of another shop cannot cancel, stream or refund (404); a wallet or staff cannot cancel (403); a tablet cannot pay (403)', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const { tablet: other } = await shopWithTablet(t, 'PAY');
    const frank = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '1.00');
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`, { token: other.token }), 404, 'not_found');
    const stream = await openEvents(t, request.id, other.token);
    expect(stream.status).toBe(404);
    expect(stream.body).toMatchObject({ code: 'not_found' });
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`, { token: frank.token }), 403, 'forbidden');
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`, { token: t.adminToken }), 403, 'forbidden');
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`), 401, 'unauthenticated');
    expectProblem(await pay(t, tablet.token, request.id), 403, 'forbidden');
    expectProblem(await pay(t, t.adminToken, request.id), 403, 'forbidden');
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${request.id}/pay`, { idempotencyKey: newKey() }), 401, 'unauthenticated');
    expect((await t.request('GET', `/api/v1/payment-requests/${request.id}`)).body.status).toBe('open');

    const paid = await pay(t, frank.token, request.id);
    expect(paid.status).toBe(201);
    const before = await shopCounts(t);
    expectProblem(await refund(t, other, paid.body.id, '1.00'), 404, 'transfer_not_found');
    expect(await shopCounts(t)).toEqual(before);
  });

  it('paying needs an Idempotency-Key (400) and a real request id (404)', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const gina = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '1.00');
    expectProblem(await t.request('POST', `/api/v1/payment-requests/${request.id}/pay`, { token: gina.token }), 400, 'idempotency_key_missing');
    expectProblem(await pay(t, gina.token, '00000000-0000-4000-8000-000000000000'), 404, 'not_found');
    expectProblem(await pay(t, gina.token, 'nope'), 404, 'not_found');
    expect((await t.request('GET', `/api/v1/payment-requests/${request.id}`)).body.status).toBe('open');
  });
});

describe('live events (SSE)', () => {
  it('the tablet gets the open status first, then `paid` within a second of the pay response, then the stream ends', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const hugo = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '3.30');
    const stream = await openEvents(t, request.id, tablet.token);
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const first = await stream.next();
      expect(first).toMatchObject({ event: 'status', data: { id: request.id, status: 'open', amount: '3.30' } });

      // Give the stream a moment to be waiting, as a real tablet would be.
      await sleep(100);
      const paid = await pay(t, hugo.token, request.id);
      const paid_at = Date.now();
      expect(paid.status).toBe(201);
      const event = await stream.next(2000);
      expect(event).toMatchObject({ event: 'status', data: { id: request.id, status: 'paid', transfer_id: paid.body.id } });
      expect(event!.at - paid_at).toBeLessThan(1000);
      // Final status: the server closes the stream.
      expect(await stream.next(2000)).toBeUndefined();
      expect(await stream.ended).toBeLessThan(paid_at + 1000);
    } finally {
      await stream.close();
    }
  });

  it('a cancel is streamed as `cancelled` and ends the stream', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const request = await requestPayment(t, tablet, '1.00');
    const stream = await openEvents(t, request.id, tablet.token);
    try {
      expect((await stream.next())?.data.status).toBe('open');
      await sleep(50);
      const cancelled = await t.request('POST', `/api/v1/payment-requests/${request.id}/cancel`, { token: tablet.token });
      const cancelled_at = Date.now();
      expect(cancelled.status).toBe(200);
      const event = await stream.next(2000);
      expect(event).toMatchObject({ event: 'status', data: { status: 'cancelled' } });
      expect(event!.at - cancelled_at).toBeLessThan(1000);
      expect(await stream.next(2000)).toBeUndefined();
    } finally {
      await stream.close();
    }
  });

  it('a request that expires while watched is streamed as `expired`; a stream of a final request sends it once and ends', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const request = await requestPayment(t, tablet, '1.00');
    await t.sql`UPDATE payment_requests SET expires_at = now() + interval '700 milliseconds' WHERE id = ${request.id}`;
    const stream = await openEvents(t, request.id, tablet.token);
    try {
      expect((await stream.next())?.data.status).toBe('open');
      const event = await stream.next(3000);
      expect(event).toMatchObject({ event: 'status', data: { status: 'expired' } });
      expect(await stream.next(2000)).toBeUndefined();
    } finally {
      await stream.close();
    }
    const again = await openEvents(t, request.id, tablet.token);
    try {
      expect((await again.next())?.data.status).toBe('expired');
      expect(await again.next(2000)).toBeUndefined();
    } finally {
      await again.close();
    }
  });

  it('a payment made through a second server process on the same database reaches the tablet streaming from the first', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const ivy = await fundedWallet(t, 'PAY', '20.00');
    const request = await requestPayment(t, tablet, '2.00');
    const second = await createTestApp({ PUBLIC_BASE_URL: base_url }, { database_url: t.database_url, keys: t.deps.keys });
    const stream = await openEvents(t, request.id, tablet.token);
    try {
      expect((await stream.next())?.data.status).toBe('open');
      await sleep(100);
      const paid = await second.request('POST', `/api/v1/payment-requests/${request.id}/pay`, { token: ivy.token, idempotencyKey: newKey() });
      const paid_at = Date.now();
      expect(paid.status, JSON.stringify(paid.body)).toBe(201);
      const event = await stream.next(2000);
      expect(event).toMatchObject({ data: { status: 'paid', transfer_id: paid.body.id } });
      expect(event!.at - paid_at).toBeLessThan(1000);
    } finally {
      await stream.close();
      await second.close();
    }
  });

  it('the stream needs the shop\'s tablet: 401 without a token, 403 for a wallet, 404 for an unknown request', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const jan = await fundedWallet(t, 'PAY');
    const request = await requestPayment(t, tablet, '1.00');
    expect((await openEvents(t, request.id)).status).toBe(401);
    const as_wallet = await openEvents(t, request.id, jan.token);
    expect(as_wallet.status).toBe(403);
    expect(as_wallet.body).toMatchObject({ code: 'forbidden' });
    expect((await openEvents(t, '00000000-0000-4000-8000-000000000000', tablet.token)).status).toBe(404);
  });
});

describe('card + PIN charges', () => {
  let tablet: Tablet;
  let shop_account: string;

  beforeAll(async () => {
    const made = await shopWithTablet(t, 'PAY', { name: 'Kringwinkel' });
    tablet = made.tablet;
    shop_account = made.shop.account;
  });

  it('the tablet charges a scanned card with the right PIN: a payment transfer, typed card code accepted too', async () => {
    const kim = await fundedWallet(t, 'PAY', '30.00');
    const shop_before = (await ledgerOf(t, shop_account)).balance;
    const paid = await charge(t, tablet, { card: kim.code, pin: kim.pin, amount: '12.40', memo: 'Jacket' });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    expect(paid.body).toMatchObject({
      debit_account: kim.account, credit_account: shop_account, amount: '12.40', code: 'payment', memo: 'Jacket',
      metadata: { device_id: tablet.device, via: 'card' },
    });
    // The card's display code with dashes and in lower case works as well.
    const typed = await charge(t, tablet, { card: kim.display_code.toLowerCase(), pin: kim.pin, amount: '0.60' });
    expect(typed.status, JSON.stringify(typed.body)).toBe(201);
    expect(await balanceOf(t, kim.account)).toBe('17.00');
    expect((await ledgerOf(t, shop_account)).balance - shop_before).toBe(1300n);
  });

  it('a wrong PIN or an unknown card is 422 invalid_card_or_pin (the tablet stays signed in) and moves nothing; the right PIN afterwards clears the count', async () => {
    const lea = await fundedWallet(t, 'PAY', '10.00');
    const before = await shopCounts(t);
    expectProblem(await charge(t, tablet, { card: lea.code, pin: '0000', amount: '1.00' }), 422, 'invalid_card_or_pin');
    expectProblem(await charge(t, tablet, { card: 'ZZZZZZZZZZZZZZZZZ', pin: lea.pin, amount: '1.00' }), 422, 'invalid_card_or_pin');
    const after = await shopCounts(t);
    expect({ ...after, pin_failures: before.pin_failures }).toEqual(before);
    expect(after.pin_failures).toBe(before.pin_failures + 1);
    expect((await charge(t, tablet, { card: lea.code, pin: lea.pin, amount: '1.00' })).status).toBe(201);
    expect((await shopCounts(t)).pin_failures).toBe(before.pin_failures);
    expect(await balanceOf(t, lea.account)).toBe('9.00');
  });

  it('5 wrong PINs lock the card, counted across the tablet and the wallet login: then 423 on both routes, even with the right PIN', async () => {
    const max = await fundedWallet(t, 'PAY', '10.00');
    const before = await shopCounts(t);
    expectProblem(await charge(t, tablet, { card: max.code, pin: '1111', amount: '1.00' }), 422, 'invalid_card_or_pin');
    expectProblem(await walletSession(t, max.code, '2222'), 401, 'unauthenticated');
    expectProblem(await charge(t, tablet, { card: max.code, pin: '3333', amount: '1.00' }), 422, 'invalid_card_or_pin');
    expectProblem(await walletSession(t, max.code, '4444'), 401, 'unauthenticated');
    // The fifth wrong PIN, on the tablet, locks the card.
    expectProblem(await charge(t, tablet, { card: max.code, pin: '5555', amount: '1.00' }), 423, 'card_locked');
    expectProblem(await walletSession(t, max.code, max.pin), 423, 'card_locked');
    expectProblem(await charge(t, tablet, { card: max.code, pin: max.pin, amount: '1.00' }), 423, 'card_locked');
    // The wallet session opened before the lockout keeps working: a lock caused elsewhere does not log the owner out.
    expect((await t.request('GET', '/api/v1/wallet', { token: max.token })).status).toBe(200);
    const after = await shopCounts(t);
    expect(after.transfers).toBe(before.transfers);
    expect(await balanceOf(t, max.account)).toBe('10.00');

    // And the other way round: four wrong at the wallet login, the fifth on the tablet.
    const nina = await fundedWallet(t, 'PAY', '10.00');
    for (const pin of ['1111', '2222', '3333', '4444']) expectProblem(await walletSession(t, nina.code, pin), 401, 'unauthenticated');
    expectProblem(await charge(t, tablet, { card: nina.code, pin: '5555', amount: '1.00' }), 423, 'card_locked');
    expectProblem(await charge(t, tablet, { card: nina.code, pin: nina.pin, amount: '1.00' }), 423, 'card_locked');

    // A coordinator unlocks: the card pays again.
    const unlocked = await t.request('POST', `/api/v1/cards/${max.code}/unlock`, { token: t.adminToken });
    expect(unlocked.status).toBe(200);
    expect((await charge(t, tablet, { card: max.code, pin: max.pin, amount: '1.00' })).status).toBe(201);
  });

  it('a card of another currency is 422 wrong_currency and moves nothing', async () => {
    const stranger = await fundedWallet(t, 'TOR', '100');
    const before = await shopCounts(t);
    expectProblem(await charge(t, tablet, { card: stranger.code, pin: stranger.pin, amount: '1.00' }), 422, 'wrong_currency');
    expect(await shopCounts(t)).toEqual(before);
    expect(await balanceOf(t, stranger.account)).toBe('100');
  });

  it('too little on the card is 422 insufficient_funds, saying what is available', async () => {
    const olga = await fundedWallet(t, 'PAY', '0.99');
    const before = await shopCounts(t);
    const refused = await charge(t, tablet, { card: olga.code, pin: olga.pin, amount: '1.00' });
    expectProblem(refused, 422, 'insufficient_funds');
    expect(refused.body.available).toBe('0.99');
    expect(await shopCounts(t)).toEqual(before);
  });

  it('a replay with the same Idempotency-Key charges once; the same key with another amount is 422', async () => {
    const paul = await fundedWallet(t, 'PAY', '10.00');
    const key = newKey();
    const first = await charge(t, tablet, { card: paul.code, pin: paul.pin, amount: '4.00' }, key);
    expect(first.status).toBe(201);
    const before = await shopCounts(t);
    const replay = await charge(t, tablet, { card: paul.code, pin: paul.pin, amount: '4.00' }, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    // Concurrent replays too.
    const replays = await Promise.all(Array.from({ length: 5 }, () => charge(t, tablet, { card: paul.code, pin: paul.pin, amount: '4.00' }, key)));
    for (const r of replays) expect([201, 409]).toContain(r.status);
    expectProblem(await charge(t, tablet, { card: paul.code, pin: paul.pin, amount: '5.00' }, key), 422, 'idempotency_key_reused');
    expect(await shopCounts(t)).toEqual(before);
    expect(await balanceOf(t, paul.account)).toBe('6.00');
    expectProblem(await t.request('POST', '/api/v1/shop/charges', { token: tablet.token, body: { card: paul.code, pin: paul.pin, amount: '1.00' } }), 400, 'idempotency_key_missing');
  });
});

describe('refunds', () => {
  it('partial then full: the wallet gets its coins back, never more than was paid', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const quinn = await fundedWallet(t, 'PAY', '50.00');
    const request = await requestPayment(t, tablet, '10.00');
    const paid = await pay(t, quinn.token, request.id);
    expect(paid.status).toBe(201);

    const part = await refund(t, tablet, paid.body.id, '3.50');
    expect(part.status, JSON.stringify(part.body)).toBe(201);
    expect(part.body).toMatchObject({
      debit_account: shop.account, credit_account: quinn.account, amount: '3.50', code: 'refund',
      metadata: { refund_of: paid.body.id, device_id: tablet.device },
    });
    expect(await balanceOf(t, quinn.account)).toBe('43.50');
    const rest = await refund(t, tablet, paid.body.id, '6.50');
    expect(rest.status).toBe(201);
    expect(await balanceOf(t, quinn.account)).toBe('50.00');
    expect(await balanceOf(t, shop.account)).toBe('0.00');

    const before = await shopCounts(t);
    const over = await refund(t, tablet, paid.body.id, '0.01');
    expectProblem(over, 422, 'refund_exceeds_payment');
    expect(over.body.left_minor).toBe('0');
    expect(await shopCounts(t)).toEqual(before);
  });

  it('a single refund above the payment is 422 and leaves the whole payment refundable', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const rita = await fundedWallet(t, 'PAY', '50.00');
    const paid = await charge(t, tablet, { card: rita.code, pin: rita.pin, amount: '5.00' });
    await issue(t, 'PAY', paid.body.credit_account, '20.00');
    const before = await shopCounts(t);
    expectProblem(await refund(t, tablet, paid.body.id, '5.01'), 422, 'refund_exceeds_payment');
    expect(await shopCounts(t)).toEqual(before);
    expect((await refund(t, tablet, paid.body.id, '5.00')).status).toBe(201);
  });

  it('10 concurrent partial refunds whose sum exceeds the payment: only those that fit succeed', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { shop, tablet } = await shopWithTablet(t, 'PAY');
      const sam = await fundedWallet(t, 'PAY', '50.00');
      const paid = await charge(t, tablet, { card: sam.code, pin: sam.pin, amount: '10.00' });
      expect(paid.status).toBe(201);
      // Extra coins in the shop, so only the refund limit can stop a refund.
      await issue(t, 'PAY', shop.account, '100.00');
      // Round 0: 10 × 3.00 → exactly 3 fit. Other rounds: mixed amounts.
      const amounts = round === 0
        ? Array.from({ length: 10 }, () => '3.00')
        : ['4.00', '3.00', '2.50', '2.00', '1.75', '1.50', '1.25', '1.00', '0.75', '0.50'];
      const replies = await Promise.all(amounts.map((amount) => refund(t, tablet, paid.body.id, amount)));
      const cents = (amount: string) => BigInt(amount.replace('.', ''));
      let refunded = 0n;
      const failed: bigint[] = [];
      replies.forEach((reply, i) => {
        if (reply.status === 201) refunded += cents(amounts[i]!);
        else {
          expectProblem(reply, 422, 'refund_exceeds_payment');
          failed.push(cents(amounts[i]!));
        }
      });
      expect(refunded).toBeLessThanOrEqual(1000n);
      expect(failed.length).toBeGreaterThan(0);
      // Every refused refund really did not fit in what was left at the end.
      for (const amount of failed) expect(amount).toBeGreaterThan(1000n - refunded);
      if (round === 0) expect(replies.filter((r) => r.status === 201)).toHaveLength(3);

      const [total] = await t.sql<{ refunded: bigint }[]>`SELECT refunded FROM refund_totals WHERE transfer_id = ${paid.body.id}`;
      expect(total?.refunded).toBe(refunded);
      const [posted] = await t.sql<{ sum: bigint }[]>`
        SELECT coalesce(sum(amount), 0)::bigint AS sum FROM transfers WHERE code = 'refund' AND metadata->>'refund_of' = ${paid.body.id}`;
      expect(posted?.sum).toBe(refunded);
      expect((await ledgerOf(t, sam.account)).balance).toBe(5000n - 1000n + refunded);
      expect((await ledgerOf(t, shop.account)).balance).toBe(1000n + 10000n - refunded);
    }
    await expectVerified(t, 'PAY');
  });

  it('refunding what is not a payment to this shop: another shop\'s payment or an unknown id 404, an issue or a refund 404/422', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const { tablet: other } = await shopWithTablet(t, 'PAY');
    const tom = await fundedWallet(t, 'PAY', '50.00');
    const theirs = await charge(t, other, { card: tom.code, pin: tom.pin, amount: '5.00' });
    const ours = await charge(t, tablet, { card: tom.code, pin: tom.pin, amount: '5.00' });
    const issued = await issue(t, 'PAY', shop.account, '10.00');
    const refunded = await refund(t, tablet, ours.body.id, '1.00');
    expect(refunded.status).toBe(201);
    const before = await shopCounts(t);
    expectProblem(await refund(t, tablet, theirs.body.id, '1.00'), 404, 'transfer_not_found');
    expectProblem(await refund(t, tablet, '00000000-0000-4000-8000-000000000000', '1.00'), 404, 'transfer_not_found');
    expectProblem(await refund(t, tablet, issued.id, '1.00'), 422, 'not_refundable');
    // A refund goes to the wallet, not to the shop: not a payment to this shop.
    expectProblem(await refund(t, tablet, refunded.body.id, '1.00'), 404, 'transfer_not_found');
    expect(await shopCounts(t)).toEqual(before);
  });

  it('a refund that would push the wallet over wallet_balance_max is 422 balance_max_exceeded and counts nothing', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const uma = await fundedWallet(t, 'PAY', '100.00');
    const paid = await charge(t, tablet, { card: uma.code, pin: uma.pin, amount: '30.00' });
    expect(paid.status).toBe(201);
    await issue(t, 'PAY', uma.account, '25.00');
    expect(await balanceOf(t, uma.account)).toBe('95.00');
    const before = await shopCounts(t);
    const over = await refund(t, tablet, paid.body.id, '10.00');
    expectProblem(over, 422, 'balance_max_exceeded');
    expect(await shopCounts(t)).toEqual(before);
    expect(await balanceOf(t, shop.account)).toBe('30.00');
    // What fits still goes through, and the refused amount was not counted against the payment.
    expect((await refund(t, tablet, paid.body.id, '5.00')).status).toBe(201);
    expect(await balanceOf(t, uma.account)).toBe('100.00');
    const [total] = await t.sql<{ refunded: bigint }[]>`SELECT refunded FROM refund_totals WHERE transfer_id = ${paid.body.id}`;
    expect(total?.refunded).toBe(500n);
  });

  it('a refund the shop cannot cover is 422 insufficient_funds', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'PAY');
    const vic = await fundedWallet(t, 'PAY', '20.00');
    const paid = await charge(t, tablet, { card: vic.code, pin: vic.pin, amount: '10.00' });
    // The shop's coins are reserved for a cash-out.
    const redemption = await t.request('POST', '/api/v1/shop/redemptions', { token: tablet.token, idempotencyKey: newKey(), body: { amount: '8.00' } });
    expect(redemption.status).toBe(201);
    const before = await shopCounts(t);
    expectProblem(await refund(t, tablet, paid.body.id, '3.00'), 422, 'insufficient_funds');
    expect(await shopCounts(t)).toEqual(before);
    expect((await refund(t, tablet, paid.body.id, '2.00')).status).toBe(201);
    expect(await balanceOf(t, shop.account)).toBe('8.00');
  });

  it('refund replays with the same key refund once', async () => {
    const { tablet } = await shopWithTablet(t, 'PAY');
    const wim = await fundedWallet(t, 'PAY', '20.00');
    const paid = await charge(t, tablet, { card: wim.code, pin: wim.pin, amount: '10.00' });
    const key = newKey();
    const first = await refund(t, tablet, paid.body.id, '4.00', key);
    const again = await refund(t, tablet, paid.body.id, '4.00', key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await balanceOf(t, wim.account)).toBe('14.00');
  });
});

describe('a volunteer registered by a coordinator pays like anyone', () => {
  it('a coordinator-registered wallet with a 6-digit PIN pays by card', async () => {
    const tor = (await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'PAY'`)[0]!.id;
    const coordinator = (await t.createStaff('coordinator', [tor])).token;
    const xavi = await registerVolunteer(t, 'PAY', { pin: '902731', token: coordinator });
    await issue(t, 'PAY', xavi.account, '5.00');
    const { tablet } = await shopWithTablet(t, 'PAY');
    expect((await charge(t, tablet, { card: xavi.code, pin: '902731', amount: '5.00' })).status).toBe(201);
    expect(await balanceOf(t, xavi.account)).toBe('0.00');
  });
});
