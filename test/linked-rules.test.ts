/**
 * The rules that tie transfers together, each decided in one place: a payment's refunds and its
 * reversal never give back more than it took; an approved cash-out is reversed only with its
 * payout, never once the payout went to the bank; voiding or posting a cash-out's reservation
 * rejects or approves the cash-out; what a coordinator may move by hand; closing only an empty
 * account; ending a claim session and stopping an activity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, openAccount } from './support/http-fixtures.js';
import { expectVerified, fundedWallet, pay, redeem, refund, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import { activityOf, balanceOf, claim, fund, openSession, programmeOf, registerVolunteer, openWallet } from './support/volunteer-fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, 'LNK', 2, { euro_per_unit: '0.10' });
  await t.request('PATCH', '/api/v1/currencies/LNK', {
    token: t.adminToken, body: { payer_name: 'Stad Gent', payer_iban: 'BE71096123456769' },
  });
});

afterAll(async () => {
  await t?.close();
});

async function post(path: string, body?: unknown, key: string | null = newKey()): Promise<Reply> {
  return t.request('POST', `/api/v1${path}`, { token: t.adminToken, ...(key === null ? {} : { idempotencyKey: key }), ...(body === undefined ? {} : { body }) });
}

/** A wallet with 42.00 that paid a shop (holding 33.00 before) 5.00 by QR. */
async function paidPayment() {
  const payer = await fundedWallet(t, 'LNK', '42.00');
  const { shop, tablet } = await shopWithTablet(t, 'LNK');
  await issue(t, 'LNK', shop.account, '33.00');
  const request = await requestPayment(t, tablet, '5.00');
  const paid = await pay(t, payer.token, request.id);
  expect(paid.status, JSON.stringify(paid.body)).toBe(201);
  return { payer, shop, tablet, payment: paid.body };
}

