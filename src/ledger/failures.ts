import { formatAmount } from './amount.js';
import { DomainError, isErrorCode } from './errors.js';

/** Detail the database reports with a failed transfer: ids, names, amounts in minor units. */
export type FailureDetail = Record<string, unknown>;

function amountIn(detail: FailureDetail, key: string, scale: number): string {
  const value = detail[key];
  return typeof value === 'string' && /^-?[0-9]+$/.test(value) ? formatAmount(BigInt(value), scale) : '?';
}

function accountIn(detail: FailureDetail): string {
  const name = detail.account_name;
  const id = detail.account_id;
  return typeof name === 'string' ? `${name} (${String(id)})` : `account ${String(id ?? '?')}`;
}

/** The sentence for volunteer_cap_exceeded: the reward, the day's or year's cap, and what is left of it. */
function capExceeded(detail: FailureDetail, scale: number): string {
  const day = detail.period === 'day';
  return `this reward of ${amountIn(detail, 'amount', scale)} would cross the ${day ? 'day' : 'year'} cap of ${amountIn(detail, 'cap', scale)}; `
    + `${amountIn(detail, 'left', scale)} left ${day ? 'today' : 'this year'}`;
}

/** The sentence for gift_limit_exceeded and helper_limit_exceeded: the amount, the limit, what is left. */
function limitExceeded(code: string, detail: FailureDetail, scale: number): string {
  const what = code === 'gift_limit_exceeded' ? 'gifts of this wallet' : 'payments by this helper from this wallet';
  const when = detail.period === 'day' ? 'today' : 'this month';
  return `${amountIn(detail, 'amount', scale)} would take the ${what} past their limit of ${amountIn(detail, 'cap', scale)} `
    + `a ${String(detail.period)}; ${amountIn(detail, 'left', scale)} left ${when}`;
}

/** Failures whose sentence needs no detail. */
const fixed_sentences: Record<string, string> = {
  same_account: 'debit and credit account are the same',
  already_paid: 'this payment request was already paid',
  cancelled: 'the shop cancelled this payment request',
  already_claimed: 'this volunteer was already rewarded for this session',
  session_closed: 'the coordinator ended this session; ask for a new QR code',
  activity_inactive: 'this activity has been stopped; its sessions reward no one any more',
  not_refundable: 'only payments to this shop can be refunded',
  amount_too_large: 'the amount would take a balance beyond what the ledger can hold',
  gifts_disabled: 'this currency does not allow gifts between wallets',
  forbidden: 'you are not (or no longer) a helper of this wallet',
};

/** A sentence for a failed transfer, with amounts in coin units of the currency. */
export function describeFailure(code: string, detail: FailureDetail, scale: number): string {
  const fixed = fixed_sentences[code];
  if (fixed !== undefined) return fixed;
  switch (code) {
    case 'insufficient_funds':
      return `${accountIn(detail)} has only ${amountIn(detail, 'available', scale)} available`;
    case 'balance_max_exceeded':
      return `${accountIn(detail)} can receive at most ${amountIn(detail, 'room', scale)} more`;
    case 'account_frozen':
    case 'account_closed':
      return `${accountIn(detail)} is ${code === 'account_frozen' ? 'frozen' : 'closed'}`;
    case 'account_not_found':
      return `${accountIn(detail)} does not exist in this currency`;
    case 'already_exists':
      return `a transfer with id ${String(detail.transfer_id ?? '')} already exists`;
    case 'already_reversed':
      return `transfer ${String(detail.transfer_id ?? '')} was already reversed`;
    case 'already_resolved':
      return `pending transfer ${String(detail.transfer_id ?? '')} was already posted or voided`;
    case 'not_pending':
      return `transfer ${String(detail.transfer_id ?? '')} is not pending`;
    case 'not_reversible':
      return `transfer ${String(detail.transfer_id ?? '')} is ${String(detail.phase ?? 'not posted')}; void a pending transfer instead`;
    case 'amount_exceeds_pending':
      return `at most the pending amount ${amountIn(detail, 'pending_amount', scale)} can be posted`;
    case 'transfer_not_found':
      return `no transfer ${String(detail.transfer_id ?? '')}`;
    case 'expired':
      return detail.session_id === undefined
        ? 'this payment request has expired; ask the shop for a new one'
        : 'this session has ended; ask the coordinator for a new QR code';
    case 'session_full':
      return `this session already rewarded its maximum of ${String(detail.max_claims ?? '?')} volunteers`;
    case 'invalid_token':
      return 'this claim QR code names no session';
    case 'volunteer_cap_exceeded':
      return capExceeded(detail, scale);
    case 'gift_limit_exceeded':
    case 'helper_limit_exceeded':
      return limitExceeded(code, detail, scale);
    case 'not_found':
      return 'no such payment request';
    case 'already_refunded':
      return `payment ${String(detail.transfer_id ?? '')} was refunded in full: nothing is left to reverse`;
    case 'reversal_exceeds_left':
      return `a correction gives back at most what is left of the transfer: ${amountIn(detail, 'left', scale)}`;
    case 'refund_exceeds_payment':
      return `a refund cannot exceed what is left of the payment: ${amountIn(detail, 'left', scale)}`;
    case 'code_not_allowed':
      return `a coordinator cannot make a transfer with code ${String(detail.code ?? '?')}: ${String(detail.reason ?? '')}`;
    case 'reason_required':
      return 'coins taken out of a wallet or a shop need a reason (memo): the holder reads it in their history';
    case 'account_not_empty':
      return `${accountIn(detail)} still holds ${amountIn(detail, 'balance', scale)} (and ${amountIn(detail, 'pending', scale)} reserved); `
        + 'move the coins out (an adjustment with a reason) and resolve its cash-outs before closing it';
    default:
      return code.replace(/_/g, ' ');
  }
}

/** The domain error for a failed transfer (unknown codes become invalid_transfer). */
export function failureError(code: string, detail: FailureDetail, scale: number): DomainError {
  const known = isErrorCode(code) ? code : 'invalid_transfer';
  const extra: Record<string, unknown> = {};
  if (typeof detail.account_id === 'string') extra.account_id = detail.account_id;
  // Machine-readable amounts, for screens that say what is still possible.
  if (code === 'insufficient_funds') extra.available = amountIn(detail, 'available', scale);
  if (code === 'balance_max_exceeded') extra.room = amountIn(detail, 'room', scale);
  if (code === 'refund_exceeds_payment' || code === 'reversal_exceeds_left') Object.assign(extra, { left: amountIn(detail, 'left', scale), left_minor: String(detail.left ?? '0') });
  if (code === 'account_not_empty') Object.assign(extra, { balance: amountIn(detail, 'balance', scale), pending: amountIn(detail, 'pending', scale) });
  if (code === 'volunteer_cap_exceeded' || code === 'gift_limit_exceeded' || code === 'helper_limit_exceeded') {
    Object.assign(extra, { cap: amountIn(detail, 'cap', scale), left: amountIn(detail, 'left', scale), period: detail.period });
  }
  return new DomainError(known, describeFailure(code, detail, scale), extra);
}
