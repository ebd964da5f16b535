#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig, scrubSecrets } from './config.js';
import { createLogger, openDatabase } from './service.js';
import type { Database } from './service.js';
import { runService } from './main.js';
import { hashSecret } from './security/passwords.js';
import { findUserByEmail, insertUser } from './db/users.js';
import type { User } from './db/users.js';
import { changeUser, resetPassword } from './app/access.js';
import { systemActor } from './app/context.js';
import type { Services } from './app/context.js';
import { weakPassword, weakPasswordMessage } from './ledger/secrets.js';
import { findCurrency, listCurrencies } from './db/ledger.js';
import { sealCurrency } from './db/seals.js';
import { createBatcher } from './db/batch.js';
import { expireAll } from './app/expiry.js';
import { runRetention } from './app/retention.js';
import { formatAmount } from './ledger/amount.js';
import { verifyCurrency } from './db/verify.js';
import { DomainError } from './ledger/errors.js';
import { forgetPreviousTokenKeys, loadTokenKeys, rotateTokenKeyFile } from './security/keys.js';
import { DemoRefused, demoStartCommand, describeDemo, fillDemo } from './demo.js';
import { createApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';

const usage = `Usage: wijkmunt <command> [options]

Commands:
  serve                                   run the service (same as npm start)
  migrate                                 apply pending database migrations and exit
  create-admin --email E --password P     create an admin user (password: at least 12 characters, not a common one)
  set-password --email E --password P     set a staff user's password; every session of theirs ends
  disable-user --email E                  disable a staff user; every session of theirs ends
  enable-user --email E                   enable a disabled staff user
  verify --currency CODE                  check the ledger invariants and seals; exit 1 if one fails
  seal [--currency CODE]                  seal the transfers committed since the last seal
  expire [--currency CODE]                take expired coins back from wallets, as of today (the service does it
                                          every EXPIRY_INTERVAL_S); a second run on the same day changes nothing
  prune                                   delete idempotency records, finished payment requests and ended sessions
                                          older than RETENTION_DAYS, pseudonymise audit rows older than
                                          PSEUDONYMISE_AFTER_DAYS (the service does it every RETENTION_INTERVAL_S)
  demo                                    fill an EMPTY database with a demo neighbourhood and print how to try it
  rotate-key [--forget-previous]          new token signing key in DATA_DIR (restart to use it); the old
                                          one still verifies until --forget-previous removes old keys

Environment: see the README (DATABASE_URL, DATA_DIR, PORT, ...).`;

async function withDatabase<T>(run: (db: Database) => Promise<T>): Promise<T> {
  const config = loadConfig();
  scrubSecrets();
  const db = await openDatabase(config, createLogger({ ...config, LOG_LEVEL: 'warn' }));
  try {
    return await run(db);
  } finally {
    await db.close();
  }
}

/** Why the password cannot be used, written for the operator; undefined when it can. */
function refusedPassword(command: string, email: string | undefined, password: string | undefined): string | undefined {
  if (email === undefined || password === undefined) return `${command} needs --email and --password`;
  const reason = weakPassword(password, email);
  return reason === undefined ? undefined : `${command}: ${weakPasswordMessage(reason)}`;
}

/** A staff account changed on the machine: the access use cases, with the operator as a system actor. */
async function withUser(email: string, change: (services: Pick<Services, 'sql' | 'config'>, user: User) => Promise<void>): Promise<number> {
  return withDatabase(async (db) => {
    const user = await findUserByEmail(db.sql, email);
    if (user === undefined) {
      process.stderr.write(`no user with email ${email}\n`);
      return 1;
    }
    await change({ sql: db.sql, config: loadConfig() }, user);
    return 0;
  });
}

/** `set-password`: a staff user's new password, for the first admin who forgot theirs; their sessions end. */
async function runSetPassword(email: string | undefined, password: string | undefined): Promise<number> {
  const refused = refusedPassword('set-password', email, password);
  if (refused !== undefined || email === undefined || password === undefined) {
    process.stderr.write(`${refused}\n`);
    return 2;
  }
  return withUser(email, async (services, user) => {
    await resetPassword(services, systemActor('cli'), user, password);
    process.stdout.write(`password of ${user.email} set; their sessions have ended\n`);
  });
}

/** `disable-user` / `enable-user`: a staff user can (no longer) log in; disabling ends their sessions. */
async function runSetDisabled(email: string | undefined, disabled: boolean): Promise<number> {
  if (email === undefined) {
    process.stderr.write(`${disabled ? 'disable' : 'enable'}-user needs --email\n`);
    return 2;
  }
  return withUser(email, async (services, user) => {
    await changeUser(services, systemActor('cli'), user, { disabled });
    process.stdout.write(`${user.email} ${disabled ? 'disabled; their sessions have ended' : 'enabled'}\n`);
  });
}

/** `create-admin`: a new admin with the given email and password (at least 12 characters, not a common one). */
async function runCreateAdmin(email: string | undefined, password: string | undefined): Promise<number> {
  const refused = refusedPassword('create-admin', email, password);
  if (refused !== undefined || email === undefined || password === undefined) {
    process.stderr.write(`${refused}\n`);
    return 2;
  }
  return withDatabase(async (db) => {
    const config = loadConfig();
    if (await findUserByEmail(db.sql, email) !== undefined) {
      process.stderr.write(`a user with email ${email} already exists\n`);
      return 1;
    }
    const user = await insertUser(db.sql, {
      email, role: 'admin', currency_ids: [], password_hash: await hashSecret(password, config.SCRYPT_COST_LOG2),
    });
    process.stdout.write(`admin ${user.email} created (id ${user.id})\n`);
    return 0;
  });
}

/** `verify`: prints the ledger checks of one currency; 1 when one fails. */
async function runVerify(code: string | undefined): Promise<number> {
  if (code === undefined) {
    process.stderr.write('verify needs --currency CODE\n');
    return 2;
  }
  return withDatabase(async (db) => {
    const currency = await findCurrency(db.sql, code);
    if (currency === undefined) {
      process.stderr.write(`no currency ${code}\n`);
      return 2;
    }
    const checks = await verifyCurrency(db.sql, currency);
    for (const check of checks) {
      process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
    }
    return checks.every((check) => check.ok) ? 0 : 1;
  });
}

/** `seal`: seals the new transfers of one currency, or of every currency when none is named. */
async function runSeal(code: string | undefined): Promise<number> {
  return withDatabase(async (db) => {
    const currencies = code === undefined
      ? await listCurrencies(db.sql)
      : [await findCurrency(db.sql, code)].filter((c) => c !== undefined);
    if (currencies.length === 0) {
      process.stderr.write(code === undefined ? 'no currencies yet\n' : `no currency ${code}\n`);
      return code === undefined ? 0 : 2;
    }
    for (const currency of currencies) {
      const seal = await sealCurrency(db.sql, currency);
      process.stdout.write(seal === undefined
        ? `${currency.code}: nothing new to seal\n`
        : `${currency.code}: seal ${seal.seq} covers ${seal.transfers_count} transfers, hash ${seal.hash}\n`);
    }
    return 0;
  });
}

/** `expire`: the expiry run of one currency, or of every currency whose coins expire; 2 for an unknown currency. */
async function runExpire(code: string | undefined): Promise<number> {
  return withDatabase(async (db) => {
    const config = loadConfig();
    const currencies = code === undefined
      ? await listCurrencies(db.sql)
      : [await findCurrency(db.sql, code)].filter((c) => c !== undefined);
    if (code !== undefined && currencies.length === 0) {
      process.stderr.write(`no currency ${code}\n`);
      return 2;
    }
    const services = { sql: db.sql, batcher: createBatcher(db.sql, { size_max: config.BATCH_SIZE_MAX, inflight_max: config.BATCH_INFLIGHT_MAX }) };
    const runs = await expireAll(services, currencies);
    for (const currency of currencies) {
      const run = runs.find((r) => r.currency === currency.code);
      if (run === undefined) {
        process.stdout.write(`${currency.code}: coins never expire\n`);
        continue;
      }
      const held = run.held.length === 0 ? '' : `; ${run.held.length} wallet(s) held (${[...new Set(run.held.map((h) => h.code))].join(', ')})`;
      process.stdout.write(`${run.currency} ${run.today}: ${formatAmount(run.amount, currency.scale)} expired from ${run.wallets} wallet(s)`
        + `${run.replayed > 0 ? `, ${run.replayed} already done today` : ''}${held}\n`);
    }
    return 0;
  });
}

/** `prune`: the retention run, as of now (docs/privacy.md). */
async function runPrune(): Promise<number> {
  return withDatabase(async (db) => {
    const run = await runRetention({ sql: db.sql }, loadConfig());
    process.stdout.write(`deleted before ${run.deleted_before.toISOString()}: ${run.idempotency_records} idempotency record(s), `
      + `${run.payment_requests} payment request(s), ${run.sessions} session(s) and pairing code(s)\n`
      + `pseudonymised before ${run.pseudonymised_before.toISOString()}: ${run.audit_rows} audit row(s)\n`);
    return 0;
  });
}

/** `demo`: fills an empty database through the in-process app and prints how to try it; 1 when refused. */
async function runDemo(): Promise<number> {
  // Read before withDatabase scrubs the secrets: printed claim links must verify on the service.
  const config = loadConfig();
  if (config.PORT === 0 && config.PUBLIC_BASE_URL === undefined) {
    process.stderr.write('wijkmunt demo: PORT is 0 (a free port, another at each start), so the links it prints would lead nowhere: '
      + 'set PORT or PUBLIC_BASE_URL, and the same for npm start\n');
    return 2;
  }
  const start_command = demoStartCommand(process.env);
  const keys = await loadTokenKeys(config.JWT_SECRET, config.JWT_SECRETS_PREVIOUS, config.DATA_DIR);
  return withDatabase(async (db) => {
    const logger = createLogger({ ...config, LOG_LEVEL: 'warn' });
    const app = createApp({ sql: db.sql, config, keys, logger, metrics: createMetrics(false), lifecycle: { shutting_down: false } });
    try {
      const demo = await fillDemo(app, db.sql, { scrypt_cost_log2: config.SCRYPT_COST_LOG2, base_url: config.public_base_url });
      process.stdout.write(describeDemo(demo, start_command));
      return 0;
    } catch (error) {
      if (!(error instanceof DemoRefused)) throw error;
      process.stderr.write(`wijkmunt demo: ${error.message}\n`);
      return 1;
    }
  });
}

/** `rotate-key`: a new token signing key in DATA_DIR, or with `forget_previous` the old ones removed. */
async function runRotateKey(forget_previous: boolean): Promise<number> {
  const config = loadConfig();
  if (config.JWT_SECRET !== undefined) {
    process.stderr.write('JWT_SECRET is set, so the key is not in DATA_DIR: to rotate, add the current JWT_SECRET to '
      + 'JWT_SECRETS_PREVIOUS, set a new JWT_SECRET, and restart\n');
    return 2;
  }
  if (forget_previous) {
    const forgotten = await forgetPreviousTokenKeys(config.DATA_DIR);
    process.stdout.write(`${forgotten} previous key(s) removed: the tokens they signed no longer work once the service restarts\n`);
    return 0;
  }
  const rotated = await rotateTokenKeyFile(config.DATA_DIR);
  process.stdout.write(`new signing key ${rotated.current_kid}; still accepted: ${rotated.previous_kids.join(', ') || 'none'}\n`
    + 'restart the service to sign with the new key; once the longest token lifetime has passed, run '
    + '`wijkmunt rotate-key --forget-previous`\n');
  return 0;
}

/** Runs one command; resolves to the exit code, or -1 when the process is to keep running (serve). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' }, password: { type: 'string' }, currency: { type: 'string' }, help: { type: 'boolean' },
      'forget-previous': { type: 'boolean' },
    },
    strict: true,
  });
  switch (command) {
    case 'serve':
      await runService();
      return -1;
    case 'migrate':
      await withDatabase(async () => {});
      process.stdout.write('migrations are up to date\n');
      return 0;
    case 'create-admin':
      return runCreateAdmin(values.email, values.password);
    case 'set-password':
      return runSetPassword(values.email, values.password);
    case 'disable-user':
    case 'enable-user':
      return runSetDisabled(values.email, command === 'disable-user');
    case 'verify':
      return runVerify(values.currency);
    case 'seal':
      return runSeal(values.currency);
    case 'expire':
      return runExpire(values.currency);
    case 'prune':
      return runPrune();
    case 'demo':
      return runDemo();
    case 'rotate-key':
      return runRotateKey(values['forget-previous'] === true);
    default:
      process.stdout.write(`${usage}\n`);
      return command === undefined || values.help === true ? 0 : 2;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
}, (error: unknown) => {
  const message = error instanceof DomainError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`wijkmunt: ${message}\n`);
  process.exit(1);
});
