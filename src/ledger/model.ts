import type { SepaVersion } from './sepa.js';

/** Kinds of account; only issuance may go below zero. */
export const account_kinds = ['issuance', 'programme', 'wallet', 'shop'] as const;
export type AccountKind = (typeof account_kinds)[number];

export const account_statuses = ['active', 'frozen', 'closed'] as const;
export type AccountStatus = (typeof account_statuses)[number];

/** Why value moved. */
export const transfer_codes = [
  'budget', 'issue', 'reward', 'payment', 'refund', 'redemption', 'reversal', 'adjustment', 'expiry', 'gift',
] as const;
export type TransferCode = (typeof transfer_codes)[number];

/** single: posted at once; pending: reserved; post/void: resolve a pending transfer. */
export type TransferPhase = 'single' | 'pending' | 'post' | 'void';
export type TransferStatus = 'posted' | 'pending' | 'voided';

export interface Currency {
  id: number;
  code: string;
  name: string;
  scale: number;
  /** Exact decimal string. */
  euro_per_unit: string;
  wallet_balance_max: bigint | null;
  volunteer_cap_day: bigint | null;
  volunteer_cap_year: bigint | null;
  payment_request_ttl_s: number;
  issuance_account_id: string;
  /** The city's account that pays shops' cash-outs (for SEPA files). */
  payer_name: string | null;
  payer_iban: string | null;
  payer_bic: string | null;
  /** The pain.001 version of its SEPA files: '09' unless its bank still needs '03'. */
  sepa_version: SepaVersion;
  /** Days the coins in a wallet stay valid after they were earned; null: they never expire. */
  validity_days: number | null;
  /** The local day (at UTC midnight) from which the current validity counts; set with validity_days. */
  validity_from: Date | null;
  /** Whether wallets may give coins to one another (off by default). */
  gifts_enabled: boolean;
  /** What a wallet may give in a local day; null: no daily limit. */
  gift_day_max: bigint | null;
  /** Raised by the database whenever an account or activity of the currency is renamed (migrations/0019). */
  names_version: bigint;
  /** Raised by the database on every change of the row (migrations/0020). */
  row_version: bigint;
  /** Raised by the database whenever a wallet session, card or wallet of the currency changes (migrations/0021). */
  sessions_version: bigint;
  created_at: Date;
}

export interface Account {
  id: string;
  currency_id: number;
  kind: AccountKind;
  name: string;
  status: AccountStatus;
  /** Why a coordinator froze or closed it; null while active. */
  status_reason: string | null;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  version: bigint;
  created_at: Date;
}

/** Posted balance of an account, in minor units. */
export function balanceOf(account: Account): bigint {
  return account.credits_posted - account.debits_posted;
}

/** What may still be spent: the posted balance minus reserved debits. */
export function availableOf(account: Account): bigint {
  return account.credits_posted - account.debits_posted - account.debits_pending;
}

export interface Transfer {
  id: string;
  currency_id: number;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  code: TransferCode;
  phase: TransferPhase;
  pending_id: string | null;
  reverses_id: string | null;
  memo: string | null;
  metadata: Record<string, unknown>;
  created_by: string;
  created_at: Date;
  /** For pending transfers: the phase of the transfer that resolved it, if any. */
  resolved_by_phase?: 'post' | 'void' | null;
}

/** The status a client sees: a pending transfer becomes posted or voided once resolved. */
export function statusOf(t: Transfer): TransferStatus {
  if (t.phase === 'void') return 'voided';
  if (t.phase === 'pending') {
    if (t.resolved_by_phase === 'post') return 'posted';
    if (t.resolved_by_phase === 'void') return 'voided';
    return 'pending';
  }
  return 'posted';
}

/** One transfer to apply. Accounts and amount are taken from the referenced transfer for
 * post/void (amount optional for post) and for reversals. */
export interface TransferRequest {
  id: string;
  phase: TransferPhase;
  code: TransferCode;
  debit_account_id?: string;
  credit_account_id?: string;
  amount?: bigint;
  pending_id?: string;
  reverses_id?: string;
  memo?: string | null;
  metadata?: Record<string, unknown>;
  created_by: string;
}

export interface Entry {
  transfer_id: string;
  account_id: string;
  version: bigint;
  amount: bigint;
  balance_after: bigint;
  code: TransferCode;
  memo: string | null;
  counterparty_id: string;
  counterparty_name: string;
  /** So that a screen names the city's issuance or a programme in its own language. */
  counterparty_kind: AccountKind;
  created_at: Date;
  /** For rewards: the activity, named per language. */
  activity_id: string | null;
  activity_name: Record<string, string> | null;
  /** A coordinator's correction reversed this transfer (it is not offered for correction again). */
  reversed: boolean;
  /** For a refund: the payment it gives (part of) back. */
  refund_of: string | null;
  /** For a reversal: the transfer it takes back, in whole or in part. */
  reverses: string | null;
  /** For a payment a helper made from the wallet they help: the helper's and the helped wallet. */
  helper_id: string | null;
  helper_name: string | null;
  helped_id: string | null;
  helped_name: string | null;
  /**
   * A helper's own history: a payment it made from a wallet it helps. Its amount left that
   * wallet, not this one; its balance_after is this account's balance, which it did not change.
   */
  for_other?: boolean;
}

export type TransferResult =
  | { ok: true; transfer: Transfer }
  | { ok: false; code: string; detail: Record<string, unknown> };

/**
 * The checks of `verify` (DESIGN.md's invariants on live data, and the seals of history), by the
 * names the API gives them; the console says each in its own language (test/console-labels.test.ts).
 */
export const verify_checks = [
  'sum_is_zero', 'balances_match_transfers', 'balances_match_entries', 'balances_within_limits', 'history_append_only',
  'no_cross_currency', 'at_most_once', 'limits_counted', 'seals', 'coins_within_validity',
] as const;
export type VerifyCheck = (typeof verify_checks)[number];

export interface CheckResult {
  name: VerifyCheck;
  ok: boolean;
  detail: string;
}
