/**
 * Issue #8, "who may do what": one table, every route of the API × every kind of caller → the
 * expected outcome, checked against the running app. The route list is the app's own OpenAPI
 * document, and the table must cover exactly that list: a new route fails this file until
 * someone decides who may call it.
 *
 * Callers (columns, in this order):
 *   anon  no token
 *   wal   a volunteer's wallet (the one whose objects the paths name)
 *   wal2  another wallet of the same currency
 *   dev   a tablet of the shop the paths name
 *   dev2  a tablet of another shop of the same currency
 *   rev   a tablet that was unpaired (revoked)
 *   coB   a coordinator of another currency only
 *   co    a coordinator of the currency the paths name
 *   adm   an admin
 *
 * Outcomes: `ok` = allowed: the status is not 401, 403 or 404 (a 2xx, or a domain 4xx such as
 * 409 already_paid or 422 insufficient_funds, when an earlier allowed caller used the object
 * up), never 5xx; `401`, `403`, `404` = exactly that status, as problem+json, with nothing
 * written to the database.
 *
 * Rules behind the table (the debatable cells):
 * - A token that is presented must be valid, even where none is needed: a revoked tablet gets
 *   401 everywhere, public routes included, so it learns at once that it was unpaired.
 * - Another currency: a route naming the currency by its code answers 403 (codes are printed
 *   on the coins, not secret); a route naming an object by id answers 404, the same as an id
 *   that does not exist, so ids of other currencies cannot be probed.
 * - Another shop's tablet: 404 for this shop's payment requests and payments (same reason);
 *   charging a card of the same currency at its own shop is allowed (card + PIN decide).
 * - Public by design: logging in, opening a wallet with card + PIN, pairing a tablet with a
 *   code (the body holds the credential; a caller's own token does not matter), and reading a
 *   payment request by its id (the QR a customer scans: shop, amount, status only), and the
 *   public view of a currency's impact (counts only, small groups hidden; docs/impact.md).
 * - Staff tokens never act as a wallet or a tablet, and wallet or tablet tokens never reach a
 *   staff route (403): a tablet cannot read a wallet's account, history or card.
 * - Admin only: staff users, new currencies, currency settings, the whole audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import {
  api, buildWorld, documentedRoutes, fingerprintDiff, fingerprinter, freshToken, roles, valid_calls,
} from './support/world.js';
import type { Fingerprint, Role, Route, World } from './support/world.js';

const table = `
                                               anon wal  wal2 dev  dev2 rev  coB  co   adm
POST   /auth/login                             ok   ok   ok   ok   ok   401  ok   ok   ok
POST   /auth/logout                            401  403  403  403  403  401  ok   ok   ok
GET    /auth/me                                401  403  403  403  403  401  ok   ok   ok
POST   /auth/password                          401  403  403  403  403  401  ok   ok   ok
POST   /users                                  401  403  403  403  403  401  403  403  ok
GET    /users                                  401  403  403  403  403  401  403  403  ok
PATCH  /users/{id}                             401  403  403  403  403  401  403  403  ok
POST   /users/{id}/sessions/revoke             401  403  403  403  403  401  403  403  ok
POST   /users/{id}/password                    401  403  403  403  403  401  403  403  ok
POST   /currencies                             401  403  403  403  403  401  403  403  ok
GET    /currencies                             401  403  403  403  403  401  ok   ok   ok
GET    /currencies/{code}                      401  403  403  403  403  401  403  ok   ok
PATCH  /currencies/{code}                      401  403  403  403  403  401  403  403  ok
GET    /currencies/{code}/supply               401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/verify               401  403  403  403  403  401  403  ok   ok
POST   /currencies/{code}/accounts             401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/accounts             401  403  403  403  403  401  403  ok   ok
GET    /accounts/{id}                          401  403  403  403  403  401  404  ok   ok
PATCH  /accounts/{id}                          401  403  403  403  403  401  404  ok   ok
GET    /accounts/{id}/entries                  401  403  403  403  403  401  404  ok   ok
POST   /currencies/{code}/transfers            401  403  403  403  403  401  403  ok   ok
POST   /currencies/{code}/transfers/batch      401  403  403  403  403  401  403  ok   ok
POST   /currencies/{code}/issue                401  403  403  403  403  401  403  ok   ok
GET    /transfers/{id}                         401  403  403  403  403  401  404  ok   ok
POST   /transfers/{id}/reverse                 401  403  403  403  403  401  404  ok   ok
POST   /transfers/{id}/post                    401  403  403  403  403  401  404  ok   ok
POST   /transfers/{id}/void                    401  403  403  403  403  401  404  ok   ok
POST   /currencies/{code}/wallets              401  403  403  403  403  401  403  ok   ok
GET    /wallets/{id}                           401  403  403  403  403  401  404  ok   ok
PATCH  /wallets/{id}                           401  403  403  403  403  401  404  ok   ok
POST   /wallets/{id}/cards                     401  403  403  403  403  401  404  ok   ok
GET    /wallets/{id}/export                    401  403  403  403  403  401  404  ok   ok
POST   /wallets/{id}/erase                     401  403  403  403  403  401  404  ok   ok
GET    /wallets/{id}/helpers                   401  403  403  403  403  401  404  ok   ok
POST   /wallets/{id}/helpers                   401  403  403  403  403  401  404  ok   ok
DELETE /wallets/{id}/helpers/{helper_wallet}   401  403  403  403  403  401  404  ok   ok
POST   /cards/{code}/block                     401  403  403  403  403  401  404  ok   ok
POST   /cards/{code}/unblock                   401  403  403  403  403  401  404  ok   ok
POST   /cards/{code}/unlock                    401  403  403  403  403  401  404  ok   ok
POST   /cards/{code}/pin                       401  403  403  403  403  401  404  ok   ok
GET    /cards/{code}/qr.svg                    401  403  403  403  403  401  404  ok   ok
GET    /currencies/{code}/cards/sheet          401  403  403  403  403  401  403  ok   ok
POST   /currencies/{code}/activities           401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/activities           401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/sessions             401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/wallets              401  403  403  403  403  401  403  ok   ok
PATCH  /activities/{id}                        401  403  403  403  403  401  404  ok   ok
POST   /activities/{id}/sessions               401  403  403  403  403  401  404  ok   ok
GET    /sessions/{id}                          401  403  403  403  403  401  404  ok   ok
PATCH  /sessions/{id}                          401  403  403  403  403  401  404  ok   ok
GET    /sessions/{id}/qr.svg                   401  403  403  403  403  401  404  ok   ok
POST   /sessions/{id}/awards                   401  403  403  403  403  401  404  ok   ok
POST   /sessions/{id}/close                    401  403  403  403  403  401  404  ok   ok
POST   /wallet/session                         ok   ok   ok   ok   ok   401  ok   ok   ok
POST   /wallet/logout                          401  ok   ok   403  403  401  403  403  403
POST   /wallet/pin                             401  ok   ok   403  403  401  403  403  403
GET    /wallet                                 401  ok   ok   403  403  401  403  403  403
GET    /currencies/{code}/agenda               ok   ok   ok   ok   ok   401  ok   ok   ok
GET    /wallet/entries                         401  ok   ok   403  403  401  403  403  403
POST   /claims                                 401  ok   ok   403  403  401  403  403  403
GET    /wallet/receive                         401  ok   ok   403  403  401  403  403  403
GET    /wallet/receivers/{code}                401  ok   ok   403  403  401  403  403  403
POST   /wallet/gifts                           401  ok   ok   403  403  401  403  403  403
GET    /wallet/helped                          401  ok   ok   403  403  401  403  403  403
POST   /currencies/{code}/shops                401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/shops                401  403  403  403  403  401  403  ok   ok
GET    /shops/{id}                             401  403  403  403  403  401  404  ok   ok
PATCH  /shops/{id}                             401  403  403  403  403  401  404  ok   ok
POST   /shops/{id}/pairing-codes               401  403  403  403  403  401  404  ok   ok
GET    /shops/{id}/devices                     401  403  403  403  403  401  404  ok   ok
DELETE /shops/{id}/devices/{device}            401  403  403  403  403  401  404  ok   ok
GET    /currencies/{code}/redemptions          401  403  403  403  403  401  403  ok   ok
POST   /redemptions/{id}/approve               401  403  403  403  403  401  404  ok   ok
POST   /redemptions/{id}/reject                401  403  403  403  403  401  404  ok   ok
GET    /currencies/{code}/payouts              401  403  403  403  403  401  403  ok   ok
POST   /currencies/{code}/payout-exports       401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/payouts.csv          401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/payouts.xml          401  403  403  403  403  401  403  ok   ok
POST   /shop/devices                           ok   ok   ok   ok   ok   401  ok   ok   ok
GET    /shop                                   401  403  403  ok   ok   401  403  403  403
GET    /shop/entries                           401  403  403  ok   ok   401  403  403  403
DELETE /shop/device                            401  403  403  ok   ok   401  403  403  403
POST   /shop/payment-requests                  401  403  403  ok   ok   401  403  403  403
GET    /payment-requests/{id}                  ok   ok   ok   ok   ok   401  ok   ok   ok
GET    /payment-requests/{id}/events           401  403  403  ok   404  401  403  403  403
POST   /payment-requests/{id}/pay              401  ok   ok   403  403  401  403  403  403
POST   /payment-requests/{id}/cancel           401  403  403  ok   404  401  403  403  403
POST   /shop/charges                           401  403  403  ok   ok   401  403  403  403
POST   /shop/refunds                           401  403  403  ok   404  401  403  403  403
POST   /shop/redemptions                       401  403  403  ok   ok   401  403  403  403
GET    /shop/redemptions                       401  403  403  ok   ok   401  403  403  403
GET    /currencies/{code}/audit-log            401  403  403  403  403  401  403  ok   ok
GET    /audit-log                              401  403  403  403  403  401  403  403  ok
GET    /currencies/{code}/reports/supply       401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/reports/volunteering 401  403  403  403  403  401  403  ok   ok
GET    /public/currencies/{code}/impact        ok   ok   ok   ok   ok   401  ok   ok   ok
GET    /currencies/{code}/reports/shops        401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/reports/balances     401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/reports/liability    401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/exports/transfers.csv 401 403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/exports/balances.csv 401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/exports/volunteering.csv 401 403 403 403 403 401  403  ok   ok
GET    /currencies/{code}/exports/shops.csv    401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/exports/liability.csv 401 403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/reports/circulation  401  403  403  403  403  401  403  ok   ok
GET    /currencies/{code}/exports/circulation.csv 401 403 403  403  403  401  403  ok   ok
`;

type Outcome = 'ok' | '401' | '403' | '404';

/** The table as route → role → outcome. */
function parseTable(text: string): Map<string, Record<Role, Outcome>> {
  const rows = new Map<string, Record<Role, Outcome>>();
  for (const line of text.split('\n').slice(2)) {
    if (line.trim() === '') continue;
    const [method, path, ...cells] = line.trim().split(/\s+/);
    if (method === undefined || path === undefined || cells.length !== roles.length) throw new Error(`bad table line: ${line}`);
    if (!cells.every((cell) => ['ok', '401', '403', '404'].includes(cell))) throw new Error(`bad outcome in: ${line}`);
    const key = `${method} ${path}`;
    if (rows.has(key)) throw new Error(`route twice in the table: ${key}`);
    rows.set(key, Object.fromEntries(roles.map((role, i) => [role, cells[i]])) as Record<Role, Outcome>);
  }
  return rows;
}

