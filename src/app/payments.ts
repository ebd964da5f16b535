/**
 * Payments: a wallet pays a shop's payment request (its token), a shop charges a card with the
 * customer's PIN, and a shop refunds a payment. All three take the request batcher; the rule
 * that a payment's refunds and its reversal never give back more than it took is decided by
 * src/ledger/links.ts against the payment as the pipeline locked it.
 */
import type { HeldRequest, Idempotency } from '../ledger/batch.js';
import type { Currency, Transfer } from '../ledger/model.js';
import { DomainError } from '../ledger/errors.js';
import { formatAmount } from '../ledger/amount.js';
import { newTransferId } from '../ledger/ids.js';
import { findTransfer } from '../db/ledger.js';
import type { Shop } from '../db/shops.js';
import type { Actor, Services } from './context.js';
import { post } from './posting.js';
import type { Answer } from './posting.js';

type Present<T> = (transfer: Transfer) => T;

/** Pays a payment request from the wallet, at most once; the request sets shop and amount. */
export async function payRequest<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, wallet_account_id: string, request_id: string,
  present: Present<T>,
): Promise<Answer<T>> {
  return post(services, actor, currency, {
    idempotency: key, pays_request: request_id,
    posting: { id: newTransferId(), code: 'payment', debit_account_id: wallet_account_id, created_by: actor.label },
  }, (transfer: Transfer, _request: HeldRequest | undefined) => ({
    status: 201, body: present(transfer),
    audit: {
      action: 'payment.pay', currency_id: currency.id, object: { kind: 'payment_request', id: request_id },
      changes: { amount: formatAmount(transfer.amount, currency.scale), transfer: transfer.id },
    },
  }));
}

/** A payment typed on the shop's tablet from a card whose PIN was checked. */
export async function chargeCard<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency,
  input: { shop: Shop; device_id: string; card_code: string; wallet_account_id: string; amount: bigint; memo: string | null },
  present: Present<T>,
): Promise<Answer<T>> {
  return post(services, actor, currency, {
    idempotency: key,
    posting: {
      id: newTransferId(), code: 'payment', debit_account_id: input.wallet_account_id,
      credit_account_id: input.shop.account_id, amount: input.amount, memo: input.memo, created_by: actor.label,
      metadata: { device_id: input.device_id, via: 'card' },
    },
  }, (transfer) => ({
    status: 201, body: present(transfer),
    // Never the PIN: only which card paid how much.
    audit: {
      action: 'payment.charge', currency_id: currency.id, object: { kind: 'transfer', id: transfer.id },
      changes: { card: input.card_code, wallet: input.wallet_account_id, amount: formatAmount(input.amount, currency.scale), memo: input.memo },
    },
  }));
}

/** Gives part or all of a payment to this shop back to the wallet that paid it. */
export async function refund<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency,
  input: { shop: Shop; device_id: string; payment_id: string; amount: bigint }, present: Present<T>,
): Promise<Answer<T>> {
  // Transfers never change: who was paid can be read before the pipeline locks anything.
  const payment = await findTransfer(services.sql, input.payment_id);
  if (payment === undefined || payment.currency_id !== currency.id || payment.credit_account_id !== input.shop.account_id) {
    throw new DomainError('transfer_not_found', 'no payment to this shop with that id');
  }
  if (payment.code !== 'payment' || payment.phase !== 'single') {
    throw new DomainError('not_refundable', 'only payments to this shop can be refunded');
  }
  return post(services, actor, currency, {
    idempotency: key, refunds: payment.id,
    posting: {
      id: newTransferId(), code: 'refund', debit_account_id: input.shop.account_id, credit_account_id: payment.debit_account_id,
      amount: input.amount, memo: `refund ${payment.id}`, created_by: actor.label,
      metadata: { refund_of: payment.id, device_id: input.device_id },
    },
  }, (transfer) => ({
    status: 201, body: present(transfer),
    audit: {
      action: 'payment.refund', currency_id: currency.id, object: { kind: 'transfer', id: payment.id },
      changes: { amount: formatAmount(input.amount, currency.scale), refund: transfer.id },
    },
  }));
}
