/**
 * The bank test (after Jepsen's bank test and TigerBeetle's simulator): the real service runs
 * as a child process on an embedded PostgreSQL; client workers pay, charge, claim, refund,
 * issue, give gifts and pay as a helper from the wallet they help through HTTP, each request with an Idempotency-Key and retried with the same key on
 * network errors, 5xx and 409 idempotency_key_in_flight; readers keep taking consistent
 * snapshots of all balances; and meanwhile faults are injected: the service is SIGKILLed and
 * restarted, PostgreSQL is restarted (fast and immediate shutdown), database connections are
 * terminated or cut, and a proxy in front of the service delays and cuts connections.
 *
 * Everything random comes from one seed: the operations of each worker (kinds, actors,
 * amounts), the fault schedule and the proxy's decisions. The same seed gives the same
 * schedule; timing (how operations interleave with faults) differs from run to run.
 *
 * At the end (and, for balances, in every snapshot) it checks: each currency sums to 0; no
 * account but issuance is below 0; every acknowledged (2xx) transfer exists exactly once with
 * what the response said; every key applied at most once and every transfer in the database
 * belongs to exactly one acknowledged key; claims, payments and refunds happened at most once
 * and within their limits; gifts and helpers' payments within their day's and month's limits,
 * and counted exactly; balances equal the sum of entries and what the clients were told;
 * every acknowledged transfer has its audit record; verify passes, seals included; no 5xx
 * came back that no fault explains; and none of the PINs, passwords, tokens, pairing codes or
 * keys the run used is in the service's log (written at info level: every request's line).
 *
 * Expiry is in the mix: TOR's coins stay 30 days in wallets, and every TOR wallet starts with a
 * lot earned 40 days ago (its entries dated back; the seals cover transfers, not entries). The
 * service's own expiry run (every 2 s, and at each start) takes what is left of those lots back
 * while the workers spend them and the faults go on. The checks add: every expiry transfer is
 * the run's (its key `expiry:<wallet>:<day>`, its audit record), wallet → issuance, at most one
 * a wallet and day, never more than the wallet's aged lot; balances count them; and verify's
 * expiry check finds no wallet keeping coins past their validity once a run has been.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import postgres from 'postgres';
import { createSql, isConnectionLost, type Sql } from '../../src/db/client.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.js';
import { listCurrencies } from '../../src/db/ledger.js';
import { sealCurrency } from '../../src/db/seals.js';
import { insertUser } from '../../src/db/users.js';
import { verifyCurrency } from '../../src/db/verify.js';
import { hashSecret } from '../../src/security/passwords.js';
import { weakPin } from '../../src/ledger/secrets.js';

const root = path.resolve(import.meta.dirname, '..', '..');

// Randomness -------------------------------------------------------------------------------

/** mulberry32: small, fast, and the same sequence on every platform for a seed. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** An independent stream per purpose (FNV-1a of seed and label), so one stream's use does not shift another. */
export function deriveSeed(seed: number, label: string): number {
  let hash = 0x811c9dc5;
  for (const ch of `${seed >>> 0}:${label}`) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** An index in [0, n) from a uniform number in [0, 1). */
function index(u: number, n: number): number {
  return Math.min(n - 1, Math.floor(u * n));
}

/** The seed of BANK_SEED (decimal or 0x hex), or a fresh one. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.BANK_SEED?.trim();
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 32) >>> 0;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** 32) throw new Error(`BANK_SEED must be an integer in [0, 2^32): ${text}`);
  return value;
}

// Money, as bigint minor units -----------------------------------------------------------

function toMinor(amount: string, scale: number): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(amount);
  if (match === null) throw new Error(`not an amount: ${amount}`);
  const fraction = (match[2] ?? '').padEnd(scale, '0');
  if (fraction.length > scale) throw new Error(`${amount} has more than ${scale} decimals`);
  return BigInt(match[1] ?? '0') * 10n ** BigInt(scale) + BigInt(fraction === '' ? '0' : fraction);
}

function fromMinor(minor: bigint, scale: number): string {
  if (scale === 0) return minor.toString();
  const digits = minor.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

// Profiles ---------------------------------------------------------------------------------

export type FaultKind = 'server_kill' | 'pg_restart_fast' | 'pg_restart_immediate' | 'pg_terminate' | 'db_tcp_cut';

export interface ChaosSettings {
  /** Each chunk through the service proxy waits 0..latency_ms_max ms. */
  latency_ms_max: number;
  /** Chance that a chunk of a request is dropped and the connection cut (the request may not arrive). */
  cut_request_p: number;
  /** Chance that a chunk of a response is dropped and the connection cut (the request was handled, the answer lost). */
  cut_response_p: number;
}

export interface BankProfile {
  name: string;
  workers: number;
  readers: number;
  wallets_per_currency: number;
  shops_per_currency: number;
  /** How long the workers run; faults are spread over this time. */
  workload_ms: number;
  faults: Record<FaultKind, number>;
  chaos: ChaosSettings;
}

/** Inside `npm test`: about 30 s. */
export const short_profile: BankProfile = {
  name: 'short', workers: 5, readers: 2, wallets_per_currency: 6, shops_per_currency: 2, workload_ms: 16_000,
  faults: { server_kill: 2, pg_restart_fast: 0, pg_restart_immediate: 1, pg_terminate: 2, db_tcp_cut: 1 },
  chaos: { latency_ms_max: 25, cut_request_p: 0.01, cut_response_p: 0.015 },
};

/** `npm run test:bank`: about 3 minutes. */
export const full_profile: BankProfile = {
  name: 'full', workers: 10, readers: 2, wallets_per_currency: 20, shops_per_currency: 4, workload_ms: 150_000,
  faults: { server_kill: 8, pg_restart_fast: 1, pg_restart_immediate: 1, pg_terminate: 6, db_tcp_cut: 4 },
  chaos: { latency_ms_max: 30, cut_request_p: 0.01, cut_response_p: 0.015 },
};

export interface BankOptions {
  seed: number;
  profile: BankProfile;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Keep the work folder (database, service log) even when the run passes. */
  keep_work_dir?: boolean;
  /**
   * Folder whose src/main.ts is the service to test (default: this project). Used to check the
   * checker: a copy of the project with a bug planted must fail the run.
   */
  service_root?: string;
}

// Records ----------------------------------------------------------------------------------

type OpKind = 'pay' | 'pay_race' | 'charge' | 'claim' | 'refund' | 'issue' | 'gift' | 'pay_for' | 'replay' | 'key_reuse' | 'dup_concurrent' | 'open_session';

/** Kinds whose 2xx answer is a transfer the request applied. */
type RequestKind = 'pay' | 'charge' | 'claim' | 'refund' | 'issue' | 'gift' | 'pay_for';

interface Attempt {
  t0: number;
  t1: number;
  status?: number;
  code?: string;
  error?: string;
}

interface Reply {
  status: number;
  // Whatever JSON came back.
  body: any;
  replayed: boolean;
  /** X-Request-Id, which the service's log lines carry. */
  request_id: string | null;
}

/** One keyed request and everything that happened to it. */
export interface RequestRecord {
  seq: number;
  worker: number;
  op: OpKind;
  /** What the request does (a replay or key reuse names the kind of its original). */
  kind: RequestKind;
  currency: string;
  scope: string;
  key: string;
  path: string;
  body: unknown;
  token: string;
  /** What this request is expected to get: a normal request, a wrong PIN, a reuse of a key with another body, a replay of `ref`. */
  expect: 'normal' | 'wrong_pin' | 'key_reused' | 'replay';
  ref?: number;
  attempts: Attempt[];
  final?: Reply;
  /** The final answer came only in the resolution phase after the workload. */
  resolved_late: boolean;
}

interface TransferBody {
  id: string;
  currency: string;
  debit_account: string;
  credit_account: string;
  amount: string;
  code: string;
}

// The world the workers act in ---------------------------------------------------------------

interface WalletActor {
  account: string;
  card: string;
  pin: string;
  token: string;
  scope: string;
  /** The code of its receive QR, which gifts go to. */
  receive_code: string;
  /** The wallet it is the helper of (the next one of its currency), paying shops from it. */
  helps: string;
}

interface DeviceActor {
  id: string;
  token: string;
  scope: string;
}

interface ShopActor {
  account: string;
  devices: DeviceActor[];
  /** Acknowledged payments to this shop, which refunds pick from. */
  payments: Array<{ id: string; amount: bigint }>;
}

interface SessionInfo {
  id: string;
  token: string;
  max_claims: number;
}

interface CurrencyWorld {
  code: string;
  scale: number;
  /** What a wallet may give a day, and what a helper may pay from the wallet it helps a month (minor units). */
  gift_day_max: bigint;
  helper_month_max: bigint;
  issuance: string;
  /** Largest amount of a payment, in minor units. */
  amount_max: number;
  activities: Array<{ id: string; per_hour: boolean }>;
  /** Claimable sessions; coordinators open more during the run. */
  sessions: SessionInfo[];
  wallets: WalletActor[];
  shops: ShopActor[];
}

interface World {
  coordinator: { token: string; scope: string };
  currencies: CurrencyWorld[];
  /** Transfers made while seeding (budgets, opening balances). */
  seed_transfers: TransferBody[];
  /** The lots dated back past their currency's validity, by wallet: what may expire (minor units). */
  aged: Map<string, bigint>;
}

/** The expiring currency's validity, and how old its wallets' aged lots are made. */
const validity_days = 30;
const aged_days = 40;

// TCP proxy -----------------------------------------------------------------------------------

export interface ProxyStats {
  connections: number;
  refused: number;
  delayed_chunks: number;
  cut_requests: number;
  cut_responses: number;
  cut_all: number;
}

/**
 * Forwards TCP connections to `target` (a port on 127.0.0.1). With `chaos` set and an RNG, each
 * chunk may wait a little and, rarely, be dropped together with its connection. Without a
 * target, connections are closed at once (a service that is down).
 */
export class TcpProxy {
  port = 0;
  target: number | undefined;
  chaos: ChaosSettings | undefined;
  readonly stats: ProxyStats = { connections: 0, refused: 0, delayed_chunks: 0, cut_requests: 0, cut_responses: 0, cut_all: 0 };
  readonly #sockets = new Set<net.Socket>();
  readonly #server = net.createServer((client) => this.#handle(client));

  constructor(private readonly rng: Rng | undefined) {}

  async listen(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    const address = this.#server.address();
    if (address === null || typeof address !== 'object') throw new Error('proxy has no port');
    this.port = address.port;
  }

