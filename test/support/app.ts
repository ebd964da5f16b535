import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createTestDatabase } from './db-harness.js';
import { createSql } from '../../src/db/client.js';
import type { Sql } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/http/metrics.js';
import type { AppDeps } from '../../src/http/context.js';
import { insertUser } from '../../src/db/users.js';
import { hashSecret } from '../../src/security/passwords.js';
import type { TokenKeys } from '../../src/security/tokens.js';

/** scrypt cost for tests: real hashing, just cheap. */
const test_scrypt_cost_log2 = 10;

/**
 * In-process requests have no client address, so every test of a file shares one rate-limit
 * key: the limits are out of the way unless a test sets them (test/rate-limit.test.ts).
 */
const relaxed_rate_limits: Record<string, string> = {
  LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
  LOGIN_FAILURES_PER_EMAIL_PER_MINUTE_MAX: '1000000',
  PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
  PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000000',
};

export interface Reply {
  status: number;
  headers: Headers;
  // Tests read whatever JSON came back.
  body: any;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Raw body text, sent as is (for malformed JSON). */
  raw?: string;
  headers?: Record<string, string>;
  idempotencyKey?: string;
}

export interface TestApp {
  sql: Sql;
  deps: AppDeps;
  /** The app itself, for raw requests (e.g. reading a server-sent event stream). */
  app: ReturnType<typeof createApp>;
  /** URL of the app's database, for a second app on the same data (see TestAppOptions). */
  database_url: string;
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  /** Logs in a fresh admin and returns its token. */
  adminToken: string;
  createStaff(role: 'admin' | 'coordinator', currencies: number[]): Promise<{ email: string; token: string }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /**
   * Run on this existing database instead of a fresh one (a "restart" of the service on the
   * same data). The database is then not dropped by close(): its creator does that.
   */
  database_url?: string;
  /** Token signing keys to reuse (a restarted service keeps its key), else a fresh one. */
  keys?: TokenKeys;
}

/** A migrated database of its own and the app on it, with an admin logged in. */
export async function createTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database_url === undefined
    ? await createTestDatabase()
    : { url: options.database_url, drop: async () => {} };
  const sql = createSql({ url: database.url, pool_size_max: 30, statement_timeout_ms: 30_000 });
  await migrate(sql);
  const config = loadConfig({ SCRYPT_COST_LOG2: String(test_scrypt_cost_log2), LOG_LEVEL: 'silent', ...relaxed_rate_limits, ...env });
  const keys: TokenKeys = options.keys
    ?? { current_kid: 'test', keys: new Map([['test', new Uint8Array(randomBytes(32))]]) };
  const deps: AppDeps = {
    sql, config, keys, // Errors (5xx) are printed by default: a failing test then shows what went wrong inside.
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'error' }), metrics: createMetrics(false), lifecycle: { shutting_down: false },
  };
  const app = createApp(deps);

  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    if (options.idempotencyKey !== undefined) headers['Idempotency-Key'] = options.idempotencyKey;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const response = await app.request(path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON (metrics, HTML): the text itself.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  const createStaff = async (role: 'admin' | 'coordinator', currencies: number[]) => {
    const email = `${role}-${randomBytes(4).toString('hex')}@example.org`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await insertUser(sql, { email, role, currency_ids: currencies, password_hash: await hashSecret(password, test_scrypt_cost_log2) });
    const login = await request('POST', '/api/v1/auth/login', { body: { email, password } });
    if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
    return { email, token: login.body.token as string };
  };

  const admin = await createStaff('admin', []);
  return {
    app,
    sql, deps, database_url: database.url, request, adminToken: admin.token, createStaff,
    close: async () => {
      await sql.end({ timeout: 5 });
      await database.drop();
    },
  };
}

let key_counter = 0;
/** A fresh Idempotency-Key. */
export function newKey(): string {
  key_counter += 1;
  return `key-${key_counter}-${randomBytes(6).toString('hex')}`;
}
