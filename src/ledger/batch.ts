/**
 * Deciding a batch of value-moving commands at once, as TigerBeetle applies a batch of
 * transfers: given the locked state of every account, payment request, session, referenced
 * transfer and idempotency key the batch touches, each command is decided in order against the
 * balances left by the commands before it, and the outcome is a set of rows to write — one
 * balance change per account however many commands touch it. Pure: the caller reads the state
 * and writes the result in one transaction, holding the row locks in between.
 *
 * This is the one place where a movement of value is decided: single and pending transfers,
 * the posting and voiding of a pending one, reversals, payments of requests, rewards and
 * refunds. The database only asserts the outcome again (CHECKs, unique keys, versions).
 */
import type { Account, Transfer, TransferCode, TransferPhase, TransferRequest } from './model.js';
import { refuseClaim, refuseLimits, refuseRequest, refuseRefund, reversalAmount } from './links.js';
import type { Failure } from './links.js';
import { assert } from './errors.js';

export type { Failure } from './links.js';

/** An account as locked for the batch, with the wallet limit the database enforces. */
export type HeldAccount = Omit<Account, 'currency_id' | 'created_at' | 'status_reason'> & { balance_max: bigint | null };

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
  /** When a coordinator ended it early; null while it runs. */
  closed_at: Date | null;
  /** Whether its activity is still active. */
  activity_active: boolean;
}

/**
 * A transfer that a command refers to (a pending transfer to post or void, a transfer to
 * reverse, a payment to refund), read after the accounts it touches were locked.
 */
export interface HeldTransfer {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  code: TransferCode;
  phase: TransferPhase;
  metadata: Record<string, unknown>;
  /** For a pending transfer: how it was resolved, if it was. */
  resolved_phase: 'post' | 'void' | null;
  /** Whether a reversal of it exists. */
  reversed: boolean;
  /** For a payment: what its refunds and its reversal gave back so far. */
  refunded: bigint;
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
  /** The transfers commands refer to, by id. */
  transfers: Map<string, HeldTransfer>;
  /** Client-chosen transfer ids that are taken already (in any currency). */
  taken: Set<string>;
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

/**
 * A limit on what one account may move in a period, counted with the movement (what a giver
 * gives a day, what a helper pays from a wallet a month): the counter of (account_id, period)
 * is locked with the batch and may not pass `max`; `code` is the refusal.
 */
export interface Limit {
  account_id: string;
  period: string;
  /** The period as a person says it, for the refusal ('day', 'month'). */
  label: 'day' | 'month';
  max: bigint;
  code: 'gift_limit_exceeded' | 'helper_limit_exceeded';
}

export interface Idempotency {
  scope: string;
  key: string;
  request_hash: string;
}

/**
 * A transfer to make. Single and pending transfers name both accounts and the amount (for a
 * payment of a request, the request sets the credit account, the amount and the memo). Post
 * and void name the pending transfer (`pending_id`; post may give a smaller amount); a
 * reversal names the transfer it reverses (`reverses_id`): their accounts come from it.
 */
export type Posting = Omit<TransferRequest, 'phase'> & {
  /** Default 'single'. */
  phase?: TransferPhase;
};

/** A rule of the use case that made the command, decided against the locked accounts. */
export type PostingRule = (debit: HeldAccount, credit: HeldAccount, posting: Posting) => Failure | undefined;

export interface Command {
  idempotency?: Idempotency;
  /** Pay this payment request (at most once) with the posting. */
  pays_request?: string;
  /** Reward a session with the posting. */
  claim?: Claim;
  /** This posting refunds (part of) that payment. */
  refunds?: string;
  /** The id was chosen by the client: refuse it when taken. */
  client_id?: boolean;
  /** Counted limits the movement may not pass (gifts a day, a helper's payments a month). */
  limits?: Limit[];
  /**
   * A refusal the use case decided from rows it locked itself (a helper no longer linked): given
   * after the Idempotency-Key, so that a request that went through before is still replayed.
   */
  refusal?: Failure;
  rule?: PostingRule;
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
  /** Added to debits_posted and credits_posted. */
  debits: bigint;
  credits: bigint;
  /** Added to debits_pending and credits_pending (negative when reservations are resolved). */
  debits_pending: bigint;
  credits_pending: bigint;
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
  /** Given back on a payment (a refund or its reversal); the write refuses to pass `paid`. */
  refunds: Array<{ transfer_id: string; paid: bigint; amount: bigint }>;
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

export function fail(code: string, detail: Record<string, unknown> = {}): Failure {
  return { code, detail };
}

/** A movement once its referenced transfer, request or claim has been resolved. */
interface Shape {
  phase: TransferPhase;
  code: TransferCode;
  debit_id: string;
  credit_id: string;
  amount: bigint;
  /** For post and void: the amount the pending transfer reserved. */
  reserved: bigint;
  memo: string | null;
  metadata: Record<string, unknown>;
  request?: HeldRequest;
}

/** The working state of one batch: the locked rows as its commands change them. */
class Batch {
  readonly accounts = new Map<string, HeldAccount>();
  readonly changes = new Map<string, AccountChange>();
  readonly keys_seen = new Set<string>();
  readonly ids_seen = new Set<string>();
  readonly claimed: Set<string>;
  readonly requests_paid = new Set<string>();
  readonly resolved = new Set<string>();
  readonly reversed = new Set<string>();
  readonly refunded = new Map<string, bigint>();
  readonly sessions_added = new Map<string, number>();
  readonly earned = new Map<string, { account_id: string; period: string; amount: bigint; cap: bigint | null }>();
  readonly write: BatchWrite = emptyWrite();