  /** Cuts every open connection; returns how many pairs were cut. */
  cutAll(): number {
    const count = Math.floor(this.#sockets.size / 2);
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.stats.cut_all += count;
    return count;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(client: net.Socket): void {
    this.stats.connections += 1;
    const target = this.target;
    if (target === undefined) {
      this.stats.refused += 1;
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    const isClosed = () => closed;
    client.on('error', close);
    upstream.on('error', close);
    this.#pump(client, upstream, 'request', close, isClosed);
    this.#pump(upstream, client, 'response', close, isClosed);
  }

  #pump(from: net.Socket, to: net.Socket, direction: 'request' | 'response', close: () => void, isClosed: () => boolean): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const chaos = this.chaos;
      let delay_ms = 0;
      let cut = false;
      if (chaos !== undefined && this.rng !== undefined) {
        delay_ms = Math.floor(this.rng.next() * chaos.latency_ms_max);
        cut = this.rng.next() < (direction === 'request' ? chaos.cut_request_p : chaos.cut_response_p);
      }
      chain = chain.then(async () => {
        if (delay_ms > 0) {
          this.stats.delayed_chunks += 1;
          await sleep(delay_ms);
        }
        if (isClosed()) return;
        if (cut) {
          if (direction === 'request') this.stats.cut_requests += 1;
          else this.stats.cut_responses += 1;
          close();
          return;
        }
        to.write(chunk);
      });
    });
    from.on('end', () => {
      chain = chain.then(() => {
        if (!isClosed()) to.end();
      });
    });
    // Deliver what is still queued, then close both sides.
    from.on('close', () => {
      void chain.then(close);
    });
  }
}

// PostgreSQL under test --------------------------------------------------------------------

/** The embedded server behind a plain TCP proxy, so its address stays the same across restarts. */
class PostgresUnderTest {
  handle: EmbeddedPostgres | undefined;
  readonly proxy = new TcpProxy(undefined);

  constructor(readonly data_dir: string) {}

  async start(): Promise<void> {
    live_databases.add(this);
    await this.proxy.listen();
    await this.#boot();
  }

  async #boot(): Promise<void> {
    this.handle = await startEmbeddedPostgres({
      dataDir: this.data_dir,
      // fsync off only matters if the machine crashes; process crashes (SIGQUIT, SIGKILL) stay safe.
      settings: { fsync: 'off', full_page_writes: 'off', max_connections: '200' },
    });
    this.proxy.target = this.handle.port;
  }

  url(database: string): string {
    if (this.handle === undefined) throw new Error('PostgreSQL is not running');
    const url = new URL(this.handle.url);
    url.port = String(this.proxy.port);
    url.pathname = `/${database}`;
    return url.toString();
  }

  /** fast: SIGINT (clean shutdown); immediate: SIGQUIT (a crash: recovery from the WAL on start). */
  async restart(mode: 'fast' | 'immediate'): Promise<{ old_port: number; new_port: number }> {
    const handle = this.handle;
    if (handle === undefined) throw new Error('PostgreSQL is not running');
    this.proxy.target = undefined;
    if (mode === 'immediate') {
      const pid = Number.parseInt((await readFile(path.join(handle.clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    }
    await handle.stop();
    await this.#boot();
    return { old_port: handle.port, new_port: this.handle?.port ?? 0 };
  }

  async stop(): Promise<void> {
    live_databases.delete(this);
    await this.handle?.stop();
    await this.proxy.close();
  }
}

// The service as a child process -----------------------------------------------------------

/** Every service process a run started and that has not exited yet, and every database not stopped. */
const live_services = new Set<ChildProcess>();
const live_databases = new Set<{ stop(): Promise<void> }>();

/**
 * Kills the services still running and stops the databases. For the test file's afterAll: a
 * test that timed out never reaches its run's clean-up, and vitest may end its worker without an
 * 'exit' event (before, such a run left its service and its PostgreSQL running).
 */
export async function stopLeftovers(): Promise<void> {
  for (const child of live_services) child.kill('SIGKILL');
  live_services.clear();
  await Promise.all([...live_databases].map((db) => db.stop().catch(() => undefined)));
}

class ServiceProcess {
  child: ChildProcess | undefined;
  port: number | undefined;
  starts = 0;
  readonly unexpected_exits: string[] = [];
  /** Error lines (pino level ≥ 50) the service logged, with when they arrived. */
  readonly errors: Array<{ at: number; message: string; code: string | undefined; request_id: string | undefined }> = [];
  readonly #tail: string[] = [];
  #expect_exit = false;
  /** Per process started: its 'close' (after 'exit', once stdout and stderr are read to the end). */
  readonly #closed: Array<Promise<unknown>> = [];
  /** Called with the new port when the service had to be started again after dying on its own. */
  on_restart: ((port: number) => void) | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv, private readonly log_file: WriteStream, private readonly service_root: string) {}

  tail(lines = 60): string {
    return this.#tail.slice(-lines).join('\n');
  }

  #record(line: string): void {
    this.log_file.write(`${line}\n`);
    this.#tail.push(line);
    if (this.#tail.length > 300) this.#tail.shift();
    if (!line.startsWith('{')) return;
    try {
      const parsed = JSON.parse(line) as { level?: number; msg?: string; request_id?: string; err?: { message?: string; code?: string } };
      if ((parsed.level ?? 0) >= 50) {
        this.errors.push({
          at: Date.now(), message: `${parsed.msg ?? ''}: ${parsed.err?.code ?? ''} ${parsed.err?.message ?? ''}`.trim(),
          code: parsed.err?.code, request_id: parsed.request_id,
        });
      }
    } catch {
      // Not JSON after all: kept in the tail and the file.
    }
  }

  async start(): Promise<number> {
    this.#expect_exit = false;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(this.service_root, 'src', 'main.ts')], {
      cwd: this.service_root, env: this.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.#closed.push(once(child, 'close').catch(() => undefined));
    this.starts += 1;
    // Should this process die first (a crash, a vitest timeout), the service must not outlive it.
    const killOnExit = () => child.kill('SIGKILL');
    process.on('exit', killOnExit);
    live_services.add(child);
    child.once('exit', () => { process.off('exit', killOnExit); live_services.delete(child); });
    this.#record(`--- bank: service start #${this.starts} (pid ${child.pid}) at ${new Date().toISOString()}`);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the service did not start within 60 s:\n${this.tail()}`)), 60_000);
      const onLine = (line: string) => {
        this.#record(line);
        const match = /listens on http:\/\/localhost:(\d+)/.exec(line);
        if (match !== null) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      for (const stream of [child.stdout, child.stderr]) {
        if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
      }
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.#record(`--- bank: service pid ${child.pid} exited (code ${code}, signal ${signal})`);
        reject(new Error(`the service exited during start (code ${code}, signal ${signal}):\n${this.tail()}`));
        if (this.child !== child) return;
        this.child = undefined;
        this.port = undefined;
        if (!this.#expect_exit) {
          this.unexpected_exits.push(`the service (pid ${child.pid}) exited on its own with code ${code}, signal ${signal}`);
          // Keep the run going, so the rest of the checks still say something.
          if (this.on_restart !== undefined) {
            const notify = this.on_restart;
            void this.start().then(notify, () => {});
          }
        }
      });
    });
    this.port = port;
    return port;
  }

  /** Once every process started has exited and all its output is recorded (at most 10 s). */
  async drained(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.#closed), new Promise((resolve) => { timer = setTimeout(resolve, 10_000); })]);
    clearTimeout(timer);
  }

  /** SIGKILL: no chance to finish anything. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL', 0);
  }

  /** SIGTERM: graceful; SIGKILL if it takes longer than 15 s. */
  async stop(): Promise<void> {
    await this.#signal('SIGTERM', 15_000);
  }

  async #signal(signal: NodeJS.Signals, grace_ms: number): Promise<void> {
    this.#expect_exit = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const escalate = grace_ms > 0 ? setTimeout(() => child.kill('SIGKILL'), grace_ms) : undefined;
    await exited;
    if (escalate !== undefined) clearTimeout(escalate);
  }
}

// HTTP ---------------------------------------------------------------------------------------

const attempt_timeout_ms = 15_000;
const attempts_max = 40;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function backoffMs(attempt: number): number {
  // 25, 50, 100, … capped at 1 s, with jitter (timing only: not from the seeded streams).
  return Math.min(1000, 25 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random());
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return [error.name, error.message, cause?.code, cause?.message].filter((s) => s !== undefined && s !== '').join(': ');
}

function isRetryable(reply: Reply): boolean {
  return reply.status >= 500 || reply.status === 429
    || (reply.status === 409 && reply.body?.code === 'idempotency_key_in_flight');
}

// Faults -------------------------------------------------------------------------------------

interface PlannedFault {
  at_ms: number;
  kind: FaultKind;
}

interface FaultWindow {
  kind: FaultKind;
  start: number;
  /** Until when 5xx answers are blamed on this fault (recovery plus a grace period). */
  end: number;
  detail: string;
}

/** After a fault has been repaired, how long failures are still blamed on it. */
const fault_grace_ms: Record<FaultKind, number> = {
  server_kill: 2_000, pg_restart_fast: 5_000, pg_restart_immediate: 5_000, pg_terminate: 3_000, db_tcp_cut: 3_000,
};

/** The faults of a profile in a seeded order, spread over the workload with seeded jitter. */
export function planFaults(seed: number, profile: BankProfile): PlannedFault[] {
  const rng = new Rng(deriveSeed(seed, 'faults'));
  const kinds: FaultKind[] = [];
  for (const [kind, count] of Object.entries(profile.faults) as Array<[FaultKind, number]>) {
    for (let i = 0; i < count; i++) kinds.push(kind);
  }
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = index(rng.next(), i + 1);
    [kinds[i], kinds[j]] = [kinds[j] as FaultKind, kinds[i] as FaultKind];
  }
  // Leave the last 15% of the workload without new faults, so it ends in calm water.
  const span = profile.workload_ms * 0.85;
  const slot = span / (kinds.length + 1);
  return kinds.map((kind, i) => ({ kind, at_ms: Math.round(slot * (i + 1) + (rng.next() - 0.5) * slot * 0.6) }));
}

// The report -----------------------------------------------------------------------------------

export interface BankReport {
  seed: number;
  profile: string;
  duration_ms: number;
  workload_ms: number;
  requests: number;
  requests_by_op: Record<string, number>;
  /** HTTP attempts of keyed requests, and of the others (payment request creation, setup). */
  attempts: number;
  retries: number;
  other_attempts: number;
  /** Requests that still had no answer after their retries during the workload (sent again afterwards). */
  resolved_late: number;
  /** Requests retried at least once; of those, how many were applied by an attempt whose answer was lost (the retry got the replay). */
  retried_requests: number;
  lost_answers_replayed: number;
  outcomes: Record<string, number>;
  acknowledged_transfers: number;
  transfers_in_database: number;
  faults: Record<FaultKind, number> & { service_starts: number; pg_backends_terminated: number; db_connections_cut: number };
  proxy: ProxyStats;
  snapshots: { ok: number; deep: number; failed: number };
  /** 5xx answers by what explains them (a fault kind, connection_lost_late, or unexplained). */
  five_xx: { total: number; by_cause: Record<string, number> };
  /** The service's expiry transfers during the run, and the coins (minor units) they took back. */
  expired: { transfers: number; amount: string };
  service_errors_logged: number;
  /** service.log after the run: its size, its request lines, and how many secrets were looked for in it. */
  service_log: { bytes: number; request_lines: number; secrets_checked: number };
  violations: string[];
  /** The slowest requests from first attempt to answer, with their attempts (for diagnosis). */
  slowest: Array<{ seq: number; op: string; kind: string; key: string; ms: number; attempts: string[] }>;
  work_dir: string | undefined;
}

