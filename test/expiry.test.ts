/**
 * The pure decision of coins that expire (src/ledger/expiry.ts): the coins a wallet holds are
 * its newest credits up to its balance, which is what spending the oldest coins first leaves
 * (checked against a step-by-step FIFO for any history); the day each lot expires; what a run
 * takes back; what a wallet is told; and the months ahead of the liability report.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays, expiredOf, expiresOn, expiringByDay, expiringOf, expiryAmount, localDateOf, lotsOf, monthAfter, monthsAhead,
  refuseMovedSince, validityOf,
} from '../src/ledger/expiry.js';
import type { Credit, Lot, Validity } from '../src/ledger/expiry.js';
import type { HeldAccount } from '../src/ledger/batch.js';

const year: Validity = { days: 365, from: '2020-01-01' };

/** Credits oldest first → newest first, as the database reads them. */
const newestFirst = (credits: Credit[]) => [...credits].reverse();

/** The FIFO by the book: credits add a lot at the end, debits take from the oldest lot. */
function fifo(events: Array<{ credit: bigint; on: string } | { debit: bigint }>): Lot[] {
  const lots: Lot[] = [];
  for (const event of events) {
    if ('credit' in event) {
      lots.push({ amount: event.credit, earned_on: event.on });
      continue;
    }
    let left = event.debit;
    while (left > 0n) {
      const oldest = lots[0];
      if (oldest === undefined) throw new Error('a debit beyond the balance');
      const taken = oldest.amount < left ? oldest.amount : left;
      oldest.amount -= taken;
      left -= taken;
      if (oldest.amount === 0n) lots.shift();
    }
  }
  return lots;
}

describe('the coins a wallet holds', () => {
  it('are its newest credits up to its balance, the oldest of them in part', () => {
    const credits = [
      { amount: 10n, earned_on: '2025-01-05' }, { amount: 20n, earned_on: '2025-02-01' }, { amount: 5n, earned_on: '2025-03-01' },
    ];
    expect(lotsOf(newestFirst(credits), 35n)).toEqual(credits);
    expect(lotsOf(newestFirst(credits), 22n)).toEqual([{ amount: 17n, earned_on: '2025-02-01' }, { amount: 5n, earned_on: '2025-03-01' }]);
    expect(lotsOf(newestFirst(credits), 5n)).toEqual([{ amount: 5n, earned_on: '2025-03-01' }]);
    expect(lotsOf(newestFirst(credits), 0n)).toEqual([]);
  });

  it('are what spending the oldest coins first leaves, for any history', () => {
    const history = fc.array(fc.record({
      credit: fc.bigInt({ min: 1n, max: 10n ** 12n }), day: fc.integer({ min: 0, max: 2000 }), spend_per_mille: fc.integer({ min: 0, max: 1000 }),
    }), { maxLength: 40 });
    fc.assert(fc.property(history, (steps) => {
      const events: Array<{ credit: bigint; on: string } | { debit: bigint }> = [];
      const credits: Credit[] = [];
      let balance = 0n;
      let day = 0;
      for (const step of steps) {
        day += step.day;
        const on = addDays('2020-01-01', day);
        events.push({ credit: step.credit, on });
        credits.push({ amount: step.credit, earned_on: on });
        balance += step.credit;
        const spent = (balance * BigInt(step.spend_per_mille)) / 1000n;
        if (spent > 0n) events.push({ debit: spent });
        balance -= spent;
      }
      expect(lotsOf(newestFirst(credits), balance)).toEqual(fifo(events));
    }));
  });

  it('never exceed the credits that made them', () => {
    expect(() => lotsOf([{ amount: 5n, earned_on: '2025-01-01' }], 6n)).toThrow(/assertion failed/);
  });
});

describe('the day coins expire', () => {
  it('is validity days after the day they were earned, counted in days (a leap day is one)', () => {
    expect(expiresOn({ amount: 1n, earned_on: '2025-03-03' }, year)).toBe('2026-03-03');
    expect(expiresOn({ amount: 1n, earned_on: '2024-01-20' }, year)).toBe('2025-01-19');
    expect(expiresOn({ amount: 1n, earned_on: '2024-02-29' }, year)).toBe('2025-02-28');
    expect(expiresOn({ amount: 1n, earned_on: '2025-12-31' }, { days: 1, from: '2020-01-01' })).toBe('2026-01-01');
  });

  it('counts from the day a validity was set for coins earned before it', () => {
    const set_later: Validity = { days: 30, from: '2025-06-01' };
    expect(expiresOn({ amount: 1n, earned_on: '2025-01-01' }, set_later)).toBe('2025-07-01');
    expect(expiresOn({ amount: 1n, earned_on: '2025-06-15' }, set_later)).toBe('2025-07-15');
  });

  it('comes from the currency: none when its coins never expire', () => {
    expect(validityOf({ validity_days: null, validity_from: null })).toBeUndefined();
    expect(validityOf({ validity_days: 365, validity_from: new Date('2025-04-01T00:00:00Z') })).toEqual({ days: 365, from: '2025-04-01' });
  });

  it('is a day in Belgium', () => {
    // 23:30 UTC on 31 March is already 1 April in Brussels (summer time, UTC+2).
    expect(localDateOf(new Date('2025-03-31T23:30:00Z'))).toBe('2025-04-01');
    expect(localDateOf(new Date('2025-01-01T22:59:59Z'))).toBe('2025-01-01');
    expect(localDateOf(new Date('2025-01-01T23:00:00Z'))).toBe('2025-01-02');
  });
});