describe('a payment is given back at most once in all', () => {
  it('refunded in part, then reversed: the reversal gives back only what is left (wallet 42 → 37 → 39 → 42)', async () => {
    const { payer, shop, tablet, payment } = await paidPayment();
    expect((await refund(t, tablet, payment.id, '2.00')).status).toBe(201);
    const reversal = await post(`/transfers/${payment.id}/reverse`, { memo: 'paid twice' });
    expect(reversal.status, JSON.stringify(reversal.body)).toBe(201);
    expect(reversal.body.amount).toBe('3.00');
    expect(await balanceOf(t, payer.account)).toBe('42.00');
    expect(await balanceOf(t, shop.account)).toBe('33.00');
    await expectVerified(t, 'LNK');
  });

  it('reversed, then refunded: the refund is refused (already_reversed) and nothing moves', async () => {
    const { payer, shop, tablet, payment } = await paidPayment();
    expect((await post(`/transfers/${payment.id}/reverse`)).status).toBe(201);
    expectProblem(await refund(t, tablet, payment.id, '1.00'), 409, 'already_reversed');
    expect(await balanceOf(t, payer.account)).toBe('42.00');
    expect(await balanceOf(t, shop.account)).toBe('33.00');
  });

  it('refunded in full: a reversal has nothing left to give (409 already_refunded)', async () => {
    const { payer, tablet, payment } = await paidPayment();
    expect((await refund(t, tablet, payment.id, '5.00')).status).toBe(201);
    expectProblem(await post(`/transfers/${payment.id}/reverse`), 409, 'already_refunded');
    expect(await balanceOf(t, payer.account)).toBe('42.00');
  });

  /** What the database counts as given back on the payment (refund_totals), in minor units. */
  async function refundedTotal(payment_id: string): Promise<string | undefined> {
    const [row] = await t.sql<{ refunded: bigint }[]>`SELECT refunded FROM refund_totals WHERE transfer_id = ${payment_id}`;
    return row?.refunded.toString();
  }

  it('a refund taken back (reversed) may be given again: the whole payment can be refunded (wallet 42 → 37 → 41 → 37 → 42)', async () => {
    const { payer, shop, tablet, payment } = await paidPayment();
    const refunded = await refund(t, tablet, payment.id, '4.00');
    expect(refunded.status, JSON.stringify(refunded.body)).toBe(201);
    expect(await refundedTotal(payment.id)).toBe('400');
    const taken_back = await post(`/transfers/${refunded.body.id}/reverse`, { memo: 'refunded the wrong payment' });
    expect(taken_back.status, JSON.stringify(taken_back.body)).toBe(201);
    expect(await balanceOf(t, payer.account)).toBe('37.00');
    expect(await refundedTotal(payment.id)).toBe('0');
    // Not only the 1.00 that was left before: all 5.00, and no more.
    expectProblem(await refund(t, tablet, payment.id, '5.01'), 422, 'refund_exceeds_payment');
    const again = await refund(t, tablet, payment.id, '5.00');
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(await balanceOf(t, payer.account)).toBe('42.00');
    expect(await balanceOf(t, shop.account)).toBe('33.00');
    expect(await refundedTotal(payment.id)).toBe('500');
    expectProblem(await post(`/transfers/${payment.id}/reverse`), 409, 'already_refunded');
    await expectVerified(t, 'LNK');
  });

  it('a refund taken back in part: the payment\'s reversal gives back what is then left (42 → 37 → 41 → 40 → 42)', async () => {
    const { payer, shop, tablet, payment } = await paidPayment();
    const refunded = await refund(t, tablet, payment.id, '4.00');
    expect(refunded.status, JSON.stringify(refunded.body)).toBe(201);
    const part = await post(`/transfers/${refunded.body.id}/reverse`, { memo: 'one item was not returned', amount: '1.00' });
    expect(part.status, JSON.stringify(part.body)).toBe(201);
    expect(await refundedTotal(payment.id)).toBe('300');
    const reversal = await post(`/transfers/${payment.id}/reverse`, { memo: 'paid twice' });
    expect(reversal.status, JSON.stringify(reversal.body)).toBe(201);
    expect(reversal.body.amount).toBe('2.00');
    expect(await balanceOf(t, payer.account)).toBe('42.00');
    expect(await balanceOf(t, shop.account)).toBe('33.00');
    await expectVerified(t, 'LNK');
  });

  it('a refund taken back while the payment is refunded again: together never more than the payment', async () => {
    for (let round = 0; round < 4; round += 1) {
      const { payer, shop, tablet, payment } = await paidPayment();
      const refunded = await refund(t, tablet, payment.id, '5.00');
      expect(refunded.status, JSON.stringify(refunded.body)).toBe(201);
      const [taken_back, again] = await Promise.all([post(`/transfers/${refunded.body.id}/reverse`), refund(t, tablet, payment.id, '5.00')]);
      expect(taken_back.status, JSON.stringify(taken_back.body)).toBe(201);
      // The second refund goes through only when the first was taken back before it.
      const wallet = await balanceOf(t, payer.account);
      if (again.status === 201) expect(wallet).toBe('42.00');
      else {
        expectProblem(again, 422, 'refund_exceeds_payment');
        expect(wallet).toBe('37.00');
      }
      expect(await refundedTotal(payment.id)).toBe(again.status === 201 ? '500' : '0');
      expect(Number.parseFloat(wallet) + Number.parseFloat(await balanceOf(t, shop.account))).toBe(75);
    }
    await expectVerified(t, 'LNK');
  });

  it('a refund and a reversal racing: together never more than the payment', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { payer, shop, tablet, payment } = await paidPayment();
      const replies = await Promise.all([refund(t, tablet, payment.id, '4.00'), post(`/transfers/${payment.id}/reverse`)]);
      expect(replies.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(1);
      expect(await balanceOf(t, payer.account)).toMatch(/^(41|42)\.00$/);
      const wallet = Number.parseFloat(await balanceOf(t, payer.account));
      const shop_balance = Number.parseFloat(await balanceOf(t, shop.account));
      expect(wallet + shop_balance).toBe(75);
    }
    await expectVerified(t, 'LNK');
  });
});

