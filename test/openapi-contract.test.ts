/**
 * Issue #17, "the API document never lies". The document the service serves at
 * /api/v1/openapi.json passes an independent validator (Redocly's recommended rules, strict),
 * and every operation in it is called for real: its success and each error status it documents
 * — 401 without a token, 403 for the wrong kind of caller, 404 for an unknown object, 422 for an
 * over-long path parameter or a body of the wrong shape, 400 for malformed JSON or a missing
 * Idempotency-Key, 409 while another request holds the key, and the statuses only some
 * operations have (423, 429, the domain conflicts). Each live answer — status, documented
 * headers, content type and body — is validated with ajv against the document, with objects
 * read as closed: a member the service sends and the document does not name fails
 * (test/support/openapi-contract.ts). A status the document gives an operation and this file
 * does not provoke must be named in `not_provoked` with the reason, and a route added without a
 * contract case fails the coverage test at the end.
 */
import { randomUUID } from 'node:crypto';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, openAccount } from './support/http-fixtures.js';
import { contractOf } from './support/openapi-contract.js';
import type { Contract, LiveResponse, OperationKey } from './support/openapi-contract.js';
import { fundedWallet, pay, requestPayment } from './support/shop-fixtures.js';
import type { Payer } from './support/shop-fixtures.js';
import { cappedVolunteer, openWallet, registerVolunteer } from './support/volunteer-fixtures.js';
import type { Volunteer } from './support/volunteer-fixtures.js';
import { api, buildWorld, freshToken, valid_calls } from './support/world.js';
import type { Call, Role, World } from './support/world.js';
import { operationIdOf } from '../src/http/openapi.js';

/** One request of the walk and what it must get. */
interface Case {
  /** What it shows, for a failure's message. */
  what: string;
  status: number;
  /** The problem code it must carry, and members it must have besides the standard ones. */
  code?: string;
  members?: string[];
  /** The caller: a role of the world, or a token of its own. */
  as: Role | { token: string };
  path: string;
  body?: unknown;
  /** A body sent as is, as JSON. */
  raw?: string;
  /** Sends a fresh Idempotency-Key, or this one. */
  key?: true | string;
  /** Holds the Idempotency-Key in the database while the request runs, as a request in flight would. */
  key_in_flight?: boolean;
  /** Must be answered as a replay (Idempotency-Replayed: true). */
  replayed?: boolean;
  /** Sends it to the operation's app with tight rate limits (same database, same keys). */
  limited?: boolean;
}

/**
 * Statuses the document gives an operation that the walk does not provoke, and why. Each must
 * still be documented: an entry that is no longer needed fails the coverage test.
 */
const not_provoked: Record<string, string> = {
  'PATCH /users/{id} 409': 'last_admin needs every other admin disabled first; test/access-lockout.test.ts provokes it (a plain problem, no members of its own)',
};

let t: TestApp;
/** Apps on the same database and keys with tight rate limits, one per operation that needs one. */
const limited = new Map<OperationKey, TestApp>();
let w: World;
// The document is plain JSON, read loosely.
let document: any;
let contract: Contract;
/** Every "METHOD /path STATUS" the walk got, checked. */
const exercised = new Set<string>();
/** Who acts behind each role's token, as Idempotency-Keys are scoped. */
const scopes = new Map<Role, string>();
/** Objects the special cases use up, so that they take nothing from the world's own. */
let extra: {
  capped: { session: string; card: string };
  other_programme: string;
  small_wallet: string;
  locked: Volunteer;
  /** A card whose PIN is guessed wrong (rate limits), so that the world's cards keep their counts. */
  guessed: Volunteer;
  replaced: Payer;
  payment_to_refund: string;
  /** Open wallets whose own cards are locked, or guessed at, for POST /wallet/pin. */
  pin_locked: { token: string };
  pin_guessed: { token: string };
  /** A volunteer whose data was erased. */
  erased: string;
  /** A wallet that `wallet` helps with 1.00 a month, and a request of 2.00 to pay from it. */
  helped: string;
  request_over_helper_limit: string;
};

