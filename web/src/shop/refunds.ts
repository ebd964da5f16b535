import { toMinor } from '../lib/money.js';
import type { ShopEntry } from './state.js';

/**
 * How much of each payment was refunded already, from the refunds in the list. A refund is always
 * newer than its payment, so for every payment shown, its refunds are in the list too. A refund
 * a coordinator took back (reversed) may be given again, so it is not counted (one taken back in
 * part counts for nothing here; the server, which knows, answers with what is left).
 */
export function refundedByPayment(entries: ShopEntry[], scale: number): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const entry of entries) {
    if (entry.code !== 'refund' || entry.refund_of === null || entry.reversed) continue;
    const id = entry.refund_of;
    const minor = toMinor(entry.amount, scale);
    out.set(id, (out.get(id) ?? 0n) + (minor < 0n ? -minor : minor));
  }
  return out;
}
