/**
 * The fix of patches/postgres+3.4.9.patch: postgres.js keeps its connections in queues whose
 * array only shrank when a queue was emptied by shift(). Under steady load a connection queue
 * is never empty, so the array grew by one hole per query and every move of a connection
 * searched it with indexOf: the service slowed down the longer it ran (measured: 20,000
 * queries at 64 concurrent took 1.1 s at first and 5.2 s after 200,000). Patched, the array
 * is compacted as the head advances and searches start at the head.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

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
