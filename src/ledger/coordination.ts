/**
 * What a coordinator may move by hand. Payments, refunds and cash-outs are made only by their
 * own use cases (a wallet's PIN or token, a shop's tablet, a cash-out's approval, the daily
 * expiry run, a wallet's gift), and rewards
 * only from a programme to a wallet: a coordinator never acts as a volunteer or a shop. Coins
 * taken out of a wallet or a shop are an `adjustment` with a reason the holder will read.
 */
import type { Account } from './model.js';
import type { Failure, HeldAccount, Posting } from './batch.js';
import { fail } from './batch.js';

const own_use_case_codes = new Set(['payment', 'refund', 'redemption', 'expiry', 'gift']);

export function refuseCoordinatorTransfer(debit: HeldAccount, credit: HeldAccount, posting: Posting): Failure | undefined {
  const code = posting.code;
  if (own_use_case_codes.has(code)) {
    return fail('code_not_allowed', { code, reason: 'made only by its own use case' });
  }
  if (code === 'reward' && (debit.kind !== 'programme' || credit.kind !== 'wallet')) {
    return fail('code_not_allowed', { code, reason: 'a reward goes from a programme to a wallet' });
  }
  if (debit.kind === 'wallet' || debit.kind === 'shop') {
    if (code !== 'adjustment') return fail('code_not_allowed', { code, reason: `out of a ${debit.kind}, only an adjustment` });
    if ((posting.memo ?? '').trim() === '') return fail('reason_required', { account_id: debit.id });
  }
  return undefined;
}

/**
 * An account is closed only once it holds nothing, posted or reserved: closed, its coins could
 * never be spent, moved or cashed, yet would still count as the city's liability.
 */
export function refuseClosing(account: Account): Failure | undefined {
  const balance = account.credits_posted - account.debits_posted;
  if (balance !== 0n || account.debits_pending !== 0n || account.credits_pending !== 0n) {
    return fail('account_not_empty', {
      account_id: account.id, account_name: account.name, balance: balance.toString(),
      pending: (account.debits_pending + account.credits_pending).toString(),
    });
  }
  return undefined;
}
