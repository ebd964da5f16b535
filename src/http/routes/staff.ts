import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.js';
import { requireAdmin, requireStaff, staff_audience } from '../auth.js';
import { currencyForStaff } from '../lookup.js';
import {
  Amount, Currency, CurrencyCode, EuroAmount, Text, jsonBody, jsonResponse, name_length_max, problems,
} from '../schemas.js';
import { presentCurrency } from '../present.js';
import { DomainError } from '../../ledger/errors.js';
import { parseAmount, formatAmount, euroValue } from '../../ledger/amount.js';
import { hashSecret, verifySecret, dummyHash } from '../../security/passwords.js';
import { signToken } from '../../security/tokens.js';
import {
  findUserByEmail, insertSession, insertUser, revokeSession,
} from '../../db/users.js';
import { findCurrency, insertCurrency, listCurrencies, supplyOf } from '../../db/ledger.js';
import { verifyCurrency } from '../../db/verify.js';
import { insertDefaultCatalogue } from '../../db/volunteers.js';
import { audit } from '../audit.js';
import { takeAttempt } from '../rate-limit.js';
import type { User } from '../../db/users.js';

const UserOut = z.object({
  id: z.string().uuid(),
  email: z.string(),
  role: z.enum(['admin', 'coordinator']),
  currencies: z.array(CurrencyCode),
}).openapi('User');

function presentUser(user: User) {
  return { id: user.id, email: user.email, role: user.role, currencies: user.currencies };
}

const Email = Text.trim().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');
const Password = z.string().min(1).max(1024);

export const staffRoutes = new OpenAPIHono<AppEnv>();

staffRoutes.openapi(createRoute({
  method: 'post', path: '/auth/login', tags: ['staff'],
  summary: 'Log in as staff with email and password',
  request: { body: jsonBody(z.object({ email: Email, password: Password })) },
  responses: {
    200: jsonResponse(z.object({ token: z.string(), expires_at: z.string(), user: UserOut }), 'Logged in'),
    ...problems(401, 422, 429),
  },
}), async (c) => {
  const deps = c.get('deps');
  const { email, password } = c.req.valid('json');
  const attempt = takeAttempt(c, 'login', email);
  const user = await findUserByEmail(deps.sql, email);
  // Compare against a dummy hash for unknown users, so the answer time does not tell.
  const ok = await verifySecret(password, user?.password_hash ?? await dummyHash(deps.config.SCRYPT_COST_LOG2));
  if (user === undefined || !ok || user.disabled_at !== null) {
    await audit(c, {
      action: 'auth.login_failed', currency_id: null, actor: { kind: 'anonymous', id: null },
      changes: { email, reason: user === undefined ? 'unknown email' : user.disabled_at !== null ? 'disabled' : 'wrong password' },
    });
    throw new DomainError('unauthenticated', 'email or password is wrong');
  }
  attempt.release();
  const ttl_s = deps.config.STAFF_TOKEN_TTL_S;
  const session_id = await insertSession(deps.sql, user.id, new Date(Date.now() + ttl_s * 1000));
  const { token, expires_at } = await signToken(deps.keys, staff_audience, { sub: user.id, sid: session_id }, ttl_s);
  await audit(c, { action: 'auth.login', currency_id: null, actor: { kind: 'user', id: user.id }, object: { kind: 'user', id: user.id } });
  return c.json({ token, expires_at: expires_at.toISOString(), user: presentUser(user) }, 200);
});

staffRoutes.openapi(createRoute({
  method: 'post', path: '/auth/logout', tags: ['staff'],
  summary: 'End the current session: its token stops working at once',
  responses: { 204: { description: 'Logged out' }, ...problems(401) },
}), async (c) => {
  requireStaff(c);
  const principal = c.get('principal');
  if (principal !== undefined) await revokeSession(c.get('deps').sql, principal.session_id);
  await audit(c, { action: 'auth.logout', currency_id: null });
  return c.body(null, 204);
});

staffRoutes.openapi(createRoute({
  method: 'get', path: '/auth/me', tags: ['staff'],
  summary: 'The logged-in staff user',
  responses: { 200: jsonResponse(UserOut, 'The user'), ...problems(401) },
}), (c) => c.json(presentUser(requireStaff(c)), 200));