describe('what a run takes back', () => {
  const lots: Lot[] = [
    { amount: 7n, earned_on: '2025-01-10' }, { amount: 10n, earned_on: '2025-02-01' }, { amount: 3n, earned_on: '2025-03-01' },
  ];

  it('is every lot expired by today, oldest first, and nothing before their day', () => {
    expect(expiredOf(lots, year, '2025-06-01')).toBeUndefined();
    expect(expiredOf(lots, year, '2026-01-09')).toBeUndefined();
    expect(expiredOf(lots, year, '2026-01-10')).toEqual({ amount: 7n, earned_from: '2025-01-10', earned_to: '2025-01-10' });
  });

  it('catches up what expired on days without a run', () => {
    expect(expiredOf(lots, year, '2026-03-02')).toEqual({ amount: 20n, earned_from: '2025-01-10', earned_to: '2025-03-01' });
  });

  it('leaves what a pending transfer reserved', () => {
    expect(expiryAmount(20n, 25n)).toBe(20n);
    expect(expiryAmount(20n, 12n)).toBe(12n);
    expect(expiryAmount(20n, 0n)).toBe(0n);
    expect(expiryAmount(20n, -3n)).toBe(0n);
  });

  it('is refused when the wallet moved since it was read, or is no wallet', () => {
    const wallet: HeldAccount = {
      id: 'w', kind: 'wallet', name: 'W', status: 'active', debits_pending: 0n, debits_posted: 0n, credits_pending: 0n,
      credits_posted: 20n, balance_max: null, version: 4n,
    };
    const issuance = { ...wallet, id: 'i', kind: 'issuance' as const };
    const posting = { id: 't', code: 'expiry' as const, created_by: 'system:expiry' };
    expect(refuseMovedSince(4n)(wallet, issuance, posting)).toBeUndefined();
    expect(refuseMovedSince(3n)(wallet, issuance, posting)).toMatchObject({ code: 'conflict', detail: { account_id: 'w' } });
    expect(refuseMovedSince(4n)({ ...wallet, kind: 'shop' }, issuance, posting)).toMatchObject({ code: 'code_not_allowed' });
  });
});

describe('what a wallet is told', () => {
  it('is the days within 60 on which coins expire, soonest first, summed per day', () => {
    const lots: Lot[] = [
      { amount: 4n, earned_on: '2024-03-01' }, { amount: 6n, earned_on: '2024-03-01' }, { amount: 2n, earned_on: '2024-03-15' },
      { amount: 9n, earned_on: '2024-05-01' },
    ];
    expect(expiringOf(lots, year, '2025-02-20')).toEqual([{ amount: 10n, on: '2025-03-01' }, { amount: 2n, on: '2025-03-15' }]);
    expect(expiringOf(lots, year, '2025-03-02')).toEqual([{ amount: 10n, on: '2025-03-02' }, { amount: 2n, on: '2025-03-15' }, { amount: 9n, on: '2025-05-01' }]);
    expect(expiringOf(lots, year, '2024-12-01')).toEqual([]);
  });
});

describe('the months ahead', () => {
  it('take what expires each month out of the wallets, this month first', () => {
    const lots: Lot[] = [
      { amount: 5n, earned_on: '2024-01-20' }, { amount: 8n, earned_on: '2024-02-10' }, { amount: 11n, earned_on: '2024-04-01' },
      { amount: 100n, earned_on: '2025-01-01' },
    ];
    const by_day = expiringByDay(lots, year, '2025-01-25');
    expect(monthsAhead(200n, by_day, '2025-01-25', 4)).toEqual([
      { month: '2025-01', in_wallets: 195n, expiring: 5n },
      { month: '2025-02', in_wallets: 187n, expiring: 8n },
      { month: '2025-03', in_wallets: 187n, expiring: 0n },
      { month: '2025-04', in_wallets: 176n, expiring: 11n },
    ]);
  });

  it('add up over the wallets of a currency', () => {
    const by_day = expiringByDay([{ amount: 5n, earned_on: '2025-01-20' }], year, '2026-01-01');
    expiringByDay([{ amount: 7n, earned_on: '2025-01-20' }], year, '2026-01-01', by_day);
    expect([...by_day]).toEqual([['2026-01-20', 12n]]);
  });

  it('run over years', () => {
    expect(monthAfter('2025-11-30', 0)).toBe('2025-11');
    expect(monthAfter('2025-11-30', 2)).toBe('2026-01');
    expect(monthAfter('2025-01-01', 59)).toBe('2029-12');
    expect(monthsAhead(0n, new Map(), '2025-12-31', 3).map((m) => m.month)).toEqual(['2025-12', '2026-01', '2026-02']);
  });
});
