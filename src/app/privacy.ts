/**
 * A person's data on request (docs/privacy-requests.md): a coordinator exports everything the
 * service holds about a volunteer, or erases it. Erasure keeps the ledger whole: no transfer,
 * entry or seal changes (none holds personal data), the coins left in the wallet are moved to a
 * programme through the one posting pipeline in the same transaction, and the wallet is closed
 * under a pseudonym. Audit rows and recorded answers about the person are pseudonymised, and
 * the erasure itself is audited without the personal data.
 */
import { randomBytes } from 'node:crypto';
import type { Account, Currency, Transfer } from '../ledger/model.js';
import { availableOf, balanceOf } from '../ledger/model.js';
import { DomainError, ValidationError, assert } from '../ledger/errors.js';
import { formatAmount } from '../ledger/amount.js';
import { cardCodeFromBytes, formatCardCode } from '../ledger/cards.js';
import { refuseClosing, refuseCoordinatorTransfer } from '../ledger/coordination.js';
import { newTransferId } from '../ledger/ids.js';
import { erased_pin_hash, names, personal_keys, pseudonymFrom, scrubbed } from '../ledger/erasure.js';
import type { Replacement } from '../ledger/erasure.js';
import { transaction } from '../db/client.js';
import type { Queryable } from '../db/client.js';
import { findAccount } from '../db/ledger.js';
import { insertAudit } from '../db/audit.js';
import type { Wallet } from '../db/volunteers.js';
import {
  allowPseudonymising, answersOfPerson, auditOfPerson, eraseWalletRows, lockAccounts, lockCards, lockWallet, personRecord,
  pseudonymiseAudit, rewriteAnswer,
} from '../db/privacy.js';
import type { PersonRecord, RecordedText } from '../db/privacy.js';
import type { Actor, Services } from './context.js';
import { recordAudit } from './context.js';
import { postWithin } from './posting.js';

/** What an export holds: the wallet and its account as they are, and every row about the person. */
export interface PersonExport {
  wallet: Wallet;
  account: Account;
  record: PersonRecord;
  generated_at: Date;
}

/** Everything the service holds about a volunteer; the export itself is audited (who read it). */
export async function exportPerson(services: Services, actor: Actor, currency: Currency, wallet: Wallet): Promise<PersonExport> {
  const exported = await transaction(services.sql, async (tx) => {
    const account = await findAccount(tx, wallet.account_id);
    assert(account !== undefined, 'a wallet has its account');
    return { wallet, account, record: await personRecord(tx, wallet), generated_at: new Date() };
  });
  await recordAudit(services, actor, { action: 'wallet.export', currency_id: currency.id, object: { kind: 'wallet', id: wallet.account_id } });
  return exported;
}

/** 409 already_erased: an erased wallet takes no new personal data and is not erased twice. */
export function refuseErased(wallet: Wallet): void {
  if (wallet.erased_at !== null) {
    throw new DomainError('already_erased', `this volunteer's data was erased on ${wallet.erased_at.toISOString().slice(0, 10)}; the wallet takes no new personal data`);
  }
}

export interface ErasureInput {
  /** Why, as the coordinator says it: kept in the audit log (and as the memo of a move), so it must not name the person. */
  reason: string;
  /** A programme of the currency that receives the coins left in the wallet. */
  move_rest_to_programme?: string | undefined;
}

export interface Erasure {
  wallet: Wallet;
  account: Account;
  /** The transfer that moved the coins left to the programme. */
  moved: Transfer | undefined;
  cards_destroyed: number;
  sessions_ended: number;
  audit_rows_pseudonymised: number;
  answers_pseudonymised: number;
}

/** What named the person, and what replaces it: names and contact details the pseudonym, card codes new random codes. */
function replacementsOf(wallet: Wallet, pseudonym: string, codes: Map<string, string>): Replacement[] {
  const personal = [wallet.display_name, wallet.full_name, wallet.phone, wallet.email, wallet.note];
  return [
    ...personal.filter((text): text is string => text !== null).map((text) => ({ text, by: pseudonym })),
    ...[...codes].flatMap(([code, by]) => [{ text: code, by }, { text: formatCardCode(code), by: formatCardCode(by) }]),
  ];
}

/** 422 account_not_empty, saying how to erase a wallet that holds coins. */
function notEmpty(account: Account, currency: Currency): DomainError {
  const balance = formatAmount(balanceOf(account), currency.scale);
  const pending = formatAmount(account.debits_pending + account.credits_pending, currency.scale);
  return new DomainError('account_not_empty',
    `this wallet still holds ${balance} (and ${pending} reserved): name a programme in move_rest_to_programme to move what is left `
    + 'there with the reason, in the same call, or empty the wallet first; reserved coins must be posted or voided first',
    { account_id: account.id, balance, pending });
}

/**
 * The wallet and the programme named to receive what is left, locked in the pipeline's order;
 * a programme named must be one of the currency's, whether or not anything is left.
 */
async function lockForErasure(tx: Queryable, currency: Currency, wallet: Wallet, input: ErasureInput): Promise<{ account: Account; programme?: Account }> {
  const programme_id = input.move_rest_to_programme;
  const locked = await lockAccounts(tx, currency.id, programme_id === undefined ? [wallet.account_id] : [wallet.account_id, programme_id]);
  const account = locked.find((a) => a.id === wallet.account_id);
  assert(account !== undefined, 'a wallet has its account');
  if (programme_id === undefined) return { account };
  const programme = locked.find((a) => a.id === programme_id);
  if (programme === undefined || programme.kind !== 'programme') {
    throw new ValidationError([{ path: 'move_rest_to_programme', message: `not a programme of ${currency.code}` }]);
  }
  return { account, programme };
}

