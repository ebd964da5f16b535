/**
 * Cash-outs: a shop asks to cash coins in for euros (the coins are reserved: a pending transfer
 * shop → issuance), a coordinator approves (the reservation is posted and a payout of exact
 * euros falls due) or rejects (it is voided). These use cases own the link between the
 * reservation, the cash-out and its payout, so no path leaves them out of step: voiding the
 * reservation rejects the cash-out, posting it approves it, and an approved cash-out is
 * reversed only together with its payout, never once the payout went to the bank.
 */
import { randomUUID } from 'node:crypto';
import type { Idempotency, Posting } from '../ledger/batch.js';
import type { Currency, Transfer } from '../ledger/model.js';
import { DomainError, ValidationError, assert } from '../ledger/errors.js';
import { euroValue, formatAmount } from '../ledger/amount.js';
import { renderPain001, amount_max as sepa_amount_max, sepaText } from '../ledger/sepa.js';
import { newTransferId } from '../ledger/ids.js';
import { transaction } from '../db/client.js';
import type { Queryable } from '../db/client.js';
import {
  cancelPayout, createPayoutExport, findShop, insertPayout, insertRedemption, listPayouts, lockRedemption, markRedemption,
} from '../db/shops.js';
import type { Payout, PayoutExport, Redemption, Shop } from '../db/shops.js';
import type { Actor, Services } from './context.js';
import { recordAudit } from './context.js';
import { postWithin } from './posting.js';
import type { Answer } from './posting.js';
import { localDayIn } from '../ledger/local-day.js';

/** A cash-out worth at least a cent and at most what one SEPA credit transfer pays. */
export function refuseCashOutAmount(amount: bigint, currency: Currency, shop: Shop): void {
  const euros = euroValue(amount, currency.scale, currency.euro_per_unit);
  // A €0.00 credit transfer would make the SEPA file invalid.
  if (euros === '0.00') {
    throw new ValidationError([{ path: 'amount', message: 'worth less than one euro cent; cash out a larger amount' }]);
  }
  if (sepa_amount_max.lt(euros)) {
    throw new ValidationError([{ path: 'amount', message: `worth more than €${sepa_amount_max.toFixed(2)}, the most one bank transfer pays; cash out in parts` }]);
  }
  if (shop.iban === null) throw new DomainError('iban_missing', 'this shop has no IBAN yet; ask the coordinator to add it before cashing out');
}

/** A shop's cash-out request: the coins reserved and the request recorded, in one transaction. */
export async function requestCashOut<T>(
  services: Services, actor: Actor, currency: Currency, shop: Shop, key: Idempotency, amount: bigint,
  present: (redemption: Redemption) => T,
): Promise<Answer<T>> {
  refuseCashOutAmount(amount, currency, shop);
  const redemption_id = randomUUID();
  const posting: Posting = {
    id: newTransferId(), phase: 'pending', code: 'redemption', debit_account_id: shop.account_id,
    credit_account_id: currency.issuance_account_id, amount, memo: 'cash-out', created_by: actor.label,
    metadata: { redemption_id },
  };
  return transaction(services.sql, async (tx) => {
    const fields = { id: redemption_id, currency_id: currency.id, shop_account_id: shop.account_id, amount, requested_by: actor.label };
    const { answer, transfer } = await postWithin(tx, actor, currency, { posting, idempotency: key }, (t) => ({
      status: 201,
      body: present({ ...fields, transfer_id: t.id, status: 'pending', decided_by: null, decided_at: null, created_at: t.created_at }),
      audit: { action: 'redemption.request', currency_id: currency.id, object: { kind: 'redemption', id: redemption_id }, changes: { amount: formatAmount(amount, currency.scale) } },
    }));
    if (transfer !== undefined) await insertRedemption(tx, { ...fields, transfer_id: transfer.id });
    return answer;
  });
}

export interface Decided {
  redemption: Redemption;
  payout: Payout | undefined;
}

/** The payout's bank reference, also the SEPA EndToEndId (≤ 35 characters). */
function referenceOf(currency: Currency, redemption: Redemption): string {
  return `${currency.code}-${redemption.id.replace(/-/g, '').slice(0, 34 - currency.code.length).toUpperCase()}`;
}

