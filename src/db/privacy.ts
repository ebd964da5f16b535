/**
 * A person's data on request (docs/privacy-requests.md): every row about a volunteer's wallet,
 * read for an export, and the statements of an erasure. The ledger's rows (transfers, entries,
 * seals) are only read here: erasure changes none of them.
 */
import type { Queryable } from './client.js';
import type { AuditRow } from './audit.js';
import type { CardStatus, Wallet } from './volunteers.js';
import type { Account, AccountKind, Transfer } from '../ledger/model.js';
import type { ActivityCategory, LocalizedName } from '../ledger/volunteering.js';
import { assert } from '../ledger/errors.js';

export interface PersonCard {
  code: string;
  status: CardStatus;
  pin_failures: number;
  locked_until: Date | null;
  created_at: Date;
}

export interface PersonSession {
  id: string;
  card_code: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

/** A transfer of the wallet, with the other side's kind and name (none for another wallet). */
export type PersonTransfer = Transfer & { counterparty_kind: AccountKind; counterparty_name: string | null };

export interface PersonEntry {
  version: bigint;
  transfer_id: string;
  amount: bigint;
  balance_after: bigint;
  created_at: Date;
}

export interface PersonClaim {
  session_id: string;
  activity_id: string;
  activity_name: LocalizedName;
  category: ActivityCategory;
  hours: string | null;
  via: 'qr' | 'card';
  transfer_id: string;
  created_at: Date;
}

export interface PersonEarning {
  period: string;
  amount: bigint;
}

/** Everything stored about a wallet's person, apart from the wallet and account rows themselves. */
export interface PersonRecord {
  cards: PersonCard[];
  sessions: PersonSession[];
  transfers: PersonTransfer[];
  entries: PersonEntry[];
  claims: PersonClaim[];
  earnings: PersonEarning[];
  audit: AuditRow[];
}

export async function cardsOf(sql: Queryable, wallet: Wallet): Promise<PersonCard[]> {
  return sql<PersonCard[]>`
    SELECT code, status, pin_failures, locked_until, created_at FROM cards
    WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id} ORDER BY created_at, code`;
}

/**
 * The transfers that moved the wallet's balance (through its entries, one range scan) and its
 * reservations, posted into or voided (pending transfers write no entry: a scan of the
 * currency's pending and void transfers, which are few).
 */
async function transfersOf(sql: Queryable, wallet: Wallet): Promise<PersonTransfer[]> {
  const { currency_id, account_id } = wallet;
  return sql<PersonTransfer[]>`
    SELECT t.*, r.phase AS resolved_by_phase, o.kind AS counterparty_kind,
           CASE WHEN o.kind = 'wallet' THEN NULL ELSE coalesce(s.name, o.name) END AS counterparty_name
    FROM transfers t
    LEFT JOIN transfers r ON r.currency_id = t.currency_id AND r.pending_id = t.id
    JOIN accounts o ON o.currency_id = t.currency_id
      AND o.id = CASE WHEN t.debit_account_id = ${account_id} THEN t.credit_account_id ELSE t.debit_account_id END
    LEFT JOIN shops s ON s.currency_id = o.currency_id AND s.account_id = o.id
    WHERE t.currency_id = ${currency_id}
      AND (t.id IN (SELECT transfer_id FROM entries WHERE currency_id = ${currency_id} AND account_id = ${account_id})
           OR (t.phase IN ('pending', 'void') AND ${account_id} IN (t.debit_account_id, t.credit_account_id)))
    ORDER BY t.created_at, t.id`;
}

/**
 * The audit rows about the wallet: those it acted in, those whose object is the wallet or one of
 * its cards, and those that name it in their changes (card actions, charges, rewards, expiry).
 */
export async function auditAbout(sql: Queryable, wallet: Wallet, card_codes: string[]): Promise<AuditRow[]> {
  const ids = [wallet.account_id, ...card_codes];
  return sql<AuditRow[]>`
    SELECT * FROM audit_log WHERE object_id = ANY(${ids}::text[])
    UNION
    SELECT * FROM audit_log WHERE actor_kind = 'wallet' AND actor_id = ${wallet.account_id}
    UNION
    SELECT * FROM audit_log WHERE changes ? 'wallet' AND changes->>'wallet' = ${wallet.account_id}
    ORDER BY id`;
}

/** Everything stored about the wallet's person, read in one snapshot. */
export async function personRecord(sql: Queryable, wallet: Wallet): Promise<PersonRecord> {
  const { currency_id, account_id } = wallet;
  const cards = await cardsOf(sql, wallet);
  const sessions = await sql<PersonSession[]>`
    SELECT id, card_code, created_at, expires_at, revoked_at FROM wallet_sessions
    WHERE currency_id = ${currency_id} AND account_id = ${account_id} ORDER BY created_at, id`;
  const entries = await sql<PersonEntry[]>`
    SELECT version, transfer_id, amount, balance_after, created_at FROM entries
    WHERE currency_id = ${currency_id} AND account_id = ${account_id} ORDER BY version`;
  const claims = await sql<PersonClaim[]>`
    SELECT c.session_id, a.id AS activity_id, a.name AS activity_name, a.category, c.hours::text AS hours, c.via,
           c.transfer_id, c.created_at
    FROM claims c
    JOIN activity_sessions s ON s.currency_id = c.currency_id AND s.id = c.session_id
    JOIN activities a ON a.currency_id = s.currency_id AND a.id = s.activity_id
    WHERE c.currency_id = ${currency_id} AND c.account_id = ${account_id}
    ORDER BY c.created_at, c.session_id`;
  const earnings = await sql<PersonEarning[]>`
    SELECT period, amount FROM volunteer_earnings
    WHERE currency_id = ${currency_id} AND account_id = ${account_id} ORDER BY period`;
  return {
    cards, sessions, transfers: await transfersOf(sql, wallet), entries, claims, earnings,
    audit: await auditAbout(sql, wallet, cards.map((c) => c.code)),
  };
}

// Erasure ---------------------------------------------------------------------------------------

/** The wallet, locked for the rest of the transaction (an erasure, or an edit, waits for the other). */
export async function lockWallet(tx: Queryable, wallet: Wallet): Promise<Wallet> {
  const [row] = await tx<Wallet[]>`
    SELECT * FROM wallets WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id} FOR UPDATE`;
  assert(row !== undefined, 'a wallet is never deleted');
  return row;
}

/**
 * The wallet's cards, locked for the rest of the transaction: a sign-in that opened a session
 * with one of them has committed (with its audit row), and one that has not waits and then
 * finds the card gone.
 */
export async function lockCards(tx: Queryable, wallet: Wallet): Promise<PersonCard[]> {
  return tx<PersonCard[]>`
    SELECT code, status, pin_failures, locked_until, created_at FROM cards
    WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id} ORDER BY created_at, code FOR UPDATE`;
}

/** Accounts of a currency locked in ascending id order, as the posting pipeline locks them (no deadlock with it). */
export async function lockAccounts(tx: Queryable, currency_id: number, ids: string[]): Promise<Account[]> {
  return tx<Account[]>`
    SELECT * FROM accounts WHERE currency_id = ${currency_id} AND id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`;
}

/**
 * The personal data of the wallet's rows gone: the names become the pseudonym, the contact
 * fields, the note and the freeze reason are cleared, the PIN hash is replaced, the account is
 * closed, every card gets the new code `codes` gives it (its sessions follow) and is replaced,
 * and every session ends. Returns how many sessions were still open.
 */
export async function eraseWalletRows(
  tx: Queryable, wallet: Wallet, pseudonym: string, pin_hash: string, codes: Map<string, string>,
): Promise<number> {
  const { currency_id, account_id } = wallet;
  await tx`
    UPDATE wallets SET display_name = ${pseudonym}, full_name = NULL, phone = NULL, email = NULL, note = NULL,
      pin_hash = ${pin_hash}, receive_code = NULL, erased_at = now(), updated_at = now()
    WHERE currency_id = ${currency_id} AND account_id = ${account_id}`;
  // Nobody helps an erased person any more, nor does the person help anyone.
  await tx`
    UPDATE wallet_helpers SET revoked_at = now()
    WHERE currency_id = ${currency_id} AND revoked_at IS NULL AND (account_id = ${account_id} OR helper_account_id = ${account_id})`;
  await tx`
    UPDATE accounts SET name = ${pseudonym}, status = 'closed', status_reason = NULL
    WHERE currency_id = ${currency_id} AND id = ${account_id}`;
  for (const [code, replacement] of codes) {
    await tx`
      UPDATE cards SET code = ${replacement}, status = 'replaced', pin_failures = 0, locked_until = NULL, lock_count = 0
      WHERE currency_id = ${currency_id} AND code = ${code}`;
  }
  const ended = await tx`
    UPDATE wallet_sessions SET revoked_at = now()
    WHERE currency_id = ${currency_id} AND account_id = ${account_id} AND revoked_at IS NULL`;
  return ended.count;
}

/** A row of recorded text about the person: an audit row or an Idempotency-Key's answer. */
export interface RecordedText {
  id: string;
  actor_kind: string | null;
  actor_id: string | null;
  object_id: string | null;
  ip: string | null;
  value: unknown;
}

/** The ids as they appear inside stored JSON text. */
function jsonInner(texts: string[]): string[] {
  return texts.map((text) => JSON.stringify(text).slice(1, -1));
}

/**
 * The audit rows about the wallet (auditAbout), and every other row whose changes hold its
 * account id or one of its card codes (a coordinator's transfer into the wallet): ids nobody
 * else has, so a row merely holding the same first name is never taken for the person's. A
 * scan of the log, as an erasure is rare.
 */
export async function auditOfPerson(tx: Queryable, wallet: Wallet, card_codes: string[]): Promise<RecordedText[]> {
  const about = (await auditAbout(tx, wallet, card_codes)).map((r) => r.id.toString());
  const rows = await tx<AuditRow[]>`
    SELECT * FROM audit_log
    WHERE id = ANY(${about}::bigint[])
       OR EXISTS (SELECT 1 FROM unnest(${jsonInner([wallet.account_id, ...card_codes])}::text[]) x WHERE strpos(changes::text, x) > 0)
    ORDER BY id`;
  return rows.map((r) => ({
    id: r.id.toString(), actor_kind: r.actor_kind, actor_id: r.actor_id, object_id: r.object_id, ip: r.ip, value: r.changes,
  }));
}

/** From here on the transaction may replace the personal data of audit rows (migration 0016). */
export async function allowPseudonymising(tx: Queryable): Promise<void> {
  await tx`SELECT set_config('wijkmunt.pseudonymise', 'on', true)`;
}

/** Replaces an audit row's personal data (after allowPseudonymising). */
export async function pseudonymiseAudit(
  tx: Queryable, row: { id: string; object_id: string | null; ip: string | null; changes: unknown },
): Promise<void> {
  await tx`
    UPDATE audit_log SET object_id = ${row.object_id}, ip = ${row.ip}, changes = ${tx.json(row.changes as never)}
    WHERE id = ${row.id}::bigint`;
}

/** The recorded answers of Idempotency-Keys that hold the wallet's account id or a card code (an award names its volunteer). */
export async function answersOfPerson(tx: Queryable, wallet: Wallet, card_codes: string[]): Promise<RecordedText[]> {
  const rows = await tx<{ scope: string; key: string; response_body: unknown }[]>`
    SELECT scope, key, response_body FROM idempotency_keys
    WHERE EXISTS (SELECT 1 FROM unnest(${jsonInner([wallet.account_id, ...card_codes])}::text[]) x WHERE strpos(response_body::text, x) > 0)`;
  return rows.map((r) => ({
    id: JSON.stringify([r.scope, r.key]), actor_kind: null, actor_id: null, object_id: null, ip: null, value: r.response_body,
  }));
}

export async function rewriteAnswer(tx: Queryable, id: string, body: unknown): Promise<void> {
  const [scope, key] = JSON.parse(id) as [string, string];
  await tx`UPDATE idempotency_keys SET response_body = ${tx.json(body as never)} WHERE scope = ${scope} AND key = ${key}`;
}