export function summarize(report: BankReport): string {
  const lines = [
    `bank test ${report.profile}, seed ${report.seed} (reproduce: BANK_SEED=${report.seed} npm run test:bank${report.profile === 'full' ? '' : ` -- --profile ${report.profile}`})`,
    `  duration ${(report.duration_ms / 1000).toFixed(1)} s (workload ${(report.workload_ms / 1000).toFixed(1)} s)`,
    `  requests ${report.requests} ${JSON.stringify(report.requests_by_op)}`,
    `  HTTP attempts ${report.attempts} (retries ${report.retries}; requests retried ${report.retried_requests}, of which applied by an attempt whose answer was lost and replayed ${report.lost_answers_replayed}), other calls ${report.other_attempts}, answered only after the workload ${report.resolved_late}`,
    `  outcomes ${JSON.stringify(report.outcomes)}`,
    `  transfers acknowledged ${report.acknowledged_transfers}, in the database ${report.transfers_in_database}`,
    `  faults ${JSON.stringify(report.faults)}`,
    `  proxy ${JSON.stringify(report.proxy)}`,
    `  snapshots ok ${report.snapshots.ok} (deep ${report.snapshots.deep}), failed while faults ${report.snapshots.failed}`,
    `  expired by the service's run: ${report.expired.transfers} transfers, ${report.expired.amount} minor units`,
    `  5xx ${report.five_xx.total} ${JSON.stringify(report.five_xx.by_cause)}; errors logged by the service ${report.service_errors_logged}`,
    `  service.log ${(report.service_log.bytes / 1e6).toFixed(1)} MB, ${report.service_log.request_lines} request lines, searched for ${report.service_log.secrets_checked} secrets (PINs, passwords, tokens, pairing codes, JWT_SECRET, database password)`,
  ];
  const slowest = report.slowest[0];
  if (slowest !== undefined) lines.push(`  slowest request #${slowest.seq} (${slowest.kind}): ${(slowest.ms / 1000).toFixed(1)} s over ${slowest.attempts.length} attempts`);
  if (report.violations.length === 0) lines.push('  no violations');
  else lines.push(`  ${report.violations.length} VIOLATIONS (seed ${report.seed}):`, ...report.violations.slice(0, 40).map((v) => `   - ${v}`));
  if (report.violations.length > 40) lines.push(`   … and ${report.violations.length - 40} more`);
  if (report.work_dir !== undefined) lines.push(`  work folder kept: ${report.work_dir} (service.log, report.json)`);
  return lines.join('\n');
}

// Secrets in the service's log ---------------------------------------------------------------

/** A secret the run used: PINs, passwords, tokens, pairing codes, the signing key, the database password. */
export interface Secret {
  kind: string;
  /** The forms it may take in a log (a pairing code is shown with a dash and stored without). */
  forms: string[];
}

/** Short all-digit secrets (PINs) are looked for as a word of their own, see `wordIn`. */
function isShortNumber(form: string): boolean {
  return /^[0-9]{1,8}$/.test(form);
}

/**
 * A PIN could hide in any number, id or time, so it counts only as a word of its own in a
 * string of the log: not inside a longer number or an id (`1234-…`), and not a stack frame's
 * `:line:column` or a decimal.
 */
function wordIn(text: string, form: string): boolean {
  for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) {
    const before = text.slice(Math.max(0, at - 1), at);
    const after = text.slice(at + form.length, at + form.length + 2);
    if (!/[\w.:-]/.test(before) && !/^([\w:-]|\.\d)/.test(after)) return true;
  }
  return false;
}

/** The strings of a JSON log line (its message and every field's text, stack traces left out), or the line itself. */
function stringsOf(line: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [line];
  }
  const texts: string[] = [];
  const walk = (value: unknown, key: string): void => {
    if (typeof value === 'string') {
      // A stack repeats the error's message (which is searched) and adds line:column numbers.
      if (key !== 'stack') texts.push(value);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(parsed, '');
  return texts;
}

function maskSecrets(line: string, secrets: Secret[]): string {
  let masked = line;
  for (const secret of secrets) {
    for (const form of secret.forms) {
      if (!masked.includes(form)) continue;
      if (!isShortNumber(form)) masked = masked.split(form).join(`[${secret.kind}]`);
      else masked = masked.replace(new RegExp(`(?<![\\w.:-])${form}(?![\\w:-]|\\.\\d)`, 'g'), `[${secret.kind}]`);
    }
  }
  return masked;
}

/**
 * Every secret that occurs in the service's log, with the first line it occurs in (secrets
 * masked). Lines the test itself wrote (`--- bank: …`) are skipped.
 */
export function findSecrets(log: string, secrets: Secret[]): Array<{ secret: Secret; line_no: number; line: string }> {
  const found: Array<{ secret: Secret; line_no: number; line: string }> = [];
  const pending = new Set(secrets);
  const lines = log.split('\n');
  for (let i = 0; i < lines.length && pending.size > 0; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('--- bank:')) continue;
    let texts: string[] | undefined;
    for (const secret of pending) {
      const hit = secret.forms.some((form) => {
        if (!line.includes(form)) return false;
        if (!isShortNumber(form)) return true;
        texts ??= stringsOf(line);
        return texts.some((text) => wordIn(text, form));
      });
      if (!hit) continue;
      pending.delete(secret);
      const masked = maskSecrets(line, secrets);
      const at = Math.max(0, masked.indexOf(`[${secret.kind}]`));
      const excerpt = masked.length <= 400 ? masked : `${at > 150 ? '…' : ''}${masked.slice(Math.max(0, at - 150), at + 250)}…`;
      found.push({ secret, line_no: i + 1, line: excerpt });
    }
  }
  return found;
}

// The run ------------------------------------------------------------------------------------

const jwt_secret = 'bank-test-signing-key-that-survives-restarts-0123456789';
/**
 * Dates the entries of `transfer_ids` back by aged_days, as if their coins had been earned then
 * (the append-only trigger bypassed for this transaction; the run's PostgreSQL user is its
 * superuser), and lets the currencies' validity count from long ago. Transfers keep their
 * times, so the seals stay true.
 */
async function ageLots(sql: Sql, transfer_ids: string[], codes: string[]): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    await tx`UPDATE entries SET created_at = created_at - make_interval(days => ${aged_days}) WHERE transfer_id = ANY(${transfer_ids}::uuid[])`;
    await tx`UPDATE currencies SET validity_from = '2000-01-01' WHERE code = ANY(${codes}::text[])`;
  });
}

/** Longest the end waits for the service's expiry run to catch up (it runs every 2 s). */
const expiry_settle_ms = 15_000;

const relaxed_limits = {
  LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
  LOGIN_FAILURES_PER_EMAIL_PER_MINUTE_MAX: '1000000',
  PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
  PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
};

/** 4xx answers a request of each kind may legitimately end with. */
const expected_codes: Record<RequestKind, string[]> = {
  pay: ['insufficient_funds', 'already_paid'],
  // card_locked: PIN attempts are counted before the PIN is compared, so many concurrent charges
  // of one card, or attempts cut short by a SIGKILL, can lock it for a while.
  charge: ['insufficient_funds', 'card_locked'],
  claim: ['already_claimed', 'session_full', 'insufficient_funds', 'balance_max_exceeded'],
  refund: ['refund_exceeds_payment', 'insufficient_funds', 'balance_max_exceeded'],
  issue: ['balance_max_exceeded'],
  gift: ['insufficient_funds', 'gift_limit_exceeded', 'balance_max_exceeded'],
  pay_for: ['insufficient_funds', 'already_paid', 'helper_limit_exceeded'],
};

const op_weights: Array<[OpKind, number]> = [
  ['pay', 22], ['pay_race', 4], ['charge', 24], ['claim', 14], ['refund', 10], ['issue', 6], ['gift', 8], ['pay_for', 6],
  ['replay', 8], ['key_reuse', 4], ['dup_concurrent', 5], ['open_session', 2],
];
const op_weight_total = op_weights.reduce((sum, [, w]) => sum + w, 0);

function pickOp(u: number): OpKind {
  let x = u * op_weight_total;
  for (const [op, weight] of op_weights) {
    if (x < weight) return op;
    x -= weight;
  }
  return 'charge';
}

class BankRun {
  readonly records: RequestRecord[] = [];
  /** Requests that got a 2xx, by the kind of original request (replays and reuses excluded). */
  readonly acknowledged: RequestRecord[] = [];
  readonly violations: string[] = [];
  readonly windows: FaultWindow[] = [];
  readonly five_xx: Array<{ t0: number; t1: number; status: number; code?: string; path: string; request_id: string | null }> = [];
  readonly faults_injected: BankReport['faults'] = {
    server_kill: 0, pg_restart_fast: 0, pg_restart_immediate: 0, pg_terminate: 0, db_tcp_cut: 0,
    service_starts: 0, pg_backends_terminated: 0, db_connections_cut: 0,
  };
  readonly snapshots = { ok: 0, deep: 0, failed: 0 };
  /** Every secret the run used or was given, which the service must never log. */
  readonly secrets = new Map<string, Secret>();
  other_attempts = 0;
  seq = 0;
  stop_workers = false;
  stop_readers = false;
  /** What the service's expiry run took, as the end checks found it. */
  expired = { transfers: 0, amount: 0n };
  world!: World;
  readonly log: (line: string) => void;
  readonly http_proxy: TcpProxy;

  constructor(
    readonly options: BankOptions,
    readonly pg: PostgresUnderTest,
    readonly service: ServiceProcess,
  ) {
    this.log = options.log ?? (() => {});
    this.http_proxy = new TcpProxy(new Rng(deriveSeed(options.seed, 'proxy')));
  }

  get base(): string {
    return `http://127.0.0.1:${this.http_proxy.port}`;
  }

  /** Remembers a secret for the log check at the end; returns it. */
  secret<T extends string>(kind: string, value: T, ...other_forms: string[]): T {
    if (value !== '' && !this.secrets.has(value)) this.secrets.set(value, { kind, forms: [value, ...other_forms.filter((f) => f !== '' && f !== value)] });
    return value;
  }

  /**
   * After the service's last output reached service.log: none of the secrets may be in it. The
   * service logs at info, so every request it handled has its line there.
   */
  async checkLog(log_path: string): Promise<BankReport['service_log']> {
    const text = await readFile(log_path, 'utf8');
    const request_lines = text.split('\n').filter((line) => line.includes('"msg":"request"')).length;
    if (request_lines === 0) this.violation('service.log has no request lines (is LOG_LEVEL above info?): the secrets check would prove nothing');
    const secrets = [...this.secrets.values()];
    for (const { secret, line_no, line } of findSecrets(text, secrets)) {
      this.violation(`a ${secret.kind} is in service.log, first on line ${line_no}: ${line}`);
    }
    return { bytes: Buffer.byteLength(text), request_lines, secrets_checked: secrets.length };
  }

  violation(message: string): void {
    this.violations.push(message);
    this.log(`VIOLATION (seed ${this.options.seed}): ${message}`);
  }

  // HTTP -------------------------------------------------------------------------------------

  async #call(method: string, p: string, o: { token?: string; body?: unknown; key?: string }): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
    if (o.key !== undefined) headers['Idempotency-Key'] = o.key;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(`${this.base}/api/v1${p}`, { method, headers, body, signal: AbortSignal.timeout(attempt_timeout_ms) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    return {
      status: response.status, body: parsed, replayed: response.headers.get('idempotency-replayed') === 'true',
      request_id: response.headers.get('x-request-id'),
    };
  }

  #note5xx(t0: number, t1: number, reply: Reply, p: string): void {
    if (reply.status >= 500) this.five_xx.push({ t0, t1, status: reply.status, code: reply.body?.code, path: p, request_id: reply.request_id });
  }

