/**
 * The public view of what a neighbourhood did (#21 point 3): GET /public/currencies/{code}/impact
 * without a login, against a real PostgreSQL. Any figure about fewer than ten people is hidden —
 * with 9 volunteers (or 9 paying wallets) the month, the category and the total say
 * `suppressed: small_group`, with 10 they show — and a second group is hidden with a small one
 * so that it cannot be worked out from the total. No account id or name is ever in the answer.
 * Bad input changes nothing and is a problem+json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, rowCounts } from './support/http-fixtures.js';
import { activityOf, award, fund, openSession, programmeOf, registerVolunteer } from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { fundedWallet, pay, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import type { Payer, Tablet } from './support/shop-fixtures.js';
import { suppressSmallGroups } from '../src/ledger/impact.js';

let t: TestApp;
let tablet: Tablet;
let shop_account: string;
const volunteers: Volunteer[] = [];
const payers: Payer[] = [];
let earned = 0n;

beforeAll(async () => {
  // Every read reads the database here; the reuse of figures is tested on an app of its own.
  t = await createTestApp({ IMPACT_CACHE_S: '0' });
  await createCurrency(t, 'IMP', 0);
  await fund(t, 'IMP', await programmeOf(t, 'IMP'), '100000');
  const { shop, tablet: till } = await shopWithTablet(t, 'IMP', { name: 'Bakkerij Rabot' });
  tablet = till;
  shop_account = shop.account;
});

afterAll(async () => {
  await t?.close();
});

const impact = (query = '') => t.request('GET', `/api/v1/public/currencies/IMP/impact${query}`);
const thisMonth = (body: any) => body.months.at(-1);

/** Volunteers `from`…`to - 1` each get 2 hours at a repair café session, by card. */
async function volunteer(session_id: string, count: number): Promise<void> {
  while (volunteers.length < count) {
    const v = await registerVolunteer(t, 'IMP', { name: `Buurtbewoner ${volunteers.length + 1}` });
    const reply = await award(t, session_id, { card: v.code });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    earned += BigInt(reply.body.amount as string);
    volunteers.push(v);
  }
}

