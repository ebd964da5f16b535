/**
 * The fixes of patches/postgres+3.4.9.patch.
 *
 * 1. postgres.js keeps its connections in queues whose array only shrank when a queue was
 *    emptied by shift(). Under steady load a connection queue is never empty, so the array grew
 *    by one hole per query and every move of a connection searched it with indexOf: the service
 *    slowed down the longer it ran (measured: 20,000 queries at 64 concurrent took 1.1 s at first
 *    and 5.2 s after 200,000). Patched, the array is compacted as the head advances and searches
 *    start at the head.
 * 2. Each new connection first fetches the array types, and the driver dropped the promise of
 *    that query: when it failed (the backend terminated or the query cancelled while it ran) the
 *    error escaped as an unhandled rejection, which ends a Node process (porsager/postgres#1192,
 *    #1205, #1223). The service logged such rejections instead of ending (src/main.ts), but every
 *    other process using the driver — the tests' own clients during the bank test's faults —
 *    did not. Patched, the failure stays the connection's.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';

const queue_file = path.resolve(import.meta.dirname, '..', 'node_modules', 'postgres', 'src', 'queue.js');

interface Queue<T> { length: number; push(x: T): T; shift(): T; remove(x: T): T | null }

afterEach(() => { vi.restoreAllMocks(); });

describe('postgres.js connection queue (patched)', () => {
  it('is installed patched', () => {
    expect(readFileSync(queue_file, 'utf8')).toContain('xs.indexOf(x, index)');
    expect(readFileSync(path.join(path.dirname(queue_file), 'index.js'), 'utf8')).toContain('queries.peek().reserve');
  });

  it('cycling connections as the pool does keeps the queue small and in order', async () => {
    const { default: Queue } = await import(pathToFileURL(queue_file).href) as { default: <T>(initial?: T[]) => Queue<T> };
    const connections = Array.from({ length: 20 }, (_, i) => ({ id: i }));
    const open = Queue(connections);
    // What the pool does per query: take a connection, "move" it (remove from the queue it was
    // taken from: not found any more), and give it back when the query is done.
    // The longest stretch of array any search had to look through.
    let searched_max = 0;
    let found = 0;
    const indexOf = Array.prototype.indexOf;
    const spy = vi.spyOn(Array.prototype, 'indexOf').mockImplementation(function (this: unknown[], ...args: [unknown, number?]) {
      searched_max = Math.max(searched_max, this.length - (args[1] ?? 0));
      return indexOf.apply(this, args);
    });
    for (let i = 0; i < 100_000; i++) {
      const c = open.shift();
      if (open.remove(c) !== null) found += 1;
      open.push(c);
    }
    spy.mockRestore();
    expect(found).toBe(0);
    expect(open.length).toBe(20);
    expect(searched_max).toBeGreaterThan(0);
    expect(searched_max).toBeLessThan(4096);
    // Still first in, first out, and remove takes out the one asked for.
    expect(open.shift()).toBe(connections[0]);
    expect(open.remove(connections[5]!)).toBe(connections[5]);
    expect(Array.from({ length: 18 }, () => open.shift().id)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(open.length).toBe(0);
  });
});

describe('postgres.js array types of a new connection (patched)', () => {
  it('a failing array-type query leaves no unhandled rejection, and the connection goes on', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    let failed_fetches = 0;
    try {
      // A statement timeout of 1 ms cancels the driver's array-type query in most connections.
      for (let attempt = 0; attempt < 40 && failed_fetches < 3; attempt++) {
        const sql = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {}, connection: { statement_timeout: 1 } });
        try {
          await sql`SELECT 1`.catch(() => undefined);
          const shared = (sql.options as unknown as { shared: { typeArrayMap: Record<string, number> } }).shared;
          if (Object.keys(shared.typeArrayMap).length === 0) {
            failed_fetches += 1;
            // The connection still answers once the timeout is lifted (the SET may be cancelled too).
            let lifted = false;
            for (let k = 0; k < 20 && !lifted; k++) lifted = await sql`SET statement_timeout = 0`.then(() => true, () => false);
            expect(await sql<{ one: number }[]>`SELECT 1 AS one`).toEqual([{ one: 1 }]);
          }
        } finally {
          await sql.end();
        }
      }
      // An unhandled rejection is reported after the current microtasks: give it a turn.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(failed_fetches).toBeGreaterThan(0);
    expect(unhandled).toEqual([]);
  });
});

/** The backend of the pool's connection named `application_name`, once it runs `pattern`. */
async function backendRunning(admin: postgres.Sql, application_name: string, pattern: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const [row] = await admin<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE application_name = ${application_name} AND query LIKE ${pattern} AND state = 'active'`;
    if (row !== undefined) return row.pid;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no backend of ${application_name} runs ${pattern}`);
}