  constructor(readonly state: BatchState) {
    for (const [id, account] of state.accounts) this.accounts.set(id, { ...account });
    this.claimed = new Set(state.claimed);
  }

  /** What the payment has given back so far, this batch included. */
  refundedOf(payment: HeldTransfer): bigint {
    return payment.refunded + (this.refunded.get(payment.id) ?? 0n);
  }

  change(account: HeldAccount): AccountChange {
    let c = this.changes.get(account.id);
    if (c === undefined) {
      c = { id: account.id, debits: 0n, credits: 0n, debits_pending: 0n, credits_pending: 0n, entries: 0n, version_after: account.version };
      this.changes.set(account.id, c);
    }
    return c;
  }
}

function emptyWrite(): BatchWrite {
  return { transfers: [], entries: [], accounts: [], paid: [], claims: [], sessions: [], earnings: [], refunds: [] };
}

/**
 * Decides every command in order. Idempotency first (a key used earlier in the same batch, or
 * held by another transaction, is in flight; a recorded key replays or is refused as reused),
 * then what the command refers to, then the ledger checks against the balances so far. A
 * failed command changes nothing; in atomic mode the first failure stops the batch.
 */
export function decideBatch(state: BatchState, commands: Command[], options: { atomic: boolean } = { atomic: false }): BatchDecision {
  const batch = new Batch(state);
  const decisions: Decision[] = [];
  for (const [index, command] of commands.entries()) {
    const decision = decideOne(batch, command);
    decisions.push(decision);
    if (options.atomic && decision.kind === 'failed') {
      return { decisions, write: emptyWrite(), failed_index: index };
    }
  }
  const { write } = batch;
  write.accounts = [...batch.changes.values()];
  write.sessions = [...batch.sessions_added].map(([id, claims]) => ({ id, claims }));
  write.earnings = [...batch.earned.values()];
  return { decisions, write };
}

function decideOne(batch: Batch, command: Command): Decision {
  const by_key = keyDecision(batch, command);
  if (by_key !== undefined) return by_key;
  if (command.refusal !== undefined) return { kind: 'failed', ...command.refusal };
  const p = command.posting;
  if (command.client_id === true && (batch.state.taken.has(p.id) || batch.ids_seen.has(p.id))) {
    return { kind: 'failed', ...fail('already_exists', { transfer_id: p.id }) };
  }
  const shape = shapeOf(batch, command);
  if (!('phase' in shape)) return { kind: 'failed', ...shape };
  const s = shape;
  if (command.claim !== undefined) {
    const refused = refuseClaim(batch, command.claim, s.credit_id, s.amount);
    if (refused !== undefined) return { kind: 'failed', ...refused };
  }
  const over = command.limits === undefined ? undefined : refuseLimits(batch, command.limits, s.amount);
  if (over !== undefined) return { kind: 'failed', ...over };
  const debit = batch.accounts.get(s.debit_id);
  const credit = batch.accounts.get(s.credit_id);
  const refused = refuseMovement(debit, credit, s, p)
    ?? (command.rule === undefined || debit === undefined || credit === undefined ? undefined : command.rule(debit, credit, p));
  if (refused !== undefined || debit === undefined || credit === undefined) {
    return { kind: 'failed', ...(refused ?? fail('account_not_found')) };
  }
  const transfer = apply(batch, command, s, debit, credit);
  return s.request === undefined ? { kind: 'posted', transfer } : { kind: 'posted', transfer, request: s.request };
}

function keyDecision(batch: Batch, command: Command): KeyDecision | undefined {
  if (command.idempotency === undefined) return undefined;
  const k = keyOf(command.idempotency.scope, command.idempotency.key);
  // A key used earlier in the same batch is in flight too.
  const decided = batch.keys_seen.has(k) ? { kind: 'key_in_flight' as const } : decideKey(batch.state.keys.get(k), command.idempotency.request_hash);
  batch.keys_seen.add(k);
  return decided;
}

/** The accounts, amount and code of a command: from its posting, or from what it refers to. */
function shapeOf(batch: Batch, command: Command): Shape | Failure {
  const p = command.posting;
  const phase = p.phase ?? 'single';
  if (phase === 'post' || phase === 'void') return resolutionShape(batch, p, phase);
  if (p.reverses_id !== undefined) return reversalShape(batch, p);
  let credit_id = p.credit_account_id;
  let amount = p.amount;
  let memo = p.memo ?? null;
  let metadata = p.metadata ?? {};
  let request: HeldRequest | undefined;
  if (command.pays_request !== undefined) {
    request = batch.state.requests.get(command.pays_request);
    const refused = refuseRequest(request, batch.state.now, batch.requests_paid.has(command.pays_request));
    if (refused !== undefined || request === undefined) return refused ?? fail('not_found');
    credit_id = request.shop_account_id;
    amount = request.amount;
    memo = request.memo;
    // A payment of a request records which request, and which tablet asked for it.
    metadata = { ...metadata, payment_request_id: request.id, device_id: request.device_id };
  }
  if (command.refunds !== undefined) {
    const payment = batch.state.transfers.get(command.refunds);
    const refused = refuseRefund(payment, amount ?? 0n, payment === undefined ? 0n : batch.refundedOf(payment), batch.reversed);
    if (refused !== undefined) return refused;
  }
  if (p.debit_account_id === undefined || credit_id === undefined || amount === undefined || amount <= 0n) return fail('invalid_transfer');
  const shape: Shape = { phase, code: p.code, debit_id: p.debit_account_id, credit_id, amount, reserved: 0n, memo, metadata };
  return request === undefined ? shape : { ...shape, request };
}

/** Post or void a pending transfer: at most once, post for at most the reserved amount. */
function resolutionShape(batch: Batch, p: Posting, phase: 'post' | 'void'): Shape | Failure {
  const pending = p.pending_id === undefined ? undefined : batch.state.transfers.get(p.pending_id);
  if (pending === undefined) return fail('transfer_not_found', { transfer_id: p.pending_id ?? null });
  if (pending.phase !== 'pending') return fail('not_pending', { transfer_id: pending.id });
  if (pending.resolved_phase !== null || batch.resolved.has(pending.id)) return fail('already_resolved', { transfer_id: pending.id });
  const amount = phase === 'void' || p.amount === undefined ? pending.amount : p.amount;
  if (amount > pending.amount) return fail('amount_exceeds_pending', { transfer_id: pending.id, pending_amount: pending.amount.toString() });
  if (amount <= 0n) return fail('invalid_transfer');
  return {
    phase, code: pending.code, debit_id: pending.debit_account_id, credit_id: pending.credit_account_id,
    amount, reserved: pending.amount, memo: p.memo ?? null, metadata: { ...pending.metadata, ...p.metadata },
  };
}

/** A reversal: the other way, at most once, for what is left of a partly refunded payment. */
function reversalShape(batch: Batch, p: Posting): Shape | Failure {
  const original = p.reverses_id === undefined ? undefined : batch.state.transfers.get(p.reverses_id);
  if (original === undefined) return fail('transfer_not_found', { transfer_id: p.reverses_id ?? null });
  if (original.phase !== 'single' && original.phase !== 'post') return fail('not_reversible', { transfer_id: original.id, phase: original.phase });
  if (original.reversed || batch.reversed.has(original.id)) return fail('already_reversed', { transfer_id: original.id });
  const left = reversalAmount(original, batch.refundedOf(original));
  if (left <= 0n) return fail('already_refunded', { transfer_id: original.id });
  // A partial correction gives back part of what is left; the rest can no longer be corrected.
  const amount = p.amount ?? left;
  if (amount <= 0n || amount > left) return fail('reversal_exceeds_left', { transfer_id: original.id, left: left.toString() });
  return {
    phase: 'single', code: 'reversal', debit_id: original.credit_account_id, credit_id: original.debit_account_id,
    amount, reserved: 0n, memo: p.memo ?? null, metadata: p.metadata ?? {},
  };
}

/**
 * The ledger's own checks, in the order the database asserts them: two different accounts of
 * this currency; new movements need open accounts (a reversal — a coordinator's correction —
 * may touch a frozen one, resolving a reservation any); funds and the wallet limit.
 */
function refuseMovement(debit: HeldAccount | undefined, credit: HeldAccount | undefined, s: Shape, p: Posting): Failure | undefined {
  if (s.debit_id === s.credit_id) return fail('same_account', { account_id: s.debit_id });
  if (debit === undefined) return fail('account_not_found', { account_id: s.debit_id });
  if (credit === undefined) return fail('account_not_found', { account_id: s.credit_id });
  if (s.phase === 'post' || s.phase === 'void') return undefined;
  for (const account of [debit, credit]) {
    if (account.status === 'closed' || (account.status === 'frozen' && p.reverses_id === undefined)) {
      return fail(`account_${account.status}`, { account_id: account.id });
    }
  }
  const available = debit.credits_posted - debit.debits_posted - debit.debits_pending;
  if (debit.kind !== 'issuance' && available < s.amount) {
    return fail('insufficient_funds', { account_id: debit.id, account_name: debit.name, available: available.toString() });
  }
  const held = credit.credits_posted + credit.credits_pending - credit.debits_posted;
  if (credit.balance_max !== null && held + s.amount > credit.balance_max) {
    const room = credit.balance_max - held;
    return fail('balance_max_exceeded', { account_id: credit.id, account_name: credit.name, room: (room > 0n ? room : 0n).toString() });
  }
  if (credit.credits_posted + credit.credits_pending + s.amount > int8_max
    || debit.debits_posted + debit.debits_pending + s.amount > int8_max) {
    return fail('amount_too_large');
  }
  return undefined;
}

/** Moves the balances and records the rows of a decided movement. */
function apply(batch: Batch, command: Command, s: Shape, debit: HeldAccount, credit: HeldAccount): Transfer {
  const p = command.posting;
  const transfer: Transfer = {
    id: p.id, currency_id: batch.state.currency_id, debit_account_id: debit.id, credit_account_id: credit.id,
    amount: s.amount, code: s.code, phase: s.phase, pending_id: p.pending_id ?? null, reverses_id: p.reverses_id ?? null,
    memo: s.memo, metadata: s.metadata, created_by: p.created_by, created_at: batch.state.now,
  };
  const posted = s.phase === 'single' || s.phase === 'post' ? s.amount : 0n;
  const pending = s.phase === 'pending' ? s.amount : -s.reserved;
  moveSide(batch, debit, 'debit', posted, pending);
  moveSide(batch, credit, 'credit', posted, pending);
  batch.write.transfers.push(transfer);
  batch.ids_seen.add(transfer.id);
  if (posted > 0n) {
    batch.write.entries.push(
      { account_id: debit.id, version: debit.version, transfer_id: transfer.id, amount: -posted, balance_after: debit.credits_posted - debit.debits_posted },
      { account_id: credit.id, version: credit.version, transfer_id: transfer.id, amount: posted, balance_after: credit.credits_posted - credit.debits_posted },
    );
  }
  recordLinks(batch, command, s, transfer);
  return transfer;
}

function moveSide(batch: Batch, account: HeldAccount, side: 'debit' | 'credit', posted: bigint, pending: bigint): void {
  const c = batch.change(account);
  if (side === 'debit') {
    account.debits_posted += posted;
    account.debits_pending += pending;
    c.debits += posted;
    c.debits_pending += pending;
  } else {
    account.credits_posted += posted;
    account.credits_pending += pending;
    c.credits += posted;
    c.credits_pending += pending;
  }
  if (posted > 0n) {
    account.version += 1n;
    c.entries += 1n;
    c.version_after = account.version;
  }
}

/** What a movement changes beyond balances: a paid request, a reward, a refund, a resolution. */
function recordLinks(batch: Batch, command: Command, s: Shape, transfer: Transfer): void {
  const p = command.posting;
  if (s.request !== undefined) {
    batch.requests_paid.add(s.request.id);
    batch.write.paid.push({ id: s.request.id, transfer_id: transfer.id, paid_by: transfer.debit_account_id });
  }
  if (p.pending_id !== undefined) batch.resolved.add(p.pending_id);
  if (p.reverses_id !== undefined) batch.reversed.add(p.reverses_id);
  const reversed = p.reverses_id === undefined ? undefined : batch.state.transfers.get(p.reverses_id);
  const payment_id = command.refunds ?? (reversed?.code === 'payment' ? reversed.id : undefined);
  if (payment_id !== undefined) givenBack(batch, payment_id, transfer.amount);
  // A refund taken back may be given again: its payment (read with it) gave back that much less.
  if (reversed?.code === 'refund') {
    const refund_of = reversed.metadata.refund_of;
    assert(typeof refund_of === 'string' && batch.state.transfers.has(refund_of), 'a refund is read with its payment');
    givenBack(batch, refund_of, -transfer.amount);
  }
  if (command.claim !== undefined) recordClaim(batch, command.claim, transfer);
  for (const limit of command.limits ?? []) count(batch, limit.account_id, limit.period, transfer.amount, limit.max);
}

/** Counts `amount` as given back on a payment (negative: a refund taken back), if it was read. */
function givenBack(batch: Batch, payment_id: string, amount: bigint): void {
  const payment = batch.state.transfers.get(payment_id);
  if (payment === undefined) return;
  batch.refunded.set(payment_id, (batch.refunded.get(payment_id) ?? 0n) + amount);
  batch.write.refunds.push({ transfer_id: payment_id, paid: payment.amount, amount });
}

/**
 * Adds a movement to a counter of (account, period), which the write keeps within a cap. Each
 * command was decided against its own cap; commands of one batch may have read different caps
 * (an admin changed it meanwhile), so the write's guard is the highest of them (none: no cap).
 * Kept at the first command's cap, a total a later command was allowed under a higher cap
 * failed the whole batch, and its commands, run alone at once, raced to create the counters.
 */
function count(batch: Batch, account_id: string, period: string, amount: bigint, max: bigint | null): void {
  const k = keyOf(account_id, period);
  const e = batch.earned.get(k);
  if (e === undefined) {
    batch.earned.set(k, { account_id, period, amount, cap: max });
    return;
  }
  e.amount += amount;
  e.cap = e.cap === null || max === null ? null : (e.cap > max ? e.cap : max);
}

function recordClaim(batch: Batch, claim: Claim, transfer: Transfer): void {
  const { session_id, hours, via, caps } = claim;
  const wallet = transfer.credit_account_id;
  batch.claimed.add(keyOf(session_id, wallet));
  batch.sessions_added.set(session_id, (batch.sessions_added.get(session_id) ?? 0) + 1);
  for (const { period, cap } of caps) {
    // Counted without a cap too: a cap an admin sets later counts what was earned before it.
    count(batch, wallet, period, transfer.amount, cap);
  }
  batch.write.claims.push({ session_id, account_id: wallet, transfer_id: transfer.id, hours, via });
}

export type { Batch };
