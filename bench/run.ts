/**
 * The benchmark of issues #7 and #22 (whose targets it prints): `npm run bench` (full, several minutes) or `npm run bench -- --quick`
 * (under two minutes, shorter runs and a smaller "large" history; indicative only).
 *
 * What it does, in order:
 * 1. Starts a private embedded PostgreSQL with durable settings (fsync, synchronous_commit and
 *    full_page_writes on), or uses the server at BENCH_DATABASE_URL (a superuser: the bench
 *    creates a database, seeds history past the append-only triggers and runs CHECKPOINT).
 * 2. Compiles src/ with tsc into bench/.build and runs the real service as a child process
 *    (`node bench/.build/src/main.js`, as `npm start` runs it; `--tsx` runs src/main.ts through
 *    tsx instead) and seeds through its API: a currency, 4 coordinators, 20 shops with paired
 *    tablets, 1,000 wallets with card, PIN, session token and funds. PINs are hashed with
 *    SCRYPT_COST_LOG2=10 during seeding only; the service is restarted with the default cost
 *    before anything is measured.
 * 3. Seeds history with SQL (generate_series; balances, versions and entries consistent), the
 *    small history over the 100 wallets whose reads are measured.
 * 4. Scenarios over HTTP from 64 keep-alive connections (bench/load-worker.mjs, 2 worker threads
 *    in this process): reads with a small history, payments, payments at half their maximum rate, hot
 *    shop, coordinator transfers (one transfer per request, 20 shops and one hot shop), batches (and,
 *    full mode, the posting pipeline alone at 1–1,000 per call), claims; then the
 *    baselines on the same database (textbook row-locking transfer from postgres.js, floor CTE
 *    from pgbench at 8/16/32/64 clients, and that CTE grown to write every row of a payment — not
 *    a target, a line to read the others by); then a large history (1,000,000 transfers), start-up
 *    time to /readyz, reads (and payments) again; `verify` at the end.
 * 5. Prints a table and writes the JSON summary to bench/results/<timestamp>.json.
 *
 * `--compare 'A' 'B' …` instead runs payments and payments at half their rate with the service
 * in each variant in turn, for several rounds (`--rounds=N`, default 3), on the same database in
 * one run: a variant is `default` or space-separated settings, `NAME=value` for the service and
 * `node=--flag` for node, e.g. `npm run bench -- --compare default 'BATCH_INFLIGHT_MAX=2'`, and
 * `code=DIR` for the service of another checkout (old against new code: `git worktree add DIR REV`,
 * link its node_modules, then `--compare 'code=DIR' default`), which gets a database of its own.
 * Runs of the same code vary by ±10 % from run to run; paired rounds in one run show smaller effects.
 *
 * `--only=NAME,…` (with or without `--quick`) runs only those scenarios after the same seeding —
 * payments, hot-shop, coordinator-transfers, coordinator-hot-shop, batch, claims, get-wallet,
 * get-entries (the reads, with the small history) — with the targets their figures allow; no
 * baselines, no large history. With `--compare`, each variant runs those scenarios instead of
 * payments and half-rate payments (`--quick`: 5 s runs instead of 10 s), and the ratios of the
 * reads to payments are printed per variant and round (issue #22's read targets).
 *
 * `--profile` instead runs the setup, then payments, batches of 1,000, `GET /wallet` and pages of
 * `GET /wallet/entries` with the service under `--cpu-prof` and pg_stat_statements, prints for each
 * the hottest functions (with µs of the service's thread per request) and statements, and logs
 * EXPLAIN (ANALYZE, BUFFERS) of every statement of one payment (auto_explain, nested statements).
 *
 * The machine's speed (SHA-256 on one core of this process, `machineSpeed`, and rows PostgreSQL
 * writes in a transaction rolled back, `databaseSpeed`) is taken at the start, after payments,
 * after the batches, after each floor and at the end; a target that is a ratio of a figure to a
 * baseline measured minutes apart is not judged when either speed at the two differs by more than
 * 15 % (these VMs sometimes slow down by half within a run).
 *
 * Every figure is reported with the CPU it took: this process (the load generator), the service,
 * PostgreSQL, and whatever else ran on the machine; with the WAL and buffers per transfer and the
 * wait events of the database backends. Linux only (reads /proc). docs/performance.md explains
 * the method and the results.
 *
 * Environment: BENCH_DATABASE_URL (use that server), PGBENCH (path of pgbench; default
 * /usr/lib/postgresql/15/bin/pgbench or the one on PATH), BENCH_SERVER_<NAME>=value (passes
 * <NAME>=value to the service, e.g. BENCH_SERVER_DB_POOL_SIZE_MAX=40), BENCH_PG_<name>=value (a
 * setting of the embedded PostgreSQL, e.g. BENCH_PG_shared_buffers=1GB), BENCH_BATCH_SCALING=1
 * (the pipeline scaling test in quick mode too), BENCH_DB_TRANSPORT=tcp (everything reaches the
 * embedded server over TCP, not through its Unix socket as the service does). Experiments only;
 * all are recorded in the JSON.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { Agent, request } from 'undici';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import type { EmbeddedPostgres } from '../src/db/embedded.js';
import { connectionTarget, createSql } from '../src/db/client.js';
import type { Sql } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { runCommands } from '../src/db/batch.js';
import { findCurrency, listEntries } from '../src/db/ledger.js';
import { createLoaders } from '../src/db/loaders.js';
import { insertUser } from '../src/db/users.js';
import { verifyCurrency } from '../src/db/verify.js';
import { hashSecret } from '../src/security/passwords.js';
import { projectRoot } from '../src/paths.js';

// Plan ------------------------------------------------------------------------------------------

const argv = new Set(process.argv.slice(2));

/** The scenarios that `--only` can select, in the order they run. */
const scenario_names = ['payments', 'hot-shop', 'coordinator-transfers', 'coordinator-hot-shop', 'batch', 'claims', 'get-wallet', 'get-entries'] as const;
type ScenarioName = typeof scenario_names[number];
const isScenarioName = (name: string): name is ScenarioName => (scenario_names as readonly string[]).includes(name);
if (argv.has('--help') || argv.has('-h')) {
  process.stdout.write("usage: npm run bench [-- [--quick] [--only=NAME,…] | --profile | --compare VARIANT… [--rounds=N]] [--tsx]\n"
    + "  a VARIANT is 'default' or space-separated NAME=value (service settings), node=--flag (node flags)\n"
    + "  and code=DIR (the service of another checkout, e.g. a worktree of an older commit, on its own database)\n"
    + `  --only runs only the named scenarios: ${scenario_names.join(', ')}\n`);
  process.exit(0);
}
const quick = argv.has('--quick');
const profile_mode = argv.has('--profile');

/** `--only=NAME,…`: the selected scenarios in run order; undefined runs the whole bench. */
const only: ScenarioName[] | undefined = (() => {
  const arg = process.argv.find((a) => a.startsWith('--only='));
  if (arg === undefined) return undefined;
  const names = arg.slice('--only='.length).split(',').filter((x) => x !== '');
  const unknown = names.filter((x) => !isScenarioName(x));
  if (names.length === 0 || unknown.length > 0 || profile_mode) {
    process.stderr.write(`--only: name one or more of ${scenario_names.join(', ')}, without --profile${unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : ''}\n`);
    process.exit(2);
  }
  return scenario_names.filter((x) => names.includes(x));
})();

/** A service variant of `--compare`: its settings and extra node flags, or another checkout's code. */
interface Variant {
  label: string;
  settings: Record<string, string>;
  node_flags: string[];
  /** `code=DIR`: the service of another checkout (e.g. a worktree of an older commit), on its own database. */
  code_dir?: string;
}

function variantOf(text: string): Variant {
  const variant: Variant = { label: text.trim() === '' ? 'default' : text.trim(), settings: {}, node_flags: [] };
  for (const token of text.trim().split(/\s+/).filter((x) => x !== '' && x !== 'default')) {
    const at = token.indexOf('=');
    const name = token.slice(0, at);
    if (at <= 0 || !(name === 'node' || name === 'code' || /^[A-Z][A-Z0-9_]*$/.test(name))) {
      process.stderr.write(`--compare: '${token}' is neither NAME=value, node=--flag nor code=DIR\n`);
      process.exit(2);
    }
    if (name === 'code') variant.code_dir = path.resolve(token.slice(at + 1));
    else if (name === 'node') variant.node_flags.push(token.slice(at + 1));
    else variant.settings[name] = token.slice(at + 1);
  }
  return variant;
}

const compare_at = process.argv.indexOf('--compare');
const variants: Variant[] = compare_at < 0 ? [] : (() => {
  const texts: string[] = [];
  for (const arg of process.argv.slice(compare_at + 1)) {
    if (arg.startsWith('--')) break;
    texts.push(arg);
  }
  return texts.map(variantOf);
})();
const compare_mode = compare_at >= 0;
if (compare_mode && variants.length < 2) {
  process.stderr.write('--compare needs two variants or more (e.g. default BATCH_INFLIGHT_MAX=2)\n');
  process.exit(2);
}
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 3);
/** Run the service through tsx (as in development) instead of compiled JavaScript (as `npm start`). */
const use_tsx = argv.has('--tsx');

interface Plan {
  mode: 'quick' | 'full' | 'profile' | 'compare';
  /** Length of each measured closed-loop HTTP run. */
  measure_s: number;
  /** Length of the open-loop run of payments at half their maximum rate. */
  half_rate_s: number;
  /** Unmeasured run before read scenarios (JIT, caches, connections). */
  warmup_s: number;
  /** Unmeasured run that estimates a write scenario's rate, to size its pool of requests. */
  calibrate_s: number;
  reads_s: number;
  floor_s: number;
  floor_clients: number[];
  /** Transfers in the database for the "small history" reads (10k). */
  history_small: number;
  /** Transfers in the database for the "large history" reads and the start-up time (1M). */
  history_large: number;
  batch_sizes: number[];
  /** Also measure payments again with the large history. */
  payments_at_large: boolean;
  /** Accounts added (with SQL) before payments are measured once more; 0: not measured. */
  accounts_large: number;
}

const plan: Plan = compare_mode
  ? { mode: 'compare', measure_s: quick ? 5 : 10, half_rate_s: quick ? 5 : 10, warmup_s: 2, calibrate_s: 5, reads_s: 0, floor_s: 0, floor_clients: [], history_small: 10_000, history_large: 0, batch_sizes: [], payments_at_large: false, accounts_large: 0 }
  : profile_mode
  ? { mode: 'profile', measure_s: 15, half_rate_s: 0, warmup_s: 2, calibrate_s: 5, reads_s: 0, floor_s: 0, floor_clients: [], history_small: 10_000, history_large: 0, batch_sizes: [], payments_at_large: false, accounts_large: 0 }
  : quick
    ? { mode: 'quick', measure_s: 3, half_rate_s: 3, warmup_s: 1, calibrate_s: 2, reads_s: 2, floor_s: 2, floor_clients: [8, 16, 32, 64], history_small: 10_000, history_large: 100_000, batch_sizes: [1000], payments_at_large: false, accounts_large: 100_000 }
    : { mode: 'full', measure_s: 20, half_rate_s: 15, warmup_s: 3, calibrate_s: 5, reads_s: 10, floor_s: 10, floor_clients: [8, 16, 32, 64], history_small: 10_000, history_large: 1_000_000, batch_sizes: [10, 100, 1000], payments_at_large: true, accounts_large: 1_000_000 };

const wallets_count = 1000;
/**
 * The wallets whose reads are measured, and that the small history is spread over, so that each
 * holds well over a page (50) of entries with 10,000 transfers as with 1,000,000: otherwise a page
 * with a small history would simply be shorter, and cheaper for that reason alone.
 */
const readers_count = 100;
const shops_count = 20;
const coordinators_count = 4;
/** Concurrent HTTP clients (keep-alive connections) of the payment, claim and read scenarios. */
const concurrency = 64;
/** Load-generating worker threads; the 64 connections are split between them. */
const load_threads = 2;
const pin = '2468';
/** Fixed, so tokens issued while seeding stay valid across restarts of the service. */
const jwt_secret = 'wijkmunt-bench-fixed-jwt-secret-not-for-production-0123456789';
const pgbench_path = process.env.PGBENCH
  ?? ['/usr/lib/postgresql/15/bin/pgbench', '/usr/lib/postgresql/16/bin/pgbench', '/usr/lib/postgresql/17/bin/pgbench']
    .find((p) => existsSync(p))
  ?? (spawnSync('sh', ['-c', 'command -v pgbench']).stdout?.toString().trim() || undefined);
/** PostgreSQL settings of the embedded server; the durable ones are the defaults, set explicitly. */
const pg_settings: Record<string, string> = {
  fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on',
  // 64 textbook connections + the service's pool + the bench's own.
  max_connections: '200',
  ...(profile_mode ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {}),
  // BENCH_PG_<setting>=value, e.g. BENCH_PG_shared_buffers=1GB, for experiments (reported in the JSON).
  ...Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('BENCH_PG_') && v !== undefined)
    .map(([k, v]) => [k.slice('BENCH_PG_'.length), v as string])),
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const now = () => performance.timeOrigin + performance.now();
const bench_started = now();

/** A line of the report; progress lines carry the seconds since the start. */
function log(line = '', progress = false): void {
  const stamp = progress ? `[${((now() - bench_started) / 1000).toFixed(0).padStart(4)} s] ` : '';
  const text = line.replace(/^\n+/, '');
  process.stdout.write(`${'\n'.repeat(line.length - text.length)}${stamp}${text}\n`);
}
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

// Machine, CPU and memory accounting -------------------------------------------------------------

const clock_ticks_per_s = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

function procStat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** CPU ticks of the postmaster and every process it forked (backends, walwriter, …), by pid. */
function postgresTicks(postmaster_pid: number | undefined): Map<number, number> {
  const ticks = new Map<number, number>();
  if (postmaster_pid === undefined) return ticks;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (stat !== undefined && (pid === postmaster_pid || stat.ppid === postmaster_pid)) ticks.set(pid, stat.ticks);
  }
  return ticks;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

interface CpuSnapshot {
  at_ms: number;
  client_us: number;
  server_ticks: number;
  postgres: Map<number, number>;
  machine_busy: number;
  extra_ticks: number;
}

/** Cores used (CPU seconds per second) by each party between two snapshots. */
interface CpuCores {
  /** This process: the load generator (and the textbook baseline's postgres.js client). */
  client: number;
  /** The service (its Node process). */
  server: number;
  /** PostgreSQL: the postmaster and everything it forked. */
  postgres: number;
  /** pgbench, in the floor baseline. */
  pgbench?: number;
  /** Everything busy on the machine. */
  machine: number;
  /** Machine minus the above: other processes (other work on the machine, the kernel's own threads). */
  other: number;
}

interface Probe {
  server_pid?: number;
  postmaster_pid?: number;
  extra_pid?: number;
}

function cpuSnapshot(probe: Probe): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    at_ms: now(),
    client_us: usage.user + usage.system,
    server_ticks: probe.server_pid === undefined ? 0 : procStat(probe.server_pid)?.ticks ?? 0,
    postgres: postgresTicks(probe.postmaster_pid),
    machine_busy: machineTicks().busy,
    extra_ticks: probe.extra_pid === undefined ? 0 : procStat(probe.extra_pid)?.ticks ?? 0,
  };
}

function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuCores {
  const seconds = (b.at_ms - a.at_ms) / 1000;
  let pg_ticks = 0;
  for (const [pid, ticks] of b.postgres) pg_ticks += ticks - (a.postgres.get(pid) ?? 0);
  const client = (b.client_us - a.client_us) / 1e6 / seconds;
  const server = (b.server_ticks - a.server_ticks) / clock_ticks_per_s / seconds;
  const pg = pg_ticks / clock_ticks_per_s / seconds;
  const pgbench = (b.extra_ticks - a.extra_ticks) / clock_ticks_per_s / seconds;
  const machine = (b.machine_busy - a.machine_busy) / clock_ticks_per_s / seconds;
  return {
    client: round(client, 2), server: round(server, 2), postgres: round(pg, 2),
    ...(pgbench > 0 ? { pgbench: round(pgbench, 2) } : {}),
    machine: round(machine, 2), other: round(Math.max(0, machine - client - server - pg - pgbench), 2),
  };
}