/** How a promise settled within `ms`: 'resolved', 'rejected', or 'pending' (never settled). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => { timer = setTimeout(() => resolve('pending'), ms); });
  try {
    return await Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), pending]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A pool of one connection named `application_name`, and an admin connection that waits until
 * its backend runs a statement like `pattern` and then can terminate it; both ended after `body`.
 */
async function withTerminablePool(
  application_name: string,
  body: (sql: postgres.Sql, running: (pattern: string) => Promise<{ terminate(): Promise<void> }>) => Promise<void>,
): Promise<void> {
  const admin = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {} });
  const sql = postgres(inject('adminDatabaseUrl'), { max: 1, onnotice: () => {}, connection: { application_name } });
  try {
    await body(sql, async (pattern) => {
      const pid = await backendRunning(admin, application_name, pattern);
      return { terminate: async () => { await admin`SELECT pg_terminate_backend(${pid})`; } };
    });
  } finally {
    await sql.end({ timeout: 1 });
    await admin.end();
  }
}

/**
 * 3. A reserve() waiting for a busy pool was handed, as the "initial" query, to the reconnect of
 *    a connection the server terminated, and a reconnect drops such a reserve: the promise never
 *    settled (porsager/postgres#1195). The service's batcher waits on reserve(), so under the
 *    bank test's faults one terminated backend could stop a currency's payments for good.
 * 4. Queries a reserved connection held back (it was busy describing a new statement) never
 *    settled when its connection closed (the same gap as porsager/postgres#1186 for reserve()):
 *    the batcher waited for ever on a statement of a transaction the server had already ended.
 * 5. The error a terminated backend sent last (57P01) stayed with the connection object and
 *    failed the first query of its reconnect, a query that had nothing to do with it.
 * 6. A query written to a connection whose socket then closed in the same turn of the event
 *    loop (every connection closes at once when PostgreSQL restarts or the network drops) left
 *    the connection's pending-write marker set after the close: every later connect of that
 *    connection queued its startup message behind a write that was never scheduled, and timed
 *    out (CONNECT_TIMEOUT) for the rest of the process. One by one the pool's connections
 *    became dead slots, until the service answered nothing (the bank test's rare hang).
 */
