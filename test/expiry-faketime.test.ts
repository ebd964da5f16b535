/**
 * The expiry run with PostgreSQL's clock and the service's moved together, once: coins earned
 * today, then `wijkmunt expire` run 400 days later under Debian's libfaketime, as a child
 * process that starts the embedded PostgreSQL of its DATA_DIR itself — so the server inherits
 * the same fake clock (LD_PRELOAD + FAKETIME=+400d). The run decides by the CLI's day, and the
 * transfer is written with the server's time: both 400 days ahead. The other expiry tests move
 * time by giving the run its `now` (test/expiry-run.test.ts).
 *
 * Needs the libfaketime package (apt-get install libfaketime); skipped, saying so, without it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import type { EmbeddedPostgres } from '../src/db/embedded.js';
import { createTestApp } from './support/app.js';
import { createCurrency, issue, openAccount } from './support/http-fixtures.js';
import { localDateOf } from '../src/ledger/expiry.js';

const root = path.resolve(import.meta.dirname, '..');
const libfaketime = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const has_libfaketime = existsSync(libfaketime);
const day_ms = 86_400_000;
const cleanup: Array<() => Promise<void>> = [];

if (!has_libfaketime) {
  process.stderr.write(`test/expiry-faketime.test.ts skipped: ${libfaketime} is missing (apt-get install libfaketime)\n`);
}

afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

function expireUnderFaketime(data_dir: string, offset: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string | undefined> = {
    ...process.env, DATA_DIR: data_dir, LOG_LEVEL: 'warn', LD_PRELOAD: libfaketime, FAKETIME: offset, DATABASE_URL: undefined,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), 'expire', '--currency', 'FKT'], {
      cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function startServer(data_dir: string): Promise<EmbeddedPostgres> {
  const pg = await startEmbeddedPostgres({ dataDir: data_dir, settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  cleanup.push(() => pg.stop());
  return pg;
}

describe('the expiry run with the database and the service 400 days ahead (libfaketime)', () => {
  it.skipIf(!has_libfaketime)(`takes coins earned today back 400 days later${has_libfaketime ? '' : ' — skipped: libfaketime is not installed'}`, async () => {
    const data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-faketime-'));
    // As test/global-setup.ts: lets the postgres user keep the cluster here when running as root.
    await chmod(data_dir, 0o755);
    cleanup.push(() => rm(data_dir, { recursive: true, force: true }));

    // Today, with the real clock: the service's own database (as `npm start` makes it) gets a
    // currency whose coins stay 365 days, and a wallet earns 10.
    const before = await startServer(data_dir);
    cleanup.push(() => rm(before.clusterDir, { recursive: true, force: true }));
    const t = await createTestApp({}, { database_url: before.url });
    await createCurrency(t, 'FKT', 0, { validity_days: 365 });
    const wallet = await openAccount(t, 'FKT', 'wallet', 'Fatima');
    await issue(t, 'FKT', wallet, '10');
    await t.close();
    await before.stop();

    const started_ms = Date.now();
    const ran = await expireUnderFaketime(data_dir, '+400d');
    expect(ran.code, ran.stderr).toBe(0);
    const ahead = localDateOf(new Date(started_ms + 400 * day_ms));
    expect(ran.stdout).toContain(`FKT ${ahead}: 10 expired from 1 wallet(s)`);

    // Back to today's clock: the transfer was written by the server at its time, 400 days on.
    const after = await startServer(data_dir);
    const check = await createTestApp({}, { database_url: after.url });
    try {
      const rows = await check.sql<{ amount: bigint; created_at: Date; metadata: Record<string, unknown> }[]>`
        SELECT amount, created_at, metadata FROM transfers WHERE code = 'expiry' AND debit_account_id = ${wallet}`;
      expect(rows).toHaveLength(1);
      expect(rows[0]!.amount).toBe(10n);
      expect(rows[0]!.metadata).toMatchObject({ expired_on: ahead });
      const days_ahead = (rows[0]!.created_at.getTime() - started_ms) / day_ms;
      expect(days_ahead).toBeGreaterThan(399.9);
      expect(days_ahead).toBeLessThan(400.1);
      const account = await check.request('GET', `/api/v1/accounts/${wallet}`, { token: check.adminToken });
      expect(account.body.balance).toBe('0');
    } finally {
      await check.close();
    }
  }, 180_000);
});
