/**
 * Deciding a batch of value-moving commands at once, as TigerBeetle applies a batch of
 * transfers: given the locked state of every account, payment request and idempotency key the
 * batch touches, each command is decided in order against the balances left by the commands
 * before it, and the outcome is a set of rows to write — one balance change per account
 * however many commands touch it. Pure: the caller reads the state and writes the result in
 * one transaction, holding the row locks in between.
 */
import type { Account, Transfer, TransferCode, TransferRequest } from './model.js';

/** An account as locked for the batch, with the wallet limit the database enforces. */
export type HeldAccount = Omit<Account, 'currency_id' | 'created_at'> & { balance_max: bigint | null };

/** A payment request as locked for the batch. */
export interface HeldRequest {
  id: string;
  shop_account_id: string;
  device_id: string | null;
  amount: bigint;
  memo: string | null;
  status: 'open' | 'paid' | 'cancelled' | 'expired';
  expires_at: Date;
}

/** An activity session as locked for the batch (claims and awards). */
export interface HeldSession {
  id: string;
  claims_count: number;
  max_claims: number;
  expires_at: Date;
}

/** An idempotency key: whether this transaction holds it, and what it recorded before. */
export interface HeldKey {
  locked: boolean;
  stored: { request_hash: string; status: number; body: unknown } | null;
}

export interface BatchState {
  currency_id: number;
  /** The transaction's time: every transfer of the batch is created at it. */
  now: Date;
  accounts: Map<string, HeldAccount>;
  requests: Map<string, HeldRequest>;
  /** By keyOf(scope, key). */
  keys: Map<string, HeldKey>;
  sessions: Map<string, HeldSession>;
  /** keyOf(session_id, account_id) of the rewards already given. */
  claimed: Set<string>;
  /** A wallet's earnings so far, by keyOf(account_id, period); absent is 0. */
  earnings: Map<string, bigint>;
}

/** A legal cap on what a volunteer earns in a period ('d2026-11-26', 'y2026'). */
export interface Cap {
  label: 'day' | 'year';
  period: string;
  cap: bigint | null;
}

/** A reward for a session (a claim by QR or an award by card): at most once per wallet and
 * session, at most max_claims per session, never across a legal cap. The posting pays it from
 * the activity's programme to the wallet (its credit account). */
export interface Claim {
  session_id: string;
  hours: string | null;
  via: 'qr' | 'card';
  caps: Cap[];
}

export interface Idempotency {
  scope: string;
  key: string;
  request_hash: string;
}

/** A single-phase transfer to post. For a payment of a request, the request sets the credit
 * account, the amount and the memo. */
export interface Posting {
  id: string;
  code: TransferCode;
  debit_account_id: string;
  credit_account_id?: string;
  amount?: bigint;
  memo?: string | null;
  metadata?: Record<string, unknown>;
  created_by: string;
}

/** A transfer request as a posting of a batch, when it is one: single-phase, with both accounts
 * and its amount, neither resolving a pending transfer nor reversing one. */
export function postingOf(r: TransferRequest): Posting | undefined {
  if (r.phase !== 'single' || r.reverses_id !== undefined || r.pending_id !== undefined
    || r.debit_account_id === undefined || r.credit_account_id === undefined || r.amount === undefined) {
    return undefined;
  }
  return {
    id: r.id, code: r.code, debit_account_id: r.debit_account_id, credit_account_id: r.credit_account_id,
    amount: r.amount, memo: r.memo ?? null, metadata: r.metadata ?? {}, created_by: r.created_by,
  };
}

export interface Command {
  idempotency?: Idempotency;
  /** Pay this payment request (at most once) with the posting. */
  pays_request?: string;
  /** Reward a session with the posting. */
  claim?: Claim;
  posting: Posting;
}

/** What an Idempotency-Key decides on its own: the recorded answer again, or a refusal. */
export type KeyDecision =
  | { kind: 'replayed'; status: number; body: unknown }
  | { kind: 'key_in_flight' }
  | { kind: 'key_reused' };

export type Decision =
  | { kind: 'posted'; transfer: Transfer; request?: HeldRequest }
  | { kind: 'failed'; code: string; detail: Record<string, unknown> }
  | KeyDecision;

/**
 * A key this transaction does not hold is in flight elsewhere; a key it holds that recorded an
 * answer replays it for the same request and refuses another one; undefined: the key is new.
 */
export function decideKey(held: HeldKey | undefined, request_hash: string): KeyDecision | undefined {
  if (held === undefined || !held.locked) return { kind: 'key_in_flight' };
  if (held.stored === null) return undefined;
  if (held.stored.request_hash !== request_hash) return { kind: 'key_reused' };
  return { kind: 'replayed', status: held.stored.status, body: held.stored.body };
}

export interface EntryRow {
  account_id: string;
  version: bigint;
  transfer_id: string;
  amount: bigint;
  balance_after: bigint;
}

export interface AccountChange {
  id: string;
  debits: bigint;
  credits: bigint;
  entries: bigint;
  /** The account's version once the batch is written; the write checks it. */
  version_after: bigint;
}

