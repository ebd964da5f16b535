/**
 * The rules that tie a movement to something else: a payment request paid at most once, a
 * session rewarding each wallet once within its limits and the legal caps, and a payment whose
 * refunds and reversal together never give back more than it took. Pure, decided by the one
 * posting pipeline (batch.ts) against the rows it locked.
 */
import type { Batch, Claim, HeldRequest, HeldTransfer, Limit } from './batch.js';
import { keyOf } from './batch.js';
import { capLeft } from './volunteering.js';

/** A refused command: a stable code and what the message needs (ids, amounts in minor units). */
export interface Failure {
  code: string;
  detail: Record<string, unknown>;
}

function fail(code: string, detail: Record<string, unknown> = {}): Failure {
  return { code, detail };
}

export function refuseRequest(request: HeldRequest | undefined, now: Date, paid_in_batch: boolean): Failure | undefined {
  if (request === undefined) return fail('not_found', {});
  if (paid_in_batch || request.status === 'paid') return fail('already_paid', { payment_request_id: request.id });
  if (request.status === 'cancelled') return fail('cancelled', { payment_request_id: request.id });
  if (request.status === 'expired' || request.expires_at <= now) return fail('expired', { payment_request_id: request.id });
  return undefined;
}

/**
 * The checks of a reward, in this order: the session ended by a coordinator or its activity
 * stopped, already rewarded, then the session's end and its maximum, then the day and year caps.
 */
export function refuseClaim(batch: Batch, claim: Claim, account_id: string, amount: bigint): Failure | undefined {
  const session = batch.state.sessions.get(claim.session_id);
  if (session === undefined) return fail('invalid_token', { session_id: claim.session_id });
  if (session.closed_at !== null) return fail('session_closed', { session_id: session.id });
  if (!session.activity_active) return fail('activity_inactive', { session_id: session.id });
  if (batch.claimed.has(keyOf(session.id, account_id))) return fail('already_claimed', { session_id: session.id });
  if (session.expires_at <= batch.state.now) return fail('expired', { session_id: session.id });
  if (session.claims_count + (batch.sessions_added.get(session.id) ?? 0) >= session.max_claims) {
    return fail('session_full', { session_id: session.id, max_claims: session.max_claims });
  }
  for (const { label, period, cap } of claim.caps) {
    if (cap === null) continue;
    const k = keyOf(account_id, period);
    const so_far = (batch.state.earnings.get(k) ?? 0n) + (batch.earned.get(k)?.amount ?? 0n);
    if (amount > capLeft(cap, so_far)) {
      return fail('volunteer_cap_exceeded', { period: label, cap: cap.toString(), left: capLeft(cap, so_far).toString(), amount: amount.toString() });
    }
  }
  return undefined;
}

/**
 * A movement within its counted limits: what the account moved in the period so far (committed
 * and earlier in this batch) plus this amount may not pass the limit's maximum.
 */
export function refuseLimits(batch: Batch, limits: Limit[], amount: bigint): Failure | undefined {
  for (const { account_id, period, label, max, code } of limits) {
    const k = keyOf(account_id, period);
    const so_far = (batch.state.earnings.get(k) ?? 0n) + (batch.earned.get(k)?.amount ?? 0n);
    if (so_far + amount > max) {
      const left = max - so_far;
      return fail(code, { account_id, period: label, cap: max.toString(), left: (left > 0n ? left : 0n).toString(), amount: amount.toString() });
    }
  }
  return undefined;
}

/**
 * A refund gives back at most what is left of the payment, and nothing once the payment was
 * reversed (the reversal gave back all that was left).
 */
export function refuseRefund(payment: HeldTransfer | undefined, amount: bigint, refunded: bigint, reversed_in_batch: Set<string>): Failure | undefined {
  if (payment === undefined || payment.code !== 'payment') return fail('not_refundable', {});
  if (payment.reversed || reversed_in_batch.has(payment.id)) return fail('already_reversed', { transfer_id: payment.id });
  const left = payment.amount - refunded;
  if (amount > left) return fail('refund_exceeds_payment', { transfer_id: payment.id, left: (left > 0n ? left : 0n).toString() });
  return undefined;
}

/** What a reversal gives back: all of a transfer, or what refunds left of a payment. */
export function reversalAmount(original: HeldTransfer, refunded: bigint): bigint {
  return original.code === 'payment' ? original.amount - refunded : original.amount;
}
