/**
 * Writes src/db/schema.sql: the schema the migrations make, read from the catalogue of a fresh
 * database (src/db/catalogue.ts), so the current tables, functions and triggers can be read in
 * one file. test/schema.test.ts fails while the committed file is out of date.
 *
 *   npm run schema
 *
 * The fresh database is made on the server of TEST_DATABASE_URL, else of DATABASE_URL (its user
 * must be allowed to create databases; the database named in the URL is not touched), else on
 * an embedded PostgreSQL started for the run, and dropped afterwards.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeSchema, schemaFilePath, withScratchDatabase } from '../src/db/catalogue.js';
import { createSql } from '../src/db/client.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';

/** A PostgreSQL server to make the fresh database on, and how to let go of it. */
interface Server {
  url: string;
  release(): Promise<void>;
}

async function server(): Promise<Server> {
  const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (given) return { url: given, release: async () => {} };
  // As test/global-setup.ts does: a throw-away cluster the postgres user may keep in the folder.
  const data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-schema-pg-'));
  await chmod(data_dir, 0o755);
  const embedded = await startEmbeddedPostgres({
    dataDir: data_dir,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  return {
    url: embedded.url,
    release: async () => {
      await embedded.stop();
      await rm(embedded.clusterDir, { recursive: true, force: true });
      await rm(data_dir, { recursive: true, force: true });
    },
  };
}

async function describeMigrated(server_url: string): Promise<{ schema: string; applied: string[] }> {
  return withScratchDatabase(server_url, async (url) => {
    const sql = createSql({ url, pool_size_max: 1, statement_timeout_ms: 60_000 });
    try {
      const applied = await migrate(sql);
      return { schema: await describeSchema(sql), applied };
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
}

const target = schemaFilePath();
const pg = await server();
let described: { schema: string; applied: string[] };
try {
  described = await describeMigrated(pg.url);
} finally {
  await pg.release();
}
const previous = await readFile(target, 'utf8').catch(() => undefined);
const shown = path.relative(process.cwd(), target);
if (previous === described.schema) {
  process.stdout.write(`${shown} is up to date (migrations up to ${described.applied.at(-1) ?? 'none'})\n`);
} else {
  await writeFile(target, described.schema);
  process.stdout.write(`wrote ${shown} (migrations up to ${described.applied.at(-1) ?? 'none'})\n`);
}
