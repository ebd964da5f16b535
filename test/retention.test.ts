/**
 * Kept no longer than needed (#21 point 2), against a real PostgreSQL with a clock the test
 * controls: the run is given `now`. Idempotency records and finished or expired payment requests
 * go after RETENTION_DAYS, together, so a replay inside the window answers as the first time and
 * one after it finds the request gone (a pay: 404) or is a new request (an issue: a new
 * transfer). Audit rows are pseudonymised after PSEUDONYMISE_AFTER_DAYS: address cut to its
 * network, a failed login's email and an unknown card code replaced by a pseudonym, who / what /
 * when kept. Transfers, entries and seals are never touched. `wijkmunt prune` runs as a process,
 * and the service runs the retention at start and every RETENTION_INTERVAL_S.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { fundedWallet, pay, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import type { Payer, Tablet } from './support/shop-fixtures.js';
import { openWallet } from './support/volunteer-fixtures.js';
import { findCurrency } from '../src/db/ledger.js';
import { sealCurrency } from '../src/db/seals.js';
import { runRetention } from '../src/app/retention.js';
import type { RetentionRun } from '../src/app/retention.js';

const root = path.resolve(import.meta.dirname, '..');
const day_ms = 86_400_000;
const settings = { RETENTION_DAYS: 30, PSEUDONYMISE_AFTER_DAYS: 90 };

let t: TestApp;
let tablet: Tablet;
let payer: Payer;

beforeAll(async () => {
  t = await createTestApp({ TRUST_PROXY: 'true' });
  await createCurrency(t, 'RET', 0);
  ({ tablet } = await shopWithTablet(t, 'RET'));
  payer = await fundedWallet(t, 'RET', '100');
});

afterAll(async () => {
  await t?.close();
});

const daysFromNow = (days: number) => new Date(Date.now() + days * day_ms);
const prune = (days: number): Promise<RetentionRun> => runRetention({ sql: t.sql }, settings, daysFromNow(days));

/** Everything sealed or append-only in the ledger, as text: compared before and after a run. */
async function ledgerText(): Promise<string> {
  const [row] = await t.sql<{ text: string }[]>`
    SELECT (SELECT string_agg(x::text, E'\n' ORDER BY x.id) FROM transfers x)
        || (SELECT string_agg(e::text, E'\n' ORDER BY e.account_id, e.version) FROM entries e)
        || (SELECT string_agg(s::text, E'\n' ORDER BY s.currency_id, s.seq) FROM seals s) AS text`;
  return row!.text;
}