describe('postgres.js reserve() across a terminated connection (patched)', () => {
  it('a queued reserve() gets a connection after the busy one is terminated', async () => {
    await withTerminablePool(`patch-reserve-${process.pid}`, async (sql, running) => {
      await sql`SELECT 1`;
      const busy = sql`SELECT pg_sleep(30)`.catch((error: unknown) => error);
      const backend = await running('SELECT pg_sleep%');
      const reserving = sql.reserve();
      await backend.terminate();
      // The server's FATAL 57P01 or the closed socket, whichever the driver reads first.
      expect(['57P01', 'CONNECTION_CLOSED']).toContain((await busy as { code?: string }).code);
      expect(await settledWithin(reserving, 5_000)).toBe('resolved');
      const reserved = await reserving;
      expect(await reserved<{ one: number }[]>`SELECT 1 AS one`).toEqual([{ one: 1 }]);
      reserved.release();
      // The pool still serves plain queries after the release.
      expect(await sql<{ two: number }[]>`SELECT 2 AS two`).toEqual([{ two: 2 }]);
    });
  });

  it('queries a reserved connection held back are rejected when it is terminated, and the pool goes on', async () => {
    await withTerminablePool(`patch-held-${process.pid}`, async (sql, running) => {
      const reserved = await sql.reserve();
      // A new statement with a parameter is described first: the connection takes no more
      // queries until it answered, so the second one waits in the reserved connection's queue.
      const sleeping = reserved`SELECT pg_sleep(${30})`.execute().then(() => 'ok', (error: { code?: string }) => error.code);
      const held = reserved`SELECT ${1}::int AS one`.execute().then(() => 'ok', (error: { code?: string }) => error.code);
      await (await running('SELECT pg_sleep%')).terminate();
      expect(['57P01', 'CONNECTION_CLOSED']).toContain(await sleeping);
      expect(await settledWithin(held, 5_000)).toBe('resolved');
      expect(await held).toBe('CONNECTION_CLOSED');
      // The lost connection is not released (src/db/batch.ts does not either); the pool reconnects.
      expect(await sql<{ two: number }[]>`SELECT 2 AS two`).toEqual([{ two: 2 }]);
    });
  });

  it('a query waiting for the terminated connection runs on its reconnect, not failed by the old error', async () => {
    await withTerminablePool(`patch-stale-${process.pid}`, async (sql, running) => {
      await sql`SELECT 1`;
      const busy = sql`SELECT pg_sleep(30)`.catch((error: unknown) => error);
      const backend = await running('SELECT pg_sleep%');
      const waiting = sql<{ three: number }[]>`SELECT 3 AS three`;
      await backend.terminate();
      expect(['57P01', 'CONNECTION_CLOSED']).toContain((await busy as { code?: string }).code);
      expect(await waiting).toEqual([{ three: 3 }]);
    });
  });
});

/** A TCP proxy in front of PostgreSQL that can cut every connection at once. */
async function cuttableProxy(target_url: string): Promise<{ url: string; cutAll(): void; close(): Promise<void> }> {
  const target = new URL(target_url);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => { sockets.delete(socket); client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const url = new URL(target_url);
  url.port = String(address.port);
  return {
    url: url.toString(),
    cutAll: () => { for (const socket of sockets) socket.destroy(); },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('postgres.js connections that close together (patched)', () => {
  it('a connection closed with a write pending connects again afterwards, every time', async () => {
    const proxy = await cuttableProxy(inject('adminDatabaseUrl'));
    try {
      // Each round: two connections; when the cut fails the first one's query, a new query is
      // written at once to the other, which the same cut closes in the same turn.
      for (let round = 0; round < 8; round++) {
        const sql = postgres(proxy.url, { max: 2, onnotice: () => {}, connect_timeout: 3 });
        try {
          await Promise.all([sql`SELECT pg_sleep(0.05)`, sql`SELECT pg_sleep(0.05)`]);
          let follow_up: Promise<unknown> | undefined;
          const first = sql`SELECT pg_sleep(10)`.catch(() => {
            follow_up = sql`SELECT 1`.catch(() => undefined);
          });
          await new Promise((resolve) => setTimeout(resolve, 50));
          proxy.cutAll();
          await first;
          await follow_up;
          // Both connections serve again: two queries at a time need both of them.
          for (let i = 0; i < 3; i++) {
            const answers = await Promise.all([1, 2].map((n) => sql<{ n: number }[]>`SELECT ${n}::int AS n, pg_sleep(0.02)`
              .then((rows) => rows[0]?.n, (error: { code?: string }) => error.code)));
            expect(answers, `round ${round}, pair ${i}`).toEqual([1, 2]);
          }
        } finally {
          await sql.end({ timeout: 1 });
        }
      }
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

