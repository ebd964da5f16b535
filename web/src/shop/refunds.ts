import { toMinor } from '../lib/money.js';
import type { ShopEntry } from './state.js';

const magnitude = (minor: bigint) => (minor < 0n ? -minor : minor);

/**
 * How much of each payment was refunded already, from the refunds in the list. A refund is always
 * newer than its payment, and a coordinator's take-back of a refund newer than the refund, so for
 * every payment shown, its refunds and their take-backs are in the list too. What a take-back
 * (a reversal, in whole or in part) gave back to the shop may be refunded again, so it is taken
 * off its refund's payment — as the service counts it.
 */
export function refundedByPayment(entries: ShopEntry[], scale: number): Map<string, bigint> {
  const refunds = new Map<string, { payment: string; minor: bigint }>();
  for (const entry of entries) {
    if (entry.code === 'refund' && entry.refund_of !== null) {
      refunds.set(entry.transfer_id, { payment: entry.refund_of, minor: magnitude(toMinor(entry.amount, scale)) });
    }
  }
  const out = new Map<string, bigint>();
  for (const { payment, minor } of refunds.values()) out.set(payment, (out.get(payment) ?? 0n) + minor);
  for (const entry of entries) {
    const refund = entry.code === 'reversal' && entry.reverses !== null ? refunds.get(entry.reverses) : undefined;
    if (refund === undefined) continue;
    out.set(refund.payment, (out.get(refund.payment) ?? 0n) - magnitude(toMinor(entry.amount, scale)));
  }
  return out;
}
