import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded.js';
import { connectionTarget, createSql } from '../src/db/client.js';

/** First line initdb prints; its absence on a restart shows the cluster was reused. */
const INITDB_BANNER = 'The files belonging to this database system will be owned by user';

/** Runs `SELECT 1` via `url` with a fresh connection. */
async function selectOne(url: string): Promise<unknown> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ one: number }[]>`SELECT 1 AS one`;
    return row?.one;
  } finally {
    await sql.end();
  }
}

/** The server address of a connection through `url` as createSql makes it: null through a Unix socket. */
async function serverAddress(url: string): Promise<string | null> {
  const sql = createSql({ url, pool_size_max: 1, statement_timeout_ms: 5_000 });
  try {
    const [row] = await sql<{ address: string | null }[]>`SELECT host(inet_server_addr()) AS address`;
    return row?.address ?? null;
  } finally {
    await sql.end();
  }
}

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  const servers: EmbeddedPostgres[] = [];

  async function start(logs: string[]): Promise<EmbeddedPostgres> {
    const server = await startEmbeddedPostgres({ dataDir, settings: { fsync: 'off' }, onLog: (line) => logs.push(line) });
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    // A 0700 folder: as root, the postgres user cannot enter it, which exercises the relocated cluster.
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-embedded-test-'));
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const dir of new Set([...servers.map((s) => s.clusterDir), dataDir])) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('initialises a fresh cluster running PostgreSQL 18 on a port other than 5432', async () => {
    const logs: string[] = [];
    const server = await start(logs);

    expect(logs.some((line) => line.includes(INITDB_BANNER))).toBe(true);
    expect(server.port).not.toBe(5432);
    expect(server.url).toBe(`postgres://postgres:${new URL(server.url).password}@127.0.0.1:${server.port}/postgres`);
    if (process.getuid?.() === 0) {
      expect(server.clusterDir.startsWith(dataDir)).toBe(false);
      expect(await readFile(path.join(dataDir, 'CLUSTER-LOCATION.txt'), 'utf8')).toContain(server.clusterDir);
    } else {
      expect(server.clusterDir).toBe(path.join(dataDir, 'pg'));
    }

    // Local clients (the service, the CLI) use the socket in the cluster folder; TCP stays open.
    expect(server.socketUrl).toBe(`${server.url}?host=${encodeURIComponent(server.clusterDir)}`);
    expect(await serverAddress(server.socketUrl!)).toBeNull();
    expect(await serverAddress(server.url)).toBe('127.0.0.1');

    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ version: string }[]>`SELECT version()`;
      expect(row?.version).toMatch(/^PostgreSQL 18\./);
      await sql`CREATE TABLE kept (value int)`;
      await sql`INSERT INTO kept VALUES (42)`;
    } finally {
      await sql.end();
    }
  });

  it('refuses connections on its port once stopped', async () => {
    const server = servers[0]!;
    await server.stop();
    await server.stop();
    expect(await connectionRefused(server.port)).toBe(true);
  });

  it('reuses the cluster and its password on a second start, without initdb', async () => {
    const first = servers[0]!;
    const logs: string[] = [];
    const server = await start(logs);

    expect(logs.some((line) => line.includes(INITDB_BANNER))).toBe(false);
    expect(server.clusterDir).toBe(first.clusterDir);
    expect(new URL(server.url).password).toBe(new URL(first.url).password);

    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      expect(await sql`SELECT value FROM kept`).toEqual([{ value: 42 }]);
    } finally {
      await sql.end();
    }
    await server.stop();
  });
});

