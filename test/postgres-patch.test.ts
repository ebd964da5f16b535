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
