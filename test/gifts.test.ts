/**
 * Issue #20, points 3 and 4: gifts between neighbours (off by default, a receive code that names
 * a wallet, a daily limit per giver that holds under concurrent gifts) and helpers who pay a
 * shop from the wallet they help (a coordinator's link, a monthly maximum that holds under
 * concurrent payments, 403 once revoked). Every refusal is checked to change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { registerVolunteer } from './support/volunteer-fixtures.js';
import { fundedWallet, pay, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import type { Payer } from './support/shop-fixtures.js';
import { giftLimits, helperLimit, receiveCodeOf } from '../src/ledger/gifts.js';
import type { Currency } from '../src/ledger/model.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ PUBLIC_BASE_URL: 'https://wijkmunt.example.org' });
  // GFT: scale 2, gifts allowed with 30.00 a day per giver. OFF: gifts as they are by default.
  // HLP: scale 0, for helpers. ELS: another currency.
  await createCurrency(t, 'GFT', 2, { gifts_enabled: true, gift_day_max: '30.00' });
  await createCurrency(t, 'OFF', 2);
  await createCurrency(t, 'HLP', 0);
  await createCurrency(t, 'ELS', 2, { gifts_enabled: true });
});

afterAll(async () => {
  await t?.close();
});

/** What a refused request must leave as it was: rows that record movements, and the balances. */
async function fingerprint(): Promise<string> {
  const rows = await t.sql`
    SELECT (SELECT count(*) FROM transfers)::int AS transfers, (SELECT count(*) FROM entries)::int AS entries,
           (SELECT count(*) FROM idempotency_keys)::int AS keys,
           (SELECT coalesce(sum(amount), 0)::text FROM volunteer_earnings) AS counted,
           (SELECT count(*) FROM wallet_helpers WHERE revoked_at IS NULL)::int AS links,
           (SELECT count(*) FROM payment_requests WHERE status = 'paid')::int AS paid,
           (SELECT string_agg(id || ':' || (credits_posted - debits_posted), ',' ORDER BY id) FROM accounts) AS balances`;
  return JSON.stringify(rows[0]);
}

async function refusedWithoutChange(send: () => Promise<Reply>, status: number, code: string): Promise<Reply> {
  const before = await fingerprint();
  const reply = await send();
  expectProblem(reply, status, code);
  expect(await fingerprint()).toBe(before);
  return reply;
}

