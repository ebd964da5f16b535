import path from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createSql } from './db/client.js';
import type { Sql } from './db/client.js';
import { EmbeddedPostgresUnavailableError, startEmbeddedPostgres } from './db/embedded.js';
import { migrate } from './db/migrate.js';

/** A connected, migrated database, and how to let go of it. */
export interface Database {
  sql: Sql;
  /** Where it runs, with the password hidden, for humans. */
  description: string;
  close(): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'wijkmunt' },
    // Belt and braces: handlers never log bodies or headers, but should one ever try.
    redact: { paths: ['password', 'pin', 'token', '*.password', '*.pin', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  // Written asynchronously: a line waits only for the write in progress, and lines logged
  // meanwhile leave together. Synchronous writes, one per request, cost the service a tenth of
  // its CPU under load. pino flushes what is left when the process exits.
  }, pino.destination({ dest: 1, sync: false }));
}

/**
 * What to say when there is no DATABASE_URL and no embedded PostgreSQL to fall back on, as in
 * the container image (which leaves the embedded binaries out): what to set first, then why.
 */
function databaseUrlMissing(reason: string): string {
  return 'set DATABASE_URL to the PostgreSQL server to use (15 or newer), e.g. '
    + 'DATABASE_URL=postgres://wijkmunt:PASSWORD@db.example.org:5432/wijkmunt. '
    + `DATABASE_URL is not set, and ${reason}; the embedded PostgreSQL is for development only.`;
}

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL in DATA_DIR when there is none;
 * then applies pending migrations.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  let url = config.DATABASE_URL;
  let stopEmbedded = async () => {};
  let description = 'PostgreSQL at DATABASE_URL';
  if (url === undefined) {
    const data_dir = path.resolve(config.DATA_DIR);
    const embedded = await startEmbeddedPostgres({
      dataDir: data_dir,
      onLog: (line) => logger.debug({ postgres: line.trim() }, 'embedded postgres'),
    }).catch((error: unknown) => {
      if (error instanceof EmbeddedPostgresUnavailableError) throw new Error(databaseUrlMissing(error.message), { cause: error });
      throw error;
    });
    // Through the server's Unix socket when it has one: less CPU per statement than loopback TCP.
    url = embedded.socketUrl ?? embedded.url;
    stopEmbedded = () => embedded.stop();
    const through = embedded.socketUrl === undefined ? 'TCP' : 'its Unix socket';
    description = `embedded PostgreSQL on 127.0.0.1:${embedded.port} (used through ${through}), data in ${embedded.clusterDir}`;
  }
  const sql = createSql({ url, pool_size_max: config.DB_POOL_SIZE_MAX, statement_timeout_ms: config.DB_STATEMENT_TIMEOUT_MS });
  try {
    const applied = await migrate(sql);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
  } catch (error) {
    await sql.end({ timeout: 5 });
    await stopEmbedded();
    throw error;
  }
  return {
    sql,
    description,
    close: async () => {
      await sql.end({ timeout: 5 });
      await stopEmbedded();
    },
  };
}
