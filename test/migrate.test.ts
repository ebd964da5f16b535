import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/db-harness.js';
import type { TestDatabase } from './support/db-harness.js';
import { createSql } from '../src/db/client.js';
import type { Sql } from '../src/db/client.js';
import { loadMigrations, migrate } from '../src/db/migrate.js';

let database: TestDatabase | undefined;
let sql: Sql | undefined;

async function fresh(): Promise<Sql> {
  database = await createTestDatabase();
  sql = createSql({ url: database.url, pool_size_max: 4, statement_timeout_ms: 30_000 });
  return sql;
}

afterEach(async () => {
  await sql?.end({ timeout: 5 });
  await database?.drop();
  sql = undefined;
  database = undefined;
});

describe('migrations', () => {
  it('apply every file once, in order, and record each', async () => {
    const db = await fresh();
    const files = await loadMigrations();
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(await migrate(db)).toEqual(files.map((m) => m.name));
    expect(await migrate(db)).toEqual([]);
    const rows = await db<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
    expect(rows.map((r) => r.version)).toEqual(files.map((m) => m.version));
  });

  it('two processes migrating at once apply each migration once', async () => {
    const db = await fresh();
    const other = createSql({ url: database!.url, pool_size_max: 2, statement_timeout_ms: 30_000 });
    try {
      const [a, b] = await Promise.all([migrate(db), migrate(other)]);
      expect([...a, ...b].sort()).toEqual((await loadMigrations()).map((m) => m.name).sort());
    } finally {
      await other.end({ timeout: 5 });
    }
  });

  it('refuse a database that knows a newer migration', async () => {
    const db = await fresh();
    await migrate(db);
    await db`INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, '9999_from_the_future', 'x')`;
    await expect(migrate(db)).rejects.toThrow(/9999_from_the_future, unknown to this version/);
  });

  it('refuse a migration edited after it was applied', async () => {
    const db = await fresh();
    const files = await loadMigrations();
    await migrate(db, files);
    const edited = files.map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await expect(migrate(db, edited)).rejects.toThrow(/was changed after it was applied/);
  });

  it('roll back a failing migration entirely', async () => {
    const db = await fresh();
    const files = await loadMigrations();
    await migrate(db, files);
    const broken = { version: 9000, name: '9000_broken', sql: 'CREATE TABLE half_done (id int); SELECT 1/0;', checksum: 'b' };
    await expect(migrate(db, [...files, broken])).rejects.toThrow(/division by zero/);
    const [table] = await db`SELECT to_regclass('half_done') AS t`;
    expect(table?.t).toBeNull();
    const [recorded] = await db`SELECT count(*)::int AS n FROM schema_migrations WHERE version = 9000`;
    expect(recorded?.n).toBe(0);
  });
});