/** The service's resident memory, sampled every 100 ms: the peak of the current scope and overall. */
const rss = { pid: 0, scope_peak: 0, overall_peak: 0, samples: 0 };
setInterval(() => {
  if (rss.pid === 0) return;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${rss.pid}/status`, 'utf8'));
    if (match === null) return;
    const bytes = Number(match[1]) * 1024;
    rss.samples += 1;
    rss.scope_peak = Math.max(rss.scope_peak, bytes);
    rss.overall_peak = Math.max(rss.overall_peak, bytes);
  } catch {
    // The process just ended.
  }
}, 100).unref();
const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);

function machineInfo() {
  const cpus = os.cpus();
  return {
    cores: cpus.length, cpu_model: cpus[0]?.model ?? 'unknown', memory_gib: round(os.totalmem() / 1024 ** 3, 1),
    kernel: `${os.type()} ${os.release()}`, node: process.version, load_average: os.loadavg().map((x) => round(x, 2)),
    /** The bench's own scheduling priority (inherited by PostgreSQL and the service); 0 is normal. */
    niceness: os.getPriority(),
  };
}

/** The busiest other processes right now (what else ran). */
function otherProcesses(): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,pcpu,rss,args', '--sort=-pcpu'], { encoding: 'utf8' });
  return (ps.stdout ?? '').split('\n').slice(1, 9).map((l) => l.trim().slice(0, 140)).filter((l) => l !== '');
}

function gitInfo() {
  const run = (args: string[]) => spawnSync('git', args, { cwd: projectRoot(), encoding: 'utf8' }).stdout?.trim() ?? '';
  const changed = run(['status', '--porcelain', '--', 'src', 'migrations']).split('\n').filter((l) => l !== '');
  return { commit: run(['rev-parse', '--short', 'HEAD']), uncommitted_in_src_or_migrations: changed };
}

// Wait events --------------------------------------------------------------------------------------

/** How the service, the baselines and pgbench reach the database. */
function transportOf(url: string): string {
  return connectionTarget(url).path === undefined ? 'TCP' : 'a Unix socket';
}

/** postgres.js on `url`, through the Unix socket its `?host=` names (as `createSql` connects). */
function connect(url: string, options: postgres.Options<any>): postgres.Sql<any> {
  const { url: target, ...socket } = connectionTarget(url);
  return postgres(target, { ...options, ...socket });
}

/**
 * Samples what the database backends of one application are doing every 50 ms: on CPU, waiting
 * for a lock, for the WAL flush, or idle waiting for the application (the service or client).
 */
function startWaitSampler(url: string, application_name: string) {
  const sql = connect(url, { max: 1, onnotice: () => {}, connection: { application_name: 'bench-sampler' } });
  const counts = new Map<string, number>();
  let samples = 0;
  let backends = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await sql<{ state: string | null; wait_event_type: string | null; wait_event: string | null }[]>`
        SELECT state, wait_event_type, wait_event FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name = ${application_name}
          AND query NOT ILIKE 'listen %'`.catch(() => []);
      samples += 1;
      for (const row of rows) {
        backends += 1;
        const label = row.state === 'active'
          ? (row.wait_event_type === null ? 'active: on CPU' : `active: ${row.wait_event_type}/${row.wait_event}`)
          : row.state === 'idle' ? 'idle: waiting for the client'
            : row.state === 'idle in transaction' ? 'idle in transaction: waiting for the client'
              : String(row.state);
        counts.set(label, (counts.get(label) ?? 0) + 1);
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await sql.end({ timeout: 1 });
      const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
        .map(([label, n]) => ({ label, share: round(n / Math.max(backends, 1), 3) }));
      return { backends_mean: round(backends / Math.max(samples, 1), 1), top };
    },
  };
}

// The service ------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How the service is started: compiled JavaScript by default (see compileService), or tsx. */
/** The Node flags of `npm start` and the Dockerfile. */
const service_node_flags = ['--max-semi-space-size=16', '--max-old-space-size=160'];
interface ServiceCommand {
  /** The checkout the service runs from. */
  cwd: string;
  args: string[];
  description: string;
}
const service_command: ServiceCommand = { cwd: projectRoot(), args: ['--import', 'tsx', 'src/main.ts'], description: 'node --import tsx src/main.ts' };

/**
 * Compiles src/ with tsc into bench/.build, so the service runs as `npm start` runs it: compiled
 * JavaScript, without tsx's loader thread and on-the-fly transpiling (which add memory and
 * start-up time that production does not have). tsc emits even with type errors (another change
 * in progress); only a missing output falls back to tsx.
 */
function compileService(command: ServiceCommand = service_command): { seconds: number; note?: string } | undefined {
  const root = command.cwd;
  const out = path.join(root, 'bench', '.build');
  const started = now();
  spawnSync('rm', ['-rf', out]);
  const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', 'tsconfig.json', '--outDir', out, '--sourceMap', 'false'], { cwd: root, encoding: 'utf8' });
  const entry = path.join(out, 'src', 'main.js');
  if (!existsSync(entry)) {
    log(`could not compile the service (${(result.stdout ?? '').split('\n')[0] ?? ''}); running it through tsx`);
    return undefined;
  }
  // As `npm start` and the Dockerfile run it.
  // As `npm start` and the Dockerfile run it; BENCH_NODE_FLAGS replaces the flags, for experiments.
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter((f) => f !== '') ?? service_node_flags;
  command.args = [...flags, path.relative(root, entry)];
  command.description = `node ${[...flags, ''].join(' ')}${path.relative(root, entry)} (src/ compiled by tsc)${root === projectRoot() ? '' : ` in ${root}`}`;
  const note = result.status === 0 ? undefined : `tsc reported type errors (${(result.stdout ?? '').split('\n')[0] ?? ''}); its output was used`;
  return { seconds: round((now() - started) / 1000, 1), ...(note === undefined ? {} : { note }) };
}

/** Settings of the service that the bench's own environment must not leak into it. */
const service_setting = /^(PORT|HOST|PUBLIC_BASE_URL|TRUST_PROXY|DATABASE_URL|DATA_DIR|JWT_SECRET|JWT_SECRETS_PREVIOUS|[A-Z_]+_TTL_S|PIN_[A-Z_]+|SCRYPT_COST_LOG2|LOG_LEVEL|DB_[A-Z_]+|BODY_SIZE_MAX_BYTES|REQUEST_TIMEOUT_MS|SEAL_INTERVAL_S|SHUTDOWN_TIMEOUT_MS|[A-Z_]+_PER_[A-Z_]*MINUTE_MAX|RATE_LIMIT_KEYS_MAX|CORS_ORIGINS|METRICS_[A-Z_]+)$/;

const rate_limits_off = {
  LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000', LOGIN_FAILURES_PER_EMAIL_PER_MINUTE_MAX: '1000000',
  PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
  PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
};

/** What the service runs with, secrets left out (for the report). */
function serviceSettings(extra: Record<string, string>): Record<string, string> {
  const overrides = Object.fromEntries(Object.entries(process.env)
    .filter(([k, v]) => k.startsWith('BENCH_SERVER_') && v !== undefined).map(([k, v]) => [k.slice('BENCH_SERVER_'.length), v as string]));
  return { HOST: '127.0.0.1', LOG_LEVEL: 'warn', SEAL_INTERVAL_S: '0', ...rate_limits_off, ...overrides, ...extra };
}

interface Service {
  pid: number;
  origin: string;
  /** Where the service serves /metrics: its own loopback listener. */
  metrics_url: string;
  startup_ms: number;
  error_lines: string[];
  api<T = unknown>(method: string, path: string, options?: { token?: string; body?: unknown; idempotent?: boolean; expect?: number }): Promise<T>;
  stop(): Promise<void>;
}

async function startService(
  database_url: string, data_dir: string, extra: Record<string, string>, cpu_prof_dir?: string, node_flags: string[] = [],
  command: ServiceCommand = service_command,
): Promise<Service> {
  const port = await freePort();
  const metrics_port = await freePort();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !service_setting.test(k)) env[k] = v;
  Object.assign(env, serviceSettings(extra), {
    DATABASE_URL: database_url, PORT: String(port), METRICS_PORT: String(metrics_port), DATA_DIR: data_dir, JWT_SECRET: jwt_secret,
  });
  // A variant's node flags after the service's own, so that they win; the entry point last.
  const node_args = [...(cpu_prof_dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpu_prof_dir}`]),
    ...command.args.slice(0, -1), ...node_flags, ...command.args.slice(-1)];
  const started = now();
  const child: ChildProcess = spawn(process.execPath, node_args, { cwd: command.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the service did not start');
  const error_lines: string[] = [];
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    // pino: level 50 is error, 60 fatal.
    const level = /^\{"level":(\d+)/.exec(line);
    if ((level !== null && Number(level[1]) >= 50) || (level === null && /error/i.test(line))) {
      if (error_lines.length < 20) error_lines.push(line.slice(0, 1000));
    }
  };
  if (child.stdout !== null) createInterface({ input: child.stdout }).on('line', keep);
  if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', keep);
  const origin = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  let ready = false;
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}):\n${tail.join('\n')}`);
    if (now() - started > 120_000) throw new Error(`the service did not become ready:\n${tail.join('\n')}`);
    try {
      const response = await request(`${origin}/readyz`, { dispatcher: agent });
      await response.body.text();
      ready = response.statusCode === 200;
    } catch {
      // Not listening yet.
    }
    if (!ready) await sleep(20);
  }
  const startup_ms = now() - started;
  rss.pid = pid;
  const api = async <T>(method: string, p: string, options: { token?: string; body?: unknown; idempotent?: boolean; expect?: number } = {}): Promise<T> => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.idempotent === true) headers['idempotency-key'] = randomUUID();
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await request(`${origin}/api/v1${p}`, {
      method: method as 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), dispatcher: agent,
    });
    const text = await response.body.text();
    const expect = options.expect ?? (method === 'POST' ? 201 : 200);
    if (response.statusCode !== expect) throw new Error(`${method} ${p}: ${response.statusCode} ${text.slice(0, 800)}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    pid, origin, metrics_url: `http://127.0.0.1:${metrics_port}/metrics`, startup_ms, error_lines, api,
    async stop() {
      await agent.close();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await once(child, 'exit');
        clearTimeout(killer);
      }
      if (rss.pid === pid) rss.pid = 0;
    },
  };
}

// Load generation --------------------------------------------------------------------------------

interface LoadSpec {
  label: string;
  method: 'GET' | 'POST';
  /** One path for every job, or one per job. */
  paths: string[];
  /** Number of jobs (the most that can be sent). */
  count: number;
  tokens: string[] | null;
  /** Token of each job; by default job g uses tokens[g % tokens.length]. */
  token_idx?: Int32Array;
  bodies?: string[];
  /** Body of each job; by default job g uses bodies[g % bodies.length]. */
  body_idx?: Int32Array;
  idempotency: boolean;
  expect_status: number;
  mode: 'closed' | 'open';
  rate_per_s?: number;
  duration_s: number;
  connections?: number;
  collect?: string[];
  /** Transfers (or other items) per request, for items/s. */
  items_per_request?: number;
  /** application_name of the backends whose wait events are sampled. */
  wait_app?: string;
}

interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

interface LoadResult {
  label: string;
  requests: number;
  errors: number;
  throughput_per_s: number;
  items_per_s?: number;
  window_s: number;
  latency_ms: Latency;
  cpu_cores: CpuCores;
  server_rss_peak_mib: number;
  status_counts: Record<string, number>;
  error_samples: Array<{ job: number; status: number; body: string }>;
  /** WAL written during the run per successful request (or per transfer of a batch), all of the server's WAL. */
  wal_bytes_per_item?: number;
  /** Blocks of this database found in shared buffers / read from the OS, per request or transfer. */
  blocks_per_item?: { hit: number; read: number };
  waits?: Awaited<ReturnType<ReturnType<typeof startWaitSampler>['stop']>>;
  target_rate_per_s?: number;
  /** Request batching: database transactions that moved value, and requests per transaction. */
  batching?: { transactions: number; requests_per_transaction: number };
  /** Open-loop runs: p99 of the requests that finished in each second of the run, and how many of the run's slowest 1 % each second holds. */
  by_second?: Array<{ second: number; requests: number; p99_ms: number; slowest: number }>;
}

/** Where in an open-loop run its slowest requests fall: the p99 of each second, and its share of the run's slowest 1 %. */
function bySecond(done: Array<{ at_ms: number; latency_ms: number }>, start_at: number): NonNullable<LoadResult['by_second']> {
  const threshold = latencyOf(done.map((d) => d.latency_ms)).p99;
  const seconds = new Map<number, number[]>();
  for (const d of done) {
    const second = Math.max(0, Math.floor((d.at_ms - start_at) / 1000));
    const held = seconds.get(second);
    if (held === undefined) seconds.set(second, [d.latency_ms]);
    else held.push(d.latency_ms);
  }
  return [...seconds.entries()].sort((a, b) => a[0] - b[0]).map(([second, latencies]) => ({
    second, requests: latencies.length, p99_ms: latencyOf(latencies).p99, slowest: latencies.filter((l) => l > threshold).length,
  }));
}

function latencyOf(values: Float64Array | number[]): Latency {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: round(at(0.5), 2), p95: round(at(0.95), 2), p99: round(at(0.99), 2),
    max: round(sorted.at(-1) ?? 0, 2), mean: round(sorted.length === 0 ? 0 : sum / sorted.length, 2),
  };
}

interface WorkerAnswer {
  issued: number;
  errors: number;
  status_counts: Record<string, number>;
  error_samples: Array<{ job: number; status: number; body: string }>;
  latency_ms: Float64Array;
  finished_at: Float64Array;
  ok: Uint8Array;
  collected: unknown[][] | null;
}

const context: { database_url: string; probe: Probe } = { database_url: '', probe: {} };

/** Value-moving requests combined so far: transactions and requests (the service's /metrics). */
async function batchCounters(service: Service): Promise<{ batches: number; commands: number } | undefined> {
  try {
    const text = await (await fetch(service.metrics_url)).text();
    const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? 'NaN');
    const batches = value('wijkmunt_batch_commands_count');
    const commands = value('wijkmunt_batch_commands_sum');
    return Number.isFinite(batches) && Number.isFinite(commands) ? { batches, commands } : undefined;
  } catch {
    return undefined;
  }
}

async function runLoad(spec: LoadSpec, service: Service): Promise<LoadResult & { collected?: unknown[][] }> {
  const batch_before = await batchCounters(service);
  const connections = spec.connections ?? concurrency;
  const threads = Math.min(load_threads, connections);
  const workers: Worker[] = [];
  const answers: Array<Promise<WorkerAnswer>> = [];
  const worker_counts: number[] = [];
  for (let w = 0; w < threads; w++) {
    const count = Math.max(0, Math.ceil((spec.count - w) / threads));
    worker_counts.push(count);
    const slice = (a: Int32Array | undefined) => a === undefined ? null : Int32Array.from({ length: count }, (_, k) => a[k * threads + w] ?? 0);
    const paths = spec.paths.length === 1 ? spec.paths : Array.from({ length: count }, (_, k) => spec.paths[k * threads + w] as string);
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
      workerData: {
        origin: service.origin, connections: Math.floor(connections / threads) + (w < connections % threads ? 1 : 0),
        method: spec.method, count, offset: w, stride: threads, paths, tokens: spec.tokens, token_idx: slice(spec.token_idx),
        bodies: spec.bodies ?? null, body_idx: slice(spec.body_idx),
        idempotency: spec.idempotency, expect_status: spec.expect_status, mode: spec.mode,
        rate_per_s: (spec.rate_per_s ?? 0) / threads, collect: spec.collect ?? null,
      },
    });
    workers.push(worker);
    answers.push(new Promise<WorkerAnswer>((resolve, reject) => {
      worker.on('message', (message: unknown) => { if (message !== 'ready') resolve(message as WorkerAnswer); });
      worker.on('error', reject);
    }));
  }
  await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
    const onMessage = (message: unknown) => { if (message === 'ready') { worker.off('message', onMessage); resolve(); } };
    worker.on('message', onMessage);
  })));
  const waits = spec.wait_app === undefined ? undefined : startWaitSampler(context.database_url, spec.wait_app);
  rss.scope_peak = 0;
  const wal_before = await walPosition();
  const blocks_before = await blockCounts();
  const start_at = now() + 50;
  const deadline_at = start_at + spec.duration_s * 1000;
  await sleep(start_at - now());
  const before = cpuSnapshot(context.probe);
  for (const worker of workers) worker.postMessage({ start_at, deadline_at });
  const results = await Promise.all(answers);
  const after = cpuSnapshot(context.probe);
  const wal_after = await walPosition();
  // Backends report their block counts about once a second; let the last second arrive (full runs).
  if (plan.mode !== 'quick') await sleep(1100);
  const blocks_after = await blockCounts();
  await Promise.all(workers.map((worker) => worker.terminate()));
  const wait_report = await waits?.stop();

  // The window ends at the deadline, or when the first thread ran out of jobs (after that, fewer
  // than `connections` clients are left and the rate would not be the rate at full concurrency).
  let window_end = deadline_at;
  results.forEach((r, w) => {
    if (r.issued >= (worker_counts[w] ?? 0) && r.issued > 0) {
      let last = 0;
      for (const t of r.finished_at) last = Math.max(last, t);
      window_end = Math.min(window_end, last);
    }
  });
  let in_window = 0;
  let requests = 0;
  let errors = 0;
  const latencies: number[] = [];
  const done: Array<{ at_ms: number; latency_ms: number }> = [];
  const status_counts: Record<string, number> = {};
  const error_samples: LoadResult['error_samples'] = [];
  for (const r of results) {
    errors += r.errors;
    for (const [status, n] of Object.entries(r.status_counts)) status_counts[status] = (status_counts[status] ?? 0) + n;
    error_samples.push(...r.error_samples);
    for (let i = 0; i < r.issued; i++) {
      if (r.ok[i] !== 1) continue;
      requests += 1;
      latencies.push(r.latency_ms[i] ?? 0);
      if (spec.rate_per_s !== undefined) done.push({ at_ms: r.finished_at[i] ?? 0, latency_ms: r.latency_ms[i] ?? 0 });
      if ((r.finished_at[i] ?? Infinity) <= window_end) in_window += 1;
    }
  }
  const window_s = Math.max(0.001, (window_end - start_at) / 1000);
  const throughput = in_window / window_s;
  const batch_after = await batchCounters(service);
  const batches = batch_before === undefined || batch_after === undefined ? 0 : batch_after.batches - batch_before.batches;
  const batching = batches > 0 && batch_before !== undefined && batch_after !== undefined
    ? { transactions: batches, requests_per_transaction: round((batch_after.commands - batch_before.commands) / batches, 1) }
    : undefined;
  let collected: unknown[][] | undefined;
  if (spec.collect !== undefined) {
    collected = new Array(spec.count);
    results.forEach((r, w) => r.collected?.forEach((value, k) => { (collected as unknown[][])[k * threads + w] = value; }));
  }
  return {
    label: spec.label, requests, errors, throughput_per_s: round(throughput, 1),
    ...(spec.items_per_request === undefined ? {} : { items_per_s: round(throughput * spec.items_per_request, 1) }),
    window_s: round(window_s, 2), latency_ms: latencyOf(latencies), cpu_cores: cpuBetween(before, after),
    server_rss_peak_mib: mib(rss.scope_peak), status_counts, error_samples: error_samples.slice(0, 5),
    wal_bytes_per_item: walPerItem(wal_before, wal_after, requests * (spec.items_per_request ?? 1)),
    blocks_per_item: blocksPerItem(blocks_before, blocks_after, requests * (spec.items_per_request ?? 1)),
    ...(wait_report === undefined ? {} : { waits: wait_report }),
    ...(spec.rate_per_s === undefined ? {} : { target_rate_per_s: round(spec.rate_per_s, 1) }),
    ...(batching === undefined ? {} : { batching }),
    ...(spec.rate_per_s === undefined ? {} : { by_second: bySecond(done, start_at) }),
    ...(collected === undefined ? {} : { collected }),
  };
}