export interface BatchWrite {
  transfers: Transfer[];
  entries: EntryRow[];
  accounts: AccountChange[];
  paid: Array<{ id: string; transfer_id: string; paid_by: string }>;
  claims: Array<{ session_id: string; account_id: string; transfer_id: string; hours: string | null; via: 'qr' | 'card' }>;
  /** Claims added per session. */
  sessions: Array<{ id: string; claims: number }>;
  /** Added to a wallet's earnings of a period; the write refuses to pass `cap`. */
  earnings: Array<{ account_id: string; period: string; amount: bigint; cap: bigint | null }>;
}

export interface BatchDecision {
  decisions: Decision[];
  write: BatchWrite;
  /** Atomic mode: the index of the first command that failed (nothing is then written). */
  failed_index?: number;
}

/** The largest value a bigint column holds. */
const int8_max = 2n ** 63n - 1n;

export function keyOf(scope: string, key: string): string {
  return `${scope}\u001f${key}`;
}

type Failure = { code: string; detail: Record<string, unknown> };

function fail(code: string, detail: Record<string, unknown> = {}): Failure {
  return { code, detail };
}

/** Checks of wm_apply for a new single-phase transfer, in the same order, with the same details. */
function refusePosting(debit: HeldAccount | undefined, credit: HeldAccount | undefined,
  debit_id: string, credit_id: string, amount: bigint): Failure | undefined {
  if (debit_id === credit_id) return fail('same_account', { account_id: debit_id });
  if (debit === undefined) return fail('account_not_found', { account_id: debit_id });
  if (credit === undefined) return fail('account_not_found', { account_id: credit_id });
  for (const account of [debit, credit]) {
    if (account.status !== 'active') return fail(`account_${account.status}`, { account_id: account.id });
  }
  const available = debit.credits_posted - debit.debits_posted - debit.debits_pending;
  if (debit.kind !== 'issuance' && available < amount) {
    return fail('insufficient_funds', { account_id: debit.id, account_name: debit.name, available: available.toString() });
  }
  const held = credit.credits_posted + credit.credits_pending - credit.debits_posted;
  if (credit.balance_max !== null && held + amount > credit.balance_max) {
    const room = credit.balance_max - held;
    return fail('balance_max_exceeded', { account_id: credit.id, account_name: credit.name, room: (room > 0n ? room : 0n).toString() });
  }
  if (credit.credits_posted + amount > int8_max || debit.debits_posted + amount > int8_max) {
    return fail('amount_too_large');
  }
  return undefined;
}

function emptyWrite(): BatchWrite {
  return { transfers: [], entries: [], accounts: [], paid: [], claims: [], sessions: [], earnings: [] };
}

function refuseRequest(request: HeldRequest | undefined, now: Date, paid_in_batch: boolean): Failure | undefined {
  if (request === undefined) return fail('not_found', {});
  if (paid_in_batch || request.status === 'paid') return fail('already_paid', { payment_request_id: request.id });
  if (request.status === 'cancelled') return fail('cancelled', { payment_request_id: request.id });
  if (request.status === 'expired' || request.expires_at <= now) return fail('expired', { payment_request_id: request.id });
  return undefined;
}

/**
 * Decides every command in order. Idempotency first (a key used earlier in the same batch, or
 * held by another transaction, is in flight; a recorded key replays or is refused as reused),
 * then the payment request, then the ledger checks against the balances so far. A failed
 * command changes nothing; in atomic mode the first failure stops the batch.
 */
