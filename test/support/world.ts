/**
 * A small but complete world for the permission table and the fuzz tests (issue #8): two
 * currencies with a coordinator each, an admin, wallets, shops with paired tablets (one of them
 * revoked), a programme, an activity with an open session, transfers (posted and pending), a
 * paid, a cancelled and an open payment request, cash-out requests and a payout export. Also
 * one valid request for every route of the API, and the route list of the OpenAPI document.
 */
import { expect } from 'vitest';
import { newKey } from './app.js';
import type { Reply, TestApp } from './app.js';
import { createCurrency, issue, openAccount, transfer } from './http-fixtures.js';
import type { CurrencyOut } from './http-fixtures.js';
import {
  belgianIban, fundedWallet, newPairingCode, pairTablet, pay, redeem, requestPayment, shopWithTablet,
} from './shop-fixtures.js';
import type { Payer, ShopOut, Tablet } from './shop-fixtures.js';
import { activityOf, fund, openSession, openWallet, registerVolunteer } from './volunteer-fixtures.js';
import type { Volunteer } from './volunteer-fixtures.js';
import { insertUser } from '../../src/db/users.js';
import { hashSecret } from '../../src/security/passwords.js';

export const api = '/api/v1';

/** Who calls: the columns of the permission table, in its order. */
export const roles = [
  'anonymous', 'wallet', 'another_wallet', 'device', 'another_device', 'revoked_device',
  'other_coordinator', 'coordinator', 'admin',
] as const;
export type Role = (typeof roles)[number];

/** "METHOD /path/{param}" as in the OpenAPI document, without the /api/v1 base. */
export type RouteKey = string;

export interface Route {
  key: RouteKey;
  method: string;
  path: string;
  /** Names of the path, query and header parameters, and of the JSON body's properties. */
  path_params: string[];
  query_params: string[];
  header_params: string[];
  body_properties: string[];
  has_body: boolean;
  /** JSON schemas (references resolved) of the body and of each query parameter. */
  body_schema: JsonSchema | undefined;
  query_schemas: Record<string, JsonSchema>;
}

/** The parts of a JSON schema the OpenAPI document uses. */
export interface JsonSchema {
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** Every operation of the OpenAPI document the app serves (GET /api/v1/openapi.json). */
export async function documentedRoutes(t: TestApp): Promise<Route[]> {
  const reply = await t.request('GET', `${api}/openapi.json`);
  expect(reply.status).toBe(200);
  // The document is plain JSON: read it loosely.
  const doc = reply.body as any;
  const resolve = (schema: any, depth = 0): any => {
    if (schema === null || typeof schema !== 'object' || depth > 20) return schema;
    if (Array.isArray(schema)) return schema.map((s) => resolve(s, depth + 1));
    if (schema.$ref !== undefined) return resolve(doc.components?.schemas?.[String(schema.$ref).split('/').at(-1) ?? ''], depth + 1);
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolve(v, depth + 1)]));
  };
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(operations)) {
      const params: Array<{ in: string; name: string }> = op.parameters ?? [];
      const schema = resolve(op.requestBody?.content?.['application/json']?.schema);
      routes.push({
        key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path,
        path_params: params.filter((p) => p.in === 'path').map((p) => p.name),
        query_params: params.filter((p) => p.in === 'query').map((p) => p.name),
        header_params: params.filter((p) => p.in === 'header').map((p) => p.name),
        body_properties: Object.keys(schema?.properties ?? {}),
        has_body: op.requestBody !== undefined,
        body_schema: schema,
        query_schemas: Object.fromEntries(params.filter((p) => p.in === 'query')
          .map((p) => [p.name, resolve((p as { schema?: unknown }).schema) as JsonSchema])),
      });
    }
  }
  return routes;
}

export interface Staff {
  email: string;
  password: string;
  token: string;
}