beforeAll(async () => {
  t = await createTestApp();
  w = await buildWorld(t, { currency: 'CTR', other: 'CTX' });
  const served = await t.request('GET', `${api}/openapi.json`);
  expect(served.status).toBe(200);
  document = served.body;
  contract = contractOf(document);

  const me = await t.request('GET', `${api}/auth/me`, { token: w.tokens.admin });
  scopes.set('admin', `user:${me.body.id as string}`);
  scopes.set('wallet', `wallet:${w.wallet.account}`);
  scopes.set('device', `device:${w.tablet.device}`);

  // A currency whose wallets hold at most 10, and a volunteer capped at 100 a day.
  await createCurrency(t, 'CTM', 2, { wallet_balance_max: '10.00' });
  const small_wallet = (await registerVolunteer(t, 'CTM')).account;
  const capped = await cappedVolunteer(t, 'CTC');
  const capped_session = await t.request('POST', `${api}/activities/${capped.activity.id as string}/sessions`, {
    token: t.adminToken, body: { hours: '5' },
  });
  expect(capped_session.status).toBe(201);
  // A card locked by wrong PINs, and one replaced by a new card.
  const locked = await registerVolunteer(t, 'CTR', { name: 'Locked out' });
  for (let i = 0; i < t.deps.config.PIN_FAILURES_MAX; i += 1) {
    await t.request('POST', `${api}/wallet/session`, { body: { card: locked.code, pin: '0000' } });
  }
  const guessed = await registerVolunteer(t, 'CTR', { name: 'Guessed' });
  const replaced = await fundedWallet(t, 'CTR', '5.00', 'Replaced card');
  expect((await t.request('POST', `${api}/wallets/${replaced.account}/cards`, { token: t.adminToken })).status).toBe(201);
  // Wallets opened before their cards were locked (the session outlives a lock), and one to guess at.
  const pin_locked = await registerVolunteer(t, 'CTR', { name: 'Locked later' });
  const pin_locked_token = await openWallet(t, pin_locked);
  for (let i = 0; i < t.deps.config.PIN_FAILURES_MAX; i += 1) {
    await t.request('POST', `${api}/wallet/session`, { body: { card: pin_locked.code, pin: '0000' } });
  }
  const pin_guessed_token = await openWallet(t, await registerVolunteer(t, 'CTR', { name: 'Guessed at' }));
  // A payment of 2.00 to refund more than.
  const payment = await pay(t, w.another_wallet.token, (await requestPayment(t, w.tablet, '2.00')).id as string);
  expect(payment.status).toBe(201);
  const erased = (await registerVolunteer(t, 'CTR', { name: 'Erased' })).account;
  expect((await t.request('POST', `${api}/wallets/${erased}/erase`, { token: t.adminToken, body: { reason: 'asked by letter' } })).status).toBe(200);
  const helped = await fundedWallet(t, 'CTR', '5.00', 'Helped');
  const linked = await t.request('POST', `${api}/wallets/${helped.account}/helpers`, {
    token: t.adminToken, body: { helper_wallet: w.wallet.account, month_max: '1.00' },
  });
  expect(linked.status).toBe(201);
  extra = {
    erased,
    helped: helped.account,
    request_over_helper_limit: (await requestPayment(t, w.tablet, '2.00')).id as string,
    capped: { session: capped_session.body.id as string, card: capped.volunteer.code },
    other_programme: await openAccount(t, 'CTX', 'programme', 'Elsewhere'),
    small_wallet,
    locked,
    guessed,
    replaced,
    payment_to_refund: payment.body.id as string,
    pin_locked: { token: pin_locked_token },
    pin_guessed: { token: pin_guessed_token },
  };
});

afterAll(async () => {
  for (const app of limited.values()) await app.close();
  await t?.close();
});

/** The app of `key` whose rate limits allow one failure a minute per address. */
async function limitedApp(key: OperationKey): Promise<TestApp> {
  let app = limited.get(key);
  if (app === undefined) {
    app = await createTestApp({
      LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1', PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1', PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1',
    }, { database_url: t.database_url, keys: t.deps.keys });
    limited.set(key, app);
  }
  return app;
}

// The walk --------------------------------------------------------------------------------------

function methodOf(key: OperationKey): string {
  return key.split(' ')[0] ?? 'GET';
}

function templateOf(key: OperationKey): string {
  return key.split(' ')[1] ?? '';
}

/** Who succeeds: public operations anyone, a wallet's and a tablet's their own, the rest staff. */
function callerOf(key: OperationKey): Role {
  const operation = contract.operation(key);
  if (Array.isArray(operation.security) && operation.security.length === 0) return 'anonymous';
  if (key === 'POST /payment-requests/{id}/pay') return 'wallet';
  const tag = operation.tags?.[0];
  if (tag === 'wallet') return 'wallet';
  if (tag === 'shop') return 'device';
  return 'admin';
}