export function decideBatch(state: BatchState, commands: Command[], options: { atomic: boolean } = { atomic: false }): BatchDecision {
  // Working copies: the locked rows as the batch changes them.
  const accounts = new Map<string, HeldAccount>();
  for (const [id, account] of state.accounts) accounts.set(id, { ...account });
  const changes = new Map<string, AccountChange>();
  const keys_seen = new Set<string>();
  const claimed = new Set(state.claimed);
  const requests_paid = new Set<string>();
  const write = emptyWrite();
  const sessions_added = new Map<string, number>();
  const earned = new Map<string, { account_id: string; period: string; amount: bigint; cap: bigint | null }>();
  const decisions: Decision[] = [];

  const change = (account: HeldAccount): AccountChange => {
    let c = changes.get(account.id);
    if (c === undefined) {
      c = { id: account.id, debits: 0n, credits: 0n, entries: 0n, version_after: account.version };
      changes.set(account.id, c);
    }
    return c;
  };

  for (const [index, command] of commands.entries()) {
    const decision = decideOne(command);
    decisions.push(decision);
    if (options.atomic && decision.kind === 'failed') {
      return { decisions, write: emptyWrite(), failed_index: index };
    }
  }
  write.accounts = [...changes.values()];
  write.sessions = [...sessions_added].map(([id, claims]) => ({ id, claims }));
  write.earnings = [...earned.values()];
  return { decisions, write };

  /** The checks of a reward, in the order one by one gave them: already rewarded, then the
   * session's end and its maximum, then the day cap and the year cap. */
  function refuseClaim(claim: Claim, account_id: string, amount: bigint): Failure | undefined {
    const session = state.sessions.get(claim.session_id);
    if (session === undefined) return fail('invalid_token', { session_id: claim.session_id });
    if (claimed.has(keyOf(session.id, account_id))) return fail('already_claimed', { session_id: session.id });
    if (session.expires_at <= state.now) return fail('expired', { session_id: session.id });
    if (session.claims_count + (sessions_added.get(session.id) ?? 0) >= session.max_claims) {
      return fail('session_full', { session_id: session.id, max_claims: session.max_claims });
    }
    for (const { label, period, cap } of claim.caps) {
      if (cap === null) continue;
      const k = keyOf(account_id, period);
      const so_far = (state.earnings.get(k) ?? 0n) + (earned.get(k)?.amount ?? 0n);
      if (so_far + amount > cap) {
        const left = cap - so_far;
        return fail('volunteer_cap_exceeded', { period: label, cap: cap.toString(), left: (left > 0n ? left : 0n).toString(), amount: amount.toString() });
      }
    }
    return undefined;
  }

  function decideOne(command: Command): Decision {
    if (command.idempotency !== undefined) {
      const k = keyOf(command.idempotency.scope, command.idempotency.key);
      // A key used earlier in the same batch is in flight too.
      const by_key = keys_seen.has(k) ? { kind: 'key_in_flight' as const } : decideKey(state.keys.get(k), command.idempotency.request_hash);
      keys_seen.add(k);
      if (by_key !== undefined) return by_key;
    }
    const p = command.posting;
    let request: HeldRequest | undefined;
    let credit_id = p.credit_account_id;
    let amount = p.amount;
    let memo = p.memo ?? null;
    if (command.pays_request !== undefined) {
      request = state.requests.get(command.pays_request);
      const refused = refuseRequest(request, state.now, requests_paid.has(command.pays_request));
      if (refused !== undefined || request === undefined) return { kind: 'failed', ...(refused ?? fail('not_found')) };
      credit_id = request.shop_account_id;
      amount = request.amount;
      memo = request.memo;
    }
    // A payment of a request records which request, and which tablet asked for it.
    const metadata = request === undefined
      ? p.metadata ?? {}
      : { ...p.metadata, payment_request_id: request.id, device_id: request.device_id };
    if (credit_id === undefined || amount === undefined || amount <= 0n) return { kind: 'failed', ...fail('invalid_transfer') };
    if (command.claim !== undefined) {
      const refused = refuseClaim(command.claim, credit_id, amount);
      if (refused !== undefined) return { kind: 'failed', ...refused };
    }
    const debit = accounts.get(p.debit_account_id);
    const credit = accounts.get(credit_id);
    const refused = refusePosting(debit, credit, p.debit_account_id, credit_id, amount);
    if (refused !== undefined || debit === undefined || credit === undefined) {
      return { kind: 'failed', ...(refused ?? fail('account_not_found')) };
    }

    const transfer: Transfer = {
      id: p.id, currency_id: state.currency_id, debit_account_id: debit.id, credit_account_id: credit.id,
      amount, code: p.code, phase: 'single', pending_id: null, reverses_id: null, memo,
      metadata, created_by: p.created_by, created_at: state.now,
    };
    debit.debits_posted += amount;
    debit.version += 1n;
    credit.credits_posted += amount;
    credit.version += 1n;
    const d = change(debit);
    d.debits += amount;
    d.entries += 1n;
    d.version_after = debit.version;
    const c = change(credit);
    c.credits += amount;
    c.entries += 1n;
    c.version_after = credit.version;
    write.transfers.push(transfer);
    write.entries.push(
      { account_id: debit.id, version: debit.version, transfer_id: transfer.id, amount: -amount, balance_after: debit.credits_posted - debit.debits_posted },
      { account_id: credit.id, version: credit.version, transfer_id: transfer.id, amount, balance_after: credit.credits_posted - credit.debits_posted },
    );
    if (request !== undefined) {
      requests_paid.add(request.id);
      write.paid.push({ id: request.id, transfer_id: transfer.id, paid_by: debit.id });
    }
    if (command.claim !== undefined) {
      const { session_id, hours, via, caps } = command.claim;
      claimed.add(keyOf(session_id, credit.id));
      sessions_added.set(session_id, (sessions_added.get(session_id) ?? 0) + 1);
      for (const { period, cap } of caps) {
        // Without a cap there is nothing to count against (as one by one did).
        if (cap === null) continue;
        const k = keyOf(credit.id, period);
        const e = earned.get(k) ?? { account_id: credit.id, period, amount: 0n, cap };
        e.amount += amount;
        earned.set(k, e);
      }
      write.claims.push({ session_id, account_id: credit.id, transfer_id: transfer.id, hours, via });
    }
    return request === undefined ? { kind: 'posted', transfer } : { kind: 'posted', transfer, request };
  }
}
