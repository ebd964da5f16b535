/**
 * Issue #6, backup and restore as docs/operations.md tells an operator: pg_dump -Fc, pg_restore
 * into a fresh database, then verify every currency, seals included. Runs its own PostgreSQL
 * from the system's PostgreSQL binaries (PG_BIN_DIR, default /usr/lib/postgresql/15/bin),
 * because pg_dump cannot dump a server newer than itself, such as the embedded one.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import type { EmbeddedPostgres } from '../src/db/embedded.js';
import { createSql } from '../src/db/client.js';
import type { Sql } from '../src/db/client.js';
import { findCurrency } from '../src/db/ledger.js';
import { sealCurrency } from '../src/db/seals.js';
import { verifyCurrency } from '../src/db/verify.js';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, issue, openAccount, transfer } from './support/http-fixtures.js';
import { openWallet, registerVolunteer } from './support/volunteer-fixtures.js';
import { pay, redeem, requestPayment, shopWithTablet } from './support/shop-fixtures.js';

const root = path.resolve(import.meta.dirname, '..');
const bin_dir = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const tools = ['pg_dump', 'pg_restore', 'postgres', 'initdb'];

/**
 * The PostgreSQL programs this test needs and the machine lacks. The npm packages bring no
 * pg_dump, so on a machine with only Node and npm the test is skipped, saying how to run it
 * (docs/testing.md); where the programs are (these machines, CI), it runs.
 */
const missing_tools = tools.filter((name) => {
  try {
    accessSync(path.join(bin_dir, name), constants.X_OK);
    return false;
  } catch {
    return true;
  }
});
const skipped = missing_tools.length > 0;
if (skipped) {
  process.stderr.write(`test/backup.test.ts skipped: it needs the PostgreSQL server and client programs (${tools.join(', ')}) in ${bin_dir}; `
    + `missing: ${missing_tools.join(', ')}. Install PostgreSQL 15 or newer (e.g. apt-get install postgresql-15) or set PG_BIN_DIR to the folder holding them.\n`);
}
const currencies = ['BKA', 'BKB'];

interface Server {
  pg: EmbeddedPostgres;
  dirs: string[];
}
const servers: Server[] = [];
let work_dir: string;
let main_server: Server;
let source: TestApp;
const opened: Sql[] = [];

