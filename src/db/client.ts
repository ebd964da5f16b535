import postgres from 'postgres';

export type Sql = postgres.Sql<{ bigint: bigint }>;
/** A transaction or the pool: anything that runs a query. */
export type Queryable = Sql | postgres.TransactionSql<{ bigint: bigint }>;

export interface SqlOptions {
  url: string;
  pool_size_max: number;
  /** Statement timeout, so no request can hold a connection for ever. */
  statement_timeout_ms: number;
}

/**
 * The one postgres.js client. int8 is mapped to bigint here, once, so money never passes
 * through a JavaScript number; numeric stays a string.
 */
export function createSql(options: SqlOptions): Sql {
  return postgres(options.url, {
    max: options.pool_size_max,
    types: { bigint: postgres.BigInt },
    onnotice: () => {},
    connection: {
      application_name: 'wijkmunt',
      statement_timeout: options.statement_timeout_ms,
    },
  });
}

const retryable_states = new Set(['40001', '40P01']);
const retry_attempts_max = 5;

/**
 * Runs `fn` in a READ COMMITTED transaction, retrying a bounded number of times on
 * serialization failures and deadlocks (both leave nothing written).
 */
export async function transaction<T>(sql: Sql, fn: (tx: postgres.TransactionSql<{ bigint: bigint }>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await sql.begin((tx) => fn(tx))) as T;
    } catch (error) {
      const state = (error as { code?: string }).code;
      if (attempt >= retry_attempts_max || state === undefined || !retryable_states.has(state)) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