async function receiveCodeOfWallet(wallet: Payer): Promise<{ code: string; url: string }> {
  const reply = await t.request('GET', '/api/v1/wallet/receive', { token: wallet.token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

function give(giver: Payer, body: Record<string, unknown>, key = newKey()): Promise<Reply> {
  return t.request('POST', '/api/v1/wallet/gifts', { token: giver.token, idempotencyKey: key, body });
}

async function balance(account: string): Promise<string> {
  const reply = await t.request('GET', `/api/v1/accounts/${account}`, { token: t.adminToken });
  return reply.body.balance as string;
}

async function entries(token: string): Promise<any[]> {
  const reply = await t.request('GET', '/api/v1/wallet/entries', { token });
  expect(reply.status).toBe(200);
  return reply.body.items;
}

describe('gifts between neighbours', () => {
  it('are off by default: a currency says so, and a gift is 422 gifts_disabled that changes nothing', async () => {
    const off = await t.request('GET', '/api/v1/currencies/OFF', { token: t.adminToken });
    expect(off.body).toMatchObject({ gifts_enabled: false, gift_day_max: null });
    const giver = await fundedWallet(t, 'OFF', '10.00');
    const receiver = await fundedWallet(t, 'OFF');
    const { code } = await receiveCodeOfWallet(receiver);
    await refusedWithoutChange(() => give(giver, { to: code, amount: '1.00' }), 422, 'gifts_disabled');
    await refusedWithoutChange(() => t.request('GET', `/api/v1/wallet/receivers/${code}`, { token: giver.token }), 422, 'gifts_disabled');
  });

  it('an admin turns gifts on and sets the daily limit (POST and PATCH /currencies); bad values are refused', async () => {
    const created = await t.request('GET', '/api/v1/currencies/GFT', { token: t.adminToken });
    expect(created.body).toMatchObject({ gifts_enabled: true, gift_day_max: '30.00' });
    for (const bad of ['0', '-1', '1.234', 5, 'x']) {
      expectProblem(await t.request('PATCH', '/api/v1/currencies/OFF', { token: t.adminToken, body: { gift_day_max: bad } }), 422, 'validation_failed');
    }
    expectProblem(await t.request('PATCH', '/api/v1/currencies/OFF', { token: t.adminToken, body: { gifts_enabled: 'yes' } }), 422, 'validation_failed');
    const coordinator = await t.createStaff('coordinator', [(await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'OFF'`)[0]!.id]);
    expectProblem(await t.request('PATCH', '/api/v1/currencies/OFF', { token: coordinator.token, body: { gifts_enabled: true } }), 403, 'forbidden');
    const on = await t.request('PATCH', '/api/v1/currencies/OFF', { token: t.adminToken, body: { gifts_enabled: true, gift_day_max: '2.50' } });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body).toMatchObject({ gifts_enabled: true, gift_day_max: '2.50' });
    const unlimited = await t.request('PATCH', '/api/v1/currencies/OFF', { token: t.adminToken, body: { gift_day_max: null, gifts_enabled: false } });
    expect(unlimited.body).toMatchObject({ gifts_enabled: false, gift_day_max: null });
  });

  it('a receive code names the wallet without its id or card, is the same every time, and gives its URL /r/<code>', async () => {
    const receiver = await fundedWallet(t, 'GFT', undefined, 'Fatima');
    const first = await receiveCodeOfWallet(receiver);
    expect(first.code).toMatch(/^[a-z2-7]{20}$/);
    expect(first.url).toBe(`https://wijkmunt.example.org/r/${first.code}`);
    expect(first.code).not.toContain(receiver.account.replace(/-/g, '').slice(0, 8));
    expect(first.code.toUpperCase()).not.toContain(receiver.code);
    expect(await receiveCodeOfWallet(receiver)).toEqual(first);
    const giver = await fundedWallet(t, 'GFT', '5.00');
    const named = await t.request('GET', `/api/v1/wallet/receivers/${first.code}`, { token: giver.token });
    expect(named.status).toBe(200);
    expect(named.body).toEqual({ display_name: 'Fatima' });
    expectProblem(await t.request('GET', '/api/v1/wallet/receivers/aaaaaaaaaaaaaaaaaaaa', { token: giver.token }), 422, 'receive_code_unknown');
    // The scanned URL itself is understood too.
    expect(receiveCodeOf(first.url)).toBe(first.code);
    expect(receiveCodeOf(`${first.url}?x=1`)).toBe(first.code);
    expect(receiveCodeOf('https://elsewhere.example/p/123')).toBeUndefined();
  });

  it('a gift moves coins with code gift, replays under its key, and both histories name the other person', async () => {
    const giver = await fundedWallet(t, 'GFT', '50.00', 'Karel');
    const receiver = await fundedWallet(t, 'GFT', undefined, 'Lotte');
    const { code, url } = await receiveCodeOfWallet(receiver);
    const key = newKey();
    const given = await give(giver, { to: code, amount: '12.5', memo: 'Voor de soep' }, key);
    expect(given.status, JSON.stringify(given.body)).toBe(201);
    expect(given.body).toMatchObject({
      code: 'gift', amount: '12.50', memo: 'Voor de soep', debit_account: giver.account, credit_account: receiver.account, status: 'posted',
    });
    const again = await give(giver, { to: code, amount: '12.5', memo: 'Voor de soep' }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body).toEqual(given.body);
    await refusedWithoutChange(() => give(giver, { to: code, amount: '1.00' }, key), 422, 'idempotency_key_reused');
    // Turned off, a gift made before is still replayed under its key; a new one is refused.
    expect((await t.request('PATCH', '/api/v1/currencies/GFT', { token: t.adminToken, body: { gifts_enabled: false } })).status).toBe(200);
    const replayed_off = await give(giver, { to: code, amount: '12.5', memo: 'Voor de soep' }, key);
    expect(replayed_off.headers.get('idempotency-replayed')).toBe('true');
    expect(replayed_off.body).toEqual(given.body);
    await refusedWithoutChange(() => give(giver, { to: code, amount: '1.00' }), 422, 'gifts_disabled');
    expect((await t.request('PATCH', '/api/v1/currencies/GFT', { token: t.adminToken, body: { gifts_enabled: true } })).status).toBe(200);
    expect(await balance(giver.account)).toBe('37.50');
    expect(await balance(receiver.account)).toBe('12.50');

    const [gave] = await entries(giver.token);
    expect(gave).toMatchObject({ code: 'gift', amount: '-12.50', memo: 'Voor de soep', counterparty: { name: 'Lotte', kind: 'wallet' }, on_behalf: null });
    const [got] = await entries(receiver.token);
    expect(got).toMatchObject({ code: 'gift', amount: '12.50', memo: 'Voor de soep', counterparty: { name: 'Karel', kind: 'wallet' } });
    // The URL of the QR works as `to` as well.
    const by_url = await give(giver, { to: url, amount: '1.00' });
    expect(by_url.status, JSON.stringify(by_url.body)).toBe(201);
    expect(by_url.body.memo).toBeNull();
    const audit = await t.request('GET', '/api/v1/currencies/GFT/audit-log?action=gift.give&limit=5', { token: t.adminToken });
    expect(audit.body.items[0]).toMatchObject({ action: 'gift.give', changes: { from: giver.account, to: receiver.account, amount: '1.00' } });
  });

  it('refuses a gift it cannot make, each time changing nothing', async () => {
    const giver = await fundedWallet(t, 'GFT', '20.00');
    const receiver = await fundedWallet(t, 'GFT');
    const frozen = await fundedWallet(t, 'GFT');
    const elsewhere = await fundedWallet(t, 'ELS');
    const { code } = await receiveCodeOfWallet(receiver);
    const own = (await receiveCodeOfWallet(giver)).code;
    const frozen_code = (await receiveCodeOfWallet(frozen)).code;
    const other_currency_code = (await receiveCodeOfWallet(elsewhere)).code;
    expect((await t.request('PATCH', `/api/v1/accounts/${frozen.account}`, { token: t.adminToken, body: { status: 'frozen', reason: 'lost phone' } })).status).toBe(200);

    await refusedWithoutChange(() => give(giver, { to: 'bbbbbbbbbbbbbbbbbbbb', amount: '1.00' }), 422, 'receive_code_unknown');
    await refusedWithoutChange(() => give(giver, { to: 'not a code', amount: '1.00' }), 422, 'receive_code_unknown');
    await refusedWithoutChange(() => give(giver, { to: other_currency_code, amount: '1.00' }), 422, 'receive_code_unknown');
    await refusedWithoutChange(() => give(giver, { to: own, amount: '1.00' }), 422, 'same_account');
    await refusedWithoutChange(() => give(giver, { to: frozen_code, amount: '1.00' }), 422, 'account_frozen');
    await refusedWithoutChange(() => give(giver, { to: code, amount: '25.00' }), 422, 'insufficient_funds');
    for (const amount of ['0', '-1.00', '1.001', '1e2', 3]) {
      await refusedWithoutChange(() => give(giver, { to: code, amount }), 422, 'validation_failed');
    }
    await refusedWithoutChange(() => give(giver, { to: code, amount: '1.00', memo: 'x'.repeat(501) }), 422, 'validation_failed');
    await refusedWithoutChange(() => give(giver, { to: code, amount: '1.00', memo: 'a\u202Eb' }), 422, 'validation_failed');
    await refusedWithoutChange(() => give(giver, { amount: '1.00' }), 422, 'validation_failed');
    await refusedWithoutChange(() => t.request('POST', '/api/v1/wallet/gifts', { token: giver.token, body: { to: code, amount: '1.00' } }), 400, 'idempotency_key_missing');
    await refusedWithoutChange(() => t.request('POST', '/api/v1/wallet/gifts', { token: t.adminToken, idempotencyKey: newKey(), body: { to: code, amount: '1.00' } }), 403, 'forbidden');
    await refusedWithoutChange(() => t.request('POST', '/api/v1/wallet/gifts', { idempotencyKey: newKey(), body: { to: code, amount: '1.00' } }), 401, 'unauthenticated');
  });

  it('a giver gives at most gift_day_max a day: over it is 422 gift_limit_exceeded saying what is left', async () => {
    const giver = await fundedWallet(t, 'GFT', '100.00');
    const { code } = await receiveCodeOfWallet(await fundedWallet(t, 'GFT'));
    const other = (await receiveCodeOfWallet(await fundedWallet(t, 'GFT'))).code;
    expect((await give(giver, { to: code, amount: '20.00' })).status).toBe(201);
    const over = await refusedWithoutChange(() => give(giver, { to: other, amount: '15.00' }), 422, 'gift_limit_exceeded');
    expect(over.body).toMatchObject({ cap: '30.00', left: '10.00', period: 'day', account_id: giver.account });
    expect((await give(giver, { to: other, amount: '10.00' })).status).toBe(201);
    const spent = await refusedWithoutChange(() => give(giver, { to: code, amount: '0.01' }), 422, 'gift_limit_exceeded');
    expect(spent.body.left).toBe('0.00');
    expect(await balance(giver.account)).toBe('70.00');
  });

  it('the daily limit holds under 12 concurrent gifts of one giver: exactly what fits goes through', async () => {
    const giver = await fundedWallet(t, 'GFT', '100.00');
    const receivers = await Promise.all([0, 1, 2].map(async () => (await receiveCodeOfWallet(await fundedWallet(t, 'GFT'))).code));
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => give(giver, { to: receivers[i % 3], amount: '4.00' })));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(7);
    for (const refused of replies.filter((r) => r.status !== 201)) expectProblem(refused, 422, 'gift_limit_exceeded');
    expect(await balance(giver.account)).toBe('72.00');
    const [counter] = await t.sql<{ amount: bigint }[]>`SELECT amount FROM volunteer_earnings WHERE account_id = ${giver.account} AND period LIKE 'g%'`;
    expect(counter?.amount).toBe(2800n);
    const verified = await t.request('GET', '/api/v1/currencies/GFT/verify', { token: t.adminToken });
    expect(verified.body.ok, JSON.stringify(verified.body)).toBe(true);
    // verify notices a gift that escaped its counter.
    await t.sql`UPDATE volunteer_earnings SET amount = amount - 100 WHERE account_id = ${giver.account} AND period LIKE 'g%'`;
    const tampered = await t.request('GET', '/api/v1/currencies/GFT/verify', { token: t.adminToken });
    expect(tampered.body.checks.find((c: { name: string }) => c.name === 'limits_counted')).toEqual({
      name: 'limits_counted', ok: false, detail: `gifts of ${giver.account}: 2800 minor units moved, 2700 counted`,
    });
    await t.sql`UPDATE volunteer_earnings SET amount = amount + 100 WHERE account_id = ${giver.account} AND period LIKE 'g%'`;
  });

  it('counts the limit per local day in Brussels, and not at all without a gift_day_max', () => {
    const currency = { gifts_enabled: true, gift_day_max: 3000n } as Currency;
    // 22:59 UTC on 31 March is 00:59 on 1 April in Brussels (summer time).
    expect(giftLimits(currency, 'a', new Date('2026-03-31T21:59:00Z'))[0]?.period).toBe('g2026-03-31');
    expect(giftLimits(currency, 'a', new Date('2026-03-31T22:59:00Z'))[0]?.period).toBe('g2026-04-01');
    expect(giftLimits({ ...currency, gift_day_max: null }, 'a', new Date())).toEqual([]);
    const link = { account_id: 'w', helper_account_id: '00000000-0000-4000-8000-000000000001', month_max: 10n };
    expect(helperLimit(link, new Date('2026-11-30T23:30:00Z')).period).toBe('h00000000-0000-4000-8000-000000000001m2026-12');
  });
});

// Helpers ----------------------------------------------------------------------------------------

async function link(helped: string, helper: string, month_max: string, token = t.adminToken): Promise<Reply> {
  return t.request('POST', `/api/v1/wallets/${helped}/helpers`, { token, body: { helper_wallet: helper, month_max } });
}

function payFor(helper: Payer, request_id: string, on_behalf_of: string, key = newKey()): Promise<Reply> {
  return t.request('POST', `/api/v1/payment-requests/${request_id}/pay`, { token: helper.token, idempotencyKey: key, body: { on_behalf_of } });
}

describe('a helper for someone who can\'t manage alone', () => {
  it('a coordinator links a helper with a monthly maximum; the helper\'s wallet lists whom it helps', async () => {
    const volunteer = await fundedWallet(t, 'HLP', '80', 'Mariette');
    const helper = await fundedWallet(t, 'HLP', undefined, 'Jonas');
    const linked = await link(volunteer.account, helper.account, '50');
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    expect(linked.body).toMatchObject({ wallet: volunteer.account, helper_wallet: helper.account, helper_name: 'Jonas', month_max: '50', spent_this_month: '0' });
    const listed = await t.request('GET', `/api/v1/wallets/${volunteer.account}/helpers`, { token: t.adminToken });
    expect(listed.body.items).toEqual([linked.body]);
    const helped = await t.request('GET', '/api/v1/wallet/helped', { token: helper.token });
    expect(helped.body.items).toEqual([{
      wallet: volunteer.account, display_name: 'Mariette', available: '80', month_max: '50', spent_this_month: '0', left_this_month: '50', status: 'active',
    }]);
    expect((await t.request('GET', '/api/v1/wallet/helped', { token: volunteer.token })).body.items).toEqual([]);
    // Linking again sets a new maximum.
    expect((await link(volunteer.account, helper.account, '60')).body.month_max).toBe('60');
  });

  it('refuses links that cannot be, changing nothing', async () => {
    const volunteer = await fundedWallet(t, 'HLP', '10');
    const helper = await fundedWallet(t, 'HLP');
    const elsewhere = await registerVolunteer(t, 'ELS');
    const { shop } = await shopWithTablet(t, 'HLP');
    const coordinator_elsewhere = await t.createStaff('coordinator', [(await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'ELS'`)[0]!.id]);
    await refusedWithoutChange(() => link(volunteer.account, volunteer.account, '5'), 422, 'validation_failed');
    await refusedWithoutChange(() => link(volunteer.account, elsewhere.account, '5'), 422, 'validation_failed');
    await refusedWithoutChange(() => link(volunteer.account, shop.account, '5'), 422, 'validation_failed');
    await refusedWithoutChange(() => link(volunteer.account, '00000000-0000-4000-8000-000000000000', '5'), 422, 'validation_failed');
    for (const bad of ['0', '1.5', '-3', 7, '']) await refusedWithoutChange(() => link(volunteer.account, helper.account, bad as string), 422, 'validation_failed');
    await refusedWithoutChange(() => link(shop.account, helper.account, '5'), 404, 'not_found');
    await refusedWithoutChange(() => link('00000000-0000-4000-8000-000000000000', helper.account, '5'), 404, 'not_found');
    await refusedWithoutChange(() => link(volunteer.account, helper.account, '5', coordinator_elsewhere.token), 404, 'not_found');
    await refusedWithoutChange(() => link(volunteer.account, helper.account, '5', helper.token), 403, 'forbidden');
    await refusedWithoutChange(() => t.request('DELETE', `/api/v1/wallets/${volunteer.account}/helpers/${helper.account}`, { token: t.adminToken }), 404, 'not_found');
    await refusedWithoutChange(() => t.request('DELETE', `/api/v1/wallets/${volunteer.account}/helpers/nope`, { token: t.adminToken }), 404, 'not_found');
  });

  it('a helper pays a shop from the helped wallet; both histories and the audit log say who paid for whom', async () => {
    const volunteer = await fundedWallet(t, 'HLP', '40', 'Mariette');
    const helper = await fundedWallet(t, 'HLP', '5', 'Jonas');
    const { shop, tablet } = await shopWithTablet(t, 'HLP', { name: 'Kruidenier' });
    expect((await link(volunteer.account, helper.account, '30')).status).toBe(201);
    const request = await requestPayment(t, tablet, '12', 'Boodschappen');
    const key = newKey();
    const paid = await payFor(helper, request.id, volunteer.account, key);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    expect(paid.body).toMatchObject({ code: 'payment', amount: '12', debit_account: volunteer.account, credit_account: shop.account });
    expect(paid.body.metadata).toMatchObject({ helper_account_id: helper.account, payment_request_id: request.id });
    // Sealed history holds no name: the helper is named where the payment is shown.
    expect(JSON.stringify(paid.body.metadata)).not.toContain('Jonas');
    const again = await payFor(helper, request.id, volunteer.account.toUpperCase(), key);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body).toEqual(paid.body);
    expect(await balance(volunteer.account)).toBe('28');
    expect(await balance(helper.account)).toBe('5');
    expect(await balance(shop.account)).toBe('12');

    const on_behalf = { helper: { id: helper.account, name: 'Jonas' }, volunteer: { id: volunteer.account, name: 'Mariette' } };
    const [volunteer_entry] = await entries(volunteer.token);
    expect(volunteer_entry).toMatchObject({ code: 'payment', amount: '-12', counterparty: { name: 'Kruidenier' }, on_behalf });
    const [shop_entry] = (await t.request('GET', '/api/v1/shop/entries', { token: tablet.token })).body.items;
    expect(shop_entry).toMatchObject({ amount: '12', on_behalf });
    // The helper's own history lists the payment too, apart from its own balance (#20 point 4).
    const [for_other, funded] = await entries(helper.token);
    expect(for_other).toEqual({
      transfer_id: paid.body.id, amount: '-12', balance_after: '5', code: 'payment', memo: 'Boodschappen',
      counterparty: { id: shop.account, name: 'Kruidenier', kind: 'shop' }, activity: null, refund_of: null, reverses: null, reversed: false,
      on_behalf, for_other: true, created_at: volunteer_entry.created_at,
    });
    expect(funded).toMatchObject({ amount: '5', balance_after: '5', for_other: false });
    expect(volunteer_entry.for_other).toBe(false);
    expect(shop_entry.for_other).toBe(false);
    const audit = await t.request('GET', '/api/v1/currencies/HLP/audit-log?action=payment.pay_for&limit=5', { token: t.adminToken });
    expect(audit.body.items[0]).toMatchObject({
      action: 'payment.pay_for', actor: { kind: 'wallet', id: helper.account },
      changes: { amount: '12', wallet: volunteer.account, helper_account_id: helper.account },
    });
    const helped = await t.request('GET', '/api/v1/wallet/helped', { token: helper.token });
    expect(helped.body.items[0]).toMatchObject({ spent_this_month: '12', left_this_month: '18', available: '28' });
  });

  it('the database marks a wallet a helper at its first link and keeps the mark after the unlink: what it paid for others stays in its history', async () => {
    const volunteer = await fundedWallet(t, 'HLP', '20', 'Mariette');
    const helper = await fundedWallet(t, 'HLP', '3', 'Jonas');
    const { tablet } = await shopWithTablet(t, 'HLP');
    const marked = async (account: string) =>
      (await t.sql<{ helps_others: boolean }[]>`SELECT helps_others FROM wallets WHERE account_id = ${account}`)[0]?.helps_others;
    // Never linked: its history is its own entries only (one query per page).
    expect(await marked(helper.account)).toBe(false);
    expect((await entries(helper.token)).map((e) => e.for_other)).toEqual([false]);
    expect((await link(volunteer.account, helper.account, '10')).status).toBe(201);
    expect(await marked(helper.account)).toBe(true);
    expect(await marked(volunteer.account)).toBe(false);
    const paid = await payFor(helper, (await requestPayment(t, tablet, '4')).id, volunteer.account);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    expect((await t.request('DELETE', `/api/v1/wallets/${volunteer.account}/helpers/${helper.account}`, { token: t.adminToken })).status).toBe(204);
    expect(await marked(helper.account)).toBe(true);
    expect((await entries(helper.token)).map((e) => [e.transfer_id ?? null, e.for_other])).toEqual([[paid.body.id, true], [expect.any(String), false]]);
    // A link written by any other path is marked too (a trigger, not the use case).
    const other = await fundedWallet(t, 'HLP', undefined, 'Noor');
    const [currency] = await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'HLP'`;
    await t.sql`INSERT INTO wallet_helpers (currency_id, account_id, helper_account_id, month_max) VALUES (${currency!.id}, ${volunteer.account}, ${other.account}, 5)`;
    expect(await marked(other.account)).toBe(true);
  });

  it('never past month_max (422 helper_limit_exceeded), never without or after the link (403, but a payment made before is replayed): each refusal changes nothing', async () => {
    const volunteer = await fundedWallet(t, 'HLP', '100');
    const helper = await fundedWallet(t, 'HLP', '100');
    const stranger = await fundedWallet(t, 'HLP', '100');
    const { tablet } = await shopWithTablet(t, 'HLP');
    expect((await link(volunteer.account, helper.account, '20')).status).toBe(201);
    const first = { request: (await requestPayment(t, tablet, '15')).id as string, key: newKey() };
    const first_paid = await payFor(helper, first.request, volunteer.account, first.key);
    expect(first_paid.status).toBe(201);
    const big = await requestPayment(t, tablet, '6');
    const over = await refusedWithoutChange(() => payFor(helper, big.id, volunteer.account), 422, 'helper_limit_exceeded');
    expect(over.body).toMatchObject({ cap: '20', left: '5', period: 'month' });
    expect((await t.request('GET', `/api/v1/payment-requests/${big.id}`)).body.status).toBe('open');
    // The helper's own wallet is a payment of its own, outside the limit.
    expect((await pay(t, helper.token, big.id)).status).toBe(201);

    const next = await requestPayment(t, tablet, '1');
    await refusedWithoutChange(() => payFor(stranger, next.id, volunteer.account), 403, 'forbidden');
    await refusedWithoutChange(() => payFor(volunteer, next.id, helper.account), 403, 'forbidden');
    await refusedWithoutChange(() => payFor(helper, next.id, 'not-a-wallet'), 422, 'validation_failed');
    const revoked = await t.request('DELETE', `/api/v1/wallets/${volunteer.account}/helpers/${helper.account}`, { token: t.adminToken });
    expect(revoked.status).toBe(204);
    await refusedWithoutChange(() => payFor(helper, next.id, volunteer.account), 403, 'forbidden');
    // A payment made before the unlink is still replayed under its key (its answer was lost).
    const replayed = await payFor(helper, first.request, volunteer.account, first.key);
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get('idempotency-replayed')).toBe('true');
    expect(replayed.body).toEqual(first_paid.body);
    expect((await t.request('GET', '/api/v1/wallet/helped', { token: helper.token })).body.items).toEqual([]);
    const audit = await t.request('GET', '/api/v1/currencies/HLP/audit-log?action=helper&limit=5', { token: t.adminToken });
    expect(audit.body.items.map((e: { action: string }) => e.action).slice(0, 2)).toEqual(['helper.unlink', 'helper.link']);
    // Linked again within the month, what was paid this month still counts.
    expect((await link(volunteer.account, helper.account, '20')).body.spent_this_month).toBe('15');
    expect((await payFor(helper, next.id, volunteer.account)).status).toBe(201);
  });

  it('an unlink racing 10 payments by the helper: every payment that went through was made before the unlink answered', async () => {
    const volunteer = await fundedWallet(t, 'HLP', '100');
    const helper = await fundedWallet(t, 'HLP');
    const { tablet } = await shopWithTablet(t, 'HLP');
    expect((await link(volunteer.account, helper.account, '100')).status).toBe(201);
    const requests = await Promise.all(Array.from({ length: 10 }, () => requestPayment(t, tablet, '1')));
    const payments = requests.map((r) => payFor(helper, r.id, volunteer.account));
    const unlinked = t.request('DELETE', `/api/v1/wallets/${volunteer.account}/helpers/${helper.account}`, { token: t.adminToken });
    const [replies, unlink] = await Promise.all([Promise.all(payments), unlinked]);
    expect(unlink.status).toBe(204);
    for (const reply of replies) expect([201, 403], JSON.stringify(reply.body)).toContain(reply.status);
    const paid = replies.filter((r) => r.status === 201).map((r) => r.body.id as string);
    expect(await balance(volunteer.account)).toBe(String(100 - paid.length));
    // Audit rows are numbered as they are written; a payment's is written with it.
    const rows = await t.sql<{ id: bigint; action: string; transfer: string | null }[]>`
      SELECT id, action, changes->>'transfer' AS transfer FROM audit_log
      WHERE (action = 'helper.unlink' AND object_id = ${volunteer.account})
         OR (action = 'payment.pay_for' AND changes->>'wallet' = ${volunteer.account})`;
    const unlink_row = rows.find((r) => r.action === 'helper.unlink');
    expect(unlink_row).toBeDefined();
    for (const id of paid) {
      const row = rows.find((r) => r.transfer === id);
      expect(row !== undefined && row.id < unlink_row!.id, `payment ${id} recorded after the unlink`).toBe(true);
    }
    expectProblem(await payFor(helper, (await requestPayment(t, tablet, '1')).id, volunteer.account), 403, 'forbidden');
  });

  it('the monthly maximum holds under 8 concurrent payments by one helper: exactly what fits is paid', async () => {
    const volunteer = await fundedWallet(t, 'HLP', '100');
    const helper = await fundedWallet(t, 'HLP');
    const { shop, tablet } = await shopWithTablet(t, 'HLP');
    expect((await link(volunteer.account, helper.account, '20')).status).toBe(201);
    const requests = await Promise.all(Array.from({ length: 8 }, () => requestPayment(t, tablet, '5')));
    const replies = await Promise.all(requests.map((r) => payFor(helper, r.id, volunteer.account)));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(4);
    for (const refused of replies.filter((r) => r.status !== 201)) expectProblem(refused, 422, 'helper_limit_exceeded');
    expect(await balance(volunteer.account)).toBe('80');
    expect(await balance(shop.account)).toBe('20');
    const verified = await t.request('GET', '/api/v1/currencies/HLP/verify', { token: t.adminToken });
    expect(verified.body.ok, JSON.stringify(verified.body)).toBe(true);
  });

  it('the helper\'s history pages its own entries and its payments for others together, in time order, each once, and nobody else\'s', async () => {
    const helper = await fundedWallet(t, 'HLP', '50', 'Jonas');
    const [mariette, mehmet] = [await fundedWallet(t, 'HLP', '100', 'Mariette'), await fundedWallet(t, 'HLP', '100', 'Mehmet')];
    const other_helper = await fundedWallet(t, 'HLP', undefined, 'Anouk');
    const { tablet } = await shopWithTablet(t, 'HLP', { name: 'Bakker' });
    for (const [helped, who] of [[mariette, helper], [mehmet, helper], [mariette, other_helper]] as const) {
      expect((await link(helped.account, who.account, '100')).status).toBe(201);
    }
    // Interleaved: the helper's own payments, its payments for two wallets, and what must not show.
    const expected: string[] = [];
    for (let round = 1; round <= 4; round += 1) {
      const steps: Array<[Payer, Payer | undefined, boolean]> = [
        [helper, undefined, true], [helper, mariette, true], [mariette, undefined, false], [helper, mehmet, true], [other_helper, mariette, false],
      ];
      for (const [payer, from, shown] of steps) {
        const request = await requestPayment(t, tablet, String(round));
        const reply = from === undefined ? await pay(t, payer.token, request.id) : await payFor(payer, request.id, from.account);
        expect(reply.status, JSON.stringify(reply.body)).toBe(201);
        if (shown) expected.unshift(reply.body.id as string);
      }
    }
    expected.push((await entries(helper.token)).at(-1).transfer_id); // the coins it was given first

    const pages: any[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${cursor}`;
      const reply = await t.request('GET', `/api/v1/wallet/entries?limit=3${query}`, { token: helper.token });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      pages.push(reply.body.items);
      cursor = reply.body.next_cursor;
      if (pages.length === 1) {
        // A payment made after the first page is not slipped in between the later ones.
        const late = await requestPayment(t, tablet, '1');
        expect((await payFor(helper, late.id, mehmet.account)).status).toBe(201);
      }
    } while (cursor !== null && pages.length < 20);
    expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
    const rows = pages.flat();
    expect(rows.map((r) => r.transfer_id)).toEqual(expected);
    // Its own rows carry its running balance; a payment for someone else leaves it as it was.
    let balance = 50n - (1n + 2n + 3n + 4n);
    for (const row of rows) {
      expect(BigInt(row.balance_after), JSON.stringify(row)).toBe(balance);
      if (!row.for_other) balance -= BigInt(row.amount);
    }
    expect(balance).toBe(0n);
    const for_others = rows.filter((r) => r.for_other);
    expect(for_others).toHaveLength(8);
    for (const row of for_others) {
      expect(row.on_behalf.helper).toEqual({ id: helper.account, name: 'Jonas' });
      expect([mariette.account, mehmet.account]).toContain(row.on_behalf.volunteer.id);
      expect(row.counterparty.name).toBe('Bakker');
    }
    const times = rows.map((r) => Date.parse(r.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // The helped wallets and the other helper see none of the helper's rows as theirs.
    for (const other of [mariette, mehmet, other_helper]) {
      const listed = await t.request('GET', '/api/v1/wallet/entries?limit=100', { token: other.token });
      expect(listed.body.items.filter((r: any) => r.for_other && r.on_behalf.helper.id === helper.account)).toEqual([]);
    }
    const anouk = (await t.request('GET', '/api/v1/wallet/entries?limit=100', { token: other_helper.token })).body.items;
    expect(anouk.filter((r: any) => r.for_other)).toHaveLength(4);
    expect(anouk.every((r: any) => r.balance_after === '0')).toBe(true);
    // A coordinator's correction of such a payment marks the helper's row too; the reversal itself is the volunteer's.
    const corrected = anouk[0].transfer_id as string;
    const reversal = await t.request('POST', `/api/v1/transfers/${corrected}/reverse`, { token: t.adminToken, idempotencyKey: newKey(), body: { memo: 'twice' } });
    expect(reversal.status, JSON.stringify(reversal.body)).toBe(201);
    const after = (await t.request('GET', '/api/v1/wallet/entries?limit=100', { token: other_helper.token })).body.items;
    expect(after.map((r: any) => [r.transfer_id, r.reversed])).toEqual(anouk.map((r: any) => [r.transfer_id, r.transfer_id === corrected]));
  });

  it('refuses a history cursor that is not one, changing nothing', async () => {
    const helper = await fundedWallet(t, 'HLP', '5');
    const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad = [
      'nope', cursor('5'), cursor({ own: null, other: null }), cursor({ own: '9223372036854775807', other: null }),
      cursor({ own: '0', other: null }), cursor({ own: null, other: ['1', 'x'] }), cursor({ own: null, other: ['99999999999999999', '00000000-0000-4000-8000-000000000000'] }),
      cursor({ own: null, other: ['-1', '00000000-0000-4000-8000-000000000000'] }), cursor([]), cursor({ own: 1, other: null }),
    ];
    for (const value of bad) {
      await refusedWithoutChange(() => t.request('GET', `/api/v1/wallet/entries?cursor=${value}`, { token: helper.token }), 422, 'validation_failed');
    }
    // A well-formed cursor from far in the past finds nothing, and says so.
    const old = await t.request('GET', `/api/v1/wallet/entries?cursor=${cursor({ own: null, other: ['1', '00000000-0000-4000-8000-000000000000'] })}`, { token: helper.token });
    expect(old.body).toEqual({ items: [], next_cursor: null });
  });
});
