/**
 * Staff sessions and shop tablets are checked on every request, the checks of one turn of the
 * event loop in one query (#22: the `staffSession` and `liveDevice` loaders of
 * src/db/loaders.ts). Concurrent requests of several sessions must each be answered as their own
 * principal, and a logout, a disabled user or an unpaired tablet must end only its own session,
 * at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { shopWithTablet } from './support/shop-fixtures.js';

let t: TestApp;
let currency_id: number;

beforeAll(async () => {
  t = await createTestApp();
  currency_id = (await createCurrency(t, 'SLK', 2)).id;
});

afterAll(async () => {
  await t?.close();
});

describe('staff sessions, checked together', () => {
  it('30 concurrent requests of three sessions are each answered as their own user; a logout and a disabled user end only theirs', async () => {
    const staff = [await t.createStaff('admin', []), await t.createStaff('coordinator', [currency_id]), await t.createStaff('coordinator', [currency_id])];
    const me = (token: string) => t.request('GET', '/api/v1/auth/me', { token });
    const all = async () => Promise.all(staff.flatMap((s) => Array.from({ length: 10 }, async () => ({ s, reply: await me(s.token) }))));
    for (const { s, reply } of await all()) {
      expect(reply.status).toBe(200);
      expect(reply.body.email).toBe(s.email);
    }
    expect((await t.request('POST', '/api/v1/auth/logout', { token: staff[1]!.token })).status).toBe(204);
    const third = (await me(staff[2]!.token)).body.id as string;
    const disabled = await t.request('PATCH', `/api/v1/users/${third}`, { token: staff[0]!.token, body: { disabled: true } });
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    const after = await all();
    for (const { s, reply } of after) {
      if (s === staff[0]) expect(reply.body.email).toBe(s.email);
      else expectProblem(reply, 401, 'unauthenticated');
    }
  });
});

describe('currencies named in staff requests, read together', () => {
  it('30 concurrent requests naming three codes each get their own currency, an unknown code 404; a rename behind the service shows at once', async () => {
    await createCurrency(t, 'SLM', 0);
    const codes = ['SLK', 'SLM', 'SLZ'];
    const all = async () => Promise.all(codes.flatMap((code) => Array.from({ length: 10 }, async () => ({ code, reply: await t.request('GET', `/api/v1/currencies/${code}`, { token: t.adminToken }) }))));
    for (const { code, reply } of await all()) {
      if (code === 'SLZ') expectProblem(reply, 404, 'currency_not_found');
      else expect(reply.body).toMatchObject({ code, scale: code === 'SLK' ? 2 : 0 });
    }
    await t.sql`UPDATE currencies SET name = 'Munt van het Eiland' WHERE code = 'SLM'`;
    for (const { code, reply } of await all()) {
      if (code === 'SLM') expect(reply.body.name).toBe('Munt van het Eiland');
    }
  });
});

describe('shop tablets, checked together', () => {
  it('20 concurrent requests of two tablets are each their own shop; an unpaired tablet is 401 at once, the other works on', async () => {
    const a = await shopWithTablet(t, 'SLK', { name: 'Bakkerij Een' });
    const b = await shopWithTablet(t, 'SLK', { name: 'Fietsen Twee' });
    const all = async () => Promise.all([a, b].flatMap((s) => Array.from({ length: 10 }, async () => ({ s, reply: await t.request('GET', '/api/v1/shop', { token: s.tablet.token }) }))));
    for (const { s, reply } of await all()) {
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ name: s.shop.name, device: { id: s.tablet.device } });
    }
    expect((await t.request('DELETE', '/api/v1/shop/device', { token: a.tablet.token })).status).toBe(204);
    for (const { s, reply } of await all()) {
      if (s === a) expectProblem(reply, 401, 'unauthenticated');
      else expect(reply.body.name).toBe(b.shop.name);
    }
  });

  it('tablets not seen for over a minute are marked seen by their next requests, all of them at once', async () => {
    const tablets = [await shopWithTablet(t, 'SLK'), await shopWithTablet(t, 'SLK'), await shopWithTablet(t, 'SLK')];
    const ids = tablets.map((x) => x.tablet.device);
    await t.sql`UPDATE devices SET last_seen_at = now() - interval '2 minutes' WHERE id = ANY(${ids}::uuid[])`;
    const replies = await Promise.all(tablets.flatMap((x) => [1, 2].map(() => t.request('GET', '/api/v1/shop', { token: x.tablet.token }))));
    expect(replies.map((r) => r.status)).toEqual(Array(6).fill(200));
    const seen = await t.sql<{ fresh: boolean }[]>`SELECT last_seen_at > now() - interval '10 seconds' AS fresh FROM devices WHERE id = ANY(${ids}::uuid[])`;
    expect(seen.map((r) => r.fresh)).toEqual([true, true, true]);
  });
});