describe('a cash-out and its payout stay in step', () => {
  async function approvedCashOut() {
    const { shop, tablet } = await shopWithTablet(t, 'LNK');
    await issue(t, 'LNK', shop.account, '100.00');
    const asked = await redeem(t, tablet, '40.00');
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const approved = await t.request('POST', `/api/v1/redemptions/${asked.body.id}/approve`, { token: t.adminToken });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const posted = (await t.sql<{ id: string }[]>`SELECT id FROM transfers WHERE pending_id = ${asked.body.transfer_id}`)[0]!.id;
    return { shop, redemption: approved.body.redemption, payout: approved.body.payout, posted };
  }

  it('reversing an approved cash-out before export cancels its payout: coins back, no euros due, never exported', async () => {
    const { shop, redemption, payout, posted } = await approvedCashOut();
    const reversal = await post(`/transfers/${posted}/reverse`, { memo: 'approved by mistake' });
    expect(reversal.status, JSON.stringify(reversal.body)).toBe(201);
    expect(await balanceOf(t, shop.account)).toBe('100.00');
    const payouts = (await t.request('GET', '/api/v1/currencies/LNK/payouts', { token: t.adminToken })).body.items;
    expect(payouts.find((p: { id: string }) => p.id === payout.id).cancelled_at).not.toBeNull();
    const unexported = (await t.request('GET', '/api/v1/currencies/LNK/payouts?unexported=true', { token: t.adminToken })).body.items;
    expect(unexported.map((p: { id: string }) => p.id)).not.toContain(payout.id);
    const listed = (await t.request('GET', '/api/v1/currencies/LNK/redemptions', { token: t.adminToken })).body.items;
    expect(listed.find((r: { id: string }) => r.id === redemption.id).status).toBe('reversed');
    const exported = await post('/currencies/LNK/payout-exports', undefined, null);
    if (exported.status === 201) {
      const xml = await t.request('GET', `/api/v1/currencies/LNK/payouts.csv?export=${exported.body.id}`, { token: t.adminToken });
      expect(JSON.stringify(xml.body)).not.toContain(payout.id);
    } else {
      expectProblem(exported, 409, 'nothing_to_export');
    }
    await expectVerified(t, 'LNK');
  });

  it('once its payout was exported, an approved cash-out cannot be reversed (409 payout_exported)', async () => {
    const { shop, posted } = await approvedCashOut();
    expect((await post('/currencies/LNK/payout-exports', undefined, null)).status).toBe(201);
    expectProblem(await post(`/transfers/${posted}/reverse`), 409, 'payout_exported');
    expect(await balanceOf(t, shop.account)).toBe('60.00');
  });

  it('voiding a cash-out\'s reservation rejects the cash-out; approving it afterwards is 409', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'LNK');
    await issue(t, 'LNK', shop.account, '10.00');
    const asked = (await redeem(t, tablet, '4.00')).body;
    const voided = await post(`/transfers/${asked.transfer_id}/void`);
    expect(voided.status, JSON.stringify(voided.body)).toBe(201);
    const listed = (await t.request('GET', '/api/v1/currencies/LNK/redemptions', { token: t.adminToken })).body.items;
    expect(listed.find((r: { id: string }) => r.id === asked.id).status).toBe('rejected');
    expectProblem(await t.request('POST', `/api/v1/redemptions/${asked.id}/approve`, { token: t.adminToken }), 409, 'already_resolved');
    expect((await t.request('GET', `/api/v1/accounts/${shop.account}`, { token: t.adminToken })).body.available).toBe('10.00');
  });

  it('posting a cash-out\'s reservation approves it, with its payout; for less than all is refused', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'LNK');
    await issue(t, 'LNK', shop.account, '10.00');
    const asked = (await redeem(t, tablet, '4.00')).body;
    expectProblem(await post(`/transfers/${asked.transfer_id}/post`, { amount: '1.00' }), 422, 'validation_failed');
    expect((await post(`/transfers/${asked.transfer_id}/post`)).status).toBe(201);
    const payouts = (await t.request('GET', '/api/v1/currencies/LNK/payouts', { token: t.adminToken })).body.items;
    expect(payouts.filter((p: { redemption: string }) => p.redemption === asked.id)).toHaveLength(1);
    expect(await balanceOf(t, shop.account)).toBe('6.00');
  });
});

