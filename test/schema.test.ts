/**
 * src/db/schema.sql is the schema the migrations make, read back from the catalogue: the test
 * fails as soon as a migration changes the schema and the file was not regenerated.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/db-harness.js';
import type { TestDatabase } from './support/db-harness.js';
import { createSql } from '../src/db/client.js';
import type { Sql } from '../src/db/client.js';
import { describeSchema, schemaFilePath } from '../src/db/catalogue.js';
import { migrate } from '../src/db/migrate.js';

/** Lines of context shown around the first difference. */
const diff_context_lines = 3;
/** Changed lines shown at most, of each side. */
const diff_lines_max = 12;

const opened: { database: TestDatabase; sql: Sql }[] = [];

async function fresh(): Promise<Sql> {
  const database = await createTestDatabase();
  const sql = createSql({ url: database.url, pool_size_max: 2, statement_timeout_ms: 30_000 });
  opened.push({ database, sql });
  return sql;
}

async function migrated(): Promise<Sql> {
  const sql = await fresh();
  await migrate(sql);
  return sql;
}

/**
 * Where two texts differ: the lines from the first to the last difference, as `-` (committed)
 * and `+` (generated) lines, with a few lines of context around them.
 */
function firstDifference(committed: string, generated: string): string {
  const old_lines = committed.split('\n');
  const new_lines = generated.split('\n');
  let at = 0;
  while (at < old_lines.length && at < new_lines.length && old_lines[at] === new_lines[at]) at++;
  let old_end = old_lines.length;
  let new_end = new_lines.length;
  while (old_end > at && new_end > at && old_lines[old_end - 1] === new_lines[new_end - 1]) {
    old_end--;
    new_end--;
  }
  const changed = (lines: string[], end: number, mark: string): string[] => {
    const shown = lines.slice(at, Math.min(end, at + diff_lines_max)).map((line) => `${mark} ${line}`);
    return end - at > diff_lines_max ? [...shown, `${mark} … ${end - at - diff_lines_max} more lines`] : shown;
  };
  return [
    `first difference at line ${at + 1}:`,
    ...old_lines.slice(Math.max(0, at - diff_context_lines), at).map((line) => `  ${line}`),
    ...changed(old_lines, old_end, '-'),
    ...changed(new_lines, new_end, '+'),
    ...new_lines.slice(new_end, new_end + diff_context_lines).map((line) => `  ${line}`),
  ].join('\n');
}

let migrated_schema: string;

beforeAll(async () => {
  migrated_schema = await describeSchema(await migrated());
});

afterAll(async () => {
  for (const { database, sql } of opened) {
    await sql.end({ timeout: 5 });
    await database.drop();
  }
});

describe('src/db/schema.sql', () => {
  it('is what the migrations make', async () => {
    const committed = await readFile(schemaFilePath(), 'utf8').catch(() => '');
    if (committed !== migrated_schema) {
      expect.fail(`src/db/schema.sql is out of date: run npm run schema\n${firstDifference(committed, migrated_schema)}`);
    }
  });

  it('creates, run on an empty database, the very schema it describes', async () => {
    const committed = await readFile(schemaFilePath(), 'utf8');
    const sql = await fresh();
    await sql.unsafe(committed);
    expect(await describeSchema(sql)).toBe(committed);
  });
});

describe('describeSchema', () => {
  it('gives the same text for the same schema', async () => {
    expect(await describeSchema(await migrated())).toBe(migrated_schema);
  });

  it('shows a change the migrations did not make', async () => {
    const sql = await migrated();
    await sql`ALTER TABLE accounts ADD COLUMN nickname text DEFAULT 'none' CHECK (length(nickname) <= 20)`;
    await sql`CREATE TABLE probes (id integer PRIMARY KEY, account_id uuid NOT NULL)`;
    await sql`CREATE INDEX probes_by_account ON probes (account_id)`;
    const changed = await describeSchema(sql);
    expect(changed).not.toBe(migrated_schema);
    expect(changed).toMatch(/^ {2}nickname +text DEFAULT 'none'::text,$/m);
    expect(changed).toContain('CONSTRAINT accounts_nickname_check');
    expect(changed).toMatch(/^CREATE TABLE probes \(\n {2}id +integer NOT NULL,\n {2}account_id +uuid NOT NULL,\n {2}CONSTRAINT probes_pkey +PRIMARY KEY \(id\)\n\);$/m);
    expect(changed).toContain('CREATE INDEX probes_by_account ON probes USING btree (account_id);');
    expect(firstDifference(migrated_schema, changed)).toMatch(/^\+ {3}nickname/m);
  });

  it('refuses a schema with objects it does not render, naming them', async () => {
    const sql = await migrated();
    await sql`CREATE VIEW probe_view AS SELECT 1 AS one`;
    await sql`CREATE SEQUENCE probe_sequence`;
    await expect(describeSchema(sql)).rejects.toThrow(/does not render sequence probe_sequence, view probe_view/);
  });
});
