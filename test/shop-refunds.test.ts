/**
 * What the tablet shows as already refunded on each payment of its list (web/src/shop/refunds.ts),
 * from the list the service really answers: a refund counts until a coordinator takes it back,
 * and one taken back in part counts for what was not taken back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refundedByPayment } from '../web/src/shop/refunds.js';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { fundedWallet, pay, refund, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import type { Tablet } from './support/shop-fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, 'SRF', 2);
});

afterAll(async () => {
  await t?.close();
});

async function listed(tablet: Tablet) {
  const reply = await t.request('GET', '/api/v1/shop/entries', { token: tablet.token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.items;
}

describe('refundedByPayment', () => {
  it('sums the refunds of each payment, and leaves out a refund that was taken back', async () => {
    const payer = await fundedWallet(t, 'SRF', '20.00');
    const { tablet } = await shopWithTablet(t, 'SRF');
    const paid = await pay(t, payer.token, (await requestPayment(t, tablet, '6.00')).id);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const first = await refund(t, tablet, paid.body.id, '1.50');
    const second = await refund(t, tablet, paid.body.id, '2.00');
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(refundedByPayment(await listed(tablet), 2).get(paid.body.id)).toBe(350n);

    const taken_back = await t.request('POST', `/api/v1/transfers/${second.body.id}/reverse`, {
      token: t.adminToken, idempotencyKey: newKey(), body: { memo: 'refunded twice' },
    });
    expect(taken_back.status, JSON.stringify(taken_back.body)).toBe(201);
    expect(refundedByPayment(await listed(tablet), 2).get(paid.body.id)).toBe(150n);
    // What the tablet then offers (6.00 − 1.50) is what the service lets the shop refund.
    expect((await refund(t, tablet, paid.body.id, '4.50')).status).toBe(201);
  });

  it('counts a refund taken back in part for what the shop still gave back, as the service does', async () => {
    const payer = await fundedWallet(t, 'SRF', '20.00');
    const { tablet } = await shopWithTablet(t, 'SRF');
    const paid = await pay(t, payer.token, (await requestPayment(t, tablet, '6.00')).id);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const given = await refund(t, tablet, paid.body.id, '4.00');
    expect(given.status, JSON.stringify(given.body)).toBe(201);

    const part = await t.request('POST', `/api/v1/transfers/${given.body.id}/reverse`, {
      token: t.adminToken, idempotencyKey: newKey(), body: { memo: 'one item was not returned', amount: '1.00' },
    });
    expect(part.status, JSON.stringify(part.body)).toBe(201);
    const entries = await listed(tablet);
    expect(entries.find((e: { transfer_id: string }) => e.transfer_id === part.body.id)).toMatchObject({ code: 'reversal', reverses: given.body.id, amount: '1.00' });
    expect(refundedByPayment(entries, 2).get(paid.body.id)).toBe(300n);
    // The tablet offers 6.00 − 3.00: a cent more is refused, exactly that is accepted.
    expectProblem(await refund(t, tablet, paid.body.id, '3.01'), 422, 'refund_exceeds_payment');
    expect((await refund(t, tablet, paid.body.id, '3.00')).status).toBe(201);
    expect(refundedByPayment(await listed(tablet), 2).get(paid.body.id)).toBe(600n);
  });
});
