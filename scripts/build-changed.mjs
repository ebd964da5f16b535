// @ts-check
/**
 * `npm run build`, but only of the parts whose sources changed since their last build here: what
 * `npm start` and the CLI's npm scripts (`npm run create-admin`, `npm run demo`, …) run first, so
 * that a command on unchanged code starts at once instead of compiling everything again.
 *
 * A part is up to date when its stamp file (written into its output folder after a successful
 * build, dated when that build started) is at least as new as every file and folder of its
 * sources; a folder's date changes when a file in it is added, removed or renamed, so those count
 * too. A part without its stamp (never built this way, output folder deleted) is built.
 * `npm run build` still builds everything (the Dockerfile and CI use it).
 *
 * Plain JavaScript, with nothing but Node: it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const stamp_name = '.build-stamp';

/**
 * The script file of an installed package's command (e.g. typescript's `tsc`), to run with this Node.
 * @param {string} name
 * @param {string} command
 */
function packageBin(name, command) {
  const manifest = require.resolve(`${name}/package.json`, { paths: [root] });
  const bin = /** @type {{ bin: string | Record<string, string> }} */ (require(manifest)).bin;
  return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin[command] ?? '');
}

const parts = [
  {
    name: 'server',
    sources: ['src', 'tsconfig.json', 'package.json', 'package-lock.json'],
    output: 'dist',
    command: () => [packageBin('typescript', 'tsc'), '-p', '.'],
  },
  {
    name: 'web client',
    // What the web client's build reads: its own files, the server code it imports, its dependencies.
    sources: ['web/src', 'web/sw', 'web/public', 'web/index.html', 'web/vite.config.ts', 'src/ledger', 'package.json', 'package-lock.json'],
    output: 'web/dist',
    command: () => [packageBin('vite', 'vite'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
  },
];

/**
 * The newest modification time (ms) of a file, or of a folder and everything in it; 0 when missing.
 * @param {string} target
 * @returns {number}
 */
function newestMtime(target) {
  if (!existsSync(target)) return 0;
  const info = statSync(target);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

let failed = false;
for (const part of parts) {
  const stamp = path.join(root, part.output, stamp_name);
  const built_ms = existsSync(stamp) ? statSync(stamp).mtimeMs : -1;
  const sources_ms = Math.max(...part.sources.map((source) => newestMtime(path.join(root, source))));
  if (built_ms >= sources_ms) continue;

  const started = new Date();
  process.stderr.write(`building the ${part.name} (its sources changed since the last build)\n`);
  const [script = '', ...args] = part.command();
  const run = spawnSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    failed = true;
    break;
  }
  // Dated when the build started: a source saved during the build is newer, and is built next time.
  writeFileSync(stamp, 'The sources of this folder were built at this file\'s date (scripts/build-changed.mjs).\n');
  utimesSync(stamp, started, started);
}
process.exit(failed ? 1 : 0);