describe('what a coordinator may move by hand', () => {
  it('out of a wallet: never as a payment (code_not_allowed); an adjustment needs a reason, which the volunteer reads', async () => {
    const payer = await fundedWallet(t, 'LNK', '20.00');
    const { shop } = await shopWithTablet(t, 'LNK');
    const base = { debit_account: payer.account, credit_account: shop.account, amount: '5.00' };
    expectProblem(await post('/currencies/LNK/transfers', { ...base, code: 'payment' }), 422, 'code_not_allowed');
    expectProblem(await post('/currencies/LNK/transfers', { ...base, code: 'issue' }), 422, 'code_not_allowed');
    expectProblem(await post('/currencies/LNK/transfers', { ...base, code: 'adjustment' }), 422, 'reason_required');
    expectProblem(await post('/currencies/LNK/transfers', { ...base, code: 'adjustment', memo: '   ' }), 422, 'reason_required');
    expect(await balanceOf(t, payer.account)).toBe('20.00');
    const moved = await post('/currencies/LNK/transfers', { ...base, code: 'adjustment', memo: 'counted twice at the party' });
    expect(moved.status, JSON.stringify(moved.body)).toBe(201);
    const history = await t.request('GET', '/api/v1/wallet/entries', { token: payer.token });
    expect(history.body.items[0]).toMatchObject({ code: 'adjustment', memo: 'counted twice at the party', amount: '-5.00' });
  });

  it('refund and redemption only by their own paths; a reward only from a programme to a wallet', async () => {
    const programme = await programmeOf(t, 'LNK');
    await fund(t, 'LNK', programme, '100.00');
    const wallet = await openAccount(t, 'LNK', 'wallet', 'Rule wallet');
    const other = await openAccount(t, 'LNK', 'wallet', 'Other wallet');
    const { shop } = await shopWithTablet(t, 'LNK');
    for (const code of ['refund', 'redemption']) {
      expectProblem(await post('/currencies/LNK/transfers', { debit_account: programme, credit_account: shop.account, amount: '1.00', code }), 422, 'code_not_allowed');
    }
    const issuance = (await t.request('GET', '/api/v1/currencies/LNK', { token: t.adminToken })).body.issuance_account;
    expectProblem(await post('/currencies/LNK/transfers', { debit_account: issuance, credit_account: wallet, amount: '1.00', code: 'reward' }), 422, 'code_not_allowed');
    expectProblem(await post('/currencies/LNK/transfers', { debit_account: programme, credit_account: shop.account, amount: '1.00', code: 'reward' }), 422, 'code_not_allowed');
    expect((await post('/currencies/LNK/transfers', { debit_account: programme, credit_account: wallet, amount: '1.00', code: 'reward' })).status).toBe(201);
    const batch = await post('/currencies/LNK/transfers/batch', {
      atomic: false, transfers: [
        { debit_account: wallet, credit_account: other, amount: '1.00', code: 'payment' },
        { debit_account: wallet, credit_account: other, amount: '1.00', code: 'adjustment', memo: 'moved to the right wallet' },
      ],
    });
    expect(batch.body.results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status)).toEqual(['code_not_allowed', 'created']);
  });
});

describe('closing an account', () => {
  it('with a balance or a reservation: 422 account_not_empty with the amounts, status unchanged; empty: closed', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'LNK');
    await issue(t, 'LNK', shop.account, '10.00');
    const full = await t.request('PATCH', `/api/v1/accounts/${shop.account}`, { token: t.adminToken, body: { status: 'closed' } });
    expectProblem(full, 422, 'account_not_empty');
    expect(full.body).toMatchObject({ balance: '10.00', pending: '0.00' });
    const asked = (await redeem(t, tablet, '10.00')).body;
    const approved = await t.request('POST', `/api/v1/redemptions/${asked.id}/approve`, { token: t.adminToken });
    expect(approved.status).toBe(200);
    expect((await t.request('PATCH', `/api/v1/accounts/${shop.account}`, { token: t.adminToken, body: { status: 'closed' } })).body.status).toBe('closed');

    const { shop: reserved, tablet: till } = await shopWithTablet(t, 'LNK');
    await issue(t, 'LNK', reserved.account, '3.00');
    await redeem(t, till, '3.00');
    const pending = await t.request('PATCH', `/api/v1/accounts/${reserved.account}`, { token: t.adminToken, body: { status: 'closed' } });
    expectProblem(pending, 422, 'account_not_empty');
    expect((await t.request('GET', `/api/v1/accounts/${reserved.account}`, { token: t.adminToken })).body.status).toBe('active');
  });
});

