import { Decimal } from 'decimal.js';
import { euroValue, formatAmount } from '../ledger/amount.js';
import type { Redemption } from '../db/shops.js';
import { balanceOf, availableOf, statusOf } from '../ledger/model.js';
import type { Account, Currency, Entry, Transfer } from '../ledger/model.js';

/** JSON shapes of the API: amounts as decimal strings with exactly the currency's scale. */

/** An exact rate without the storage's trailing zeros, but with at least cents: "0.10", "0.125". */
function formatRate(rate: string): string {
  const value = new Decimal(rate);
  return value.decimalPlaces() < 2 ? value.toFixed(2) : value.toFixed();
}

function optionalAmount(minor: bigint | null, scale: number): string | null {
  return minor === null ? null : formatAmount(minor, scale);
}

export function presentCurrency(currency: Currency) {
  return {
    id: currency.id,
    code: currency.code,
    name: currency.name,
    scale: currency.scale,
    euro_per_unit: formatRate(currency.euro_per_unit),
    wallet_balance_max: optionalAmount(currency.wallet_balance_max, currency.scale),
    volunteer_cap_day: optionalAmount(currency.volunteer_cap_day, currency.scale),
    volunteer_cap_year: optionalAmount(currency.volunteer_cap_year, currency.scale),
    payment_request_ttl_s: currency.payment_request_ttl_s,
    issuance_account: currency.issuance_account_id,
    payer: currency.payer_iban === null ? null : { name: currency.payer_name, iban: currency.payer_iban, bic: currency.payer_bic },
    sepa_version: currency.sepa_version,
    validity_days: currency.validity_days,
    validity_from: currency.validity_from?.toISOString().slice(0, 10) ?? null,
    gifts_enabled: currency.gifts_enabled,
    gift_day_max: optionalAmount(currency.gift_day_max, currency.scale),
    created_at: currency.created_at.toISOString(),
  };
}

export function presentAccount(account: Account, currency: Currency) {
  return {
    id: account.id,
    currency: currency.code,
    kind: account.kind,
    name: account.name,
    balance: formatAmount(balanceOf(account), currency.scale),
    available: formatAmount(availableOf(account), currency.scale),
    pending_debits: formatAmount(account.debits_pending, currency.scale),
    pending_credits: formatAmount(account.credits_pending, currency.scale),
    status: account.status,
    status_reason: account.status_reason,
    created_at: account.created_at.toISOString(),
  };
}

export function presentTransfer(transfer: Transfer, currency: Currency) {
  return {
    id: transfer.id,
    currency: currency.code,
    debit_account: transfer.debit_account_id,
    credit_account: transfer.credit_account_id,
    amount: formatAmount(transfer.amount, currency.scale),
    code: transfer.code,
    memo: transfer.memo,
    metadata: transfer.metadata,
    status: statusOf(transfer),
    ...(transfer.pending_id === null ? {} : { pending_id: transfer.pending_id }),
    ...(transfer.reverses_id === null ? {} : { reverses: transfer.reverses_id }),
    created_by: transfer.created_by,
    created_at: transfer.created_at.toISOString(),
  };
}

export function presentEntry(entry: Entry, currency: Currency) {
  return {
    transfer_id: entry.transfer_id,
    amount: formatAmount(entry.amount, currency.scale),
    balance_after: formatAmount(entry.balance_after, currency.scale),
    code: entry.code,
    memo: entry.memo,
    counterparty: { id: entry.counterparty_id, name: entry.counterparty_name, kind: entry.counterparty_kind },
    activity: entry.activity_id === null ? null : { id: entry.activity_id, name: entry.activity_name ?? {} },
    reversed: entry.reversed,
    refund_of: entry.refund_of,
    reverses: entry.reverses,
    on_behalf: entry.helper_id === null || entry.helped_id === null ? null : {
      helper: { id: entry.helper_id, name: entry.helper_name ?? '' }, volunteer: { id: entry.helped_id, name: entry.helped_name ?? '' },
    },
    for_other: entry.for_other === true,
    created_at: entry.created_at.toISOString(),
  };
}

export function presentRedemption(redemption: Redemption, currency: Currency) {
  return {
    id: redemption.id, shop: redemption.shop_account_id, status: redemption.status,
    amount: formatAmount(redemption.amount, currency.scale),
    euro_amount: euroValue(redemption.amount, currency.scale, currency.euro_per_unit),
    transfer_id: redemption.transfer_id, created_at: redemption.created_at.toISOString(),
    decided_at: redemption.decided_at?.toISOString() ?? null,
  };
}

/** A wallet's coins that expire soon, per day. */
export function presentExpiring(expiring: Array<{ amount: bigint; on: string }>, currency: Currency) {
  return expiring.map((e) => ({ amount: formatAmount(e.amount, currency.scale), on: e.on }));
}

/** The room left under a currency's caps, with the caps themselves (null: none set). */
export function presentEarningRoom(room: { day: bigint | null; year: bigint | null } | undefined, currency: Currency) {
  if (room === undefined) return null;
  return {
    day: optionalAmount(room.day, currency.scale), year: optionalAmount(room.year, currency.scale),
    cap_day: optionalAmount(currency.volunteer_cap_day, currency.scale), cap_year: optionalAmount(currency.volunteer_cap_year, currency.scale),
  };
}