function brief(r: LoadResult): string {
  const items = r.items_per_s === undefined ? '' : ` (${Math.round(r.items_per_s).toLocaleString('en')} items/s)`;
  return `${r.label}: ${Math.round(r.throughput_per_s).toLocaleString('en')}/s${items}, p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, `
    + `${r.errors} errors, CPU client ${r.cpu_cores.client} / service ${r.cpu_cores.server} / PostgreSQL ${r.cpu_cores.postgres} / other ${r.cpu_cores.other}, `
    + `service RSS peak ${r.server_rss_peak_mib} MiB`
    + (r.batching === undefined ? '' : `, ${r.batching.requests_per_transaction} requests per transaction`)
    + (r.errors === 0 || r.error_samples[0] === undefined ? '' : `; first error: ${r.error_samples[0].status} ${r.error_samples[0].body.slice(0, 300)}`);
}

/** Drops the per-job data before a result goes into the summary. */
function strip<T extends { collected?: unknown }>(r: T): Omit<T, 'collected'> {
  const { collected: _collected, ...rest } = r;
  return rest;
}

/**
 * How fast the load generator itself is: the same worker threads against a bare node:http server
 * in its own process, which answers every request at once. Its CPU per request is the load
 * generator's cost in every other scenario.
 */
async function loadGeneratorSelfTest(duration_s: number) {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => {
    s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"id":"00000000-0000-0000-0000-000000000000"}'); }); })
    .listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.stdout === null) throw new Error('no stdout');
  await once(child.stdout, 'data');
  const previous = context.probe.server_pid;
  context.probe.server_pid = child.pid;
  const fake = { origin: `http://127.0.0.1:${port}`, metrics_url: `http://127.0.0.1:${port}/metrics` } as Service;
  const spec: LoadSpec = {
    label: 'load generator vs a bare node:http server', method: 'POST', paths: ['/api/v1/payment-requests/x/pay'], count: 2_000_000,
    tokens: ['x'.repeat(220)], bodies: ['{"amount":"1.00"}'], idempotency: true, expect_status: 200, mode: 'closed', duration_s: 1,
  };
  await runLoad(spec, fake);
  const result = strip(await runLoad({ ...spec, duration_s }, fake));
  context.probe.server_pid = previous;
  child.kill();
  await once(child, 'exit');
  const client_us_per_request = round((result.cpu_cores.client * 1e6) / Math.max(result.throughput_per_s, 1), 1);
  log(`${brief(result)}; the load generator spends ${client_us_per_request} µs of CPU per request`);
  return { ...result, client_us_per_request };
}

// Seeding ------------------------------------------------------------------------------------------

interface Fixture {
  currency_id: number;
  issuance: string;
  admin_token: string;
  coordinator_tokens: string[];
  shops: Array<{ account: string; token: string }>;
  wallets: Array<{ account: string; card: string; token: string }>;
  programme: string;
  activity: string;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await fn(items[i] as T, i);
    }
  }));
  return results;
}

async function seedThroughApi(service: Service, admin: { email: string; password: string }): Promise<Fixture> {
  const { token: admin_token } = await service.api<{ token: string }>('POST', '/auth/login', { body: admin, expect: 200 });
  const currency = await service.api<{ id: number; issuance_account: string }>('POST', '/currencies', {
    token: admin_token, body: { code: 'BENCH', name: 'Bench coin', scale: 2, euro_per_unit: '0.10' },
  });
  // Payment requests are made in a setup phase, long before they are paid.
  await service.api('PATCH', '/currencies/BENCH', { token: admin_token, body: { payment_request_ttl_s: 86_400 } });
  const coordinator_tokens = await mapLimit(Array.from({ length: coordinators_count }, (_, i) => i), 4, async (i) => {
    const credentials = { email: `coordinator${i}@bench.example.org`, password: randomBytes(12).toString('hex') };
    await service.api('POST', '/users', { token: admin_token, body: { ...credentials, role: 'coordinator', currencies: ['BENCH'] } });
    return (await service.api<{ token: string }>('POST', '/auth/login', { body: credentials, expect: 200 })).token;
  });
  const shops = await mapLimit(Array.from({ length: shops_count }, (_, i) => i), 8, async (i) => {
    const shop = await service.api<{ account: { id: string }; pairing_code: string }>('POST', '/currencies/BENCH/shops', {
      token: admin_token, body: { name: `Shop ${i}` },
    });
    const paired = await service.api<{ token: string }>('POST', '/shop/devices', { body: { pairing_code: shop.pairing_code, device_name: `Till ${i}` } });
    return { account: shop.account.id, token: paired.token };
  });
  const wallets = await mapLimit(Array.from({ length: wallets_count }, (_, i) => i), 32, async (i) => {
    const wallet = await service.api<{ account: { id: string }; card: { code: string } }>('POST', '/currencies/BENCH/wallets', {
      token: coordinator_tokens[i % coordinators_count], body: { display_name: `Volunteer ${i}`, pin },
    });
    const session = await service.api<{ token: string }>('POST', '/wallet/session', { body: { card: wallet.card.code, pin }, expect: 200 });
    return { account: wallet.account.id, card: wallet.card.code, token: session.token };
  });
  // Funds: one batch of 1,000 issues (100,000.00 each).
  const funding = await service.api<{ results: Array<{ status: string }> }>('POST', '/currencies/BENCH/transfers/batch', {
    token: admin_token, idempotent: true, expect: 200,
    body: { atomic: true, transfers: wallets.map((w) => ({ debit_account: currency.issuance_account, credit_account: w.account, amount: '100000.00', code: 'issue' })) },
  });
  if (funding.results.some((r) => r.status !== 'created')) throw new Error('funding failed');
  const programmes = await service.api<{ items: Array<{ id: string }> }>('GET', '/currencies/BENCH/accounts?kind=programme', { token: admin_token });
  const programme = programmes.items[0]?.id;
  if (programme === undefined) throw new Error('no programme account');
  await service.api('POST', '/currencies/BENCH/issue', { token: admin_token, idempotent: true, body: { to_account: programme, amount: '900000000.00' } });
  const activities = await service.api<{ items: Array<{ id: string; rate_per_hour: string | null }> }>('GET', '/currencies/BENCH/activities', { token: admin_token });
  const activity = activities.items.find((a) => a.rate_per_hour !== null)?.id;
  if (activity === undefined) throw new Error('no activity');
  return { currency_id: currency.id, issuance: currency.issuance_account, admin_token, coordinator_tokens, shops, wallets, programme, activity };
}

/**
 * Appends `count` transfers to the ledger with SQL, in one transaction, past the append-only
 * triggers (session_replication_role = replica, which also skips the foreign-key triggers):
 * alternately an issue of 0.01 to a wallet and a payment of 0.01 from that wallet to a shop, so
 * no wallet ever goes below what it has. Entries continue each account's versions and running
 * balances; the accounts' counters are raised to match, so `verify` holds afterwards.
 */
/** Adds `count` wallet accounts (no wallets, cards or history: only what a payment's lookups see). */
async function seedAccounts(sql: Sql, fixture: Fixture, count: number): Promise<number> {
  const started = now();
  const salt = randomUUID();
  await sql.begin(async (tx) => {
    await tx`SET LOCAL statement_timeout = 0`;
    await tx`
      INSERT INTO accounts (currency_id, id, kind, name)
      SELECT ${fixture.currency_id}, md5(${salt} || g)::uuid, 'wallet', 'seeded account ' || g
      FROM generate_series(1, ${count}::bigint) g`;
  });
  await sql`ANALYZE accounts`;
  return round((now() - started) / 1000, 1);
}

async function seedHistory(sql: Sql, fixture: Fixture, count: number, wallets_used: number): Promise<number> {
  if (count <= 0) return 0;
  const started = now();
  const salt = randomUUID();
  const wallets = fixture.wallets.slice(0, wallets_used).map((w) => w.account);
  const shops = fixture.shops.map((s) => s.account);
  const c = fixture.currency_id;
  await sql.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    await tx`SET LOCAL work_mem = '256MB'`;
    await tx`SET LOCAL statement_timeout = 0`;
    await tx`CREATE TEMP TABLE h_wallet ON COMMIT DROP AS SELECT (ord - 1)::int AS idx, id FROM unnest(${wallets}::uuid[]) WITH ORDINALITY AS t(id, ord)`;
    await tx`CREATE TEMP TABLE h_shop ON COMMIT DROP AS SELECT (ord - 1)::int AS idx, id FROM unnest(${shops}::uuid[]) WITH ORDINALITY AS t(id, ord)`;
    await tx`
      CREATE TEMP TABLE h_transfer ON COMMIT DROP AS
      SELECT g, md5(${salt} || g)::uuid AS id,
             CASE WHEN g % 2 = 1 THEN ${fixture.issuance}::uuid ELSE w.id END AS debit,
             CASE WHEN g % 2 = 1 THEN w.id ELSE s.id END AS credit,
             CASE WHEN g % 2 = 1 THEN 'issue' ELSE 'payment' END AS code,
             now() + g * interval '1 microsecond' AS created_at
      FROM generate_series(1, ${count}::bigint) g
      JOIN h_wallet w ON w.idx = ((g - 1) / 2) % ${wallets.length}
      JOIN h_shop s ON s.idx = ((g - 1) / 2) % ${shops.length}`;
    await tx`
      INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, memo, created_by, created_at)
      SELECT ${c}, id, debit, credit, 1, code, 'single', 'seeded history', 'bench', created_at FROM h_transfer`;
    await tx`
      CREATE TEMP TABLE h_move ON COMMIT DROP AS
      SELECT debit AS account_id, id AS transfer_id, -1::bigint AS amount, g, created_at FROM h_transfer
      UNION ALL
      SELECT credit, id, 1::bigint, g, created_at FROM h_transfer`;
    await tx`
      INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after, created_at)
      SELECT ${c}, m.account_id, a.version + row_number() OVER w, m.transfer_id, m.amount,
             a.credits_posted - a.debits_posted + sum(m.amount) OVER w, m.created_at
      FROM h_move m JOIN accounts a ON a.currency_id = ${c} AND a.id = m.account_id
      WINDOW w AS (PARTITION BY m.account_id ORDER BY m.g ROWS UNBOUNDED PRECEDING)`;
    await tx`
      UPDATE accounts a SET
        debits_posted = a.debits_posted + d.debits, credits_posted = a.credits_posted + d.credits, version = a.version + d.n
      FROM (SELECT account_id, coalesce(sum(-amount) FILTER (WHERE amount < 0), 0) AS debits,
                   coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS credits, count(*) AS n
            FROM h_move GROUP BY account_id) d
      WHERE a.currency_id = ${c} AND a.id = d.account_id`;
  });
  await sql`VACUUM ANALYZE transfers`;
  await sql`VACUUM ANALYZE entries`;
  await sql`VACUUM ANALYZE accounts`;
  await sql`ANALYZE`;
  return round((now() - started) / 1000, 1);
}

async function transfersCount(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: bigint }[]>`SELECT count(*)::bigint AS n FROM transfers`;
  return Number(row?.n ?? 0);
}

/** The WAL position now, in bytes (for WAL written per transfer). */
async function walPosition(): Promise<bigint | undefined> {
  try {
    const [row] = await setupSql<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
    const [hi, lo] = (row?.lsn ?? '0/0').split('/');
    return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
  } catch {
    return undefined;
  }
}

/** Blocks found in shared buffers and blocks read from the OS (page cache or disk) by this database so far. */
async function blockCounts(): Promise<{ hit: number; read: number } | undefined> {
  try {
    const [row] = await setupSql<{ hit: string; read: string }[]>`
      SELECT blks_hit::text AS hit, blks_read::text AS read FROM pg_stat_database WHERE datname = current_database()`;
    return row === undefined ? undefined : { hit: Number(row.hit), read: Number(row.read) };
  } catch {
    return undefined;
  }
}

function blocksPerItem(before: { hit: number; read: number } | undefined, after: { hit: number; read: number } | undefined, items: number) {
  if (before === undefined || after === undefined || items === 0) return undefined;
  return { hit: round((after.hit - before.hit) / items, 1), read: round((after.read - before.read) / items, 2) };
}

function walPerItem(before: bigint | undefined, after: bigint | undefined, items: number): number | undefined {
  return before === undefined || after === undefined || items === 0 ? undefined : round(Number(after - before) / items, 0);
}

async function checkpoint(sql: Sql): Promise<void> {
  // Every scenario starts from a fresh checkpoint, so none pays for another's dirty pages.
  await sql`CHECKPOINT`.catch(() => {});
}

// Plans -----------------------------------------------------------------------------------------------

interface PlanLine {
  duration_ms: number;
  statement: string;
  top_node: string;
  buffers: string;
}

/**
 * Runs `fn` twice on a connection of its own with auto_explain sending every plan (nested
 * statements too, with ANALYZE and BUFFERS) back as a NOTICE, and returns the plans of the second,
 * warm run. `fn` calls the service's own query functions, so the SQL is exactly the service's.
 */
async function explainWarm(url: string, fn: (sql: Sql) => Promise<unknown>): Promise<{ summary: PlanLine[]; plans: string[] }> {
  const plans: string[] = [];
  const ex = connect(url, {
    max: 1, types: { bigint: postgres.BigInt }, onnotice: (notice) => plans.push(String(notice.message)),
    connection: { application_name: 'bench-explain' },
  }) as unknown as Sql;
  try {
    await ex`LOAD 'auto_explain'`;
    for (const setting of ['log_min_duration = 0', 'log_analyze = on', 'log_buffers = on', 'log_timing = on',
      'log_nested_statements = on', 'log_level = notice']) await ex.unsafe(`SET auto_explain.${setting}`);
    await fn(ex);
    plans.length = 0;
    await fn(ex);
  } finally {
    await ex.end({ timeout: 1 });
  }
  const summary = plans.map((plan) => {
    const lines = plan.split('\n');
    const statement = (/Query Text: (.*)/.exec(plan)?.[1] ?? '').trim() || (lines.find((l, i) => i > 1 && l.trim() !== '')?.trim() ?? '');
    const top = lines.find((l) => /\(cost=/.test(l)) ?? '';
    return {
      duration_ms: Number(/duration: ([0-9.]+) ms/.exec(plan)?.[1] ?? 0),
      statement: statement.replace(/\s+/g, ' ').slice(0, 160),
      top_node: top.trim().replace(/\s+\(cost=.*?\)/, '').slice(0, 120),
      buffers: /Buffers: ([^\n]*)/.exec(plan)?.[1]?.trim() ?? '',
    };
  });
  return { summary, plans };
}

function sessionIdOf(token: string): string {
  return String((JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid?: string }).sid);
}

/** The statements of GET /wallet and GET /wallet/entries for one wallet, explained. */
async function explainReads(url: string, fixture: Fixture, label: string) {
  const wallet = fixture.wallets[7];
  if (wallet === undefined) return undefined;
  const sid = sessionIdOf(wallet.token);
  // The statements the service runs: the session, then the account with its currency (as the
  // loaders run them for a batch of one), then the page.
  const reads = async (sql: Sql) => {
    const loaders = createLoaders(sql, { batch_size_max: 1 });
    await loaders.sessionWallet.load(sid);
    const found = await loaders.accountWithCurrency.load(wallet.account);
    if (found !== undefined) await listEntries(sql, found.account, 51);
  };
  const result = await explainWarm(url, reads);
  log(`  EXPLAIN (ANALYZE, BUFFERS) of the statements of GET /wallet/entries, ${label}:`, true);
  for (const line of result.summary) log(`    ${line.duration_ms.toFixed(3).padStart(8)} ms  ${line.buffers.padEnd(28)} ${line.statement.slice(0, 90)}`);
  return result;
}

/**
 * What the posting pipeline itself costs per transfer as batches grow (lock, decide, write:
 * runCommands), without HTTP and without other load: one call per batch inside a transaction
 * that is rolled back (so nothing stays), on 2,000
 * accounts made in that transaction. "distinct": every transfer has its own two accounts;
 * "hot debit": all from the issuance account (not locked, updated per item); "hot credit": all to
 * one shop account (locked once, updated per item).
 */