export interface World {
  t: TestApp;
  currency: CurrencyOut;
  other_currency: CurrencyOut;
  /** A coordinator of `currency` whose email and password POST /auth/login uses. */
  login: Staff;
  /** The admin behind tokens.admin, whose password POST /auth/password changes (and keeps here). */
  admin_login: Staff;
  /** A staff user for the admin's routes on users (changed, signed out, given a new password). */
  spare_user: string;
  tokens: Record<Exclude<Role, 'anonymous'>, string>;
  /** The volunteers behind the wallet tokens (`wallet`, `another_wallet`). */
  wallet: Payer;
  another_wallet: Payer;
  /** Targets of card and wallet routes, so that blocking or replacing a card ends no session used as a principal. */
  card_wallet: Volunteer;
  target_wallet: Volunteer;
  programme: string;
  /** An account for PATCH /accounts/{id}. */
  spare_account: string;
  activity: string;
  session: { id: string; claim_token: string };
  /** A session of its own for POST /sessions/{id}/close, so that closing it refuses no other route's claim. */
  closable_session: string;
  shop: ShopOut;
  tablet: Tablet;
  another_shop: ShopOut;
  another_tablet: Tablet;
  revoked_tablet: Tablet;
  transfers: { posted: string; pending_to_post: string; pending_to_void: string; payment: string };
  payment_requests: { open: string; paid: string; cancelled: string };
  redemptions: { to_approve: string; to_reject: string };
  payout_export: string;
  /** The receive code of `another_wallet`, which gifts go to. */
  receive_code: string;
}

let staff_counter = 0;