/** A payout can be made only to the shop's IBAN, and for at most what one transfer pays. */
async function payoutOf(tx: Queryable, currency: Currency, redemption: Redemption) {
  const shop = await findShop(tx, redemption.shop_account_id);
  assert(shop !== undefined, 'a cash-out has its shop');
  if (shop.iban === null) throw new DomainError('iban_missing', 'this shop has no IBAN any more; add it before approving the cash-out');
  const euro_amount = euroValue(redemption.amount, currency.scale, currency.euro_per_unit);
  if (sepa_amount_max.lt(euro_amount)) {
    throw new ValidationError([{ path: '', message: `worth more than €${sepa_amount_max.toFixed(2)}, the most one bank transfer pays; reject it` }]);
  }
  return { id: randomUUID(), euro_amount, reference: referenceOf(currency, redemption), shop };
}

/**
 * Approves or rejects a pending cash-out, exactly once, in one transaction: the reservation is
 * posted or voided through the pipeline, the cash-out marked, the payout recorded.
 */
async function decideWithin<T>(
  tx: Queryable, actor: Actor, currency: Currency, redemption_id: string, decision: 'approve' | 'reject',
  key: Idempotency | undefined, present: (transfer: Transfer) => T,
): Promise<{ answer: Answer<T>; decided?: Decided }> {
  const locked = await lockRedemption(tx, currency.id, redemption_id);
  if (locked === undefined) throw new DomainError('not_found', `no cash-out request ${redemption_id}`);
  const { redemption } = locked;
  const payout = decision === 'approve' && redemption.status === 'pending' ? await payoutOf(tx, currency, redemption) : undefined;
  const posting: Posting = {
    id: newTransferId(), phase: decision === 'approve' ? 'post' : 'void', code: 'redemption',
    pending_id: redemption.transfer_id, created_by: actor.label, metadata: { redemption_id },
  };
  const { answer, transfer } = await postWithin(tx, actor, currency, key === undefined ? { posting } : { posting, idempotency: key }, (t) => ({
    status: 200, body: present(t),
    audit: {
      action: `redemption.${decision}`, currency_id: currency.id, object: { kind: 'redemption', id: redemption.id },
      changes: { amount: formatAmount(redemption.amount, currency.scale), payout: payout?.id ?? null, euro_amount: payout?.euro_amount ?? null },
    },
  })).catch((error: unknown) => {
    // The reservation resolved means the cash-out was decided.
    if (error instanceof DomainError && error.code === 'already_resolved') throw new DomainError('already_resolved', 'this cash-out request was already decided');
    throw error;
  });
  if (transfer === undefined) return { answer };
  const marked = await markRedemption(tx, redemption, decision === 'approve' ? 'approved' : 'rejected', actor.label);
  return { answer, decided: { redemption: marked, payout: payout === undefined ? undefined : await insertPayout(tx, marked, payout) } };
}

/** A coordinator's approval or rejection of a cash-out. */
export async function decideCashOut(
  services: Services, actor: Actor, currency: Currency, redemption_id: string, decision: 'approve' | 'reject',
): Promise<Decided> {
  return transaction(services.sql, async (tx) => {
    const { decided } = await decideWithin(tx, actor, currency, redemption_id, decision, undefined, () => null);
    assert(decided !== undefined, 'a decision without a key is made or refused');
    return decided;
  });
}

/** Posting or voiding a cash-out's reservation is approving or rejecting the cash-out. */
export async function decideRedemptionOf<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, pending: Transfer, phase: 'post' | 'void',
  input: { amount?: bigint }, present: (transfer: Transfer) => T,
): Promise<Answer<T>> {
  const redemption_id = pending.metadata.redemption_id;
  assert(typeof redemption_id === 'string', 'a cash-out reservation names its cash-out');
  if (phase === 'post' && input.amount !== undefined && input.amount !== pending.amount) {
    throw new ValidationError([{ path: 'amount', message: 'a cash-out is approved for its whole amount; reject it and ask for a new one' }]);
  }
  return transaction(services.sql, async (tx) => {
    const { answer } = await decideWithin(tx, actor, currency, redemption_id, phase === 'post' ? 'approve' : 'reject', key, present);
    return { ...answer, status: answer.replayed ? answer.status : 201 };
  });
}

/**
 * Reverses an approved cash-out: the coins go back to the shop and the payout is cancelled, in
 * one transaction — refused once the payout was exported to the bank (a correction is then a
 * new transfer with a reason).
 */
