/**
 * Issue #6, audit trail: every staff, tablet and wallet action that changes something is
 * recorded append-only with who, what, on which object, in which currency, from where and the
 * changed fields, never a secret; coordinators read their currency's log, admins everything.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, openAccount, rowCounts } from './support/http-fixtures.js';
import { activityOf, openSession, openWallet, programmeOf, registerVolunteer, walletSession } from './support/volunteer-fixtures.js';
import { belgianIban, pair, shopWithTablet } from './support/shop-fixtures.js';

let t: TestApp;
let admin_id: string;
let aua_id: number;
let coord: { id: string; email: string; password: string; token: string };

/** Every secret a test handed to the service: none may ever show up in the audit log. */
const secrets = new Set<string>();
function secret(...values: string[]): void {
  for (const value of values) secrets.add(value);
}

// PINs of six digits; the search below only counts them as whole values, not inside ids or timestamps.
const pin_right = '918273';
const pin_wrong = '837261';
const pin_payer = '564738';
secret(pin_right, pin_wrong, pin_payer);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  t = await createTestApp();
  secret(t.adminToken);
  admin_id = (await t.request('GET', '/api/v1/auth/me', { token: t.adminToken })).body.id as string;
  aua_id = (await createCurrency(t, 'AUA')).id;
  await createCurrency(t, 'AUB');
  const email = `coord-${randomBytes(4).toString('hex')}@example.org`;
  const password = `coordinator-secret-${randomBytes(6).toString('hex')}`;
  const created = await t.request('POST', '/api/v1/users', {
    token: t.adminToken, body: { email, password, role: 'coordinator', currencies: ['AUA'] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const login = await t.request('POST', '/api/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  coord = { id: created.body.id as string, email, password, token: login.body.token as string };
  secret(password, coord.token);
});

afterAll(async () => {
  await t?.close();
});

async function lastAuditId(): Promise<bigint> {
  const [row] = await t.sql<{ id: bigint }[]>`SELECT coalesce(max(id), 0)::bigint AS id FROM audit_log`;
  return row!.id;
}

/** The entries written after `mark`, oldest first, as the admin's GET /audit-log shows them. */
// Tests read whatever JSON came back.
async function entriesAfter(mark: bigint): Promise<any[]> {
  const reply = await t.request('GET', '/api/v1/audit-log?limit=500', { token: t.adminToken });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return (reply.body.items as any[]).filter((e) => BigInt(e.id) > mark).reverse();
}

interface Expected {
  action: string;
  actor: { kind: string; id: string | null };
  currency: string | null;
  object: { kind: string; id: string } | null;
  /** Compared exactly: nothing more may be recorded. */
  changes: Record<string, unknown>;
}

/**
 * Runs `act` (expecting `status`) and checks that it wrote exactly one audit entry, `expected`,
 * with the request's id and a time within the request.
 */
async function recorded(act: () => Promise<Reply>, status: number, expected: Expected): Promise<{ reply: Reply; entry: any }> {
  const mark = await lastAuditId();
  const started_ms = Date.now();
  const reply = await act();
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  const ended_ms = Date.now();
  const entries = await entriesAfter(mark);
  expect(entries.map((e) => e.action)).toEqual([expected.action]);
  const entry = entries[0];
  // Ids as recorded; the names shown next to them are test/audit-readable.test.ts's.
  const withoutName = (named: { name?: unknown } | null) => {
    if (named === null) return null;
    const { name, ...rest } = named;
    expect(name === null || typeof name === 'string').toBe(true);
    return rest;
  };
  expect(withoutName(entry.actor)).toEqual(expected.actor);
  expect(entry.currency).toBe(expected.currency);
  expect(withoutName(entry.object)).toEqual(expected.object);
  expect(entry.changes).toEqual(expected.changes);
  expect(entry.request_id).toEqual(expect.any(String));
  expect(entry.request_id).toBe(reply.headers.get('x-request-id'));
  // Same machine, same clock; the API shows milliseconds.
  expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(started_ms - 5);
  expect(Date.parse(entry.at)).toBeLessThanOrEqual(ended_ms + 5);
  return { reply, entry };
}

/** Runs `act` and checks that it wrote no audit entry at all. */
async function notRecorded(act: () => Promise<Reply>): Promise<Reply> {
  const mark = await lastAuditId();
  const reply = await act();
  expect(await lastAuditId()).toBe(mark);
  return reply;
}

const user = (id: string) => ({ kind: 'user', id });
const anonymous = { kind: 'anonymous', id: null };

describe('what the audit log records', () => {
  it('staff: user creation, logins, failed logins with the reason, logout', async () => {
    const email = `auditor-${randomBytes(4).toString('hex')}@example.org`;
    const password = `auditor-secret-${randomBytes(6).toString('hex')}`;
    const wrong_password = `not-the-password-${randomBytes(6).toString('hex')}`;
    secret(password, wrong_password);

    const { reply: created } = await recorded(() => t.request('POST', '/api/v1/users', {
      token: t.adminToken, body: { email, password, role: 'coordinator', currencies: ['AUA'] },
    }), 201, {
      action: 'user.create', actor: user(admin_id), currency: null, object: expect.anything(),
      changes: { email, role: 'coordinator', currencies: ['AUA'] },
    });
    const user_id = created.body.id as string;

    const { reply: login } = await recorded(() => t.request('POST', '/api/v1/auth/login', { body: { email, password } }), 200, {
      action: 'auth.login', actor: user(user_id), currency: null, object: { kind: 'user', id: user_id }, changes: {},
    });
    secret(login.body.token as string);

    await recorded(() => t.request('POST', '/api/v1/auth/login', { body: { email, password: wrong_password } }), 401, {
      action: 'auth.login_failed', actor: anonymous, currency: null, object: null, changes: { email, reason: 'wrong password' },
    });
    const stranger = `nobody-${randomBytes(4).toString('hex')}@example.org`;
    await recorded(() => t.request('POST', '/api/v1/auth/login', { body: { email: stranger, password } }), 401, {
      action: 'auth.login_failed', actor: anonymous, currency: null, object: null, changes: { email: stranger, reason: 'unknown email' },
    });

    await recorded(() => t.request('POST', '/api/v1/auth/logout', { token: login.body.token }), 204, {
      action: 'auth.logout', actor: user(user_id), currency: null, object: null, changes: {},
    });

    await t.sql`UPDATE users SET disabled_at = now() WHERE id = ${user_id}`;
    await recorded(() => t.request('POST', '/api/v1/auth/login', { body: { email, password } }), 401, {
      action: 'auth.login_failed', actor: anonymous, currency: null, object: null, changes: { email, reason: 'disabled' },
    });

    // A request refused by validation is not an attempt: nothing is written.
    await notRecorded(async () => {
      const reply = await t.request('POST', '/api/v1/auth/login', { body: { email: 'not an email', password } });
      expect(reply.status).toBe(422);
      return reply;
    });
  });

  it('currencies: creation and settings (admin)', async () => {
    await recorded(() => t.request('POST', '/api/v1/currencies', {
      token: t.adminToken, body: { code: 'AUC', name: 'Audit coin', scale: 2, euro_per_unit: '0.10' },
    }), 201, {
      action: 'currency.create', actor: user(admin_id), currency: 'AUC', object: { kind: 'currency', id: 'AUC' },
      changes: { code: 'AUC', name: 'Audit coin', scale: 2, euro_per_unit: '0.10' },
    });
    await recorded(() => t.request('PATCH', '/api/v1/currencies/AUC', {
      token: t.adminToken, body: { name: 'Audit coin 2', payment_request_ttl_s: 120 },
    }), 200, {
      action: 'currency.update', actor: user(admin_id), currency: 'AUC', object: { kind: 'currency', id: 'AUC' },
      changes: { name: 'Audit coin 2', payment_request_ttl_s: 120 },
    });
    // Refused: a coordinator may not change a currency, and nothing is recorded.
    await notRecorded(async () => {
      const reply = await t.request('PATCH', '/api/v1/currencies/AUA', { token: coord.token, body: { name: 'Mine' } });
      expectProblem(reply, 403, 'forbidden');
      return reply;
    });
  });

  it('accounts: opening and status changes, by the coordinator who did it', async () => {
    const { reply: opened } = await recorded(() => t.request('POST', '/api/v1/currencies/AUA/accounts', {
      token: coord.token, body: { kind: 'shop', name: 'Bakkerij Audit' },
    }), 201, {
      action: 'account.create', actor: user(coord.id), currency: 'AUA', object: expect.anything(),
      changes: { kind: 'shop', name: 'Bakkerij Audit' },
    });
    const account = opened.body.id as string;
    await recorded(() => t.request('PATCH', `/api/v1/accounts/${account}`, { token: coord.token, body: { status: 'frozen', reason: 'checking' } }), 200, {
      action: 'account.update', actor: user(coord.id), currency: 'AUA', object: { kind: 'account', id: account },
      changes: { status: { from: 'active', to: 'frozen' }, reason: 'checking' },
    });
    await recorded(() => t.request('PATCH', `/api/v1/accounts/${account}`, { token: coord.token, body: { status: 'closed' } }), 200, {
      action: 'account.update', actor: user(coord.id), currency: 'AUA', object: { kind: 'account', id: account },
      changes: { status: { from: 'frozen', to: 'closed' } },
    });
    // A refused change (a closed account stays closed) writes nothing.
    await notRecorded(async () => {
      const reply = await t.request('PATCH', `/api/v1/accounts/${account}`, { token: coord.token, body: { status: 'active' } });
      expectProblem(reply, 422, 'account_closed');
      return reply;
    });
  });

  it('transfers, issues, batches, post, void and reversal; replays and refused transfers add nothing', async () => {
    const programme = await openAccount(t, 'AUA', 'programme', 'Audit budget');
    const wallet = await openAccount(t, 'AUA', 'wallet', 'Audit wallet');
    const { reply: issued } = await recorded(() => t.request('POST', '/api/v1/currencies/AUA/issue', {
      token: coord.token, idempotencyKey: newKey(), body: { to_account: programme, amount: '500.00', memo: 'budget 2026' },
    }), 201, {
      action: 'transfer.issue', actor: user(coord.id), currency: 'AUA', object: expect.anything(),
      changes: { to_account: programme, amount: '500.00', memo: 'budget 2026' },
    });
    expect(issued.body.code).toBe('budget');

    const key = newKey();
    const body = { debit_account: programme, credit_account: wallet, amount: '10.00', code: 'reward' };
    const { reply: moved, entry } = await recorded(() => t.request('POST', '/api/v1/currencies/AUA/transfers', {
      token: coord.token, idempotencyKey: key, body,
    }), 201, {
      action: 'transfer.create', actor: user(coord.id), currency: 'AUA', object: expect.anything(),
      changes: { ...body, pending: false },
    });
    expect(entry.object).toEqual({ kind: 'transfer', id: moved.body.id, name: null });

    // The same request again is a replay: same answer, no second entry.
    const replay = await notRecorded(() => t.request('POST', '/api/v1/currencies/AUA/transfers', { token: coord.token, idempotencyKey: key, body }));
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(replay.body.id).toBe(moved.body.id);

    // A refused transfer writes neither a transfer nor an audit entry.
    const counts = await rowCounts(t);
    const refused = await notRecorded(() => t.request('POST', '/api/v1/currencies/AUA/transfers', {
      token: coord.token, idempotencyKey: newKey(), body: { ...body, amount: '100000.00' },
    }));
    expectProblem(refused, 422, 'insufficient_funds');
    expect((await rowCounts(t)).transfers).toBe(counts.transfers);

    await recorded(() => t.request('POST', '/api/v1/currencies/AUA/transfers/batch', {
      token: coord.token, idempotencyKey: newKey(),
      body: { atomic: true, transfers: [{ ...body, amount: '1.00' }, { ...body, amount: '2.00' }] },
    }), 200, {
      action: 'transfer.batch', actor: user(coord.id), currency: 'AUA', object: null,
      changes: { atomic: true, items: 2, created: 2 },
    });

    const pending_a = (await t.request('POST', '/api/v1/currencies/AUA/transfers', {
      token: coord.token, idempotencyKey: newKey(), body: { ...body, amount: '4.00', pending: true },
    })).body;
    const { reply: posted } = await recorded(() => t.request('POST', `/api/v1/transfers/${pending_a.id}/post`, {
      token: coord.token, idempotencyKey: newKey(), body: { amount: '3.00' },
    }), 201, {
      action: 'transfer.post', actor: user(coord.id), currency: 'AUA', object: { kind: 'transfer', id: pending_a.id },
      changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ resolution: posted.body.id, amount: '3.00' });

    const pending_b = (await t.request('POST', '/api/v1/currencies/AUA/transfers', {
      token: coord.token, idempotencyKey: newKey(), body: { ...body, amount: '4.00', pending: true },
    })).body;
    const { reply: voided } = await recorded(() => t.request('POST', `/api/v1/transfers/${pending_b.id}/void`, {
      token: coord.token, idempotencyKey: newKey(),
    }), 201, {
      action: 'transfer.void', actor: user(coord.id), currency: 'AUA', object: { kind: 'transfer', id: pending_b.id },
      changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ resolution: voided.body.id, amount: null });

    const { reply: reversal } = await recorded(() => t.request('POST', `/api/v1/transfers/${moved.body.id}/reverse`, {
      token: t.adminToken, idempotencyKey: newKey(), body: { memo: 'wrong wallet' },
    }), 201, {
      action: 'transfer.reverse', actor: user(admin_id), currency: 'AUA', object: { kind: 'transfer', id: moved.body.id },
      changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ reversal: reversal.body.id, memo: 'wrong wallet', amount: reversal.body.amount });
  });

  it('volunteers: registration, wallet login and logout, failed PINs with the reason, lockout, card block/unblock/unlock/reissue', async () => {
    const { reply: registered } = await recorded(() => t.request('POST', '/api/v1/currencies/AUA/wallets', {
      token: coord.token, body: { display_name: 'Ann Audit', pin: pin_right },
    }), 201, {
      action: 'wallet.register', actor: user(coord.id), currency: 'AUA', object: expect.anything(),
      changes: expect.anything(),
    });
    const account = registered.body.account.id as string;
    const card = registered.body.card.code as string;
    const last = (await entriesAfter((await lastAuditId()) - 1n))[0];
    expect(last.object).toMatchObject({ kind: 'wallet', id: account });
    expect(last.changes).toEqual({ display_name: 'Ann Audit', language: 'nl', card });

    const card_object = { kind: 'card', id: card };
    const wallet_actor = { kind: 'wallet', id: account };
    const { reply: opened } = await recorded(() => walletSession(t, card, pin_right), 200, {
      action: 'wallet.login', actor: wallet_actor, currency: 'AUA', object: card_object, changes: {},
    });
    secret(opened.body.token as string);
    await recorded(() => t.request('POST', '/api/v1/wallet/logout', { token: opened.body.token }), 204, {
      action: 'wallet.logout', actor: wallet_actor, currency: 'AUA', object: card_object, changes: {},
    });

    for (let failures = 1; failures <= 4; failures++) {
      await recorded(() => walletSession(t, card, pin_wrong), 401, {
        action: 'card.pin_failed', actor: anonymous, currency: 'AUA', object: card_object,
        changes: { reason: 'wrong PIN', pin_failures: failures },
      });
    }
    await recorded(() => walletSession(t, card, pin_wrong), 423, {
      action: 'card.locked', actor: anonymous, currency: 'AUA', object: card_object,
      changes: { reason: 'wrong PIN', pin_failures: 5, lock_count: 1, locked_until: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    // Locked: even the right PIN is refused, and the attempt is recorded.
    await recorded(() => walletSession(t, card, pin_right), 423, {
      action: 'card.pin_failed', actor: anonymous, currency: 'AUA', object: card_object, changes: { reason: 'locked' },
    });
    const unknown = await recorded(() => walletSession(t, 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-Z', pin_right), 401, {
      action: 'card.pin_failed', actor: anonymous, currency: null, object: expect.anything(), changes: { reason: 'unknown card' },
    });
    expect(unknown.entry.object.kind).toBe('card');

    await recorded(() => t.request('POST', `/api/v1/cards/${card}/unlock`, { token: coord.token }), 200, {
      action: 'card.unlock', actor: user(coord.id), currency: 'AUA', object: card_object,
      changes: { wallet: account, status: { from: 'active', to: 'active' }, pin_failures: { from: 5, to: 0 } },
    });
    await recorded(() => t.request('POST', `/api/v1/cards/${card}/block`, { token: coord.token }), 200, {
      action: 'card.block', actor: user(coord.id), currency: 'AUA', object: card_object,
      changes: { wallet: account, status: { from: 'active', to: 'blocked' }, pin_failures: { from: 0, to: 0 } },
    });
    await recorded(() => walletSession(t, card, pin_right), 401, {
      action: 'card.pin_failed', actor: anonymous, currency: 'AUA', object: card_object, changes: { reason: 'card blocked' },
    });
    await recorded(() => t.request('POST', `/api/v1/cards/${card}/unblock`, { token: coord.token }), 200, {
      action: 'card.unblock', actor: user(coord.id), currency: 'AUA', object: card_object,
      changes: { wallet: account, status: { from: 'blocked', to: 'active' }, pin_failures: { from: 0, to: 0 } },
    });
    const { reply: reissued } = await recorded(() => t.request('POST', `/api/v1/wallets/${account}/cards`, { token: coord.token }), 201, {
      action: 'card.reissue', actor: user(coord.id), currency: 'AUA', object: { kind: 'wallet', id: account }, changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ card: reissued.body.code });
    await recorded(() => walletSession(t, card, pin_right), 401, {
      action: 'card.pin_failed', actor: anonymous, currency: 'AUA', object: card_object, changes: { reason: 'card replaced' },
    });

    // A replaced card cannot be unblocked: refused, nothing recorded.
    await notRecorded(async () => {
      const reply = await t.request('POST', `/api/v1/cards/${card}/unblock`, { token: coord.token });
      expectProblem(reply, 409, 'card_replaced');
      return reply;
    });
  });

  it('activities and sessions: creation, changes, awards by card and claims by QR; a replayed award adds nothing', async () => {
    const programme = await programmeOf(t, 'AUA');
    await issue(t, 'AUA', programme, '1000.00');
    const activity_body = { name: 'Audit walk', category: 'buurtbeheer', rate_per_hour: '5.00', programme_account: programme };
    const { reply: created } = await recorded(() => t.request('POST', '/api/v1/currencies/AUA/activities', {
      token: coord.token, body: activity_body,
    }), 201, { action: 'activity.create', actor: user(coord.id), currency: 'AUA', object: expect.anything(), changes: activity_body });
    const activity = created.body.id as string;
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].object).toMatchObject({ kind: 'activity', id: activity });
    await recorded(() => t.request('PATCH', `/api/v1/activities/${activity}`, { token: coord.token, body: { rate_per_hour: '6.00', active: true } }), 200, {
      action: 'activity.update', actor: user(coord.id), currency: 'AUA', object: { kind: 'activity', id: activity },
      changes: { rate_per_hour: '6.00', active: true },
    });

    const { reply: opened } = await recorded(() => t.request('POST', `/api/v1/activities/${activity}/sessions`, {
      token: coord.token, body: { hours: '2', max_claims: 10 },
    }), 201, { action: 'session.create', actor: user(coord.id), currency: 'AUA', object: expect.anything(), changes: expect.anything() });
    const session = opened.body;
    secret(session.claim_token as string);
    expect((await entriesAfter((await lastAuditId()) - 1n))[0]).toMatchObject({
      object: { kind: 'session', id: session.id },
      changes: { activity, hours: '2.00', max_claims: 10, expires_at: session.expires_at },
    });

    const ann = await registerVolunteer(t, 'AUA', { pin: pin_right, token: coord.token });
    const key = newKey();
    const { reply: awarded } = await recorded(() => t.request('POST', `/api/v1/sessions/${session.id}/awards`, {
      token: coord.token, idempotencyKey: key, body: { card: ann.code },
    }), 201, { action: 'session.award', actor: user(coord.id), currency: 'AUA', object: { kind: 'session', id: session.id }, changes: expect.anything() });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ wallet: ann.account, card: ann.code, hours: '2.00', transfer: awarded.body.id });
    const replay = await notRecorded(() => t.request('POST', `/api/v1/sessions/${session.id}/awards`, {
      token: coord.token, idempotencyKey: key, body: { card: ann.code },
    }));
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');

    const bob = await registerVolunteer(t, 'AUA', { pin: pin_right, token: coord.token });
    const bob_token = await openWallet(t, bob);
    secret(bob_token);
    const { reply: claimed } = await recorded(() => t.request('POST', '/api/v1/claims', {
      token: bob_token, idempotencyKey: newKey(), body: { token: session.claim_token },
    }), 201, {
      action: 'session.claim', actor: { kind: 'wallet', id: bob.account }, currency: 'AUA', object: { kind: 'session', id: session.id },
      changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ wallet: bob.account, hours: '2.00', transfer: claimed.body.id });
    // A second claim of the same session is refused and not recorded.
    await notRecorded(async () => {
      const reply = await t.request('POST', '/api/v1/claims', { token: bob_token, idempotencyKey: newKey(), body: { token: session.claim_token } });
      expect(reply.status).toBe(409);
      return reply;
    });
  });

  it('shops: creation, update, pairing codes, pairing and failed pairing, revocation', async () => {
    const iban = belgianIban(4242);
    const { reply: created } = await recorded(() => t.request('POST', '/api/v1/currencies/AUA/shops', {
      token: coord.token, body: { name: 'Fietsen Audit', iban },
    }), 201, { action: 'shop.create', actor: user(coord.id), currency: 'AUA', object: expect.anything(), changes: { name: 'Fietsen Audit', iban } });
    const shop = created.body.account.id as string;
    const first_code = created.body.pairing_code as string;
    secret(first_code, first_code.replace(/-/g, ''));
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].object).toMatchObject({ kind: 'shop', id: shop });

    await recorded(() => t.request('PATCH', `/api/v1/shops/${shop}`, { token: coord.token, body: { address: 'Kerkstraat 1', contact: null } }), 200, {
      action: 'shop.update', actor: user(coord.id), currency: 'AUA', object: { kind: 'shop', id: shop },
      changes: { address: 'Kerkstraat 1', contact: null },
    });

    const { reply: coded } = await recorded(() => t.request('POST', `/api/v1/shops/${shop}/pairing-codes`, { token: coord.token }), 201, {
      action: 'pairing_code.create', actor: user(coord.id), currency: 'AUA', object: { kind: 'shop', id: shop }, changes: expect.anything(),
    });
    const second_code = coded.body.pairing_code as string;
    secret(second_code, second_code.replace(/-/g, ''));
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ expires_at: coded.body.expires_at });

    const typo = 'QQQQ-RRRR';
    secret(typo, 'QQQQRRRR');
    await recorded(() => pair(t, typo, 'Till typo'), 401, {
      action: 'device.pair_failed', actor: anonymous, currency: null, object: null, changes: { device_name: 'Till typo' },
    });
    const { reply: paired } = await recorded(() => pair(t, first_code, 'Till 1'), 201, {
      action: 'device.pair', actor: expect.anything(), currency: 'AUA', object: { kind: 'shop', id: shop }, changes: expect.anything(),
    });
    const device = paired.body.device.id as string;
    secret(paired.body.token as string);
    expect((await entriesAfter((await lastAuditId()) - 1n))[0]).toMatchObject({
      actor: { kind: 'device', id: device }, changes: { device, name: 'Till 1' },
    });
    // A used code fails the second time, and that is recorded as a failed pairing.
    await recorded(() => pair(t, first_code, 'Till again'), 401, {
      action: 'device.pair_failed', actor: anonymous, currency: null, object: null, changes: { device_name: 'Till again' },
    });

    await recorded(() => t.request('DELETE', `/api/v1/shops/${shop}/devices/${device}`, { token: coord.token }), 204, {
      action: 'device.revoke', actor: user(coord.id), currency: 'AUA', object: { kind: 'device', id: device }, changes: { shop },
    });
  });

  it('shop tablets and wallets: payment requests, payments, card charges, refunds, cash-out request, approval, rejection, payout export', async () => {
    const { shop, tablet } = await shopWithTablet(t, 'AUA', { name: 'Kruidenier Audit' });
    secret(shop.pairing_code, shop.pairing_code.replace(/-/g, ''), tablet.token);
    const device = { kind: 'device', id: tablet.device };
    const payer = await registerVolunteer(t, 'AUA', { pin: pin_payer, token: coord.token });
    await issue(t, 'AUA', payer.account, '100.00');
    const payer_token = await openWallet(t, payer);
    secret(payer_token);

    const { reply: asked } = await recorded(() => t.request('POST', '/api/v1/shop/payment-requests', {
      token: tablet.token, body: { amount: '3.00' },
    }), 201, { action: 'payment_request.create', actor: device, currency: 'AUA', object: expect.anything(), changes: { amount: '3.00', memo: null } });
    const request = asked.body.id as string;
    const { reply: paid } = await recorded(() => t.request('POST', `/api/v1/payment-requests/${request}/pay`, {
      token: payer_token, idempotencyKey: newKey(),
    }), 201, {
      action: 'payment.pay', actor: { kind: 'wallet', id: payer.account }, currency: 'AUA', object: { kind: 'payment_request', id: request },
      changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ amount: '3.00', transfer: paid.body.id });

    const charge_key = newKey();
    const charge_body = { card: payer.code, pin: pin_payer, amount: '2.50' };
    const { reply: charged } = await recorded(() => t.request('POST', '/api/v1/shop/charges', {
      token: tablet.token, idempotencyKey: charge_key, body: charge_body,
    }), 201, { action: 'payment.charge', actor: device, currency: 'AUA', object: expect.anything(), changes: { card: payer.code, wallet: payer.account, amount: '2.50', memo: null } });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].object).toMatchObject({ kind: 'transfer', id: charged.body.id });
    await recorded(() => t.request('POST', '/api/v1/shop/charges', {
      token: tablet.token, idempotencyKey: newKey(), body: { ...charge_body, pin: pin_wrong },
    }), 422, {
      action: 'card.pin_failed', actor: device, currency: 'AUA', object: { kind: 'card', id: payer.code }, changes: { reason: 'wrong PIN', pin_failures: 1 },
    });

    const { reply: refunded } = await recorded(() => t.request('POST', '/api/v1/shop/refunds', {
      token: tablet.token, idempotencyKey: newKey(), body: { transfer_id: paid.body.id, amount: '1.00' },
    }), 201, { action: 'payment.refund', actor: device, currency: 'AUA', object: { kind: 'transfer', id: paid.body.id }, changes: expect.anything() });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ amount: '1.00', refund: refunded.body.id });

    const other = (await t.request('POST', '/api/v1/shop/payment-requests', { token: tablet.token, body: { amount: '9.00' } })).body;
    await recorded(() => t.request('POST', `/api/v1/payment-requests/${other.id}/cancel`, { token: tablet.token }), 200, {
      action: 'payment_request.cancel', actor: device, currency: 'AUA', object: { kind: 'payment_request', id: other.id }, changes: {},
    });

    const redeem_key = newKey();
    const { reply: redemption } = await recorded(() => t.request('POST', '/api/v1/shop/redemptions', {
      token: tablet.token, idempotencyKey: redeem_key, body: { amount: '2.00' },
    }), 201, { action: 'redemption.request', actor: device, currency: 'AUA', object: expect.anything(), changes: { amount: '2.00' } });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].object).toMatchObject({ kind: 'redemption', id: redemption.body.id });
    const replay = await notRecorded(() => t.request('POST', '/api/v1/shop/redemptions', {
      token: tablet.token, idempotencyKey: redeem_key, body: { amount: '2.00' },
    }));
    expect(replay.headers.get('idempotency-replayed')).toBe('true');

    const { reply: approved } = await recorded(() => t.request('POST', `/api/v1/redemptions/${redemption.body.id}/approve`, { token: coord.token }), 200, {
      action: 'redemption.approve', actor: user(coord.id), currency: 'AUA', object: { kind: 'redemption', id: redemption.body.id },
      changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0].changes).toEqual({ amount: '2.00', payout: approved.body.payout.id, euro_amount: '0.20' });

    const second = (await t.request('POST', '/api/v1/shop/redemptions', { token: tablet.token, idempotencyKey: newKey(), body: { amount: '1.50' } })).body;
    await recorded(() => t.request('POST', `/api/v1/redemptions/${second.id}/reject`, { token: coord.token }), 200, {
      action: 'redemption.reject', actor: user(coord.id), currency: 'AUA', object: { kind: 'redemption', id: second.id },
      changes: { amount: '1.50', payout: null, euro_amount: null },
    });
    // Deciding again is refused and not recorded.
    await notRecorded(async () => {
      const reply = await t.request('POST', `/api/v1/redemptions/${second.id}/approve`, { token: coord.token });
      expect(reply.status).toBe(409);
      return reply;
    });

    const payer_iban = 'BE71096123456769';
    await recorded(() => t.request('PATCH', '/api/v1/currencies/AUA', { token: t.adminToken, body: { payer_name: 'Stad Gent', payer_iban } }), 200, {
      action: 'currency.update', actor: user(admin_id), currency: 'AUA', object: { kind: 'currency', id: 'AUA' },
      changes: { payer_name: 'Stad Gent', payer_iban },
    });
    const { reply: exported } = await recorded(() => t.request('POST', '/api/v1/currencies/AUA/payout-exports', { token: coord.token }), 201, {
      action: 'payout.export', actor: user(coord.id), currency: 'AUA', object: expect.anything(), changes: expect.anything(),
    });
    expect((await entriesAfter((await lastAuditId()) - 1n))[0]).toMatchObject({
      object: { kind: 'payout_export', id: exported.body.id },
      changes: { message_id: exported.body.message_id, payouts: 1, total_euros: '0.20' },
    });

    // A cash-out decision and its audit record commit together: when the record cannot be
    // written, the decision is not made either (no payout, the coins still reserved).
    const third = (await t.request('POST', '/api/v1/shop/redemptions', { token: tablet.token, idempotencyKey: newKey(), body: { amount: '1.00' } })).body;
    await t.sql`ALTER TABLE audit_log ADD CONSTRAINT test_no_approvals CHECK (action <> 'redemption.approve') NOT VALID`;
    try {
      const refused = await t.request('POST', `/api/v1/redemptions/${third.id}/approve`, { token: coord.token });
      expect(refused.status).toBe(500);
    } finally {
      await t.sql`ALTER TABLE audit_log DROP CONSTRAINT test_no_approvals`;
    }
    const [state] = await t.sql<{ status: string; payouts: bigint }[]>`
      SELECT status, (SELECT count(*) FROM payouts WHERE redemption_id = ${third.id}) AS payouts FROM redemptions WHERE id = ${third.id}`;
    expect(state).toEqual({ status: 'pending', payouts: 0n });
    await recorded(() => t.request('POST', `/api/v1/redemptions/${third.id}/approve`, { token: coord.token }), 200, {
      action: 'redemption.approve', actor: user(coord.id), currency: 'AUA', object: { kind: 'redemption', id: third.id }, changes: expect.anything(),
    });
  });

  it('records where a request came from: X-Forwarded-For only behind a trusted proxy', async () => {
    // The proxy appends the address it saw: the last entry; the first was sent by the client.
    const headers = { 'X-Forwarded-For': '10.0.0.1, 203.0.113.7' };
    const login = { email: 'forwarded@example.org', password: 'whatever-it-is' };
    secret(login.password);
    const direct = await recorded(() => t.request('POST', '/api/v1/auth/login', { body: login, headers }), 401, {
      action: 'auth.login_failed', actor: anonymous, currency: null, object: null, changes: { email: login.email, reason: 'unknown email' },
    });
    // Requests made inside the process have no socket: no address, and the header is not believed.
    expect(direct.entry.ip).toBeNull();
    const proxied = await createTestApp({ TRUST_PROXY: 'true' }, { database_url: t.database_url });
    try {
      secret(proxied.adminToken);
      const behind = await recorded(() => proxied.request('POST', '/api/v1/auth/login', { body: login, headers }), 401, {
        action: 'auth.login_failed', actor: anonymous, currency: null, object: null, changes: { email: login.email, reason: 'unknown email' },
      });
      expect(behind.entry.ip).toBe('203.0.113.7');
    } finally {
      await proxied.close();
    }
  });

  it('takes a client\'s X-Request-Id only behind a trusted proxy and only as 1–64 of [A-Za-z0-9._-]; else a new one; the answer names what the log holds', async () => {
    const login = { email: 'request-id@example.org', password: 'whatever-it-is' };
    secret(login.password);
    const failedLogin = (app: TestApp, request_id: string) => recorded(
      () => app.request('POST', '/api/v1/auth/login', { body: login, headers: { 'X-Request-Id': request_id } }), 401,
      { action: 'auth.login_failed', actor: anonymous, currency: null, object: null, changes: { email: login.email, reason: 'unknown email' } },
    );
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

    // No trusted proxy: even a well-formed id is the client's word, so it is not taken.
    const direct = await failedLogin(t, 'edge-7f3a_b2');
    expect(direct.entry.request_id).toMatch(uuid);

    const proxied = await createTestApp({ TRUST_PROXY: 'true' }, { database_url: t.database_url });
    try {
      secret(proxied.adminToken);
      for (const good of ['edge-7f3a.b_2', 'a', 'X'.repeat(64), '5b7a0a52-9a44-4f41-9a57-1b8d2f0c6e11']) {
        const { entry } = await failedLogin(proxied, good);
        expect(entry.request_id, good).toBe(good);
      }
      for (const bad of ['X'.repeat(65), 'two words', 'a,b', '<script>', 'id=1', 'naïve', 'tab\there', "'; DROP TABLE audit_log; --"]) {
        const { entry } = await failedLogin(proxied, bad);
        expect(entry.request_id, bad).toMatch(uuid);
      }
      // Every request gets one, also without the header and on answers that write nothing.
      const plain = await proxied.request('GET', '/livez');
      expect(plain.headers.get('x-request-id')).toMatch(uuid);
    } finally {
      await proxied.close();
    }
  });

  it('no entry anywhere holds a PIN, password, token or pairing code', async () => {
    const rows = await t.sql<{ text: string }[]>`SELECT a::text AS text FROM audit_log a ORDER BY id`;
    expect(rows.length).toBeGreaterThan(50);
    expect(secrets.size).toBeGreaterThan(20);
    // A PIN could occur by chance inside a hex id or a timestamp's microseconds: only a whole value counts.
    const holds = (text: string, s: string) => (/^[0-9]+$/.test(s)
      ? new RegExp(`(?<![0-9a-fA-F.])${s}(?![0-9a-fA-F])`).test(text)
      : text.includes(s));
    const leaks = [...secrets].flatMap((s) => rows.filter((r) => holds(r.text, s)).map((r) => `${s} in ${r.text}`));
    expect(leaks).toEqual([]);
    // The search itself works: values that are recorded are found this way.
    expect(rows.some((r) => r.text.includes(coord.email))).toBe(true);
    expect(holds('{"pin": "918273"}', pin_right)).toBe(true);
    expect(rows.some((r) => r.text.includes('Fietsen Audit'))).toBe(true);
  });
});