async function idempotencyRecords(key: string): Promise<number> {
  const [row] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = ${key}`;
  return row!.n;
}

describe('the retention run', () => {
  it('deletes sessions and pairing codes that ended more than RETENTION_DAYS ago, and no others', async () => {
    const fresh = await fundedWallet(t, 'RET');
    const old = await fundedWallet(t, 'RET');
    await t.sql`UPDATE wallet_sessions SET expires_at = now() - interval '31 days' WHERE account_id = ${old.account}`;
    const before = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM wallet_sessions`;
    const run = await prune(0);
    expect(run.sessions).toBeGreaterThanOrEqual(1);
    const sessions = await t.sql<{ account_id: string }[]>`SELECT account_id FROM wallet_sessions`;
    expect(sessions.map((s) => s.account_id)).toContain(fresh.account);
    expect(sessions.map((s) => s.account_id)).not.toContain(old.account);
    expect(sessions.length).toBe(before[0]!.n - 1);
    expect((await t.request('GET', '/api/v1/wallet', { token: fresh.token })).status).toBe(200);
    expectProblem(await t.request('GET', '/api/v1/wallet', { token: old.token }), 401, 'unauthenticated');
  });
  it('keeps what a replay needs inside RETENTION_DAYS, and forgets the key and the finished request after it', async () => {
    const request = await requestPayment(t, tablet, '7');
    const key = newKey();
    const paid = await pay(t, payer.token, request.id as string, key);
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    const issue_key = newKey();
    const issue = (token: string) => t.request('POST', '/api/v1/currencies/RET/issue', {
      token, idempotencyKey: issue_key, body: { to_account: payer.account, amount: '5' },
    });
    const issued = await issue(t.adminToken);
    expect(issued.status).toBe(201);
    // An open request whose expiry is two days ahead, another that expired (never paid), one cancelled.
    const open = await requestPayment(t, tablet, '3');
    await t.sql`UPDATE payment_requests SET expires_at = now() + interval '2 days' WHERE id = ${open.id as string}`;
    const lapsed = await requestPayment(t, tablet, '4');
    await t.sql`UPDATE payment_requests SET expires_at = now() - interval '1 hour' WHERE id = ${lapsed.id as string}`;
    const cancelled = await requestPayment(t, tablet, '2');
    expect((await t.request('POST', `/api/v1/payment-requests/${cancelled.id as string}/cancel`, { token: tablet.token })).status).toBe(200);
    await sealCurrency(t.sql, (await findCurrency(t.sql, 'RET'))!);
    const ledger = await ledgerText();

    // Day 29: nothing of it goes; the replays answer as the first time.
    expect(await prune(29)).toMatchObject({ idempotency_records: 0, payment_requests: 0 });
    const replay = await pay(t, payer.token, request.id as string, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('Idempotency-Replayed')).toBe('true');
    expect(replay.body).toEqual(paid.body);
    const issue_replay = await issue(t.adminToken);
    expect(issue_replay.headers.get('Idempotency-Replayed')).toBe('true');
    expect(issue_replay.body.id).toBe(issued.body.id);
    expect((await t.request('GET', `/api/v1/payment-requests/${request.id as string}`)).body.status).toBe('paid');

    // Day 31: the records and the finished requests are gone; the open one that has not expired stays.
    const after = await prune(31);
    expect(after.idempotency_records).toBeGreaterThanOrEqual(2);
    expect(after.payment_requests).toBe(3);
    expect(await idempotencyRecords(key)).toBe(0);
    const left = await t.sql<{ id: string }[]>`SELECT id FROM payment_requests ORDER BY id`;
    expect(left.map((r) => r.id)).toEqual([open.id]);
    expectProblem(await t.request('GET', `/api/v1/payment-requests/${request.id as string}`), 404, 'not_found');
    // A replay now: the request it paid is not found, and nothing moves.
    expectProblem(await pay(t, payer.token, request.id as string, key), 404, 'not_found');
    // The ledger, its seals included, is as it was, and verifies.
    expect(await ledgerText()).toBe(ledger);
    // The staff session of this test ended long before day 31, so its row went too: a new login.
    const staff = await t.createStaff('admin', []);
    const verified = await t.request('GET', '/api/v1/currencies/RET/verify', { token: staff.token });
    expect(verified.body.ok, JSON.stringify(verified.body)).toBe(true);
    // The key is forgotten: the same key and body is a new request (docs/privacy.md).
    const again = await issue(staff.token);
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotency-Replayed')).toBeNull();
    expect(again.body.id).not.toBe(issued.body.id);

    // The open request goes once it has expired and 30 more days have passed.
    expect(await prune(31)).toMatchObject({ payment_requests: 0 });
    await t.sql`UPDATE payment_requests SET expires_at = now() WHERE id = ${open.id as string}`;
    expect(await prune(29)).toMatchObject({ payment_requests: 0 });
    expect(await prune(31)).toMatchObject({ payment_requests: 1 });
  });

});