describe('startEmbeddedPostgres with a server already running in the cluster', () => {
  const dataDirs: string[] = [];
  const servers: EmbeddedPostgres[] = [];

  async function start(dataDir: string): Promise<EmbeddedPostgres> {
    const server = await startEmbeddedPostgres({ dataDir, settings: { fsync: 'off' } });
    servers.push(server);
    return server;
  }

  async function newDataDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-embedded-test-'));
    dataDirs.push(dir);
    return dir;
  }

  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const dir of new Set([...servers.map((s) => s.clusterDir), ...dataDirs])) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('attaches to the server of a live owner and leaves it running on stop()', async () => {
    const dataDir = await newDataDir();
    const a = await start(dataDir);
    expect(a.attached).toBe(false);
    const ownerFile = path.join(a.clusterDir, 'wijkmunt-owner.json');
    expect(JSON.parse(await readFile(ownerFile, 'utf8'))).toEqual({ pid: process.pid, port: a.port });
    expect((await stat(ownerFile)).mode & 0o777).toBe(0o600);

    const b = await start(dataDir);
    expect(b.attached).toBe(true);
    expect(b.port).toBe(a.port);
    expect(b.clusterDir).toBe(a.clusterDir);
    expect(b.url).toBe(a.url);
    expect(await selectOne(b.url)).toBe(1);
    expect(b.socketUrl).toBe(a.socketUrl);
    expect(await serverAddress(b.socketUrl!)).toBeNull();

    await b.stop();
    expect(await selectOne(a.url)).toBe(1);
    expect(JSON.parse(await readFile(ownerFile, 'utf8'))).toEqual({ pid: process.pid, port: a.port });

    await a.stop();
    expect(await connectionRefused(a.port)).toBe(true);
    await expect(stat(ownerFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces a server whose owner process is dead', async () => {
    const dataDir = await newDataDir();
    const a = await start(dataDir);
    const ownerFile = path.join(a.clusterDir, 'wijkmunt-owner.json');
    await writeFile(ownerFile, JSON.stringify({ pid: await deadPid(), port: a.port }), { mode: 0o600 });

    const logs: string[] = [];
    const b = await startEmbeddedPostgres({ dataDir, settings: { fsync: 'off' }, onLog: (line) => logs.push(line) });
    servers.push(b);
    expect(b.attached).toBe(false);
    expect(b.clusterDir).toBe(a.clusterDir);
    expect(logs.some((line) => line.includes('stopping orphaned PostgreSQL server'))).toBe(true);
    expect(await selectOne(b.url)).toBe(1);
    expect(JSON.parse(await readFile(ownerFile, 'utf8'))).toEqual({ pid: process.pid, port: b.port });
    if (b.port !== a.port) expect(await connectionRefused(a.port)).toBe(true);

    // A's server is gone already; stopping A must neither fail nor touch B's server or owner record.
    await a.stop();
    expect(await selectOne(b.url)).toBe(1);
    expect(JSON.parse(await readFile(ownerFile, 'utf8'))).toEqual({ pid: process.pid, port: b.port });

    await b.stop();
    expect(await connectionRefused(b.port)).toBe(true);
    await expect(stat(ownerFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a cluster path too long for a Unix socket', () => {
  it('runs without one: socketUrl is undefined and clients use TCP', async () => {
    // Enterable by everyone, so that even as root the cluster stays inside it (no relocation).
    const base = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-embedded-long-'));
    await chmod(base, 0o755);
    const dataDir = path.join(base, 'a-data-folder-with-a-name-long-enough-that-no-socket-path-fits-inside-it-any-more');
    let server: EmbeddedPostgres | undefined;
    try {
      server = await startEmbeddedPostgres({ dataDir, settings: { fsync: 'off' } });
      expect(server.clusterDir).toBe(path.join(dataDir, 'pg'));
      expect(Buffer.byteLength(path.join(server.clusterDir, `.s.PGSQL.${server.port}`))).toBeGreaterThan(107);
      expect(server.socketUrl).toBeUndefined();
      expect(await serverAddress(server.url)).toBe('127.0.0.1');
    } finally {
      await server?.stop();
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('connectionTarget', () => {
  it('reads a host folder as libpq does: the socket of the URL\'s port in that folder, taken out of the URL', () => {
    expect(connectionTarget('postgres://u:p@localhost:5433/db?host=%2Frun%2Fpostgresql')).toEqual({
      url: 'postgres://u:p@localhost:5433/db', path: '/run/postgresql/.s.PGSQL.5433',
    });
    expect(connectionTarget('postgres://u:p@localhost/db?host=/run/postgresql/&sslmode=disable')).toEqual({
      url: 'postgres://u:p@localhost/db?sslmode=disable', path: '/run/postgresql/.s.PGSQL.5432',
    });
  });

  it('leaves every other URL as it is', () => {
    for (const url of ['postgres://u:p@db.example.org:5432/db', 'postgres://u:p@db.example.org/db?sslmode=require', 'postgres://u:p@h/db?host=other']) {
      expect(connectionTarget(url)).toEqual({ url });
    }
  });
});
