/**
 * A helper's history (#20 point 4, src/ledger/history.ts): its own entries (by version) and its
 * payments for others (by time) paged together. Whatever the page size and however the two lists
 * interleave — own entries whose times are out of order included, as when a transaction that
 * started earlier wrote later — paging through from cursor to cursor shows exactly the one-page
 * merge: every row once, none lost, each payment for someone else with the balance the next
 * older own entry left. The same against PostgreSQL: test/gifts.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeHistory } from '../src/ledger/history.js';
import type { HistoryCursor, PaymentForOther } from '../src/ledger/history.js';
import type { Entry } from '../src/ledger/model.js';

const base = {
  code: 'payment' as const, memo: null, counterparty_id: 's', counterparty_name: 'Shop', counterparty_kind: 'shop' as const,
  activity_id: null, activity_name: null, reversed: false, refund_of: null, reverses: null, helper_id: null, helper_name: null, helped_id: null, helped_name: null,
};

/** Own entries newest version first, each at a time in ms (not necessarily in order), with a running balance. */
function ownOf(times: number[]): Entry[] {
  let balance = 0n;
  const rows = times.map((ms, i) => {
    balance += BigInt(i + 1);
    return { ...base, transfer_id: `own-${i + 1}`, account_id: 'me', version: BigInt(i + 1), amount: BigInt(i + 1), balance_after: balance, created_at: new Date(ms) };
  });
  return rows.reverse();
}

/** Payments for others, newest first by (time, id), as the database reads them. */
function othersOf(times: number[]): PaymentForOther[] {
  const rows = times.map((ms, i) => ({
    ...base, transfer_id: `other-${String(i).padStart(3, '0')}`, account_id: 'helped', amount: -1n, created_at: new Date(ms), at_us: String(ms * 1000),
  }));
  return rows.sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.transfer_id < b.transfer_id ? 1 : -1));
}

/** What the database gives for a cursor: `limit` rows from where it says (inclusive). */
function fetch(own: Entry[], others: PaymentForOther[], from: HistoryCursor | undefined, limit: number) {
  const own_from = from === undefined ? own : from.own === 'done' ? [] : own.filter((e) => e.version <= (from.own as bigint));
  const other_from = from === undefined ? others : from.other === 'done' ? [] : others.slice(others.findIndex((o) => {
    const at = (from.other as { at_us: string; id: string });
    return o.at_us === at.at_us && o.transfer_id === at.id;
  }));
  return { own: own_from.slice(0, limit), others: other_from.slice(0, limit) };
}

describe('mergeHistory', () => {
  it('pages through both lists showing exactly the one-page merge, for any page size and interleaving', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 25 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 25 }),
      fc.integer({ min: 1, max: 8 }),
      (own_times, other_times, limit) => {
        const own = ownOf(own_times);
        const others = othersOf(other_times);
        const whole = mergeHistory(own, others, own.length + others.length + 1);
        expect(whole.next).toBeNull();
        const shown: Entry[] = [];
        let cursor: HistoryCursor | undefined;
        for (let pages = 0; ; pages += 1) {
          expect(pages).toBeLessThanOrEqual(own.length + others.length);
          const rows = fetch(own, others, cursor, limit + 1);
          const page = mergeHistory(rows.own, rows.others, limit);
          expect(page.items.length).toBe(page.next === null ? page.items.length : limit);
          shown.push(...page.items);
          if (page.next === null) break;
          cursor = page.next;
        }
        expect(shown).toEqual(whole.items);
        expect(shown.map((e) => e.transfer_id).sort()).toEqual([...own, ...others].map((e) => e.transfer_id).sort());
      },
    ), { numRuns: 300 });
  });

  it('a payment for someone else comes between the own entries by time, with the older entry\'s balance, and counts nothing', () => {
    const own = ownOf([10, 20, 30]);
    const others = othersOf([25, 5]);
    const { items, next } = mergeHistory(own, others, 10);
    expect(next).toBeNull();
    expect(items.map((e) => [e.transfer_id, e.balance_after, e.for_other === true])).toEqual([
      ['own-3', 6n, false], ['other-000', 3n, true], ['own-2', 3n, false], ['own-1', 1n, false], ['other-001', 0n, true],
    ]);
  });

  it('at the same instant, the own entry first; a page that ends says where each list goes on', () => {
    const own = ownOf([10, 10]);
    const others = othersOf([10, 10]);
    const { items, next } = mergeHistory(own, others, 3);
    expect(items.map((e) => e.transfer_id)).toEqual(['own-2', 'own-1', 'other-001']);
    expect(next).toEqual({ own: 'done', other: { at_us: '10000', id: 'other-000' } });
    expect(mergeHistory([], [], 3)).toEqual({ items: [], next: null });
  });
});
