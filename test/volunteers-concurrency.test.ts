/**
 * Issue #3, racing claims: once per wallet per session, never more than max_claims, and the legal
 * day and year caps hold when many claims of one volunteer arrive at the same moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import {
  activityOf, award, balanceOf, cappedVolunteer, claim, fund, openSession, openWallet, programmeOf, registerVolunteer,
} from './support/volunteer-fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t?.close();
});

function statusCounts(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of replies) {
    const key = r.status === 201 ? '201' : `${r.status} ${String(r.body?.code)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Reward transfers of a session, from the database. */
async function rewardsOf(session_id: string) {
  return t.sql<{ credit_account_id: string; amount: bigint }[]>`
    SELECT credit_account_id, amount FROM transfers WHERE code = 'reward' AND metadata->>'session_id' = ${session_id}`;
}

async function earnings(account: string) {
  return t.sql<{ period: string; amount: bigint }[]>`
    SELECT period, amount FROM volunteer_earnings WHERE account_id = ${account} ORDER BY period`;
}

describe('once per session, at most max_claims', () => {
  let activity_id: string;
  let programme: string;

  beforeAll(async () => {
    await createCurrency(t, 'RACE', 0);
    programme = await programmeOf(t, 'RACE');
    await fund(t, 'RACE', programme, '100000');
    activity_id = (await activityOf(t, 'RACE')).id as string;
  });

  it('50 concurrent claims of one token by one wallet (different keys) make exactly one transfer', async () => {
    const v = await registerVolunteer(t, 'RACE');
    const token = await openWallet(t, v);
    const session = await openSession(t, activity_id, { hours: '1' });
    const programme_before = BigInt(await balanceOf(t, programme));

    const replies = await Promise.all(Array.from({ length: 50 }, () => claim(t, token, session.claim_token)));
    expect(statusCounts(replies)).toEqual({ '201': 1, '409 already_claimed': 49 });
    const rewards = await rewardsOf(session.id);
    expect(rewards).toEqual([{ credit_account_id: v.account, amount: 25n }]);
    const [row] = await t.sql<{ claims_count: number }[]>`SELECT claims_count FROM activity_sessions WHERE id = ${session.id}`;
    expect(row?.claims_count).toBe(1);
    expect(await balanceOf(t, v.account)).toBe('25');
    expect(BigInt(await balanceOf(t, programme))).toBe(programme_before - 25n);
  });

  it('20 concurrent claims with the same Idempotency-Key make one transfer; every 201 is that transfer', async () => {
    const v = await registerVolunteer(t, 'RACE');
    const token = await openWallet(t, v);
    const session = await openSession(t, activity_id, { hours: '2' });
    const key = newKey();
    const replies = await Promise.all(Array.from({ length: 20 }, () => claim(t, token, session.claim_token, key)));
    const created = replies.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const r of replies.filter((x) => x.status !== 201)) expectProblem(r, 409, 'idempotency_key_in_flight');
    expect(await rewardsOf(session.id)).toHaveLength(1);
    expect(await balanceOf(t, v.account)).toBe('50');
  });

  it('50 wallets racing for a session with max_claims 10: exactly 10 transfers, the rest 409 session_full', async () => {
    const volunteers = await Promise.all(Array.from({ length: 50 }, () => registerVolunteer(t, 'RACE')));
    const tokens = await Promise.all(volunteers.map((v) => openWallet(t, v)));
    const session = await openSession(t, activity_id, { hours: '1', max_claims: 10 });
    const programme_before = BigInt(await balanceOf(t, programme));

    const replies = await Promise.all(tokens.map((token) => claim(t, token, session.claim_token)));
    expect(statusCounts(replies)).toEqual({ '201': 10, '409 session_full': 40 });
    const rewards = await rewardsOf(session.id);
    expect(rewards).toHaveLength(10);
    expect(new Set(rewards.map((r) => r.credit_account_id)).size).toBe(10);
    const winners = new Set(replies.filter((r) => r.status === 201).map((r) => r.body.credit_account as string));
    expect(new Set(rewards.map((r) => r.credit_account_id))).toEqual(winners);
    const [row] = await t.sql<{ claims_count: number; claims: number }[]>`
      SELECT claims_count, (SELECT count(*)::int FROM claims WHERE session_id = ${session.id}) AS claims
      FROM activity_sessions WHERE id = ${session.id}`;
    expect(row).toEqual({ claims_count: 10, claims: 10 });
    expect(BigInt(await balanceOf(t, programme))).toBe(programme_before - 250n);
  });

  it('20 concurrent awards of one card in one session (event mode, different keys) make exactly one transfer', async () => {
    const v = await registerVolunteer(t, 'RACE');
    const session = await openSession(t, activity_id, { hours: '1' });
    const replies = await Promise.all(Array.from({ length: 20 }, () => award(t, session.id, { card: v.code })));
    expect(statusCounts(replies)).toEqual({ '201': 1, '409 already_claimed': 19 });
    expect(await rewardsOf(session.id)).toHaveLength(1);
  });
});

