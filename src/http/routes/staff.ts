import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../context.js';
import { uuid_pattern } from '../lookup.js';
import { DomainError } from '../../ledger/errors.js';
import { findUserById, listUsers } from '../../db/users.js';
import { requireAdmin, requireStaff } from '../auth.js';
import { currencyForStaff } from '../lookup.js';
import {
  Amount, Currency, CurrencyCode, EuroAmount, Text, ValidityDays, jsonBody, jsonResponse, name_length_max, problems,
} from '../schemas.js';
import { presentCurrency } from '../present.js';
import { formatAmount, euroValue } from '../../ledger/amount.js';
import { listCurrencies, supplyOf } from '../../db/ledger.js';
import { verifyCurrency } from '../../db/verify.js';
import type { User } from '../../db/users.js';
import { actor, services } from '../idempotency.js';
import * as access from '../../app/access.js';
import * as coordination from '../../app/coordination.js';

const UserOut = z.object({
  id: z.string().uuid(),
  email: z.string(),
  role: z.enum(['admin', 'coordinator']),
  currencies: z.array(CurrencyCode),
  disabled: z.boolean(),
  password_changed_at: z.string().nullable(),
}).openapi('User');

function presentUser(user: User) {
  return {
    id: user.id, email: user.email, role: user.role, currencies: user.currencies,
    disabled: user.disabled_at !== null, password_changed_at: user.password_changed_at?.toISOString() ?? null,
  };
}

const IdParam = z.object({ id: z.string().max(100) });
/** A new password: at least 12 characters and not a common one (checked where it is chosen, src/ledger/secrets.ts). */
const NewPassword = z.string().min(1).max(1024).openapi({ description: 'At least 12 characters, not one of the most common passwords' });

/** The staff user named in the path, for an admin; 404 otherwise. */
async function userForAdmin(c: AppContext, id: string): Promise<User> {
  requireAdmin(c);
  const user = uuid_pattern.test(id) ? await findUserById(c.get('deps').sql, id) : undefined;
  if (user === undefined) throw new DomainError('not_found', `no user ${id}`);
  return user;
}

const Email = Text.trim().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');
const Password = z.string().min(1).max(1024);

export const staffRoutes = new OpenAPIHono<AppEnv>();

staffRoutes.openapi(createRoute({
  method: 'post', path: '/auth/login', tags: ['staff'],
  summary: 'Log in as staff with email and password',
  security: [],
  request: { body: jsonBody(z.object({ email: Email, password: Password })) },
  responses: {
    200: jsonResponse(z.object({ token: z.string(), expires_at: z.string(), user: UserOut }), 'Logged in'),
    ...problems(401, 422, 429),
  },
}), async (c) => {
  const { email, password } = c.req.valid('json');
  const { token, expires_at, user } = await access.logIn(services(c), actor(c), email, password);
  return c.json({ token, expires_at: expires_at.toISOString(), user: presentUser(user) }, 200);
});

staffRoutes.openapi(createRoute({
  method: 'post', path: '/auth/logout', tags: ['staff'],
  summary: 'End the current session: its token stops working at once',
  responses: { 204: { description: 'Logged out' }, ...problems(401) },
}), async (c) => {
  requireStaff(c);
  await access.logOut(services(c), actor(c), c.get('principal')?.session_id);
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
      password: NewPassword,
      role: z.enum(['admin', 'coordinator']),
      currencies: z.array(CurrencyCode).max(100).default([]),
    })),
  },
  responses: { 201: jsonResponse(UserOut, 'Created'), ...problems(401, 403, 409, 422) },
}), async (c) => {
  requireAdmin(c);
  return c.json(presentUser(await access.createUser(services(c), actor(c), c.req.valid('json'))), 201);
});

