/**
 * What can I do this week, and how much may I still earn (#20, points 5 and 6), against a real
 * PostgreSQL. A session may say when and where it takes place and be public; the agenda (no
 * login) lists the upcoming public ones with the activity's names, place, times and reward,
 * never a claim token. A wallet (and its coordinator) is told the room left under the legal
 * caps, measured as rewards are; an admin changes the caps after creation. Bad input is refused
 * with problem+json and changes nothing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import {
  activityOf, award, claim, fund, openSession, openWallet, programmeOf, registerVolunteer, volunteerCounts,
} from './support/volunteer-fixtures.js';

let t: TestApp;
let coordinator: string;

const hour_ms = 3_600_000;
const inHours = (hours: number) => new Date(Date.now() + hours * hour_ms).toISOString();

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, 'AGD', 0);
  const other = await createCurrency(t, 'AGX', 0);
  coordinator = (await t.createStaff('coordinator', [other.id])).token;
});

afterAll(async () => {
  await t?.close();
});

const agenda = (code: string, query = '') => t.request('GET', `/api/v1/currencies/${code}/agenda${query}`);
const patchSession = (id: string, body: unknown, token = t.adminToken) => t.request('PATCH', `/api/v1/sessions/${id}`, { token, body });

describe('the agenda', () => {
  it('lists the upcoming public sessions, soonest first, with names, place, times and reward, without login', async () => {
    const repair = await activityOf(t, 'AGD', 'repair_cafe');
    const party = await activityOf(t, 'AGD', 'neighbourhood_party');
    const later = await openSession(t, repair.id, { hours: '2', starts_at: inHours(48), ends_at: inHours(50), place: 'Buurthuis De Vonk', public: true });
    const sooner = await openSession(t, party.id, { hours: '1.5', starts_at: inHours(3), public: true });
    expect(later).toMatchObject({ starts_at: expect.any(String), ends_at: expect.any(String), place: 'Buurthuis De Vonk', public: true });
    // Not on the agenda: private, already over, ended by a coordinator.
    await openSession(t, repair.id, { starts_at: inHours(5), place: 'Thuis' });
    const over = await openSession(t, repair.id, { starts_at: inHours(-3), ends_at: inHours(-1), public: true });
    const closed = await openSession(t, repair.id, { starts_at: inHours(6), public: true });
    expect((await t.request('POST', `/api/v1/sessions/${closed.id}/close`, { token: t.adminToken })).status).toBe(200);

    const reply = await agenda('AGD');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body.currency).toBe('AGD');
    expect(reply.body.items).toEqual([
      {
        session: sooner.id, activity: { nl: 'Buurtfeest', en: 'Neighbourhood party', fr: 'Fête de quartier' }, category: 'neighbourhood_party',
        place: null, starts_at: sooner.starts_at, ends_at: null, hours: '1.50', reward: '38',
      },
      {
        session: later.id, activity: { nl: 'Repair Café', en: 'Repair café', fr: 'Repair Café' }, category: 'repair_cafe',
        place: 'Buurthuis De Vonk', starts_at: later.starts_at, ends_at: later.ends_at, hours: '2.00', reward: '50',
      },
    ]);
    expect(reply.body.items.map((i: { session: string }) => i.session)).not.toContain(over.id);
    expect((await agenda('AGD', '?limit=1')).body.items.map((i: { session: string }) => i.session)).toEqual([sooner.id]);
    // Another currency's agenda is its own.
    expect((await agenda('AGX')).body.items).toEqual([]);
  });

  it('never holds a claim token, and the session it names cannot be claimed with anything it says', async () => {
    const repair = await activityOf(t, 'AGD');
    const session = await openSession(t, repair.id, { starts_at: inHours(1), public: true });
    const reply = await agenda('AGD');
    const text = JSON.stringify(reply.body);
    expect(text).toContain(session.id);
    expect(text).not.toContain(session.claim_token);
    const [, payload] = (session.claim_token as string).split('.');
    expect(text).not.toContain(payload);
    expect(text).not.toContain(session.claim_url);
    expect(text).not.toMatch(/claim/i);
  });

  it('leaves out a session whose activity was stopped, and shows one a coordinator makes public later', async () => {
    const upkeep = await activityOf(t, 'AGD', 'buurtbeheer');
    const session = await openSession(t, upkeep.id, { starts_at: inHours(24) });
    const ids = async () => (await agenda('AGD')).body.items.map((i: { session: string }) => i.session);
    expect(await ids()).not.toContain(session.id);
    const made_public = await patchSession(session.id, { public: true, place: 'Park Zuid' });
    expect(made_public.status, JSON.stringify(made_public.body)).toBe(200);
    expect(made_public.body).toMatchObject({ public: true, place: 'Park Zuid', starts_at: session.starts_at });
    expect(await ids()).toContain(session.id);
    const stop = await t.request('PATCH', `/api/v1/activities/${upkeep.id}`, { token: t.adminToken, body: { active: false } });
    expect(stop.status).toBe(200);
    expect(await ids()).not.toContain(session.id);
  });

  it('answers 404 for an unknown currency and 422 for a bad limit', async () => {
    expectProblem(await agenda('NOPE'), 404, 'currency_not_found');
    expectProblem(await agenda('AGD', '?limit=0'), 422, 'validation_failed');
    expectProblem(await agenda('AGD', '?limit=101'), 422, 'validation_failed');
    expectProblem(await agenda('AGD', '?limit=abc'), 422, 'validation_failed');
  });
});

describe('a session\'s time and place', () => {
  it('default the claim QR to work until after the session ends, and a later move extends it', async () => {
    const repair = await activityOf(t, 'AGD');
    const session = await openSession(t, repair.id, { starts_at: inHours(72), ends_at: inHours(75) });
    expect(new Date(session.expires_at).getTime()).toBeGreaterThan(new Date(session.ends_at).getTime());
    const moved = await patchSession(session.id, { starts_at: inHours(200), ends_at: inHours(203) });
    expect(moved.status).toBe(200);
    expect(new Date(moved.body.expires_at).getTime()).toBeGreaterThan(new Date(moved.body.ends_at).getTime());
    const cleared = await patchSession(session.id, { place: 'Wijkcentrum' });
    expect(cleared.body).toMatchObject({ place: 'Wijkcentrum', expires_at: moved.body.expires_at });
    const audit = await t.sql<{ action: string }[]>`SELECT action FROM audit_log WHERE object_id = ${session.id} ORDER BY id`;
    expect(audit.map((a) => a.action)).toEqual(['session.create', 'session.update', 'session.update']);
  });

  it('refuses a schedule that does not hold together, and changes nothing', async () => {
    const repair = await activityOf(t, 'AGD');
    const session = await openSession(t, repair.id, { starts_at: inHours(10), ends_at: inHours(12) });
    const before = await volunteerCounts(t);
    const bad_posts: Array<[unknown, string]> = [
      [{ starts_at: inHours(5), ends_at: inHours(4) }, 'ends_at'],
      [{ ends_at: inHours(4) }, 'starts_at'],
      [{ public: true }, 'starts_at'],
      [{ starts_at: inHours(30), expires_at: inHours(20) }, 'expires_at'],
      [{ starts_at: 'tomorrow' }, 'starts_at'],
      [{ place: '' }, 'place'],
      [{ place: 'x'.repeat(201) }, 'place'],
      [{ place: 'Buurthuis\u202e' }, 'place'],
      [{ public: 'yes' }, 'public'],
    ];
    for (const [body, path] of bad_posts) {
      const reply = await t.request('POST', `/api/v1/activities/${repair.id}/sessions`, { token: t.adminToken, body });
      expectProblem(reply, 422, 'validation_failed');
      expect(JSON.stringify(reply.body.errors), JSON.stringify(body)).toContain(path);
    }
    const bad_patches: Array<[unknown, string]> = [
      [{ ends_at: inHours(9) }, 'ends_at'],
      [{ starts_at: null }, 'starts_at'],
      [{ expires_at: inHours(-1) }, 'expires_at'],
      [{}, ''],
    ];
    for (const [body] of bad_patches) expectProblem(await patchSession(session.id, body), 422, 'validation_failed');
    expect(await volunteerCounts(t)).toEqual(before);
    const same = await t.request('GET', `/api/v1/sessions/${session.id}`, { token: t.adminToken });
    expect(same.body).toMatchObject({ starts_at: session.starts_at, ends_at: session.ends_at, public: false, place: null });
  });

  it('is changed only by a coordinator of its currency', async () => {
    const repair = await activityOf(t, 'AGD');
    const session = await openSession(t, repair.id, { starts_at: inHours(10) });
    expectProblem(await patchSession(session.id, { public: true }, coordinator), 404, 'not_found');
    expectProblem(await t.request('PATCH', `/api/v1/sessions/${session.id}`, { body: { public: true } }), 401, 'unauthenticated');
    expectProblem(await patchSession('00000000-0000-4000-8000-000000000000', { public: true }), 404, 'not_found');
    const volunteer = await registerVolunteer(t, 'AGD');
    expectProblem(await patchSession(session.id, { public: true }, await openWallet(t, volunteer)), 403, 'forbidden');
    expect((await t.request('GET', `/api/v1/sessions/${session.id}`, { token: t.adminToken })).body.public).toBe(false);
  });
});

describe('earning room', () => {
  it('says what a volunteer may still earn today and this year, as the caps count rewards', async () => {
    await createCurrency(t, 'ERN', 0, { volunteer_cap_day: '100', volunteer_cap_year: '400' });
    await fund(t, 'ERN', await programmeOf(t, 'ERN'), '10000');
    const repair = await activityOf(t, 'ERN');
    const volunteer = await registerVolunteer(t, 'ERN');
    const token = await openWallet(t, volunteer);
    const room = async () => (await t.request('GET', '/api/v1/wallet', { token })).body.earning_room;
    expect(await room()).toEqual({ day: '100', year: '400', cap_day: '100', cap_year: '400' });

    const session = await openSession(t, repair.id, { hours: '3' });
    expect((await claim(t, token, session.claim_token)).status).toBe(201);
    expect(await room()).toEqual({ day: '25', year: '325', cap_day: '100', cap_year: '400' });
    // The coordinator sees the same on the volunteer's page, before awarding.
    const page = await t.request('GET', `/api/v1/wallets/${volunteer.account}`, { token: t.adminToken });
    expect(page.body.earning_room).toEqual({ day: '25', year: '325', cap_day: '100', cap_year: '400' });

    // A reward over the room is refused with the same room.
    const second = await openSession(t, repair.id, { hours: '2' });
    const refused = await award(t, second.id, { card: volunteer.code });
    expectProblem(refused, 422, 'volunteer_cap_exceeded');
    expect(refused.body).toMatchObject({ period: 'day', left: '25' });
    const fits = await award(t, second.id, { card: volunteer.code, hours: '1' });
    expect(fits.status, JSON.stringify(fits.body)).toBe(201);
    expect(await room()).toEqual({ day: '0', year: '300', cap_day: '100', cap_year: '400' });
  });

  it('is null without caps, and follows caps an admin changes after creation', async () => {
    await createCurrency(t, 'ERC', 0);
    await fund(t, 'ERC', await programmeOf(t, 'ERC'), '10000');
    const volunteer = await registerVolunteer(t, 'ERC');
    const token = await openWallet(t, volunteer);
    const room = async () => (await t.request('GET', '/api/v1/wallet', { token })).body.earning_room;
    expect(await room()).toBeNull();
    const session = await openSession(t, (await activityOf(t, 'ERC')).id, { hours: '4' });
    expect((await claim(t, token, session.claim_token)).status).toBe(201);

    const patch = (body: unknown, as = t.adminToken) => t.request('PATCH', '/api/v1/currencies/ERC', { token: as, body });
    const set = await patch({ volunteer_cap_year: '150' });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ volunteer_cap_day: null, volunteer_cap_year: '150' });
    expect(await room()).toEqual({ day: null, year: '50', cap_day: null, cap_year: '150' });
    // Lowered below what was earned: nothing is taken back, the room is 0, rewards are refused.
    expect((await patch({ volunteer_cap_year: '80', volunteer_cap_day: '30' })).status).toBe(200);
    expect(await room()).toEqual({ day: '0', year: '0', cap_day: '30', cap_year: '80' });
    const next = await openSession(t, (await activityOf(t, 'ERC')).id, { hours: '1' });
    const refused = await claim(t, token, next.claim_token);
    expectProblem(refused, 422, 'volunteer_cap_exceeded');
    expect(refused.body).toMatchObject({ period: 'day', left: '0' });
    expect((await patch({ volunteer_cap_year: null, volunteer_cap_day: null })).status).toBe(200);
    expect(await room()).toBeNull();
    expect((await claim(t, token, next.claim_token)).status).toBe(201);
    const audit = await t.sql<{ changes: Record<string, unknown> }[]>`
      SELECT changes FROM audit_log WHERE action = 'currency.update' AND object_id = 'ERC' ORDER BY id`;
    expect(audit.map((a) => a.changes)).toEqual([
      { volunteer_cap_year: '150' }, { volunteer_cap_year: '80', volunteer_cap_day: '30' }, { volunteer_cap_year: null, volunteer_cap_day: null },
    ]);
  });

  it('under concurrent claims, reads and a cap lowered meanwhile, the room is what the cap leaves of what was earned', async () => {
    await createCurrency(t, 'ERX', 0, { volunteer_cap_day: '100' });
    await fund(t, 'ERX', await programmeOf(t, 'ERX'), '10000');
    const repair = await activityOf(t, 'ERX');
    const volunteer = await registerVolunteer(t, 'ERX');
    const token = await openWallet(t, volunteer);
    const sessions = await Promise.all(Array.from({ length: 8 }, () => openSession(t, repair.id, { hours: '1' })));
    const [claims, patched, reads] = await Promise.all([
      Promise.all(sessions.map((s) => claim(t, token, s.claim_token))),
      t.request('PATCH', '/api/v1/currencies/ERX', { token: t.adminToken, body: { volunteer_cap_day: '60' } }),
      Promise.all(Array.from({ length: 6 }, () => t.request('GET', '/api/v1/wallet', { token }))),
    ]);
    expect(patched.status).toBe(200);
    const paid = claims.filter((c) => c.status === 201);
    for (const refused of claims.filter((c) => c.status !== 201)) expectProblem(refused, 422, 'volunteer_cap_exceeded');
    const earned = BigInt(paid.length) * 25n;
    // Never more than the higher cap, whichever each reward saw.
    expect(earned <= 100n).toBe(true);
    expect(paid.length).toBeGreaterThanOrEqual(2);
    for (const read of reads) {
      const day = BigInt(read.body.earning_room.day as string);
      expect(day >= 0n && day <= 100n, read.body.earning_room.day).toBe(true);
    }
    const after = (await t.request('GET', '/api/v1/wallet', { token })).body;
    expect(after.earning_room).toMatchObject({ day: (earned >= 60n ? 0n : 60n - earned).toString(), cap_day: '60' });
    expect(after.balance).toBe(earned.toString());
  });

  it('refuses bad caps and callers other than an admin, and changes nothing', async () => {
    await createCurrency(t, 'ERB', 2, { volunteer_cap_day: '10.00' });
    const before = await t.sql`SELECT volunteer_cap_day, volunteer_cap_year FROM currencies WHERE code = 'ERB'`;
    const patch = (body: unknown, as = t.adminToken) => t.request('PATCH', '/api/v1/currencies/ERB', { token: as, body });
    for (const bad of ['0', '-5', '1.234', 'ten', '', '1e3']) {
      expectProblem(await patch({ volunteer_cap_day: bad }), 422, 'validation_failed');
    }
    expectProblem(await patch({ volunteer_cap_year: 12 }), 422, 'validation_failed');
    expectProblem(await patch({ volunteer_cap_year: '5' }, coordinator), 403, 'forbidden');
    expectProblem(await t.request('PATCH', '/api/v1/currencies/ERB', { body: { volunteer_cap_year: '5' } }), 401, 'unauthenticated');
    expect(await t.sql`SELECT volunteer_cap_day, volunteer_cap_year FROM currencies WHERE code = 'ERB'`).toEqual(before);
  });

  it('counters of rewards made before they were kept are rebuilt by migration 0015 from the claims', async () => {
    await createCurrency(t, 'ERM', 0);
    await fund(t, 'ERM', await programmeOf(t, 'ERM'), '10000');
    const volunteer = await registerVolunteer(t, 'ERM');
    const token = await openWallet(t, volunteer);
    for (const hours of ['2', '1']) {
      const session = await openSession(t, (await activityOf(t, 'ERM')).id, { hours });
      expect((await claim(t, token, session.claim_token)).status).toBe(201);
    }
    const counters = () => t.sql<{ period: string; amount: bigint }[]>`
      SELECT period, amount FROM volunteer_earnings WHERE account_id = ${volunteer.account} ORDER BY period`;
    const kept = await counters();
    expect(kept.map((c) => c.amount)).toEqual([75n, 75n]);
    // As before this version: no day counter, a year counter started late by a cap.
    await t.sql`DELETE FROM volunteer_earnings WHERE account_id = ${volunteer.account} AND period LIKE 'd%'`;
    await t.sql`UPDATE volunteer_earnings SET amount = 25 WHERE account_id = ${volunteer.account}`;
    const migration = readFileSync(path.resolve(import.meta.dirname, '..', 'migrations', '0015_agenda.sql'), 'utf8');
    const rebuild = migration.slice(migration.indexOf('INSERT INTO volunteer_earnings'));
    await t.sql.unsafe(rebuild);
    expect(await counters()).toEqual(kept);
  });
});