  /** A request without an Idempotency-Key (setup, payment request creation): retried until it has an answer. */
  async callUntilAnswered(method: string, p: string, o: { token?: string; body?: unknown; key?: string }): Promise<Reply | undefined> {
    for (let n = 0; n < attempts_max; n++) {
      if (n > 0) await sleep(backoffMs(n));
      this.other_attempts += 1;
      const t0 = Date.now();
      try {
        const reply = await this.#call(method, p, o);
        this.#note5xx(t0, Date.now(), reply, p);
        if (!isRetryable(reply)) return reply;
      } catch {
        // Network error: try again.
      }
    }
    return undefined;
  }

  /** Setup call that must succeed with `status`. */
  async must(method: string, p: string, o: { token?: string; body?: unknown; key?: string }, status: number): Promise<any> {
    const reply = await this.callUntilAnswered(method, p, o);
    if (reply?.status !== status) throw new Error(`${method} ${p} during setup: expected ${status}, got ${reply?.status} ${JSON.stringify(reply?.body)}`);
    return reply.body;
  }

  /** Sends a keyed request, retrying with the same key; leaves `final` unset if no answer came. */
  async send(record: RequestRecord): Promise<void> {
    for (let n = 0; n < attempts_max; n++) {
      if (n > 0) await sleep(backoffMs(n));
      const t0 = Date.now();
      let reply: Reply;
      try {
        reply = await this.#call('POST', record.path, { token: record.token, body: record.body, key: record.key });
      } catch (error) {
        record.attempts.push({ t0, t1: Date.now(), error: describeError(error) });
        continue;
      }
      const t1 = Date.now();
      record.attempts.push({ t0, t1, status: reply.status, code: reply.body?.code });
      this.#note5xx(t0, t1, reply, record.path);
      if (isRetryable(reply)) continue;
      record.final = reply;
      return;
    }
  }

  newRecord(worker: number, op: OpKind, fields: Pick<RequestRecord, 'kind' | 'currency' | 'scope' | 'key' | 'path' | 'body' | 'token'> & Partial<Pick<RequestRecord, 'expect' | 'ref'>>): RequestRecord {
    this.seq += 1;
    const record: RequestRecord = { seq: this.seq, worker, op, expect: 'normal', attempts: [], resolved_late: false, ...fields };
    this.records.push(record);
    return record;
  }

  /** After a normal request ends: remember what it applied, for refunds, replays and key reuse. */
  settle(record: RequestRecord, currency: CurrencyWorld): void {
    const final = record.final;
    if (final === undefined || final.status >= 300 || record.expect !== 'normal') return;
    this.acknowledged.push(record);
    const body = final.body as TransferBody;
    if (body.code === 'payment') {
      const shop = currency.shops.find((s) => s.account === body.credit_account);
      shop?.payments.push({ id: body.id, amount: toMinor(body.amount, currency.scale) });
    }
  }

  // Setup ------------------------------------------------------------------------------------

  async seedWorld(admin_sql: Sql): Promise<void> {
    const rng = new Rng(deriveSeed(this.options.seed, 'setup'));
    const profile = this.options.profile;
    const admin_password = this.secret('staff password', 'bank admin password');
    await insertUser(admin_sql, { email: 'admin@bank.test', role: 'admin', currency_ids: [], password_hash: await hashSecret(admin_password, 10) });
    const admin = await this.must('POST', '/auth/login', { body: { email: 'admin@bank.test', password: admin_password } }, 200);
    const as_admin = { token: this.secret('staff token', admin.token as string) };
    const seed_transfers: TransferBody[] = [];
    let setup_key = 0;
    const key = () => `bank-setup-${(setup_key += 1)}`;

    const specs = [
      { code: 'TOR', name: 'Torekes', scale: 0, euro_per_unit: '0.10', opening: '500', budget: '1000000', small_budget: '300', rate: '25', fixed: '40', amount_max: 25, aged: '200', gift_day_max: '60', helper_month_max: '80' },
      { code: 'GNT', name: 'Gentse munt', scale: 2, euro_per_unit: '1.00', wallet_balance_max: '400.00', opening: '250.00', budget: '500000.00', small_budget: '30.00', rate: '2.50', fixed: '4.00', amount_max: 2500, gift_day_max: '60.00', helper_month_max: '80.00' },
    ];
    for (const spec of specs) {
      await this.must('POST', '/currencies', {
        ...as_admin,
        body: {
          code: spec.code, name: spec.name, scale: spec.scale, euro_per_unit: spec.euro_per_unit, gifts_enabled: true, gift_day_max: spec.gift_day_max,
          ...(spec.wallet_balance_max === undefined ? {} : { wallet_balance_max: spec.wallet_balance_max }),
          ...(spec.aged === undefined ? {} : { validity_days }),
        },
      }, 201);
    }
    const coordinator_password = this.secret('staff password', 'bank fieldwork passphrase');
    await this.must('POST', '/users', { ...as_admin, body: { email: 'coordinator@bank.test', password: coordinator_password, role: 'coordinator', currencies: specs.map((s) => s.code) } }, 201);
    const login = await this.must('POST', '/auth/login', { body: { email: 'coordinator@bank.test', password: coordinator_password } }, 200);
    const coordinator = { token: this.secret('staff token', login.token as string), scope: `user:${login.user.id as string}` };
    const as_coordinator = { token: coordinator.token };

    const currencies: CurrencyWorld[] = [];
    const aged_lots = new Map<string, { account: string; amount: bigint }>();
    for (const spec of specs) {
      const currency = await this.must('GET', `/currencies/${spec.code}`, as_coordinator, 200);
      const world: CurrencyWorld = {
        code: spec.code, scale: spec.scale, issuance: currency.issuance_account as string, amount_max: spec.amount_max,
        gift_day_max: toMinor(spec.gift_day_max, spec.scale), helper_month_max: toMinor(spec.helper_month_max, spec.scale),
        activities: [], sessions: [], wallets: [], shops: [],
      };
      // Two programmes: a large budget, and a small one that runs dry during the run.
      const programmes: string[] = [];
      for (const [name, budget] of [['Bank programme', spec.budget], ['Small programme', spec.small_budget]] as const) {
        const programme = await this.must('POST', `/currencies/${spec.code}/accounts`, { ...as_coordinator, body: { kind: 'programme', name } }, 201);
        programmes.push(programme.id as string);
        seed_transfers.push(await this.must('POST', `/currencies/${spec.code}/issue`, { ...as_coordinator, key: key(), body: { to_account: programme.id, amount: budget } }, 201));
      }
      const activities = [
        await this.must('POST', `/currencies/${spec.code}/activities`, { ...as_coordinator, body: { name: 'Repair café', category: 'repair_cafe', rate_per_hour: spec.rate, programme_account: programmes[0] } }, 201),
        await this.must('POST', `/currencies/${spec.code}/activities`, { ...as_coordinator, body: { name: 'Straatfeest', category: 'neighbourhood_party', amount: spec.fixed, programme_account: programmes[1] } }, 201),
      ];
      for (const activity of activities) {
        world.activities.push({ id: activity.id as string, per_hour: activity.rate_per_hour !== null });
        for (const max_claims of [2, 5, 1000]) {
          const body = activity.rate_per_hour === null ? { max_claims } : { max_claims, hours: '2' };
          const session = await this.must('POST', `/activities/${activity.id as string}/sessions`, { ...as_coordinator, body }, 201);
          world.sessions.push({ id: session.id, token: this.secret('claim token', session.claim_token as string), max_claims });
        }
      }
      for (let i = 0; i < profile.wallets_per_currency; i++) {
        // A PIN the service accepts (it refuses runs, repeats and the most common ones).
        let drawn = String(1000 + index(rng.next(), 9000));
        while (weakPin(drawn) !== undefined) drawn = String(1000 + index(rng.next(), 9000));
        const pin = this.secret('wallet PIN', drawn);
        const wallet = await this.must('POST', `/currencies/${spec.code}/wallets`, { ...as_coordinator, body: { display_name: `${spec.code} volunteer ${i}`, pin } }, 201);
        const account = wallet.account.id as string;
        if (spec.aged !== undefined) {
          // First, so that it is also the oldest by the ledger's order: spending takes it first.
          const aged = await this.must('POST', `/currencies/${spec.code}/issue`, { ...as_coordinator, key: key(), body: { to_account: account, amount: spec.aged } }, 201);
          seed_transfers.push(aged);
          aged_lots.set(aged.id as string, { account, amount: toMinor(spec.aged, spec.scale) });
        }
        seed_transfers.push(await this.must('POST', `/currencies/${spec.code}/issue`, { ...as_coordinator, key: key(), body: { to_account: account, amount: spec.opening } }, 201));
        const session = await this.must('POST', '/wallet/session', { body: { card: wallet.card.code, pin } }, 200);
        const token = this.secret('wallet token', session.token as string);
        const receive = await this.must('GET', '/wallet/receive', { token }, 200);
        world.wallets.push({ account, card: wallet.card.code as string, pin, token, scope: `wallet:${account}`, receive_code: receive.code as string, helps: '' });
      }
      // Each wallet helps the next one of its currency.
      for (const [i, helper] of world.wallets.entries()) {
        const helped = world.wallets[(i + 1) % world.wallets.length] as WalletActor;
        helper.helps = helped.account;
        await this.must('POST', `/wallets/${helped.account}/helpers`, { ...as_coordinator, body: { helper_wallet: helper.account, month_max: spec.helper_month_max } }, 201);
      }
      for (let i = 0; i < profile.shops_per_currency; i++) {
        const shop = await this.must('POST', `/currencies/${spec.code}/shops`, { ...as_coordinator, body: { name: `${spec.code} shop ${i}` } }, 201);
        const actor: ShopActor = { account: shop.account.id as string, devices: [], payments: [] };
        let pairing_code = shop.pairing_code as string;
        for (let d = 0; d < 2; d++) {
          if (d > 0) pairing_code = (await this.must('POST', `/shops/${actor.account}/pairing-codes`, as_coordinator, 201)).pairing_code as string;
          // Shown as K7QM-3D9X, stored as K7QM3D9X.
          this.secret('pairing code', pairing_code, pairing_code.replace(/-/g, ''));
          const device = await this.must('POST', '/shop/devices', { body: { pairing_code, device_name: `till ${d}` } }, 201);
          actor.devices.push({ id: device.device.id as string, token: this.secret('device token', device.token as string), scope: `device:${device.device.id as string}` });
        }
        world.shops.push(actor);
      }
      currencies.push(world);
    }
    await ageLots(admin_sql, [...aged_lots.keys()], specs.filter((s) => s.aged !== undefined).map((s) => s.code));
    this.world = { coordinator, currencies, seed_transfers, aged: new Map([...aged_lots.values()].map((l) => [l.account, l.amount])) };
  }

  // Workers ----------------------------------------------------------------------------------

  async worker(w: number): Promise<void> {
    const rng = new Rng(deriveSeed(this.options.seed, `worker-${w}`));
    let n = 0;
    while (!this.stop_workers) {
      // A fixed number of draws per operation, whatever it turns out to be, so the schedule of
      // each worker is the same for a seed even when outcomes (and so the state) differ.
      const r = Array.from({ length: 10 }, () => rng.next());
      n += 1;
      await this.operation(w, n, r);
    }
  }