async function startServer(): Promise<Server> {
  const data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-backup-pg-'));
  // As in test/global-setup.ts: lets the postgres user keep the cluster here when running as root.
  await chmod(data_dir, 0o755);
  const pg = await startEmbeddedPostgres({
    dataDir: data_dir, binDir: bin_dir, settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  const server = { pg, dirs: [pg.clusterDir, data_dir] };
  servers.push(server);
  return server;
}

async function createDatabase(server: Server, name: string): Promise<string> {
  const admin = postgres(server.pg.url, { max: 1, onnotice: () => {} });
  try {
    await admin`CREATE DATABASE ${admin(name)} TEMPLATE template0`;
  } finally {
    await admin.end();
  }
  const url = new URL(server.pg.url);
  url.pathname = `/${name}`;
  return url.toString();
}

function connect(url: string): Sql {
  const sql = createSql({ url, pool_size_max: 4, statement_timeout_ms: 30_000 });
  opened.push(sql);
  return sql;
}

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a PostgreSQL tool of bin_dir; fails the test with its output unless it exits 0. */
async function tool(name: string, args: string[]): Promise<string> {
  const result = await run(path.join(bin_dir, name), args);
  expect(result.code, `${name} ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

async function dump(url: string): Promise<string> {
  const file = path.join(work_dir, `wijkmunt-${randomBytes(4).toString('hex')}.dump`);
  await tool('pg_dump', ['--format=custom', `--file=${file}`, `--dbname=${url}`]);
  return file;
}

/** The restore command of docs/operations.md. */
async function restore(file: string, url: string): Promise<void> {
  await tool('pg_restore', ['--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', `--dbname=${url}`, file]);
}

/** `wijkmunt verify --currency CODE` as a process, on DATABASE_URL. */
function cliVerify(url: string, code: string) {
  return run(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), 'verify', '--currency', code], {
    DATABASE_URL: url, LOG_LEVEL: 'warn', SCRYPT_COST_LOG2: '10',
  });
}

async function verifyAll(sql: Sql) {
  const results: Record<string, Array<{ name: string; ok: boolean; detail: string }>> = {};
  for (const code of currencies) {
    const currency = await findCurrency(sql, code);
    expect(currency, `no currency ${code}`).toBeDefined();
    results[code] = await verifyCurrency(sql, currency!);
  }
  return results;
}

function failures(results: Record<string, Array<{ name: string; ok: boolean; detail: string }>>): string[] {
  return Object.entries(results).flatMap(([code, checks]) => checks.filter((c) => !c.ok).map((c) => `${code} ${c.name}: ${c.detail}`));
}

/** Everything that must survive a restore unchanged, straight from the tables. */
async function snapshot(sql: Sql) {
  const accounts = await sql`
    SELECT a.id, c.code, a.kind, a.status, a.credits_posted::text, a.debits_posted::text,
           a.credits_pending::text, a.debits_pending::text, a.version::text
    FROM accounts a JOIN currencies c ON c.id = a.currency_id ORDER BY a.id`;
  const seals = await sql`
    SELECT c.code, s.seq::text, s.hash, s.previous_hash, s.transfers_count::text, s.txid_from::text, s.txid_to::text
    FROM seals s JOIN currencies c ON c.id = s.currency_id ORDER BY c.code, s.seq`;
  const [counts] = await sql`
    SELECT (SELECT count(*) FROM transfers)::int AS transfers, (SELECT count(*) FROM entries)::int AS entries,
           (SELECT count(*) FROM audit_log)::int AS audit_log, (SELECT count(*) FROM wallets)::int AS wallets,
           (SELECT count(*) FROM cards)::int AS cards, (SELECT count(*) FROM shops)::int AS shops,
           (SELECT count(*) FROM redemptions)::int AS redemptions, (SELECT count(*) FROM idempotency_keys)::int AS idempotency_keys,
           (SELECT count(*) FROM users)::int AS users`;
  return { accounts: [...accounts], seals: [...seals], counts };
}

/** A balance as the API shows it. */
async function balance(t: TestApp, account: string): Promise<string> {
  const reply = await t.request('GET', `/api/v1/accounts/${account}`, { token: t.adminToken });
  expect(reply.status).toBe(200);
  return reply.body.balance as string;
}

let wallet_bka: string;

beforeAll(async () => {
  if (skipped) return;
  work_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-backup-'));
  main_server = await startServer();
  source = await createTestApp({}, { database_url: await createDatabase(main_server, 'wm_source') });

  // History in two currencies: budgets, rewards, card awards, pending post and void, a reversal,
  // a shop paid by a wallet, a cash-out; sealed twice, with a tail not sealed yet.
  for (const code of currencies) {
    await createCurrency(source, code);
    const programme = await openAccount(source, code, 'programme', `Budget ${code}`);
    const wallet = await openAccount(source, code, 'wallet', `Wallet ${code}`);
    const shop = await openAccount(source, code, 'shop', `Shop ${code}`);
    await issue(source, code, programme, '5000.00');
    for (const amount of ['10.00', '12.50', '0.01']) await transfer(source, code, programme, wallet, amount);
    const posted = await transfer(source, code, wallet, shop, '5.00', { pending: true, transfer_code: 'adjustment' });
    expect((await source.request('POST', `/api/v1/transfers/${posted.id}/post`, { token: source.adminToken, idempotencyKey: newKey(), body: { amount: '4.00' } })).status).toBe(201);
    const voided = await transfer(source, code, wallet, shop, '1.00', { pending: true, transfer_code: 'adjustment' });
    expect((await source.request('POST', `/api/v1/transfers/${voided.id}/void`, { token: source.adminToken, idempotencyKey: newKey() })).status).toBe(201);
    const mistake = await transfer(source, code, programme, shop, '7.00', { transfer_code: 'adjustment' });
    expect((await source.request('POST', `/api/v1/transfers/${mistake.id}/reverse`, { token: source.adminToken, idempotencyKey: newKey(), body: { memo: 'wrong shop' } })).status).toBe(201);
    if (code === 'BKA') wallet_bka = wallet;
  }
  const volunteer = await registerVolunteer(source, 'BKA', { pin: '4826' });
  await issue(source, 'BKA', volunteer.account, '30.00');
  const wallet_token = await openWallet(source, volunteer);
  const { tablet } = await shopWithTablet(source, 'BKA', { name: 'Bakkerij Backup' });
  const request = await requestPayment(source, tablet, '6.50', 'brood');
  expect((await pay(source, wallet_token, request.id)).status).toBe(201);
  expect((await redeem(source, tablet, '2.00')).status).toBe(201);
  for (const code of currencies) expect(await sealCurrency(source.sql, (await findCurrency(source.sql, code))!)).toBeDefined();
  for (const code of currencies) await issue(source, code, await openAccount(source, code, 'wallet', 'Late'), '1.00');
  await transfer(source, 'BKA', wallet_bka, await openAccount(source, 'BKA', 'wallet', 'Later'), '1.00', { transfer_code: 'adjustment' });
  for (const code of currencies) expect(await sealCurrency(source.sql, (await findCurrency(source.sql, code))!)).toBeDefined();
  // The unsealed tail: committed after the last seal.
  await issue(source, 'BKB', await openAccount(source, 'BKB', 'wallet', 'Tail'), '1.00');
});

afterAll(async () => {
  for (const sql of opened) await sql.end({ timeout: 5 });
  await source?.close();
  for (const server of servers) {
    await server.pg.stop();
    for (const dir of server.dirs) await rm(dir, { recursive: true, force: true });
  }
  if (work_dir !== undefined) await rm(work_dir, { recursive: true, force: true });
});

describe.skipIf(skipped)(`backup and restore${skipped ? ' — skipped: PostgreSQL\'s programs are not installed' : ''}`, () => {
  it('runs on the PostgreSQL of PG_BIN_DIR, whose pg_dump can dump it', async () => {
    const [row] = await source.sql<{ version: string }[]>`SELECT current_setting('server_version_num') AS version`;
    const pg_dump_version = (await tool('pg_dump', ['--version'])).match(/(\d+)\.\d+/)?.[1];
    expect(pg_dump_version).toBeDefined();
    expect(Math.floor(Number(row!.version) / 10_000)).toBe(Number(pg_dump_version));
  });

  it('a pg_dump -Fc restored into a fresh database verifies for every currency, seals included, with every balance equal', async () => {
    const before = await verifyAll(source.sql);
    expect(failures(before)).toEqual([]);
    const original = await snapshot(source.sql);
    expect(original.seals.length).toBe(4);

    const file = await dump(source.database_url);
    const restored_url = await createDatabase(main_server, 'wm_restored');
    await restore(file, restored_url);
    const restored = connect(restored_url);

    const results = await verifyAll(restored);
    expect(failures(results)).toEqual([]);
    for (const code of currencies) {
      expect(results[code]!.find((c) => c.name === 'seals')).toEqual({ name: 'seals', ok: true, detail: '2 seals recomputed, chain intact' });
    }
    expect(await snapshot(restored)).toEqual(original);

    // The documented command, as a process: exit 0 for each currency.
    for (const code of currencies) {
      const cli = await cliVerify(restored_url, code);
      expect(cli.code, cli.stdout + cli.stderr).toBe(0);
      expect(cli.stdout).toContain('ok   seals: 2 seals recomputed, chain intact');
      expect(cli.stdout).not.toContain('FAIL');
    }
  });

  it('the service runs on the restored copy: sessions still work, new transfers are sealed after the restored seals', async () => {
    const file = await dump(source.database_url);
    const url = await createDatabase(main_server, 'wm_restarted');
    await restore(file, url);
    const restarted = await createTestApp({}, { database_url: url, keys: source.deps.keys });
    try {
      // The source admin's token: the same key, and the session restored with the data.
      expect((await restarted.request('GET', '/api/v1/auth/me', { token: source.adminToken })).status).toBe(200);
      expect(await balance(restarted, wallet_bka)).toBe(await balance(source, wallet_bka));
      const bka = (await findCurrency(restarted.sql, 'BKA'))!;
      const moved = await transfer(restarted, 'BKA', wallet_bka, (await openAccount(restarted, 'BKA', 'wallet', 'After restore')), '2.00', { transfer_code: 'adjustment' });
      const seal = await sealCurrency(restarted.sql, bka);
      expect(seal?.seq).toBe(3n);
      expect(seal?.transfers_count).toBe(1n);
      const [member] = await restarted.sql<{ id: string }[]>`
        SELECT encode(substring(transfer_ids FROM 1 FOR 16), 'hex') AS id FROM seals WHERE currency_id = ${bka.id} AND seq = 3`;
      expect(member!.id).toBe(String(moved.id).replace(/-/g, ''));
      expect(failures(await verifyAll(restarted.sql))).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it('verify fails on a restored copy edited behind the ledger, naming the transfer (the check is real), while the source stays clean', async () => {
    const file = await dump(source.database_url);
    const url = await createDatabase(main_server, 'wm_tampered');
    await restore(file, url);
    const tampered = connect(url);
    const bka = (await findCurrency(tampered, 'BKA'))!;
    const [victim] = await tampered<{ id: string }[]>`
      SELECT id FROM transfers WHERE currency_id = ${bka.id} AND code = 'reward' AND phase = 'single' AND txid < (
        SELECT txid_to FROM seals WHERE currency_id = ${bka.id} AND seq = 1) ORDER BY txid, id LIMIT 1`;
    await tampered`ALTER TABLE transfers DISABLE TRIGGER transfers_append_only`;
    await tampered`UPDATE transfers SET amount = amount + 100 WHERE currency_id = ${bka.id} AND id = ${victim!.id}`;
    await tampered`ALTER TABLE transfers ENABLE TRIGGER transfers_append_only`;

    const results = await verifyAll(tampered);
    const failed = failures(results);
    expect(failed.some((f) => f.startsWith('BKA seals:') && f.includes(`transfer ${victim!.id} was changed after seal 1`))).toBe(true);
    expect(failed.some((f) => f.startsWith('BKA balances_match_transfers:'))).toBe(true);
    expect(failed.filter((f) => f.startsWith('BKB'))).toEqual([]);
    const cli = await cliVerify(url, 'BKA');
    expect(cli.code, cli.stdout + cli.stderr).toBe(1);
    expect(cli.stdout).toContain(`FAIL seals: transfer ${victim!.id} was changed after seal 1`);
    expect(failures(await verifyAll(source.sql))).toEqual([]);
  });

  it('restored into another server whose transaction ids are behind: verify says so and sealing refuses until they are advanced as documented', async () => {
    // The source server moves ahead, as a server in use for years would be.
    await source.sql.unsafe(`DO $$ DECLARE target xid8 := (pg_current_xact_id()::text::bigint + 5000)::text::xid8;
      BEGIN COMMIT; LOOP EXIT WHEN pg_current_xact_id() >= target; COMMIT; END LOOP; END $$`);
    const bkb_source = (await findCurrency(source.sql, 'BKB'))!;
    await issue(source, 'BKB', await openAccount(source, 'BKB', 'programme', 'Later budget'), '3.00');
    expect(await sealCurrency(source.sql, bkb_source)).toBeDefined();
    const original = await snapshot(source.sql);

    const other = await startServer();
    const url = await createDatabase(other, 'wm_elsewhere');
    await restore(await dump(source.database_url), url);
    const elsewhere = connect(url);
    const bkb = (await findCurrency(elsewhere, 'BKB'))!;

    const behind = await verifyAll(elsewhere);
    const failed = failures(behind);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((f) => / seals: .*transaction ids \(at \d+\) are behind the end of seal \d+/.test(f))).toBe(true);
    await expect(sealCurrency(elsewhere, bkb)).rejects.toThrow(/behind the end of seal/);
    expect((await snapshot(elsewhere)).seals).toEqual(original.seals);

    // The service refuses to start on it rather than write into sealed history.
    const service = await run(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts')], {
      DATABASE_URL: url, PORT: '0', METRICS_PORT: '0', DATA_DIR: work_dir, JWT_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
    });
    expect(service.code, service.stdout + service.stderr).toBe(1);
    expect(service.stderr).toMatch(/refusing to start: BK[AB]: this server's transaction ids \(at \d+\) are behind the end of seal/);

    // Why it matters: a transfer written now gets a transaction id inside a sealed range.
    const unadvanced_url = await createDatabase(other, 'wm_unadvanced');
    await restore(await dump(source.database_url), unadvanced_url);
    const unadvanced = await createTestApp({}, { database_url: unadvanced_url });
    try {
      const stray = await issue(unadvanced, 'BKB', await openAccount(unadvanced, 'BKB', 'wallet', 'Stray'), '1.00');
      const seals = (await verifyAll(unadvanced.sql)).BKB!.find((c) => c.name === 'seals');
      expect(seals?.detail).toMatch(new RegExp(`transfer ${stray.id} was inserted into sealed history`));
    } finally {
      await unadvanced.close();
    }

    // The block of docs/operations.md, as written there.
    const docs = await readFile(path.join(root, 'docs', 'operations.md'), 'utf8');
    const block = /```sql\n(-- wijkmunt: advance transaction ids[\s\S]*?)```/.exec(docs)?.[1];
    expect(block, 'docs/operations.md has the advance block').toBeDefined();
    await elsewhere.unsafe(block!);
    expect(failures(await verifyAll(elsewhere))).toEqual([]);
    // Running it again is harmless.
    await elsewhere.unsafe(block!);

    const restarted = await createTestApp({}, { database_url: url, keys: source.deps.keys });
    try {
      const budget = await openAccount(restarted, 'BKB', 'programme', 'New budget');
      const fresh = await issue(restarted, 'BKB', budget, '9.00');
      const seal = await sealCurrency(restarted.sql, bkb);
      expect(seal?.seq).toBe(BigInt(original.seals.filter((s) => s.code === 'BKB').length + 1));
      expect(seal?.transfers_count).toBe(1n);
      const [member] = await restarted.sql<{ id: string }[]>`
        SELECT encode(substring(transfer_ids FROM 1 FOR 16), 'hex') AS id FROM seals WHERE currency_id = ${bkb.id} AND seq = ${seal!.seq}`;
      expect(member!.id).toBe(String(fresh.id).replace(/-/g, ''));
      expect(failures(await verifyAll(restarted.sql))).toEqual([]);
    } finally {
      await restarted.close();
    }
  });
});
