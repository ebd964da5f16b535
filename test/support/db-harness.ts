/** Per-test databases on the server provided by test/global-setup.ts. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
// Type-only: brings in the ProvidedContext augmentation that types inject().
import type {} from '../global-setup.js';

/** A database of its own for one test (file). */
export interface TestDatabase {
  /** postgres:// URL of the new database. */
  url: string;
  /** Drops the database, terminating connections the caller left open. */
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named database `wm_test_<random>`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `wm_test_${randomBytes(8).toString('hex')}`;
  await withAdmin(adminUrl, (sql) => sql`CREATE DATABASE ${sql(name)} TEMPLATE template0`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin(adminUrl, (sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`),
  };
}

async function withAdmin(adminUrl: string, run: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await run(sql);
  } finally {
    await sql.end();
  }
}