describe('pseudonymising the audit log', () => {
  it('cuts addresses to their network and replaces typed emails and unknown card codes after PSEUDONYMISE_AFTER_DAYS', async () => {
    const from = (ip: string) => ({ 'X-Forwarded-For': ip });
    for (const email of ['Mallory@Example.org', 'mallory@example.org']) {
      const failed = await t.request('POST', '/api/v1/auth/login', { body: { email, password: 'not-the-password' }, headers: from('203.0.113.77') });
      expectProblem(failed, 401, 'unauthenticated');
    }
    const unknown_card = '0000000000000000Z';
    await t.request('POST', '/api/v1/wallet/session', { body: { card: unknown_card, pin: '1357' }, headers: from('2001:db8:1234:5678::9') });
    await t.request('GET', '/api/v1/wallet', { token: payer.token, headers: from('::ffff:198.51.100.23') });
    await t.request('POST', '/api/v1/wallet/session', { body: { card: payer.code, pin: payer.pin }, headers: from('::ffff:198.51.100.23') });
    const rows = () => t.sql<{ id: string; at: Date; action: string; actor_kind: string; actor_id: string | null; object_id: string | null; ip: string | null; changes: Record<string, unknown>; pseudonymised_at: Date | null }[]>`
      SELECT id::text, at, action, actor_kind, actor_id, object_id, ip, changes, pseudonymised_at FROM audit_log
      WHERE ip IS NOT NULL ORDER BY id`;
    const before = await rows();
    expect(before.map((r) => r.ip)).toEqual(['203.0.113.77', '203.0.113.77', '2001:db8:1234:5678::9', '::ffff:198.51.100.23']);

    await prune(89);
    expect(await rows()).toEqual(before);

    await prune(91);
    const after = await rows();
    expect(after.map((r) => r.ip)).toEqual(['203.0.113.0/24', '203.0.113.0/24', '2001:db8:1234::/48', '198.51.100.0/24']);
    // Who, what and when stay; the two spellings of one email get one pseudonym.
    expect(after.map(({ id, at, action, actor_kind, actor_id }) => ({ id, at, action, actor_kind, actor_id })))
      .toEqual(before.map(({ id, at, action, actor_kind, actor_id }) => ({ id, at, action, actor_kind, actor_id })));
    const [first, second, card, login] = after;
    expect(first!.changes).toEqual({ email: expect.stringMatching(/^p-[0-9a-f]{12}$/), reason: 'unknown email' });
    expect(second!.changes.email).toBe(first!.changes.email);
    expect(card!.object_id).toMatch(/^p-[0-9a-f]{12}$/);
    expect(card!.changes).toEqual({ reason: 'unknown card' });
    // A real card is the object of its own history and stays named.
    expect(login!.object_id).toBe(payer.code);
    const [text] = await t.sql<{ found: boolean }[]>`
      SELECT bool_or(a::text ILIKE '%mallory%' OR a::text LIKE ${`%${unknown_card}%`} OR a::text LIKE '%203.0.113.77%') AS found FROM audit_log a`;
    expect(text!.found).toBe(false);

    // Once done, a row is not done again; the run itself is in the log.
    await prune(91);
    expect(await rows()).toEqual(after);
    const [recorded] = await t.sql<{ actor_kind: string; actor_id: string }[]>`
      SELECT actor_kind, actor_id FROM audit_log WHERE action = 'retention.run' ORDER BY id DESC LIMIT 1`;
    expect(recorded).toEqual({ actor_kind: 'system', actor_id: 'retention' });
  });

  it('three runs at once pseudonymise each row once (a wave of 12,000 failed logins)', async () => {
    const [earlier] = await t.sql<{ email: string }[]>`
      SELECT changes->>'email' AS email FROM audit_log WHERE action = 'auth.login_failed' AND pseudonymised_at IS NOT NULL LIMIT 1`;
    // A wave of failed logins, written as the service writes them (more than a run's step).
    const wave = 12_000;
    await t.sql`
      INSERT INTO audit_log (actor_kind, action, ip, changes)
      SELECT 'anonymous', 'auth.login_failed', '192.0.2.' || (n % 250), jsonb_build_object('email', 'mallory@example.org', 'reason', 'unknown email')
      FROM generate_series(1, ${wave}) AS n`;
    const runs = await Promise.all([prune(91), prune(91), prune(91)]);
    expect(runs.reduce((sum, run) => sum + run.audit_rows, 0)).toBeGreaterThanOrEqual(wave);
    const rows = await t.sql<{ email: string; ip: string }[]>`
      SELECT DISTINCT changes->>'email' AS email, ip FROM audit_log WHERE action = 'auth.login_failed' AND ip LIKE '192.0.2.%'`;
    // The same pseudonym as the same email got before: none was made of a pseudonym.
    expect(new Set(rows.map((r) => r.email))).toEqual(new Set([earlier!.email]));
    expect(new Set(rows.map((r) => r.ip))).toEqual(new Set(['192.0.2.0/24']));
  });

  it('cuts any address a proxy may send to its network, and what is no address to nothing', async () => {
    const [row] = await t.sql<Record<string, string | null>[]>`
      SELECT wm_network_of('10.1.2.3') AS v4, wm_network_of('::FFFF:10.1.2.3') AS mapped, wm_network_of('2001:db8:aa:bb::1') AS v6,
             wm_network_of('10.1.2.0/24') AS done, wm_network_of('unknown') AS junk, wm_network_of('') AS empty, wm_network_of(NULL) AS none`;
    expect(row).toEqual({ v4: '10.1.2.0/24', mapped: '10.1.2.0/24', v6: '2001:db8:aa::/48', done: '10.1.2.0/24', junk: null, empty: null, none: null });
  });

  it('still refuses any other change to an audit row, and every deletion', async () => {
    await expect(t.sql`UPDATE audit_log SET action = 'auth.login' WHERE action = 'auth.login_failed'`).rejects.toThrow(/append-only/);
    await expect(t.sql`UPDATE audit_log SET at = now() - interval '1 year' WHERE id = (SELECT min(id) FROM audit_log)`).rejects.toThrow(/append-only/);
    await expect(t.sql`DELETE FROM audit_log WHERE action = 'retention.run'`).rejects.toThrow(/append-only/);
  });
});