describe('ending claim sessions', () => {
  it('a closed session refuses later claims (409 session_closed); earlier claims stand', async () => {
    const activity = await activityOf(t, 'LNK');
    await fund(t, 'LNK', activity.programme_account, '500.00');
    const session = await openSession(t, activity.id, { hours: '1' });
    const first = await registerVolunteer(t, 'LNK');
    const second = await registerVolunteer(t, 'LNK');
    expect((await claim(t, await openWallet(t, first), session.claim_token)).status).toBe(201);
    const closed = await post(`/sessions/${session.id}/close`, undefined, null);
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body.closed_at).not.toBeNull();
    expectProblem(await claim(t, await openWallet(t, second), session.claim_token), 409, 'session_closed');
    expect(await balanceOf(t, second.account)).toBe('0.00');
    expect(await balanceOf(t, first.account)).not.toBe('0.00');
  });

  it('six closes at once: closed once, audited once, every answer the same closed_at', async () => {
    const activity = await activityOf(t, 'LNK');
    const session = await openSession(t, activity.id, { hours: '1' });
    const replies = await Promise.all(Array.from({ length: 6 }, () => post(`/sessions/${session.id}/close`, undefined, null)));
    expect(replies.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(new Set(replies.map((r) => r.body.closed_at)).size).toBe(1);
    const audited = await t.sql`SELECT 1 FROM audit_log WHERE action = 'session.close' AND object_id = ${session.id}`;
    expect(audited).toHaveLength(1);
  });

  it('a close whose audit row cannot be written is not made: the session still rewards', async () => {
    const activity = await activityOf(t, 'LNK');
    await fund(t, 'LNK', activity.programme_account, '100.00');
    const session = await openSession(t, activity.id, { hours: '1' });
    await t.sql.unsafe(`CREATE FUNCTION test_refuse_close() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.action = 'session.close' THEN RAISE EXCEPTION 'audit refused (test)'; END IF; RETURN NEW; END $$`);
    await t.sql.unsafe('CREATE TRIGGER test_refuse_close BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_close()');
    try {
      expect((await post(`/sessions/${session.id}/close`, undefined, null)).status).toBe(500);
    } finally {
      await t.sql.unsafe('DROP TRIGGER test_refuse_close ON audit_log');
      await t.sql.unsafe('DROP FUNCTION test_refuse_close()');
    }
    const [row] = await t.sql<{ closed_at: Date | null }[]>`SELECT closed_at FROM activity_sessions WHERE id = ${session.id}`;
    expect(row!.closed_at).toBeNull();
    const volunteer = await registerVolunteer(t, 'LNK');
    expect((await claim(t, await openWallet(t, volunteer), session.claim_token)).status).toBe(201);
  });

  it('a deactivated activity\'s open sessions reward no one (409 activity_inactive); active again, they do', async () => {
    const activity = await activityOf(t, 'LNK', 'it_repair');
    await fund(t, 'LNK', activity.programme_account, '500.00');
    const session = await openSession(t, activity.id, { hours: '1' });
    const volunteer = await registerVolunteer(t, 'LNK');
    const token = await openWallet(t, volunteer);
    expect((await t.request('PATCH', `/api/v1/activities/${activity.id}`, { token: t.adminToken, body: { active: false } })).status).toBe(200);
    expectProblem(await claim(t, token, session.claim_token), 409, 'activity_inactive');
    expect((await t.request('PATCH', `/api/v1/activities/${activity.id}`, { token: t.adminToken, body: { active: true } })).status).toBe(200);
    expect((await claim(t, token, session.claim_token)).status).toBe(201);
  });
});
