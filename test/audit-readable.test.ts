/**
 * The audit log readable by a person (#12 point 5): names next to ids — a staff member's email,
 * a volunteer's name (also for their card), a shop's name, a tablet with its shop — and a
 * filter by a name typed in part; freezing an account asks for a reason, stored and shown.
 * And statements a person reads (#12 point 11): the counterparty's kind, so screens name the
 * city's issuance and programmes in their own language, and refunds without a technical memo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue } from './support/http-fixtures.js';
import { openWallet, registerVolunteer, walletSession } from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { charge, shopWithTablet } from './support/shop-fixtures.js';
import type { ShopOut, Tablet } from './support/shop-fixtures.js';

let t: TestApp;
let coordinator: { email: string; token: string };
let aicha: Volunteer;
let shop: ShopOut;
let tablet: Tablet;

interface Named { kind: string; id: string | null; name: string | null }
interface EntryOut { action: string; actor: Named; object: Named | null; changes: Record<string, unknown> }

beforeAll(async () => {
  t = await createTestApp();
  const currency = await createCurrency(t, 'AUR', 2);
  coordinator = await t.createStaff('coordinator', [currency.id]);
  aicha = await registerVolunteer(t, 'AUR', { name: 'Aïcha', token: coordinator.token });
  const made = await shopWithTablet(t, 'AUR', { name: 'Bakkerij Ô Pain', tablet_name: 'Toonbank' });
  shop = made.shop;
  tablet = made.tablet;
  await issue(t, 'AUR', aicha.account, '20.00');
  await walletSession(t, aicha.code, '0000');
  expect((await charge(t, tablet, { card: aicha.code, pin: aicha.pin, amount: '2.00' })).status).toBe(201);
});

afterAll(async () => {
  await t?.close();
});

async function log(query: string, token = coordinator.token): Promise<EntryOut[]> {
  const reply = await t.request('GET', `/api/v1/currencies/AUR/audit-log?limit=200${query}`, { token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.items as EntryOut[];
}

describe('names next to ids', () => {
  it('a staff member by email, a volunteer and their card by name, a shop by name, a tablet with its shop', async () => {
    const entries = await log('');
    const registered = entries.find((e) => e.action === 'wallet.register');
    expect(registered?.actor).toMatchObject({ kind: 'user', name: coordinator.email });
    expect(registered?.object).toMatchObject({ kind: 'wallet', id: aicha.account, name: 'Aïcha' });
    const failed = entries.find((e) => e.action === 'card.pin_failed');
    expect(failed?.object).toMatchObject({ kind: 'card', id: aicha.code, name: 'Aïcha' });
    const charged = entries.find((e) => e.action === 'payment.charge');
    expect(charged?.actor).toMatchObject({ kind: 'device', name: 'Toonbank (Bakkerij Ô Pain)' });
    const created = entries.find((e) => e.action === 'shop.create');
    expect(created?.object).toMatchObject({ kind: 'shop', id: shop.account, name: 'Bakkerij Ô Pain' });
    // Anonymous actors and objects without a name say so with null.
    expect(failed?.actor).toMatchObject({ kind: 'anonymous', id: null, name: null });
    expect(charged?.object).toMatchObject({ kind: 'transfer', name: null });
  });
});

describe('a filter by a name typed in part', () => {
  it('"aicha" finds what was done by or to Aïcha, her card included; a part of an email finds that staff member\'s actions', async () => {
    const hers = await log('&name=aicha');
    for (const e of hers) expect([e.actor.name, e.object?.name]).toContain('Aïcha');
    // Her registration (the wallet) and the wrong PIN on her card.
    expect(new Set(hers.map((e) => e.action))).toEqual(new Set(['wallet.register', 'card.pin_failed']));
    const by_staff = await log(`&name=${encodeURIComponent(coordinator.email.split('@')[0]!.slice(0, 10).toUpperCase())}`);
    expect(by_staff.length).toBeGreaterThan(0);
    for (const e of by_staff) expect(e.actor.name).toBe(coordinator.email);
    expect(await log('&name=nobody-has-this-name')).toEqual([]);
    // The tablet and its shop by their names.
    expect((await log('&name=toonbank')).map((e) => e.action)).toContain('payment.charge');
  });

  it('a name of one character, or over 100, is 422', async () => {
    expectProblem(await t.request('GET', '/api/v1/currencies/AUR/audit-log?name=a', { token: coordinator.token }), 422, 'validation_failed');
    expectProblem(await t.request('GET', `/api/v1/currencies/AUR/audit-log?name=${'x'.repeat(101)}`, { token: coordinator.token }), 422, 'validation_failed');
  });
});

describe('freezing asks for a reason', () => {
  it('without a reason it is 422 reason_required and nothing changes; with one it is stored, shown, audited, and cleared when active again', async () => {
    const v = await registerVolunteer(t, 'AUR', { token: coordinator.token });
    const freeze = (body: unknown) => t.request('PATCH', `/api/v1/accounts/${v.account}`, { token: coordinator.token, body });
    expectProblem(await freeze({ status: 'frozen' }), 422, 'reason_required');
    expectProblem(await freeze({ status: 'frozen', reason: '   ' }), 422, 'validation_failed');
    const [still] = await t.sql`SELECT status, status_reason FROM accounts WHERE id = ${v.account}`;
    expect(still).toEqual({ status: 'active', status_reason: null });
    const frozen = await freeze({ status: 'frozen', reason: 'Kaart gestolen, wacht op aangifte' });
    expect(frozen.status, JSON.stringify(frozen.body)).toBe(200);
    expect(frozen.body).toMatchObject({ status: 'frozen', status_reason: 'Kaart gestolen, wacht op aangifte' });
    expect((await t.request('GET', `/api/v1/accounts/${v.account}`, { token: coordinator.token })).body.status_reason).toBe('Kaart gestolen, wacht op aangifte');
    const audited = (await log('&action=account.update')).find((e) => e.object?.id === v.account);
    expect(audited?.changes).toEqual({ status: { from: 'active', to: 'frozen' }, reason: 'Kaart gestolen, wacht op aangifte' });
    const active = await freeze({ status: 'active' });
    expect(active.body).toMatchObject({ status: 'active', status_reason: null });
  });
});

describe('statements a person reads', () => {
  it('name the counterparty\'s kind, and a refund carries no technical memo', async () => {
    const v = await registerVolunteer(t, 'AUR', { token: coordinator.token });
    await issue(t, 'AUR', v.account, '5.00');
    const paid = await charge(t, tablet, { card: v.code, pin: v.pin, amount: '3.00' });
    expect(paid.status).toBe(201);
    const refund = await t.request('POST', '/api/v1/shop/refunds', {
      token: tablet.token, idempotencyKey: newKey(), body: { transfer_id: paid.body.id, amount: '1.00' },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    expect(refund.body.memo).toBeNull();
    const entries = (await t.request('GET', '/api/v1/wallet/entries', { token: await openWallet(t, v) })).body.items as Array<{
      code: string; memo: string | null; counterparty: { kind: string; name: string };
    }>;
    expect(entries.map((e) => [e.code, e.counterparty.kind])).toEqual([['refund', 'shop'], ['payment', 'shop'], ['issue', 'issuance']]);
    expect(entries[0]?.memo).toBeNull();
  });
});
