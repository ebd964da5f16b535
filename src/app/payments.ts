/**
 * Payments: a wallet pays a shop's payment request (its token), a shop charges a card with the
 * customer's PIN, and a shop refunds a payment. All three take the request batcher; the rule
 * that a payment's refunds and its reversal never give back more than it took is decided by
 * src/ledger/links.ts against the payment as the pipeline locked it.
 */
import type { Command, HeldRequest, Idempotency } from '../ledger/batch.js';
import { fail } from '../ledger/batch.js';
import type { Currency, Transfer } from '../ledger/model.js';
import { DomainError } from '../ledger/errors.js';
import { formatAmount } from '../ledger/amount.js';
import { newTransferId, uuid_pattern } from '../ledger/ids.js';
import { helperLimit } from '../ledger/gifts.js';
import { findTransfer } from '../db/ledger.js';
import { ensureCounter, lockActiveHelperLink } from '../db/gifts.js';
import { transaction } from '../db/client.js';
import { cancelPaymentRequest, insertPaymentRequest } from '../db/shops.js';
import type { Device, PaymentRequest, Shop } from '../db/shops.js';
import type { Actor, Services } from './context.js';
import { recordAudit } from './context.js';
import { checkCardPin } from './access.js';
import { post, postWithin } from './posting.js';
import type { Answer } from './posting.js';

type Present<T> = (transfer: Transfer) => T;

/** A shop's tablet asks to be paid: an amount, payable until the currency's request lifetime ends. */
export async function openPaymentRequest(
  services: Services, actor: Actor, currency: Currency, device: Device, input: { amount: bigint; memo: string | null },
): Promise<PaymentRequest> {
  const request = await insertPaymentRequest(services.sql, device, {
    amount: input.amount, memo: input.memo, expires_at: new Date(Date.now() + currency.payment_request_ttl_s * 1000),
  });
  await recordAudit(services, actor, {
    action: 'payment_request.create', currency_id: currency.id, object: { kind: 'payment_request', id: request.id },
    changes: { amount: formatAmount(input.amount, currency.scale), memo: input.memo },
  });
  return request;
}

/** A payment request by its id (anyone holding the id may read it), with its currency and shop. */
export async function paymentRequestById(services: Services, id: string): Promise<{ request: PaymentRequest; currency: Currency; shop: Shop }> {
  const found = uuid_pattern.test(id) ? await services.loaders.paymentRequest.load(id.toLowerCase()) : undefined;
  if (found === undefined) throw new DomainError('not_found', 'no such payment request');
  return found;
}

/** A payment request of the tablet's own shop; another shop's is not found. */
export async function ownPaymentRequest(services: Services, device: Device, id: string): Promise<{ request: PaymentRequest; currency: Currency; shop: Shop }> {
  const found = await paymentRequestById(services, id);
  if (found.request.shop_account_id !== device.shop_account_id) throw new DomainError('not_found', 'no such payment request');
  return found;
}

/** Cancels an open request of the tablet's shop; a paid or expired one cannot be cancelled. */
export async function cancelRequest(services: Services, actor: Actor, device: Device, id: string): Promise<{ request: PaymentRequest; currency: Currency; shop: Shop }> {
  const { request, currency, shop } = await ownPaymentRequest(services, device, id);
  const cancelled = await cancelPaymentRequest(services.sql, request);
  await recordAudit(services, actor, { action: 'payment_request.cancel', currency_id: currency.id, object: { kind: 'payment_request', id: request.id } });
  return { request: cancelled, currency, shop };
}

/**
 * Pays a payment request from the wallet, at most once; the request sets shop and amount.
 * No lookup first: the batch locks the request in the wallet's currency and refuses what it
 * cannot pay; only then is a missing request told apart from one of another currency.
 */
export async function payRequest<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, wallet_account_id: string, typed_id: string,
  present: Present<T>, helper?: Helping,
): Promise<Answer<T>> {
  const request_id = typed_id.toLowerCase();
  if (!uuid_pattern.test(request_id)) throw new DomainError('not_found', 'no such payment request');
  try {
    return await payRequestNow(services, actor, currency, key, wallet_account_id, request_id, present, helper);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'not_found') {
      const elsewhere = await services.loaders.paymentRequest.load(request_id);
      if (elsewhere !== undefined && elsewhere.request.currency_id !== currency.id) {
        throw new DomainError('wrong_currency', `this shop asks for ${elsewhere.currency.name}; your wallet holds another currency`);
      }
    }
    throw error;
  }
}