function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), ...args], {
      cwd: root, env: { ...process.env, DATABASE_URL: t.database_url, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('wijkmunt prune', () => {
  it('runs the retention as of now with the settings of the environment, and refuses a bad setting', async () => {
    const request = await requestPayment(t, tablet, '1');
    const key = newKey();
    // The wallet's session of the tests above ended at their day 91: a new one.
    expect((await pay(t, await openWallet(t, payer), request.id as string, key)).status).toBe(201);
    // Paid ten days ago: kept at 30 days, gone at 7.
    await t.sql`UPDATE idempotency_keys SET created_at = created_at - interval '10 days' WHERE key = ${key}`;
    await t.sql`UPDATE payment_requests SET updated_at = updated_at - interval '10 days' WHERE id = ${request.id as string}`;

    const bad = await cli({ RETENTION_DAYS: '0' }, 'prune');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/RETENTION_DAYS/);
    const kept = await cli({}, 'prune');
    expect(kept.code, kept.stderr).toBe(0);
    expect(await idempotencyRecords(key)).toBe(1);

    const pruned = await cli({ RETENTION_DAYS: '7' }, 'prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/: 1 idempotency record\(s\), 1 payment request\(s\)/);
    expect(await idempotencyRecords(key)).toBe(0);
    expectProblem(await t.request('GET', `/api/v1/payment-requests/${request.id as string}`), 404, 'not_found');
  });
});

/** Starts the service (src/main.ts) on the test's database; resolves once it listens. */
function startService(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts')], {
    cwd: root, env: { ...process.env, DATABASE_URL: t.database_url, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listens on http/.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the service exited with ${code}:\n${output}`)); });
  });
}

/** Waits until `check` holds, polling; fails after `timeout_ms`. */
async function eventually(check: () => Promise<boolean>, timeout_ms = 30_000): Promise<void> {
  const until = Date.now() + timeout_ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('not within the time limit');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the service', () => {
  it('runs the retention at start and then every RETENTION_INTERVAL_S', async () => {
    const old = async (key: string) => {
      await t.sql`
        INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body, created_at)
        VALUES ('user:test', ${key}, 'hash', 201, '{}'::jsonb, now() - interval '3 days')`;
    };
    const fresh = newKey();
    await t.sql`INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body) VALUES ('user:test', ${fresh}, 'hash', 201, '{}'::jsonb)`;
    const at_start = newKey();
    await old(at_start);
    const data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-retention-'));
    const service = await startService({ DATA_DIR: data_dir, RETENTION_DAYS: '2', RETENTION_INTERVAL_S: '1' });
    try {
      await eventually(async () => await idempotencyRecords(at_start) === 0);
      const later = newKey();
      await old(later);
      await eventually(async () => await idempotencyRecords(later) === 0);
      expect(await idempotencyRecords(fresh)).toBe(1);
      expect(service.output()).toContain('retention: old records pruned');
    } finally {
      service.child.kill('SIGTERM');
      await new Promise((resolve) => (service.child.exitCode === null ? service.child.once('exit', resolve) : resolve(null)));
      await rm(data_dir, { recursive: true, force: true });
    }
    expect(service.child.exitCode).toBe(0);
  }, 120_000);
});
