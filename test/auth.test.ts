/** Issue #2: staff login, bearer tokens that cannot be forged or outlive their session, roles. */
import { randomBytes } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, rowCounts } from './support/http-fixtures.js';

let t: TestApp;
let currency_id: number;
/** A coordinator created through the API, with a known password. */
const coordinator = { email: 'Coordinator.Auth@example.org', password: 'correct horse battery' };

async function login(email: string, password: string) {
  return t.request('POST', '/api/v1/auth/login', { body: { email, password } });
}

async function sessionCount(): Promise<number> {
  const [row] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM auth_sessions`;
  return row?.n ?? -1;
}

beforeAll(async () => {
  t = await createTestApp();
  currency_id = (await createCurrency(t, 'AUT', 2)).id;
  const created = await t.request('POST', '/api/v1/users', {
    token: t.adminToken, body: { ...coordinator, role: 'coordinator', currencies: ['AUT'] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
});

afterAll(async () => {
  await t?.close();
});

describe('login', () => {
  it('with the right password returns a token, its expiry and the user', async () => {
    const started_ms = Date.now();
    const reply = await login(coordinator.email, coordinator.password);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expires_at: expect.any(String),
      user: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: coordinator.email, role: 'coordinator', currencies: ['AUT'],
        disabled: false, password_changed_at: null,
      },
    });
    const expires_ms = Date.parse(reply.body.expires_at as string);
    const ttl_ms = t.deps.config.STAFF_TOKEN_TTL_S * 1000;
    expect(expires_ms).toBeGreaterThanOrEqual(Math.floor(started_ms / 1000) * 1000 + ttl_ms);
    expect(expires_ms).toBeLessThanOrEqual(Date.now() + ttl_ms);
    expect(decodeJwt(reply.body.token as string).exp).toBe(expires_ms / 1000);
    const me = await t.request('GET', '/api/v1/auth/me', { token: reply.body.token as string });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(reply.body.user);
  });

  it('finds the email whatever its case', async () => {
    const reply = await login(coordinator.email.toUpperCase(), coordinator.password);
    expect(reply.status).toBe(200);
    expect(reply.body.user.email).toBe(coordinator.email);
  });

  it('a wrong password and an unknown email get the same 401 and open no session', async () => {
    const sessions_before = await sessionCount();
    const wrong_password = await login(coordinator.email, 'correct horse battery staple');
    const unknown_email = await login('nobody@example.org', coordinator.password);
    expectProblem(wrong_password, 401, 'unauthenticated');
    expectProblem(unknown_email, 401, 'unauthenticated');
    expect(wrong_password.body).toEqual(unknown_email.body);
    expect(wrong_password.body).not.toHaveProperty('token');
    expect(await sessionCount()).toBe(sessions_before);
  });

  it('with a malformed body is 422 naming the fields', async () => {
    const reply = await t.request('POST', '/api/v1/auth/login', { body: { email: 'not-an-email' } });
    expectProblem(reply, 422, 'validation_failed');
    expect((reply.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['email', 'password']);
  });
});

describe('bearer tokens', () => {
  let token: string;
  let claims: { sub: string; sid: string };
  let key: Uint8Array;
  let kid: string;

  /** Signs a staff token as the app would, with overrides; the control case shows it is accepted. */
  async function sign(options: { key?: Uint8Array; kid?: string; aud?: string; iss?: string; iat_s?: number; exp_s?: number; sub?: string; sid?: string } = {}) {
    const now_s = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: options.sid ?? claims.sid })
      .setProtectedHeader({ alg: 'HS256', kid: options.kid ?? kid, typ: 'JWT' })
      .setSubject(options.sub ?? claims.sub)
      .setIssuer(options.iss ?? 'wijkmunt')
      .setAudience(options.aud ?? 'staff')
      .setIssuedAt(options.iat_s ?? now_s)
      .setExpirationTime(options.exp_s ?? now_s + 600)
      .sign(options.key ?? key);
  }

  async function me(bearer: string | undefined, header?: string) {
    return t.request('GET', '/api/v1/auth/me', {
      ...(bearer === undefined ? {} : { token: bearer }),
      ...(header === undefined ? {} : { headers: { Authorization: header } }),
    });
  }

  beforeAll(async () => {
    const reply = await login(coordinator.email, coordinator.password);
    token = reply.body.token as string;
    const payload = decodeJwt(token);
    claims = { sub: payload.sub as string, sid: payload.sid as string };
    kid = t.deps.keys.current_kid;
    const current = t.deps.keys.keys.get(kid);
    if (current === undefined) throw new Error('no signing key');
    key = current;
  });

  it('a token signed like the app signs it is accepted (control for the forgeries below)', async () => {
    const reply = await me(await sign());
    expect(reply.status).toBe(200);
    expect(reply.body.email).toBe(coordinator.email);
  });

  it('no token is 401 on a staff route', async () => {
    expectProblem(await me(undefined), 401, 'unauthenticated');
    expectProblem(await t.request('GET', '/api/v1/currencies'), 401, 'unauthenticated');
  });

  it('a garbage token or a non-Bearer header is 401', async () => {
    expectProblem(await me('garbage'), 401, 'unauthenticated');
    expectProblem(await me('aaa.bbb.ccc'), 401, 'unauthenticated');
    expectProblem(await me(undefined, `Basic ${Buffer.from('a:b').toString('base64')}`), 401, 'unauthenticated');
    expectProblem(await me(undefined, `Bearer ${token} extra`), 401, 'unauthenticated');
  });

  it('a token whose payload was changed (re-encoded, old signature) is 401', async () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    // Make it an admin's token: the admin's own user and session.
    const admin = decodeJwt(t.adminToken);
    const forged_payload = Buffer.from(JSON.stringify({ ...decoded, sub: admin.sub, sid: admin.sid })).toString('base64url');
    expectProblem(await me(`${header}.${forged_payload}.${signature}`), 401, 'unauthenticated');
    // Or just live longer.
    const longer = Buffer.from(JSON.stringify({ ...decoded, exp: (decoded.exp as number) + 365 * 86400 })).toString('base64url');
    expectProblem(await me(`${header}.${longer}.${signature}`), 401, 'unauthenticated');
  });

  it('a token signed with another secret is 401', async () => {
    expectProblem(await me(await sign({ key: new Uint8Array(randomBytes(32)) })), 401, 'unauthenticated');
    expectProblem(await me(await sign({ kid: 'another-kid' })), 401, 'unauthenticated');
  });

  it('an unsigned token (alg: none) is 401', async () => {
    const now_s = Math.floor(Date.now() / 1000);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = encode({ alg: 'none', typ: 'JWT', kid });
    const payload = encode({ ...claims, iss: 'wijkmunt', aud: 'staff', iat: now_s, exp: now_s + 600 });
    expectProblem(await me(`${header}.${payload}.`), 401, 'unauthenticated');
    expectProblem(await me(`${header}.${payload}`), 401, 'unauthenticated');
  });

  it('an expired token is 401', async () => {
    const now_s = Math.floor(Date.now() / 1000);
    expectProblem(await me(await sign({ iat_s: now_s - 7200, exp_s: now_s - 3600 })), 401, 'unauthenticated');
  });

  it('a token for another audience or from another issuer is 401', async () => {
    expectProblem(await me(await sign({ aud: 'wallet' })), 401, 'unauthenticated');
    expectProblem(await me(await sign({ iss: 'someone-else' })), 401, 'unauthenticated');
  });

  it('a validly signed token naming someone else than its session is 401', async () => {
    const admin = decodeJwt(t.adminToken);
    expectProblem(await me(await sign({ sub: admin.sub as string })), 401, 'unauthenticated');
    expectProblem(await me(await sign({ sid: '00000000-0000-4000-8000-000000000000' })), 401, 'unauthenticated');
  });

  it('after logout the same token is 401 at once; another session of the user lives on', async () => {
    const first = (await login(coordinator.email, coordinator.password)).body.token as string;
    const second = (await login(coordinator.email, coordinator.password)).body.token as string;
    expect((await me(first)).status).toBe(200);
    const logout = await t.request('POST', '/api/v1/auth/logout', { token: first });
    expect(logout.status).toBe(204);
    expectProblem(await me(first), 401, 'unauthenticated');
    expectProblem(await t.request('POST', '/api/v1/auth/logout', { token: first }), 401, 'unauthenticated');
    expect((await me(second)).status).toBe(200);
    expectProblem(await t.request('POST', '/api/v1/auth/logout'), 401, 'unauthenticated');
  });
});

describe('roles', () => {
  let coordinator_token: string;

  beforeAll(async () => {
    coordinator_token = (await t.createStaff('coordinator', [currency_id])).token;
  });

  it('a coordinator cannot create currencies or users (403 forbidden), and nothing is written', async () => {
    const before = await rowCounts(t);
    const currency = await t.request('POST', '/api/v1/currencies', {
      token: coordinator_token, body: { code: 'NOPE', name: 'Nope', scale: 2, euro_per_unit: '0.10' },
    });
    expectProblem(currency, 403, 'forbidden');
    const user = await t.request('POST', '/api/v1/users', {
      token: coordinator_token, body: { email: 'made-by-coordinator@example.org', password: 'long enough pw', role: 'admin', currencies: [] },
    });
    expectProblem(user, 403, 'forbidden');
    expect(await rowCounts(t)).toEqual(before);
  });

  it('without a token, creating a currency or a user is 401', async () => {
    const before = await rowCounts(t);
    expectProblem(await t.request('POST', '/api/v1/currencies', { body: { code: 'ANON', name: 'Anon', scale: 2, euro_per_unit: '0.10' } }), 401, 'unauthenticated');
    expectProblem(await t.request('POST', '/api/v1/users', { body: { email: 'anon@example.org', password: 'long enough pw', role: 'admin' } }), 401, 'unauthenticated');
    expect(await rowCounts(t)).toEqual(before);
  });

  it('an admin creates a coordinator who can then log in to that currency', async () => {
    const body = { email: 'new.coordinator@example.org', password: 'kaas en brood 7', role: 'coordinator', currencies: ['AUT'] };
    const created = await t.request('POST', '/api/v1/users', { token: t.adminToken, body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String), email: body.email, role: 'coordinator', currencies: ['AUT'], disabled: false, password_changed_at: null,
    });
    const [row] = await t.sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE id = ${created.body.id as string}`;
    expect(row?.password_hash).toBeDefined();
    expect(row?.password_hash).not.toContain(body.password);
    const logged_in = await login(body.email, body.password);
    expect(logged_in.status).toBe(200);
    expect(logged_in.body.user.id).toBe(created.body.id);
    expect((await t.request('GET', '/api/v1/currencies/AUT', { token: logged_in.body.token as string })).status).toBe(200);
  });

  it('a duplicate email, in any case, is 409 and writes nothing', async () => {
    const before = await rowCounts(t);
    for (const email of [coordinator.email, coordinator.email.toLowerCase(), coordinator.email.toUpperCase()]) {
      const reply = await t.request('POST', '/api/v1/users', { token: t.adminToken, body: { email, password: 'another password', role: 'admin' } });
      expectProblem(reply, 409, 'email_exists');
    }
    expect(await rowCounts(t)).toEqual(before);
  });

  it('a password under 12 characters, a common one or one holding the email is 422 on "password"; 12 good characters are accepted', async () => {
    const before = await rowCounts(t);
    for (const password of ['Bakker Gent', '123456789012', 'Wachtwoord1234', 'aaaaaaaaaaaaaaaa', 'abcdefghijklm', 'short.pw 2026!']) {
      const refused = await t.request('POST', '/api/v1/users', {
        token: t.adminToken, body: { email: 'short.pw@example.org', password, role: 'coordinator' },
      });
      expectProblem(refused, 422, 'validation_failed');
      expect(refused.body.errors, password).toEqual([expect.objectContaining({ path: 'password', message: expect.stringContaining('too easy to guess') })]);
    }
    expect(await rowCounts(t)).toEqual(before);
    const twelve = await t.request('POST', '/api/v1/users', {
      token: t.adminToken, body: { email: 'short.pw@example.org', password: 'Bakker Gent7', role: 'coordinator' },
    });
    expect(twelve.status, JSON.stringify(twelve.body)).toBe(201);
  });

  it('an unknown currency or role is 422 naming the field, and writes nothing', async () => {
    const before = await rowCounts(t);
    const currency = await t.request('POST', '/api/v1/users', {
      token: t.adminToken, body: { email: 'x1@example.org', password: 'long enough pw', role: 'coordinator', currencies: ['AUT', 'ZZZ'] },
    });
    expectProblem(currency, 422, 'validation_failed');
    expect(currency.body.errors).toEqual([expect.objectContaining({ path: 'currencies.1' })]);
    const role = await t.request('POST', '/api/v1/users', {
      token: t.adminToken, body: { email: 'x2@example.org', password: 'long enough pw', role: 'wallet' },
    });
    expectProblem(role, 422, 'validation_failed');
    expect(role.body.errors).toEqual([expect.objectContaining({ path: 'role' })]);
    expect(await rowCounts(t)).toEqual(before);
  });
});