describe('GET /public/currencies/{code}/impact', () => {
  it('hides the figures of 9 volunteers and shows those of 10, without naming anyone', async () => {
    const session = await openSession(t, (await activityOf(t, 'IMP', 'repair_cafe')).id as string, { hours: '2', max_claims: 100 });
    await volunteer(session.id as string, 9);
    const nine = await impact();
    expect(nine.status, JSON.stringify(nine.body)).toBe(200);
    expect(nine.headers.get('Cache-Control')).toBe('public, max-age=300');
    const hidden = { suppressed: true, reason: 'small_group', fewer_than: 10 };
    expect(nine.body.people_min).toBe(10);
    expect(nine.body.total.volunteering).toEqual(hidden);
    expect(thisMonth(nine.body).volunteering).toEqual(hidden);
    expect(nine.body.categories.find((k: any) => k.category === 'repair_cafe').volunteering).toEqual(hidden);
    // A category and a month with nobody in them say so: zero is about no one.
    expect(nine.body.categories.find((k: any) => k.category === 'it_repair').volunteering)
      .toEqual({ suppressed: false, hours: '0.00', coins_earned: '0', volunteers: 0 });
    expect(nine.body.months).toHaveLength(12);
    expect(nine.body.months[0].volunteering).toEqual({ suppressed: false, hours: '0.00', coins_earned: '0', volunteers: 0 });

    await volunteer(session.id as string, 10);
    const ten = await impact();
    const shown = { suppressed: false, hours: '20.00', coins_earned: earned.toString(), volunteers: 10 };
    expect(ten.body.total.volunteering).toEqual(shown);
    expect(thisMonth(ten.body).volunteering).toEqual(shown);
    expect(ten.body.categories.find((k: any) => k.category === 'repair_cafe').volunteering).toEqual(shown);
    expect(ten.body.categories.map((k: any) => k.category))
      .toEqual(['repair_cafe', 'it_repair', 'buurtbeheer', 'street_ambassador', 'neighbourhood_party', 'other']);
    const text = JSON.stringify(ten.body);
    for (const v of volunteers) {
      expect(text).not.toContain(v.account);
      expect(text).not.toContain(v.name);
      expect(text).not.toContain(v.code);
    }
  });

  it('hides what 9 wallets spent at shops and shows what 10 spent; the number of shops always shows', async () => {
    while (payers.length < 9) payers.push(await fundedWallet(t, 'IMP', '50'));
    for (const payer of payers) expect((await pay(t, payer.token, (await requestPayment(t, tablet, '3')).id as string)).status).toBe(201);
    const nine = await impact();
    expect(nine.body.total.spending).toEqual({ suppressed: true, reason: 'small_group', fewer_than: 10 });
    expect(thisMonth(nine.body).spending).toEqual({ suppressed: true, reason: 'small_group', fewer_than: 10 });
    expect(thisMonth(nine.body).active_shops).toBe(1);
    expect(nine.body.total.active_shops).toBe(1);

    payers.push(await fundedWallet(t, 'IMP', '50'));
    expect((await pay(t, payers[9]!.token, (await requestPayment(t, tablet, '3')).id as string)).status).toBe(201);
    const ten = await impact();
    expect(ten.body.total.spending).toEqual({ suppressed: false, coins_spent: '30' });
    expect(thisMonth(ten.body).spending).toEqual({ suppressed: false, coins_spent: '30' });
    expect(JSON.stringify(ten.body)).not.toContain(shop_account);
  });

  it('hides a large group with a small one, so that the small one is not the total minus the others', async () => {
    const session = await openSession(t, (await activityOf(t, 'IMP', 'it_repair')).id as string, { hours: '1', max_claims: 100 });
    for (const v of volunteers.slice(0, 3)) expect((await award(t, session.id as string, { card: v.code })).status).toBe(201);
    const reply = await impact();
    const category = (name: string) => reply.body.categories.find((k: any) => k.category === name).volunteering;
    expect(category('it_repair')).toEqual({ suppressed: true, reason: 'small_group', fewer_than: 10 });
    expect(category('repair_cafe')).toEqual({ suppressed: true, reason: 'complement', fewer_than: 10 });
    expect(category('buurtbeheer')).toMatchObject({ suppressed: false, volunteers: 0 });
    // The same ten people: the month and the total show.
    expect(reply.body.total.volunteering).toMatchObject({ suppressed: false, hours: '23.00', volunteers: 10 });
    expect(thisMonth(reply.body).volunteering).toMatchObject({ suppressed: false, hours: '23.00', volunteers: 10 });
  });

  it('reuses its figures for IMPACT_CACHE_S, per currency and number of months', async () => {
    const cached = await createTestApp({ IMPACT_CACHE_S: '60' }, { database_url: t.database_url });
    try {
      const read = (query = '') => cached.request('GET', `/api/v1/public/currencies/IMP/impact${query}`);
      const before = await read();
      const before_3 = await read('?months=3');
      const session = await openSession(t, (await activityOf(t, 'IMP', 'buurtbeheer')).id as string, { hours: '1' });
      expect((await award(t, session.id as string, { card: volunteers[0]!.code })).status).toBe(201);
      // The database has the new hour; the cached app still answers what it read.
      expect((await impact()).body.total.volunteering.hours).not.toBe(before.body.total.volunteering.hours);
      expect((await read()).body).toEqual(before.body);
      expect((await read('?months=3')).body).toEqual(before_3.body);
      expect((await read('?months=2')).body.total.volunteering.hours).toBe((await impact()).body.total.volunteering.hours);
    } finally {
      await cached.close();
    }
  });

  it('counts a reward in the local month it was made, and its reversal in the month of the reversal', async () => {
    // A currency of its own: ten volunteers rewarded 3 hours each, one of the rewards dated last month.
    await createCurrency(t, 'IMM', 0);
    await fund(t, 'IMM', await programmeOf(t, 'IMM'), '100000');
    const session = await openSession(t, (await activityOf(t, 'IMM', 'neighbourhood_party')).id as string, { hours: '3', max_claims: 20 });
    const rewards: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const v = await registerVolunteer(t, 'IMM');
      const reply = await award(t, session.id as string, { card: v.code });
      expect(reply.status).toBe(201);
      rewards.push(reply.body.id as string);
    }
    const [earlier] = rewards;
    // Last month, as if made then (the append-only triggers are bypassed for this one transaction).
    await t.sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`UPDATE transfers SET created_at = date_trunc('month', now() AT TIME ZONE 'Europe/Brussels') AT TIME ZONE 'Europe/Brussels' - interval '1 day' WHERE id = ${earlier!}`;
    });
    const read = async (months = 2) => (await t.request('GET', `/api/v1/public/currencies/IMM/impact?months=${months}`)).body;
    const before = await read();
    expect(before.months[0].volunteering).toEqual({ suppressed: true, reason: 'small_group', fewer_than: 10 });
    // This month alone has 9 people; last month's one is hidden with it, or the total would give it away.
    expect(before.months[1].volunteering).toEqual({ suppressed: true, reason: 'small_group', fewer_than: 10 });
    expect(before.total.volunteering).toEqual({ suppressed: false, hours: '30.00', coins_earned: expect.any(String), volunteers: 10 });

    // Last month's reward is reversed now: this month takes it back, its wallet among the month's people.
    const reversed = await t.request('POST', `/api/v1/transfers/${earlier!}/reverse`, { token: t.adminToken, idempotencyKey: newKey(), body: { memo: 'twice' } });
    expect(reversed.status, JSON.stringify(reversed.body)).toBe(201);
    const this_month = await read(1);
    expect(this_month.months[0].volunteering).toEqual({ suppressed: false, hours: '24.00', coins_earned: expect.any(String), volunteers: 9 });
    // Over both months: last month (1 person) stays hidden, so this month (now 10 people) is hidden with it.
    const after = await read();
    expect(after.months.map((m: any) => m.volunteering.reason)).toEqual(['small_group', 'complement']);
    expect(after.total.volunteering).toMatchObject({ suppressed: false, hours: '27.00', volunteers: 10 });
    expect(BigInt(after.total.volunteering.coins_earned as string)).toBe(BigInt(before.total.volunteering.coins_earned as string) * 9n / 10n);
  });

  it('lists the months asked for, up to this one', async () => {
    const reply = await impact('?months=3');
    expect(reply.status).toBe(200);
    expect(reply.body.months).toHaveLength(3);
    expect(reply.body.to).toBe(thisMonth(reply.body).month);
    expect(reply.body.from).toBe(reply.body.months[0].month);
    const [y, m] = (reply.body.to as string).split('-').map(Number) as [number, number];
    const first = new Date(Date.UTC(y, m - 3, 1));
    expect(reply.body.from).toBe(`${first.getUTCFullYear()}-${String(first.getUTCMonth() + 1).padStart(2, '0')}`);
    expect((await impact('?months=36')).body.months).toHaveLength(36);
  });

  it('refuses an unknown currency and bad months with a problem, and writes nothing', async () => {
    const before = await rowCounts(t);
    expectProblem(await t.request('GET', '/api/v1/public/currencies/NOPE/impact'), 404, 'not_found');
    for (const months of ['0', '37', 'abc', '1.5', '-1']) expectProblem(await impact(`?months=${months}`), 422, 'validation_failed');
    expectProblem(await t.request('GET', `/api/v1/public/currencies/${'X'.repeat(21)}/impact`), 422, 'validation_failed');
    expect(await rowCounts(t)).toEqual(before);
  });
});

describe('suppressSmallGroups', () => {
  const group = (people: number) => ({ people, figures: { people } });

  it('shows a group of exactly 10 and hides one of 9, and a group of nobody shows', () => {
    const shown = suppressSmallGroups([group(10), group(0)], group(10));
    expect(shown.groups).toEqual([{ hidden: false, figures: { people: 10 } }, { hidden: false, figures: { people: 0 } }]);
    expect(suppressSmallGroups([group(9)], group(9)).total).toEqual({ hidden: true, reason: 'small_group' });
  });

  it('hides the smallest other group with a small one until the hidden ones are about 10 people or more', () => {
    const shown = suppressSmallGroups([group(40), group(3), group(12), group(0), group(2)], group(57));
    expect(shown.groups.map((g) => (g.hidden ? g.reason : 'shown'))).toEqual(['shown', 'small_group', 'complement', 'shown', 'small_group']);
    expect(shown.total.hidden).toBe(false);
    // Two small groups of 6 and 5 together are about 11: nothing more to hide.
    expect(suppressSmallGroups([group(6), group(5), group(30)], group(41)).groups.map((g) => g.hidden)).toEqual([true, true, false]);
  });
});