/** A helper paying from the wallet they help: who they are, and the time their month is counted at. */
interface Helping {
  helper_account_id: string;
  now: Date;
}

async function payRequestNow<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, wallet_account_id: string, request_id: string,
  present: Present<T>, helper: Helping | undefined,
): Promise<Answer<T>> {
  // Only the helper's account: sealed history holds no name (names are read where shown, and erasure never touches it).
  const on_behalf = helper === undefined ? {} : { helper_account_id: helper.helper_account_id };
  const command: Command & { idempotency: Idempotency } = {
    idempotency: key, pays_request: request_id,
    posting: { id: newTransferId(), code: 'payment', debit_account_id: wallet_account_id, created_by: actor.label, metadata: on_behalf },
  };
  const respond = (transfer: Transfer, _request: HeldRequest | undefined) => ({
    status: 201, body: present(transfer),
    audit: {
      action: helper === undefined ? 'payment.pay' as const : 'payment.pay_for' as const,
      currency_id: currency.id, object: { kind: 'payment_request' as const, id: request_id },
      changes: {
        amount: formatAmount(transfer.amount, currency.scale), transfer: transfer.id,
        ...(helper === undefined ? {} : { wallet: wallet_account_id, ...on_behalf }),
      },
    },
  });
  if (helper === undefined) return post(services, actor, currency, command, respond);
  // The link is read under a lock held until the payment commits: a coordinator's unlink waits
  // for it, so no helper's payment is made once the unlink has answered.
  return transaction(services.sql, async (tx) => {
    const link = await lockActiveHelperLink(tx, currency.id, wallet_account_id, helper.helper_account_id);
    // Without a link: refused, yet a payment made under the same key before the unlink is replayed.
    if (link === undefined) return (await postWithin(tx, actor, currency, { ...command, refusal: fail('forbidden', {}) }, respond)).answer;
    const limit = helperLimit(link, helper.now);
    await ensureCounter(tx, currency.id, limit.account_id, limit.period);
    return (await postWithin(tx, actor, currency, { ...command, limits: [limit] }, respond)).answer;
  });
}

/**
 * A helper pays a payment request from the wallet they help (`on_behalf_of`): only while a
 * coordinator's link is active (403 otherwise, also after it was revoked), and within the
 * link's monthly maximum, counted and locked by the posting pipeline with the payment. The
 * payment names the helper's account (metadata), so both histories and the audit log say who paid for whom.
 */
export async function payRequestFor<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, helper: { account_id: string; display_name: string },
  on_behalf_of: string, typed_id: string, present: Present<T>, now = new Date(),
): Promise<Answer<T>> {
  const helped = on_behalf_of.toLowerCase();
  if (!uuid_pattern.test(helped)) throw new DomainError('forbidden', 'you are not a helper of this wallet');
  return payRequest(services, actor, currency, key, helped, typed_id, present, { helper_account_id: helper.account_id, now });
}

/**
 * A payment typed on the shop's tablet from a scanned card and the customer's PIN. A wrong card
 * or PIN is 422 `invalid_card_or_pin`: the tablet itself stays signed in.
 */
export async function chargeCard<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency,
  input: { shop: Shop; device_id: string; card: string; pin: string; amount: bigint; memo: string | null },
  present: Present<T>,
): Promise<Answer<T>> {
  const { card, wallet } = await checkCardPin(services, actor, input.card, input.pin, 'invalid_card_or_pin');
  if (wallet.currency_id !== currency.id) throw new DomainError('wrong_currency', `this card is not a ${currency.name} card`);
  return post(services, actor, currency, {
    idempotency: key,
    posting: {
      id: newTransferId(), code: 'payment', debit_account_id: wallet.account_id,
      credit_account_id: input.shop.account_id, amount: input.amount, memo: input.memo, created_by: actor.label,
      metadata: { device_id: input.device_id, via: 'card' },
    },
  }, (transfer) => ({
    status: 201, body: present(transfer),
    // Never the PIN: only which card paid how much.
    audit: {
      action: 'payment.charge', currency_id: currency.id, object: { kind: 'transfer', id: transfer.id },
      changes: { card: card.code, wallet: wallet.account_id, amount: formatAmount(input.amount, currency.scale), memo: input.memo },
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
      // No memo: a person reads "refund" from the code in their own language; metadata links the payment.
      amount: input.amount, memo: null, created_by: actor.label,
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
