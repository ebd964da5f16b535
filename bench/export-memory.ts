/**
 * Does exporting a million transfers grow the server's memory? (issue #6)
 *
 *   npx tsx bench/export-memory.ts [transfers]      (default 1,000,000; npm run bench:export)
 *
 * Starts a private embedded PostgreSQL, seeds the transfers with SQL in one transaction
 * (generate_series into transfers and entries, with balances that add up, the append-only
 * triggers off for that transaction only), then runs the real service as a child process
 * (node --import tsx src/main.ts) and downloads GET /exports/transfers.csv of all of it while
 * sampling the child's resident memory (VmRSS in /proc/<pid>/status) every 100 ms.
 * Prints rows, bytes, seconds and RSS before / peak / after. Linux only (reads /proc).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { createSql } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { insertCurrency } from '../src/db/ledger.js';
import { insertUser } from '../src/db/users.js';
import { hashSecret } from '../src/security/passwords.js';
import { projectRoot } from '../src/paths.js';

const transfers_total = Number(process.argv[2] ?? 1_000_000);
const wallets = 1000;
const shops = 10;
/** Half the transfers issue coins to wallets, the other half are payments from wallets to shops. */
const issues = Math.floor(transfers_total / 2 / wallets) * wallets;
const payments = transfers_total - issues;
const issue_amount = 1000n;
const payment_amount = 500n;
const sample_interval_ms = 100;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resident set size of a process, in bytes. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function seed(sql: ReturnType<typeof createSql>, currency_id: number, issuance: string): Promise<void> {
  const per_wallet_issues = issues / wallets;
  await sql.begin(async (tx) => {
    // The ledger is append-only by trigger; seeding history writes straight past the triggers.
    await tx`SET LOCAL session_replication_role = replica`;
    await tx`CREATE TEMP TABLE bench_accounts (kind text, idx int, id uuid) ON COMMIT DROP`;
    await tx`INSERT INTO bench_accounts SELECT 'wallet', i, gen_random_uuid() FROM generate_series(0, ${wallets - 1}) i`;
    await tx`INSERT INTO bench_accounts SELECT 'shop', i, gen_random_uuid() FROM generate_series(0, ${shops - 1}) i`;
    await tx`
      INSERT INTO accounts (currency_id, id, kind, name, created_at)
      SELECT ${currency_id}, id, kind, initcap(kind) || ' ' || idx, '2024-12-01T00:00:00Z' FROM bench_accounts`;
    // Issues: transfer g (1 … issues) gives wallet (g-1) % wallets its k-th 1000, k = (g-1) / wallets + 1.
    await tx`
      INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, memo, created_by, created_at)
      SELECT ${currency_id}, md5('bench-' || g)::uuid, ${issuance}, w.id, ${issue_amount}, 'issue', 'single',
             'seeded issue ' || g, 'bench', '2025-01-01T00:00:00Z'::timestamptz + g * interval '15 seconds'
      FROM generate_series(1, ${issues}) g
      JOIN bench_accounts w ON w.kind = 'wallet' AND w.idx = (g - 1) % ${wallets}`;
    await tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after, created_at)
      SELECT ${currency_id}, ${issuance}, g, md5('bench-' || g)::uuid, -${issue_amount}::bigint, -${issue_amount}::bigint * g,
             '2025-01-01T00:00:00Z'::timestamptz + g * interval '15 seconds'
      FROM generate_series(1, ${issues}) g`;
    await tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after, created_at)
      SELECT ${currency_id}, w.id, (g - 1) / ${wallets} + 1, md5('bench-' || g)::uuid, ${issue_amount}::bigint,
             ${issue_amount}::bigint * ((g - 1) / ${wallets} + 1), '2025-01-01T00:00:00Z'::timestamptz + g * interval '15 seconds'
      FROM generate_series(1, ${issues}) g
      JOIN bench_accounts w ON w.kind = 'wallet' AND w.idx = (g - 1) % ${wallets}`;
    // Payments: transfer g = issues + j (j = 1 … payments), wallet (j-1) % wallets pays shop (j-1) % shops 500.
    await tx`
      INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, memo, created_by, created_at)
      SELECT ${currency_id}, md5('bench-' || (${issues} + j))::uuid, w.id, s.id, ${payment_amount}, 'payment', 'single',
             'seeded payment ' || j, 'bench', '2025-01-01T00:00:00Z'::timestamptz + (${issues} + j) * interval '15 seconds'
      FROM generate_series(1, ${payments}) j
      JOIN bench_accounts w ON w.kind = 'wallet' AND w.idx = (j - 1) % ${wallets}
      JOIN bench_accounts s ON s.kind = 'shop' AND s.idx = (j - 1) % ${shops}`;
    await tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after, created_at)
      SELECT ${currency_id}, w.id, ${per_wallet_issues} + (j - 1) / ${wallets} + 1, md5('bench-' || (${issues} + j))::uuid,
             -${payment_amount}::bigint,
             ${issue_amount}::bigint * ${per_wallet_issues} - ${payment_amount}::bigint * ((j - 1) / ${wallets} + 1),
             '2025-01-01T00:00:00Z'::timestamptz + (${issues} + j) * interval '15 seconds'
      FROM generate_series(1, ${payments}) j
      JOIN bench_accounts w ON w.kind = 'wallet' AND w.idx = (j - 1) % ${wallets}`;
    await tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after, created_at)
      SELECT ${currency_id}, s.id, (j - 1) / ${shops} + 1, md5('bench-' || (${issues} + j))::uuid, ${payment_amount}::bigint,
             ${payment_amount}::bigint * ((j - 1) / ${shops} + 1),
             '2025-01-01T00:00:00Z'::timestamptz + (${issues} + j) * interval '15 seconds'
      FROM generate_series(1, ${payments}) j
      JOIN bench_accounts s ON s.kind = 'shop' AND s.idx = (j - 1) % ${shops}`;
    // The account counters agree with the entries.
    await tx`
      UPDATE accounts a SET
        debits_posted = coalesce((SELECT -sum(e.amount) FROM entries e WHERE e.currency_id = a.currency_id AND e.account_id = a.id AND e.amount < 0), 0),
        credits_posted = coalesce((SELECT sum(e.amount) FROM entries e WHERE e.currency_id = a.currency_id AND e.account_id = a.id AND e.amount > 0), 0),
        version = coalesce((SELECT max(e.version) FROM entries e WHERE e.currency_id = a.currency_id AND e.account_id = a.id), 0)
      WHERE a.currency_id = ${currency_id}`;
  });
  await sql`ANALYZE transfers`;
  await sql`ANALYZE entries`;
  await sql`ANALYZE accounts`;
}

