/**
 * A helper's history (#20 point 4): its own entries, newest first by version, merged with the
 * payments it made from the wallets it helps, newest first by time. The two lists are paged
 * together by a cursor that holds the next row of each, so every row is shown exactly once
 * however the lists interleave, and rows written after the first page never slip in between.
 */
import type { Entry } from './model.js';

/** A payment a helper made from a wallet it helps, as its own history lists it. */
export interface PaymentForOther extends Omit<Entry, 'version' | 'balance_after' | 'for_other'> {
  /** The exact time (microseconds since 1970, as text) that orders the helper's payments and pages them. */
  at_us: string;
}

/** Where a list goes on: the first row not yet shown (inclusive), or 'done' when it has no more. */
export interface HistoryCursor {
  own: bigint | 'done';
  other: { at_us: string; id: string } | 'done';
}

/**
 * One page of `limit` rows from the heads of both lists, each read with `limit + 1` rows from
 * where the cursor says, so that the row after the page is known for both. Between two rows the
 * newer comes first; at the same time, the account's own entry. A payment for someone else
 * carries the account's balance as the next older own entry left it (0 before the first).
 */
export function mergeHistory(own: Entry[], others: PaymentForOther[], limit: number): { items: Entry[]; next: HistoryCursor | null } {
  const items: Entry[] = [];
  let i = 0;
  let j = 0;
  while (items.length < limit && (i < own.length || j < others.length)) {
    const mine = own[i];
    const other = others[j];
    if (mine !== undefined && (other === undefined || mine.created_at.getTime() >= other.created_at.getTime())) {
      items.push(mine);
      i += 1;
    } else if (other !== undefined) {
      const { at_us: _at, ...row } = other;
      items.push({ ...row, version: 0n, balance_after: mine?.balance_after ?? 0n, for_other: true });
      j += 1;
    }
  }
  const next_own = own[i];
  const next_other = others[j];
  if (next_own === undefined && next_other === undefined) return { items, next: null };
  return {
    items,
    next: {
      own: next_own === undefined ? 'done' : next_own.version,
      other: next_other === undefined ? 'done' : { at_us: next_other.at_us, id: next_other.transfer_id },
    },
  };
}