staffRoutes.openapi(createRoute({
  method: 'post', path: '/users', tags: ['staff'],
  summary: 'Create a staff user (admin)',
  request: {
    body: jsonBody(z.object({
      email: Email,
      password: z.string().min(10, 'at least 10 characters').max(1024),
      role: z.enum(['admin', 'coordinator']),
      currencies: z.array(CurrencyCode).max(100).default([]),
    })),
  },
  responses: { 201: jsonResponse(UserOut, 'Created'), ...problems(401, 403, 409, 422) },
}), async (c) => {
  requireAdmin(c);
  const deps = c.get('deps');
  const input = c.req.valid('json');
  const currency_ids: number[] = [];
  for (const [index, code] of input.currencies.entries()) {
    const currency = await findCurrency(deps.sql, code);
    if (currency === undefined) {
      throw new DomainError('validation_failed', `no currency ${code}`, { errors: [{ path: `currencies.${index}`, message: 'unknown currency' }] });
    }
    currency_ids.push(currency.id);
  }
  const user = await insertUser(deps.sql, {
    email: input.email, role: input.role, currency_ids,
    password_hash: await hashSecret(input.password, deps.config.SCRYPT_COST_LOG2),
  });
  await audit(c, {
    action: 'user.create', currency_id: null, object: { kind: 'user', id: user.id },
    changes: { email: user.email, role: user.role, currencies: user.currencies },
  });
  return c.json(presentUser(user), 201);
});

const NewCurrency = z.object({
  code: CurrencyCode,
  name: Text.trim().min(1).max(name_length_max),
  scale: z.number().int().min(0).max(6),
  euro_per_unit: z.string().regex(/^(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?$/, 'a decimal string such as "0.10"'),
  wallet_balance_max: Amount.optional(),
  volunteer_cap_day: Amount.optional(),
  volunteer_cap_year: Amount.optional(),
});

staffRoutes.openapi(createRoute({
  method: 'post', path: '/currencies', tags: ['currencies'],
  summary: 'Create a currency and its issuance account (admin)',
  request: { body: jsonBody(NewCurrency) },
  responses: { 201: jsonResponse(Currency, 'Created'), ...problems(401, 403, 409, 422) },
}), async (c) => {
  requireAdmin(c);
  const input = c.req.valid('json');
  const optional = (value: string | undefined, path: string) =>
    value === undefined ? null : parseAmount(value, input.scale, path);
  const currency = await insertCurrency(c.get('deps').sql, {
    code: input.code,
    name: input.name,
    scale: input.scale,
    euro_per_unit: input.euro_per_unit,
    wallet_balance_max: optional(input.wallet_balance_max, 'wallet_balance_max'),
    volunteer_cap_day: optional(input.volunteer_cap_day, 'volunteer_cap_day'),
    volunteer_cap_year: optional(input.volunteer_cap_year, 'volunteer_cap_year'),
  }, insertDefaultCatalogue);
  await audit(c, { action: 'currency.create', currency_id: currency.id, object: { kind: 'currency', id: currency.code }, changes: input });
  return c.json(presentCurrency(currency), 201);
});

staffRoutes.openapi(createRoute({
  method: 'get', path: '/currencies', tags: ['currencies'],
  summary: 'Currencies the staff user works in',
  responses: { 200: jsonResponse(z.object({ items: z.array(Currency) }), 'Currencies'), ...problems(401) },
}), async (c) => {
  const user = requireStaff(c);
  const sql = c.get('deps').sql;
  const currencies = user.role === 'admin' ? await listCurrencies(sql) : await listCurrencies(sql, user.currency_ids);
  return c.json({ items: currencies.map(presentCurrency) }, 200);
});

const CodeParam = z.object({ code: z.string().max(20) });

staffRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}', tags: ['currencies'],
  summary: 'One currency',
  request: { params: CodeParam },
  responses: { 200: jsonResponse(Currency, 'The currency'), ...problems(401, 403, 404) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  return c.json(presentCurrency(currency), 200);
});

staffRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/supply', tags: ['currencies'],
  summary: 'Where the coins are, and what the city owes if every coin is cashed in',
  request: { params: CodeParam },
  responses: {
    200: jsonResponse(z.object({
      issued: Amount, in_programmes: Amount, in_wallets: Amount, in_shops: Amount,
      redeemed: Amount, circulating: Amount, euro_liability: EuroAmount,
    }), 'Supply'),
    ...problems(401, 403, 404),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const supply = await supplyOf(c.get('deps').sql, currency);
  const circulating = supply.in_wallets + supply.in_shops;
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  return c.json({
    issued: f(supply.issued),
    in_programmes: f(supply.in_programmes),
    in_wallets: f(supply.in_wallets),
    in_shops: f(supply.in_shops),
    redeemed: f(supply.redeemed),
    circulating: f(circulating),
    euro_liability: euroValue(circulating, currency.scale, currency.euro_per_unit),
  }, 200);
});

staffRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/verify', tags: ['currencies'],
  summary: 'Check the invariants of the ledger on live data',
  request: { params: CodeParam },
  responses: {
    200: jsonResponse(z.object({
      ok: z.boolean(),
      checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
    }), 'Result of every check'),
    ...problems(401, 403, 404),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const checks = await verifyCurrency(c.get('deps').sql, currency);
  return c.json({ ok: checks.every((check) => check.ok), checks }, 200);
});
