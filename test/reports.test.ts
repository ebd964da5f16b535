/**
 * Reports and streamed CSV exports (issue #6): every number is compared with one the test
 * computes itself, in bigint, from the transfers it made. History is made through the API and
 * then moved back in time (to 2024) with SQL, step by step, so that months, periods and
 * "balance at a date" have something to tell apart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAPIHono } from '@hono/zod-openapi';
import { pino } from 'pino';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, openAccount, rowCounts, transfer } from './support/http-fixtures.js';
import type { CurrencyOut } from './support/http-fixtures.js';
import { activityOf, award, fund, openSession, openWallet, programmeOf, registerVolunteer } from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { charge, redeem, refund, shopWithTablet } from './support/shop-fixtures.js';
import type { ShopOut, Tablet } from './support/shop-fixtures.js';
import type { AppEnv } from '../src/http/context.js';
import { monthEnds, parsePeriod, streamCsv } from '../src/http/routes/reports.js';

const CODE = 'RPT';
const OTHER = 'RPX';
const BIG = 'RPB';

let t: TestApp;
let currency: CurrencyOut;
let coordinator: { token: string };
let other_coordinator: { token: string };

// Money helpers, written here independently of src/ledger/amount.ts (scale 2) ---------------------

function minor(amount: string): bigint {
  const match = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(amount);
  if (match === null) throw new Error(`not an amount: ${amount}`);
  const value = BigInt(match[2] ?? '0') * 100n + BigInt((match[3] ?? '').padEnd(2, '0'));
  return match[1] === '-' ? -value : value;
}

function money(value: bigint): string {
  const abs = value < 0n ? -value : value;
  return `${value < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Hours "1.25" → 125 hundredths. */
const hundredths = minor;

/** Euros for coin minor units at 0.10 € per coin: one euro cent per 10 minor units, half to even. */
function euros(coins_minor: bigint): string {
  if (coins_minor < 0n) throw new Error('no negative liabilities here');
  const cents = coins_minor / 10n;
  const rest = coins_minor % 10n;
  return money(rest > 5n || (rest === 5n && cents % 2n === 1n) ? cents + 1n : cents);
}

// Local days and months in Belgium, computed with Intl --------------------------------------------

const brussels = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Brussels', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

function localParts(at: Date): { day: string; month: string; hour: string } {
  const parts = Object.fromEntries(brussels.formatToParts(at).map((p) => [p.type, p.value]));
  return { day: `${parts.year}-${parts.month}-${parts.day}`, month: `${parts.year}-${parts.month}`, hour: `${parts.hour}:${parts.minute}` };
}

const monthOf = (at: Date) => localParts(at).month;

/** The instant of 00:00 on a local day (Belgium is UTC+1 or UTC+2). */
function localMidnight(day: string): Date {
  for (const hours_before of [1, 2]) {
    const candidate = new Date(Date.parse(`${day}T00:00:00Z`) - hours_before * 3_600_000);
    const parts = localParts(candidate);
    if (parts.day === day && parts.hour === '00:00') return candidate;
  }
  throw new Error(`no midnight for ${day}`);
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function inPeriod(at: Date, from: string, to: string): boolean {
  return at >= localMidnight(from) && at < localMidnight(nextDay(to));
}

const today = localParts(new Date()).day;

// What the test did, kept by the test ------------------------------------------------------

interface Posted { code: string; debit: string; credit: string; amount: bigint; at: Date }
interface Made { code: string; phase: string; status: string; amount: bigint; at: Date }
interface RewardFact {
  id: string; wallet: string; activity: string; category: string; hours: bigint; amount: bigint; at: Date;
  /** When each reversal in its chain was made, in order. */
  reversals: Date[];
}
interface ShopMove { shop: string; kind: 'payment' | 'refund'; sign: bigint; amount: bigint; at: Date }
interface RedemptionFact { shop: string; amount: bigint; requested_at: Date; decided_at: Date | null; status: 'pending' | 'approved' | 'rejected' }

/** Posted movements (with the time they were posted): the source of every balance. */
const posted: Posted[] = [];
/** Every transfer row made, pending and void ones included: the source of the transfers export. */
const made: Made[] = [];
const reward_facts: RewardFact[] = [];
const shop_moves: ShopMove[] = [];
const redemption_facts: RedemptionFact[] = [];

/** Any transfer the test made, by id: what to add to the model when it is reversed. */
const by_id = new Map<string, { code: string; debit: string; credit: string; amount: bigint; reward?: RewardFact; shop_move?: ShopMove; reverses?: string }>();

let accounts: {
  issuance: string; programme: string; p1: Volunteer; p2: Volunteer; volunteers: Volunteer[];
  s1: { shop: ShopOut; tablet: Tablet }; s2: { shop: ShopOut; tablet: Tablet };
  /** A shop account opened with the generic accounts API: no shop record, no tablet. */
  stall: string;
};
let activities: { a: any; b: any; c: any; f: any };

/** The instant a step happens: a fixed time in 2024, or now. */
let step_at = new Date();

/**
 * Runs `fn` through the API, then moves everything it wrote back to `when` (ISO instant) with
 * the append-only triggers off for that transaction only. Steps run in time order, so entry
 * versions and times stay in the same order.
 */
async function at<T>(when: string | null, fn: () => Promise<T>): Promise<T> {
  const [mark] = await t.sql<{ start: Date }[]>`SELECT clock_timestamp() AS start`;
  step_at = when === null ? new Date() : new Date(when);
  const result = await fn();
  if (when !== null && mark !== undefined) {
    await t.sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`UPDATE transfers SET created_at = ${when} WHERE created_at >= ${mark.start}`;
      await tx`UPDATE entries SET created_at = ${when} WHERE created_at >= ${mark.start}`;
      await tx`UPDATE claims SET created_at = ${when} WHERE created_at >= ${mark.start}`;
      await tx`UPDATE redemptions SET created_at = ${when} WHERE created_at >= ${mark.start}`;
      await tx`UPDATE redemptions SET decided_at = ${when} WHERE decided_at >= ${mark.start}`;
      await tx`UPDATE payouts SET created_at = ${when} WHERE created_at >= ${mark.start}`;
    });
  }
  return result;
}

function record(transfer: { id: string; code: string; debit_account: string; credit_account: string; amount: string }) {
  const amount = minor(transfer.amount);
  posted.push({ code: transfer.code, debit: transfer.debit_account, credit: transfer.credit_account, amount, at: step_at });
  made.push({ code: transfer.code, phase: 'single', status: 'posted', amount, at: step_at });
  by_id.set(transfer.id, { code: transfer.code, debit: transfer.debit_account, credit: transfer.credit_account, amount });
  return transfer;
}

async function issueTo(account: string, amount: string) {
  return record(await issue(t, CODE, account, amount));
}

