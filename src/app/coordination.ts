/**
 * Coordination: what a coordinator does with the ledger by hand — open and close accounts,
 * issue coins, move them with a reason, post lists, reverse, and resolve reservations. Every
 * movement takes the one posting pipeline (posting.ts); what a coordinator may not move is
 * decided by src/ledger/coordination.ts, and a transfer that belongs to a cash-out is handed
 * to the cash-out use cases, which keep the cash-out and its payout in step with it. Also the
 * currency itself (created by an admin, its settings) and the shops registered in it.
 */
import type { Command, Idempotency, Posting } from '../ledger/batch.js';
import type { Account, AccountKind, AccountStatus, Currency, Transfer, TransferResult } from '../ledger/model.js';
import { DomainError, ValidationError } from '../ledger/errors.js';
import { failureError } from '../ledger/failures.js';
import { refuseClosing, refuseCoordinatorTransfer } from '../ledger/coordination.js';
import { newTransferId } from '../ledger/ids.js';
import { formatAmount, parseAmount } from '../ledger/amount.js';
import { changeAccountStatus, findAccountsIn, insertAccount, insertCurrency, updateCurrencySettings } from '../db/ledger.js';
import { insertDefaultCatalogue } from '../db/volunteers.js';
import { insertShop, updateShop } from '../db/shops.js';
import type { Shop } from '../db/shops.js';
import type { Actor, Services } from './context.js';
import { recordAudit } from './context.js';
import { makePairingCode } from './access.js';
import { post, postList } from './posting.js';
import type { Answer, Outcome } from './posting.js';
import { decideRedemptionOf, reverseCashOut } from './cashouts.js';

type Present<T> = (transfer: Transfer) => T;

export async function openAccount(services: Services, actor: Actor, currency: Currency, kind: Exclude<AccountKind, 'issuance'>, name: string): Promise<Account> {
  const account = await insertAccount(services.sql, currency, kind, name);
  await recordAudit(services, actor, { action: 'account.create', currency_id: currency.id, object: { kind: 'account', id: account.id }, changes: { kind, name } });
  return account;
}

/**
 * Freeze, unfreeze or close; a closed account stays closed, and closes only when empty. Freezing
 * needs a reason, which the account shows and the audit log keeps.
 */
export async function setAccountStatus(
  services: Services, actor: Actor, currency: Currency, account: Account, status: AccountStatus, reason: string | null = null,
): Promise<Account> {
  if (account.status === 'closed' && status !== 'closed') throw new DomainError('account_closed', 'a closed account stays closed');
  if (status === 'frozen' && reason === null) throw new DomainError('reason_required', 'say why the account is frozen: the reason is shown with it and kept in the audit log');
  return changeAccountStatus(services.sql, account, status, reason, (locked) => {
    const refused = status === 'closed' && locked.status !== 'closed' ? refuseClosing(locked) : undefined;
    if (refused !== undefined) throw failureError(refused.code, refused.detail, currency.scale);
    return actor.record({
      action: 'account.update', currency_id: currency.id, object: { kind: 'account', id: account.id },
      changes: { status: { from: locked.status, to: status }, ...(reason === null ? {} : { reason }) },
    });
  });
}

/** A transfer a coordinator asks for, as the pipeline's command. */
export interface TransferInput {
  id?: string;
  phase: 'single' | 'pending';
  code: Posting['code'];
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  memo: string | null;
  metadata: Record<string, unknown>;
}

function transferCommand(actor: Actor, input: TransferInput): Command {
  return {
    client_id: input.id !== undefined, rule: refuseCoordinatorTransfer,
    posting: { ...input, id: input.id ?? newTransferId(), created_by: actor.label },
  };
}

/** "No account X in this currency": named as another currency's when it is one. */
export async function explained(services: Services, currency: Currency, error: unknown): Promise<unknown> {
  if (!(error instanceof DomainError) || error.code !== 'account_not_found' || typeof error.extra.account_id !== 'string') return error;
  const [found] = await findAccountsIn(services.sql, [error.extra.account_id]);
  if (found === undefined || found.currency_id === currency.id) return error;
  return new DomainError('cross_currency', `account ${found.id} is not in ${currency.code}`, { account_id: found.id });
}

export async function transfer<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, input: TransferInput, present: Present<T>,
): Promise<Answer<T>> {
  try {
    return await post(services, actor, currency, { ...transferCommand(actor, input), idempotency: key }, (t) => ({
      status: 201, body: present(t),
      audit: { action: 'transfer.create', currency_id: currency.id, object: { kind: 'transfer', id: t.id }, changes: auditedInput(input, currency) },
    }));
  } catch (error) {
    throw await explained(services, currency, error);
  }
}

