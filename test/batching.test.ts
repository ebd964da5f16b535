/**
 * Issue #7, request batching: concurrent payments share database transactions (lock, decide in
 * order, write set-wise) and keep every guarantee — at most once per key and per payment
 * request, no negative balance, answers only after commit, the same answers as one by one.
 */
import { randomUUID } from 'node:crypto';
import { runCommands } from '../src/db/batch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, openAccount } from './support/http-fixtures.js';
import { expectVerified, fundedWallet, pay, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import type { Payer, Tablet } from './support/shop-fixtures.js';
import { createBatcher } from '../src/db/batch.js';
import type { BatchCommand } from '../src/db/batch.js';
import { findCurrency } from '../src/db/ledger.js';
import { capPeriods } from '../src/ledger/volunteering.js';
import { cappedVolunteer, claim, openSession } from './support/volunteer-fixtures.js';

let t: TestApp;
let tablet: Tablet;
/** /metrics is on the app's listener only with a token (test/metrics.test.ts). */
const metrics_token = 'batching-metrics-token-0123456789abcdef';

beforeAll(async () => {
  t = await createTestApp({ METRICS_TOKEN: metrics_token });
  await createCurrency(t, 'BAT', 2);
  ({ tablet } = await shopWithTablet(t, 'BAT'));
});

afterAll(async () => {
  await t?.close();
});

/** Waits (up to 2 s) until a backend of the test database waits for a lock; fails the test if none does. */
async function untilALockIsAwaited(): Promise<void> {
  const waiting = async () => (await t.sql<{ n: bigint }[]>`
    SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0]!.n > 0n;
  for (let i = 0; i < 200 && !(await waiting()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(await waiting()).toBe(true);
}

/** Requests and transactions of the batcher so far (its Prometheus histogram). */
async function batchCounters(): Promise<{ transactions: number; requests: number }> {
  const text = String((await t.request('GET', '/metrics', { headers: { Authorization: `Bearer ${metrics_token}` } })).body);
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  return { transactions: value('wijkmunt_batch_commands_count'), requests: value('wijkmunt_batch_commands_sum') };
}

describe('payments combined into shared transactions', () => {
  it('200 concurrent payments to one shop: each wallet pays exactly what it can, in shared transactions; the ledger verifies', async () => {
    const wallets: Payer[] = [];
    for (let i = 0; i < 50; i++) wallets.push(await fundedWallet(t, 'BAT', '2.50', `Payer ${i}`));
    // Four requests of 1.00 per wallet: each can pay two of them.
    const requests = await Promise.all(Array.from({ length: 200 }, () => requestPayment(t, tablet, '1.00')));
    const before = await batchCounters();
    const replies = await Promise.all(requests.map((r, i) => pay(t, wallets[i % 50]!.token, r.id)));
    const after = await batchCounters();

    const by_wallet = new Map<number, number[]>();
    replies.forEach((reply, i) => by_wallet.set(i % 50, [...(by_wallet.get(i % 50) ?? []), reply.status]));
    for (const [w, statuses] of by_wallet) {
      expect(statuses.filter((s) => s === 201), `wallet ${w}: ${statuses.join(',')}`).toHaveLength(2);
      expect(statuses.filter((s) => s === 422)).toHaveLength(2);
    }
    for (const reply of replies.filter((r) => r.status === 422)) {
      expectProblem(reply, 422, 'insufficient_funds');
      expect(reply.body.available).toBe('0.50');
    }
    // Batched for real: fewer transactions than payments.
    expect(after.requests - before.requests).toBe(200);
    expect(after.transactions - before.transactions).toBeLessThan(200);

    const [sums] = await t.sql<{ paid: bigint; transfers: bigint; open: bigint; audit: bigint; keys: bigint }[]>`
      SELECT (SELECT count(*) FROM payment_requests WHERE status = 'paid' AND id = ANY(${requests.map((r) => r.id)}::uuid[])) AS paid,
             (SELECT count(*) FROM transfers WHERE code = 'payment') AS transfers,
             (SELECT count(*) FROM payment_requests WHERE status = 'open' AND id = ANY(${requests.map((r) => r.id)}::uuid[])) AS open,
             (SELECT count(*) FROM audit_log WHERE action = 'payment.pay') AS audit,
             (SELECT count(*) FROM idempotency_keys WHERE scope LIKE 'wallet:%') AS keys`;
    expect(sums).toEqual({ paid: 100n, transfers: 100n, open: 100n, audit: 100n, keys: 100n });
    for (const wallet of wallets.slice(0, 5)) {
      const view = await t.request('GET', '/api/v1/wallet', { token: wallet.token });
      expect(view.body.balance).toBe('0.50');
    }
    await expectVerified(t, 'BAT');
  });

  it('a payment answers with the transfer exactly as committed (same transaction time, same id)', async () => {
    const wallet = await fundedWallet(t, 'BAT', '5.00');
    const request = await requestPayment(t, tablet, '1.25', 'koffie');
    const reply = await pay(t, wallet.token, request.id);
    expect(reply.status).toBe(201);
    const [row] = await t.sql<{ created_at: Date; amount: bigint; memo: string }[]>`
      SELECT created_at, amount, memo FROM transfers WHERE id = ${reply.body.id}`;
    expect(row).toEqual({ created_at: new Date(reply.body.created_at), amount: 125n, memo: 'koffie' });
    // Time-ordered transfer ids (UUIDv7).
    expect(reply.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('the same Idempotency-Key 10 times at once: one payment; the others replay it or are told it is in flight', async () => {
    const wallet = await fundedWallet(t, 'BAT', '5.00');
    const request = await requestPayment(t, tablet, '1.00');
    const key = newKey();
    const replies = await Promise.all(Array.from({ length: 10 }, () => pay(t, wallet.token, request.id, key)));
    const created = replies.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const reply of replies.filter((r) => r.status !== 201)) expectProblem(reply, 409, 'idempotency_key_in_flight');
    expect(created.filter((r) => r.headers.get('idempotency-replayed') !== 'true')).toHaveLength(1);
    const [count] = await t.sql<{ n: bigint }[]>`SELECT count(*) AS n FROM transfers WHERE metadata->>'payment_request_id' = ${request.id}`;
    expect(count?.n).toBe(1n);
    // Afterwards the key replays the payment, in a batch of its own.
    const again = await pay(t, wallet.token, request.id, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body.id).toBe(created[0]?.body.id);
  });

  it('ten wallets racing for one request in one batch: exactly one pays', async () => {
    const wallets = await Promise.all(Array.from({ length: 10 }, (_, i) => fundedWallet(t, 'BAT', '5.00', `Racer ${i}`)));
    const request = await requestPayment(t, tablet, '2.00');
    const replies = await Promise.all(wallets.map((w) => pay(t, w.token, request.id)));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    for (const reply of replies.filter((r) => r.status !== 201)) expectProblem(reply, 409, 'already_paid');
  });
});

describe('the batcher itself', () => {
  it('a batch that fails as a whole is retried command by command: the good ones post, the bad one fails alone', async () => {
    const bat = await findCurrency(t.sql, 'BAT');
    const source = await openAccount(t, 'BAT', 'programme', 'Batch source');
    const target = await openAccount(t, 'BAT', 'wallet', 'Batch target');
    await issue(t, 'BAT', source, '10.00');
    const taken = (await t.sql<{ id: string }[]>`SELECT id FROM transfers WHERE currency_id = ${bat!.id} LIMIT 1`)[0]!.id;
    const failures: number[] = [];
    const batcher = createBatcher(t.sql, { size_max: 100, inflight_max: 1, onBatchFailure: (_, size) => failures.push(size) });
    const command = (id: string): BatchCommand => ({
      posting: { id, code: 'budget', debit_account_id: source, credit_account_id: target, amount: 100n, created_by: 'test' },
    });
    const ids = [randomUUID(), randomUUID(), taken, randomUUID()];
    const outcomes = await Promise.allSettled(ids.map((id) => batcher.submit(bat!.id, command(id))));
    expect(failures).toEqual([4]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<{ kind: string }>).value.kind))
      .toEqual(['posted', 'posted', 'posted']);
    const [balance] = await t.sql<{ balance: bigint }[]>`
      SELECT credits_posted - debits_posted AS balance FROM accounts WHERE id = ${target}`;
    expect(balance?.balance).toBe(300n);
    await expectVerified(t, 'BAT');
  });
});

describe('POST /transfers/batch, applied set-wise', () => {
  it('1,000 issues in one atomic batch; a batch with one impossible item writes nothing and names it', async () => {
    const wallets = await Promise.all(Array.from({ length: 20 }, (_, i) => openAccount(t, 'BAT', 'wallet', `Batch ${i}`)));
    const programme = await openAccount(t, 'BAT', 'programme', 'Batch budget');
    const currency = (await t.request('GET', '/api/v1/currencies/BAT', { token: t.adminToken })).body;
    const transfers = Array.from({ length: 1000 }, (_, i) => ({
      debit_account: currency.issuance_account, credit_account: wallets[i % 20], amount: '0.01', code: 'issue',
    }));
    const ok = await t.request('POST', '/api/v1/currencies/BAT/transfers/batch', {
      token: t.adminToken, idempotencyKey: newKey(), body: { atomic: true, transfers },
    });
    expect(ok.status, JSON.stringify(ok.body).slice(0, 300)).toBe(200);
    expect(ok.body.results.filter((r: { status: string }) => r.status === 'created')).toHaveLength(1000);
    const [entries] = await t.sql<{ n: bigint; top: bigint }[]>`
      SELECT count(*) AS n, max(version) AS top FROM entries WHERE account_id = ${wallets[0]!}`;
    expect(entries).toEqual({ n: 50n, top: 50n });

    const before = await t.sql<{ n: bigint }[]>`SELECT count(*) AS n FROM transfers`;
    const bad = [...transfers.slice(0, 10), { debit_account: wallets[1], credit_account: programme, amount: '1000.00', code: 'adjustment' }];
    const refused = await t.request('POST', '/api/v1/currencies/BAT/transfers/batch', {
      token: t.adminToken, idempotencyKey: newKey(), body: { atomic: true, transfers: bad },
    });
    expectProblem(refused, 422, 'batch_item_failed');
    expect(refused.body.index).toBe(10);
    expect(refused.body.item_code).toBe('insufficient_funds');
    expect(await t.sql<{ n: bigint }[]>`SELECT count(*) AS n FROM transfers`).toEqual(before);

    const mixed = await t.request('POST', '/api/v1/currencies/BAT/transfers/batch', {
      token: t.adminToken, idempotencyKey: newKey(), body: { atomic: false, transfers: bad },
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body.results.map((r: { status: string }) => r.status)).toEqual([...Array(10).fill('created'), 'failed']);
    expect(mixed.body.results[10].error.code).toBe('insufficient_funds');
    await expectVerified(t, 'BAT');
  });

  it('the key, the transfers and the audit row commit together; the same key replays, another body is refused', async () => {
    const wallets = await Promise.all(Array.from({ length: 3 }, (_, i) => openAccount(t, 'BAT', 'wallet', `Keyed ${i}`)));
    const currency = (await t.request('GET', '/api/v1/currencies/BAT', { token: t.adminToken })).body;
    const body = {
      atomic: false,
      transfers: wallets.map((w) => ({ id: randomUUID(), debit_account: currency.issuance_account, credit_account: w, amount: '1.00', code: 'issue' })),
    };
    const key = newKey();
    const audits = async () => (await t.sql<{ n: bigint }[]>`SELECT count(*) AS n FROM audit_log WHERE action = 'transfer.batch'`)[0]!.n;
    const audits_before = await audits();
    const first = await t.request('POST', '/api/v1/currencies/BAT/transfers/batch', { token: t.adminToken, idempotencyKey: key, body });
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'created', 'created']);
    const [stored] = await t.sql<{ response_body: unknown }[]>`SELECT response_body FROM idempotency_keys WHERE key = ${key}`;
    expect(stored?.response_body).toEqual(first.body);
    expect(await audits()).toBe(audits_before + 1n);

    // The same request again: the recorded answer, nothing new written (the ids are taken now).
    const again = await t.request('POST', '/api/v1/currencies/BAT/transfers/batch', { token: t.adminToken, idempotencyKey: key, body });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await audits()).toBe(audits_before + 1n);
    const other = await t.request('POST', '/api/v1/currencies/BAT/transfers/batch', {
      token: t.adminToken, idempotencyKey: key, body: { ...body, atomic: true },
    });
    expectProblem(other, 422, 'idempotency_key_reused');
    for (const w of wallets) {
      expect((await t.request('GET', `/api/v1/accounts/${w}`, { token: t.adminToken })).body.balance).toBe('1.00');
    }
  });

  it('a batch whose transfer id another request commits meanwhile is answered the general way, each id at most once', async () => {
    const wallet = await openAccount(t, 'BAT', 'wallet', 'Raced');
    const currency = (await t.request('GET', '/api/v1/currencies/BAT', { token: t.adminToken })).body;
    // 20 batches of the same 2 ids under 20 keys, all at once: the first committed takes both
    // ids, every later one finds them taken (in its check or, racing, in its write).
    const ids = [randomUUID(), randomUUID()];
    const replies = await Promise.all(Array.from({ length: 20 }, () => t.request('POST', '/api/v1/currencies/BAT/transfers/batch', {
      token: t.adminToken, idempotencyKey: newKey(),
      body: { atomic: false, transfers: ids.map((id) => ({ id, debit_account: currency.issuance_account, credit_account: wallet, amount: '0.50', code: 'issue' })) },
    })));
    for (const reply of replies) expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const statuses = replies.map((r) => r.body.results.map((x: { status: string }) => x.status).join(','));
    expect(statuses.filter((s) => s === 'created,created')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'failed,failed')).toHaveLength(19);
    for (const reply of replies.filter((r) => r.body.results[0].status === 'failed')) {
      expect(reply.body.results.map((x: { error: { code: string } }) => x.error.code)).toEqual(['already_exists', 'already_exists']);
    }
    expect((await t.request('GET', `/api/v1/accounts/${wallet}`, { token: t.adminToken })).body.balance).toBe('1.00');
    await expectVerified(t, 'BAT');
  });

  it('a transfer id another transaction commits while the batch waits: the list runs again and answers already_exists', async () => {
    const wallet = await openAccount(t, 'BAT', 'wallet', 'Held');
    const currency = (await t.request('GET', '/api/v1/currencies/BAT', { token: t.adminToken })).body;
    const id = randomUUID();
    // The other transaction posts transfer `id` and holds the wallet's lock until it commits:
    // the batch found the id free when it checked, then waits, then meets it in its write.
    const other = await t.sql.reserve();
    try {
      await other`BEGIN`;
      const { results } = await runCommands(other as never, currency.id, [{ posting: {
        id, code: 'issue', debit_account_id: currency.issuance_account, credit_account_id: wallet, amount: 100n, created_by: 'test',
      } }]);
      expect(results.map((r) => r.kind)).toEqual(['posted']);
      const reply = t.request('POST', '/api/v1/currencies/BAT/transfers/batch', {
        token: t.adminToken, idempotencyKey: newKey(),
        body: { atomic: false, transfers: [{ id, debit_account: currency.issuance_account, credit_account: wallet, amount: '0.50', code: 'issue' }] },
      });
      await untilALockIsAwaited();
      await other`COMMIT`;
      const answer = await reply;
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.results).toEqual([{ id, status: 'failed', error: expect.objectContaining({ code: 'already_exists' }) }]);
    } finally {
      other.release();
    }
    expect((await t.request('GET', `/api/v1/accounts/${wallet}`, { token: t.adminToken })).body.balance).toBe('1.00');
    await expectVerified(t, 'BAT');
  });
});

describe('rewards combined into shared transactions', () => {
  it('two service processes racing one volunteer across 12 sessions stop exactly at the day cap; each session rewards once', async () => {
    const { activity, volunteer: v, token } = await cappedVolunteer(t, 'RWD');
    const sessions = await Promise.all(Array.from({ length: 12 }, () => openSession(t, activity.id, { hours: '1' })));
    // A second process on the same database: its own batcher, so the two race in PostgreSQL.
    const second = await createTestApp({}, { database_url: t.database_url, keys: t.deps.keys });
    try {
      const replies = await Promise.all(sessions.flatMap((s, i) => [
        claim(i % 2 === 0 ? t : second, token, s.claim_token), claim(i % 2 === 0 ? second : t, token, s.claim_token),
      ]));
      const created = replies.filter((r) => r.status === 201);
      expect(created).toHaveLength(4);
      for (const reply of replies.filter((r) => r.status !== 201)) {
        expect(['volunteer_cap_exceeded', 'already_claimed']).toContain(reply.body.code);
      }
    } finally {
      await second.close();
    }
    const [row] = await t.sql<{ earned: bigint; rewards: bigint }[]>`
      SELECT (SELECT amount FROM volunteer_earnings WHERE account_id = ${v.account} AND period LIKE 'd%') AS earned,
             (SELECT count(*) FROM claims WHERE account_id = ${v.account}) AS rewards`;
    expect(row).toEqual({ earned: 100n, rewards: 4n });
    await expectVerified(t, 'RWD');
  });

  it('a lone reward whose earnings counter another transaction creates meanwhile is tried again, and then held to the cap it sees', async () => {
    const { activity, volunteer: v, token } = await cappedVolunteer(t, 'RWE');
    const session = await openSession(t, activity.id, { hours: '1' });
    const [currency] = await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'RWE'`;
    // Another process's first reward of the day, not committed yet: the claim's batch does not
    // see the counter when it locks, and its write then waits for that insert.
    const other = await t.sql.reserve();
    try {
      await other`BEGIN`;
      await other`INSERT INTO volunteer_earnings (currency_id, account_id, period, amount)
                  VALUES (${currency!.id}, ${v.account}, ${capPeriods(new Date()).day}, 100)`;
      const reply = claim(t, token, session.claim_token);
      await untilALockIsAwaited();
      await other`COMMIT`;
      // The batch of one failed as a whole (0 of 1 counters raised) and ran again, alone.
      expectProblem(await reply, 422, 'volunteer_cap_exceeded');
    } finally {
      other.release();
    }
    const [row] = await t.sql<{ earned: bigint; rewards: bigint }[]>`
      SELECT (SELECT amount FROM volunteer_earnings WHERE account_id = ${v.account} AND period LIKE 'd%') AS earned,
             (SELECT count(*) FROM claims WHERE account_id = ${v.account}) AS rewards`;
    expect(row).toEqual({ earned: 100n, rewards: 0n });
  });
});
