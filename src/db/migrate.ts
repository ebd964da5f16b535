import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from './client.js';
import { projectRoot } from '../paths.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir = path.join(projectRoot(), 'migrations')): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number.parseInt(file.slice(0, 4), 10),
      name: file.replace(/\.sql$/, ''),
      sql: text,
      checksum: createHash('sha256').update(text).digest('hex'),
    });
  }
  return migrations;
}

/** Arbitrary constant: the advisory lock that keeps two migrating processes apart. */
const migrate_lock_id = 7_406_001;

/**
 * Applies every migration not applied yet, each in its own transaction, recorded in
 * schema_migrations. Refuses a database that knows newer migrations than this code, or whose
 * applied migrations were edited since.
 */
export async function migrate(sql: Sql, migrations?: Migration[]): Promise<string[]> {
  const known = migrations ?? (await loadMigrations());
  const applied_names: string[] = [];
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${migrate_lock_id})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`;
    const applied = await tx<{ version: number; name: string; checksum: string }[]>`
      SELECT version, name, checksum FROM schema_migrations ORDER BY version`;
    const by_version = new Map(known.map((m) => [m.version, m]));
    for (const row of applied) {
      const mine = by_version.get(row.version);
      if (mine === undefined) {
        throw new Error(`database has migration ${row.name}, unknown to this version of Wijkmunt: refusing to start`);
      }
      if (mine.checksum !== row.checksum) {
        throw new Error(`migration ${row.name} was changed after it was applied: refusing to start`);
      }
    }
    const done = new Set(applied.map((r) => r.version));
    for (const m of known) {
      if (done.has(m.version)) continue;
      await tx.savepoint(async (sp) => {
        await sp.unsafe(m.sql);
        await sp`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${m.checksum})`;
      });
      applied_names.push(m.name);
    }
  });
  return applied_names;
}