describe('legal caps under concurrency', () => {
  it('claims across 8 sessions on one day never cross volunteer_cap_day (110 at 25/h: exactly 4), and say what is left', async () => {
    await createCurrency(t, 'CAPD', 0, { volunteer_cap_day: '110' });
    const programme = await programmeOf(t, 'CAPD');
    await fund(t, 'CAPD', programme, '10000');
    const activity = await activityOf(t, 'CAPD');
    const v = await registerVolunteer(t, 'CAPD');
    const token = await openWallet(t, v);
    const sessions = await Promise.all(Array.from({ length: 8 }, () => openSession(t, activity.id, { hours: '1' })));

    const replies = await Promise.all(sessions.map((s) => claim(t, token, s.claim_token)));
    expect(statusCounts(replies)).toEqual({ '201': 4, '422 volunteer_cap_exceeded': 4 });
    for (const refused of replies.filter((r) => r.status === 422)) {
      expectProblem(refused, 422, 'volunteer_cap_exceeded');
      expect(refused.body.detail).toContain('10 left today');
      expect(refused.body).toMatchObject({ left: '10', cap: '110', period: 'day' });
    }
    expect(await balanceOf(t, v.account)).toBe('100');
    const [day] = await earnings(v.account);
    expect(day).toMatchObject({ amount: 100n });
    expect(day?.period).toMatch(/^d\d{4}-\d{2}-\d{2}$/);
    const [claims] = await t.sql<{ n: number; counted: number }[]>`
      SELECT (SELECT count(*)::int FROM claims WHERE account_id = ${v.account}) AS n,
             (SELECT sum(claims_count)::int FROM activity_sessions WHERE id = ANY(${sessions.map((s) => s.id)})) AS counted`;
    expect(claims).toEqual({ n: 4, counted: 4 });

    // The rest of the day fits exactly; then nothing more.
    const ten = await t.request('POST', '/api/v1/currencies/CAPD/activities', {
      token: t.adminToken, body: { name: 'Koffie zetten', category: 'other', amount: '10', programme_account: programme },
    });
    const last = await openSession(t, ten.body.id, {});
    expect((await claim(t, token, last.claim_token)).status).toBe(201);
    const over = await claim(t, token, (await openSession(t, ten.body.id, {})).claim_token);
    expectProblem(over, 422, 'volunteer_cap_exceeded');
    expect(over.body.detail).toContain('0 left today');

    // The cap is per volunteer: someone else still earns today.
    const other = await registerVolunteer(t, 'CAPD');
    expect((await award(t, sessions[0].id, { card: other.code })).status).toBe(201);
  });

  it('QR claims and event-mode awards racing together across 10 sessions still stop at the day cap (100: exactly 4)', async () => {
    const { activity, volunteer: v, token } = await cappedVolunteer(t, 'CAPM');
    const sessions = await Promise.all(Array.from({ length: 10 }, () => openSession(t, activity.id, { hours: '1' })));
    const replies = await Promise.all(sessions.map((s, i) => (i % 2 === 0 ? claim(t, token, s.claim_token) : award(t, s.id, { card: v.code }))));
    expect(statusCounts(replies)).toEqual({ '201': 4, '422 volunteer_cap_exceeded': 6 });
    expect(await balanceOf(t, v.account)).toBe('100');
  });

  it('claims racing against volunteer_cap_year (60.00 at 25.00/h: exactly 2) say what is left this year', async () => {
    await createCurrency(t, 'CAPY', 2, { volunteer_cap_year: '60.00' });
    await fund(t, 'CAPY', await programmeOf(t, 'CAPY'), '1000.00');
    const activity = await activityOf(t, 'CAPY');
    const v = await registerVolunteer(t, 'CAPY');
    const token = await openWallet(t, v);
    const sessions = await Promise.all(Array.from({ length: 6 }, () => openSession(t, activity.id, { hours: '1' })));
    const replies = await Promise.all(sessions.map((s) => claim(t, token, s.claim_token)));
    expect(statusCounts(replies)).toEqual({ '201': 2, '422 volunteer_cap_exceeded': 4 });
    for (const refused of replies.filter((r) => r.status === 422)) {
      expect(refused.body.detail).toContain('10.00 left this year');
      expect(refused.body).toMatchObject({ left: '10.00', cap: '60.00', period: 'year' });
    }
    expect(await balanceOf(t, v.account)).toBe('50.00');
    const rows = await earnings(v.account);
    // The day is counted too, though it has no cap: a day cap set later counts it.
    expect(rows).toEqual([{ period: expect.stringMatching(/^d\d{4}-\d\d-\d\d$/), amount: 5000n }, { period: expect.stringMatching(/^y\d{4}$/), amount: 5000n }]);
  });

  it('with both caps the tighter one rules: day 100, year 60 → 2 rewards; a refused reward raises no counter', async () => {
    await createCurrency(t, 'CAPB', 0, { volunteer_cap_day: '100', volunteer_cap_year: '60' });
    await fund(t, 'CAPB', await programmeOf(t, 'CAPB'), '10000');
    const activity = await activityOf(t, 'CAPB');
    const v = await registerVolunteer(t, 'CAPB');
    const token = await openWallet(t, v);
    const sessions = await Promise.all(Array.from({ length: 5 }, () => openSession(t, activity.id, { hours: '1' })));
    const replies = await Promise.all(sessions.map((s) => claim(t, token, s.claim_token)));
    expect(statusCounts(replies)).toEqual({ '201': 2, '422 volunteer_cap_exceeded': 3 });
    for (const refused of replies.filter((r) => r.status === 422)) expect(refused.body.period).toBe('year');
    // The day counter was raised only by the rewards that went through.
    expect((await earnings(v.account)).map((r) => r.amount)).toEqual([50n, 50n]);
  });
});