  async operation(w: number, n: number, r: number[]): Promise<void> {
    const u = (i: number) => r[i] ?? 0;
    const op = pickOp(u(0));
    const currency = this.world.currencies[index(u(1), this.world.currencies.length)] as CurrencyWorld;
    const wallet = currency.wallets[index(u(2), currency.wallets.length)] as WalletActor;
    const shop = currency.shops[index(u(3), currency.shops.length)] as ShopActor;
    const device = shop.devices[index(u(4), shop.devices.length)] as DeviceActor;
    const amount = fromMinor(BigInt(1 + index(u(5), currency.amount_max)), currency.scale);
    const key = (tag = '') => `bank-${this.options.seed}-w${w}-${n}${tag}`;
    const base = { currency: currency.code };

    switch (op) {
      case 'pay':
      case 'pay_race': {
        const request = await this.callUntilAnswered('POST', '/shop/payment-requests', { token: device.token, body: { amount, memo: `bank w${w} #${n}` } });
        if (request?.status !== 201) {
          if (request !== undefined) this.violation(`creating a payment request got ${request.status} ${JSON.stringify(request.body)}`);
          return;
        }
        const payers = [wallet];
        if (op === 'pay_race') {
          const other = currency.wallets[(currency.wallets.indexOf(wallet) + 1 + index(u(6), currency.wallets.length - 1)) % currency.wallets.length] as WalletActor;
          payers.push(other);
        }
        const records = payers.map((payer, i) => this.newRecord(w, op, {
          ...base, kind: 'pay', scope: payer.scope, key: key(`-p${i}`), path: `/payment-requests/${request.body.id as string}/pay`, body: undefined, token: payer.token,
        }));
        await Promise.all(records.map((rec) => this.send(rec)));
        for (const rec of records) this.settle(rec, currency);
        return;
      }
      case 'pay_for': {
        const request = await this.callUntilAnswered('POST', '/shop/payment-requests', { token: device.token, body: { amount, memo: `bank w${w} #${n}` } });
        if (request?.status !== 201) {
          if (request !== undefined) this.violation(`creating a payment request got ${request.status} ${JSON.stringify(request.body)}`);
          return;
        }
        const path = `/payment-requests/${request.body.id as string}/pay`;
        const records = [this.newRecord(w, op, {
          ...base, kind: 'pay_for', scope: wallet.scope, key: key('-h'), path, body: { on_behalf_of: wallet.helps }, token: wallet.token,
        })];
        if (u(6) < 0.3) {
          // The helped volunteer pays the same request at the same moment: one of them pays it.
          const helped = currency.wallets.find((x) => x.account === wallet.helps) as WalletActor;
          records.push(this.newRecord(w, op, { ...base, kind: 'pay', scope: helped.scope, key: key('-p'), path, body: undefined, token: helped.token }));
        }
        await Promise.all(records.map((rec) => this.send(rec)));
        for (const rec of records) this.settle(rec, currency);
        return;
      }
      case 'gift': {
        const receiver = currency.wallets[(currency.wallets.indexOf(wallet) + 1 + index(u(6), currency.wallets.length - 1)) % currency.wallets.length] as WalletActor;
        const rec = this.newRecord(w, op, {
          ...base, kind: 'gift', scope: wallet.scope, key: key(), path: '/wallet/gifts',
          body: { to: receiver.receive_code, amount, memo: `gift w${w} #${n}` }, token: wallet.token,
        });
        await this.send(rec);
        this.settle(rec, currency);
        return;
      }
      case 'charge':
      case 'dup_concurrent': {
        const wrong = op === 'charge' && u(6) < 0.04;
        const pin = wrong ? String(((Number(wallet.pin) - 1000 + 1 + index(u(7), 8998)) % 9000) + 1000) : wallet.pin;
        if (op === 'dup_concurrent' && u(6) < 0.5) {
          // The same claim twice at once, same key: applied once, both told the same.
          const session = currency.sessions[index(u(7), currency.sessions.length)] as SessionInfo;
          const records = [0, 1].map(() => this.newRecord(w, op, {
            ...base, kind: 'claim', scope: wallet.scope, key: key('-dup'), path: '/claims', body: { token: session.token }, token: wallet.token,
          }));
          await Promise.all(records.map((rec) => this.send(rec)));
          for (const rec of records) this.settle(rec, currency);
          return;
        }
        const copies = op === 'dup_concurrent' ? 2 : 1;
        const records = Array.from({ length: copies }, () => this.newRecord(w, op, {
          ...base, kind: 'charge', scope: device.scope, key: key(op === 'dup_concurrent' ? '-dup' : ''), path: '/shop/charges',
          body: { card: wallet.card, pin, amount, memo: `bank w${w} #${n}` }, token: device.token, expect: wrong ? 'wrong_pin' : 'normal',
        }));
        await Promise.all(records.map((rec) => this.send(rec)));
        for (const rec of records) this.settle(rec, currency);
        return;
      }
      case 'claim': {
        const session = currency.sessions[index(u(6), currency.sessions.length)] as SessionInfo;
        const rec = this.newRecord(w, op, { ...base, kind: 'claim', scope: wallet.scope, key: key(), path: '/claims', body: { token: session.token }, token: wallet.token });
        await this.send(rec);
        this.settle(rec, currency);
        return;
      }
      case 'refund': {
        if (shop.payments.length === 0) return;
        const payment = shop.payments[index(u(6), shop.payments.length)] as { id: string; amount: bigint };
        // Mostly part of the payment; sometimes more than it, which must be refused.
        const minor = u(7) < 0.1 ? payment.amount + 1n : 1n + (payment.amount * BigInt(index(u(8), 600))) / 1000n;
        const rec = this.newRecord(w, op, {
          ...base, kind: 'refund', scope: device.scope, key: key(), path: '/shop/refunds',
          body: { transfer_id: payment.id, amount: fromMinor(minor, currency.scale) }, token: device.token,
        });
        await this.send(rec);
        this.settle(rec, currency);
        return;
      }
      case 'issue': {
        // A top-up: a few payments' worth, so wallets keep paying.
        const top_up = fromMinor(BigInt(1 + index(u(5), currency.amount_max)) * 8n, currency.scale);
        const rec = this.newRecord(w, op, {
          ...base, kind: 'issue', scope: this.world.coordinator.scope, key: key(), path: `/currencies/${currency.code}/issue`,
          body: { to_account: wallet.account, amount: top_up, memo: `top-up w${w} #${n}` }, token: this.world.coordinator.token,
        });
        await this.send(rec);
        this.settle(rec, currency);
        return;
      }
      case 'open_session': {
        // Not value-moving and without a key: a retry after a lost answer may open a second one.
        const activity = currency.activities[index(u(6), currency.activities.length)] as { id: string; per_hour: boolean };
        const max_claims = [3, 10, 1000][index(u(7), 3)] as number;
        const session = await this.callUntilAnswered('POST', `/activities/${activity.id}/sessions`, {
          token: this.world.coordinator.token, body: activity.per_hour ? { max_claims, hours: '1.5' } : { max_claims },
        });
        if (session?.status === 201) currency.sessions.push({ id: session.body.id as string, token: this.secret('claim token', session.body.claim_token as string), max_claims });
        else if (session !== undefined) this.violation(`opening a session got ${session.status} ${JSON.stringify(session.body)}`);
        return;
      }
      case 'replay':
      case 'key_reuse': {
        const candidates = op === 'replay' ? this.acknowledged : this.acknowledged.filter((a) => a.kind !== 'pay' && a.kind !== 'pay_for');
        if (candidates.length === 0) return;
        const original = candidates[index(u(6), candidates.length)] as RequestRecord;
        const owner = this.world.currencies.find((c) => c.code === original.currency) as CurrencyWorld;
        let body = original.body;
        if (op === 'key_reuse') {
          const old = original.body as Record<string, unknown>;
          if (original.kind === 'claim') {
            const other = owner.sessions.find((s) => s.token !== old.token) as SessionInfo;
            body = { token: other.token };
          } else {
            body = { ...old, amount: fromMinor(toMinor(String(old.amount), owner.scale) + 1n, owner.scale) };
          }
        }
        const rec = this.newRecord(w, op, {
          currency: original.currency, kind: original.kind, scope: original.scope, key: original.key, path: original.path,
          body, token: original.token, expect: op === 'replay' ? 'replay' : 'key_reused', ref: original.seq,
        });
        await this.send(rec);
        return;
      }
    }
  }

  // Readers ----------------------------------------------------------------------------------

  async reader(i: number): Promise<void> {
    let sql: postgres.Sql | undefined;
    let n = 0;
    while (!this.stop_readers) {
      n += 1;
      const deep = n % 4 === i % 4;
      sql ??= postgres(this.pg.url('bank'), { max: 1, onnotice: () => {}, connect_timeout: 5 });
      try {
        await this.snapshot(sql, deep);
        this.snapshots.ok += 1;
        if (deep) this.snapshots.deep += 1;
        await sleep(20);
      } catch (error) {
        if (error instanceof SnapshotViolation) this.violation(error.message);
        this.snapshots.failed += 1;
        // The connection may be left inside a failed transaction: start afresh.
        const broken = sql;
        sql = undefined;
        await broken.end({ timeout: 1 }).catch(() => {});
        await sleep(100);
      }
    }
    await sql?.end({ timeout: 1 }).catch(() => {});
  }

  /**
   * One REPEATABLE READ READ ONLY transaction over all balances (and, when deep, all entries),
   * sent as one simple-protocol message: no reserved connection, so a connection that dies
   * half-way leaves nothing for the driver to write afterwards (see docs/testing.md).
   */
  async snapshot(sql: postgres.Sql, deep: boolean): Promise<void> {
    const statements = [
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      `SELECT format('%s: balances sum to %s, pending amounts to %s, %s accounts below 0', c.code,
                     sum(a.credits_posted - a.debits_posted), sum(a.credits_pending - a.debits_pending),
                     count(*) FILTER (WHERE a.kind <> 'issuance' AND a.credits_posted - a.debits_posted - a.debits_pending < 0)) AS problem
       FROM accounts a JOIN currencies c ON c.id = a.currency_id GROUP BY c.code
       HAVING sum(a.credits_posted - a.debits_posted) <> 0 OR sum(a.credits_pending - a.debits_pending) <> 0
           OR count(*) FILTER (WHERE a.kind <> 'issuance' AND a.credits_posted - a.debits_posted - a.debits_pending < 0) > 0`,
      // Proof that the snapshot saw something: the number of accounts.
      'SELECT count(*)::int AS accounts FROM accounts',
    ];
    if (deep) {
      statements.push(
        `SELECT format('account %s: balance %s (version %s), entries sum to %s (%s entries)', a.id,
                       a.credits_posted - a.debits_posted, a.version, coalesce(e.total, 0), coalesce(e.n, 0)) AS problem
         FROM accounts a
         LEFT JOIN (SELECT currency_id, account_id, sum(amount) AS total, count(*) AS n FROM entries GROUP BY currency_id, account_id) e
           ON e.currency_id = a.currency_id AND e.account_id = a.id
         WHERE coalesce(e.total, 0) <> a.credits_posted - a.debits_posted OR coalesce(e.n, 0) <> a.version`,
        `SELECT format('transfer %s: %s entries summing to %s', transfer_id, count(*), sum(amount)) AS problem
         FROM entries GROUP BY currency_id, transfer_id HAVING sum(amount) <> 0 OR count(*) <> 2`,
      );
    }
    statements.push('COMMIT');
    const results = await sql.unsafe(statements.join(';\n')).simple() as unknown as Array<Array<Record<string, unknown>>>;
    const problems: string[] = [];
    let accounts = 0;
    for (const rows of results) {
      for (const row of rows) {
        if (typeof row.problem === 'string') problems.push(`snapshot: ${row.problem}`);
        if (typeof row.accounts === 'number') accounts = row.accounts;
      }
    }
    if (accounts === 0) problems.push('snapshot: saw no accounts');
    if (problems.length > 0) throw new SnapshotViolation(problems.join('; '));
  }