/** A caller who may not: a wallet on staff and tablet routes, a tablet on a wallet's. */
function forbiddenFor(key: OperationKey): Role {
  return callerOf(key) === 'wallet' ? 'device' : 'wallet';
}

function hasParameter(key: OperationKey, place: string, name?: string): boolean {
  return (contract.operation(key).parameters ?? [])
    .some((p: { in: string; name: string }) => p.in === place && (name === undefined || p.name.toLowerCase() === name));
}

function readsJson(key: OperationKey): boolean {
  return contract.operation(key).requestBody?.content?.['application/json'] !== undefined;
}

/** The concrete path of `call` with its last path parameter (or the first) replaced. */
function withParameter(key: OperationKey, call: Call, value: (name: string) => string, which: 'first' | 'last'): string {
  const [concrete = '', query] = call.path.split('?');
  const template = templateOf(key).split('/');
  const parts = concrete.split('/');
  const indexes = template.map((segment, i) => (/^\{.+\}$/.test(segment) ? i : -1)).filter((i) => i >= 0);
  const index = which === 'first' ? indexes[0] : indexes.at(-1);
  if (index === undefined) throw new Error(`${key} has no path parameter`);
  parts[index] = value(template[index]?.slice(1, -1) ?? '');
  return parts.join('/') + (query === undefined ? '' : `?${query}`);
}

/** An id or code that names nothing. */
function unknown(key: OperationKey, name: string): string {
  if (name !== 'code') return '00000000-0000-4000-8000-000000000000';
  return templateOf(key).startsWith('/cards/') ? 'WMUNKNOWNCARD0000' : 'NOPE';
}

/** The cases every operation gets from what its document says: errors first, then the success. */
async function generatedCases(key: OperationKey, call: Call): Promise<Case[]> {
  const statuses = contract.statuses(key);
  const caller = callerOf(key);
  const success = statuses.find((s) => s >= 200 && s < 300);
  if (success === undefined) throw new Error(`${key} documents no success`);
  // Refusals get keys of their own; the valid request keeps its key, so that sending it again replays the answer.
  const valid = { path: call.path, ...(call.body === undefined ? {} : { body: call.body }), ...(call.moves_value === true ? { key: true as const } : {}) };
  const success_key = call.moves_value === true ? { key: newKey() } : {};
  const cases: Case[] = [{
    what: 'no token, or a revoked one on a public operation', status: 401, code: 'unauthenticated',
    as: caller === 'anonymous' ? 'revoked_device' : 'anonymous', ...valid,
  }];
  if (statuses.includes(403)) cases.push({ what: 'the wrong kind of caller', status: 403, code: 'forbidden', as: forbiddenFor(key), ...valid });
  if (hasParameter(key, 'path')) {
    if (statuses.includes(404)) {
      cases.push({ what: 'an unknown object', status: 404, as: caller, ...valid, path: withParameter(key, call, (name) => unknown(key, name), 'last') });
    }
    cases.push({ what: 'an over-long path parameter', status: 422, code: 'validation_failed', as: caller, ...valid, path: withParameter(key, call, () => 'x'.repeat(300), 'first') });
  }
  if (readsJson(key)) {
    cases.push({ what: 'a body of the wrong shape', status: 422, code: 'validation_failed', as: caller, ...valid, body: [] });
    cases.push({ what: 'malformed JSON', status: 400, code: 'malformed_json', as: caller, ...valid, body: undefined, raw: '{"' });
  }
  if (!hasParameter(key, 'path') && !readsJson(key) && hasParameter(key, 'query', 'limit')) {
    cases.push({ what: 'a page size out of range', status: 422, code: 'validation_failed', as: caller, ...valid, path: `${call.path.split('?')[0] ?? ''}?limit=0` });
  }
  if (hasParameter(key, 'header', 'idempotency-key')) {
    cases.push({ what: 'no Idempotency-Key', status: 400, code: 'idempotency_key_missing', as: caller, path: call.path, ...(call.body === undefined ? {} : { body: call.body }) });
    cases.push({ what: 'its Idempotency-Key held by a request in flight', status: 409, code: 'idempotency_key_in_flight', as: caller, ...valid, key: newKey(), key_in_flight: true });
  }
  const token = call.ends_session === true ? await freshToken(w, caller) : undefined;
  cases.push({ what: 'a valid request', status: success, as: token === undefined ? caller : { token }, ...valid, ...success_key });
  if (call.moves_value === true) cases.push({ what: 'the valid request again, same key', status: success, as: caller, ...valid, ...success_key, replayed: true });
  return cases;
}

