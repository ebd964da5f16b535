import { toMinor } from '../lib/money.js';
import type { ShopEntry } from './state.js';

/**
 * How much of each payment was refunded already, from the shop's history. A refund is always
 * newer than its payment, and a coordinator's take-back of a refund newer than the refund, so for
 * every payment shown, its refunds and their take-backs are in the list too. On the shop's side
 * a refund is debited and its take-back (a reversal, in whole or in part) credited, so what a
 * payment gave back is minus the sum of both — as the service counts it.
 */
export function refundedByPayment(entries: ShopEntry[], scale: number): Map<string, bigint> {
  const payment_of = new Map<string, string>();
  for (const entry of entries) {
    if (entry.code === 'refund' && entry.refund_of !== null) payment_of.set(entry.transfer_id, entry.refund_of);
  }
  const out = new Map<string, bigint>();
  for (const entry of entries) {
    const payment = entry.code === 'refund' ? payment_of.get(entry.transfer_id)
      : entry.code === 'reversal' && entry.reverses !== null ? payment_of.get(entry.reverses) : undefined;
    if (payment !== undefined) out.set(payment, (out.get(payment) ?? 0n) - toMinor(entry.amount, scale));
  }
  return out;
}