async function batchScaling(sql: Sql, fixture: Fixture): Promise<Array<{ size: number; shape: string; ms: number; us_per_transfer: number }>> {
  const rows: Array<{ size: number; shape: string; ms: number; us_per_transfer: number }> = [];
  const c = fixture.currency_id;
  // One connection throughout, warmed up first: a connection's first call plans every statement
  // of the function (a few milliseconds), which is not the cost of a transfer.
  const connection = await sql.reserve();
  const sizes = [1, 1, 10, 100, 1000];
  for (const [round_index, size] of sizes.entries()) {
    for (const shape of ['distinct', 'hot debit', 'hot credit'] as const) {
      const times: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        // A transaction on the reserved connection, always rolled back: nothing stays.
        await connection`BEGIN`;
        try {
          await connection`SET LOCAL statement_timeout = 0`;
          const [shop] = await connection<{ id: string }[]>`
            INSERT INTO accounts (currency_id, id, kind, name) VALUES (${c}, gen_random_uuid(), 'shop', 'scaling shop') RETURNING id`;
          const made = await connection<{ id: string }[]>`
            INSERT INTO accounts (currency_id, id, kind, name, credits_posted)
            SELECT ${c}, gen_random_uuid(), 'wallet', 'scaling ' || g, 1000000 FROM generate_series(1, ${2 * size}) g RETURNING id`;
          const commands = Array.from({ length: size }, (_, k) => ({ posting: {
            id: randomUUID(), code: shape === 'hot debit' ? 'issue' as const : 'payment' as const, amount: 1n, created_by: 'bench',
            debit_account_id: shape === 'hot debit' ? fixture.issuance : made[2 * k]?.id,
            credit_account_id: shape === 'hot credit' ? shop?.id : made[2 * k + 1]?.id,
          } }));
          const started = now();
          const { failed_index } = await runCommands(connection as never, c, commands, true);
          if (failed_index !== undefined) throw new Error(`pipeline scaling: item ${failed_index} failed`);
          times.push(now() - started);
        } finally {
          await connection`ROLLBACK`;
        }
      }
      const ms = [...times].sort((a, b) => a - b)[1] ?? 0;
      if (round_index > 0) rows.push({ size, shape, ms: round(ms, 2), us_per_transfer: round((ms * 1000) / size, 0) });
    }
  }
  connection.release();
  log('  the posting pipeline alone, one call per batch (median of 3, rolled back), µs per transfer:', true);
  for (const size of [1, 10, 100, 1000]) {
    log(`    ${String(size).padStart(5)} per batch: ${rows.filter((r) => r.size === size).map((r) => `${r.shape} ${r.us_per_transfer}`).join(', ')}`);
  }
  return rows;
}

// Scenarios ------------------------------------------------------------------------------------------

/** Tablets create `count` payment requests of 1.00 through the API; their ids, in order. */
async function createPaymentRequests(service: Service, fixture: Fixture, count: number, hot: boolean): Promise<{ ids: string[]; result: LoadResult }> {
  const result = await runLoad({
    label: `create ${count} payment requests${hot ? ' (one shop)' : ''}`, method: 'POST', paths: ['/api/v1/shop/payment-requests'], count,
    tokens: fixture.shops.map((s) => s.token),
    token_idx: Int32Array.from({ length: count }, (_, i) => (hot ? 0 : i % shops_count)),
    bodies: ['{"amount":"1.00"}'], idempotency: false, expect_status: 201, mode: 'closed', duration_s: 600, collect: ['id'],
  }, service);
  if (result.errors > 0) throw new Error(`creating payment requests failed: ${JSON.stringify(result.error_samples)}`);
  const ids = (result.collected ?? []).map((v) => String(v?.[0]));
  return { ids, result: strip(result) };
}

function paySpec(label: string, fixture: Fixture, ids: string[], duration_s: number, rate_per_s?: number): LoadSpec {
  return {
    label, method: 'POST', paths: ids.map((id) => `/api/v1/payment-requests/${id}/pay`), count: ids.length,
    tokens: fixture.wallets.map((w) => w.token), idempotency: true, expect_status: 201,
    mode: rate_per_s === undefined ? 'closed' : 'open', rate_per_s, duration_s, wait_app: 'wijkmunt',
  };
}

interface PaymentsOutcome {
  calibration: LoadResult;
  creation: LoadResult;
  measured: LoadResult;
  /** CLOCK_MONOTONIC µs at the start and end of the measured run (the clock of V8's CPU profiles). */
  window_us: [number, number];
}

/** Calibrates on a small pool, then creates enough requests for the measured run and pays them. */
async function paymentsScenario(service: Service, fixture: Fixture, label: string, hot: boolean, duration_s: number): Promise<PaymentsOutcome> {
  const calibration_pool = await createPaymentRequests(service, fixture, concurrency * 16, hot);
  const calibration = strip(await runLoad(paySpec(`${label} (calibration)`, fixture, calibration_pool.ids, plan.calibrate_s), service));
  if (calibration.errors > 0) throw new Error(`${label}: ${JSON.stringify(calibration.error_samples)}`);
  const needed = Math.max(3000, Math.ceil(calibration.throughput_per_s * duration_s * 1.6));
  const pool = await createPaymentRequests(service, fixture, needed, hot);
  await checkpoint(setupSql);
  const from_us = Number(process.hrtime.bigint() / 1000n);
  const measured = strip(await runLoad(paySpec(label, fixture, pool.ids, duration_s), service));
  const window_us: [number, number] = [from_us, Number(process.hrtime.bigint() / 1000n)];
  log(`  ${brief(measured)}`, true);
  return { calibration, creation: pool.result, measured, window_us };
}

async function halfRateScenario(service: Service, fixture: Fixture, max_rate: number, duration_s: number): Promise<LoadResult> {
  const rate = max_rate / 2;
  const pool = await createPaymentRequests(service, fixture, Math.ceil(rate * duration_s * 1.05) + concurrency, false);
  await checkpoint(setupSql);
  const result = strip(await runLoad(paySpec('payments at half the maximum rate', fixture, pool.ids, duration_s, rate), service));
  log(`  ${brief(result)} (target rate ${Math.round(rate)}/s)`, true);
  const seconds = result.by_second ?? [];
  log(`    p99 by second (ms): ${seconds.map((x) => Math.round(x.p99_ms)).join(' ')}; the run's slowest 1 % by second: ${seconds.map((x) => x.slowest).join(' ')}`);
  return result;
}

/**
 * Bodies of a coordinator's single transfers of 1.00, one per wallet (job g uses wallet g % 1,000):
 * from the wallet to shop g % 20, or to shop 0 when `hot`.
 */
function coordinatorTransferBodies(fixture: Fixture, hot: boolean): string[] {
  return fixture.wallets.map((wallet, i) => JSON.stringify({
    debit_account: wallet.account, credit_account: fixture.shops[hot ? 0 : i % shops_count]?.account,
    amount: '1.00', code: 'adjustment', memo: 'Correction: coins paid at the wrong shop during the street party',
  }));
}

/**
 * One coordinator posts single transfers (`POST /currencies/BENCH/transfers`, each with its own
 * Idempotency-Key) from the 1,000 funded wallets to the 20 shops, or all to one shop. Errors
 * (any answer but 201) are counted and reported, not thrown: the figure is measured either way.
 */
async function coordinatorTransfersScenario(service: Service, fixture: Fixture, hot: boolean, duration_s: number): Promise<LoadResult> {
  const token = fixture.coordinator_tokens[0];
  if (token === undefined) throw new Error('no coordinator');
  const spec: LoadSpec = {
    label: `coordinator transfers (${wallets_count} wallets → ${hot ? 'one shop' : `${shops_count} shops`})`, method: 'POST',
    paths: ['/api/v1/currencies/BENCH/transfers'], count: 1_000_000, tokens: [token], bodies: coordinatorTransferBodies(fixture, hot),
    idempotency: true, expect_status: 201, mode: 'closed', duration_s: plan.warmup_s,
  };
  const warm = await runLoad(spec, service);
  if (warm.errors > 0) log(`  warm-up: ${brief(warm)}`, true);
  await checkpoint(setupSql);
  const result = strip(await runLoad({ ...spec, duration_s, wait_app: 'wijkmunt' }, service));
  log(`  ${brief(result)}`, true);
  return result;
}

function batchBodies(fixture: Fixture, size: number, atomic: boolean): string[] {
  return Array.from({ length: 8 }, (_, variant) => JSON.stringify({
    atomic,
    transfers: Array.from({ length: size }, (_, k) => ({
      debit_account: fixture.issuance,
      credit_account: fixture.wallets[(variant * 125 + k) % wallets_count]?.account,
      amount: '0.01', code: 'issue',
    })),
  }));
}

async function batchScenario(service: Service, fixture: Fixture, size: number, atomic: boolean, duration_s: number): Promise<LoadResult> {
  const warm = { label: 'warm-up', method: 'POST' as const, paths: ['/api/v1/currencies/BENCH/transfers/batch'], count: coordinators_count,
    tokens: fixture.coordinator_tokens, bodies: batchBodies(fixture, size, atomic), idempotency: true, expect_status: 200,
    mode: 'closed' as const, duration_s: 60, connections: coordinators_count };
  await runLoad(warm, service);
  await checkpoint(setupSql);
  const result = strip(await runLoad({
    ...warm, label: `batch of ${size}${atomic ? '' : ' (item by item)'}, ${coordinators_count} coordinators`, count: 100_000,
    duration_s, items_per_request: size, wait_app: 'wijkmunt',
  }, service));
  log(`  ${brief(result)}`, true);
  return result;
}

/** A read scenario's result, and the CLOCK_MONOTONIC µs at the start and end of its measured run. */
type ReadOutcome = Omit<LoadResult, 'collected'> & { window_us: [number, number] };

async function readScenario(service: Service, fixture: Fixture, what: 'wallet' | 'entries', history: string, duration_s: number): Promise<ReadOutcome> {
  const spec: LoadSpec = {
    label: `GET /wallet${what === 'entries' ? '/entries (one page of 50)' : ''}, ${history} history, ${readers_count} wallets`, method: 'GET',
    paths: [what === 'wallet' ? '/api/v1/wallet' : '/api/v1/wallet/entries'], count: 2_000_000,
    tokens: fixture.wallets.slice(0, readers_count).map((w) => w.token), idempotency: false, expect_status: 200, mode: 'closed', duration_s: plan.warmup_s,
  };
  await runLoad(spec, service);
  const from_us = Number(process.hrtime.bigint() / 1000n);
  const result = strip(await runLoad({ ...spec, duration_s, wait_app: 'wijkmunt' }, service));
  const window_us: [number, number] = [from_us, Number(process.hrtime.bigint() / 1000n)];
  log(`  ${brief(result)}`, true);
  return { ...result, window_us };
}

async function claimsScenario(service: Service, fixture: Fixture, duration_s: number): Promise<{ calibration: LoadResult; measured: LoadResult; sessions: number }> {
  const open = async (n: number) => mapLimit(Array.from({ length: n }, (_, i) => i), 4, async () =>
    (await service.api<{ claim_token: string }>('POST', `/activities/${fixture.activity}/sessions`, {
      token: fixture.admin_token, body: { hours: '1.00', max_claims: wallets_count },
    })).claim_token);
  // Job j claims session j % sessions for wallet ⌊j / sessions⌋: every wallet at most once per session.
  const spec = (label: string, claim_tokens: string[], run_s: number): LoadSpec => {
    const count = claim_tokens.length * wallets_count;
    return {
      label, method: 'POST', paths: ['/api/v1/claims'], count,
      tokens: fixture.wallets.map((w) => w.token),
      token_idx: Int32Array.from({ length: count }, (_, j) => Math.floor(j / claim_tokens.length)),
      bodies: claim_tokens.map((token) => JSON.stringify({ token })),
      body_idx: Int32Array.from({ length: count }, (_, j) => j % claim_tokens.length),
      idempotency: true, expect_status: 201, mode: 'closed', duration_s: run_s, wait_app: 'wijkmunt',
    };
  };
  const calibration = strip(await runLoad(spec('claims (calibration)', await open(1), plan.calibrate_s), service));
  if (calibration.errors > 0) throw new Error(`claims: ${JSON.stringify(calibration.error_samples)}`);
  const sessions = Math.max(2, Math.ceil((calibration.throughput_per_s * duration_s * 1.6) / wallets_count));
  const tokens = await open(sessions);
  await checkpoint(setupSql);
  const measured = strip(await runLoad(spec(`claims: ${wallets_count} volunteers, ${sessions} sessions`, tokens, duration_s), service));
  log(`  ${brief(measured)}`, true);
  return { calibration, measured, sessions };
}

/** What each scenario that `--only` can select runs, with the measuring service; its measured figure. */
const selectable: Record<ScenarioName, (service: Service, fixture: Fixture) => Promise<LoadResult>> = {
  'payments': async (service, fixture) => (await paymentsScenario(service, fixture, 'payments', false, plan.measure_s)).measured,
  'hot-shop': async (service, fixture) => (await paymentsScenario(service, fixture, 'hot shop', true, plan.measure_s)).measured,
  'coordinator-transfers': (service, fixture) => coordinatorTransfersScenario(service, fixture, false, plan.measure_s),
  'coordinator-hot-shop': (service, fixture) => coordinatorTransfersScenario(service, fixture, true, plan.measure_s),
  'batch': (service, fixture) => batchScenario(service, fixture, 1000, true, plan.measure_s),
  'claims': async (service, fixture) => (await claimsScenario(service, fixture, plan.measure_s)).measured,
  'get-wallet': (service, fixture) => readScenario(service, fixture, 'wallet', `${Math.round(plan.history_small / 1000)}k`, reads_s),
  'get-entries': (service, fixture) => readScenario(service, fixture, 'entries', `${Math.round(plan.history_small / 1000)}k`, reads_s),
};

/** How long a selected read scenario runs (`--compare` has no reads of its own: as long as payments). */
const reads_s = plan.reads_s > 0 ? plan.reads_s : plan.measure_s;

/** Issue #22's targets of the reads: `GET /wallet` ≥ 4× payments, a page of entries ≥ 2×, in one run. */
function readTargets(payments?: LoadResult, wallet?: LoadResult, entries?: LoadResult): Target[] {
  if (payments === undefined) return [];
  return [
    ...(wallet === undefined ? [] : [ratioTarget('GET /wallet', wallet, 'payments', payments, 4)]),
    ...(entries === undefined ? [] : [ratioTarget('a page of GET /wallet/entries', entries, 'payments', payments, 2)]),
  ];
}

const read_scenarios: readonly ScenarioName[] = ['get-wallet', 'get-entries'];

/**
 * `--only`: the selected scenarios with one measuring service, then their figures and the targets
 * those allow (no baselines: no ratios to the floor or the textbook).
 */
async function selectedRun(database_url: string, data_dir: string, fixture: Fixture, names: ScenarioName[], services: Service[]) {
  const service = await startService(database_url, data_dir, {});
  services.push(service);
  context.probe.server_pid = service.pid;
  rss.overall_peak = 0;
  const results: Partial<Record<ScenarioName, LoadResult>> = {};
  for (const name of names) {
    log(`\n${name}`);
    results[name] = await selectable[name](service, fixture);
  }
  await service.stop();
  const figures = figuresOf(names.map((name) => {
    const r = results[name] as LoadResult;
    return { name, r, unit: read_scenarios.includes(name) ? 'requests/s' : 'transfers/s', per_s: r.items_per_s ?? r.throughput_per_s };
  }), undefined, undefined);
  const errors = names.reduce((n, name) => n + (results[name]?.errors ?? 0), 0);
  const targets: Target[] = [
    ...(results.payments === undefined || results['hot-shop'] === undefined ? []
      : [ratioTarget('hot shop', results['hot-shop'], 'payments', results.payments, 0.8)]),
    ...coordinatorTargets(results.payments, results['coordinator-transfers'], results['coordinator-hot-shop']),
    ...readTargets(results.payments, results['get-wallet'], results['get-entries']),
    { target: 'the selected scenarios: 0 errors', measured: `${errors} errors`, met: errors === 0 },
  ];
  if (plan.mode === 'quick') for (const target of targets) target.note = 'quick mode: indicative only (targets are judged on a full run)';
  log('\nResults (CPU in cores: load generator / service / PostgreSQL / everything else on the machine)');
  logFigures(figures);
  logTargets('Targets that the selected scenarios allow', targets);
  return { scenarios: results, figures, targets, service_rss_peak_mib: mib(rss.overall_peak), service_error_log: service.error_lines };
}

// Baselines ------------------------------------------------------------------------------------------

const payer_ids = { from: 1, to: wallets_count };
const shop_ids = { from: wallets_count + 1, to: wallets_count + shops_count };

async function createBaselineTables(sql: Sql): Promise<void> {
  await sql.unsafe(`
    DROP TABLE IF EXISTS bench_tb_entries, bench_tb_transfers, bench_tb_accounts, bench_floor_transfers, bench_floor_accounts;
    -- textbook: accounts with a balance, transfers, two entries per transfer, foreign keys.
    CREATE TABLE bench_tb_accounts (
      id integer PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0), version bigint NOT NULL DEFAULT 0);
    CREATE TABLE bench_tb_transfers (
      id uuid PRIMARY KEY, debit_account_id integer NOT NULL REFERENCES bench_tb_accounts,
      credit_account_id integer NOT NULL REFERENCES bench_tb_accounts, amount bigint NOT NULL CHECK (amount > 0),
      created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE bench_tb_entries (
      account_id integer NOT NULL REFERENCES bench_tb_accounts, version bigint NOT NULL,
      transfer_id uuid NOT NULL REFERENCES bench_tb_transfers, amount bigint NOT NULL, balance_after bigint NOT NULL,
      PRIMARY KEY (account_id, version));
    -- floor: two balances and one transfer row, nothing else.
    CREATE TABLE bench_floor_accounts (id integer PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
    CREATE TABLE bench_floor_transfers (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, debit_account_id integer NOT NULL, credit_account_id integer NOT NULL,
      amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  `);
}