/** Valid requests of the world that another operation's success used up before this one's turn. */
const fresh_calls: Record<OperationKey, () => Promise<Call>> = {
  'POST /payment-requests/{id}/cancel': async () => ({ path: `/payment-requests/${(await requestPayment(t, w.tablet, '1.00')).id as string}/cancel` }),
};

/** Operations that a second, identical request refuses with 409. */
const conflicts_when_repeated = new Set([
  'POST /users', 'POST /currencies', 'POST /redemptions/{id}/approve', 'POST /redemptions/{id}/reject', 'POST /currencies/{code}/payout-exports',
]);

/**
 * Statuses only some operations have, and the domain problems that carry members of their own
 * (available, room, index, item_code, left, balance, cap, retry_after_s, …).
 */
const special_cases: Record<OperationKey, () => Case[]> = {
  'POST /auth/login': () => [
    { what: 'a wrong password', status: 401, code: 'unauthenticated', as: 'anonymous', path: '/auth/login', body: { email: w.login.email, password: 'wrong password' }, limited: true },
    { what: 'wrong passwords over the limit', status: 429, code: 'rate_limited', members: ['retry_after_s'], as: 'anonymous', path: '/auth/login', body: { email: w.login.email, password: 'wrong again' }, limited: true },
  ],
  'POST /currencies/{code}/transfers': () => [
    {
      what: 'more than the wallet holds', status: 422, code: 'insufficient_funds', members: ['available', 'account_id'], as: 'admin', key: true,
      path: `/currencies/${w.currency.code}/transfers`, body: { debit_account: w.another_wallet.account, credit_account: w.shop.account, amount: '100000.00', code: 'adjustment', memo: 'too much' },
    },
    {
      what: 'an account of another currency', status: 422, code: 'cross_currency', members: ['account_id'], as: 'admin', key: true,
      path: `/currencies/${w.currency.code}/transfers`, body: { debit_account: w.programme, credit_account: extra.other_programme, amount: '1.00', code: 'reward' },
    },
  ],
  'POST /currencies/{code}/transfers/batch': () => [{
    what: 'an atomic batch with a failing transfer', status: 422, code: 'batch_item_failed', members: ['index', 'item_code'], as: 'admin', key: true,
    path: `/currencies/${w.currency.code}/transfers/batch`,
    body: { atomic: true, transfers: [
      { debit_account: w.programme, credit_account: w.target_wallet.account, amount: '0.01', code: 'reward' },
      { debit_account: w.another_wallet.account, credit_account: w.shop.account, amount: '100000.00', code: 'adjustment', memo: 'too much' },
    ] },
  }],
  'POST /currencies/{code}/issue': () => [{
    what: 'more than a wallet may hold', status: 422, code: 'balance_max_exceeded', members: ['room', 'account_id'], as: 'admin', key: true,
    path: '/currencies/CTM/issue', body: { to_account: extra.small_wallet, amount: '20.00' },
  }],
  'PATCH /accounts/{id}': () => [{
    what: 'closing an account that holds coins', status: 422, code: 'account_not_empty', members: ['balance', 'pending', 'account_id'], as: 'admin',
    path: `/accounts/${w.wallet.account}`, body: { status: 'closed' },
  }],
  'POST /sessions/{id}/awards': () => [{
    what: 'a reward over the volunteer\'s day cap', status: 422, code: 'volunteer_cap_exceeded', members: ['cap', 'left', 'period'], as: 'admin', key: true,
    path: `/sessions/${extra.capped.session}/awards`, body: { card: extra.capped.card },
  }, {
    what: 'a card that was replaced', status: 409, code: 'card_replaced', as: 'admin', key: true,
    path: `/sessions/${w.session.id}/awards`, body: { card: extra.replaced.code },
  }],
  'POST /cards/{code}/unblock': () => [{
    what: 'a card that was replaced', status: 409, code: 'card_replaced', as: 'admin', path: `/cards/${extra.replaced.code}/unblock`,
  }],
  'POST /wallet/session': () => [
    { what: 'a card locked after wrong PINs', status: 423, code: 'card_locked', as: 'anonymous', path: '/wallet/session', body: { card: extra.locked.code, pin: extra.locked.pin } },
    { what: 'a wrong PIN', status: 401, code: 'unauthenticated', as: 'anonymous', path: '/wallet/session', body: { card: extra.guessed.code, pin: '0000' }, limited: true },
    { what: 'wrong PINs over the limit', status: 429, code: 'rate_limited', members: ['retry_after_s'], as: 'anonymous', path: '/wallet/session', body: { card: extra.guessed.code, pin: '0001' }, limited: true },
  ],
  'POST /shop/devices': () => [
    { what: 'a wrong pairing code', status: 401, code: 'unauthenticated', as: 'anonymous', path: '/shop/devices', body: { pairing_code: 'WRONG-CODE', device_name: 'Till' }, limited: true },
    { what: 'wrong pairing codes over the limit', status: 429, code: 'rate_limited', members: ['retry_after_s'], as: 'anonymous', path: '/shop/devices', body: { pairing_code: 'WRONG-CODE-2', device_name: 'Till' }, limited: true },
  ],
  'POST /payment-requests/{id}/cancel': () => [{
    what: 'a request that was paid', status: 409, code: 'already_paid', as: 'device', path: `/payment-requests/${w.payment_requests.paid}/cancel`,
  }],
  'POST /wallet/pin': () => [
    { what: 'its own card locked meanwhile', status: 423, code: 'card_locked', members: ['locked_until'], as: extra.pin_locked, path: '/wallet/pin', body: { old_pin: '2468', new_pin: '5827' } },
    { what: 'a wrong current PIN', status: 422, code: 'invalid_card_or_pin', members: ['tries_left'], as: extra.pin_guessed, path: '/wallet/pin', body: { old_pin: '0004', new_pin: '5827' }, limited: true },
    { what: 'wrong current PINs over the limit', status: 429, code: 'rate_limited', members: ['retry_after_s'], as: extra.pin_guessed, path: '/wallet/pin', body: { old_pin: '0005', new_pin: '5827' }, limited: true },
  ],
  'POST /auth/password': () => [
    { what: 'a wrong current password', status: 422, code: 'wrong_password', as: 'admin', path: '/auth/password', body: { old_password: 'not it at all', new_password: 'zon-Zee-Strand-77' }, limited: true },
    { what: 'wrong current passwords over the limit', status: 429, code: 'rate_limited', members: ['retry_after_s'], as: 'admin', path: '/auth/password', body: { old_password: 'not it either', new_password: 'zon-Zee-Strand-77' }, limited: true },
  ],
  'POST /wallets/{id}/erase': () => [
    { what: 'a wallet erased before', status: 409, code: 'already_erased', as: 'admin', path: `/wallets/${extra.erased}/erase`, body: { reason: 'again' } },
    {
      what: 'a wallet that holds coins, no programme named', status: 422, code: 'account_not_empty', members: ['balance', 'pending', 'account_id'], as: 'admin',
      path: `/wallets/${w.wallet.account}/erase`, body: { reason: 'asked by letter' },
    },
  ],
  'PATCH /wallets/{id}': () => [
    { what: 'a wallet erased before', status: 409, code: 'already_erased', as: 'admin', path: `/wallets/${extra.erased}`, body: { note: 'new data' } },
  ],
  'POST /wallets/{id}/cards': () => [
    { what: 'a wallet erased before', status: 409, code: 'already_erased', as: 'admin', path: `/wallets/${extra.erased}/cards` },
  ],
  'POST /cards/{code}/pin': () => [
    { what: 'a card that was replaced', status: 409, code: 'card_replaced', as: 'admin', path: `/cards/${extra.replaced.code}/pin`, body: { pin: '5827' } },
  ],
  'POST /shop/charges': () => [
    { what: 'a locked card', status: 423, code: 'card_locked', as: 'device', key: true, path: '/shop/charges', body: { card: extra.locked.code, pin: extra.locked.pin, amount: '0.50' } },
    { what: 'a wrong PIN', status: 422, code: 'invalid_card_or_pin', as: 'device', key: true, path: '/shop/charges', body: { card: extra.guessed.code, pin: '0002', amount: '0.50' }, limited: true },
    { what: 'wrong PINs over the limit', status: 429, code: 'rate_limited', members: ['retry_after_s'], as: 'device', key: true, path: '/shop/charges', body: { card: extra.guessed.code, pin: '0003', amount: '0.50' }, limited: true },
  ],
  'POST /wallet/gifts': () => [{
    what: 'a gift over the giver\'s day limit', status: 422, code: 'gift_limit_exceeded', members: ['cap', 'left', 'period', 'account_id'], as: 'wallet', key: true,
    path: '/wallet/gifts', body: { to: w.receive_code, amount: '60.00' },
  }],
  'POST /payment-requests/{id}/pay': () => [{
    what: 'a helper\'s payment over the month\'s maximum', status: 422, code: 'helper_limit_exceeded', members: ['cap', 'left', 'period', 'account_id'], as: 'wallet', key: true,
    path: `/payment-requests/${extra.request_over_helper_limit}/pay`, body: { on_behalf_of: extra.helped },
  }],
  'POST /shop/refunds': () => [
    { what: 'an unknown payment', status: 404, code: 'transfer_not_found', as: 'device', key: true, path: '/shop/refunds', body: { transfer_id: randomUUID(), amount: '0.01' } },
    {
      what: 'more than is left of the payment', status: 422, code: 'refund_exceeds_payment', members: ['left', 'left_minor'], as: 'device', key: true,
      path: '/shop/refunds', body: { transfer_id: extra.payment_to_refund, amount: '3.00' },
    },
  ],
};

