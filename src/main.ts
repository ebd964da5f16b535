import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { loadConfig, scrubSecrets } from './config.js';
import type { Config } from './config.js';
import { createLogger, openDatabase } from './service.js';
import type { Database } from './service.js';
import type { Logger } from 'pino';
import { isConnectionLost } from './db/client.js';
import { listCurrencies } from './db/ledger.js';
import { hasActiveAdmin } from './db/users.js';
import { sealCurrency, transactionIdsBehindSeals } from './db/seals.js';
import { createBatcher } from './db/batch.js';
import { expireAll } from './app/expiry.js';
import { runRetention } from './app/retention.js';
import { createApp } from './http/app.js';
import { createMetrics, createMetricsApp } from './http/metrics.js';
import type { Metrics } from './http/metrics.js';
import { loadTokenKeys } from './security/keys.js';

/**
 * Runs the service: configuration, database (embedded or DATABASE_URL), migrations, HTTP.
 * SIGTERM / SIGINT: /readyz turns 503, in-flight requests finish, then the database stops.
 */
export async function runService(): Promise<void> {
  const config = loadConfig();
  scrubSecrets();
  const logger = createLogger(config);
  keepRunningOnLostConnections(logger);
  const database = await openDatabase(config, logger);
  // Writing now would put new transfers into sealed history, which cannot be undone.
  const behind = await transactionIdsBehindSeals(database.sql);
  if (behind !== undefined) {
    await database.close();
    throw new Error(`refusing to start: ${behind}`);
  }
  const keys = await loadTokenKeys(config.JWT_SECRET, config.JWT_SECRETS_PREVIOUS, config.DATA_DIR);
  const lifecycle = { shutting_down: false };
  const metrics = createMetrics(true);
  const app = createApp({ sql: database.sql, config, keys, logger, metrics, lifecycle });
  const metrics_listener = await startMetricsListener(config, metrics).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });

  const server = startHttp(app.fetch, config);
  await listening(server);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  logger.info({ port, metrics: metrics_listener.description, database: database.description }, 'listening');
  await printBanner(database, port, metrics_listener.description);

  const sealer = startSealer(database, config.SEAL_INTERVAL_S, logger);
  const expirer = startExpiry(database, config, metrics, logger);
  const pruner = startRetention(database, config, logger);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.shutting_down = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const forced = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearTimeout(forced);
    await metrics_listener.close();
    await expirer.stop();
    await pruner.stop();
    await sealer.stop();
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The HTTP listener of the API and the web client, with the request time limits. */
function startHttp(fetch: Parameters<typeof serve>[0]['fetch'], config: Config): Server {
  return serve({
    fetch, port: config.PORT, hostname: config.HOST,
    // The whole request, headers and body, must arrive within the request time limit: a client
    // trickling bytes cannot hold a connection open longer (the handler has the same limit).
    serverOptions: {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(60_000, config.REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.REQUEST_TIMEOUT_MS / 4))),
    },
  }) as Server;
}

/** What the service tells whoever started it: where it listens, and how to make the first admin. */
async function printBanner(database: Database, port: number, metrics: string): Promise<void> {
  // Told only while nobody can log in to the console yet.
  const first_admin = await hasActiveAdmin(database.sql)
    ? []
    : ['Create the first admin (in another terminal):',
      '  npm run create-admin -- --email you@example.org --password \'a long password\''];
  process.stdout.write([
    '',
    `Wijkmunt listens on http://localhost:${port}  (API: /api/v1, docs: /api/docs)`,
    `Database: ${database.description}`,
    `Metrics: ${metrics}`,
    ...first_admin,
    '',
  ].join('\n'));
}

function listening(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
}

/**
 * The listener of /metrics when no METRICS_TOKEN puts it on the main listener: at
 * METRICS_HOST:METRICS_PORT (loopback by default), or none when METRICS_PORT is 0. An address
 * already taken stops the start, as for the main port: monitoring should not go missing quietly.
 */