async function resetBaselineTables(sql: Sql): Promise<void> {
  await sql.unsafe(`
    TRUNCATE bench_tb_entries, bench_tb_transfers, bench_tb_accounts, bench_floor_transfers, bench_floor_accounts;
    INSERT INTO bench_tb_accounts (id, balance) SELECT g, CASE WHEN g <= ${payer_ids.to} THEN 1000000000000 ELSE 0 END
      FROM generate_series(1, ${shop_ids.to}) g;
    INSERT INTO bench_floor_accounts (id, balance) SELECT g, CASE WHEN g <= ${payer_ids.to} THEN 1000000000000 ELSE 0 END
      FROM generate_series(1, ${shop_ids.to}) g;
  `);
  await sql`VACUUM ANALYZE bench_tb_accounts`;
  await sql`VACUUM ANALYZE bench_floor_accounts`;
  await checkpoint(sql);
}

/**
 * The textbook transfer from Node (postgres.js, prepared statements, 64 connections), into the
 * bench_tb_* tables: BEGIN; SELECT … FOR UPDATE of both accounts in id order; the balance check
 * in the application; two balance UPDATEs; INSERT the transfer; INSERT its two entries; COMMIT.
 */
async function textbookBaseline(url: string, hot: boolean, duration_s: number): Promise<LoadResult> {
  const sql = connect(url, { max: concurrency, onnotice: () => {}, connection: { application_name: 'bench-textbook' } });
  const transfer = async () => {
    const payer = payer_ids.from + Math.floor(Math.random() * wallets_count);
    const shop = hot ? shop_ids.from : shop_ids.from + Math.floor(Math.random() * shops_count);
    await sql.begin(async (tx) => {
      const locked = await tx<{ id: number; balance: string }[]>`
        SELECT id, balance FROM bench_tb_accounts WHERE id IN (${payer}, ${shop}) ORDER BY id FOR UPDATE`;
      const debit = locked.find((a) => a.id === payer);
      if (debit === undefined || BigInt(debit.balance) < 1n) throw new Error('insufficient funds');
      const [d] = await tx<{ balance: string; version: string }[]>`
        UPDATE bench_tb_accounts SET balance = balance - 1, version = version + 1 WHERE id = ${payer} RETURNING balance, version`;
      const [c] = await tx<{ balance: string; version: string }[]>`
        UPDATE bench_tb_accounts SET balance = balance + 1, version = version + 1 WHERE id = ${shop} RETURNING balance, version`;
      const id = randomUUID();
      await tx`INSERT INTO bench_tb_transfers (id, debit_account_id, credit_account_id, amount) VALUES (${id}, ${payer}, ${shop}, 1)`;
      await tx`INSERT INTO bench_tb_entries (account_id, version, transfer_id, amount, balance_after)
               VALUES (${payer}, ${d?.version ?? '0'}, ${id}, -1, ${d?.balance ?? '0'}), (${shop}, ${c?.version ?? '0'}, ${id}, 1, ${c?.balance ?? '0'})`;
    });
  };
  const run = async (seconds: number, measure: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const samples: string[] = [];
    const waits = measure ? startWaitSampler(url, 'bench-textbook') : undefined;
    const wal_before = await walPosition();
    const start = now();
    const deadline = start + seconds * 1000;
    const before = cpuSnapshot(context.probe);
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (now() < deadline) {
        const t0 = now();
        try {
          await transfer();
          latencies.push(now() - t0);
        } catch (error) {
          errors += 1;
          if (samples.length < 5) samples.push(String((error as Error).message));
        }
      }
    }));
    const end = now();
    const after = cpuSnapshot(context.probe);
    const wal = walPerItem(wal_before, await walPosition(), latencies.length);
    return { latencies, errors, samples, window_s: (end - start) / 1000, cpu: cpuBetween(before, after), wal, waits: await waits?.stop() };
  };
  await run(1, false);
  const r = await run(duration_s, true);
  await sql.end({ timeout: 5 });
  const result: LoadResult = {
    label: `textbook (postgres.js, ${concurrency} connections${hot ? ', one shop' : ''})`, requests: r.latencies.length, errors: r.errors,
    throughput_per_s: round(r.latencies.length / r.window_s, 1), window_s: round(r.window_s, 2), latency_ms: latencyOf(r.latencies),
    cpu_cores: r.cpu, server_rss_peak_mib: 0, status_counts: {},
    error_samples: r.samples.map((body) => ({ job: -1, status: 0, body })), wal_bytes_per_item: r.wal,
    ...(r.waits === undefined ? {} : { waits: r.waits }),
  };
  log(`  ${brief(result)}`, true);
  return result;
}

const floor_script = (hot: boolean) => `\\set payer random(${payer_ids.from}, ${payer_ids.to})
\\set shop random(${hot ? shop_ids.from : shop_ids.from}, ${hot ? shop_ids.from : shop_ids.to})
WITH debit AS (
  UPDATE bench_floor_accounts SET balance = balance - 1 WHERE id = :payer AND balance >= 1 RETURNING id
), credit AS (
  UPDATE bench_floor_accounts SET balance = balance + 1 WHERE id = :shop AND EXISTS (SELECT FROM debit) RETURNING id
)
INSERT INTO bench_floor_transfers (debit_account_id, credit_account_id, amount)
SELECT debit.id, credit.id, 1 FROM debit, credit;
`;

type FloorKind = 'floor' | 'payment_writes';

/**
 * Not a target of the issue, a line to read the figures by: the floor's one statement, grown to
 * write every row a payment writes — the two balances (with their versions), the transfer, its
 * two entries with running balances, the payment request marked paid, the idempotency record
 * with the answer, the audit row — into tables made LIKE the ledger's (the same columns, checks
 * and indexes; no foreign keys or triggers). It reads less than a payment (no token, session,
 * key or request lookups) and decides nothing, so it is still an upper bound for SQL alone.
 * Amounts of 1.00 (100 minor units); requests are pre-created and taken in turn by a sequence.
 */
const bench_uuid = (n: string) => `('00000000-0000-4000-8000-' || lpad((${n})::text, 12, '0'))::uuid`;
const payment_writes_script = `\\set payer random(${payer_ids.from}, ${payer_ids.to})
\\set shop random(${shop_ids.from}, ${shop_ids.to})
WITH ids AS (
  SELECT uuidv7() AS transfer_id, nextval('bench_pw_requests_taken') AS n
), debit AS (
  UPDATE bench_pw_accounts SET debits_posted = debits_posted + 100, version = version + 1
  WHERE currency_id = 1 AND id = ${bench_uuid(':payer')} AND credits_posted - debits_posted - debits_pending >= 100
  RETURNING id, version, credits_posted - debits_posted AS balance
), credit AS (
  UPDATE bench_pw_accounts SET credits_posted = credits_posted + 100, version = version + 1
  WHERE currency_id = 1 AND id = ${bench_uuid(':shop')} AND EXISTS (SELECT FROM debit)
  RETURNING id, version, credits_posted - debits_posted AS balance
), transfer AS (
  INSERT INTO bench_pw_transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase, memo, metadata, created_by)
  SELECT 1, ids.transfer_id, debit.id, credit.id, 100, 'payment', 'single', 'Brood en koffiekoeken',
         jsonb_build_object('payment_request_id', ${bench_uuid('ids.n')}, 'device_id', credit.id), 'wallet:' || debit.id
  FROM ids, debit, credit
  RETURNING id
), entries AS (
  INSERT INTO bench_pw_entries (currency_id, account_id, version, transfer_id, amount, balance_after)
  SELECT 1, debit.id, debit.version, transfer.id, -100, debit.balance FROM debit, transfer
  UNION ALL
  SELECT 1, credit.id, credit.version, transfer.id, 100, credit.balance FROM credit, transfer
), request AS (
  UPDATE bench_pw_requests r SET status = 'paid', transfer_id = transfer.id, paid_by = debit.id, updated_at = now()
  FROM ids, transfer, debit
  WHERE r.currency_id = 1 AND r.id = ${bench_uuid('ids.n')} AND r.status = 'open'
), idempotency AS (
  INSERT INTO bench_pw_keys (scope, key, request_hash, response_status, response_body)
  SELECT 'wallet:' || debit.id, ids.transfer_id::text, md5(ids.transfer_id::text) || md5(debit.id::text), 201,
         jsonb_build_object('id', transfer.id, 'debit_account', debit.id, 'amount', '1.00', 'code', 'payment',
                            'memo', 'Brood en koffiekoeken', 'created_at', now(), 'payment_request_id', ${bench_uuid('ids.n')},
                            'metadata', jsonb_build_object('payment_request_id', ${bench_uuid('ids.n')}))
  FROM ids, debit, transfer
)
INSERT INTO bench_pw_audit (currency_id, actor_kind, actor_id, action, object_kind, object_id, ip, request_id, changes)
SELECT 1, 'wallet', debit.id::text, 'payment.pay', 'payment_request', ${bench_uuid('ids.n')}::text, '127.0.0.1',
       ids.transfer_id::text, jsonb_build_object('amount', '1.00', 'transfer_id', transfer.id)
FROM ids, debit, transfer;
`;

/** The tables of the payment-writes floor: LIKE the ledger's, with their indexes and checks. */
async function createPaymentWritesTables(sql: Sql): Promise<void> {
  await sql.unsafe(`
    DROP TABLE IF EXISTS bench_pw_accounts, bench_pw_transfers, bench_pw_entries, bench_pw_requests, bench_pw_keys, bench_pw_audit;
    DROP SEQUENCE IF EXISTS bench_pw_requests_taken;
    CREATE TABLE bench_pw_accounts (LIKE accounts INCLUDING ALL) WITH (fillfactor = 50);
    CREATE TABLE bench_pw_transfers (LIKE transfers INCLUDING ALL);
    CREATE TABLE bench_pw_entries (LIKE entries INCLUDING ALL);
    CREATE TABLE bench_pw_requests (LIKE payment_requests INCLUDING ALL);
    CREATE TABLE bench_pw_keys (LIKE idempotency_keys INCLUDING ALL);
    CREATE TABLE bench_pw_audit (LIKE audit_log INCLUDING ALL);
    CREATE SEQUENCE bench_pw_requests_taken;
  `);
}

/** Empty tables, the 1,020 accounts, and enough open requests for `duration_s` at 30,000/s. */
async function resetPaymentWritesTables(sql: Sql, duration_s: number): Promise<void> {
  await sql.unsafe(`
    TRUNCATE bench_pw_accounts, bench_pw_transfers, bench_pw_entries, bench_pw_requests, bench_pw_keys, bench_pw_audit;
    ALTER SEQUENCE bench_pw_requests_taken RESTART;
    INSERT INTO bench_pw_accounts (currency_id, id, kind, name, credits_posted)
    SELECT 1, ${bench_uuid('g')}, CASE WHEN g <= ${payer_ids.to} THEN 'wallet' ELSE 'shop' END, 'Account ' || g,
           CASE WHEN g <= ${payer_ids.to} THEN 1000000000000 ELSE 0 END
    FROM generate_series(1, ${shop_ids.to}) g;
    INSERT INTO bench_pw_requests (currency_id, id, shop_account_id, amount, memo, expires_at)
    SELECT 1, ${bench_uuid('g')}, ${bench_uuid(`${shop_ids.from} + g % ${shops_count}`)}, 100, 'Brood en koffiekoeken', now() + interval '1 day'
    FROM generate_series(1, ${Math.ceil(duration_s * 30_000)}) g;
  `);
  await sql`VACUUM ANALYZE bench_pw_accounts`;
  await sql`VACUUM ANALYZE bench_pw_requests`;
  await checkpoint(sql);
}

/** Every statement of the payment-writes floor wrote all of a payment's rows, and only those. */
async function checkPaymentWrites(sql: Sql, processed: number): Promise<void> {
  const [counts] = await sql<{ transfers: bigint; entries: bigint; paid: bigint; keys: bigint; audit: bigint; moved: bigint }[]>`
    SELECT (SELECT count(*) FROM bench_pw_transfers) AS transfers, (SELECT count(*) FROM bench_pw_entries) AS entries,
           (SELECT count(*) FROM bench_pw_requests WHERE status = 'paid') AS paid, (SELECT count(*) FROM bench_pw_keys) AS keys,
           (SELECT count(*) FROM bench_pw_audit) AS audit,
           (SELECT sum(credits_posted) FROM bench_pw_accounts WHERE kind = 'shop')::bigint / 100 AS moved`;
  const n = counts?.transfers ?? 0n;
  const consistent = counts !== undefined && n > 0n && n === BigInt(processed) && counts.entries === 2n * n
    && counts.paid === n && counts.keys === n && counts.audit === n && counts.moved === n;
  if (!consistent) throw new Error(`the payment-writes floor wrote inconsistent rows: ${JSON.stringify(counts, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}, pgbench counted ${processed}`);
}

interface FloorRun extends LoadResult {
  clients: number;
  failed: number;
}

/** The floor: the one-statement transfer run by pgbench at `clients` clients. */
async function floorRun(
  url: string, work_dir: string, clients: number, hot: boolean, duration_s: number, kind: FloorKind = 'floor',
): Promise<FloorRun> {
  const dir = await mkdtemp(path.join(work_dir, `floor-${clients}-`));
  await chmod(dir, 0o777);
  const script = path.join(dir, 'transfer.sql');
  await writeFile(script, kind === 'floor' ? floor_script(hot) : payment_writes_script);
  const waits = startWaitSampler(url, 'pgbench');
  const wal_before = await walPosition();
  const child = spawn(pgbench_path as string, [
    '-n', '-M', 'prepared', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(duration_s),
    '-f', script, '-l', '--sampling-rate=0.2', `--log-prefix=${path.join(dir, 'log')}`, url,
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const probe = { ...context.probe, extra_pid: child.pid };
  await sleep(Math.min(1000, duration_s * 200));
  const before = cpuSnapshot(probe);
  await sleep(duration_s * 1000 - Math.min(1000, duration_s * 200) - Math.min(1000, duration_s * 200));
  const after = cpuSnapshot(probe);
  const [code] = await once(child, 'exit') as [number | null];
  const wait_report = await waits.stop();
  const wal_after = await walPosition();
  if (code !== 0) throw new Error(`pgbench failed (${code}):\n${out}`);
  const tps = Number(/tps = ([0-9.]+) \(without initial connection time\)/.exec(out)?.[1] ?? /tps = ([0-9.]+)/.exec(out)?.[1] ?? 0);
  const processed = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? 0);
  const failed = Number(/number of failed transactions: (\d+)/.exec(out)?.[1] ?? 0);
  const latencies: number[] = [];
  for (const file of await readdir(dir)) {
    if (!file.startsWith('log.')) continue;
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3 && fields[2] !== undefined) latencies.push(Number(fields[2]) / 1000);
    }
  }
  await rm(dir, { recursive: true, force: true });
  return {
    label: `${kind === 'floor' ? 'floor' : 'floor with a payment\'s writes'} (pgbench, ${clients} clients${hot ? ', one shop' : ''})`,
    clients, requests: processed, errors: failed, failed,
    throughput_per_s: round(tps, 1), window_s: duration_s, latency_ms: latencyOf(latencies), cpu_cores: cpuBetween(before, after),
    server_rss_peak_mib: 0, status_counts: {}, error_samples: [], waits: wait_report,
    wal_bytes_per_item: walPerItem(wal_before, wal_after, processed),
  };
}

async function floorBaseline(
  sql: Sql, url: string, work_dir: string, clients_list: number[], hot: boolean, duration_s: number, kind: FloorKind = 'floor',
) {
  const runs: FloorRun[] = [];
  for (const clients of clients_list) {
    if (kind === 'floor') await resetBaselineTables(sql);
    else await resetPaymentWritesTables(sql, duration_s);
    const run = await floorRun(url, work_dir, clients, hot, duration_s, kind);
    if (kind === 'payment_writes') await checkPaymentWrites(sql, run.requests);
    log(`  ${brief(run)}`, true);
    runs.push(run);
  }
  const best = runs.reduce((a, b) => (b.throughput_per_s > a.throughput_per_s ? b : a));
  return { best, runs };
}

// Profile mode -----------------------------------------------------------------------------------------

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Self time per function and per package from a V8 .cpuprofile. With the requests served in the
 * window, also the thread's busy time (everything but "(idle)") per request, and each line's µs
 * per request.
 */
function summariseCpuProfile(profile: { nodes: CpuProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }, window_us?: [number, number], requests?: number) {
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    // Only the samples of the measured run, when a window is given (seeding and set-up excluded).
    if (window_us !== undefined && (at < window_us[0] || at > window_us[1])) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const root = projectRoot();
  const where = (url: string) => {
    if (url === '') return '';
    const file = url.replace(/^file:\/\//, '');
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    if (nm !== null) return nm[1] as string;
    if (file.startsWith('node:')) return file;
    return path.relative(root, file).replace(/^bench\/\.build\//, '');
  };
  const by_function = new Map<string, number>();
  const by_package = new Map<string, number>();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    if (t === 0) continue;
    const place = where(node.callFrame.url);
    const name = `${node.callFrame.functionName || '(anonymous)'}${place === '' ? '' : ` ${place}:${node.callFrame.lineNumber + 1}`}`;
    by_function.set(name, (by_function.get(name) ?? 0) + t);
    const pkg = place === '' ? node.callFrame.functionName : place.startsWith('node:') ? 'node internals'
      : place.startsWith('src/') ? 'wijkmunt src' : place.includes('/') || place.endsWith('.js') || place.endsWith('.ts') ? place : place;
    by_package.set(pkg, (by_package.get(pkg) ?? 0) + t);
  }
  const per_request = (t: number) => (requests === undefined || requests === 0 ? undefined : round(t / requests, 1));
  const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, t]) => ({ name, self_ms: round(t / 1000, 0), share: round(t / total, 3), us_per_request: per_request(t) }));
  const busy = total - (by_package.get('(idle)') ?? 0);
  return {
    total_ms: round(total / 1000, 0), busy_ms: round(busy / 1000, 0), requests, busy_us_per_request: per_request(busy),
    by_package: top(by_package, 20), by_function: top(by_function, 40),
  };
}