/** The token of a case's caller. */
function tokenOf(c: Case): string | undefined {
  if (typeof c.as === 'object') return c.as.token;
  return c.as === 'anonymous' ? undefined : w.tokens[c.as];
}

/** Sends a case's request, keeping the raw answer. */
async function send(key: OperationKey, c: Case): Promise<LiveResponse> {
  const app = c.limited === true ? await limitedApp(key) : t;
  const method = methodOf(key);
  const headers: Record<string, string> = {};
  const token = tokenOf(c);
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const idempotency_key = c.key === true ? newKey() : c.key;
  if (idempotency_key !== undefined) headers['Idempotency-Key'] = idempotency_key;
  let body: string | undefined = c.raw;
  if (c.body !== undefined) body = JSON.stringify(c.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const request = async () => {
    const response = await app.app.request(`${api}${c.path}`, { method, headers, body });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  if (c.key_in_flight !== true || idempotency_key === undefined) return request();
  // The first step of every posting try-locks its key (wm_batch_lock); here a session holds it.
  const scope = typeof c.as === 'string' ? scopes.get(c.as) : undefined;
  if (scope === undefined) throw new Error(`no Idempotency-Key scope for ${JSON.stringify(c.as)}`);
  const holder = await t.sql.reserve();
  try {
    await holder`SELECT pg_advisory_lock(hashtextextended(${scope} || chr(31) || ${idempotency_key}, 0))`;
    return await request();
  } finally {
    await holder`SELECT pg_advisory_unlock(hashtextextended(${scope} || chr(31) || ${idempotency_key}, 0))`;
    holder.release();
  }
}

/** Runs a case and checks its answer: the status it must get, and what the document says of it. */
async function check(key: OperationKey, c: Case): Promise<void> {
  const response = await send(key, c);
  const label = `${key}, ${c.what}: ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, label).toBe(c.status);
  expect(contract.mismatches(key, response), label).toEqual([]);
  if (c.replayed === true) expect(response.headers.get('idempotency-replayed'), label).toBe('true');
  if (c.code !== undefined || c.members !== undefined) {
    const problem = JSON.parse(response.text) as Record<string, unknown>;
    if (c.code !== undefined) expect(problem.code, label).toBe(c.code);
    for (const member of c.members ?? []) expect(problem[member], `${label}: member ${member}`).toBeDefined();
  }
  exercised.add(`${key} ${response.status}`);
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 with no problem under Redocly\'s recommended-strict rules (license, operationIds, …)', async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const config = await createConfig({ extends: ['recommended-strict'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: 'openapi.json', config });
    expect(problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`)).toEqual([]);
    expect(document.info.license).toMatchObject({ name: 'AGPL-3.0-or-later' });
  });

  it('names each operation by its method and path: unique, and stable while the route is', () => {
    const ids = contract.operations.map((key) => contract.operation(key).operationId as string);
    expect(new Set(ids).size).toBe(contract.operations.length);
    for (const key of contract.operations) expect(contract.operation(key).operationId).toBe(operationIdOf(methodOf(key), templateOf(key)));
    expect(operationIdOf('GET', '/currencies/{code}/payouts.xml')).toBe('getCurrenciesByCodePayoutsXml');
    expect(operationIdOf('DELETE', '/shops/{id}/devices/{device}')).toBe('deleteShopsByIdDevicesByDevice');
    expect(operationIdOf('POST', '/currencies/{code}/payout-exports')).toBe('postCurrenciesByCodePayoutExports');
  });

  it('documents Idempotency-Key as required wherever a request without it is 400 idempotency_key_missing', async () => {
    const keyed = contract.operations.filter((key) => hasParameter(key, 'header', 'idempotency-key'));
    expect(keyed.length).toBeGreaterThan(10);
    for (const key of keyed) {
      const header = contract.operation(key).parameters.find((p: { in: string; name: string }) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
      expect(header, key).toMatchObject({ required: true, schema: { minLength: 1, maxLength: 255 } });
    }
    const refused = await t.request('POST', `${api}/currencies/${w.currency.code}/issue`, { token: t.adminToken, body: { to_account: w.programme, amount: '1.00' } });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('idempotency_key_missing');
  });

  it('documents 401 with its WWW-Authenticate challenge on every operation, and every 401 carries it', async () => {
    for (const key of contract.operations) {
      const unauthenticated = contract.operation(key).responses['401'];
      expect(unauthenticated?.headers?.['WWW-Authenticate'], key).toEqual({ $ref: '#/components/headers/WWW-Authenticate' });
    }
    expect(document.components.headers['WWW-Authenticate']).toMatchObject({ required: true });
    const replies = [
      await t.request('GET', `${api}/auth/me`),
      await t.request('GET', `${api}/auth/me`, { token: 'garbage' }),
      await t.request('GET', `${api}/auth/me`, { headers: { Authorization: 'Basic dXNlcjpwYXNz' } }),
      await t.request('POST', `${api}/auth/login`, { body: { email: w.login.email, password: 'not the password' } }),
      await t.request('GET', `${api}/payment-requests/${w.payment_requests.open}`, { token: w.tokens.revoked_device }),
      await t.request('GET', `${api}/wallet`),
    ];
    for (const reply of replies) {
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer realm="wijkmunt"/);
    }
    expect(replies[0]?.headers.get('www-authenticate')).toBe('Bearer realm="wijkmunt"');
    expect(replies[1]?.headers.get('www-authenticate')).toBe('Bearer realm="wijkmunt", error="invalid_token"');
  });

  it('the Problem schema names every member the service puts in a problem', () => {
    const members = Object.keys(document.components.schemas.Problem.properties as object);
    for (const member of ['errors', 'account_id', 'available', 'room', 'left', 'left_minor', 'balance', 'pending', 'cap', 'period', 'index', 'item_code', 'retry_after_s']) {
      expect(members, member).toContain(member);
    }
  });
});