const expected = parseTable(table);

let t: TestApp;
let w: World;
let fingerprint: () => Promise<Fingerprint>;
let documented: Route[];

beforeAll(async () => {
  t = await createTestApp();
  w = await buildWorld(t);
  fingerprint = await fingerprinter(t);
  documented = await documentedRoutes(t);
});

afterAll(async () => {
  await t?.close();
});

/** What the reply says about access: ok, or the refusal it is. */
function outcomeOf(reply: Reply): Outcome | `other ${number}` {
  if (reply.status >= 500) return `other ${reply.status}`;
  if (reply.status === 401 || reply.status === 403 || reply.status === 404) return String(reply.status) as Outcome;
  return 'ok';
}

describe('who may do what', () => {
  it('the table covers exactly the routes of the OpenAPI document', () => {
    expect([...expected.keys()].sort()).toEqual(documented.map((r) => r.key).sort());
    // And there is a valid request for each, so "allowed" is tested with objects that exist.
    expect(Object.keys(valid_calls).sort()).toEqual(documented.map((r) => r.key).sort());
  });

  it('the table has a row per route and a column for each of the 9 callers', () => {
    expect(expected.size).toBe(documented.length);
    for (const row of expected.values()) expect(Object.keys(row)).toEqual([...roles]);
  });

  it.each([...expected.keys()])('%s: each caller gets what the table says; a refusal writes nothing', async (key) => {
    const row = expected.get(key);
    const build = valid_calls[key];
    if (row === undefined || build === undefined) throw new Error(`no row or request for ${key}`);
    const method = key.split(' ')[0] ?? 'GET';
    const actual: Record<string, string> = {};
    const details: string[] = [];
    for (const role of roles) {
      const call = await build(w);
      const token = role === 'anonymous' ? undefined : (call.ends_session === true ? await freshToken(w, role) : w.tokens[role]);
      const before = row[role] === 'ok' ? undefined : await fingerprint();
      const reply = await t.request(method, `${api}${call.path}`, {
        ...(token === undefined ? {} : { token }),
        ...(call.body === undefined ? {} : { body: call.body }),
        ...(call.moves_value === true ? { idempotencyKey: newKey() } : {}),
      });
      actual[role] = outcomeOf(reply);
      if (actual[role] !== row[role]) details.push(`${role}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
      if (before !== undefined && actual[role] === row[role]) {
        expect(reply.headers.get('content-type'), `${role} ${key}`).toMatch(/^application\/problem\+json/);
        expect(reply.body, `${role} ${key}`).toMatchObject({ status: reply.status, code: expect.any(String) });
        expect(fingerprintDiff(before, await fingerprint()), `${role} ${key} wrote to the database`).toEqual([]);
      }
    }
    expect(actual, details.join('\n')).toEqual(row);
  });
});