  // Faults -----------------------------------------------------------------------------------

  async inject(fault: PlannedFault): Promise<void> {
    const window: FaultWindow = { kind: fault.kind, start: Date.now(), end: Number.POSITIVE_INFINITY, detail: '' };
    this.windows.push(window);
    switch (fault.kind) {
      case 'server_kill': {
        this.http_proxy.target = undefined;
        await this.service.kill();
        // Down for a moment: clients meet refused connections and keep retrying.
        await sleep(200 + Math.floor(Math.random() * 300));
        this.http_proxy.target = await this.service.start();
        this.faults_injected.service_starts += 1;
        window.detail = `service restarted on port ${this.http_proxy.target}`;
        break;
      }
      case 'pg_restart_fast':
      case 'pg_restart_immediate': {
        const ports = await this.pg.restart(fault.kind === 'pg_restart_fast' ? 'fast' : 'immediate');
        window.detail = `PostgreSQL port ${ports.old_port} → ${ports.new_port} (the proxy keeps the service's DATABASE_URL)`;
        break;
      }
      case 'pg_terminate': {
        const admin = postgres(this.pg.url('postgres'), { max: 1, onnotice: () => {}, connect_timeout: 5 });
        try {
          const [row] = await admin<{ n: number }[]>`
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
            FROM pg_stat_activity WHERE datname = 'bank' AND pid <> pg_backend_pid()`;
          this.faults_injected.pg_backends_terminated += row?.n ?? 0;
          window.detail = `${row?.n ?? 0} backends terminated`;
        } finally {
          await admin.end({ timeout: 1 });
        }
        break;
      }
      case 'db_tcp_cut': {
        const cut = this.pg.proxy.cutAll();
        this.faults_injected.db_connections_cut += cut;
        window.detail = `${cut} database connections cut`;
        break;
      }
    }
    window.end = Date.now() + fault_grace_ms[fault.kind];
    this.faults_injected[fault.kind] += 1;
    this.log(`fault ${fault.kind} at +${fault.at_ms} ms: ${window.detail}`);
  }

  async runFaults(plan: PlannedFault[], started: number): Promise<void> {
    for (const fault of plan) {
      const wait = started + fault.at_ms - Date.now();
      if (wait > 0) await sleep(wait);
      await this.inject(fault);
    }
  }

  // Checks -----------------------------------------------------------------------------------

  /**
   * Why a 5xx came back: during a fault (or its grace period), or because the service lost a
   * database connection, which only the faults do (postgres.js 3.4.9 may report a terminated
   * backend's 57P01 on the next query of that connection, long after: see docs/testing.md).
   * Undefined when nothing explains it.
   */
  explanation(e: { t0: number; t1: number; request_id: string | null }): string | undefined {
    const window = this.windows.find((w) => e.t0 <= w.end && e.t1 >= w.start);
    if (window !== undefined) return window.kind;
    const logged = e.request_id === null ? undefined : this.service.errors.find((x) => x.request_id === e.request_id);
    if (logged !== undefined && isConnectionLost({ code: logged.code })) return 'connection_lost_late';
    return undefined;
  }

  /**
   * Gifts and helpers' payments: no counter of a day's gifts or a month's payments by a helper
   * passed its limit, and per giver (and per helper and helped wallet) the counters add up to
   * exactly the gifts (payments) in the ledger: none was made without being counted.
   */
  async checkLimits(sql: Sql): Promise<void> {
    const limits = new Map(this.world.currencies.map((c) => [c.code, c]));
    const rows = await sql<LimitRow[]>`
      WITH moved AS (
        SELECT currency_id, debit_account_id AS account, CASE WHEN code = 'gift' THEN NULL ELSE metadata->>'helper_account_id' END AS helper,
               sum(amount)::bigint AS moved
        FROM transfers WHERE code = 'gift' OR (code = 'payment' AND metadata ? 'helper_account_id') GROUP BY 1, 2, 3
      ), counted AS (
        SELECT currency_id, account_id AS account, CASE WHEN period LIKE 'g%' THEN NULL ELSE substring(period FROM 2 FOR 36) END AS helper,
               sum(amount)::bigint AS counted, max(amount)::bigint AS largest, (period LIKE 'g%') AS gifts
        FROM volunteer_earnings WHERE period LIKE 'g%' OR period LIKE 'h%' GROUP BY 1, 2, 3, 6
      )
      SELECT c.code AS currency, coalesce(m.account, n.account)::text AS account, coalesce(m.helper, n.helper) AS helper,
             coalesce(n.counted, 0)::bigint AS counted, coalesce(m.moved, 0)::bigint AS moved,
             (CASE WHEN coalesce(m.helper, n.helper) IS NULL THEN coalesce(n.largest, 0) > c.gift_day_max
                   ELSE coalesce(n.largest, 0) > (SELECT month_max FROM wallet_helpers h WHERE h.currency_id = c.id
                                                  AND h.account_id = coalesce(m.account, n.account) AND h.helper_account_id::text = coalesce(m.helper, n.helper)) END)::int AS over
      FROM moved m FULL JOIN counted n ON n.currency_id = m.currency_id AND n.account = m.account AND n.helper IS NOT DISTINCT FROM m.helper
      JOIN currencies c ON c.id = coalesce(m.currency_id, n.currency_id)`;
    for (const r of rows) {
      const what = r.helper === null ? `gifts of ${r.account}` : `payments by helper ${r.helper} from ${r.account}`;
      if (r.counted !== r.moved) this.violation(`${r.currency}: ${what} add up to ${r.moved}, their counters to ${r.counted}`);
      if (r.over !== 0) {
        const currency = limits.get(r.currency);
        this.violation(`${r.currency}: a counter of ${what} passed its limit (${r.helper === null ? currency?.gift_day_max : currency?.helper_month_max})`);
      }
    }
    if (rows.length === 0) this.violation('no gift or helper payment was counted: the check of their limits proves nothing');
  }