describe('every operation, live, against the document', () => {
  it.each(Object.keys(valid_calls))('%s: its success and each error it documents match the document', async (key) => {
    const build = fresh_calls[key] ?? valid_calls[key];
    if (build === undefined) throw new Error(`no valid request for ${key}`);
    const call = await build(w);
    for (const c of await generatedCases(key, call)) await check(key, c);
    if (conflicts_when_repeated.has(key)) {
      await check(key, { what: 'the same request again', status: 409, as: callerOf(key), path: call.path, ...(call.body === undefined ? {} : { body: call.body }) });
    }
    for (const c of special_cases[key]?.() ?? []) await check(key, c);
  });

  it('covered every operation of the document, and every status each documents (or says why not)', () => {
    expect(Object.keys(valid_calls).sort()).toEqual([...contract.operations].sort());
    const documented = contract.operations.flatMap((key) => contract.statuses(key).map((status) => `${key} ${status}`));
    const missing = documented.filter((entry) => !exercised.has(entry) && not_provoked[entry] === undefined);
    expect(missing, missing.join('\n')).toEqual([]);
    for (const entry of Object.keys(not_provoked)) {
      expect(documented, `${entry} is no longer documented`).toContain(entry);
      expect(exercised.has(entry), `${entry} is provoked now: drop it from not_provoked`).toBe(false);
    }
  });
});