describe('reading the audit log', () => {
  /** Follows next_cursor from the first page to the last; returns every entry, in page order. */
  async function walk(path: string, token: string, limit: number): Promise<any[]> {
    const seen: any[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const separator = path.includes('?') ? '&' : '?';
      const url = `${path}${separator}limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const reply = await t.request('GET', url, { token });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...reply.body.items);
      cursor = reply.body.next_cursor;
      if (cursor === null) return seen;
    }
    throw new Error('more than 1000 pages');
  }

  async function idsWhere(condition: 'all' | 'aua' | 'coord'): Promise<string[]> {
    const rows = condition === 'all'
      ? await t.sql<{ id: string }[]>`SELECT id::text FROM audit_log ORDER BY audit_log.id DESC`
      : condition === 'aua'
        ? await t.sql<{ id: string }[]>`SELECT id::text FROM audit_log WHERE currency_id = ${aua_id} ORDER BY audit_log.id DESC`
        : await t.sql<{ id: string }[]>`SELECT id::text FROM audit_log WHERE actor_id = ${coord.id} ORDER BY audit_log.id DESC`;
    return rows.map((r) => r.id);
  }

  it('keyset pages walk the whole log once, newest first', async () => {
    const expected = await idsWhere('all');
    expect(expected.length).toBeGreaterThan(50);
    const walked = (await walk('/api/v1/audit-log', t.adminToken, 7)).map((e) => e.id);
    expect(walked).toEqual(expected);
    expect(new Set(walked).size).toBe(walked.length);
  });

  it('the admin sees everything, logins and failed logins (no currency) included', async () => {
    const everything = await walk('/api/v1/audit-log', t.adminToken, 500);
    const actions = new Set(everything.map((e) => e.action));
    for (const action of ['auth.login', 'auth.login_failed', 'auth.logout', 'user.create', 'device.pair_failed', 'card.pin_failed']) {
      expect(actions, action).toContain(action);
    }
    expect(everything.some((e) => e.currency === null)).toBe(true);
    expect(everything.some((e) => e.currency === 'AUA')).toBe(true);
    expect(everything.some((e) => e.currency === 'AUC')).toBe(true);
  });

  it('a coordinator sees exactly their currency\'s entries, no logins; another currency is 403, the whole log admin-only', async () => {
    const mine = await walk('/api/v1/currencies/AUA/audit-log', coord.token, 9);
    expect(mine.map((e) => e.id)).toEqual(await idsWhere('aua'));
    expect(mine.every((e) => e.currency === 'AUA')).toBe(true);
    expect(mine.some((e) => e.action.startsWith('auth.'))).toBe(false);

    expectProblem(await t.request('GET', '/api/v1/currencies/AUB/audit-log', { token: coord.token }), 403, 'forbidden');
    expectProblem(await t.request('GET', '/api/v1/audit-log', { token: coord.token }), 403, 'forbidden');
    expectProblem(await t.request('GET', '/api/v1/currencies/NOPE/audit-log', { token: coord.token }), 404, 'currency_not_found');
    expectProblem(await t.request('GET', '/api/v1/audit-log'), 401, 'unauthenticated');
    expectProblem(await t.request('GET', '/api/v1/currencies/AUA/audit-log'), 401, 'unauthenticated');
    // A wallet is not staff.
    const volunteer = await registerVolunteer(t, 'AUA', { pin: pin_right });
    const wallet_token = await openWallet(t, volunteer);
    secret(wallet_token);
    expectProblem(await t.request('GET', '/api/v1/currencies/AUA/audit-log', { token: wallet_token }), 403, 'forbidden');
  });

  it('filters by actor and by object', async () => {
    const by_coord = await walk(`/api/v1/audit-log?actor=${coord.id}`, t.adminToken, 500);
    expect(by_coord.map((e) => e.id)).toEqual(await idsWhere('coord'));
    expect(by_coord.every((e) => e.actor.id === coord.id)).toBe(true);

    const card = (await t.sql<{ object_id: string }[]>`
      SELECT object_id FROM audit_log WHERE action = 'card.block' ORDER BY id LIMIT 1`)[0]!.object_id;
    const on_card = await walk(`/api/v1/currencies/AUA/audit-log?object=${card}`, coord.token, 500);
    expect(on_card.every((e) => e.object.id === card)).toBe(true);
    // Newest first: the whole life of the card.
    expect(on_card.map((e) => e.action).reverse()).toEqual([
      'wallet.login', 'wallet.logout', 'card.pin_failed', 'card.pin_failed', 'card.pin_failed', 'card.pin_failed', 'card.locked',
      'card.pin_failed', 'card.unlock', 'card.block', 'card.pin_failed', 'card.unblock', 'card.pin_failed',
    ]);
    expect(await walk('/api/v1/audit-log?object=nothing-has-this-id', t.adminToken, 10)).toEqual([]);
  });

  it('filters by action, exactly or by prefix (a prefix is a whole segment)', async () => {
    const card_actions = await walk('/api/v1/currencies/AUA/audit-log?action=card', coord.token, 4);
    expect(card_actions.length).toBeGreaterThan(5);
    expect(card_actions.every((e) => e.action.startsWith('card.'))).toBe(true);
    expect(new Set(card_actions.map((e) => e.action))).toEqual(new Set(['card.pin_failed', 'card.locked', 'card.unlock', 'card.block', 'card.unblock', 'card.reissue']));

    const exact = await walk('/api/v1/audit-log?action=device.pair', t.adminToken, 500);
    expect(exact.length).toBeGreaterThan(0);
    expect(exact.every((e) => e.action === 'device.pair')).toBe(true);

    // "payment_request" must not match "payment.request.…": "_" is no wildcard here.
    await t.sql`INSERT INTO audit_log (actor_kind, action) VALUES ('system', 'payment.request.test')`;
    const requests = await walk('/api/v1/audit-log?action=payment_request', t.adminToken, 500);
    expect(new Set(requests.map((e) => e.action))).toEqual(new Set(['payment_request.create', 'payment_request.cancel']));
    expect(await walk('/api/v1/audit-log?action=pay', t.adminToken, 500)).toEqual([]);
  });

  it('filters by a time window [from, to)', async () => {
    const programme = await openAccount(t, 'AUA', 'programme', 'Window A');
    await sleep(20);
    await openAccount(t, 'AUA', 'programme', 'Window B');
    await sleep(20);
    await openAccount(t, 'AUA', 'programme', 'Window C');
    const [c, b, a] = (await t.request('GET', '/api/v1/currencies/AUA/audit-log?action=account.create&limit=3', { token: coord.token })).body.items;
    expect([a.changes.name, b.changes.name, c.changes.name]).toEqual(['Window A', 'Window B', 'Window C']);
    expect(a.object.id).toBe(programme);

    const q = (params: Record<string, string>) => `/api/v1/currencies/AUA/audit-log?${new URLSearchParams(params)}`;
    const only_b = await walk(q({ from: b.at, to: c.at }), coord.token, 500);
    expect(only_b.map((e) => e.id)).toEqual([b.id]);
    const since_b = await walk(q({ from: b.at }), coord.token, 500);
    expect(since_b.map((e) => e.id)).toEqual([c.id, b.id]);
    const until_b = await walk(q({ to: b.at, action: 'account.create' }), coord.token, 500);
    expect(until_b[0].id).toBe(a.id);
    expect(until_b.map((e) => e.id)).not.toContain(b.id);
    // An empty window, and one with an offset other than Z.
    expect(await walk(q({ from: c.at, to: c.at }), coord.token, 500)).toEqual([]);
    const b_in_brussels = new Date(Date.parse(b.at) + 3_600_000).toISOString().replace('Z', '+01:00');
    expect((await walk(q({ from: b_in_brussels, to: c.at }), coord.token, 500)).map((e) => e.id)).toEqual([b.id]);
  });

  it('refuses bad filters and cursors with 422 and names the field', async () => {
    for (const [query, field] of [
      ['from=yesterday', 'from'], ['to=2026-13-01T00:00:00Z', 'to'], ['action=Card', 'action'], ['action=card.', 'action'],
      ['limit=0', 'limit'], ['limit=501', 'limit'], ['cursor=not-a-cursor', 'cursor'], [`cursor=${Buffer.from('"0"').toString('base64url')}`, 'cursor'],
    ] as const) {
      const reply = await t.request('GET', `/api/v1/audit-log?${query}`, { token: t.adminToken });
      expectProblem(reply, 422, 'validation_failed');
      expect(reply.body.errors.map((e: any) => e.path), query).toContain(field);
    }
  });

  it('the log is append-only: UPDATE, DELETE and TRUNCATE raise and change nothing', async () => {
    const before = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log`;
    await expect(t.sql`UPDATE audit_log SET actor_id = 'someone else' WHERE id = (SELECT min(id) FROM audit_log)`).rejects.toThrow(/append-only/);
    await expect(t.sql`DELETE FROM audit_log WHERE action = 'auth.login_failed'`).rejects.toThrow(/append-only/);
    await expect(t.sql`TRUNCATE audit_log`).rejects.toThrow(/append-only/);
    const after = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log`;
    expect(after).toEqual(before);
    expect((await t.sql`SELECT 1 FROM audit_log WHERE actor_id = 'someone else'`).length).toBe(0);
  });
});