/** The transfer as the coordinator asked for it, in the API's words, for the audit log. */
function auditedInput(input: TransferInput, currency: Currency): Record<string, unknown> {
  return {
    ...(input.id === undefined ? {} : { id: input.id }),
    debit_account: input.debit_account_id, credit_account: input.credit_account_id,
    amount: formatAmount(input.amount, currency.scale), code: input.code,
    ...(input.memo === null ? {} : { memo: input.memo }),
    pending: input.phase === 'pending',
    ...(Object.keys(input.metadata).length === 0 ? {} : { metadata: input.metadata }),
  };
}

/** Which of these account ids belong to another currency (named so in a list's results). */
export async function foreignAccounts(services: Services, currency: Currency, ids: string[]): Promise<Set<string>> {
  const found = await findAccountsIn(services.sql, [...new Set(ids)]);
  return new Set(found.filter((a) => a.currency_id !== currency.id).map((a) => a.id));
}

/** A list under one key: atomically (all or none) or item by item. */
export async function transferList<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, inputs: TransferInput[], atomic: boolean,
  respond: (results: TransferResult[]) => Outcome<T>,
): Promise<Answer<T>> {
  return postList(services, actor, currency, key, inputs.map((input) => transferCommand(actor, input)), atomic, respond);
}

/** New coins from the issuance account: a programme's budget, or an issue to anyone else. */
export async function issue<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency,
  input: { to_account: string; amount: bigint; memo: string | null }, present: Present<T>,
): Promise<Answer<T>> {
  const [target] = await findAccountsIn(services.sql, [input.to_account]);
  if (target === undefined) throw new DomainError('account_not_found', `no account ${input.to_account}`);
  if (target.currency_id !== currency.id) throw new DomainError('cross_currency', `account ${target.id} is not in ${currency.code}`);
  if (target.kind === 'issuance') throw new DomainError('same_account', 'coins cannot be issued to the issuance account');
  const posting: Posting = {
    id: newTransferId(), code: target.kind === 'programme' ? 'budget' : 'issue',
    debit_account_id: currency.issuance_account_id, credit_account_id: target.id, amount: input.amount,
    memo: input.memo, created_by: actor.label,
  };
  return post(services, actor, currency, { posting, idempotency: key }, (t) => ({
    status: 201, body: present(t),
    audit: { action: 'transfer.issue', currency_id: currency.id, object: { kind: 'transfer', id: t.id }, changes: {
      to_account: input.to_account, amount: formatAmount(input.amount, currency.scale), ...(input.memo === null ? {} : { memo: input.memo }),
    } },
  }));
}

/**
 * A correction the other way, at most once. A payment partly refunded is reversed for what is
 * left; an approved cash-out only together with its payout (cashouts.ts).
 */
export async function reverse<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, original: Transfer, input: { memo: string | null; amount?: bigint | undefined },
  present: Present<T>,
): Promise<Answer<T>> {
  const { memo, amount } = input;
  if (original.code === 'redemption' && original.phase === 'post') {
    if (amount !== undefined) throw new ValidationError([{ path: 'amount', message: 'an approved cash-out is corrected whole, together with its payout' }]);
    return reverseCashOut(services, actor, currency, key, original, memo, present);
  }
  const posting: Posting = {
    id: newTransferId(), code: 'reversal', reverses_id: original.id, memo, created_by: actor.label, ...(amount === undefined ? {} : { amount }),
  };
  return post(services, actor, currency, { posting, idempotency: key }, (t) => ({
    status: 201, body: present(t),
    audit: {
      action: 'transfer.reverse', currency_id: currency.id, object: { kind: 'transfer', id: original.id },
      changes: { reversal: t.id, memo, amount: formatAmount(t.amount, currency.scale) },
    },
  }));
}

/** Post (for its amount or less) or void a pending transfer, at most once. A cash-out's
 * reservation is resolved only by approving or rejecting the cash-out. */
export async function resolve<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, pending: Transfer, phase: 'post' | 'void',
  input: { amount?: bigint; memo: string | null }, present: Present<T>,
): Promise<Answer<T>> {
  if (pending.code === 'redemption' && pending.phase === 'pending') {
    return decideRedemptionOf(services, actor, currency, key, pending, phase, input, present);
  }
  const posting: Posting = {
    id: newTransferId(), phase, code: pending.code, pending_id: pending.id, memo: input.memo, created_by: actor.label,
    ...(input.amount === undefined ? {} : { amount: input.amount }),
  };
  return post(services, actor, currency, { posting, idempotency: key }, (t) => ({
    status: 201, body: present(t),
    audit: {
      action: `transfer.${phase}`, currency_id: currency.id, object: { kind: 'transfer', id: pending.id },
      changes: { resolution: t.id, amount: input.amount === undefined ? null : formatAmount(input.amount, currency.scale) },
    },
  }));
}

// The currency and its shops -------------------------------------------------------------------