async function main(): Promise<void> {
  const work_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-bench-'));
  await chmod(work_dir, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: work_dir,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const admin = postgres(server.url, { onnotice: () => {} });
    await admin`CREATE DATABASE wijkmunt_bench`;
    await admin.end();
    const database_url = server.url.replace(/\/postgres(\?|$)/, '/wijkmunt_bench$1');
    const sql = createSql({ url: database_url, pool_size_max: 4, statement_timeout_ms: 0 });
    await migrate(sql);
    const currency = await insertCurrency(sql, {
      code: 'BENCH', name: 'Bench coin', scale: 2, euro_per_unit: '0.10',
      wallet_balance_max: null, volunteer_cap_day: null, volunteer_cap_year: null, validity_days: null, gifts_enabled: false, gift_day_max: null,
    });
    const email = 'bench@example.org';
    const password = randomBytes(12).toString('hex');
    await insertUser(sql, { email, role: 'admin', currency_ids: [], password_hash: await hashSecret(password, 10) });

    log(`seeding ${transfers_total.toLocaleString('en')} transfers (${issues} issues, ${payments} payments) …`);
    const seed_started = Date.now();
    await seed(sql, currency.id, currency.issuance_account_id);
    const [counts] = await sql<{ transfers: bigint; entries: bigint; sum: bigint }[]>`
      SELECT (SELECT count(*) FROM transfers)::bigint AS transfers, (SELECT count(*) FROM entries)::bigint AS entries,
             (SELECT sum(credits_posted - debits_posted) FROM accounts)::bigint AS sum`;
    log(`seeded in ${((Date.now() - seed_started) / 1000).toFixed(1)} s: ${counts?.transfers} transfers, ${counts?.entries} entries, balances sum to ${counts?.sum}`);
    await sql.end();

    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: projectRoot(),
      env: {
        ...process.env, DATABASE_URL: database_url, PORT: String(port), METRICS_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn',
        DATA_DIR: path.join(work_dir, 'data'), JWT_SECRET: randomBytes(32).toString('hex'),
        // Sealing reads history too; it is switched off so that only the export is measured.
        SEAL_INTERVAL_S: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('the service did not start');
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch {
        // Not listening yet.
      }
      if (i > 300) throw new Error('the service did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
    const { token } = await login.json() as { token: string };
    const headers = { Authorization: `Bearer ${token}` };
    // Warm up (code loaded, pool opened) with a small export, then let the heap settle.
    await (await fetch(`${base}/api/v1/currencies/BENCH/exports/transfers.csv?from=2025-01-01&to=2025-01-01`, { headers })).text();
    await new Promise((resolve) => setTimeout(resolve, 1000));

    for (const run of [1, 2]) {
      const rss_before = await rssOf(pid);
      let rss_peak = rss_before;
      let bytes = 0;
      let lines = 0;
      /** [rows received so far, server RSS] every sample_interval_ms. */
      const samples: Array<[number, number]> = [];
      const sampler = setInterval(() => {
        rssOf(pid).then((rss) => {
          samples.push([Math.max(lines - 1, 0), rss]);
          rss_peak = Math.max(rss_peak, rss);
        }, () => {});
      }, sample_interval_ms);
      const started = Date.now();
      const response = await fetch(`${base}/api/v1/currencies/BENCH/exports/transfers.csv?from=2024-01-01&to=2033-12-31`, { headers });
      if (response.status !== 200 || response.body === null) throw new Error(`export failed: ${response.status} ${await response.text()}`);
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines += 1;
      }
      const seconds = (Date.now() - started) / 1000;
      clearInterval(sampler);
      const rss_after = await rssOf(pid);
      const rows = lines - 1;
      if (rows !== transfers_total) throw new Error(`exported ${rows} rows, expected ${transfers_total}`);
      // RSS as the export progresses: flat memory means no trend from the first tenth to the last.
      const by_tenth = Array.from({ length: 10 }, (_, tenth) => {
        const within = samples.filter(([r]) => r >= (tenth * rows) / 10 && r < ((tenth + 1) * rows) / 10).map(([, rss]) => rss);
        return within.length === 0 ? '—' : (Math.max(...within) / 1024 / 1024).toFixed(0);
      });
      log([
        `run ${run}: exported ${rows.toLocaleString('en')} rows, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${seconds.toFixed(1)} s`
          + ` (${Math.round(rows / seconds).toLocaleString('en')} rows/s)`,
        `  server RSS before ${mib(rss_before)}, peak ${mib(rss_peak)} (+${mib(rss_peak - rss_before)}), after ${mib(rss_after)}`
          + ` (${samples.length} samples)`,
        `  peak RSS (MiB) per tenth of the rows: ${by_tenth.join(' ')}`,
      ].join('\n'));
    }
    // For scale: how long the JSON reports take on the same history.
    for (const report of ['reports/supply?at=2025-06-30', 'reports/balances?at=2025-06-30', 'reports/shops?from=2025-01-01&to=2025-12-31',
      'reports/volunteering?from=2025-01-01&to=2025-12-31&group=month', 'exports/balances.csv?at=2025-06-30']) {
      const started = Date.now();
      const response = await fetch(`${base}/api/v1/currencies/BENCH/${report}`, { headers });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`${report}: ${response.status} ${body}`);
      log(`GET ${report}: ${Date.now() - started} ms, ${body.length.toLocaleString('en')} bytes`);
    }
  } finally {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await server.stop();
    await rm(server.clusterDir, { recursive: true, force: true });
    await rm(work_dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