staffRoutes.openapi(createRoute({
  method: 'get', path: '/users', tags: ['staff'],
  summary: 'The staff users (admin)',
  responses: { 200: jsonResponse(z.object({ items: z.array(UserOut) }), 'Users'), ...problems(401, 403) },
}), async (c) => {
  requireAdmin(c);
  return c.json({ items: (await listUsers(c.get('deps').sql)).map(presentUser) }, 200);
});

staffRoutes.openapi(createRoute({
  method: 'patch', path: '/users/{id}', tags: ['staff'],
  summary: 'Disable or enable a staff user (disabling ends every session at once), or change their role or currencies (admin)',
  request: {
    params: IdParam,
    body: jsonBody(z.object({
      disabled: z.boolean().optional(), role: z.enum(['admin', 'coordinator']).optional(), currencies: z.array(CurrencyCode).max(100).optional(),
    })),
  },
  responses: { 200: jsonResponse(UserOut, 'The user'), ...problems(401, 403, 404, 409, 422) },
}), async (c) => {
  const user = await userForAdmin(c, c.req.valid('param').id);
  return c.json(presentUser(await access.changeUser(services(c), actor(c), user, c.req.valid('json'))), 200);
});

staffRoutes.openapi(createRoute({
  method: 'post', path: '/users/{id}/sessions/revoke', tags: ['staff'],
  summary: 'End every session of a staff user at once (admin)',
  request: { params: IdParam },
  responses: { 204: { description: 'Ended' }, ...problems(401, 403, 404) },
}), async (c) => {
  const user = await userForAdmin(c, c.req.valid('param').id);
  await access.endUserSessions(services(c), actor(c), user);
  return c.body(null, 204);
});

staffRoutes.openapi(createRoute({
  method: 'post', path: '/users/{id}/password', tags: ['staff'],
  summary: 'Set a new password for a staff user; their sessions end (admin)',
  request: { params: IdParam, body: jsonBody(z.object({ password: NewPassword })) },
  responses: { 204: { description: 'Set' }, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const user = await userForAdmin(c, c.req.valid('param').id);
  await access.resetPassword(services(c), actor(c), user, c.req.valid('json').password);
  return c.body(null, 204);
});

staffRoutes.openapi(createRoute({
  method: 'post', path: '/auth/password', tags: ['staff'],
  summary: 'Change my own password (the current one is required); my other sessions end',
  request: { body: jsonBody(z.object({ old_password: Password, new_password: NewPassword })) },
  responses: { 204: { description: 'Changed' }, ...problems(401, 422, 429) },
}), async (c) => {
  const user = requireStaff(c);
  const input = c.req.valid('json');
  await access.changeOwnPassword(services(c), actor(c), user, c.get('principal')?.session_id, input.old_password, input.new_password);
  return c.body(null, 204);
});

const NewCurrency = z.object({
  code: CurrencyCode,
  name: Text.trim().min(1).max(name_length_max),
  scale: z.number().int().min(0).max(6),
  euro_per_unit: z.string().regex(/^(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?$/, 'a decimal string such as "0.10"'),
  wallet_balance_max: Amount.optional(),
  volunteer_cap_day: Amount.optional(),
  volunteer_cap_year: Amount.optional(),
  validity_days: ValidityDays.optional(),
  gifts_enabled: z.boolean().optional().openapi({ description: 'Whether wallets may give coins to one another; false when left out' }),
  gift_day_max: Amount.optional().openapi({ description: 'What one wallet may give a day; no daily limit when left out' }),
});

staffRoutes.openapi(createRoute({
  method: 'post', path: '/currencies', tags: ['currencies'],
  summary: 'Create a currency and its issuance account (admin)',
  request: { body: jsonBody(NewCurrency) },
  responses: { 201: jsonResponse(Currency, 'Created'), ...problems(401, 403, 409, 422) },
}), async (c) => {
  requireAdmin(c);
  return c.json(presentCurrency(await coordination.createCurrency(services(c), actor(c), c.req.valid('json'))), 201);
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
