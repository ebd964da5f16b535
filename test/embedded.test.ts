import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded.js';

/** First line initdb prints; its absence on a restart shows the cluster was reused. */
const INITDB_BANNER = 'The files belonging to this database system will be owned by user';

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