async function startMetricsListener(config: Config, metrics: Metrics): Promise<{ description: string; close(): Promise<void> }> {
  if (config.METRICS_TOKEN !== undefined) {
    return { description: '/metrics on this listener, with Authorization: Bearer <METRICS_TOKEN>', close: async () => {} };
  }
  if (config.METRICS_PORT === 0) return { description: 'off (METRICS_PORT=0)', close: async () => {} };
  const server = serve({ fetch: createMetricsApp(metrics).fetch, port: config.METRICS_PORT, hostname: config.METRICS_HOST }) as Server;
  try {
    await listening(server);
  } catch (error) {
    server.close();
    throw new Error(`the metrics listener cannot use ${config.METRICS_HOST}:${config.METRICS_PORT} `
      + `(${error instanceof Error ? error.message : String(error)}); set METRICS_PORT to a free port, or 0 for no metrics`);
  }
  const host = config.METRICS_HOST.includes(':') ? `[${config.METRICS_HOST}]` : config.METRICS_HOST;
  return {
    description: `http://${host}:${config.METRICS_PORT}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * postgres.js 3.4.9 let the error of a connection lost during its own startup query (the array
 * types it fetches on each new connection) escape as an unhandled rejection, which would end the
 * process (porsager/postgres#1192, #1223): a PostgreSQL restart or a terminated backend at the
 * wrong moment. patches/postgres+3.4.9.patch now keeps that error with the connection; should a
 * lost connection's error escape another way, it concerns no request (each request's queries fail
 * or succeed on their own), so it is logged; any other unhandled rejection still ends the process.
 */
function keepRunningOnLostConnections(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (!isConnectionLost(reason)) throw reason;
    logger.error({ err: reason }, 'database connection lost (an error the database driver left unhandled)');
  });
}

/**
 * Seals new transfers of every currency at an interval. Several processes may run it: the
 * per-currency advisory lock lets one seal at a time, the others find nothing new.
 */
function startSealer(database: Database, interval_s: number, logger: Logger): { stop(): Promise<void> } {
  if (interval_s === 0) return { stop: async () => {} };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = (async () => {
      for (const currency of await listCurrencies(database.sql)) {
        const seal = await sealCurrency(database.sql, currency);
        if (seal !== undefined) logger.info({ currency: currency.code, seq: seal.seq.toString(), transfers: seal.transfers_count.toString() }, 'sealed');
      }
    })().catch((error: unknown) => logger.error({ err: error }, 'sealing failed'));
  }, interval_s * 1000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Runs the expiry of coins at start and then at an interval (EXPIRY_INTERVAL_S). Each run takes
 * back what expired by today; a second run on the same day finds nothing new, so several
 * processes may run it (their Idempotency-Keys per wallet and day keep them from doing it twice).
 */
function startExpiry(database: Database, config: Config, metrics: Metrics, logger: Logger): { stop(): Promise<void> } {
  if (config.EXPIRY_INTERVAL_S === 0) return { stop: async () => {} };
  const services = {
    sql: database.sql, batcher: createBatcher(database.sql, { size_max: config.BATCH_SIZE_MAX, inflight_max: config.BATCH_INFLIGHT_MAX }),
  };
  let running: Promise<void> | undefined;
  const run = () => {
    // A run still going (a large currency) is not overtaken by the next one.
    if (running !== undefined) return;
    running = (async () => {
      for (const result of await expireAll(services, await listCurrencies(database.sql))) {
        if (result.wallets > 0) metrics.transfers.inc({ code: 'expiry' }, result.wallets);
        if (result.wallets > 0 || result.held.length > 0) {
          logger.info({ currency: result.currency, day: result.today, wallets: result.wallets, amount: result.amount.toString(), held: result.held.length }, 'coins expired');
        }
      }
    })().catch((error: unknown) => logger.error({ err: error }, 'expiry run failed')).finally(() => { running = undefined; });
  };
  run();
  const timer = setInterval(run, config.EXPIRY_INTERVAL_S * 1000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Runs the retention at start and then every RETENTION_INTERVAL_S (docs/privacy.md): what is
 * past RETENTION_DAYS is deleted, audit rows past PSEUDONYMISE_AFTER_DAYS pseudonymised. A run
 * that finds nothing changes nothing, so several processes may run it.
 */
function startRetention(database: Database, config: Config, logger: Logger): { stop(): Promise<void> } {
  if (config.RETENTION_INTERVAL_S === 0) return { stop: async () => {} };
  let running: Promise<void> | undefined;
  const run = () => {
    if (running !== undefined) return;
    running = (async () => {
      const result = await runRetention({ sql: database.sql }, config);
      const { idempotency_records, payment_requests, sessions, audit_rows } = result;
      if (idempotency_records + payment_requests + sessions + audit_rows > 0) {
        logger.info({ idempotency_records, payment_requests, sessions, audit_rows }, 'retention: old records pruned');
      }
    })().catch((error: unknown) => logger.error({ err: error }, 'retention run failed')).finally(() => { running = undefined; });
  };
  run();
  const timer = setInterval(run, config.RETENTION_INTERVAL_S * 1000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  runService().catch((error: unknown) => {
    process.stderr.write(`wijkmunt failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
