/**
 * The service as an operator runs it: a real process on the embedded PostgreSQL, the CLI
 * beside it, graceful shutdown, and a second start on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommands } from '../src/db/batch.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/db-harness.js';
import { createSql } from '../src/db/client.js';

const root = path.resolve(import.meta.dirname, '..');
const started: ChildProcess[] = [];

function nodeArgs(script: string, args: string[] = []): string[] {
  return ['--import', 'tsx', path.join(root, 'src', script), ...args];
}

/** Starts `wijkmunt serve`; resolves with its port once it prints where it listens. */
function startService(env: Record<string, string>): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, nodeArgs('main.ts'), {
    cwd: root, env: { ...process.env, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', SCRYPT_COST_LOG2: '10', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listens on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`service exited with ${code}:\n${output}`)); });
  });
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs('cli.ts', args), {
      cwd: root, env: { ...process.env, SCRYPT_COST_LOG2: '10', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function json(port: number, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}${p}`, {
    method, headers: { 'Content-Type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() as any };
}

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('npm start on the embedded PostgreSQL', () => {
  it('serves, lets the CLI create an admin beside it, stops gracefully, and restarts on the same data', async () => {
    const data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-service-'));
    await chmod(data_dir, 0o755);
    try {
      const env = { DATA_DIR: data_dir };
      const first = await startService(env);
      // The banner names the README's own command for the first admin, word for word.
      const readme_command = /^npm run create-admin -- .*$/m.exec(await readFile(path.join(root, 'README.md'), 'utf8'))?.[0];
      expect(readme_command).toBeDefined();
      expect(first.output()).toContain(`\n  ${readme_command}\n`);
      expect((await json(first.port, 'GET', '/readyz')).status).toBe(200);
      // The service talks to its own server through the server's Unix socket.
      expect(first.output()).toMatch(/Database: embedded PostgreSQL on 127\.0\.0\.1:\d+ \(used through its Unix socket\)/);

      const created = await runCli(['create-admin', '--email', 'admin@example.org', '--password', 'correct horse battery'], env);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      // The signing key was generated once into the data folder, readable by its owner only.
      expect((await stat(path.join(data_dir, 'jwt-secret'))).mode & 0o777).toBe(0o600);

      const login = await json(first.port, 'POST', '/api/v1/auth/login', { email: 'admin@example.org', password: 'correct horse battery' });
      expect(login.status).toBe(200);
      const auth = { Authorization: `Bearer ${login.body.token}` };
      expect((await json(first.port, 'POST', '/api/v1/currencies', { code: 'TOR', name: 'Torekes', scale: 0, euro_per_unit: '0.10' }, auth)).status).toBe(201);
      const wallet = await json(first.port, 'POST', '/api/v1/currencies/TOR/accounts', { kind: 'wallet', name: 'Ann' }, auth);

      // A large batch is in flight when SIGTERM arrives: it still completes.
      const transfers = Array.from({ length: 1000 }, () => ({ debit_account: wallet.body.id, credit_account: wallet.body.id, amount: '1', code: 'issue' }));
      const issuance = (await json(first.port, 'GET', '/api/v1/currencies/TOR', undefined, auth)).body.issuance_account;
      for (const t of transfers) t.debit_account = issuance;
      const in_flight = json(first.port, 'POST', '/api/v1/currencies/TOR/transfers/batch', { atomic: true, transfers }, { ...auth, 'Idempotency-Key': 'batch-1' });
      await new Promise((resolve) => setTimeout(resolve, 30));
      first.child.kill('SIGTERM');
      const finished = await in_flight;
      expect(finished.status).toBe(200);
      expect(await exited(first.child)).toBe(0);
      expect(first.output()).toContain('shutting down');

      // Second start: same data, same signing key, the old token and the coins are still there.
      const second = await startService(env);
      const account = await json(second.port, 'GET', `/api/v1/accounts/${wallet.body.id}`, undefined, auth);
      expect(account.status).toBe(200);
      expect(account.body.balance).toBe('1000');
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
      // An admin exists now: no hint to create the first one.
      expect(second.output()).toContain('listens on');
      expect(second.output()).not.toContain('create-admin');
    } finally {
      await rm(data_dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('the CLI against DATABASE_URL', () => {
  it('migrates, creates an admin once, and verify exits 1 when the ledger was tampered with', async () => {
    const database = await createTestDatabase();
    const env = { DATABASE_URL: database.url, DATA_DIR: os.tmpdir() };
    try {
      expect((await runCli(['migrate'], env)).code).toBe(0);
      expect((await runCli(['create-admin', '--email', 'a@example.org', '--password', 'long enough pw'], env)).code).toBe(0);
      const again = await runCli(['create-admin', '--email', 'A@example.org', '--password', 'long enough pw'], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already exists');
      expect((await runCli(['create-admin', '--email', 'b@example.org'], env)).code).toBe(2);

      const sql = createSql({ url: database.url, pool_size_max: 2, statement_timeout_ms: 10_000 });
      try {
        await sql`SELECT 1`;
        const cli_missing = await runCli(['verify', '--currency', 'NOPE'], env);
        expect(cli_missing.code).toBe(2);
        // A currency with one issue, made through SQL the way the service does it.
        await sql.begin(async (tx) => {
          const [c] = await tx`INSERT INTO currencies (code, name, scale, euro_per_unit, issuance_account_id)
                               VALUES ('TST', 'Test', 0, 0.1, gen_random_uuid()) RETURNING id, issuance_account_id`;
          await tx`INSERT INTO accounts (currency_id, id, kind, name) VALUES (${c!.id}, ${c!.issuance_account_id}, 'issuance', 'issuance')`;
          await tx`INSERT INTO accounts (currency_id, id, kind, name) VALUES (${c!.id}, gen_random_uuid(), 'wallet', 'Ann')`;
          const [w] = await tx`SELECT id FROM accounts WHERE currency_id = ${c!.id} AND kind = 'wallet'`;
          const { results } = await runCommands(tx, c!.id, [{ posting: { id: crypto.randomUUID(), code: 'issue', debit_account_id: c!.issuance_account_id, credit_account_id: w!.id, amount: 5n, created_by: 'test' } }]);
          expect(results.map((r) => r.kind)).toEqual(['posted']);
        });
        const clean = await runCli(['verify', '--currency', 'TST'], env);
        expect(clean.code).toBe(0);
        expect(clean.stdout).toMatch(/ok\s+sum_is_zero/);

        await sql`UPDATE accounts SET credits_posted = credits_posted + 1 WHERE kind = 'wallet'`;
        const tampered = await runCli(['verify', '--currency', 'TST'], env);
        expect(tampered.code).toBe(1);
        expect(tampered.stdout).toMatch(/FAIL sum_is_zero/);
        expect(tampered.stdout).toMatch(/FAIL balances_match_transfers: account [0-9a-f-]{36}/);
      } finally {
        await sql.end({ timeout: 5 });
      }
    } finally {
      await database.drop();
    }
  }, 120_000);
});
