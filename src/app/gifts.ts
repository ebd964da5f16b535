/**
 * Gifts between neighbours and helpers (#20, points 3 and 4): a wallet's receive code, a gift
 * from one wallet to another through the one posting pipeline (within the giver's daily limit),
 * and the links a coordinator makes between a volunteer's wallet and a helper's. A helper's
 * payment itself is a payment (src/app/payments.ts, `payRequestFor`). docs/gifts-and-helpers.md.
 */
import { randomBytes } from 'node:crypto';
import type { Idempotency } from '../ledger/batch.js';
import type { Currency, Transfer } from '../ledger/model.js';
import { DomainError, assert } from '../ledger/errors.js';
import { failureError } from '../ledger/failures.js';
import { formatAmount } from '../ledger/amount.js';
import { newTransferId, uuid_pattern } from '../ledger/ids.js';
import { giftLimits, helperMonth, receiveCodeFromBytes, receiveCodeOf, refuseGifts } from '../ledger/gifts.js';
import {
  listHelperLinks, receiveCodeOfWallet, revokeHelperLink, upsertHelperLink, walletByReceiveCode,
} from '../db/gifts.js';
import type { HelperLinkView } from '../db/gifts.js';
import { findWallet } from '../db/volunteers.js';
import type { Wallet } from '../db/volunteers.js';
import type { Actor, Services } from './context.js';
import { recordAudit } from './context.js';
import { post } from './posting.js';
import type { Answer } from './posting.js';

/** The code of the wallet's receive QR: the same every time, made the first time it is asked for. */
export async function receiveCode(services: Services, wallet: Pick<Wallet, 'currency_id' | 'account_id'>): Promise<string> {
  return receiveCodeOfWallet(services.sql, wallet.currency_id, wallet.account_id, receiveCodeFromBytes(randomBytes(20)));
}

/** Who a scanned receive code (or its URL) names, for the giver's screen before sending. */
export async function giftReceiver(services: Services, currency: Currency, typed: string): Promise<{ account_id: string; display_name: string }> {
  const refused = refuseGifts(currency);
  if (refused !== undefined) throw failureError(refused.code, refused.detail, currency.scale);
  const code = receiveCodeOf(typed);
  const receiver = code === undefined ? undefined : await walletByReceiveCode(services.sql, currency.id, code);
  if (receiver === undefined) throw new DomainError('receive_code_unknown', 'this receive code names no wallet of this currency');
  return receiver;
}

/**
 * Gives coins from the giver's wallet to the wallet its receive code names: a transfer of code
 * `gift` with the giver's memo, within the currency's daily limit per giver (counted and locked
 * by the posting pipeline, so concurrent gifts cannot pass it together).
 */
export async function giveGift<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, giver: Pick<Wallet, 'account_id' | 'display_name'>,
  input: { to: string; amount: bigint; memo: string | null }, present: (transfer: Transfer) => T, now = new Date(),
): Promise<Answer<T>> {
  // Gifts turned off: refused by the pipeline after the Idempotency-Key, so a gift made before is replayed.
  const refused = refuseGifts(currency);
  const code = receiveCodeOf(input.to);
  const receiver = code === undefined ? undefined : await walletByReceiveCode(services.sql, currency.id, code);
  if (receiver === undefined) {
    throw refused === undefined
      ? new DomainError('receive_code_unknown', 'this receive code names no wallet of this currency')
      : failureError(refused.code, refused.detail, currency.scale);
  }
  return post(services, actor, currency, {
    idempotency: key, limits: giftLimits(currency, giver.account_id, now), ...(refused === undefined ? {} : { refusal: refused }),
    posting: {
      id: newTransferId(), code: 'gift', debit_account_id: giver.account_id, credit_account_id: receiver.account_id,
      amount: input.amount, memo: input.memo, created_by: actor.label,
    },
  }, (transfer) => ({
    status: 201, body: present(transfer),
    audit: {
      action: 'gift.give', currency_id: currency.id, object: { kind: 'transfer', id: transfer.id },
      changes: { from: giver.account_id, to: receiver.account_id, amount: formatAmount(input.amount, currency.scale), memo: input.memo },
    },
  }));
}

async function walletOf(services: Services, currency: Currency, account_id: string, path: string): Promise<Wallet> {
  const wallet = await findWallet(services.sql, account_id);
  if (wallet === undefined || wallet.currency_id !== currency.id) {
    throw new DomainError('validation_failed', `no wallet ${account_id} in ${currency.code}`, { errors: [{ path, message: 'not a wallet of this currency' }] });
  }
  return wallet;
}

/**
 * A coordinator links a helper's wallet to a volunteer's: the helper may pay shops from it, at
 * most `month_max` a calendar month. Linking an existing or revoked helper again sets the maximum.
 */
export async function linkHelper(
  services: Services, actor: Actor, currency: Currency, wallet: Wallet, helper_account_id: string, month_max: bigint,
): Promise<HelperLinkView> {
  const helper = await walletOf(services, currency, helper_account_id.toLowerCase(), 'helper_wallet');
  if (helper.account_id === wallet.account_id) {
    throw new DomainError('validation_failed', 'a wallet cannot help itself', { errors: [{ path: 'helper_wallet', message: 'another wallet than the helped one' }] });
  }
  const link = await upsertHelperLink(services.sql, currency.id, wallet.account_id, helper.account_id, month_max);
  await recordAudit(services, actor, {
    action: 'helper.link', currency_id: currency.id, object: { kind: 'wallet', id: wallet.account_id },
    changes: { helper: helper.account_id, month_max: formatAmount(month_max, currency.scale) },
  });
  const [view] = (await helperLinks(services, currency, wallet.account_id, 'helped')).filter((l) => l.helper_account_id === link.helper_account_id);
  assert(view !== undefined, 'a new link is active');
  return view;
}

/** Ends a helper's link at once: their next payment from the wallet is refused (403). */
export async function unlinkHelper(services: Services, actor: Actor, currency: Currency, wallet: Wallet, helper_account_id: string): Promise<void> {
  const helper = helper_account_id.toLowerCase();
  const revoked = uuid_pattern.test(helper) ? await revokeHelperLink(services.sql, currency.id, wallet.account_id, helper) : undefined;
  if (revoked === undefined) throw new DomainError('not_found', 'this wallet has no such helper');
  await recordAudit(services, actor, {
    action: 'helper.unlink', currency_id: currency.id, object: { kind: 'wallet', id: wallet.account_id },
    changes: { helper: revoked.helper_account_id },
  });
}

/** The wallets a helper helps (`side: 'helper'`) or the helpers of a wallet, with this month's spending. */
export async function helperLinks(
  services: Services, currency: Currency, account_id: string, side: 'helper' | 'helped', now = new Date(),
): Promise<HelperLinkView[]> {
  return listHelperLinks(services.sql, currency.id, account_id, side, helperMonth(now));
}