async function reward(volunteer: Volunteer, activity: any, hours: string | null) {
  const session = await openSession(t, activity.id, {});
  const reply = await award(t, session.id, { card: volunteer.code, ...(hours === null ? {} : { hours }) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const transfer = record(reply.body);
  const amount = minor(transfer.amount);
  // The service's own arithmetic, checked against the rate: 25 coins per hour, or the fixed amount.
  expect(amount).toBe(hours === null ? minor(activity.amount) : hundredths(hours) * 25n);
  const fact: RewardFact = {
    id: transfer.id, wallet: volunteer.account, activity: activity.id, category: activity.category,
    hours: hours === null ? 0n : hundredths(hours), amount, at: step_at, reversals: [],
  };
  reward_facts.push(fact);
  const entry = by_id.get(transfer.id);
  if (entry !== undefined) entry.reward = fact;
  return transfer;
}

async function reverse(transfer_id: string, memo?: string) {
  const reply = await t.request('POST', `/api/v1/transfers/${transfer_id}/reverse`, {
    token: t.adminToken, idempotencyKey: newKey(), body: memo === undefined ? {} : { memo },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const reversal = record(reply.body);
  // Walk up to the original to find what the reversal undoes (or redoes).
  let depth = 1;
  let root = by_id.get(transfer_id);
  let root_id = transfer_id;
  while (root?.code === 'reversal' && root.reverses !== undefined) {
    depth += 1;
    root_id = root.reverses;
    root = by_id.get(root_id);
  }
  const reversal_entry = by_id.get(reversal.id);
  if (reversal_entry !== undefined) reversal_entry.reverses = transfer_id;
  if (root?.reward !== undefined) root.reward.reversals.push(step_at);
  if (root?.shop_move !== undefined) {
    const original = root.shop_move;
    shop_moves.push({ ...original, sign: depth % 2 === 1 ? -original.sign : original.sign, at: step_at });
  }
  return reversal;
}

async function pay(payer: Volunteer, shop: { shop: ShopOut; tablet: Tablet }, amount: string) {
  const reply = await charge(t, shop.tablet, { card: payer.code, pin: payer.pin, amount });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const transfer = record(reply.body);
  const move: ShopMove = { shop: shop.shop.account, kind: 'payment', sign: 1n, amount: minor(amount), at: step_at };
  shop_moves.push(move);
  const entry = by_id.get(transfer.id);
  if (entry !== undefined) entry.shop_move = move;
  return transfer;
}

async function refundOf(shop: { shop: ShopOut; tablet: Tablet }, payment_id: string, amount: string) {
  const reply = await refund(t, shop.tablet, payment_id, amount);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  record(reply.body);
  shop_moves.push({ shop: shop.shop.account, kind: 'refund', sign: 1n, amount: minor(amount), at: step_at });
}

async function requestCashOut(shop: { shop: ShopOut; tablet: Tablet }, amount: string): Promise<{ id: string; fact: RedemptionFact }> {
  const reply = await redeem(t, shop.tablet, amount);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  const fact: RedemptionFact = { shop: shop.shop.account, amount: minor(amount), requested_at: step_at, decided_at: null, status: 'pending' };
  redemption_facts.push(fact);
  // The pending transfer reserves coins but posts nothing until it is approved.
  made.push({ code: 'redemption', phase: 'pending', status: 'pending', amount: minor(amount), at: step_at });
  return { id: reply.body.id as string, fact };
}

async function decide(redemption: { id: string; fact: RedemptionFact }, decision: 'approve' | 'reject') {
  const reply = await t.request('POST', `/api/v1/redemptions/${redemption.id}/${decision}`, { token: coordinator.token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const { fact } = redemption;
  fact.decided_at = step_at;
  fact.status = decision === 'approve' ? 'approved' : 'rejected';
  const pending = made.find((m) => m.code === 'redemption' && m.phase === 'pending' && m.at === fact.requested_at && m.amount === fact.amount && m.status === 'pending');
  if (pending === undefined) throw new Error('the pending cash-out is in the model');
  pending.status = decision === 'approve' ? 'posted' : 'voided';
  made.push({ code: 'redemption', phase: decision === 'approve' ? 'post' : 'void', status: decision === 'approve' ? 'posted' : 'voided', amount: fact.amount, at: step_at });
  if (decision === 'approve') {
    posted.push({ code: 'redemption', debit: fact.shop, credit: accounts.issuance, amount: fact.amount, at: step_at });
  }
}

// Expected reports, from the model ------------------------------------------------------------

interface VolMeasures { hours: bigint; coins: bigint; rewards: bigint; volunteers: Set<string>; first_time: Set<string> }

const stands = (fact: RewardFact) => fact.reversals.length % 2 === 0;

function expectedVolunteering(from: string, to: string, group: 'activity' | 'category' | 'month') {
  const groups = new Map<string, VolMeasures>();
  const totals: VolMeasures = { hours: 0n, coins: 0n, rewards: 0n, volunteers: new Set(), first_time: new Set() };
  const bucket = (fact: RewardFact, when: Date) => {
    const key = group === 'activity' ? fact.activity : group === 'category' ? fact.category : monthOf(when);
    let m = groups.get(key);
    if (m === undefined) {
      m = { hours: 0n, coins: 0n, rewards: 0n, volunteers: new Set(), first_time: new Set() };
      groups.set(key, m);
    }
    return m;
  };
  // Each wallet's first reward that still stands.
  const firsts = new Map<string, RewardFact>();
  for (const fact of [...reward_facts].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (stands(fact) && !firsts.has(fact.wallet)) firsts.set(fact.wallet, fact);
  }
  const add = (m: VolMeasures, sign: bigint, fact: RewardFact) => {
    m.hours += sign * fact.hours;
    m.coins += sign * fact.amount;
    m.rewards += sign;
  };
  for (const fact of reward_facts) {
    if (inPeriod(fact.at, from, to)) {
      for (const m of [bucket(fact, fact.at), totals]) {
        add(m, 1n, fact);
        if (stands(fact)) m.volunteers.add(fact.wallet);
        if (firsts.get(fact.wallet) === fact) m.first_time.add(fact.wallet);
      }
    }
    fact.reversals.forEach((when, index) => {
      if (inPeriod(when, from, to)) {
        for (const m of [bucket(fact, when), totals]) add(m, index % 2 === 0 ? -1n : 1n, fact);
      }
    });
  }
  const present = (m: VolMeasures) => ({
    hours: money(m.hours), coins: money(m.coins), rewards: Number(m.rewards),
    volunteers: m.volunteers.size, first_time_volunteers: m.first_time.size,
  });
  return {
    items: new Map([...groups].map(([key, m]) => [key, present(m)])),
    totals: present(totals),
  };
}

interface ShopMeasures { payments: bigint; takings: bigint; refunds: bigint; requested: bigint; approved: bigint; rejected: bigint; euros: bigint }

function expectedShops(from: string, to: string) {
  const rows = new Map<string, ShopMeasures>();
  const totals: ShopMeasures = { payments: 0n, takings: 0n, refunds: 0n, requested: 0n, approved: 0n, rejected: 0n, euros: 0n };
  const bucket = (shop: string, when: Date) => {
    const key = `${shop}|${monthOf(when)}`;
    let m = rows.get(key);
    if (m === undefined) {
      m = { payments: 0n, takings: 0n, refunds: 0n, requested: 0n, approved: 0n, rejected: 0n, euros: 0n };
      rows.set(key, m);
    }
    return [m, totals];
  };
  for (const move of shop_moves) {
    if (!inPeriod(move.at, from, to)) continue;
    for (const m of bucket(move.shop, move.at)) {
      if (move.kind === 'payment') {
        m.payments += move.sign;
        m.takings += move.sign * move.amount;
      } else {
        m.refunds += move.sign * move.amount;
      }
    }
  }
  for (const r of redemption_facts) {
    if (inPeriod(r.requested_at, from, to)) for (const m of bucket(r.shop, r.requested_at)) m.requested += r.amount;
    if (r.decided_at !== null && inPeriod(r.decided_at, from, to)) {
      for (const m of bucket(r.shop, r.decided_at)) {
        if (r.status === 'approved') {
          m.approved += r.amount;
          m.euros += r.amount / 10n;
        } else {
          m.rejected += r.amount;
        }
      }
    }
  }
  const present = (m: ShopMeasures) => ({
    payments: Number(m.payments), takings: money(m.takings), refunds: money(m.refunds), net: money(m.takings - m.refunds),
    redemptions_requested: money(m.requested), redemptions_approved: money(m.approved),
    redemptions_rejected: money(m.rejected), euros_paid_out: money(m.euros),
  });
  return { items: new Map([...rows].map(([key, m]) => [key, present(m)])), totals: present(totals), rows, present };
}

/** The test's own shop sums, added up per shop (`part` 0 of the key) or per month (`part` 1). */
function expectedShopsBy(from: string, to: string, part: 0 | 1) {
  const { rows, totals, present } = expectedShops(from, to);
  const sums = new Map<string, ShopMeasures>();
  for (const [key, m] of rows) {
    const group = key.split('|')[part] ?? '';
    const sum = sums.get(group) ?? { payments: 0n, takings: 0n, refunds: 0n, requested: 0n, approved: 0n, rejected: 0n, euros: 0n };
    for (const field of Object.keys(sum) as Array<keyof ShopMeasures>) sum[field] += m[field];
    sums.set(group, sum);
  }
  return { items: new Map([...sums].map(([key, m]) => [key, present(m)])), totals };
}

/** Balance of every account the test touched, at the end of a local day. */
function expectedBalances(day: string): Map<string, bigint> {
  const before = localMidnight(nextDay(day));
  const balances = new Map<string, bigint>();
  for (const p of posted) {
    if (p.at >= before) continue;
    balances.set(p.debit, (balances.get(p.debit) ?? 0n) - p.amount);
    balances.set(p.credit, (balances.get(p.credit) ?? 0n) + p.amount);
  }
  return balances;
}

function expectedSupply(day: string) {
  const before = localMidnight(nextDay(day));
  const balances = expectedBalances(day);
  const sumOf = (ids: string[]) => ids.reduce((s, id) => s + (balances.get(id) ?? 0n), 0n);
  const issued = posted.filter((p) => p.at < before && p.debit === accounts.issuance).reduce((s, p) => s + p.amount, 0n);
  const redeemed = posted.filter((p) => p.at < before && p.credit === accounts.issuance).reduce((s, p) => s + p.amount, 0n);
  const in_wallets = sumOf([accounts.p1.account, accounts.p2.account, ...accounts.volunteers.map((v) => v.account)]);
  const in_shops = sumOf([accounts.s1.shop.account, accounts.s2.shop.account, accounts.stall]);
  return {
    issued: money(issued), redeemed: money(redeemed), in_programmes: money(sumOf([accounts.programme])),
    in_wallets: money(in_wallets), in_shops: money(in_shops), circulating: money(in_wallets + in_shops),
    euro_liability: euros(in_wallets + in_shops),
  };
}

// CSV ------------------------------------------------------------------------------------

/** An RFC 4180 reader (quoted fields, doubled quotes, CRLF records), written for the test. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { record.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i++; }
    else field += ch;
  }
  expect(field, 'the file ends with CRLF').toBe('');
  expect(record).toEqual([]);
  return records;
}

/** The records of a CSV as objects keyed by the header. */
function csvObjects(text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) throw new Error('no header');
  return rows.map((row) => {
    expect(row.length).toBe(header.length);
    return Object.fromEntries(header.map((name, i) => [name, row[i] ?? '']));
  });
}

async function getCsv(path: string, token = coordinator.token): Promise<{ reply: Reply; rows: Array<Record<string, string>> }> {
  const reply = await t.request('GET', path, { token });
  expect(reply.status, String(reply.body)).toBe(200);
  expect(reply.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  expect(reply.headers.get('content-disposition')).toMatch(/^attachment; filename="[A-Za-z0-9-]+\.csv"$/);
  return { reply, rows: csvObjects(reply.body as string) };
}

async function getJson(path: string, token = coordinator.token): Promise<any> {
  const reply = await t.request('GET', path, { token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

// The history -------------------------------------------------------------------------------

beforeAll(async () => {
  t = await createTestApp();
  currency = await createCurrency(t, CODE);
  const other = await createCurrency(t, OTHER);
  coordinator = await t.createStaff('coordinator', [currency.id]);
  other_coordinator = await t.createStaff('coordinator', [other.id]);

  const a = await activityOf(t, CODE, 'repair_cafe');
  const b = await activityOf(t, CODE, 'it_repair');
  const c = await activityOf(t, CODE, 'buurtbeheer');
  const programme = await programmeOf(t, CODE);
  // A second activity in the repair café category, paid a fixed amount, so categories and activities differ.
  const created = await t.request('POST', `/api/v1/currencies/${CODE}/activities`, {
    token: coordinator.token,
    body: { name: { nl: 'Fietsherstel', en: 'Bike repair', fr: 'Réparation vélo' }, category: 'repair_cafe', amount: '10.00', programme_account: programme },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  activities = { a, b, c, f: created.body };

  const volunteers: Volunteer[] = [];
  for (let i = 1; i <= 8; i++) volunteers.push(await registerVolunteer(t, CODE, { name: `V${i}` }));
  accounts = {
    issuance: currency.issuance_account, programme,
    p1: await registerVolunteer(t, CODE, { name: 'P1' }), p2: await registerVolunteer(t, CODE, { name: 'P2' }),
    volunteers,
    s1: await shopWithTablet(t, CODE, { name: 'Bakkerij Zon' }),
    s2: await shopWithTablet(t, CODE, { name: 'Fietsen, Hersteld' }),
    stall: await openAccount(t, CODE, 'shop', 'Marktkraam'),
  };
  // Every account existed before the history starts.
  await t.sql`UPDATE accounts SET created_at = '2023-12-01T00:00:00Z' WHERE currency_id = ${currency.id}`;

  const [v1, v2, v3, v4, v5, v6, v7, v8] = volunteers as [Volunteer, Volunteer, Volunteer, Volunteer, Volunteer, Volunteer, Volunteer, Volunteer];
  const { p1, p2, s1, s2 } = accounts;

  await at('2024-01-02T09:00:00Z', async () => {
    await fund(t, CODE, programme, '2000.00');
    posted.push({ code: 'budget', debit: accounts.issuance, credit: programme, amount: minor('2000.00'), at: step_at });
    made.push({ code: 'budget', phase: 'single', status: 'posted', amount: minor('2000.00'), at: step_at });
    await issueTo(p1.account, '100.00');
    await issueTo(p2.account, '60.00');
  });
  await at('2024-01-10T10:00:00Z', async () => {
    await reward(v1, a, '2.00');
    await reward(v2, b, '1.50');
  });
  const p1_jan = await at('2024-01-12T12:00:00Z', () => pay(p1, s1, '12.00'));
  const p2_jan = await at('2024-01-12T12:30:00Z', () => pay(p2, s2, '5.00'));
  const v8_reward = await at('2024-01-15T10:00:00Z', () => reward(v8, a, '1.00'));
  const v8_reversal = await at('2024-01-16T10:00:00Z', () => reverse(v8_reward.id, 'wrong card, sorry'));
  const v4_reward = await at('2024-01-20T10:00:00Z', async () => {
    await reward(v1, activities.f, null);
    return reward(v4, c, '1.00');
  });
  await at('2024-01-25T15:00:00Z', () => refundOf(s1, p1_jan.id, '2.00'));
  // 00:30 on 1 February in Belgium: February, not January.
  await at('2024-01-31T23:30:00Z', () => reward(v3, a, '3.00'));
  await at('2024-02-02T10:00:00Z', () => reverse(v8_reversal.id, 'it was the right card after all'));
  await at('2024-02-03T10:00:00Z', () => pay(p1, s1, '8.00'));
  await at('2024-02-05T10:00:00Z', async () => {
    await reverse(v4_reward.id);
    await reward(v1, b, '1.00');
  });
  await at('2024-02-06T10:00:00Z', () => reverse(p2_jan.id));
  await at('2024-02-08T10:00:00Z', () => pay(p2, s2, '6.00'));
  const [cash_s1, cash_s2] = await at('2024-02-10T10:00:00Z', async () => [await requestCashOut(s1, '15.00'), await requestCashOut(s2, '4.00')]);
  await at('2024-02-11T10:00:00Z', async () => {
    await decide(cash_s1!, 'approve');
    await decide(cash_s2!, 'reject');
  });
  await at('2024-02-13T10:00:00Z', async () => {
    // A coordinator's correction into a shop is an adjustment: coins move, takings do not.
    record(await transfer(t, CODE, p1.account, accounts.stall, '4.00', { transfer_code: 'adjustment' }));
  });
  await at('2024-02-14T10:00:00Z', async () => {
    await reward(v2, activities.f, null);
    await reward(v5, c, '0.50');
  });
  const v7_reward = await at('2024-02-20T10:00:00Z', () => reward(v7, a, '1.00'));
  await at('2024-02-21T10:00:00Z', () => reverse(v7_reward.id));
  // 00:30 on 1 March in Belgium.
  await at('2024-02-29T23:30:00Z', async () => {
    await pay(p2, s2, '3.00');
    await reward(v6, a, '1.25');
  });
  await at('2024-03-12T10:00:00Z', () => requestCashOut(s2, '2.00'));
  // Today.
  await at(null, async () => {
    await reward(v1, a, '1.00');
    await pay(p1, s1, '1.00');
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

// Supply and balances at a date ----------------------------------------------------------------

describe('supply at a date', () => {
  it.each(['2024-01-01', '2024-01-31', '2024-02-10', '2024-02-29', '2024-03-31'])(
    'at the end of %s equals the sums of the test\'s own transfers before the next local midnight', async (day) => {
      const body = await getJson(`/api/v1/currencies/${CODE}/reports/supply?at=${day}`);
      expect(body).toEqual({ currency: CODE, at: day, ...expectedSupply(day) });
    });

  it('at the end of today equals GET /supply, computed from the account counters instead of the entries', async () => {
    const report = await getJson(`/api/v1/currencies/${CODE}/reports/supply`);
    const live = await getJson(`/api/v1/currencies/${CODE}/supply`);
    expect(report).toEqual({ currency: CODE, at: today, ...live });
    expect(report).toMatchObject(expectedSupply(today));
  });

  it('before any history everything is zero, and the 1 February 00:30 reward is not yet in 31 January', async () => {
    const before = await getJson(`/api/v1/currencies/${CODE}/reports/supply?at=2023-12-31`);
    expect(before).toMatchObject({ issued: '0.00', redeemed: '0.00', in_wallets: '0.00', circulating: '0.00', euro_liability: '0.00' });
    const jan31 = await getJson(`/api/v1/currencies/${CODE}/reports/supply?at=2024-01-31`);
    const feb1 = await getJson(`/api/v1/currencies/${CODE}/reports/supply?at=2024-02-01`);
    // V3's 75.00 reward (local 1 February 00:30) moves from the programme to a wallet on 1 February.
    expect(minor(feb1.in_programmes) - minor(jan31.in_programmes)).toBe(-minor('75.00'));
    expect(minor(feb1.in_wallets) - minor(jan31.in_wallets)).toBe(minor('75.00'));
  });
});

describe('circulation per month', () => {
  const supplyOnly = (supply: ReturnType<typeof expectedSupply>) => ({
    in_programmes: supply.in_programmes, in_wallets: supply.in_wallets, in_shops: supply.in_shops,
    circulating: supply.circulating, euro_liability: supply.euro_liability,
  });

  it('January–March 2024: each month\'s end equals the sums of the test\'s own transfers before it', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/circulation?from=2024-01-01&to=2024-03-31`);
    expect(body).toEqual({
      currency: CODE, from: '2024-01-01', to: '2024-03-31',
      months: [['2024-01', '2024-01-31'], ['2024-02', '2024-02-29'], ['2024-03', '2024-03-31']]
        .map(([month, at]) => ({ month, at, ...supplyOnly(expectedSupply(at!)) })),
    });
    // It moved: the months are not all the same.
    expect(new Set(body.months.map((m: any) => m.circulating)).size).toBeGreaterThan(1);
  });

  it('a period from the middle of a month to the middle of another counts its last month at its last day', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/circulation?from=2024-02-07&to=2024-03-12`);
    expect(body.months).toEqual([
      { month: '2024-02', at: '2024-02-29', ...supplyOnly(expectedSupply('2024-02-29')) },
      { month: '2024-03', at: '2024-03-12', ...supplyOnly(expectedSupply('2024-03-12')) },
    ]);
  });

  it('this year runs up to this month, counted today, which equals GET /supply; later months are left out', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/circulation`);
    const month = Number(today.slice(5, 7));
    expect(body.months.map((m: any) => m.month)).toEqual(
      Array.from({ length: month }, (_, i) => `${today.slice(0, 4)}-${String(i + 1).padStart(2, '0')}`));
    const live = await getJson(`/api/v1/currencies/${CODE}/supply`);
    expect(body.months.at(-1)).toEqual({
      month: today.slice(0, 7), at: today, in_programmes: live.in_programmes, in_wallets: live.in_wallets, in_shops: live.in_shops,
      circulating: live.circulating, euro_liability: live.euro_liability,
    });
    const next_year = `${Number(today.slice(0, 4)) + 1}`;
    expect((await getJson(`/api/v1/currencies/${CODE}/reports/circulation?from=${next_year}-01-01`)).months).toEqual([]);
  });

  it('circulation.csv parses back to the JSON report', async () => {
    const json = await getJson(`/api/v1/currencies/${CODE}/reports/circulation?from=2024-01-01&to=2024-03-31`);
    const { reply, rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/circulation.csv?from=2024-01-01&to=2024-03-31`);
    expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="circulation-${CODE}-2024-01-01-2024-03-31.csv"`);
    expect(rows).toEqual(json.months);
  });
});

describe('balances at a date', () => {
  it.each(['2024-01-12', '2024-01-31', '2024-02-10', '2024-02-11', '2024-03-01'])(
    'every account\'s balance at the end of %s is the running balance of the test\'s transfers', async (day) => {
      const body = await getJson(`/api/v1/currencies/${CODE}/reports/balances?at=${day}`);
      const expected = expectedBalances(day);
      const accounts_in_currency = await t.sql<{ id: string }[]>`SELECT id FROM accounts WHERE currency_id = ${currency.id}`;
      expect(body.items).toHaveLength(accounts_in_currency.length);
      for (const item of body.items) expect([item.account, item.balance]).toEqual([item.account, money(expected.get(item.account) ?? 0n)]);
      const total = (kind: string) => money(body.items.filter((i: any) => i.kind === kind).reduce((s: bigint, i: any) => s + minor(i.balance), 0n));
      expect(body.totals).toEqual({ issuance: total('issuance'), programmes: total('programme'), shops: total('shop'), wallets: total('wallet') });
      // Whatever the day, the coins add up to nothing: what issuance owes is held somewhere.
      expect(body.items.reduce((s: bigint, i: any) => s + minor(i.balance), 0n)).toBe(0n);
    });

  it('S1 on the day of its approved cash-out: 10.00 + 8.00 − 15.00; S2 keeps its rejected 4.00', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/balances?at=2024-02-11`);
    const balance = (id: string) => body.items.find((i: any) => i.account === id)?.balance;
    expect(balance(accounts.s1.shop.account)).toBe('3.00');
    expect(balance(accounts.s2.shop.account)).toBe('6.00');
    expect(body.items.find((i: any) => i.account === accounts.s1.shop.account)).toMatchObject({ kind: 'shop', name: 'Bakkerij Zon', status: 'active' });
  });

  it('today\'s balances equal the live balances of GET /accounts/{id}', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/balances?at=${today}`);
    for (const item of body.items) {
      const live = await getJson(`/api/v1/accounts/${item.account}`);
      expect([item.account, item.balance]).toEqual([item.account, live.balance]);
    }
  });

  it('accounts opened after the day are not listed', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/balances?at=2023-11-30`);
    expect(body.items).toEqual([]);
    expect(body.totals).toEqual({ issuance: '0.00', programmes: '0.00', shops: '0.00', wallets: '0.00' });
  });

  it('balances.csv streams the same rows as the JSON report', async () => {
    const json = await getJson(`/api/v1/currencies/${CODE}/reports/balances?at=2024-02-29`);
    const { reply, rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/balances.csv?at=2024-02-29`);
    expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="balances-${CODE}-2024-02-29.csv"`);
    expect(rows).toEqual(json.items.map((i: any) => ({ account_id: i.account, kind: i.kind, name: i.name, status: i.status, balance: i.balance })));
    // The shop name with a comma survives the round trip.
    expect(rows.map((r) => r.name)).toContain('Fietsen, Hersteld');
  });
});

// Volunteering -----------------------------------------------------------------------------

describe('volunteering report', () => {
  const periods: Array<[string, string]> = [['2024-01-01', '2024-01-31'], ['2024-02-01', '2024-02-29'], ['2024-03-01', '2024-03-31'], ['2024-01-01', '2024-03-31'], ['2024-01-16', '2024-02-05']];
  for (const group of ['activity', 'category', 'month'] as const) {
    it.each(periods)(`per ${group}, %s … %s: every group and the totals equal the test's own count`, async (from, to) => {
      const body = await getJson(`/api/v1/currencies/${CODE}/reports/volunteering?from=${from}&to=${to}&group=${group}`);
      const expected = expectedVolunteering(from, to, group);
      expect(body).toMatchObject({ currency: CODE, from, to, group });
      expect(body.totals).toEqual(expected.totals);
      const got = new Map(body.items.map((i: any) => [i.key, { hours: i.hours, coins: i.coins, rewards: i.rewards, volunteers: i.volunteers, first_time_volunteers: i.first_time_volunteers }]));
      expect(got).toEqual(expected.items);
      // The groups add up to the totals (except distinct volunteers, who may be in several groups).
      const sum = (field: string) => money(body.items.reduce((s: bigint, i: any) => s + minor(i[field]), 0n));
      expect(sum('coins')).toBe(body.totals.coins);
      expect(sum('hours')).toBe(body.totals.hours);
      expect(body.items.reduce((s: number, i: any) => s + i.first_time_volunteers, 0)).toBe(body.totals.first_time_volunteers);
    });
  }

  it('first-time volunteers across period boundaries: January 3, February 2 (V3, V5), March 1 (V6), January–March 6', async () => {
    const first = async (from: string, to: string) =>
      (await getJson(`/api/v1/currencies/${CODE}/reports/volunteering?from=${from}&to=${to}`)).totals.first_time_volunteers;
    expect(await first('2024-01-01', '2024-01-31')).toBe(3);
    expect(await first('2024-02-01', '2024-02-29')).toBe(2);
    expect(await first('2024-03-01', '2024-03-31')).toBe(1);
    expect(await first('2024-01-01', '2024-03-31')).toBe(6);
    // V1 volunteers again this year, but is not new.
    const this_year = await getJson(`/api/v1/currencies/${CODE}/reports/volunteering`);
    expect(this_year).toMatchObject({ from: `${today.slice(0, 4)}-01-01`, to: `${today.slice(0, 4)}-12-31` });
    expect(this_year.totals).toEqual({ hours: '1.00', coins: '25.00', rewards: 1, volunteers: 1, first_time_volunteers: 0 });
  });

  it('a reversed reward takes its coins, hours and count back in the month of the reversal; a reversed reversal gives them again', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/volunteering?from=2024-01-01&to=2024-02-29&group=month`);
    const jan = body.items.find((i: any) => i.key === '2024-01');
    const feb = body.items.find((i: any) => i.key === '2024-02');
    // January: V1 2h 50 + V2 1.5h 37.50 + V8 1h 25 − V8 reversed 25 + V1 fixed 10 + V4 1h 25.
    expect(jan).toMatchObject({ hours: '4.50', coins: '122.50', rewards: 4, volunteers: 3, first_time_volunteers: 3 });
    // February: V3 3h 75, V8 again +25, V4 reversed −25, V1 1h 25, V2 fixed 10, V5 0.5h 12.50, V7 ±25.
    expect(feb).toMatchObject({ hours: '4.50', coins: '122.50', rewards: 4, volunteers: 4, first_time_volunteers: 2 });
  });

  it('per activity it names the activity in three languages and its category; per category the two repair café activities add up', async () => {
    const by_activity = await getJson(`/api/v1/currencies/${CODE}/reports/volunteering?from=2024-01-01&to=2024-03-31&group=activity`);
    const bike = by_activity.items.find((i: any) => i.key === activities.f.id);
    expect(bike.activity).toEqual({ id: activities.f.id, name: { nl: 'Fietsherstel', en: 'Bike repair', fr: 'Réparation vélo' }, category: 'repair_cafe' });
    expect(bike).toMatchObject({ hours: '0.00', coins: '20.00', rewards: 2, volunteers: 2 });
    const cafe = by_activity.items.find((i: any) => i.key === activities.a.id);
    const by_category = await getJson(`/api/v1/currencies/${CODE}/reports/volunteering?from=2024-01-01&to=2024-03-31&group=category`);
    const repair = by_category.items.find((i: any) => i.key === 'repair_cafe');
    expect(minor(repair.coins)).toBe(minor(cafe.coins) + minor(bike.coins));
    expect(by_category.items.every((i: any) => !('activity' in i))).toBe(true);
  });

  it('holds aggregates only: no wallet ids and no volunteer names anywhere in the report or its CSV', async () => {
    const query = 'from=2024-01-01&to=2024-12-31';
    const texts: string[] = [];
    for (const group of ['activity', 'category', 'month']) {
      texts.push(JSON.stringify(await getJson(`/api/v1/currencies/${CODE}/reports/volunteering?${query}&group=${group}`)));
      texts.push((await t.request('GET', `/api/v1/currencies/${CODE}/exports/volunteering.csv?${query}&group=${group}`, { token: coordinator.token })).body as string);
    }
    for (const text of texts) {
      for (const v of [...accounts.volunteers, accounts.p1, accounts.p2]) {
        expect(text).not.toContain(v.account);
        expect(text).not.toMatch(new RegExp(`\\b${v.name}\\b`));
      }
    }
  });

  it.each(['activity', 'category', 'month'] as const)('volunteering.csv per %s parses back to the JSON report, with a last row "total"', async (group) => {
    const query = `from=2024-01-01&to=2024-03-31&group=${group}`;
    const json = await getJson(`/api/v1/currencies/${CODE}/reports/volunteering?${query}`);
    const { reply, rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/volunteering.csv?${query}`);
    expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="volunteering-${CODE}-${group}-2024-01-01-2024-03-31.csv"`);
    const measures = (m: any) => ({ hours: m.hours, coins: m.coins, rewards: String(m.rewards), volunteers: String(m.volunteers), first_time_volunteers: String(m.first_time_volunteers) });
    const key_column = group === 'activity' ? 'activity_id' : group;
    expect(rows.at(-1)).toMatchObject({ [key_column]: 'total', ...measures(json.totals) });
    expect(rows.slice(0, -1)).toEqual(json.items.map((i: any) => ({
      ...(group === 'activity'
        ? { activity_id: i.key ?? '', activity_nl: i.activity?.name.nl ?? '', activity_en: i.activity?.name.en ?? '', activity_fr: i.activity?.name.fr ?? '', category: i.activity?.category ?? '' }
        : { [group]: i.key ?? '' }),
      ...measures(i),
    })));
    // And to the test's own numbers.
    const expected = expectedVolunteering('2024-01-01', '2024-03-31', group);
    for (const row of rows.slice(0, -1)) expect(measures(expected.items.get(row[key_column]!))).toEqual(measures(row));
  });
});

// Shops ------------------------------------------------------------------------------------

describe('shops report', () => {
  it.each([['2024-01-01', '2024-01-31'], ['2024-02-01', '2024-02-29'], ['2024-01-01', '2024-03-31'], ['2024-02-07', '2024-03-12']])(
    '%s … %s: per shop and month, and the totals, equal the test\'s own sums', async (from, to) => {
      const body = await getJson(`/api/v1/currencies/${CODE}/reports/shops?from=${from}&to=${to}`);
      const expected = expectedShops(from, to);
      expect(body.totals).toEqual(expected.totals);
      const got = new Map(body.items.map((i: any) => {
        const { shop, month, ...measures } = i;
        return [`${shop.account}|${month}`, measures];
      }));
      expect(got).toEqual(expected.items);
    });

  it('names the numbers: S1 in January took 12.00 and refunded 2.00; S2 in February had its January payment reversed', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/shops?from=2024-01-01&to=2024-03-31`);
    const row = (shop: string, month: string) => body.items.find((i: any) => i.shop.account === shop && i.month === month);
    expect(row(accounts.s1.shop.account, '2024-01')).toEqual({
      shop: { account: accounts.s1.shop.account, name: 'Bakkerij Zon' }, month: '2024-01',
      payments: 1, takings: '12.00', refunds: '2.00', net: '10.00',
      redemptions_requested: '0.00', redemptions_approved: '0.00', redemptions_rejected: '0.00', euros_paid_out: '0.00',
    });
    expect(row(accounts.s1.shop.account, '2024-02')).toMatchObject({ takings: '8.00', redemptions_requested: '15.00', redemptions_approved: '15.00', euros_paid_out: '1.50' });
    expect(row(accounts.s2.shop.account, '2024-02')).toMatchObject({ payments: 0, takings: '1.00', redemptions_requested: '4.00', redemptions_rejected: '4.00', euros_paid_out: '0.00' });
    // The 23:30 UTC payment of 29 February is a March payment in Belgium.
    expect(row(accounts.s2.shop.account, '2024-03')).toMatchObject({ payments: 1, takings: '3.00', redemptions_requested: '2.00' });
    expect(body.items.map((i: any) => i.month)).not.toContain('2024-04');
    // A coordinator's adjustment into a shop account is no taking (payments come only from wallets' own paths).
    expect(row(accounts.stall, '2024-02')?.payments ?? 0).toBe(0);
    expect(row(accounts.stall, '2024-02')?.takings ?? '0.00').toBe('0.00');
  });

  it.each([['2024-01-01', '2024-03-31'], ['2024-02-07', '2024-03-12']])(
    '%s … %s per shop (group=shop) and per month (group=month): the test\'s own sums added up, the same totals', async (from, to) => {
      const per_shop = await getJson(`/api/v1/currencies/${CODE}/reports/shops?from=${from}&to=${to}&group=shop`);
      const expected_shop = expectedShopsBy(from, to, 0);
      expect(per_shop.group).toBe('shop');
      expect(per_shop.items.every((i: any) => i.month === undefined && typeof i.shop.name === 'string')).toBe(true);
      expect(new Map(per_shop.items.map(({ shop, ...m }: any) => [shop.account, m]))).toEqual(expected_shop.items);
      expect(per_shop.totals).toEqual(expected_shop.totals);

      const per_month = await getJson(`/api/v1/currencies/${CODE}/reports/shops?from=${from}&to=${to}&group=month`);
      const expected_month = expectedShopsBy(from, to, 1);
      expect(per_month.group).toBe('month');
      expect(per_month.items.every((i: any) => i.shop === undefined)).toBe(true);
      expect(per_month.items.map((i: any) => i.month)).toEqual([...expected_month.items.keys()].sort());
      expect(new Map(per_month.items.map(({ month, ...m }: any) => [month, m]))).toEqual(expected_month.items);
      expect(per_month.totals).toEqual(expected_month.totals);
    });

  it('per shop: S1 over January–March took 20.00, refunded 2.00, and was paid 1.50 € for its cash-out', async () => {
    const body = await getJson(`/api/v1/currencies/${CODE}/reports/shops?from=2024-01-01&to=2024-03-31&group=shop`);
    expect(body.items.find((i: any) => i.shop.account === accounts.s1.shop.account)).toMatchObject({
      shop: { account: accounts.s1.shop.account, name: 'Bakkerij Zon' },
      takings: '20.00', refunds: '2.00', net: '18.00', redemptions_approved: '15.00', euros_paid_out: '1.50',
    });
  });

  it.each(['shop', 'month'])('shops.csv?group=%s has only that key\'s columns and parses back to the JSON report', async (group) => {
    const query = `from=2024-01-01&to=2024-03-31&group=${group}`;
    const json = await getJson(`/api/v1/currencies/${CODE}/reports/shops?${query}`);
    const { reply, rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/shops.csv?${query}`);
    expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="shops-${CODE}-${group}-2024-01-01-2024-03-31.csv"`);
    const measures = (m: any) => ({
      payments: String(m.payments), takings: m.takings, refunds: m.refunds, net: m.net, redemptions_requested: m.redemptions_requested,
      redemptions_approved: m.redemptions_approved, redemptions_rejected: m.redemptions_rejected, euros_paid_out: m.euros_paid_out,
    });
    const keys = (i: any) => (group === 'shop' ? { shop_account_id: i.shop.account, shop_name: i.shop.name } : { month: i.month });
    const total = group === 'shop' ? { shop_account_id: 'total', shop_name: '' } : { month: 'total' };
    expect(rows).toEqual([...json.items.map((i: any) => ({ ...keys(i), ...measures(i) })), { ...total, ...measures(json.totals) }]);
    expect(json.items.length).toBeGreaterThan(1);
  });

  it('shops.csv parses back to the JSON report, with a last row "total"', async () => {
    const json = await getJson(`/api/v1/currencies/${CODE}/reports/shops?from=2024-01-01&to=2024-03-31`);
    const { reply, rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/shops.csv?from=2024-01-01&to=2024-03-31`);
    expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="shops-${CODE}-2024-01-01-2024-03-31.csv"`);
    const measures = (m: any) => ({
      payments: String(m.payments), takings: m.takings, refunds: m.refunds, net: m.net, redemptions_requested: m.redemptions_requested,
      redemptions_approved: m.redemptions_approved, redemptions_rejected: m.redemptions_rejected, euros_paid_out: m.euros_paid_out,
    });
    expect(rows).toEqual([
      ...json.items.map((i: any) => ({ shop_account_id: i.shop.account, shop_name: i.shop.name, month: i.month, ...measures(i) })),
      { shop_account_id: 'total', shop_name: '', month: '', ...measures(json.totals) },
    ]);
    expect(rows.at(-1)?.takings).toBe(expectedShops('2024-01-01', '2024-03-31').totals.takings);
  });
});

// Transfers export ---------------------------------------------------------------------------

describe('transfers.csv', () => {
  it.each([['2024-01-01', '2024-01-31'], ['2024-02-01', '2024-03-31'], ['2024-01-01', '2024-12-31']])(
    '%s … %s: exactly the transfers the test made in the period, oldest first, with phase, status and amount', async (from, to) => {
      const { reply, rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/transfers.csv?from=${from}&to=${to}`);
      expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="transfers-${CODE}-${from}-${to}.csv"`);
      const key = (r: { code: string; phase: string; status: string; amount: string; at: string }) => `${r.at} ${r.code} ${r.phase} ${r.status} ${r.amount}`;
      const expected = made.filter((m) => inPeriod(m.at, from, to))
        .map((m) => key({ code: m.code, phase: m.phase, status: m.status, amount: money(m.amount), at: m.at.toISOString() }))
        .sort();
      expect(rows.map((r) => key({ code: r.code!, phase: r.phase!, status: r.status!, amount: r.amount!, at: r.created_at! })).sort()).toEqual(expected);
      const times = rows.map((r) => r.created_at!);
      expect([...times].sort()).toEqual(times);
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    });

  it('names both accounts, keeps a memo with a comma intact, and the sums per code equal the test\'s own', async () => {
    const { rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/transfers.csv?from=2024-01-01&to=2024-03-31`);
    const reversal = rows.find((r) => r.memo === 'wrong card, sorry');
    expect(reversal).toMatchObject({
      code: 'reversal', debit_account_id: accounts.volunteers[7]!.account, debit_account_name: 'V8',
      credit_account_id: accounts.programme, credit_account_name: `Vrijwilligerswerk ${CODE}`, amount: '25.00', created_by: expect.stringMatching(/^user:/),
    });
    expect(reversal?.reverses_id).toMatch(/^[0-9a-f-]{36}$/);
    const sums = new Map<string, bigint>();
    for (const r of rows) sums.set(r.code!, (sums.get(r.code!) ?? 0n) + minor(r.amount!));
    const expected = new Map<string, bigint>();
    for (const m of made.filter((x) => inPeriod(x.at, '2024-01-01', '2024-03-31'))) expected.set(m.code, (expected.get(m.code) ?? 0n) + m.amount);
    expect(sums).toEqual(expected);
  });

  it('the default period is this year: only today\'s transfers', async () => {
    const { reply, rows } = await getCsv(`/api/v1/currencies/${CODE}/exports/transfers.csv`);
    const year = today.slice(0, 4);
    expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="transfers-${CODE}-${year}-01-01-${year}-12-31.csv"`);
    expect(rows.map((r) => `${r.code} ${r.amount}`).sort()).toEqual(['payment 1.00', 'reward 25.00']);
  });
});

describe('streaming', () => {
  let big_count = 0;
  let big_sum = 0n;

  beforeAll(async () => {
    const big = await createCurrency(t, BIG);
    const [wallet] = await t.sql<{ id: string }[]>`
      INSERT INTO accounts (currency_id, id, kind, name) VALUES (${big.id}, ${randomUUID()}, 'wallet', 'Big wallet') RETURNING id`;
    // 2,345 transfers (two and a bit cursor batches) straight into the ledger, with their entries.
    big_count = 2345;
    await t.sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`
        INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, memo, created_by, created_at)
        SELECT ${big.id}, gen_random_uuid(), ${big.issuance_account}, ${wallet!.id}, i, 'issue', 'single', 'seeded ' || i, 'test',
               '2024-06-01T00:00:00Z'::timestamptz + i * interval '1 second'
        FROM generate_series(1, ${big_count}) i`;
    });
    const [sum] = await t.sql<{ s: bigint }[]>`SELECT sum(amount)::bigint AS s FROM transfers WHERE currency_id = ${big.id}`;
    big_sum = sum!.s;
  });

  it('an export larger than one cursor batch arrives in several chunks, every row once, in order', async () => {
    const response = await t.app.request(`/api/v1/currencies/${BIG}/exports/transfers.csv?from=2024-01-01&to=2024-12-31`, {
      headers: { Authorization: `Bearer ${t.adminToken}` },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks += 1;
      text += decoder.decode(value, { stream: true });
    }
    // The header, then one write per batch of 1,000 rows.
    expect(chunks).toBeGreaterThanOrEqual(4);
    const rows = csvObjects(text);
    expect(rows).toHaveLength(big_count);
    expect(rows.reduce((s, r) => s + minor(r.amount!), 0n)).toBe(big_sum);
    expect(rows.map((r) => r.memo)).toEqual(Array.from({ length: big_count }, (_, i) => `seeded ${i + 1}`));
  });

  it('a client that goes away stops the export: the cursor is closed and its connection comes back', async () => {
    const response = await t.app.request(`/api/v1/currencies/${BIG}/exports/transfers.csv?from=2024-01-01&to=2024-12-31`, {
      headers: { Authorization: `Bearer ${t.adminToken}` },
    });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const busy = async () => (await t.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle' AND query LIKE '%AS credit_account_name%'`)[0]!.n;
    let n = await busy();
    for (let i = 0; i < 50 && n > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      n = await busy();
    }
    expect(n).toBe(0);
    // And the service still answers.
    expect((await t.request('GET', `/api/v1/currencies/${BIG}/reports/supply`, { token: t.adminToken })).status).toBe(200);
  });

  it('a client that goes away stops pulling rows at once and the row source is closed (its finally runs)', async () => {
    const app = new OpenAPIHono<AppEnv>();
    app.use('*', async (c, next) => {
      c.set('log', pino({ level: 'silent' }));
      await next();
    });
    let pulled = 0;
    let closed = false;
    app.get('/long.csv', (c) => streamCsv(c, 'long', { header: ['n'] }, (async function* () {
      try {
        for (let i = 0; i < 1000; i++) {
          pulled += 1;
          yield [[String(i)]];
        }
      } finally {
        closed = true;
      }
    })()));
    const response = await app.request('/long.csv');
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    for (let i = 0; i < 50 && !closed; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(true);
    // Backpressure: only the batches the client read, and a couple in flight, were ever produced.
    expect(pulled).toBeLessThan(10);
  });

  it('a failure midway aborts the response, so a cut-off file never looks complete', async () => {
    const app = new OpenAPIHono<AppEnv>();
    app.use('*', async (c, next) => {
      c.set('log', pino({ level: 'silent' }));
      await next();
    });
    app.get('/broken.csv', (c) => streamCsv(c, 'broken', { header: ['n'] }, (async function* () {
      yield [['1'], ['2']];
      throw new Error('the database went away');
    })()));
    const response = await app.request('/broken.csv');
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('a failure before the first row is a problem+json 500, not a 200 with an empty file', async () => {
    const app = new OpenAPIHono<AppEnv>();
    app.use('*', async (c, next) => {
      c.set('log', pino({ level: 'silent' }));
      await next();
    });
    app.onError((_error, c) => c.json({ failed: true }, 500));
    app.get('/broken.csv', (c) => streamCsv(c, 'broken', { header: ['n'] }, (async function* (): AsyncGenerator<string[][]> {
      throw new Error('the query failed');
    })()));
    const response = await app.request('/broken.csv');
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).not.toMatch(/text\/csv/);
  });
});

// Bad input and access -----------------------------------------------------------------------

describe('periods', () => {
  it('count each month of a period at its last day, the period\'s or today, and leave out months not begun', () => {
    expect(monthEnds({ from: '2024-11-15', to: '2025-02-10' }, '2025-01-20')).toEqual([
      { month: '2024-11', day: '2024-11-30' }, { month: '2024-12', day: '2024-12-31' }, { month: '2025-01', day: '2025-01-20' },
    ]);
    expect(monthEnds({ from: '2024-02-01', to: '2024-02-10' }, '2026-01-01')).toEqual([{ month: '2024-02', day: '2024-02-10' }]);
    expect(monthEnds({ from: '2023-02-01', to: '2023-02-28' }, '2023-03-01')).toEqual([{ month: '2023-02', day: '2023-02-28' }]);
    expect(monthEnds({ from: '2026-02-01', to: '2026-12-31' }, '2026-01-31')).toEqual([]);
    expect(monthEnds({ from: '2014-01-01', to: '2023-12-31' }, '2026-01-01')).toHaveLength(120);
  });

  it('default to the current year; a lone from or to takes the rest of its year; exactly ten years pass', () => {
    expect(parsePeriod({}, '2026-11-26')).toEqual({ from: '2026-01-01', to: '2026-12-31' });
    expect(parsePeriod({ from: '2025-03-04' }, '2026-11-26')).toEqual({ from: '2025-03-04', to: '2025-12-31' });
    expect(parsePeriod({ to: '2025-03-04' }, '2026-11-26')).toEqual({ from: '2025-01-01', to: '2025-03-04' });
    expect(parsePeriod({ from: '2014-01-01', to: '2023-12-31' })).toEqual({ from: '2014-01-01', to: '2023-12-31' });
    expect(parsePeriod({ from: '2024-02-29', to: '2024-02-29' })).toEqual({ from: '2024-02-29', to: '2024-02-29' });
    expect(() => parsePeriod({ from: '2014-01-01', to: '2024-01-01' })).toThrow(/10 years/);
  });

  const period_paths = [
    `/currencies/${CODE}/reports/volunteering`, `/currencies/${CODE}/reports/shops`,
    `/currencies/${CODE}/exports/transfers.csv`, `/currencies/${CODE}/exports/volunteering.csv`, `/currencies/${CODE}/exports/shops.csv`,
    `/currencies/${CODE}/reports/circulation`, `/currencies/${CODE}/exports/circulation.csv`,
  ];
  const bad_periods = [
    ['from after to', 'from=2024-03-01&to=2024-02-01', 'to'],
    ['more than ten years', 'from=2014-01-01&to=2024-01-01', 'to'],
    ['a day that does not exist', 'from=2023-02-29&to=2023-03-01', 'from'],
    ['a month that does not exist', 'from=2024-13-01', 'from'],
    ['not YYYY-MM-DD', 'from=2024-1-5', 'from'],
    ['a time instead of a day', 'to=2024-01-05T00:00:00Z', 'to'],
    ['a year before 1900', 'from=0001-01-01&to=0001-12-31', 'from'],
  ] as const;

  for (const path of period_paths) {
    it.each(bad_periods)(`${path}: %s is 422 naming the field, and writes nothing`, async (_what, query, field) => {
      const before = await rowCounts(t);
      const reply = await t.request('GET', `/api/v1${path}?${query}`, { token: coordinator.token });
      expectProblem(reply, 422, 'validation_failed');
      expect(reply.body.errors.map((e: any) => e.path)).toContain(field);
      expect(await rowCounts(t)).toEqual(before);
    });
  }

  it.each([
    ['reports/supply', 'at=2024-02-30'], ['reports/balances', 'at=24-01-01'], ['exports/balances.csv', 'at=2024-01-01x'],
    ['reports/volunteering', 'group=week'], ['exports/volunteering.csv', 'group='],
    ['reports/shops', 'group=week'], ['exports/shops.csv', 'group=SHOP'],
  ])('%s?%s is 422', async (path, query) => {
    const before = await rowCounts(t);
    expectProblem(await t.request('GET', `/api/v1/currencies/${CODE}/${path}?${query}`, { token: coordinator.token }), 422, 'validation_failed');
    expect(await rowCounts(t)).toEqual(before);
  });
});

describe('access', () => {
  const all_paths = [
    'reports/supply', 'reports/volunteering', 'reports/shops', 'reports/balances',
    'exports/transfers.csv', 'exports/balances.csv', 'exports/volunteering.csv', 'exports/shops.csv',
    'reports/liability', 'exports/liability.csv', 'reports/circulation', 'exports/circulation.csv',
  ];

  it.each(all_paths)('%s: another currency\'s coordinator is 403 and sees no numbers', async (path) => {
    const reply = await t.request('GET', `/api/v1/currencies/${CODE}/${path}?from=2024-01-01&to=2024-12-31`, { token: other_coordinator.token });
    expectProblem(reply, 403, 'forbidden');
    expect(JSON.stringify(reply.body)).not.toMatch(/[0-9]+\.[0-9]{2}/);
  });

  it.each(all_paths)('%s: an unknown currency is 404, no token is 401, a wallet is 403', async (path) => {
    expectProblem(await t.request('GET', `/api/v1/currencies/NOPE/${path}`, { token: coordinator.token }), 404, 'currency_not_found');
    expectProblem(await t.request('GET', `/api/v1/currencies/${CODE}/${path}`), 401, 'unauthenticated');
    const wallet_token = await openWallet(t, accounts.p1);
    expectProblem(await t.request('GET', `/api/v1/currencies/${CODE}/${path}`, { token: wallet_token }), 403, 'forbidden');
  });

  it('an admin may read every currency\'s reports; the coordinator\'s own currency works for them', async () => {
    expect((await t.request('GET', `/api/v1/currencies/${CODE}/reports/supply`, { token: t.adminToken })).status).toBe(200);
    expect((await t.request('GET', `/api/v1/currencies/${OTHER}/reports/supply`, { token: other_coordinator.token })).status).toBe(200);
  });
});