/** Prints what --profile found for one scenario: the service's self time, then the statements. */
function logProfile(
  scenario: string, statements_title: string, cpu: ReturnType<typeof summariseCpuProfile> | undefined,
  statements: ReadonlyArray<{ total_ms: number; calls: bigint; mean_ms: number; query: string }>,
): void {
  const each = (x: { us_per_request?: number }) => (x.us_per_request === undefined ? '' : `${x.us_per_request.toFixed(1).padStart(7)} µs/request  `);
  const busy = cpu?.busy_us_per_request === undefined ? '' : `: ${cpu.busy_us_per_request} µs of the service's thread per request, ${cpu.requests} requests`;
  log(`\nCPU profile of the service during ${scenario} (self time${busy}):`);
  for (const p of cpu?.by_package ?? []) log(`  ${(p.share * 100).toFixed(1).padStart(5)}%  ${each(p)}${p.name}`);
  log('\nhottest functions:');
  for (const f of cpu?.by_function ?? []) log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${each(f)}${f.name}`);
  log(`\n${statements_title}:`);
  for (const s of statements) log(`  ${String(s.total_ms).padStart(9)} ms  ${String(s.calls).padStart(7)} calls  ${String(s.mean_ms).padStart(8)} ms  ${s.query}`);
}

/** Where a `--compare` variant runs: its database, its seeded fixture and its service command. */
interface VariantSetup {
  database_url: string;
  data_dir: string;
  fixture: Fixture;
  command: ServiceCommand;
}

/**
 * A `code=DIR` variant's own database: another checkout may have other migrations, so its
 * service migrates a database of its own, which is then seeded as the main one is (the same
 * API calls, the same SQL history), and the variant's service is compiled as ours is.
 */
async function codeVariantSetup(
  root_sql: { unsafe: (query: string) => PromiseLike<unknown> }, server_url: string, db_name: string, code_dir: string, admin: { email: string; password: string }, work_dir: string,
): Promise<VariantSetup> {
  await root_sql.unsafe(`CREATE DATABASE ${db_name}`);
  const u = new URL(server_url);
  u.pathname = `/${db_name}`;
  // A checkout from before `?host=` was read would pass it to the server as a setting: TCP for it.
  if (!readFileSync(path.join(code_dir, 'src/db/client.ts'), 'utf8').includes('connectionTarget')) u.searchParams.delete('host');
  const database_url = u.toString();
  const command: ServiceCommand = { cwd: code_dir, args: ['--import', 'tsx', 'src/main.ts'], description: `node --import tsx src/main.ts in ${code_dir}` };
  if (!use_tsx) compileService(command);
  const data_dir = path.join(work_dir, `service-data-${db_name}`);
  const seeder = await startService(database_url, data_dir, { SCRYPT_COST_LOG2: '10' }, undefined, [], command);
  const sql = createSql({ url: database_url, pool_size_max: 2, statement_timeout_ms: 0 });
  try {
    // The service migrated its database when it started. The admin is inserted with the columns
    // every version of the users table has (this bench's insertUser reads newer ones back).
    await sql`INSERT INTO users (id, email, password_hash, role)
              VALUES (${randomUUID()}, ${admin.email}, ${await hashSecret(admin.password, 10)}, 'admin')`;
    const fixture = await seedThroughApi(seeder, admin);
    await seeder.stop();
    await sql`ANALYZE`;
    await seedHistory(sql, fixture, plan.history_small - await transfersCount(sql), readers_count);
    log(`variant ${code_dir}: its own database ${db_name}, seeded (${await transfersCount(sql)} transfers)`, true);
    return { database_url, data_dir, fixture, command };
  } finally {
    await sql.end();
  }
}

/**
 * `--compare`: payments and payments at half their rate, with the service in each variant in
 * turn (a fresh process each time), for `rounds` rounds on the same database. Each variant's
 * rate is also compared with the first variant's in the same round (paired), which cancels most
 * of what drifts during a run.
 */
async function compareRun(setups: VariantSetup[]) {
  const runs = variants.map(() => [] as Array<{ payments: LoadResult; half_rate: LoadResult }>);
  for (let r = 0; r < rounds; r++) {
    for (const [i, variant] of variants.entries()) {
      log(`\nround ${r + 1} of ${rounds}, variant ${i + 1}: ${variant.label}`);
      const setup = setups[i];
      if (setup === undefined) throw new Error(`variant ${variant.label} has no database`);
      const { database_url, data_dir, fixture, command } = setup;
      const service = await startService(database_url, data_dir, variant.settings, undefined, variant.node_flags, command);
      context.probe.server_pid = service.pid;
      try {
        const payments = await paymentsScenario(service, fixture, 'payments', false, plan.measure_s);
        const half_rate = await halfRateScenario(service, fixture, payments.measured.throughput_per_s, plan.half_rate_s);
        runs[i]?.push({ payments: payments.measured, half_rate });
      } finally {
        await service.stop();
      }
    }
  }
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] ?? 0 : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  };
  const first = runs[0] ?? [];
  const results = variants.map((variant, i) => {
    const mine = runs[i] ?? [];
    const rates = mine.map((x) => x.payments.throughput_per_s);
    const cpu_ms = mine.map((x) => {
      const c = x.payments.cpu_cores;
      return ((c.client + c.server + c.postgres) * 1000) / Math.max(x.payments.throughput_per_s, 0.001);
    });
    return {
      variant: variant.label, settings: variant.settings, node_flags: variant.node_flags,
      payments_per_s: rates, payments_median: round(median(rates), 0),
      vs_first_paired: mine.map((x, k) => round(x.payments.throughput_per_s / Math.max(first[k]?.payments.throughput_per_s ?? 0, 0.001), 3)),
      payments_p99_ms: mine.map((x) => x.payments.latency_ms.p99),
      half_rate_p99_ms: mine.map((x) => x.half_rate.latency_ms.p99),
      cpu_ms_per_payment: cpu_ms.map((x) => round(x, 3)),
      service_rss_peak_mib: Math.max(...mine.map((x) => Math.max(x.payments.server_rss_peak_mib, x.half_rate.server_rss_peak_mib))),
      requests_per_transaction: mine.map((x) => x.payments.batching?.requests_per_transaction ?? null),
      errors: mine.reduce((n, x) => n + x.payments.errors + x.half_rate.errors, 0),
      runs: mine,
    };
  });
  log(`\ncomparison, ${rounds} rounds (each figure: one per round; × first: against the first variant in the same round)`);
  log(table([
    ['variant', 'payments/s', 'median', '× first', 'p99 ms', 'half-rate p99 ms', 'CPU ms per payment', 'per tx', 'RSS MiB', 'errors'],
    ...results.map((x) => [
      x.variant, x.payments_per_s.map((v) => Math.round(v).toLocaleString('en')).join(' / '), x.payments_median.toLocaleString('en'),
      x.vs_first_paired.join(' / '), x.payments_p99_ms.join(' / '), x.half_rate_p99_ms.join(' / '),
      x.cpu_ms_per_payment.map((v) => v.toFixed(2)).join(' / '), x.requests_per_transaction.join(' / '),
      String(x.service_rss_peak_mib), String(x.errors),
    ]),
  ]));
  return { rounds, results };
}

/**
 * `--compare … --only=NAME,…`: the selected scenarios with the service in each variant in turn,
 * for `rounds` rounds. Per scenario: each variant's rate per round, against the first variant in
 * the same round (paired), and the service's CPU per request or transfer; per variant and round,
 * the reads' ratios to payments (issue #22's targets, each from one run of one service).
 */
async function compareSelected(setups: VariantSetup[], names: ScenarioName[]) {
  const runs = variants.map(() => [] as Array<Partial<Record<ScenarioName, LoadResult>>>);
  for (let r = 0; r < rounds; r++) {
    for (const [i, variant] of variants.entries()) {
      log(`\nround ${r + 1} of ${rounds}, variant ${i + 1}: ${variant.label}`);
      const setup = setups[i];
      if (setup === undefined) throw new Error(`variant ${variant.label} has no database`);
      const service = await startService(setup.database_url, setup.data_dir, variant.settings, undefined, variant.node_flags, setup.command);
      context.probe.server_pid = service.pid;
      try {
        const results: Partial<Record<ScenarioName, LoadResult>> = {};
        for (const name of names) results[name] = await selectable[name](service, setup.fixture);
        runs[i]?.push(results);
      } finally {
        await service.stop();
      }
    }
  }
  const rateOf = (x: LoadResult | undefined) => x?.items_per_s ?? x?.throughput_per_s ?? 0;
  const scenarios = names.map((name) => ({
    scenario: name,
    variants: variants.map((variant, i) => {
      const mine = (runs[i] ?? []).map((round_results) => round_results[name]);
      return {
        variant: variant.label, per_s: mine.map((x) => round(rateOf(x), 0)),
        vs_first_paired: mine.map((x, k) => round(rateOf(x) / Math.max(rateOf(runs[0]?.[k]?.[name]), 0.001), 3)),
        service_cpu_ms: mine.map((x) => round(((x?.cpu_cores.server ?? 0) * 1000) / Math.max(rateOf(x), 0.001), 3)),
        p99_ms: mine.map((x) => x?.latency_ms.p99 ?? 0), other_cores: mine.map((x) => x?.cpu_cores.other ?? 0),
        errors: mine.reduce((n, x) => n + (x?.errors ?? 0), 0),
      };
    }),
  }));
  log(`\ncomparison, ${rounds} rounds (each figure: one per round; × first: against the first variant in the same round)`);
  log(table([
    ['scenario', 'variant', 'per s', '× first', 'service CPU ms each', 'p99 ms', 'other cores', 'errors'],
    ...scenarios.flatMap((x) => x.variants.map((v) => [
      x.scenario, v.variant, v.per_s.map((n) => n.toLocaleString('en')).join(' / '), v.vs_first_paired.join(' / '),
      v.service_cpu_ms.map((n) => n.toFixed(3)).join(' / '), v.p99_ms.join(' / '), v.other_cores.join(' / '), String(v.errors),
    ])),
  ]));
  const read_ratios = names.includes('payments') ? variants.map((variant, i) => ({
    variant: variant.label,
    ratios: Object.fromEntries(names.filter((n) => read_scenarios.includes(n)).map((n) => [`${n} / payments`,
      (runs[i] ?? []).map((x) => round(rateOf(x[n]) / Math.max(rateOf(x.payments), 0.001), 2))])),
  })) : [];
  for (const x of read_ratios) {
    log(`${x.variant}: ${Object.entries(x.ratios).map(([k, v]) => `${k} ${v.join(' / ')}`).join('; ')} (targets: get-wallet ≥ 4, get-entries ≥ 2)`);
  }
  return { rounds, scenarios, read_ratios, runs };
}

async function profileRun(sql: Sql, database_url: string, data_dir: string, work_dir: string, fixture: Fixture, pg_log: string[]) {
  const prof_dir = path.join(work_dir, 'cpu-profile');
  await mkdir(prof_dir, { recursive: true });
  const service = await startService(database_url, data_dir, {}, prof_dir);
  context.probe.server_pid = service.pid;
  await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;
  await sql`SELECT pg_stat_statements_reset()`;
  const payments = await paymentsScenario(service, fixture, 'payments under --cpu-prof', false, plan.measure_s);
  const topStatements = () => sql<{ query: string; calls: bigint; total_ms: number; mean_ms: number; rows: bigint; hit: bigint; read: bigint; wal_bytes: string }[]>`
    SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 220) AS query, calls, round(total_exec_time::numeric, 1)::float8 AS total_ms,
           round(mean_exec_time::numeric, 4)::float8 AS mean_ms, rows, shared_blks_hit AS hit, shared_blks_read AS read, wal_bytes::text
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY total_exec_time DESC LIMIT 25`;
  const statements = await topStatements();
  // Then coordinators' batches of 1,000, with statements counted afresh.
  await sql`SELECT pg_stat_statements_reset()`;
  const batch_from_us = Number(process.hrtime.bigint() / 1000n);
  const batch = await batchScenario(service, fixture, 1000, true, plan.measure_s);
  const batch_window_us: [number, number] = [batch_from_us, Number(process.hrtime.bigint() / 1000n)];
  const batch_statements = await topStatements();
  // Then the reads, each with its own statements.
  await sql`SELECT pg_stat_statements_reset()`;
  const wallet_read = await readScenario(service, fixture, 'wallet', `${Math.round(plan.history_small / 1000)}k`, plan.measure_s);
  const wallet_statements = await topStatements();
  await sql`SELECT pg_stat_statements_reset()`;
  const entries_read = await readScenario(service, fixture, 'entries', `${Math.round(plan.history_small / 1000)}k`, plan.measure_s);
  const entries_statements = await topStatements();
  await service.stop();
  const file = (await readdir(prof_dir)).find((f) => f.endsWith('.cpuprofile'));
  // Kept for a closer look (e.g. in Chrome's DevTools); bench/results is ignored by git.
  await mkdir(path.join(projectRoot(), 'bench', 'results'), { recursive: true });
  if (file !== undefined) await copyFile(path.join(prof_dir, file), path.join(projectRoot(), 'bench', 'results', 'last-payments.cpuprofile'));
  const profile = file === undefined ? undefined : JSON.parse(await readFile(path.join(prof_dir, file), 'utf8'));
  const cpu = profile === undefined ? undefined : summariseCpuProfile(profile, payments.window_us);
  const batch_cpu = profile === undefined ? undefined : summariseCpuProfile(profile, batch_window_us);
  const reads = [wallet_read, entries_read].map((result, i) => ({
    result, statements: i === 0 ? wallet_statements : entries_statements,
    cpu: profile === undefined ? undefined : summariseCpuProfile(profile, result.window_us, result.requests),
  }));

  // EXPLAIN (ANALYZE, BUFFERS) of every statement of one payment, nested ones included.
  const [db] = await sql<{ name: string }[]>`SELECT current_database() AS name`;
  const dbname = sql(db?.name ?? 'wijkmunt_bench');
  await sql`ALTER DATABASE ${dbname} SET session_preload_libraries = 'auto_explain'`;
  for (const [k, v] of [['auto_explain.log_min_duration', '0'], ['auto_explain.log_analyze', 'on'], ['auto_explain.log_buffers', 'on'],
    ['auto_explain.log_nested_statements', 'on'], ['auto_explain.log_timing', 'on'], ['auto_explain.log_verbose', 'off']] as const) {
    await sql.unsafe(`ALTER DATABASE "${db?.name}" SET ${k} = '${v}'`);
  }
  const explained = await startService(database_url, data_dir, {});
  context.probe.server_pid = explained.pid;
  const warm = await createPaymentRequests(explained, fixture, 2, false);
  await explained.api('POST', `/payment-requests/${warm.ids[0]}/pay`, { token: fixture.wallets[1]?.token, idempotent: true });
  await sleep(300);
  pg_log.length = 0;
  capture.on = true;
  await explained.api('POST', `/payment-requests/${warm.ids[1]}/pay`, { token: fixture.wallets[2]?.token, idempotent: true });
  await sleep(500);
  capture.on = false;
  await explained.stop();
  await sql.unsafe(`ALTER DATABASE "${db?.name}" RESET ALL`);
  return { payments, statements, cpu, batch, batch_statements, batch_cpu, reads, explain_log: [...pg_log] };
}

const capture = { on: false };

// Targets and the report ---------------------------------------------------------------------------

/**
 * How fast this machine is now: MiB/s of SHA-256 on one core of this process (idle between
 * scenarios), the best of five 60 ms tries. The VMs these runs share drift by ±10 % and
 * sometimes far more within one run; a target's ratio is only judged when the machine ran its two
 * figures at about the same speed (`comparable`).
 */
function machineSpeed(): number {
  const block = Buffer.alloc(16 * 1024, 7);
  let best = 0;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const started = process.hrtime.bigint();
    let bytes = 0;
    let elapsed_ns = 0n;
    while (elapsed_ns < 60_000_000n) {
      createHash('sha256').update(block).digest();
      bytes += block.length;
      elapsed_ns = process.hrtime.bigint() - started;
    }
    best = Math.max(best, bytes / 1048576 / (Number(elapsed_ns) / 1e9));
  }
  return round(best, 0);
}

/**
 * How fast PostgreSQL works now: thousands of rows a second written into a new table with two
 * indexes in a transaction that is rolled back (nothing to flush), after a checkpoint, the best
 * of three. Its
 * memory and WAL buffers drift apart from a CPU loop's speed on these VMs.
 */
async function databaseSpeed(sql: Sql): Promise<number> {
  const rows = 20_000;
  // From clean buffers: what the run before left dirty is not the machine's speed.
  await sql`CHECKPOINT`;
  let best = 0;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const connection = await sql.reserve();
    try {
      await connection`BEGIN`;
      await connection`CREATE TABLE bench_speed_probe (id uuid PRIMARY KEY, n bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())`;
      await connection`CREATE INDEX ON bench_speed_probe (n)`;
      const started = now();
      await connection`INSERT INTO bench_speed_probe (id, n) SELECT gen_random_uuid(), g FROM generate_series(1, ${rows}::int) AS g`;
      best = Math.max(best, rows / (now() - started));
    } finally {
      await connection`ROLLBACK`;
      connection.release();
    }
  }
  return round(best, 0);
}

interface SpeedMark {
  at: string;
  t_s: number;
  /** `machineSpeed`: SHA-256 on one core of this process. */
  cpu_mib_per_s: number;
  /** `databaseSpeed`: thousands of rows a second. */
  db_krows_per_s: number;
}

/** The machine's speed at named moments of the run, in order. */
const speed_marks: SpeedMark[] = [];

async function markSpeed(sql: Sql, at: string): Promise<SpeedMark> {
  const mark = { at, t_s: round((now() - bench_started) / 1000, 0), cpu_mib_per_s: machineSpeed(), db_krows_per_s: await databaseSpeed(sql) };
  speed_marks.push(mark);
  return mark;
}

/** Above this difference between the machine's speed at a figure and at its baseline, their ratio is not judged. */
const speed_drift_max = 0.15;

/** Judges `target` only if the machine ran its figure (at mark `a`) and its baseline (`b`) at about one speed. */
function comparable(target: Target, a: SpeedMark | undefined, b: SpeedMark | undefined): Target {
  if (a === undefined || b === undefined || target.met === null) return target;
  const cpu = b.cpu_mib_per_s / a.cpu_mib_per_s;
  const db = b.db_krows_per_s / a.db_krows_per_s;
  if (Math.max(Math.abs(cpu - 1), Math.abs(db - 1)) <= speed_drift_max) return target;
  return { ...target, met: null,
    note: `not judged: the machine ran the baseline at ${round(cpu, 2)}× (CPU) and ${round(db, 2)}× (PostgreSQL) the speed of the figure; rerun` };
}

interface Target {
  target: string;
  measured: string;
  met: boolean | null;
  note?: string;
  /** For a target that is a ratio of two rates: that ratio. */
  ratio?: number | null;
}

function ratio(a: number, b: number | undefined): number | null {
  return b === undefined || b === 0 ? null : round(a / b, 2);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r, ri) => {
    const line = r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

/** A figure of the report: a scenario's rate and where it came from. */
interface FigureRow {
  name: string;
  r: LoadResult;
  unit: string;
  per_s: number;
}

/** Every figure with its ratios to the floor and the textbook (when measured), latencies and CPU per item. */
function figuresOf(rows: FigureRow[], floor_tps: number | undefined, textbook_tps: number | undefined) {
  return rows.map(({ name, r, unit, per_s }) => ({
    name, unit, per_s: round(per_s, 1), vs_floor: ratio(per_s, floor_tps), vs_textbook: ratio(per_s, textbook_tps),
    p50_ms: r.latency_ms.p50, p95_ms: r.latency_ms.p95, p99_ms: r.latency_ms.p99, errors: r.errors,
    service_rss_peak_mib: r.server_rss_peak_mib || null, cpu_cores: r.cpu_cores, wal_bytes_per_item: r.wal_bytes_per_item ?? null,
    blocks_per_item: r.blocks_per_item ?? null,
    // CPU per transfer (or request): more robust than the rate when other work shares the machine.
    cpu_ms_per_item: {
      client: round((r.cpu_cores.client * 1000) / Math.max(per_s, 0.001), 3),
      service: round((r.cpu_cores.server * 1000) / Math.max(per_s, 0.001), 3),
      postgres: round((r.cpu_cores.postgres * 1000) / Math.max(per_s, 0.001), 3),
    },
  }));
}

type Figure = ReturnType<typeof figuresOf>[number];

function logFigures(figures: Figure[]): void {
  log(table([
    ['figure', 'per s', '×floor', '×textbook', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'RSS MiB', 'cores cl/svc/pg/other', 'ms/item cl/svc/pg', 'WAL B'],
    ...figures.map((f) => [
      `${f.name} (${f.unit})`, Math.round(f.per_s).toLocaleString('en'), String(f.vs_floor ?? '—'), String(f.vs_textbook ?? '—'),
      String(f.p50_ms), String(f.p95_ms), String(f.p99_ms), String(f.errors), f.service_rss_peak_mib === null ? '—' : String(f.service_rss_peak_mib),
      `${f.cpu_cores.client}/${f.cpu_cores.server}/${f.cpu_cores.postgres}/${f.cpu_cores.other}`,
      `${f.cpu_ms_per_item.client.toFixed(2)}/${f.cpu_ms_per_item.service.toFixed(2)}/${f.cpu_ms_per_item.postgres.toFixed(2)}`,
      f.wal_bytes_per_item === null ? '—' : String(f.wal_bytes_per_item),
    ]),
  ]));
}

function logTargets(title: string, targets: Target[]): void {
  log(`\n${title}`);
  log(table([
    ['target', 'measured', 'met'],
    ...targets.map((x) => [x.target, x.measured, `${x.met === null ? 'n/a' : x.met ? 'met' : 'NOT met'}${x.note === undefined ? '' : ` (${x.note})`}`]),
  ]));
}

/** `rate` must reach `min` times `base`, both measured in the same run; errors in either fail it. */
function ratioTarget(name: string, rate: LoadResult, base_name: string, base: LoadResult, min: number): Target {
  const value = ratio(rate.throughput_per_s, base.throughput_per_s);
  const errors = rate.errors + base.errors;
  return {
    target: `${name} ≥ ${min}× ${base_name}`,
    measured: `${round(rate.throughput_per_s, 0)}/s = ${value}× ${base_name}${errors === 0 ? '' : ` (${errors} errors)`}`,
    met: value !== null && rate.throughput_per_s >= min * base.throughput_per_s && errors === 0, ratio: value,
  };
}

/** The targets of coordinator transfers that the results given allow. */
function coordinatorTargets(payments?: LoadResult, coordinator?: LoadResult, coordinator_hot?: LoadResult): Target[] {
  return [
    ...(coordinator === undefined || payments === undefined ? []
      : [ratioTarget('coordinator transfers', coordinator, 'payments', payments, 0.8)]),
    ...(coordinator_hot === undefined || coordinator === undefined ? []
      : [ratioTarget('hot-shop coordinator transfers', coordinator_hot, 'coordinator transfers', coordinator, 0.8)]),
  ];
}

// Main -------------------------------------------------------------------------------------------------

/** How this run was started, for the JSON. */
function benchCommand(): string {
  const options = [
    ...(plan.mode === 'full' ? [] : [`--${plan.mode}`]),
    ...(compare_mode ? [...variants.map((v) => `'${v.label}'`), `--rounds=${rounds}`] : []),
    ...(only === undefined ? [] : [`--only=${only.join(',')}`]),
  ];
  return `npm run bench${options.length === 0 ? '' : ` -- ${options.join(' ')}`}`;
}

let setupSql: Sql;

async function main(): Promise<void> {
  const started_at = new Date();
  const run_started = now();
  const machine_before = machineInfo();
  const processes_before = otherProcesses();
  const git = gitInfo();
  log(`Wijkmunt bench — ${plan.mode} mode — ${started_at.toISOString()}`);
  log(`machine: ${machine_before.cores} cores (${machine_before.cpu_model}), ${machine_before.memory_gib} GiB, load average ${machine_before.load_average.join(' ')}`
    + (machine_before.niceness === 0 ? '' : `, bench running at nice ${machine_before.niceness}`));
  if (git.uncommitted_in_src_or_migrations.length > 0) log(`note: uncommitted changes in src/ or migrations/ are measured too: ${git.uncommitted_in_src_or_migrations.join(', ')}`);

  const work_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-bench-'));
  await chmod(work_dir, 0o755);
  const pg_log: string[] = [];
  let embedded: EmbeddedPostgres | undefined;
  let server_url: string;
  const external = process.env.BENCH_DATABASE_URL;
  if (external !== undefined && external !== '') {
    server_url = external;
  } else {
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(work_dir, 'pg'), settings: pg_settings,
      onLog: (line) => { if (capture.on && pg_log.length < 5000) pg_log.push(line.replace(/\s+$/, '')); },
    });
    // Everything connects as the service does to its embedded server: through its Unix socket.
    server_url = process.env.BENCH_DB_TRANSPORT === 'tcp' ? embedded.url : embedded.socketUrl ?? embedded.url;
  }
  const db_name = `wijkmunt_bench_${Date.now()}`;
  const root_sql = connect(server_url, { max: 1, onnotice: () => {} });
  await root_sql.unsafe(`CREATE DATABASE ${db_name}`);
  const database_url = (() => {
    const u = new URL(server_url);
    u.pathname = `/${db_name}`;
    return u.toString();
  })();
  context.database_url = database_url;
  if (embedded !== undefined) {
    const pid_file = path.join(embedded.clusterDir, 'postmaster.pid');
    context.probe.postmaster_pid = Number((await readFile(pid_file, 'utf8')).split('\n')[0]);
  }
  const sql = createSql({ url: database_url, pool_size_max: 4, statement_timeout_ms: 0 });
  setupSql = sql;
  const services: Service[] = [];
  const summary: Record<string, unknown> = {};
  try {
    const [settings] = await sql<Record<string, string>[]>`
      SELECT version() AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit,
             current_setting('full_page_writes') AS full_page_writes, current_setting('wal_sync_method') AS wal_sync_method,
             current_setting('shared_buffers') AS shared_buffers, current_setting('max_connections') AS max_connections,
             current_setting('max_wal_size') AS max_wal_size, current_setting('checkpoint_timeout') AS checkpoint_timeout,
             current_setting('work_mem') AS work_mem, current_setting('autovacuum') AS autovacuum,
             current_setting('commit_delay') AS commit_delay`;
    log(`PostgreSQL: ${settings?.version?.split(' on ')[0]} (${embedded === undefined ? 'BENCH_DATABASE_URL' : 'embedded, private'}), `
      + `fsync=${settings?.fsync}, synchronous_commit=${settings?.synchronous_commit}, full_page_writes=${settings?.full_page_writes}, `
      + `wal_sync_method=${settings?.wal_sync_method}, shared_buffers=${settings?.shared_buffers}; connected through ${transportOf(database_url)}`);
    if (settings?.fsync !== 'on' || settings?.synchronous_commit !== 'on') log('WARNING: the database is not durable; figures are not comparable');
    const compiled = use_tsx ? undefined : compileService();
    log(`service: ${service_command.description}${compiled === undefined ? '' : `, compiled in ${compiled.seconds} s`}${compiled?.note === undefined ? '' : ` — ${compiled.note}`}`);
    const self_test = await loadGeneratorSelfTest(plan.mode === 'full' ? 5 : 2);
    await migrate(sql);
    const admin = { email: 'bench-admin@bench.example.org', password: randomBytes(12).toString('hex') };
    await insertUser(sql, { email: admin.email, role: 'admin', currency_ids: [], password_hash: await hashSecret(admin.password, 10) });

    // Seeding through the API, PINs hashed at a low scrypt cost.
    const data_dir = path.join(work_dir, 'service-data');
    let t = now();
    const seeder = await startService(database_url, data_dir, { SCRYPT_COST_LOG2: '10' });
    services.push(seeder);
    const fixture = await seedThroughApi(seeder, admin);
    await seeder.stop();
    // Statistics as autovacuum would have them a minute later (fresh tables have none, and the
    // planner then picks scans that a steady-state service never runs).
    await sql`ANALYZE`;
    const seed_api_s = round((now() - t) / 1000, 1);
    log(`seeded through the API in ${seed_api_s} s: 1 currency, ${coordinators_count} coordinators, ${shops_count} shops with paired tablets, `
      + `${wallets_count} wallets with card, PIN, session and 100,000.00 each (PINs hashed with SCRYPT_COST_LOG2=10 for seeding only)`, true);
    t = now();
    const small_seeded = await seedHistory(sql, fixture, plan.history_small - await transfersCount(sql), readers_count);
    const history_small = await transfersCount(sql);
    log(`history: ${history_small.toLocaleString('en')} transfers (SQL seeding ${small_seeded} s)`, true);
    await createBaselineTables(sql);

    const service_settings = serviceSettings({});
    summary.meta = {
      bench: 'wijkmunt bench/run.ts (issues #7 and #22)', mode: plan.mode, started_at: started_at.toISOString(),
      command: benchCommand(), machine: machine_before,
      processes_at_start: processes_before, git,
      database: { kind: embedded === undefined ? 'BENCH_DATABASE_URL' : 'embedded PostgreSQL (private, temp dir)', transport: transportOf(database_url), ...settings, settings_passed: embedded === undefined ? {} : pg_settings },
      service: {
        command: service_command.description, compile: compiled ?? null, settings: service_settings,
        notes: 'JWT_SECRET fixed; DB_POOL_SIZE_MAX and every other setting at its default unless set above; '
          + 'PIN hashes made with SCRYPT_COST_LOG2=10 while seeding, the measured service runs with the default cost (17)',
      },
      load_generator: {
        tool: `bench/load-worker.mjs: HTTP/1.1 written and read over node:net, keep-alive, no pipelining, ${load_threads} worker threads in the bench process`,
        connections: concurrency, pgbench: pgbench_path ?? null, self_test,
      },
      plan, seeding: { through_api_s: seed_api_s, history_sql_s: small_seeded },
    };

    if (plan.mode === 'compare') {
      const setups: VariantSetup[] = [];
      for (const [i, variant] of variants.entries()) {
        setups.push(variant.code_dir === undefined
          ? { database_url, data_dir, fixture, command: service_command }
          : await codeVariantSetup(root_sql, server_url, `${db_name}_v${i}`, variant.code_dir, admin, work_dir));
      }
      summary.compare = only === undefined ? await compareRun(setups) : await compareSelected(setups, only);
    } else if (only !== undefined) {
      summary.only = await selectedRun(database_url, data_dir, fixture, only, services);
    } else if (plan.mode === 'profile') {
      const result = await profileRun(sql, database_url, data_dir, work_dir, fixture, pg_log);
      summary.profile = {
        payments: result.payments, statements: result.statements, cpu: result.cpu,
        batch: result.batch, batch_statements: result.batch_statements, batch_cpu: result.batch_cpu, reads: result.reads, explain_log: result.explain_log,
      };
      logProfile('payments', 'statements by total time (pg_stat_statements, track=all)', result.cpu, result.statements);
      logProfile('batches of 1,000', 'statements of the batches by total time', result.batch_cpu, result.batch_statements);
      for (const [i, read] of result.reads.entries()) {
        logProfile(i === 0 ? 'GET /wallet' : 'GET /wallet/entries (pages of 50)', 'statements of the reads by total time', read.cpu, read.statements);
      }
      log('\nauto_explain of one payment:');
      for (const line of result.explain_log) log(`  ${line}`);
    } else {
      // The measuring service: default scrypt cost, start-up time with the small history.
      const service = await startService(database_url, data_dir, {});
      services.push(service);
      context.probe.server_pid = service.pid;
      const startup_small_ms = round(service.startup_ms, 0);
      log(`service started in ${startup_small_ms} ms (to /readyz, ${history_small.toLocaleString('en')} transfers)`, true);
      await markSpeed(sql, 'start');
      rss.overall_peak = 0;

      log('\nreads, small history');
      const reads_small = {
        wallet: await readScenario(service, fixture, 'wallet', `${Math.round(history_small / 1000)}k`, plan.reads_s),
        entries: await readScenario(service, fixture, 'entries', `${Math.round(history_small / 1000)}k`, plan.reads_s),
      };
      const explain_small = await explainReads(database_url, fixture, `${history_small.toLocaleString('en')} transfers`);
      log('\npayments (1,000 wallets → 20 shops)');
      const payments = await paymentsScenario(service, fixture, 'payments', false, plan.measure_s);
      const speed_payments = await markSpeed(sql, 'payments');
      const half_rate = await halfRateScenario(service, fixture, payments.measured.throughput_per_s, plan.half_rate_s);
      log('\nhot shop (1,000 wallets → 1 shop)');
      const hot = await paymentsScenario(service, fixture, 'hot shop', true, plan.measure_s);
      log('\ncoordinator transfers (one transfer per request, 1,000 wallets → 20 shops)');
      const coordinator = await coordinatorTransfersScenario(service, fixture, false, plan.measure_s);
      log('\ncoordinator transfers, hot shop (1,000 wallets → 1 shop)');
      const coordinator_hot = await coordinatorTransfersScenario(service, fixture, true, plan.measure_s);
      log('\nbatch (coordinators issuing)');
      const batches: LoadResult[] = [];
      for (const size of plan.batch_sizes) batches.push(await batchScenario(service, fixture, size, true, plan.measure_s));
      const speed_batches = await markSpeed(sql, 'batches');
      const batch_per_item = plan.mode === 'full' ? await batchScenario(service, fixture, 1000, false, Math.round(plan.measure_s / 2)) : undefined;
      const batch_scaling = plan.mode === 'full' || process.env.BENCH_BATCH_SCALING === '1' ? await batchScaling(sql, fixture) : undefined;
      log('\nclaims');
      const claims = await claimsScenario(service, fixture, plan.measure_s);

      log('\nbaselines on the same database (separate bench_* tables)');
      await resetBaselineTables(sql);
      const textbook = await textbookBaseline(database_url, false, plan.measure_s);
      await resetBaselineTables(sql);
      const textbook_hot = await textbookBaseline(database_url, true, plan.measure_s);
      let floor: Awaited<ReturnType<typeof floorBaseline>> | undefined;
      let floor_hot: Awaited<ReturnType<typeof floorBaseline>> | undefined;
      let floor_writes: Awaited<ReturnType<typeof floorBaseline>> | undefined;
      let speed_floor: SpeedMark | undefined;
      let speed_floor_writes: SpeedMark | undefined;
      if (pgbench_path === undefined) {
        log('  pgbench not found (set PGBENCH): no floor');
      } else {
        floor = await floorBaseline(sql, database_url, work_dir, plan.floor_clients, false, plan.floor_s);
        speed_floor = await markSpeed(sql, 'floor');
        floor_hot = await floorBaseline(sql, database_url, work_dir, plan.mode === 'quick' ? [floor.best.clients] : plan.floor_clients, true, plan.floor_s);
        await createPaymentWritesTables(sql);
        floor_writes = await floorBaseline(sql, database_url, work_dir, plan.floor_clients, false, plan.floor_s, 'payment_writes');
        speed_floor_writes = await markSpeed(sql, 'floor with a payment\'s writes');
      }

      log(`\nlarge history (${plan.history_large.toLocaleString('en')} transfers)`);
      await service.stop();
      const large_seeded = await seedHistory(sql, fixture, plan.history_large - await transfersCount(sql), wallets_count);
      const history_large = await transfersCount(sql);
      log(`  seeded with SQL in ${large_seeded} s: ${history_large.toLocaleString('en')} transfers`, true);
      const sizes = await sql<{ table: string; rows: number; total_mib: number; heap_mib: number; indexes_mib: number }[]>`
        SELECT c.relname AS table, c.reltuples::float8 AS rows, round(pg_total_relation_size(c.oid) / 1048576.0, 1)::float8 AS total_mib,
               round(pg_relation_size(c.oid) / 1048576.0, 1)::float8 AS heap_mib, round(pg_indexes_size(c.oid) / 1048576.0, 1)::float8 AS indexes_mib
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'bench_%' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 8`;
      const ledger_mib = sizes.filter((x) => x.table === 'transfers' || x.table === 'entries').reduce((n, x) => n + x.total_mib, 0);
      const bytes_per_transfer = round((ledger_mib * 1048576) / history_large, 0);
      log(`  transfers + entries take ${round(ledger_mib, 0)} MiB with their indexes: ${bytes_per_transfer} bytes per transfer`, true);
      await checkpoint(sql);
      const service_large = await startService(database_url, data_dir, {});
      services.push(service_large);
      context.probe.server_pid = service_large.pid;
      const startup_large_ms = round(service_large.startup_ms, 0);
      log(`  service started in ${startup_large_ms} ms (to /readyz)`, true);
      const reads_large = {
        wallet: await readScenario(service_large, fixture, 'wallet', `${Math.round(history_large / 1000)}k`, plan.reads_s),
        entries: await readScenario(service_large, fixture, 'entries', `${Math.round(history_large / 1000)}k`, plan.reads_s),
      };
      const explain_large = await explainReads(database_url, fixture, `${history_large.toLocaleString('en')} transfers`);
      const payments_large = plan.payments_at_large
        ? await paymentsScenario(service_large, fixture, `payments, ${Math.round(history_large / 1000)}k history`, false, plan.measure_s)
        : undefined;
      // How the cost of a payment grows with the number of accounts: the same payments, with that
      // many more accounts in the currency (and in every index the payment path reads).
      let accounts_growth: { accounts: number; seeding_s: number; accounts_index_mib: number; payments: PaymentsOutcome } | undefined;
      if (plan.accounts_large > 0) {
        log(`\nmany accounts (${plan.accounts_large.toLocaleString('en')} more)`);
        const seeding_s = await seedAccounts(sql, fixture, plan.accounts_large);
        const [counted] = await sql<{ accounts: number; index_mib: number }[]>`
          SELECT count(*)::int AS accounts, round(pg_indexes_size('accounts') / 1048576.0, 1)::float8 AS index_mib FROM accounts`;
        log(`  seeded with SQL in ${seeding_s} s: ${counted?.accounts.toLocaleString('en')} accounts, their indexes ${counted?.index_mib} MiB`, true);
        await checkpoint(sql);
        const accounts_payments = await paymentsScenario(service_large, fixture,
          `payments, ${Math.round((counted?.accounts ?? 0) / 1000)}k accounts`, false, plan.measure_s);
        accounts_growth = { accounts: counted?.accounts ?? 0, seeding_s, accounts_index_mib: counted?.index_mib ?? 0, payments: accounts_payments };
      }
      const overall_rss_peak = mib(rss.overall_peak);
      await service_large.stop();

      t = now();
      const currency = await findCurrency(sql, 'BENCH');
      const checks = currency === undefined ? [] : await verifyCurrency(sql, currency);
      const verify = { seconds: round((now() - t) / 1000, 1), ok: checks.length > 0 && checks.every((c) => c.ok), failed: checks.filter((c) => !c.ok) };
      log(`\nverify (every invariant recomputed from ${history_large.toLocaleString('en')} transfers): ${verify.ok ? 'ok' : 'FAILED'} in ${verify.seconds} s`, true);
      const service_errors = services.flatMap((s) => s.error_lines);

      // Ratios and targets.
      const floor_tps = floor?.best.throughput_per_s;
      const textbook_tps = textbook.throughput_per_s;
      const rows: FigureRow[] = [
        { name: 'payments', r: payments.measured, unit: 'transfers/s', per_s: payments.measured.throughput_per_s },
        { name: 'payments at ½ max rate', r: half_rate, unit: 'transfers/s', per_s: half_rate.throughput_per_s },
        { name: 'hot shop', r: hot.measured, unit: 'transfers/s', per_s: hot.measured.throughput_per_s },
        { name: 'coordinator transfers', r: coordinator, unit: 'transfers/s', per_s: coordinator.throughput_per_s },
        { name: 'coordinator transfers, hot shop', r: coordinator_hot, unit: 'transfers/s', per_s: coordinator_hot.throughput_per_s },
        ...batches.map((b, i) => ({ name: `batch ${plan.batch_sizes[i]}/request`, r: b, unit: 'transfers/s', per_s: b.items_per_s ?? 0 })),
        ...(batch_per_item === undefined ? [] : [{ name: 'batch 1000, item by item', r: batch_per_item, unit: 'transfers/s', per_s: batch_per_item.items_per_s ?? 0 }]),
        { name: 'claims', r: claims.measured, unit: 'transfers/s', per_s: claims.measured.throughput_per_s },
        { name: `GET /wallet, ${Math.round(history_small / 1000)}k`, r: reads_small.wallet, unit: 'requests/s', per_s: reads_small.wallet.throughput_per_s },
        { name: `GET /wallet/entries, ${Math.round(history_small / 1000)}k`, r: reads_small.entries, unit: 'requests/s', per_s: reads_small.entries.throughput_per_s },
        { name: `GET /wallet, ${Math.round(history_large / 1000)}k`, r: reads_large.wallet, unit: 'requests/s', per_s: reads_large.wallet.throughput_per_s },
        { name: `GET /wallet/entries, ${Math.round(history_large / 1000)}k`, r: reads_large.entries, unit: 'requests/s', per_s: reads_large.entries.throughput_per_s },
        ...(payments_large === undefined ? [] : [{ name: `payments, ${Math.round(history_large / 1000)}k`, r: payments_large.measured, unit: 'transfers/s', per_s: payments_large.measured.throughput_per_s }]),
        ...(accounts_growth === undefined ? [] : [{ name: `payments, ${Math.round(accounts_growth.accounts / 1000)}k accounts`, r: accounts_growth.payments.measured, unit: 'transfers/s', per_s: accounts_growth.payments.measured.throughput_per_s }]),
        { name: 'textbook', r: textbook, unit: 'transfers/s', per_s: textbook.throughput_per_s },
        { name: 'textbook, one shop', r: textbook_hot, unit: 'transfers/s', per_s: textbook_hot.throughput_per_s },
        ...(floor === undefined ? [] : [{ name: `floor (best: ${floor.best.clients} clients)`, r: floor.best as LoadResult, unit: 'transfers/s', per_s: floor.best.throughput_per_s }]),
        ...(floor?.runs ?? []).filter((f) => f !== floor?.best).map((f) => ({ name: `floor, ${f.clients} clients`, r: f as LoadResult, unit: 'transfers/s', per_s: f.throughput_per_s })),
        ...(floor_hot === undefined ? [] : [{ name: `floor, one shop (best: ${floor_hot.best.clients})`, r: floor_hot.best as LoadResult, unit: 'transfers/s', per_s: floor_hot.best.throughput_per_s }]),
        ...(floor_writes === undefined ? [] : [{ name: `floor with a payment's writes (best: ${floor_writes.best.clients})`, r: floor_writes.best as LoadResult, unit: 'transfers/s', per_s: floor_writes.best.throughput_per_s }]),
      ];
      const figures = figuresOf(rows, floor_tps, textbook_tps);

      // What the CPU per transfer allows at most, with every core of the machine busy and nothing
      // else running: how far a rate could go by removing waits alone (round trips, locks).
      const ceilings = ['payments', 'batch 1000/request'].flatMap((name) => {
        const f = figures.find((x) => x.name === name);
        if (f === undefined) return [];
        const ms = f.cpu_ms_per_item.client + f.cpu_ms_per_item.service + f.cpu_ms_per_item.postgres;
        const per_s = (machine_before.cores * 1000) / Math.max(ms, 0.001);
        return [{ figure: name, cpu_ms_per_item: round(ms, 3), cores: machine_before.cores, ceiling_per_s: round(per_s, 0),
          vs_floor: ratio(per_s, floor_tps), vs_textbook: ratio(per_s, textbook_tps) }];
      });

      const indicative = plan.mode === 'quick' ? 'quick mode: indicative only (targets are judged on a full run)' : undefined;
      const p = payments.measured.throughput_per_s;
      const batch_1000 = batches[plan.batch_sizes.indexOf(1000)]?.items_per_s ?? 0;
      const reads_ratio = (k: 'wallet' | 'entries') => reads_large[k].latency_ms.p99 / Math.max(reads_small[k].latency_ms.p99, 0.001);
      // The item-by-item batch is an extra (not a scenario of the issue): its errors are shown, not judged.
      const all_errors = [payments.measured, half_rate, hot.measured, ...batches, claims.measured, reads_small.wallet,
        reads_small.entries, reads_large.wallet, reads_large.entries, ...(payments_large === undefined ? [] : [payments_large.measured]),
        ...(accounts_growth === undefined ? [] : [accounts_growth.payments.measured])]
        .reduce((n, r) => n + r.errors, 0);
      const floor_writes_tps = floor_writes?.best.throughput_per_s;
      // Issue #22's targets (they replace #7's): each a ratio of two figures of this run.
      const targets: Target[] = [
        comparable({ target: 'payments ≥ 1.0× the floor with a payment\'s writes', measured: `${round(p, 0)}/s = ${ratio(p, floor_writes_tps)}× (${round(floor_writes_tps ?? 0, 0)}/s)`,
          met: floor_writes_tps === undefined ? null : p >= floor_writes_tps }, speed_payments, speed_floor_writes),
        { target: 'payments: 0 errors', measured: `${payments.measured.errors} errors`, met: payments.measured.errors === 0 },
        ...readTargets(payments.measured, reads_small.wallet, reads_small.entries),
        ...coordinatorTargets(payments.measured, coordinator, coordinator_hot),
        comparable({ target: 'batch of 1,000 ≥ 1.5× floor transfers/s', measured: `${round(batch_1000, 0)} transfers/s = ${ratio(batch_1000, floor_tps)}× floor`,
          met: floor_tps === undefined ? null : batch_1000 >= 1.5 * floor_tps }, speed_batches, speed_floor),
        ratioTarget('hot shop', hot.measured, 'payments', payments.measured, 0.8),
        { target: 'payments p99 at half the maximum rate ≤ 50 ms', measured: `${half_rate.latency_ms.p99} ms at ${half_rate.target_rate_per_s}/s`, met: half_rate.latency_ms.p99 <= 50 },
        { target: 'service peak RSS ≤ 250 MB through all scenarios', measured: `${overall_rss_peak} MiB`, met: rss.overall_peak <= 250 * 1024 * 1024 },
        { target: `start-up to /readyz with ${Math.round(history_large / 1000)}k transfers ≤ 3 s`, measured: `${startup_large_ms} ms`, met: startup_large_ms <= 3000 },
        { target: 'every scenario of the issue: 0 errors', measured: `${all_errors} errors`, met: all_errors === 0 },
      ];
      if (indicative !== undefined) for (const target of targets) target.note = indicative;
      if (plan.history_large < 1_000_000) {
        for (const target of targets.filter((x) => x.target.includes('history') || x.target.includes('start-up'))) {
          target.note = `history of ${history_large.toLocaleString('en')}, not 1,000,000 (quick mode)`;
        }
      }

      Object.assign(summary, {
        history: { small: history_small, large: history_large, large_seeding_s: large_seeded, table_sizes: sizes, ledger_bytes_per_transfer: bytes_per_transfer },
        startup_ms: { small_history: startup_small_ms, large_history: startup_large_ms },
        service_rss_peak_mib: overall_rss_peak,
        scenarios: {
          payments, payments_half_rate: half_rate, hot_shop: hot, coordinator_transfers: coordinator,
          coordinator_transfers_hot_shop: coordinator_hot, batch: batches, batch_item_by_item: batch_per_item, batch_scaling, claims,
          reads_small_history: reads_small, reads_large_history: reads_large, ...(payments_large === undefined ? {} : { payments_large_history: payments_large }),
          ...(accounts_growth === undefined ? {} : { accounts_growth }),
        },
        baselines: {
          textbook: { ...textbook, tables: 'bench_tb_accounts / bench_tb_transfers / bench_tb_entries (own tables, foreign keys, no triggers)' },
          textbook_one_shop: textbook_hot,
          floor: floor === undefined ? null : { best: floor.best, runs: floor.runs, script: floor_script(false) },
          floor_one_shop: floor_hot === undefined ? null : { best: floor_hot.best, runs: floor_hot.runs },
          floor_payment_writes: floor_writes === undefined ? null : { best: floor_writes.best, runs: floor_writes.runs, script: payment_writes_script },
        },
        figures, cpu_ceilings: ceilings, targets, verify, service_error_log: service_errors, machine_speed: speed_marks,
        explain_reads: { small_history: explain_small, large_history: explain_large },
      });

      log('\nResults (every transfers/s and requests/s figure also as a ratio to the floor and the textbook baseline;');
      log('CPU in cores: load generator (the application, for textbook) / service / PostgreSQL / everything else on the machine;');
      log('the same as CPU milliseconds per request or transfer; WAL: bytes written per request or transfer)');
      logFigures(figures);
      log(`\nCPU ceilings (${machine_before.cores} cores all busy at the measured CPU per transfer, load generator + service + PostgreSQL):`);
      for (const c of ceilings) {
        log(`  ${c.figure}: ${c.cpu_ms_per_item.toFixed(2)} ms per transfer → at most ${c.ceiling_per_s.toLocaleString('en')}/s = ${c.vs_floor ?? '—'}× floor, ${c.vs_textbook ?? '—'}× textbook`);
      }
      if (floor_writes !== undefined) {
        log(`\npayments against the floor with a payment's writes (the same rows written by one statement from pgbench): `
          + `${Math.round(p).toLocaleString('en')} vs ${Math.round(floor_writes.best.throughput_per_s).toLocaleString('en')}/s = ${ratio(p, floor_writes.best.throughput_per_s)}×`);
      }
      log(`\nstart-up to /readyz: ${startup_small_ms} ms with ${history_small.toLocaleString('en')} transfers, ${startup_large_ms} ms with ${history_large.toLocaleString('en')}`);
      log(`service peak RSS through all scenarios: ${overall_rss_peak} MiB`);
      log(`durability: fsync=${settings?.fsync}, synchronous_commit=${settings?.synchronous_commit}, full_page_writes=${settings?.full_page_writes}`);
      log(`reads: p99 with ${Math.round(history_large / 1000)}k history against ${Math.round(history_small / 1000)}k (no longer a target): GET /wallet ${round(reads_ratio('wallet'), 2)}×, a page of entries ${round(reads_ratio('entries'), 2)}×`);
      await markSpeed(sql, 'end');
      log(`machine speed along the run (SHA-256 on one core in MiB/s / PostgreSQL in thousand rows/s): ${speed_marks.map((m) => `${m.at} ${m.cpu_mib_per_s} / ${m.db_krows_per_s}`).join(', ')}`);
      logTargets('Targets of issue #22', targets);
      if (service_errors.length > 0) log(`\nservice error log lines: ${service_errors.length} (see the JSON)`);
    }
    summary.finished_at = new Date().toISOString();
    summary.duration_s = round((now() - run_started) / 1000, 1);
    summary.load_average_at_end = os.loadavg().map((x) => round(x, 2));
    summary.processes_at_end = otherProcesses();
    const results_dir = path.join(projectRoot(), 'bench', 'results');
    await mkdir(results_dir, { recursive: true });
    const file = path.join(results_dir, `${started_at.toISOString().replace(/[:.]/g, '-')}${plan.mode === 'full' ? '' : `-${plan.mode}`}${only === undefined ? '' : '-only'}.json`);
    await writeFile(file, `${JSON.stringify(summary, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    log(`\nJSON summary: ${path.relative(projectRoot(), file)} (run took ${summary.duration_s} s)`);
  } finally {
    for (const service of services) await service.stop().catch(() => {});
    await sql.end({ timeout: 5 }).catch(() => {});
    await root_sql.unsafe(`DROP DATABASE IF EXISTS ${db_name} WITH (FORCE)`).catch(() => {});
    await root_sql.end({ timeout: 5 }).catch(() => {});
    if (embedded !== undefined) {
      await embedded.stop();
      await rm(embedded.clusterDir, { recursive: true, force: true });
    }
    await rm(work_dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