/** Moves the coins left in the wallet to the programme, through the posting pipeline, in the erasure's transaction. */
async function moveRest(
  tx: Queryable, actor: Actor, currency: Currency, held: { account: Account; programme?: Account }, reason: string,
): Promise<Transfer | undefined> {
  const { account, programme } = held;
  const available = availableOf(account);
  if (available <= 0n || account.debits_pending + account.credits_pending !== 0n) return undefined;
  if (programme === undefined) throw notEmpty(account, currency);
  const { transfer } = await postWithin(tx, actor, currency, {
    rule: refuseCoordinatorTransfer,
    posting: {
      id: newTransferId(), code: 'adjustment', debit_account_id: account.id, credit_account_id: programme.id,
      amount: available, memo: reason, metadata: { erasure: true }, created_by: actor.label,
    },
  }, () => ({ status: 201, body: null }));
  assert(transfer !== undefined, 'a posted move has its transfer');
  return transfer;
}

/** The audit rows and recorded answers about the person. */
interface Records {
  audit: RecordedText[];
  answers: RecordedText[];
}

/** Pseudonymises the audit rows and recorded answers about the person, one update by key each. */
async function pseudonymiseRecords(
  tx: Queryable, wallet: Wallet, codes: ReadonlySet<string>, records: Records,
  replacements: Replacement[], pseudonym: string,
): Promise<void> {
  const changedTo = (row: RecordedText) => scrubbed(row.value, replacements, personal_keys, pseudonym);
  await allowPseudonymising(tx);
  for (const row of records.audit) {
    const theirs = (row.actor_kind === 'wallet' && row.actor_id === wallet.account_id) || (row.object_id !== null && codes.has(row.object_id));
    const object_id = row.object_id === null ? null : scrubbed(row.object_id, replacements) as string;
    await pseudonymiseAudit(tx, { id: row.id, object_id, ip: theirs ? null : row.ip, changes: changedTo(row) });
  }
  for (const row of records.answers) await rewriteAnswer(tx, row.id, changedTo(row));
}

/**
 * Erases a volunteer's personal data, in one transaction: the wallet locked (a second erasure
 * waits, then finds it erased), the coins left moved to a programme or 422 account_not_empty,
 * the wallet's rows pseudonymised and closed, the audit rows and recorded answers about the
 * person pseudonymised, and the erasure audited.
 */
export async function erasePerson(services: Services, actor: Actor, currency: Currency, wallet: Wallet, input: ErasureInput): Promise<Erasure> {
  const pseudonym = pseudonymFrom(randomBytes(2));
  return transaction(services.sql, async (tx) => {
    const locked = await lockWallet(tx, wallet);
    refuseErased(locked);
    const cards = await lockCards(tx, locked);
    const codes = new Map(cards.map((c) => [c.code, cardCodeFromBytes(randomBytes(10))]));
    const replacements = replacementsOf(locked, pseudonym, codes);
    if (names(input.reason, replacements)) {
      throw new ValidationError([{ path: 'reason', message: 'the reason is kept after the erasure: leave out the person\'s name, contact details and card code' }]);
    }
    // The wallet's account first: every movement of it (and its audit row) has committed, or
    // waits for this erasure and is then refused; the scans below see them all. The programme,
    // which every reward draws on, is locked only for the move, after the scans.
    await lockAccounts(tx, currency.id, [locked.account_id]);
    const card_codes = cards.map((c) => c.code);
    const records: Records = { audit: await auditOfPerson(tx, locked, card_codes), answers: await answersOfPerson(tx, locked, card_codes) };
    const moved = await moveRest(tx, actor, currency, await lockForErasure(tx, currency, locked, input), input.reason);
    const [emptied] = await lockAccounts(tx, currency.id, [locked.account_id]);
    assert(emptied !== undefined, 'a wallet has its account');
    if (refuseClosing(emptied) !== undefined) throw notEmpty(emptied, currency);
    const sessions_ended = await eraseWalletRows(tx, locked, pseudonym, erased_pin_hash, codes);
    await pseudonymiseRecords(tx, locked, new Set(card_codes), records, replacements, pseudonym);
    const pseudonymised = { audit: records.audit.length, answers: records.answers.length };
    await insertAudit(tx, actor.record({
      action: 'wallet.erase', currency_id: currency.id, object: { kind: 'wallet', id: locked.account_id },
      changes: {
        pseudonym, reason: input.reason, moved: moved === undefined ? null : { transfer: moved.id, amount: formatAmount(moved.amount, currency.scale), to: moved.credit_account_id },
        cards_destroyed: cards.length, sessions_ended, audit_rows_pseudonymised: pseudonymised.audit, answers_pseudonymised: pseudonymised.answers,
      },
    }));
    return {
      wallet: await lockWallet(tx, locked), account: (await lockAccounts(tx, currency.id, [locked.account_id]))[0] ?? emptied, moved,
      cards_destroyed: cards.length, sessions_ended, audit_rows_pseudonymised: pseudonymised.audit, answers_pseudonymised: pseudonymised.answers,
    };
  });
}