export async function reverseCashOut<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, original: Transfer, memo: string | null,
  present: (transfer: Transfer) => T,
): Promise<Answer<T>> {
  const redemption_id = original.metadata.redemption_id;
  assert(typeof redemption_id === 'string', 'a cash-out transfer names its cash-out');
  return transaction(services.sql, async (tx) => {
    const locked = await lockRedemption(tx, currency.id, redemption_id);
    assert(locked !== undefined, 'a cash-out transfer has its cash-out');
    if (locked.payout?.export_id != null) {
      throw new DomainError('payout_exported', 'the euros of this cash-out were already sent to the bank; correct it with a new transfer and a reason');
    }
    const posting: Posting = { id: newTransferId(), code: 'reversal', reverses_id: original.id, memo, created_by: actor.label };
    const { answer, transfer } = await postWithin(tx, actor, currency, { posting, idempotency: key }, (t) => ({
      status: 201, body: present(t),
      audit: { action: 'transfer.reverse', currency_id: currency.id, object: { kind: 'transfer', id: original.id }, changes: { reversal: t.id, memo, payout_cancelled: locked.payout?.id ?? null } },
    }));
    if (transfer !== undefined) {
      if (locked.payout !== undefined) await cancelPayout(tx, locked.payout);
      await markRedemption(tx, locked.redemption, 'reversed', actor.label);
    }
    return answer;
  });
}

// Bank exports -------------------------------------------------------------------------------

function refusePayerMissing(currency: Currency): asserts currency is Currency & { payer_name: string; payer_iban: string } {
  if (currency.payer_name === null || currency.payer_iban === null) {
    throw new DomainError('payer_missing', 'set the paying account (payer_name, payer_iban) of this currency first');
  }
}

/** Puts every payout not exported yet into one bank export: each payout is exported once. */
export async function exportPayouts(services: Services, actor: Actor, currency: Currency): Promise<PayoutExport> {
  refusePayerMissing(currency);
  const exported = await createPayoutExport(services.sql, currency, actor.label,
    (id) => `WM-${currency.code}-${id.replace(/-/g, '').slice(0, 20).toUpperCase()}`);
  if (exported === undefined) throw new DomainError('nothing_to_export', 'every payout was already exported');
  await recordAudit(services, actor, {
    action: 'payout.export', currency_id: currency.id, object: { kind: 'payout_export', id: exported.id },
    changes: { message_id: exported.message_id, payouts: exported.payouts_count, total_euros: exported.total_euros },
  });
  return exported;
}

/** The month of a moment in Belgium, as "2026-12". */
function brusselsMonth(at: Date): string {
  return localDayIn('Europe/Brussels', at).slice(0, 7);
}

/**
 * The SEPA credit-transfer file of an export, in the pain.001 version the currency is set to
 * now, to be executed the day after the export was made.
 */
export async function bankFile(services: Services, currency: Currency, exported: PayoutExport): Promise<string> {
  refusePayerMissing(currency);
  const payouts = await listPayouts(services.sql, currency.id, { export_id: exported.id });
  const tomorrow = new Date(exported.created_at.getTime() + 86_400_000).toISOString().slice(0, 10);
  return renderPain001({
    version: currency.sepa_version,
    message_id: exported.message_id,
    created_at: exported.created_at,
    execution_date: tomorrow,
    initiator_name: currency.payer_name,
    debtor_name: currency.payer_name,
    debtor_iban: currency.payer_iban,
    ...(currency.payer_bic === null ? {} : { debtor_bic: currency.payer_bic }),
    payment_info_id: exported.message_id,
    payments: payouts.map((p) => {
      assert(p.iban !== null, `payout ${p.id} has an IBAN`);
      return {
        end_to_end_id: p.reference, amount_eur: p.euro_amount, creditor_iban: p.iban,
        // A name with nothing a bank can print (emoji, another script) would leave the field empty.
        creditor_name: sepaText(p.shop_name, 70) === '' ? `Shop ${p.reference}` : p.shop_name,
        // What the shop reads on its bank statement, in plain words: "<reference> Inwisseling
        // 2026-12 Torekes". Cut to 140 characters from its end, so the reference and the month
        // (35 + 20 characters) come first and only the currency's name (up to 200) is cut.
        remittance: `${p.reference} Inwisseling ${brusselsMonth(p.created_at)} ${currency.name}`,
      };
    }),
  });
}