/** A staff user with a known password, logged in. */
export async function staffUser(t: TestApp, role: 'admin' | 'coordinator', currency_ids: number[]): Promise<Staff> {
  staff_counter += 1;
  const email = `${role}-${staff_counter}-${Date.now().toString(36)}@example.org`;
  const password = `secret-password-${staff_counter}`;
  // The test app hashes with cost 2^10 (SCRYPT_COST_LOG2).
  await insertUser(t.sql, { email, role, currency_ids, password_hash: await hashSecret(password, t.deps.config.SCRYPT_COST_LOG2) });
  const reply = await t.request('POST', `${api}/auth/login`, { body: { email, password } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { email, password, token: reply.body.token as string };
}

function expectStatus(reply: Reply, status: number): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
}

/** Builds the world through the API (the admin of `t` does the setting up). */
export async function buildWorld(t: TestApp, codes = { currency: 'TOR', other: 'ZED' }): Promise<World> {
  const currency = await createCurrency(t, codes.currency, 2);
  const other_currency = await createCurrency(t, codes.other, 2);
  const c = codes.currency;
  expectStatus(await t.request('PATCH', `${api}/currencies/${c}`, {
    token: t.adminToken, body: { payer_name: 'Stad Torhout', payer_iban: belgianIban(1), gifts_enabled: true, gift_day_max: '50.00' },
  }), 200);
  const coordinator = await staffUser(t, 'coordinator', [currency.id]);
  const other_coordinator = await staffUser(t, 'coordinator', [other_currency.id]);
  const admin = await staffUser(t, 'admin', []);
  const login = await staffUser(t, 'coordinator', [currency.id]);
  const spare_staff = await staffUser(t, 'coordinator', [currency.id]);
  const [spare_row] = await t.sql<{ id: string }[]>`SELECT id FROM users WHERE email = ${spare_staff.email}`;
  if (spare_row === undefined) throw new Error('the spare staff user exists');

  const programme = (await activityOf(t, c)).programme_account as string;
  await fund(t, c, programme, '1000.00');
  const activity = (await activityOf(t, c)).id as string;
  const opened = await openSession(t, activity);
  const closable = await openSession(t, activity);
  const spare_account = await openAccount(t, c, 'programme', 'Spare programme');

  const wallet = await fundedWallet(t, c, '100.00', 'Ann');
  const another_wallet = await fundedWallet(t, c, '100.00', 'Bob');
  const card_wallet = await registerVolunteer(t, c, { name: 'Cas' });
  const target_wallet = await registerVolunteer(t, c, { name: 'Dee' });
  const receive = await t.request('GET', `${api}/wallet/receive`, { token: another_wallet.token });
  expectStatus(receive, 200);

  const { shop, tablet } = await shopWithTablet(t, c, { name: 'Bakery' });
  const { shop: another_shop, tablet: another_tablet } = await shopWithTablet(t, c, { name: 'Butcher' });
  await issue(t, c, shop.account, '50.00');
  await issue(t, c, another_shop.account, '50.00');
  const revoked_tablet = await pairTablet(t, await newPairingCode(t, shop.account), 'Old till');
  expectStatus(await t.request('DELETE', `${api}/shops/${shop.account}/devices/${revoked_tablet.device}`, { token: t.adminToken }), 204);

  const posted = (await transfer(t, c, programme, target_wallet.account, '1.00')).id as string;
  const pending_to_post = (await transfer(t, c, another_wallet.account, shop.account, '1.00', { pending: true, transfer_code: 'adjustment' })).id as string;
  const pending_to_void = (await transfer(t, c, another_wallet.account, shop.account, '1.00', { pending: true, transfer_code: 'adjustment' })).id as string;

  const paid = (await requestPayment(t, tablet, '5.00')).id as string;
  const paid_reply = await pay(t, wallet.token, paid);
  expectStatus(paid_reply, 201);
  const cancelled = (await requestPayment(t, tablet, '2.00')).id as string;
  expectStatus(await t.request('POST', `${api}/payment-requests/${cancelled}/cancel`, { token: tablet.token }), 200);
  const open = (await requestPayment(t, tablet, '1.00')).id as string;

  const redemption = async () => {
    const reply = await redeem(t, tablet, '1.00');
    expectStatus(reply, 201);
    return reply.body.id as string;
  };
  const exported = await redemption();
  expectStatus(await t.request('POST', `${api}/redemptions/${exported}/approve`, { token: t.adminToken }), 200);
  const export_reply = await t.request('POST', `${api}/currencies/${c}/payout-exports`, { token: t.adminToken });
  expectStatus(export_reply, 201);
  const to_approve = await redemption();
  const to_reject = await redemption();

  return {
    t, currency, other_currency, login, admin_login: admin, spare_user: spare_row.id,
    tokens: {
      wallet: wallet.token, another_wallet: another_wallet.token,
      device: tablet.token, another_device: another_tablet.token, revoked_device: revoked_tablet.token,
      other_coordinator: other_coordinator.token, coordinator: coordinator.token, admin: admin.token,
    },
    wallet, another_wallet, card_wallet, target_wallet, programme, spare_account, activity,
    session: { id: opened.id as string, claim_token: opened.claim_token as string },
    closable_session: closable.id as string,
    shop, tablet, another_shop, another_tablet, revoked_tablet,
    transfers: { posted, pending_to_post, pending_to_void, payment: paid_reply.body.id as string },
    payment_requests: { open, paid, cancelled },
    redemptions: { to_approve, to_reject },
    payout_export: export_reply.body.id as string,
    receive_code: receive.body.code as string,
  };
}

/** A token of `role` with a session of its own (for routes that end the caller's session). */
export async function freshToken(w: World, role: Role): Promise<string | undefined> {
  const { t } = w;
  switch (role) {
    case 'anonymous': return undefined;
    case 'wallet': return openWallet(t, w.wallet);
    case 'another_wallet': return openWallet(t, w.another_wallet);
    case 'device': return (await pairTablet(t, await newPairingCode(t, w.shop.account))).token;
    case 'another_device': return (await pairTablet(t, await newPairingCode(t, w.another_shop.account))).token;
    case 'revoked_device': return w.tokens.revoked_device;
    case 'other_coordinator': return (await staffUser(t, 'coordinator', [w.other_currency.id])).token;
    case 'coordinator': return (await staffUser(t, 'coordinator', [w.currency.id])).token;
    case 'admin': return (await staffUser(t, 'admin', [])).token;
  }
}

/** One request: the path under /api/v1 (with its query), the JSON body, whether it moves value. */
export interface Call {
  path: string;
  body?: unknown;
  /** Sends a fresh Idempotency-Key. */
  moves_value?: boolean;
  /** Ends the caller's own session when allowed: the caller gets a fresh token for this call. */
  ends_session?: boolean;
}

let unique_counter = 0;
/** A fresh suffix for names that must be unique (currency codes, emails). */
function unique(): string {
  unique_counter += 1;
  return `${unique_counter}${Date.now().toString(36).toUpperCase().slice(-4)}`;
}

/**
 * A valid request for every documented route, using objects that exist, so that an allowed
 * caller gets 2xx or a domain 4xx (409, 422), never 401, 403 or 404. Some make what they need
 * first (a pairing code, a tablet to unpair), since those are used up by the call.
 */
export const valid_calls: Record<RouteKey, (w: World) => Call | Promise<Call>> = {
  'POST /auth/login': (w) => ({ path: '/auth/login', body: { email: w.login.email, password: w.login.password } }),
  'POST /auth/logout': () => ({ path: '/auth/logout', ends_session: true }),
  'GET /auth/me': () => ({ path: '/auth/me' }),
  // As tokens.admin, a real change (the new password is kept for the next one); any other
  // caller's password is not known here, so for them it is the domain's 422 (wrong_password).
  'POST /auth/password': (w) => {
    const old_password = w.admin_login.password;
    w.admin_login.password = `zon-Zee-Strand-${unique()}`;
    return { path: '/auth/password', body: { old_password, new_password: w.admin_login.password } };
  },
  'GET /users': () => ({ path: '/users' }),
  'PATCH /users/{id}': (w) => ({ path: `/users/${w.spare_user}`, body: { currencies: [w.currency.code] } }),
  'POST /users/{id}/sessions/revoke': (w) => ({ path: `/users/${w.spare_user}/sessions/revoke` }),
  'POST /users/{id}/password': (w) => ({ path: `/users/${w.spare_user}/password`, body: { password: `fiets-kaas-Gent-${unique()}` } }),
  'POST /users': (w) => ({
    path: '/users',
    body: { email: `new-${unique()}@example.org`, password: 'a long password', role: 'coordinator', currencies: [w.currency.code] },
  }),
  'POST /currencies': () => ({ path: '/currencies', body: { code: `N${unique()}`.slice(0, 10), name: 'New coin', scale: 2, euro_per_unit: '0.10' } }),
  'GET /currencies': () => ({ path: '/currencies' }),
  'GET /currencies/{code}': (w) => ({ path: `/currencies/${w.currency.code}` }),
  'PATCH /currencies/{code}': (w) => ({ path: `/currencies/${w.currency.code}`, body: { name: 'Torhoutse munt' } }),
  'GET /currencies/{code}/supply': (w) => ({ path: `/currencies/${w.currency.code}/supply` }),
  'GET /currencies/{code}/verify': (w) => ({ path: `/currencies/${w.currency.code}/verify` }),
  'POST /currencies/{code}/accounts': (w) => ({ path: `/currencies/${w.currency.code}/accounts`, body: { kind: 'programme', name: 'Another programme' } }),
  'GET /currencies/{code}/accounts': (w) => ({ path: `/currencies/${w.currency.code}/accounts?kind=wallet&q=a&limit=10` }),
  'GET /accounts/{id}': (w) => ({ path: `/accounts/${w.wallet.account}` }),
  'PATCH /accounts/{id}': (w) => ({ path: `/accounts/${w.spare_account}`, body: { status: 'active' } }),
  'GET /accounts/{id}/entries': (w) => ({ path: `/accounts/${w.wallet.account}/entries?limit=5` }),
  'POST /currencies/{code}/transfers': (w) => ({
    path: `/currencies/${w.currency.code}/transfers`, moves_value: true,
    body: { debit_account: w.programme, credit_account: w.target_wallet.account, amount: '0.01', code: 'reward', memo: 'thanks' },
  }),
  'POST /currencies/{code}/transfers/batch': (w) => ({
    path: `/currencies/${w.currency.code}/transfers/batch`, moves_value: true,
    body: { atomic: true, transfers: [{ debit_account: w.programme, credit_account: w.target_wallet.account, amount: '0.01', code: 'reward' }] },
  }),
  'POST /currencies/{code}/issue': (w) => ({ path: `/currencies/${w.currency.code}/issue`, moves_value: true, body: { to_account: w.programme, amount: '1.00' } }),
  'GET /transfers/{id}': (w) => ({ path: `/transfers/${w.transfers.payment}` }),
  'POST /transfers/{id}/reverse': (w) => ({ path: `/transfers/${w.transfers.posted}/reverse`, moves_value: true, body: { memo: 'mistake' } }),
  'POST /transfers/{id}/post': (w) => ({ path: `/transfers/${w.transfers.pending_to_post}/post`, moves_value: true }),
  'POST /transfers/{id}/void': (w) => ({ path: `/transfers/${w.transfers.pending_to_void}/void`, moves_value: true }),
  'POST /currencies/{code}/wallets': (w) => ({ path: `/currencies/${w.currency.code}/wallets`, body: { display_name: 'Eve', pin: '1357' } }),
  'GET /wallets/{id}': (w) => ({ path: `/wallets/${w.wallet.account}` }),
  'PATCH /wallets/{id}': (w) => ({ path: `/wallets/${w.target_wallet.account}`, body: { full_name: 'Target Volunteer', note: 'komt op woensdag' } }),
  'GET /currencies/{code}/wallets': (w) => ({ path: `/currencies/${w.currency.code}/wallets?q=a&limit=10` }),
  'GET /currencies/{code}/sessions': (w) => ({ path: `/currencies/${w.currency.code}/sessions?open=true&limit=10` }),
  'POST /wallets/{id}/cards': (w) => ({ path: `/wallets/${w.target_wallet.account}/cards` }),
  'GET /wallets/{id}/export': (w) => ({ path: `/wallets/${w.wallet.account}/export` }),
  // A volunteer of its own each time: erasing one twice is a 409.
  'POST /wallets/{id}/erase': async (w) => ({
    path: `/wallets/${(await registerVolunteer(w.t, w.currency.code, { name: 'Erasable' })).account}/erase`,
    body: { reason: 'asked by letter', move_rest_to_programme: w.programme },
  }),
  'POST /cards/{code}/block': (w) => ({ path: `/cards/${w.card_wallet.code}/block` }),
  'POST /cards/{code}/unblock': (w) => ({ path: `/cards/${w.card_wallet.code}/unblock` }),
  'POST /cards/{code}/unlock': (w) => ({ path: `/cards/${w.card_wallet.code}/unlock` }),
  'POST /cards/{code}/pin': (w) => ({ path: `/cards/${w.card_wallet.code}/pin`, body: { pin: w.card_wallet.pin } }),
  'GET /cards/{code}/qr.svg': (w) => ({ path: `/cards/${w.card_wallet.code}/qr.svg` }),
  'GET /currencies/{code}/cards/sheet': (w) => ({ path: `/currencies/${w.currency.code}/cards/sheet?wallet=${w.wallet.account}&wallet=${w.card_wallet.account}` }),
  'POST /currencies/{code}/activities': (w) => ({
    path: `/currencies/${w.currency.code}/activities`,
    body: { name: { nl: 'Tuinieren', en: 'Gardening' }, category: 'buurtbeheer', amount: '2.00', programme_account: w.programme },
  }),
  'GET /currencies/{code}/activities': (w) => ({ path: `/currencies/${w.currency.code}/activities` }),
  'PATCH /activities/{id}': (w) => ({ path: `/activities/${w.activity}`, body: { active: true } }),
  'POST /activities/{id}/sessions': (w) => ({ path: `/activities/${w.activity}/sessions`, body: { hours: '2', max_claims: 10 } }),
  'GET /sessions/{id}': (w) => ({ path: `/sessions/${w.session.id}` }),
  'PATCH /sessions/{id}': (w) => ({ path: `/sessions/${w.session.id}`, body: { place: 'Buurthuis De Vonk' } }),
  'GET /sessions/{id}/qr.svg': (w) => ({ path: `/sessions/${w.session.id}/qr.svg` }),
  'POST /sessions/{id}/close': (w) => ({ path: `/sessions/${w.closable_session}/close` }),
  'POST /sessions/{id}/awards': (w) => ({ path: `/sessions/${w.session.id}/awards`, moves_value: true, body: { card: w.card_wallet.code } }),
  'POST /wallet/session': (w) => ({ path: '/wallet/session', body: { card: w.wallet.code, pin: w.wallet.pin } }),
  'POST /wallet/logout': () => ({ path: '/wallet/logout', ends_session: true }),
  // The same PIN again: the caller's wallet keeps working for the other routes.
  'POST /wallet/pin': (w) => ({ path: '/wallet/pin', body: { old_pin: w.wallet.pin, new_pin: w.wallet.pin } }),
  'GET /wallet': () => ({ path: '/wallet' }),
  'GET /currencies/{code}/agenda': (w) => ({ path: `/currencies/${w.currency.code}/agenda?limit=3` }),
  'GET /wallet/entries': () => ({ path: '/wallet/entries?limit=3' }),
  'POST /claims': (w) => ({ path: '/claims', moves_value: true, body: { token: w.session.claim_token } }),
  'GET /wallet/receive': () => ({ path: '/wallet/receive' }),
  'GET /wallet/receivers/{code}': (w) => ({ path: `/wallet/receivers/${w.receive_code}` }),
  'POST /wallet/gifts': (w) => ({ path: '/wallet/gifts', moves_value: true, body: { to: w.receive_code, amount: '0.01', memo: 'dank je' } }),
  'GET /wallet/helped': () => ({ path: '/wallet/helped' }),
  'GET /wallets/{id}/helpers': (w) => ({ path: `/wallets/${w.wallet.account}/helpers` }),
  'POST /wallets/{id}/helpers': (w) => ({ path: `/wallets/${w.target_wallet.account}/helpers`, body: { helper_wallet: w.card_wallet.account, month_max: '10.00' } }),
  'DELETE /wallets/{id}/helpers/{helper_wallet}': async (w) => {
    // A link of its own to end: ending one twice is a 404.
    const linked = await w.t.request('POST', `${api}/wallets/${w.target_wallet.account}/helpers`, {
      token: w.t.adminToken, body: { helper_wallet: w.card_wallet.account, month_max: '10.00' },
    });
    expectStatus(linked, 201);
    return { path: `/wallets/${w.target_wallet.account}/helpers/${w.card_wallet.account}` };
  },
  'POST /currencies/{code}/shops': (w) => ({ path: `/currencies/${w.currency.code}/shops`, body: { name: 'Florist', iban: belgianIban(77) } }),
  'GET /currencies/{code}/shops': (w) => ({ path: `/currencies/${w.currency.code}/shops` }),
  'GET /shops/{id}': (w) => ({ path: `/shops/${w.shop.account}` }),
  'PATCH /shops/{id}': (w) => ({ path: `/shops/${w.shop.account}`, body: { contact: 'ask for Dirk' } }),
  'POST /shops/{id}/pairing-codes': (w) => ({ path: `/shops/${w.shop.account}/pairing-codes` }),
  'GET /shops/{id}/devices': (w) => ({ path: `/shops/${w.shop.account}/devices` }),
  'DELETE /shops/{id}/devices/{device}': async (w) => {
    // A tablet of its own to unpair: unpairing one twice is a 404.
    const spare = await pairTablet(w.t, await newPairingCode(w.t, w.shop.account), 'Spare till');
    return { path: `/shops/${w.shop.account}/devices/${spare.device}` };
  },
  'GET /currencies/{code}/redemptions': (w) => ({ path: `/currencies/${w.currency.code}/redemptions?status=pending` }),
  'POST /redemptions/{id}/approve': (w) => ({ path: `/redemptions/${w.redemptions.to_approve}/approve` }),
  'POST /redemptions/{id}/reject': (w) => ({ path: `/redemptions/${w.redemptions.to_reject}/reject` }),
  'GET /currencies/{code}/payouts': (w) => ({ path: `/currencies/${w.currency.code}/payouts?unexported=false` }),
  'POST /currencies/{code}/payout-exports': (w) => ({ path: `/currencies/${w.currency.code}/payout-exports` }),
  'GET /currencies/{code}/payouts.csv': (w) => ({ path: `/currencies/${w.currency.code}/payouts.csv?export=${w.payout_export}` }),
  'GET /currencies/{code}/payouts.xml': (w) => ({ path: `/currencies/${w.currency.code}/payouts.xml?export=${w.payout_export}` }),
  'POST /shop/devices': async (w) => ({
    // A pairing code is used up by pairing: each call gets its own.
    path: '/shop/devices', body: { pairing_code: await newPairingCode(w.t, w.shop.account), device_name: 'New till' },
  }),
  'GET /shop': () => ({ path: '/shop' }),
  'GET /shop/entries': () => ({ path: '/shop/entries?limit=3' }),
  'DELETE /shop/device': () => ({ path: '/shop/device', ends_session: true }),
  'POST /shop/payment-requests': () => ({ path: '/shop/payment-requests', body: { amount: '3.50', memo: 'bread' } }),
  'GET /payment-requests/{id}': (w) => ({ path: `/payment-requests/${w.payment_requests.open}` }),
  // A final request: its event stream sends the status once and ends (an open one streams on).
  'GET /payment-requests/{id}/events': (w) => ({ path: `/payment-requests/${w.payment_requests.cancelled}/events` }),
  'POST /payment-requests/{id}/pay': (w) => ({ path: `/payment-requests/${w.payment_requests.open}/pay`, moves_value: true }),
  'POST /payment-requests/{id}/cancel': (w) => ({ path: `/payment-requests/${w.payment_requests.open}/cancel` }),
  'POST /shop/charges': (w) => ({ path: '/shop/charges', moves_value: true, body: { card: w.wallet.code, pin: w.wallet.pin, amount: '0.50' } }),
  'POST /shop/refunds': (w) => ({ path: '/shop/refunds', moves_value: true, body: { transfer_id: w.transfers.payment, amount: '0.01' } }),
  'POST /shop/redemptions': () => ({ path: '/shop/redemptions', moves_value: true, body: { amount: '1.00' } }),
  'GET /shop/redemptions': () => ({ path: '/shop/redemptions' }),
  'GET /currencies/{code}/audit-log': (w) => ({ path: `/currencies/${w.currency.code}/audit-log?limit=5&action=transfer` }),
  'GET /audit-log': () => ({ path: '/audit-log?limit=5' }),
  'GET /currencies/{code}/reports/supply': (w) => ({ path: `/currencies/${w.currency.code}/reports/supply` }),
  'GET /public/currencies/{code}/impact': (w) => ({ path: `/public/currencies/${w.currency.code}/impact?months=3` }),
  'GET /currencies/{code}/reports/volunteering': (w) => ({ path: `/currencies/${w.currency.code}/reports/volunteering?group=category` }),
  'GET /currencies/{code}/reports/shops': (w) => ({ path: `/currencies/${w.currency.code}/reports/shops` }),
  'GET /currencies/{code}/reports/balances': (w) => ({ path: `/currencies/${w.currency.code}/reports/balances` }),
  'GET /currencies/{code}/reports/liability': (w) => ({ path: `/currencies/${w.currency.code}/reports/liability?months=3` }),
  'GET /currencies/{code}/exports/transfers.csv': (w) => ({ path: `/currencies/${w.currency.code}/exports/transfers.csv` }),
  'GET /currencies/{code}/exports/balances.csv': (w) => ({ path: `/currencies/${w.currency.code}/exports/balances.csv` }),
  'GET /currencies/{code}/exports/volunteering.csv': (w) => ({ path: `/currencies/${w.currency.code}/exports/volunteering.csv` }),
  'GET /currencies/{code}/exports/shops.csv': (w) => ({ path: `/currencies/${w.currency.code}/exports/shops.csv` }),
  'GET /currencies/{code}/exports/liability.csv': (w) => ({ path: `/currencies/${w.currency.code}/exports/liability.csv?months=2` }),
  'GET /currencies/{code}/reports/circulation': (w) => ({ path: `/currencies/${w.currency.code}/reports/circulation` }),
  'GET /currencies/{code}/exports/circulation.csv': (w) => ({ path: `/currencies/${w.currency.code}/exports/circulation.csv` }),
};

// Database fingerprint ----------------------------------------------------------------------

/**
 * What may change although a request was refused, and so is left out of the fingerprint:
 * - audit_log, entirely: failed logins, wrong PINs and wrong pairing codes are recorded on
 *   purpose (that is how an attack is seen);
 * - cards.pin_failures and cards.locked_until: a wrong PIN is counted before it is compared
 *   (the lockout), and the request is then refused;
 * - devices.last_seen_at: touched when a tablet authenticates, whatever the request then does.
 * Everything else is in: the session tables and idempotency_keys too, since a refused login
 * opens no session and only a successful value-moving request records its key.
 */
const fingerprint_skipped_tables = new Set(['audit_log']);
const fingerprint_volatile_columns: Record<string, string[]> = {
  cards: ['pin_failures', 'locked_until', 'lock_count'],
  devices: ['last_seen_at'],
};

export type Fingerprint = Record<string, { rows: number; md5: string }>;

/**
 * A function that fingerprints the database in one statement: per table, the row count and an
 * md5 of every row (minus the columns above), and the accounts' balance columns on their own.
 */
export async function fingerprinter(t: TestApp): Promise<() => Promise<Fingerprint>> {
  const tables = (await t.sql<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`).map((r) => r.name);
  const parts = tables.filter((name) => !fingerprint_skipped_tables.has(name)).map((name) => {
    const drop = (fingerprint_volatile_columns[name] ?? []).map((column) => ` - '${column}'`).join('');
    return `'${name}', (SELECT json_build_object('rows', count(*), 'md5', md5(coalesce(string_agg(r, '|' ORDER BY r), '')))
      FROM (SELECT (to_jsonb(x)${drop})::text AS r FROM "${name}" x) s)`;
  });
  parts.push(`'account_balances', (SELECT json_build_object('rows', count(*), 'md5', md5(coalesce(string_agg(
      concat_ws(':', id, debits_pending, debits_posted, credits_pending, credits_posted), '|' ORDER BY id), '')))
    FROM accounts)`);
  const query = `SELECT json_build_object(${parts.join(',\n')}) AS fp`;
  return async () => {
    const [row] = await t.sql.unsafe<{ fp: Fingerprint }[]>(query);
    if (row === undefined) throw new Error('no fingerprint');
    return row.fp;
  };
}

/** The tables whose fingerprint differs, for a readable failure. */
export function fingerprintDiff(before: Fingerprint, after: Fingerprint): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]))
    .map((name) => `${name}: ${before[name]?.rows ?? '-'} → ${after[name]?.rows ?? '-'} rows`);
}

export { newKey };
