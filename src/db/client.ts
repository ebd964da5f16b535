import postgres from 'postgres';

export type Sql = postgres.Sql<{ bigint: bigint }>;
/** A transaction or the pool: anything that runs a query. */
export type Queryable = Sql | postgres.TransactionSql<{ bigint: bigint }>;
export type TransactionSql = postgres.TransactionSql<{ bigint: bigint }>;

export interface SqlOptions {
  url: string;
  pool_size_max: number;
  /** Statement timeout, so no request can hold a connection for ever. */
  statement_timeout_ms: number;
}

/**
 * Seconds to wait before reconnecting a connection that closed with an error, by the number of
 * such closes in the pool since the last successful connect: 25 ms doubling up to 1 s. The
 * driver's default (3^n / 100 s up to 20 s, with n counted across the whole pool) kept every
 * connection away for 5–20 s after a PostgreSQL restart of under a second (the bank test).
 */
function reconnectBackoff(retries: number): number {
  return Math.min(0.025 * 2 ** retries, 1) * (0.5 + Math.random() / 2);
}

/** A connection URL as postgres.js takes it, and the Unix socket to connect through, if any. */
export interface ConnectionTarget {
  url: string;
  /** `<folder>/.s.PGSQL.<port>`: the server's Unix socket (postgres.js's `path` option). */
  path?: string;
}

/**
 * Reads a PostgreSQL URL the way libpq does for a local server: a `host` query parameter that
 * names a folder (`postgres://wijkmunt:PASSWORD@localhost:5433/wijkmunt?host=/run/postgresql`)
 * connects through the Unix socket in that folder for the URL's port (5432 if none). postgres.js
 * itself would pass the parameter on to the server as a setting, so it is taken out of the URL.
 */
export function connectionTarget(url: string): ConnectionTarget {
  const parsed = new URL(url);
  const host = parsed.searchParams.get('host');
  if (host === null || !host.startsWith('/')) return { url };
  parsed.searchParams.delete('host');
  return { url: parsed.toString(), path: `${host.replace(/\/+$/, '')}/.s.PGSQL.${parsed.port === '' ? '5432' : parsed.port}` };
}

/**
 * The one postgres.js client. int8 is mapped to bigint here, once, so money never passes
 * through a JavaScript number; numeric stays a string.
 */
export function createSql(options: SqlOptions): Sql {
  const { url, ...socket } = connectionTarget(options.url);
  return postgres(url, {
    max: options.pool_size_max,
    ...socket,
    types: { bigint: postgres.BigInt },
    onnotice: () => {},
    backoff: reconnectBackoff,
    // A connect that hangs is given up after 10 s (default 30 s), so a request waits less for it.
    connect_timeout: 10,
    connection: {
      application_name: 'wijkmunt',
      statement_timeout: options.statement_timeout_ms,
    },
  });
}

const retryable_states = new Set(['40001', '40P01']);
const retry_attempts_max = 5;

/**
 * Runs `attempt` (a whole transaction), again a bounded number of times when it failed with a
 * serialization failure or a deadlock (both leave nothing written).
 */
export async function retried<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const state = (error as { code?: string }).code;
      if (n >= retry_attempts_max || state === undefined || !retryable_states.has(state)) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * n));
    }
  }
}

/** Runs `fn` in a READ COMMITTED transaction, retried on serialization failures and deadlocks. */
export async function transaction<T>(sql: Sql, fn: (tx: postgres.TransactionSql<{ bigint: bigint }>) => Promise<T>): Promise<T> {
  return retried(() => beginGuarded(sql, fn));
}

/**
 * Errors after which a connection is gone: closed or reset under the client, or ended by the
 * server (FATAL: terminated by an administrator, crash or shutdown, idle timeouts).
 */
const connection_lost_codes = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT',
  '57P01', '57P02', '57P05', '25P03',
]);

export function isConnectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && (connection_lost_codes.has(code) || code.startsWith('08'));
}

/** How long a failed transaction waits to see whether its own connection is the one lost. */
const connection_close_wait_ms = 2_000;

/**
 * sql.begin without a crash of postgres.js 3.4.9 (porsager/postgres#1208): when the callback
 * fails, begin() writes ROLLBACK on the transaction's connection; when that connection is
 * already gone, the write goes to a null socket from a setImmediate, and the TypeError ends the
 * whole process (and if the connection has reconnected meanwhile, the ROLLBACK lands on its
 * new session). So when the callback fails because a connection was lost, it waits for begin()
 * to reject, which it does as soon as its own connection closes (the server then rolls the
 * transaction back by itself), and leaves the callback unsettled, so nothing more is written
 * to that connection. If begin() does not reject, the lost connection was another one, and the
 * transaction rolls back as usual.
 */
function beginGuarded<T>(sql: Sql, fn: (tx: postgres.TransactionSql<{ bigint: bigint }>) => Promise<T>): Promise<T> {
  let ended: Promise<boolean> | undefined;
  const begun = sql.begin((tx) => fn(tx).catch(async (error: unknown) => {
    if (!isConnectionLost(error) || ended === undefined) throw error;
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      ended,
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), connection_close_wait_ms); }),
    ]);
    clearTimeout(timer);
    if (gone) return new Promise<never>(() => {});
    throw error;
  })) as Promise<T>;
  ended = begun.then(() => true, () => true);
  return begun;
}

/** Whether the database answers (for /readyz); rejects when it does not. */
export async function ping(sql: Sql): Promise<void> {
  await sql`SELECT 1`;
}
