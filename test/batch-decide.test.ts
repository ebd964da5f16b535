/**
 * The pure core of request batching: commands decided in order against the locked state, the
 * rows to write, one balance change per account.
 */
import { describe, expect, it } from 'vitest';
import { decideBatch, keyOf } from '../src/ledger/batch.js';
import type { BatchState, Command, HeldAccount, HeldRequest, HeldSession, HeldTransfer } from '../src/ledger/batch.js';

const now = new Date('2026-11-26T12:00:00Z');

function account(id: string, kind: HeldAccount['kind'], balance: bigint, extra: Partial<HeldAccount> = {}): HeldAccount {
  return {
    id, kind, name: id.toUpperCase(), status: 'active', debits_pending: 0n, debits_posted: 0n,
    credits_pending: 0n, credits_posted: balance, balance_max: null, version: 3n, ...extra,
  };
}

function request(id: string, shop: string, amount: bigint, extra: Partial<HeldRequest> = {}): HeldRequest {
  return { id, shop_account_id: shop, device_id: null, amount, memo: `memo ${id}`, status: 'open', expires_at: new Date(now.getTime() + 60_000), ...extra };
}

function state(accounts: HeldAccount[], requests: HeldRequest[] = [], keys: BatchState['keys'] = new Map()): BatchState {
  return {
    currency_id: 7, now,
    accounts: new Map(accounts.map((a) => [a.id, a])),
    requests: new Map(requests.map((r) => [r.id, r])),
    keys,
    sessions: new Map(),
    claimed: new Set(),
    earnings: new Map(),
    transfers: new Map(),
    taken: new Set(),
  };
}

let n = 0;
function pay(from: string, to: string, amount: bigint, extra: Partial<Command> = {}): Command {
  n += 1;
  return { posting: { id: `t${n}`, code: 'payment', debit_account_id: from, credit_account_id: to, amount, created_by: 'test' }, ...extra };
}

