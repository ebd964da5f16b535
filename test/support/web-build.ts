/**
 * The built web client for tests that serve it (test/web-serving.test.ts, test/browser/*).
 *
 * Test files run in parallel, and `vite build` empties web/dist before writing it: two files
 * building at once, or one rebuilding while another serves it, would break each other. So every
 * file goes through ensureWebBuilt(): it builds when web/dist is missing or older than the
 * client's sources, under a lock shared by all test processes, and the first one to get the lock
 * builds while the others wait and then find the build fresh.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { projectRoot } from '../../src/paths.js';

const root = projectRoot();
export const web_dist = path.join(root, 'web', 'dist');

/** What the build reads: the client, its build config, the server code it imports (src/ledger), and how it is run (this file). */
const sources = [
  path.join(root, 'web', 'src'), path.join(root, 'web', 'sw'), path.join(root, 'web', 'public'),
  path.join(root, 'web', 'index.html'), path.join(root, 'web', 'vite.config.ts'), path.join(root, 'src', 'ledger'),
  path.join(root, 'test', 'support', 'web-build.ts'),
];

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const info = statSync(target);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** Whether web/dist is there and at least as new as every source file. */
export function webBuildIsFresh(): boolean {
  const index = path.join(web_dist, 'index.html');
  const sw = path.join(web_dist, 'sw.js');
  if (!existsSync(index) || !existsSync(sw)) return false;
  const built = Math.min(statSync(index).mtimeMs, statSync(sw).mtimeMs);
  return sources.every((source) => newestMtime(source) <= built);
}

const lock_dir = path.join(os.tmpdir(), `wijkmunt-web-build-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`);
/** A lock older than this was left by a crashed run. */
const lock_stale_ms = 5 * 60_000;

async function withLock<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 2 * lock_stale_ms;
  for (;;) {
    try {
      mkdirSync(lock_dir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock_dir).mtimeMs > lock_stale_ms) rmSync(lock_dir, { recursive: true, force: true });
      } catch {
        // Removed meanwhile: try again.
      }
      if (Date.now() > deadline) throw new Error(`waited too long for the web build lock ${lock_dir}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await run();
  } finally {
    rmSync(lock_dir, { recursive: true, force: true });
  }
}

function viteBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      // The build `npm run build:web` makes, not a development one (vitest sets NODE_ENV=test):
      // with it the client registers its service worker, as it does in use.
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`npm run build:web failed (exit ${code}):\n${output}`));
    });
  });
}

/** Builds the web client into web/dist unless a fresh build is there; returns web/dist. */
export async function ensureWebBuilt(): Promise<string> {
  if (webBuildIsFresh()) return web_dist;
  await withLock(async () => {
    if (!webBuildIsFresh()) await viteBuild();
  });
  return web_dist;
}