/** A new currency as an admin types it: amounts as decimal strings in its own scale. */
export interface CurrencyInput {
  code: string;
  name: string;
  scale: number;
  euro_per_unit: string;
  wallet_balance_max?: string | undefined;
  volunteer_cap_day?: string | undefined;
  volunteer_cap_year?: string | undefined;
  /** Days the coins in wallets stay valid after they were earned; none: they never expire. */
  validity_days?: number | undefined;
  /** Whether wallets may give coins to one another; off unless said. */
  gifts_enabled?: boolean | undefined;
  /** What a wallet may give a day; none: no daily limit. */
  gift_day_max?: string | undefined;
}

/** Creates a currency with its issuance account and the default activity catalogue. */
export async function createCurrency(services: Services, actor: Actor, input: CurrencyInput): Promise<Currency> {
  const optional = (value: string | undefined, path: string) => value === undefined ? null : parseAmount(value, input.scale, path);
  const currency = await insertCurrency(services.sql, {
    code: input.code, name: input.name, scale: input.scale, euro_per_unit: input.euro_per_unit,
    wallet_balance_max: optional(input.wallet_balance_max, 'wallet_balance_max'),
    volunteer_cap_day: optional(input.volunteer_cap_day, 'volunteer_cap_day'),
    volunteer_cap_year: optional(input.volunteer_cap_year, 'volunteer_cap_year'),
    validity_days: input.validity_days ?? null,
    gifts_enabled: input.gifts_enabled ?? false,
    gift_day_max: optional(input.gift_day_max, 'gift_day_max'),
  }, insertDefaultCatalogue);
  await recordAudit(services, actor, { action: 'currency.create', currency_id: currency.id, object: { kind: 'currency', id: currency.code }, changes: { ...input } });
  return currency;
}

export type CurrencySettings = Partial<Pick<Currency,
  'name' | 'payment_request_ttl_s' | 'payer_name' | 'payer_iban' | 'payer_bic' | 'sepa_version' | 'validity_days' | 'gifts_enabled'>> & {
  /** The legal caps on volunteer allowances, as decimal strings; null: no cap. */
  volunteer_cap_day?: string | null | undefined;
  volunteer_cap_year?: string | null | undefined;
  /** What one wallet may give a day, as a decimal string; null: no daily limit. */
  gift_day_max?: string | null | undefined;
};

/**
 * Changes a currency's name, payment request lifetime, the account its payouts are paid from,
 * the pain.001 version of its SEPA files, how long its coins stay valid in wallets (null: for
 * ever; a new validity counts from today for the coins already held), the legal caps on what
 * a volunteer earns a day and a year (null: none; a lower cap refuses rewards from now on and
 * takes nothing back), or its gifts between wallets (allowed or not, and what a wallet may give
 * a day; null: no daily limit).
 */
export async function changeCurrency(services: Services, actor: Actor, currency: Currency, changes: CurrencySettings): Promise<Currency> {
  if (Object.values(changes).every((v) => v === undefined)) throw new ValidationError([{ path: '', message: 'nothing to change' }]);
  const amount = (value: string | null | undefined, path: string) =>
    value === undefined ? {} : { [path]: value === null ? null : parseAmount(value, currency.scale, path) };
  const { volunteer_cap_day, volunteer_cap_year, gift_day_max, ...settings } = changes;
  const updated = await updateCurrencySettings(services.sql, currency, {
    ...settings, ...amount(volunteer_cap_day, 'volunteer_cap_day'), ...amount(volunteer_cap_year, 'volunteer_cap_year'),
    ...amount(gift_day_max, 'gift_day_max'),
  });
  await recordAudit(services, actor, { action: 'currency.update', currency_id: currency.id, object: { kind: 'currency', id: currency.code }, changes: { ...changes } });
  return updated;
}

export interface ShopInput {
  name: string;
  iban?: string | null | undefined;
  address?: string | null | undefined;
  contact?: string | null | undefined;
}

/** Registers a shop (its account and details) with a pairing code for its first tablet. */
export async function registerShop(
  services: Services, actor: Actor, currency: Currency, input: ShopInput,
): Promise<{ shop: Shop; pairing: { pairing_code: string; expires_at: Date } }> {
  const { shop } = await insertShop(services.sql, currency, {
    name: input.name, iban: input.iban ?? null, address: input.address ?? null, contact: input.contact ?? null,
  });
  const pairing = await makePairingCode(services, actor, shop);
  await recordAudit(services, actor, { action: 'shop.create', currency_id: currency.id, object: { kind: 'shop', id: shop.account_id }, changes: { ...input } });
  return { shop, pairing };
}

/** Changes a shop's name, IBAN, address or contact. */
export async function editShop(services: Services, actor: Actor, shop: Shop, input: Partial<ShopInput>): Promise<Shop> {
  const updated = await updateShop(services.sql, shop, Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
  await recordAudit(services, actor, { action: 'shop.update', currency_id: shop.currency_id, object: { kind: 'shop', id: shop.account_id }, changes: { ...input } });
  return updated;
}