  async check(sql: Sql, coordinator_token: string): Promise<{ acknowledged: number; in_database: number }> {
    const v = (m: string) => this.violation(m);
    const scaleOf = new Map(this.world.currencies.map((c) => [c.code, c.scale]));

    // Every request has a final answer, and the answer is one its kind may get.
    const originals = new Map(this.records.map((r) => [r.seq, r]));
    for (const rec of this.records) {
      const final = rec.final;
      const what = `request #${rec.seq} (${rec.op} ${rec.kind}, key ${rec.key})`;
      if (final === undefined) {
        v(`${what} has no answer after ${rec.attempts.length} attempts: ${JSON.stringify(rec.attempts.at(-1))}`);
        continue;
      }
      const code = final.body?.code as string | undefined;
      if (rec.expect === 'wrong_pin') {
        if (!['unauthenticated', 'invalid_card_or_pin', 'card_locked'].includes(code ?? '') || final.status >= 500) v(`${what} with a wrong PIN got ${final.status} ${code ?? JSON.stringify(final.body)}`);
      } else if (rec.expect === 'key_reused') {
        if (final.status !== 422 || code !== 'idempotency_key_reused') v(`${what} reused a key with another body and got ${final.status} ${code ?? JSON.stringify(final.body)}`);
      } else if (rec.expect === 'replay') {
        const original = originals.get(rec.ref ?? -1);
        if (final.status !== original?.final?.status || final.body?.id !== original.final?.body?.id || !final.replayed) {
          v(`${what} replayed #${rec.ref} and got ${final.status} ${final.body?.id ?? code} (replayed: ${final.replayed}); the original got ${original?.final?.status} ${original?.final?.body?.id}`);
        }
      } else if (final.status >= 300 && !(final.status >= 400 && final.status < 500 && code !== undefined && expected_codes[rec.kind].includes(code))) {
        v(`${what} ended with an unexpected ${final.status} ${code ?? ''}: ${JSON.stringify(final.body).slice(0, 300)}`);
      }
    }

    // Acknowledged transfers: per key at most one transfer id; each exactly once in the database.
    const acked = new Map<string, { body: TransferBody; rec: RequestRecord }>();
    const ids_by_key = new Map<string, Set<string>>();
    for (const rec of this.records) {
      if (rec.final === undefined || rec.final.status < 200 || rec.final.status >= 300) continue;
      const body = rec.final.body as TransferBody;
      const k = `${rec.scope} ${rec.key}`;
      const ids = ids_by_key.get(k) ?? new Set<string>();
      ids.add(body.id);
      ids_by_key.set(k, ids);
      if (!acked.has(body.id)) acked.set(body.id, { body, rec });
    }
    for (const [k, ids] of ids_by_key) if (ids.size > 1) v(`key ${k} was applied ${ids.size} times: transfers ${[...ids].join(', ')}`);
    const pay_transfers_by_request = new Map<string, Set<string>>();
    for (const rec of this.records) {
      if ((rec.kind !== 'pay' && rec.kind !== 'pay_for') || rec.final === undefined || rec.final.status >= 300) continue;
      const ids = pay_transfers_by_request.get(rec.path) ?? new Set<string>();
      ids.add(rec.final.body.id as string);
      pay_transfers_by_request.set(rec.path, ids);
    }
    for (const [p, ids] of pay_transfers_by_request) if (ids.size > 1) v(`${p}: ${ids.size} different payments acknowledged (${[...ids].join(', ')})`);

    const transfers = await sql<{ id: string; n: number; code: string; debit: string; credit: string; amount: bigint; currency: string }[]>`
      SELECT t.id::text, count(*) OVER (PARTITION BY t.id)::int AS n, t.code, t.debit_account_id::text AS debit,
             t.credit_account_id::text AS credit, t.amount, c.code AS currency
      FROM transfers t JOIN currencies c ON c.id = t.currency_id`;
    const in_db = new Map(transfers.map((t) => [t.id, t]));
    const seed_ids = new Set(this.world.seed_transfers.map((t) => t.id));
    for (const [id, { body, rec }] of acked) {
      const row = in_db.get(id);
      const scale = scaleOf.get(body.currency) ?? 0;
      if (row === undefined) v(`acknowledged transfer ${id} (request #${rec.seq} ${rec.kind}, key ${rec.key}) is not in the database: a lost ${rec.kind}`);
      else if (row.n !== 1) v(`acknowledged transfer ${id} is in the database ${row.n} times`);
      else if (row.code !== body.code || row.debit !== body.debit_account || row.credit !== body.credit_account
        || row.amount !== toMinor(body.amount, scale) || row.currency !== body.currency) {
        v(`transfer ${id} in the database (${row.code} ${row.debit} → ${row.credit} ${row.amount}) differs from what request #${rec.seq} was told (${JSON.stringify(body)})`);
      }
    }
    const stored_keys = await sql<{ scope: string; key: string; status: number; id: string | null }[]>`
      SELECT scope, key, response_status AS status, response_body->>'id' AS id FROM idempotency_keys`;
    const stored_by_key = new Map(stored_keys.map((s) => [`${s.scope} ${s.key}`, s]));
    const expired = await this.checkExpiry(sql);
    for (const t of transfers) {
      if (seed_ids.has(t.id) || acked.has(t.id) || expired.ids.has(t.id)) continue;
      const owner = stored_keys.find((s) => s.id === t.id);
      v(`transfer ${t.id} (${t.code}, ${t.amount}) is in the database but no client was told about it${owner === undefined ? ', and no idempotency key records it' : ` (key ${owner.scope} ${owner.key})`}: applied twice or behind a client's back`);
    }
    for (const [k, ids] of ids_by_key) {
      const stored = stored_by_key.get(k);
      const [id] = [...ids];
      if (stored === undefined) v(`key ${k} was acknowledged (transfer ${id}) but is not recorded: a retry would apply it again`);
      else if (stored.id !== id) v(`key ${k} is recorded with transfer ${stored.id}, but the client was told ${id}`);
    }

    // Claims: one per wallet and session, within max_claims, each the transfer a client was told.
    const claims = await sql<{ session_id: string; account_id: string; transfer_id: string }[]>`
      SELECT session_id::text, account_id::text, transfer_id::text FROM claims`;
    const claim_pairs = new Map<string, number>();
    for (const c of claims) {
      const pair = `${c.session_id}/${c.account_id}`;
      claim_pairs.set(pair, (claim_pairs.get(pair) ?? 0) + 1);
      if (acked.get(c.transfer_id)?.rec.kind !== 'claim') v(`claim of session ${c.session_id} by ${c.account_id} (transfer ${c.transfer_id}) was never acknowledged as a claim`);
    }
    for (const [pair, count] of claim_pairs) if (count > 1) v(`wallet claimed session ${pair} ${count} times`);
    const acked_claims = [...acked.values()].filter((a) => a.rec.kind === 'claim').length;
    if (acked_claims !== claims.length) v(`${acked_claims} claims acknowledged, ${claims.length} in the database`);
    const sessions = await sql<{ id: string; claims_count: number; max_claims: number; n: number }[]>`
      SELECT s.id::text, s.claims_count, s.max_claims,
             (SELECT count(*) FROM claims c WHERE c.currency_id = s.currency_id AND c.session_id = s.id)::int AS n
      FROM activity_sessions s`;
    for (const s of sessions) {
      if (s.claims_count !== s.n || s.n > s.max_claims) v(`session ${s.id}: claims_count ${s.claims_count}, ${s.n} claims, max ${s.max_claims}`);
    }

    // Payment requests: paid once, by the transfer the request names.
    const requests = await sql<{ id: string; status: string; transfer_id: string | null; paid: string[] }[]>`
      SELECT pr.id::text, pr.status, pr.transfer_id::text,
             coalesce((SELECT array_agg(t.id::text) FROM transfers t
                       WHERE t.currency_id = pr.currency_id AND t.metadata->>'payment_request_id' = pr.id::text), '{}') AS paid
      FROM payment_requests pr`;
    for (const r of requests) {
      const expected = r.status === 'paid' ? 1 : 0;
      if (r.paid.length !== expected || (expected === 1 && r.paid[0] !== r.transfer_id)) {
        v(`payment request ${r.id} (${r.status}, transfer ${r.transfer_id}) has payments ${JSON.stringify(r.paid)}`);
      }
    }

    // Refunds: never more than the payment, and the running total matches the refunds.
    const refunds = await sql<{ transfer_id: string; paid: bigint; refunded: bigint; total: bigint }[]>`
      SELECT rt.transfer_id::text, rt.paid, rt.refunded,
             (SELECT coalesce(sum(t.amount), 0)::bigint FROM transfers t
              WHERE t.currency_id = rt.currency_id AND t.code = 'refund' AND t.metadata->>'refund_of' = rt.transfer_id::text) AS total
      FROM refund_totals rt`;
    for (const r of refunds) {
      if (r.refunded !== r.total || r.total > r.paid) v(`payment ${r.transfer_id}: paid ${r.paid}, refund total recorded ${r.refunded}, refund transfers ${r.total}`);
    }
    const [orphans] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM transfers t WHERE t.code = 'refund'
        AND NOT EXISTS (SELECT 1 FROM refund_totals rt WHERE rt.currency_id = t.currency_id AND rt.transfer_id::text = t.metadata->>'refund_of')`;
    if ((orphans?.n ?? 0) > 0) v(`${orphans?.n} refunds without a refund total`);

    await this.checkLimits(sql);

    // Balances: sum 0, none below 0, equal to their entries, and to what the clients were told.
    const accounts = await sql<{ id: string; currency: string; kind: string; balance: bigint; pending: bigint; entries_total: bigint; entries: bigint; version: bigint }[]>`
      SELECT a.id::text, c.code AS currency, a.kind, a.credits_posted - a.debits_posted AS balance,
             a.credits_pending - a.debits_pending AS pending,
             coalesce(e.total, 0)::bigint AS entries_total, coalesce(e.n, 0)::bigint AS entries, a.version
      FROM accounts a JOIN currencies c ON c.id = a.currency_id
      LEFT JOIN (SELECT currency_id, account_id, sum(amount) AS total, count(*) AS n FROM entries GROUP BY 1, 2) e
        ON e.currency_id = a.currency_id AND e.account_id = a.id`;
    const expected_balance = new Map<string, bigint>();
    for (const body of [...this.world.seed_transfers, ...[...acked.values()].map((a) => a.body), ...expired.bodies]) {
      const minor = toMinor(body.amount, scaleOf.get(body.currency) ?? 0);
      expected_balance.set(body.credit_account, (expected_balance.get(body.credit_account) ?? 0n) + minor);
      expected_balance.set(body.debit_account, (expected_balance.get(body.debit_account) ?? 0n) - minor);
    }
    const sums = new Map<string, bigint>();
    for (const a of accounts) {
      sums.set(a.currency, (sums.get(a.currency) ?? 0n) + a.balance);
      if (a.pending !== 0n) v(`account ${a.id} has pending amounts (${a.pending}) though nothing pending was made`);
      if (a.kind !== 'issuance' && a.balance < 0n) v(`${a.kind} account ${a.id} is below 0: ${a.balance}`);
      if (a.entries_total !== a.balance || a.entries !== a.version) v(`account ${a.id}: balance ${a.balance} (version ${a.version}), entries sum to ${a.entries_total} (${a.entries})`);
      const told = expected_balance.get(a.id) ?? 0n;
      if (told !== a.balance) v(`${a.kind} account ${a.id} holds ${a.balance} but the acknowledged transfers give ${told}`);
    }
    for (const [code, sum] of sums) if (sum !== 0n) v(`${code} balances sum to ${sum}, not 0`);

    // Every acknowledged action has its audit record.
    const audited = await sql<{ id: string }[]>`
      SELECT DISTINCT coalesce(changes->>'transfer', changes->>'refund', object_id) AS id FROM audit_log
      WHERE action IN ('payment.pay', 'payment.pay_for', 'payment.charge', 'payment.refund', 'session.claim', 'transfer.issue', 'gift.give')`;
    const audited_ids = new Set(audited.map((a) => a.id));
    const unaudited = [...acked.values()].filter((a) => !audited_ids.has(a.body.id));
    if (unaudited.length > 0) {
      v(`${unaudited.length} acknowledged transfers have no audit record, e.g. ${unaudited.slice(0, 3).map((a) => `${a.body.id} (${a.rec.kind}, request #${a.rec.seq}, attempts ${a.rec.attempts.map((t) => t.status ?? t.error?.split(':')[0]).join(',')})`).join('; ')}`);
    }

    // Seals, then verify (in-process and through the API).
    for (const currency of await listCurrencies(sql)) {
      await sealCurrency(sql, currency);
      for (const result of await verifyCurrency(sql, currency)) {
        if (!result.ok) v(`verify ${currency.code}: ${result.name}: ${result.detail}`);
      }
      const api = await this.callUntilAnswered('GET', `/currencies/${currency.code}/verify`, { token: coordinator_token });
      if (api?.status !== 200 || api.body?.ok !== true) v(`GET /currencies/${currency.code}/verify: ${api?.status} ${JSON.stringify(api?.body).slice(0, 500)}`);
    }
    const [sealed] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM seals`;
    if ((sealed?.n ?? 0) === 0) v('no seals were made');

    // 5xx answers only while a fault was going on.
    for (const e of this.five_xx) {
      if (this.explanation(e) === undefined) {
        const logged = this.service.errors.filter((x) => (e.request_id !== null && x.request_id === e.request_id) || (x.at >= e.t0 - 1000 && x.at <= e.t1 + 1000));
        v(`${e.status} ${e.code ?? ''} from ${e.path} at ${new Date(e.t0).toISOString()} (request ${e.request_id}) with no fault going on; service errors then: ${JSON.stringify(logged.map((x) => x.message).slice(0, 3))}`);
      }
    }
    for (const exit of this.service.unexpected_exits) v(exit);
    return { acknowledged: acked.size, in_database: transfers.length };
  }

  /**
   * The expiry run's transfers: each made by the run under its key `expiry:<wallet>:<day>` and
   * audited, from a wallet with an aged lot to its currency's issuance account, at most one a
   * wallet and day, together never more than the aged lot. And they happened.
   */
  async checkExpiry(sql: Sql): Promise<ExpiredSeen> {
    const v = (m: string) => this.violation(m);
    const keys = await sql<{ key: string; id: string | null }[]>`
      SELECT key, response_body->>'transfer_id' AS id FROM idempotency_keys WHERE scope = 'system:expiry'`;
    const by_key = new Map(keys.map((k) => [k.key, k.id]));
    const rows = await sql<{ id: string; currency: string; debit: string; credit: string; amount: bigint; created_by: string; day: string | null; audited: boolean }[]>`
      SELECT t.id::text, c.code AS currency, t.debit_account_id::text AS debit, t.credit_account_id::text AS credit, t.amount,
             t.created_by, t.metadata->>'expired_on' AS day,
             EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'transfer.expire' AND a.object_id = t.id::text) AS audited
      FROM transfers t JOIN currencies c ON c.id = t.currency_id WHERE t.code = 'expiry'`;
    const issuance = new Map(this.world.currencies.map((c) => [c.code, c.issuance]));
    const scale = new Map(this.world.currencies.map((c) => [c.code, c.scale]));
    const taken = new Map<string, bigint>();
    const days = new Set<string>();
    for (const t of rows) {
      if (t.created_by !== 'system:expiry' || by_key.get(`expiry:${t.debit}:${t.day}`) !== t.id) v(`expiry transfer ${t.id} by ${t.created_by} is not recorded under its key expiry:${t.debit}:${t.day}`);
      if (!t.audited) v(`expiry transfer ${t.id} has no audit record`);
      if (t.credit !== issuance.get(t.currency) || !this.world.aged.has(t.debit)) v(`expiry transfer ${t.id} moves ${t.debit} → ${t.credit}: not an aged wallet to its issuance account`);
      if (days.has(`${t.debit} ${t.day}`)) v(`wallet ${t.debit} expired twice on ${t.day}`);
      days.add(`${t.debit} ${t.day}`);
      taken.set(t.debit, (taken.get(t.debit) ?? 0n) + t.amount);
    }
    for (const [wallet, amount] of taken) {
      const aged = this.world.aged.get(wallet) ?? 0n;
      if (amount > aged) v(`wallet ${wallet} lost ${amount} to expiry, more than its aged lot of ${aged}`);
    }
    if (this.world.aged.size > 0 && rows.length === 0) v('no coins expired: the expiry run never took an aged lot');
    this.expired = { transfers: rows.length, amount: [...taken.values()].reduce((a, b) => a + b, 0n) };
    return {
      ids: new Set(rows.map((t) => t.id)),
      bodies: rows.map((t) => ({
        id: t.id, currency: t.currency, debit_account: t.debit, credit_account: t.credit, code: 'expiry',
        amount: fromMinor(t.amount, scale.get(t.currency) ?? 0),
      })),
    };
  }