describe('decideBatch', () => {
  it('decides in order against the balance left by earlier commands; a failure changes nothing', () => {
    const s = state([account('ann', 'wallet', 500n), account('bak', 'shop', 0n)]);
    const { decisions, write } = decideBatch(s, [pay('ann', 'bak', 300n), pay('ann', 'bak', 300n), pay('ann', 'bak', 200n)]);
    expect(decisions.map((d) => d.kind)).toEqual(['posted', 'failed', 'posted']);
    expect(decisions[1]).toMatchObject({ code: 'insufficient_funds', detail: { account_id: 'ann', account_name: 'ANN', available: '200' } });
    expect(write.transfers.map((t) => t.amount)).toEqual([300n, 200n]);
    // One change per account for the whole batch, versions counted per entry.
    expect(write.accounts).toEqual([
      { id: 'ann', debits: 500n, credits: 0n, debits_pending: 0n, credits_pending: 0n, entries: 2n, version_after: 5n },
      { id: 'bak', debits: 0n, credits: 500n, debits_pending: 0n, credits_pending: 0n, entries: 2n, version_after: 5n },
    ]);
    expect(write.entries.map((e) => [e.account_id, e.version, e.amount, e.balance_after])).toEqual([
      ['ann', 4n, -300n, 200n], ['bak', 4n, 300n, 300n], ['ann', 5n, -200n, 0n], ['bak', 5n, 200n, 500n],
    ]);
    // The locked state itself is not changed: a retried transaction decides from scratch.
    expect(s.accounts.get('ann')?.credits_posted).toBe(500n);
    expect(s.accounts.get('ann')?.debits_posted).toBe(0n);
  });

  it('a counted limit (gifts a day, a helper\'s month) holds across the batch, counts from the locked counter, and only what was posted', () => {
    const s = state([account('ann', 'wallet', 500n), account('bob', 'wallet', 0n, { balance_max: 60n })]);
    s.earnings.set(keyOf('ann', 'g2026-11-26'), 20n);
    const limits = [{ account_id: 'ann', period: 'g2026-11-26', label: 'day' as const, max: 100n, code: 'gift_limit_exceeded' as const }];
    const gift = (amount: bigint) => pay('ann', 'bob', amount, { limits });
    // 20 counted before: 50 fits (70); 40 would make 110; 29 fits the limit but not bob's maximum,
    // so it is refused and not counted; 1 fits (71); 30 would make 101.
    const { decisions, write } = decideBatch(s, [gift(50n), gift(40n), gift(29n), gift(1n), gift(30n)]);
    expect(decisions.map((d) => (d.kind === 'failed' ? d.code : d.kind))).toEqual(
      ['posted', 'gift_limit_exceeded', 'balance_max_exceeded', 'posted', 'gift_limit_exceeded']);
    expect(decisions[1]).toMatchObject({ detail: { account_id: 'ann', period: 'day', cap: '100', left: '30', amount: '40' } });
    expect(decisions[4]).toMatchObject({ detail: { left: '29' } });
    expect(write.earnings).toEqual([{ account_id: 'ann', period: 'g2026-11-26', amount: 51n, cap: 100n }]);
  });

  it('the issuance account may go below zero; reserved debits count against a wallet', () => {
    const s = state([account('iss', 'issuance', 0n), account('ann', 'wallet', 100n, { debits_pending: 60n }), account('bak', 'shop', 0n)]);
    const { decisions } = decideBatch(s, [pay('iss', 'ann', 1000n), pay('ann', 'bak', 1000n), pay('ann', 'bak', 1041n)]);
    expect(decisions.map((d) => d.kind)).toEqual(['posted', 'posted', 'failed']);
    expect(decisions[2]).toMatchObject({ code: 'insufficient_funds', detail: { available: '40' } });
  });

  it('refuses what wm_apply refuses, with the same codes', () => {
    const s = state([
      account('ann', 'wallet', 100n, { balance_max: 150n }), account('bea', 'wallet', 100n),
      account('frz', 'wallet', 100n, { status: 'frozen' }), account('cls', 'shop', 0n, { status: 'closed' }),
    ]);
    const { decisions } = decideBatch(s, [
      pay('ann', 'ann', 1n), pay('ann', 'nobody', 1n), pay('nobody', 'ann', 1n), pay('frz', 'ann', 1n),
      pay('ann', 'cls', 1n), pay('bea', 'ann', 51n), pay('bea', 'ann', 50n), pay('bea', 'ann', 0n),
    ]);
    expect(decisions.map((d) => (d.kind === 'failed' ? d.code : d.kind))).toEqual([
      'same_account', 'account_not_found', 'account_not_found', 'account_frozen', 'account_closed',
      'balance_max_exceeded', 'posted', 'invalid_transfer',
    ]);
    expect(decisions[5]).toMatchObject({ detail: { account_id: 'ann', room: '50' } });
  });

  it('a payment request is paid at most once, with its own amount, shop and memo; expired and cancelled ones are refused', () => {
    const s = state(
      [account('ann', 'wallet', 1000n), account('bob', 'wallet', 1000n), account('bak', 'shop', 0n)],
      [request('r1', 'bak', 250n), request('r2', 'bak', 10n, { expires_at: now }), request('r3', 'bak', 10n, { status: 'cancelled' }), request('r4', 'bak', 10n, { status: 'paid' })],
    );
    const payRequest = (from: string, id: string): Command => ({ pays_request: id, posting: { id: `p-${from}-${id}`, code: 'payment', debit_account_id: from, created_by: 'test' } });
    const { decisions, write } = decideBatch(s, [
      payRequest('ann', 'r1'), payRequest('bob', 'r1'), payRequest('ann', 'r2'), payRequest('ann', 'r3'), payRequest('ann', 'r4'), payRequest('ann', 'r9'),
    ]);
    expect(decisions.map((d) => (d.kind === 'failed' ? d.code : d.kind))).toEqual(['posted', 'already_paid', 'expired', 'cancelled', 'already_paid', 'not_found']);
    expect(write.transfers).toHaveLength(1);
    expect(write.transfers[0]).toMatchObject({ amount: 250n, credit_account_id: 'bak', memo: 'memo r1', created_at: now });
    expect(write.paid).toEqual([{ id: 'r1', transfer_id: 'p-ann-r1', paid_by: 'ann' }]);
  });

  it('idempotency: a key held elsewhere or used twice in the batch is in flight; a recorded one replays or is reused', () => {
    const keys = new Map([
      [keyOf('w', 'fresh'), { locked: true, stored: null }],
      [keyOf('w', 'busy'), { locked: false, stored: null }],
      [keyOf('w', 'done'), { locked: true, stored: { request_hash: 'h-done', status: 201, body: { id: 'old' } } }],
    ]);
    const s = state([account('ann', 'wallet', 1000n), account('bak', 'shop', 0n)], [], keys);
    const k = (key: string, request_hash = `h-${key}`) => ({ idempotency: { scope: 'w', key, request_hash } });
    const { decisions, write } = decideBatch(s, [
      pay('ann', 'bak', 1n, k('fresh')), pay('ann', 'bak', 1n, k('fresh')), pay('ann', 'bak', 1n, k('busy')),
      pay('ann', 'bak', 1n, k('done')), pay('ann', 'bak', 1n, k('done', 'other')), pay('ann', 'bak', 1n, k('unknown')),
    ]);
    expect(decisions).toEqual([
      expect.objectContaining({ kind: 'posted' }), { kind: 'key_in_flight' }, { kind: 'key_in_flight' },
      { kind: 'replayed', status: 201, body: { id: 'old' } }, { kind: 'key_in_flight' }, { kind: 'key_in_flight' },
    ]);
    expect(write.transfers).toHaveLength(1);
  });

  it('atomic: the first failure is named and nothing is written', () => {
    const s = state([account('ann', 'wallet', 100n), account('bak', 'shop', 0n)]);
    const result = decideBatch(s, [pay('ann', 'bak', 60n), pay('ann', 'bak', 60n), pay('ann', 'bak', 1n)], { atomic: true });
    expect(result.failed_index).toBe(1);
    expect(result.write).toEqual({ transfers: [], entries: [], accounts: [], paid: [], claims: [], sessions: [], earnings: [], refunds: [] });
    const ok = decideBatch(s, [pay('ann', 'bak', 60n), pay('ann', 'bak', 40n)], { atomic: true });
    expect(ok.failed_index).toBeUndefined();
    expect(ok.write.transfers).toHaveLength(2);
  });

  it('rewards: once per wallet and session, within max_claims and the caps, counted across the batch', () => {
    const session = (id: string, extra: Partial<HeldSession> = {}): HeldSession => ({
      id, claims_count: 0, max_claims: 3, expires_at: new Date(now.getTime() + 60_000), closed_at: null, activity_active: true, ...extra,
    });
    const s = state([account('prog', 'programme', 10_000n), account('ann', 'wallet', 0n), account('bob', 'wallet', 0n), account('cas', 'wallet', 0n), account('dee', 'wallet', 0n)]);
    s.sessions = new Map([['s1', session('s1', { claims_count: 1 })], ['s2', session('s2')], ['old', session('old', { expires_at: now })]]);
    s.claimed = new Set([keyOf('s2', 'dee')]);
    s.earnings = new Map([[keyOf('bob', 'd2026-11-26'), 900n]]);
    const reward = (wallet: string, session_id: string): Command => ({
      claim: {
        session_id, hours: '1', via: 'qr',
        caps: [{ label: 'day', period: 'd2026-11-26', cap: 1000n }, { label: 'year', period: 'y2026', cap: null }],
      },
      posting: { id: `r-${wallet}-${session_id}-${n++}`, code: 'reward', debit_account_id: 'prog', credit_account_id: wallet, amount: 100n, created_by: 'test' },
    });
    const { decisions, write } = decideBatch(s, [
      reward('ann', 's1'), reward('ann', 's1'), reward('bob', 's1'), reward('cas', 's1'), reward('dee', 's2'),
      reward('bob', 's2'), reward('ann', 'old'), reward('ann', 'nope'), reward('ann', 's2'),
    ]);
    expect(decisions.map((d) => (d.kind === 'failed' ? d.code : d.kind))).toEqual([
      'posted', 'already_claimed', 'posted', 'session_full', 'already_claimed',
      'volunteer_cap_exceeded', 'expired', 'invalid_token', 'posted',
    ]);
    expect(decisions[5]).toMatchObject({ detail: { period: 'day', cap: '1000', left: '0', amount: '100' } });
    expect(write.sessions).toEqual([{ id: 's1', claims: 2 }, { id: 's2', claims: 1 }]);
    // Every period is counted, capped or not (a cap set later counts what came before), per
    // wallet, summed over the batch.
    expect(write.earnings).toEqual([
      { account_id: 'ann', period: 'd2026-11-26', amount: 200n, cap: 1000n },
      { account_id: 'ann', period: 'y2026', amount: 200n, cap: null },
      { account_id: 'bob', period: 'd2026-11-26', amount: 100n, cap: 1000n },
      { account_id: 'bob', period: 'y2026', amount: 100n, cap: null },
    ]);
    expect(write.claims.map((c) => `${c.account_id}@${c.session_id}`)).toEqual(['ann@s1', 'bob@s1', 'ann@s2']);
    expect(write.accounts.find((a) => a.id === 'prog')).toMatchObject({ debits: 300n, entries: 3n });
  });

  it('rewards decided under different caps (one changed meanwhile): the write keeps the counter within the highest', () => {
    const s = state([account('prog', 'programme', 10_000n), account('ann', 'wallet', 0n)]);
    s.sessions = new Map(['s1', 's2', 's3'].map((id) => [id, {
      id, claims_count: 0, max_claims: 10, expires_at: new Date(now.getTime() + 60_000), closed_at: null, activity_active: true,
    }]));
    const reward = (session_id: string, cap: bigint | null): Command => ({
      claim: { session_id, hours: '1', via: 'qr', caps: [{ label: 'day', period: 'd2026-11-26', cap }] },
      posting: { id: `c-${session_id}-${n++}`, code: 'reward', debit_account_id: 'prog', credit_account_id: 'ann', amount: 25n, created_by: 'test' },
    });
    // The first read the lowered cap (60), the others the old one (100): 75 is within what the last two saw.
    const lowered = decideBatch(s, [reward('s1', 60n), reward('s2', 100n), reward('s3', 100n)]);
    expect(lowered.decisions.map((d) => d.kind)).toEqual(['posted', 'posted', 'posted']);
    expect(lowered.write.earnings).toEqual([{ account_id: 'ann', period: 'd2026-11-26', amount: 75n, cap: 100n }]);
    // A command without a cap lifts the guard; each command is still refused over its own cap.
    const none = decideBatch(s, [reward('s1', 30n), reward('s2', null), reward('s3', 60n)]);
    expect(none.decisions.map((d) => (d.kind === 'failed' ? d.code : d.kind))).toEqual(['posted', 'posted', 'volunteer_cap_exceeded']);
    expect(none.write.earnings).toEqual([{ account_id: 'ann', period: 'd2026-11-26', amount: 50n, cap: null }]);
  });

  it('refuses sums a bigint column cannot hold', () => {
    const s = state([account('iss', 'issuance', 0n, { debits_posted: 2n ** 63n - 10n }), account('ann', 'wallet', 0n)]);
    const { decisions } = decideBatch(s, [pay('iss', 'ann', 100n)]);
    expect(decisions[0]).toMatchObject({ kind: 'failed', code: 'amount_too_large' });
  });

  it('a refund taken back lowers what its payment gave back, so a refund in the same batch may give it again', () => {
    const s = state([account('ann', 'wallet', 500n), account('bak', 'shop', 1000n)]);
    const held = (id: string, code: HeldTransfer['code'], amount: bigint, from: string, to: string, extra: Partial<HeldTransfer> = {}): HeldTransfer => ({
      id, debit_account_id: from, credit_account_id: to, amount, code, phase: 'single', metadata: {}, resolved_phase: null, reversed: false, refunded: 0n, ...extra,
    });
    s.transfers.set('p1', held('p1', 'payment', 500n, 'ann', 'bak', { refunded: 500n }));
    s.transfers.set('r1', held('r1', 'refund', 500n, 'bak', 'ann', { metadata: { refund_of: 'p1' } }));
    const take_back: Command = { posting: { id: 'x1', code: 'reversal', reverses_id: 'r1', created_by: 'test' } };
    const refund_again: Command = { posting: { id: 'x2', code: 'refund', debit_account_id: 'bak', credit_account_id: 'ann', amount: 500n, created_by: 'test' }, refunds: 'p1' };
    const { decisions, write } = decideBatch(s, [take_back, refund_again, { ...refund_again, posting: { ...refund_again.posting, id: 'x3', amount: 1n } }]);
    expect(decisions.map((d) => d.kind)).toEqual(['posted', 'posted', 'failed']);
    expect(decisions[2]).toMatchObject({ code: 'refund_exceeds_payment' });
    expect(write.refunds).toEqual([{ transfer_id: 'p1', paid: 500n, amount: -500n }, { transfer_id: 'p1', paid: 500n, amount: 500n }]);
    // A refund read without its payment is a bug in the lock, not a refusal.
    s.transfers.delete('p1');
    expect(() => decideBatch(s, [take_back])).toThrow(/read with its payment/);
  });
});