  /** Waits (at most expiry_settle_ms) until a run has taken every aged lot that is left: verify's expiry check passes. */
  async expirySettled(sql: Sql): Promise<void> {
    const deadline = Date.now() + expiry_settle_ms;
    for (const currency of await listCurrencies(sql)) {
      for (;;) {
        const checks = await verifyCurrency(sql, currency);
        if (checks.find((c) => c.name === 'coins_within_validity')?.ok === true || Date.now() > deadline) break;
        await sleep(250);
      }
    }
  }
}

/** What the expiry checks read: the expiry transfers (as transfer bodies, for the balances). */
interface ExpiredSeen {
  ids: Set<string>;
  bodies: TransferBody[];
}
class SnapshotViolation extends Error {}

interface LimitRow { currency: string; account: string; helper: string | null; counted: bigint; moved: bigint; over: number }

/** Runs the bank test and reports; violations are listed, not thrown. */
export async function runBank(options: BankOptions): Promise<BankReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const profile = options.profile;
  log(`bank test ${profile.name}: seed ${options.seed} (reproduce with BANK_SEED=${options.seed})`);
  const work_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-bank-'));
  // The postgres user (when running as root) must be able to enter it.
  await chmod(work_dir, 0o755);
  const log_file = createWriteStream(path.join(work_dir, 'service.log'));
  const pg = new PostgresUnderTest(path.join(work_dir, 'pg'));
  let service: ServiceProcess | undefined;
  let run: BankRun | undefined;
  let admin_sql: Sql | undefined;
  let report: BankReport | undefined;
  try {
    await pg.start();
    const bootstrap = postgres(pg.url('postgres'), { max: 1, onnotice: () => {} });
    await bootstrap`CREATE DATABASE bank`;
    await bootstrap.end();

    service = new ServiceProcess({
      ...process.env,
      ...relaxed_limits,
      PORT: '0', HOST: '127.0.0.1', DATABASE_URL: pg.url('bank'), DATA_DIR: path.join(work_dir, 'data'), METRICS_PORT: '0',
      // info: every request has its line, so the secrets check at the end searches real request logs.
      JWT_SECRET: jwt_secret, LOG_LEVEL: 'info', SCRYPT_COST_LOG2: '10', SEAL_INTERVAL_S: '1', EXPIRY_INTERVAL_S: '2',
      PIN_FAILURES_MAX: '20', DB_POOL_SIZE_MAX: '10', REQUEST_TIMEOUT_MS: '20000', SHUTDOWN_TIMEOUT_MS: '2000',
    }, log_file, options.service_root ?? root);
    run = new BankRun(options, pg, service);
    run.secret('JWT_SECRET', jwt_secret);
    run.secret('database password', decodeURIComponent(new URL(pg.url('bank')).password));
    const current = run;
    await run.http_proxy.listen();
    run.http_proxy.target = await service.start();
    service.on_restart = (port) => {
      current.http_proxy.target = port;
    };
    admin_sql = createSql({ url: pg.url('bank'), pool_size_max: 4, statement_timeout_ms: 60_000 });
    await run.seedWorld(admin_sql);
    log(`seeded: ${run.world.currencies.map((c) => `${c.code} ${c.wallets.length} wallets, ${c.shops.length} shops, ${c.sessions.length} sessions`).join('; ')}`);

    const plan = planFaults(options.seed, profile);
    log(`fault plan: ${plan.map((f) => `${f.kind}@${(f.at_ms / 1000).toFixed(1)}s`).join(', ')}`);
    run.http_proxy.chaos = profile.chaos;
    const workload_started = Date.now();
    const readers = Array.from({ length: profile.readers }, (_, i) => current.reader(i));
    const workers = Array.from({ length: profile.workers }, (_, w) => current.worker(w));
    const faults = run.runFaults(plan, workload_started);
    const progress = setInterval(() => {
      log(`  +${((Date.now() - workload_started) / 1000).toFixed(0)} s: ${current.records.length} requests, ${current.snapshots.ok} snapshots, ${current.violations.length} violations`);
    }, 10_000);
    try {
      await Promise.all([faults, sleep(profile.workload_ms)]);
      // Calm water: no more network trouble; the workers finish what they are doing.
      run.http_proxy.chaos = undefined;
      run.stop_workers = true;
      await Promise.all(workers);
    } finally {
      clearInterval(progress);
    }
    const workload_ms = Date.now() - workload_started;

    // Requests that never got an answer: ask again with the same key until they do.
    for (const rec of run.records.filter((r) => r.final === undefined)) {
      rec.resolved_late = true;
      await run.send(rec);
    }
    run.stop_readers = true;
    await Promise.all(readers);

    log('checking…');
    await run.expirySettled(admin_sql);
    const counts = await run.check(admin_sql, run.world.coordinator.token);
    const five_xx_by: Record<string, number> = {};
    for (const e of run.five_xx) {
      const why = current.explanation(e) ?? 'unexplained';
      five_xx_by[why] = (five_xx_by[why] ?? 0) + 1;
    }
    const requests_by_op: Record<string, number> = {};
    const outcomes: Record<string, number> = {};
    for (const rec of run.records) {
      requests_by_op[rec.op] = (requests_by_op[rec.op] ?? 0) + 1;
      const outcome = `${rec.kind} ${rec.final?.status ?? 'none'}${rec.final !== undefined && rec.final.status >= 300 ? ` ${rec.final.body?.code ?? ''}` : ''}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    const attempts = run.records.reduce((sum, r) => sum + r.attempts.length, 0);
    report = {
      seed: options.seed, profile: profile.name, duration_ms: 0, workload_ms,
      requests: run.records.length, requests_by_op, attempts, retries: attempts - run.records.length, other_attempts: run.other_attempts,
      resolved_late: run.records.filter((r) => r.resolved_late).length,
      retried_requests: run.records.filter((r) => r.attempts.length > 1).length,
      lost_answers_replayed: run.records.filter((r) => r.expect !== 'replay' && r.final?.replayed === true).length,
      outcomes: Object.fromEntries(Object.entries(outcomes).sort()),
      acknowledged_transfers: counts.acknowledged, transfers_in_database: counts.in_database,
      faults: { ...run.faults_injected, service_starts: service.starts },
      proxy: { ...run.http_proxy.stats },
      snapshots: { ...run.snapshots },
      five_xx: { total: run.five_xx.length, by_cause: five_xx_by },
      expired: { transfers: run.expired.transfers, amount: run.expired.amount.toString() },
      service_errors_logged: service.errors.length, service_log: { bytes: 0, request_lines: 0, secrets_checked: 0 },
      violations: run.violations, work_dir: undefined,
      slowest: run.records
        .filter((r) => r.attempts.length > 0)
        .map((r) => ({ r, ms: (r.attempts.at(-1)?.t1 ?? 0) - (r.attempts[0]?.t0 ?? 0) }))
        .sort((a, b) => b.ms - a.ms).slice(0, 8)
        .map(({ r, ms }) => ({
          seq: r.seq, op: r.op, kind: r.kind, key: r.key, ms,
          attempts: r.attempts.map((a) => `+${a.t0 - (r.attempts[0]?.t0 ?? 0)}ms ${a.t1 - a.t0}ms ${a.status ?? ''} ${a.code ?? a.error ?? ''}`.trim()),
        })),
    };
    for (const [kind, count] of Object.entries(profile.faults) as Array<[FaultKind, number]>) {
      if (run.faults_injected[kind] !== count) run.violation(`planned ${count} ${kind} faults, injected ${run.faults_injected[kind]}`);
    }
  } catch (error) {
    const message = `the run broke off: ${error instanceof Error ? error.stack ?? error.message : String(error)}`;
    if (run !== undefined) run.violation(message);
    report = {
      seed: options.seed, profile: profile.name, duration_ms: 0, workload_ms: 0, requests: run?.records.length ?? 0, requests_by_op: {},
      attempts: 0, retries: 0, other_attempts: 0, resolved_late: 0, retried_requests: 0, lost_answers_replayed: 0, outcomes: {}, acknowledged_transfers: 0, transfers_in_database: 0,
      faults: { ...(run?.faults_injected ?? { server_kill: 0, pg_restart_fast: 0, pg_restart_immediate: 0, pg_terminate: 0, db_tcp_cut: 0, pg_backends_terminated: 0, db_connections_cut: 0 }), service_starts: service?.starts ?? 0 },
      proxy: run?.http_proxy.stats ?? { connections: 0, refused: 0, delayed_chunks: 0, cut_requests: 0, cut_responses: 0, cut_all: 0 },
      snapshots: run?.snapshots ?? { ok: 0, deep: 0, failed: 0 }, five_xx: { total: 0, by_cause: {} }, expired: { transfers: 0, amount: '0' },
      service_errors_logged: service?.errors.length ?? 0, service_log: { bytes: 0, request_lines: 0, secrets_checked: 0 }, violations: run?.violations ?? [message], slowest: [], work_dir: undefined,
    };
  } finally {
    if (run !== undefined) {
      run.stop_workers = true;
      run.stop_readers = true;
    }
    if (service !== undefined) {
      service.on_restart = undefined;
      await service.stop().catch(() => {});
    }
    await admin_sql?.end({ timeout: 1 }).catch(() => {});
    await run?.http_proxy.close().catch(() => {});
    await pg.stop().catch(() => {});
    // Everything every service process printed, to its last line, then flushed to the file.
    await service?.drained();
    await new Promise<void>((resolve) => log_file.end(() => resolve()));
  }
  // Secrets: none of the PINs, passwords, tokens, pairing codes or keys the run used is in the log.
  if (run !== undefined) report.service_log = await run.checkLog(path.join(work_dir, 'service.log'));
  report.duration_ms = Date.now() - started;
  if (report.violations.length > 0 || options.keep_work_dir === true) {
    report.work_dir = work_dir;
    await writeFile(path.join(work_dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (service !== undefined && report.violations.length > 0) log(`service log tail:\n${maskSecrets(service.tail(40), [...(run?.secrets.values() ?? [])])}`);
  } else {
    await rm(pg.handle?.clusterDir ?? path.join(work_dir, 'pg'), { recursive: true, force: true });
    await rm(work_dir, { recursive: true, force: true });
  }
  return report;
}
