/**
 * Coins that expire: the daily run that takes expired coins back from wallets, what a wallet is
 * told of the coins it is about to lose, and the city's bill ahead (the liability report).
 *
 * The run reads each wallet's coins and the days they were earned (src/db/expiry.ts), asks
 * src/ledger/expiry.ts what has expired, and posts one transfer of code `expiry` per wallet —
 * wallet → issuance account, through the one posting pipeline: sealed, audited and decided
 * under the wallet's lock like every movement. Its Idempotency-Key `expiry:<wallet>:<day>`
 * makes a second run on the same day change nothing; a missed day is caught up by the next
 * run, which takes everything expired by then. The decision rests on what was read: a wallet
 * that moved in between is refused (`conflict`) and read again.
 *
 * Time comes from the caller (`now`), so tests move it without waiting.
 */
import { createHash } from 'node:crypto';
import type { Currency } from '../ledger/model.js';
import type { Idempotency } from '../ledger/batch.js';
import { DomainError } from '../ledger/errors.js';
import { newTransferId } from '../ledger/ids.js';
import { formatAmount } from '../ledger/amount.js';
import {
  expiredOf, expiringByDay, expiringOf, expiryAmount, localDateOf, lotsOf, monthsAhead, refuseMovedSince, validityOf,
} from '../ledger/expiry.js';
import type { LocalDate, MonthAhead, Validity } from '../ledger/expiry.js';
import { allWalletCredits, readSnapshot, walletCredits } from '../db/expiry.js';
import type { WalletCredits } from '../db/expiry.js';
import { supplyOf } from '../db/ledger.js';
import type { Supply } from '../db/ledger.js';
import type { Actor, Services } from './context.js';
import { systemActor } from './context.js';
import { post } from './posting.js';

/** What the expiry use cases need: the database and the request batcher. */
export type ExpiryServices = Pick<Services, 'sql' | 'batcher'>;

/** Wallets read and posted at once by a run. */
const run_page_wallets = 500;
/** Times a wallet that moved while the run read it is read again. */
const wallet_attempts_max = 5;

/** The actor of the run: `system:expiry` on its transfers and in the audit log. */
export const expiry_actor: Actor = systemActor('expiry');

/** What a run did in one currency. */
export interface ExpiryRun {
  currency: string;
  today: LocalDate;
  /** Wallets whose expired coins went back, and how many coins (minor units). */
  wallets: number;
  amount: bigint;
  /** Wallets already done today by an earlier run (the key replayed). */
  replayed: number;
  /** Wallets whose expired coins stay for now: a frozen wallet, coins reserved by a pending transfer. */
  held: Array<{ account_id: string; code: string }>;
}

/** The Idempotency-Key of a wallet's expiry on a day: the same for every run of that day. */
function expiryKey(account_id: string, today: LocalDate): Idempotency {
  const key = `expiry:${account_id}:${today}`;
  return { scope: expiry_actor.label, key, request_hash: createHash('sha256').update(key).digest('hex') };
}

/**
 * Takes the expired coins of every wallet of `currency` back to its issuance account, as of the
 * local day of `now`. Nothing when the currency's coins never expire.
 */
export async function expireCurrency(services: ExpiryServices, currency: Currency, now = new Date()): Promise<ExpiryRun> {
  const today = localDateOf(now);
  const run: ExpiryRun = { currency: currency.code, today, wallets: 0, amount: 0n, replayed: 0, held: [] };
  const validity = validityOf(currency);
  if (validity === undefined) return run;
  for await (const page of allWalletCredits(services.sql, currency.id, run_page_wallets)) {
    const outcomes = await Promise.allSettled(page.map((wallet) => expireWallet(services, currency, validity, today, wallet, run)));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
  return run;
}

async function expireWallet(
  services: ExpiryServices, currency: Currency, validity: Validity, today: LocalDate, read: WalletCredits, run: ExpiryRun,
): Promise<void> {
  let wallet: WalletCredits | undefined = read;
  for (let attempt = 1; wallet !== undefined; attempt++) {
    const expired = expiredOf(lotsOf(wallet.credits, wallet.balance), validity, today);
    if (expired === undefined) return;
    const amount = expiryAmount(expired.amount, wallet.balance - wallet.debits_pending);
    if (amount === 0n) {
      run.held.push({ account_id: wallet.account_id, code: 'insufficient_funds' });
      return;
    }
    const { account_id } = wallet;
    try {
      const answer = await post(services, expiry_actor, currency, {
        idempotency: expiryKey(account_id, today), rule: refuseMovedSince(wallet.version),
        posting: {
          id: newTransferId(), code: 'expiry', debit_account_id: account_id, credit_account_id: currency.issuance_account_id,
          amount, memo: null, created_by: expiry_actor.label,
          metadata: { expired_on: today, earned_from: expired.earned_from, earned_to: expired.earned_to, validity_days: validity.days },
        },
      }, (transfer) => ({
        status: 201, body: { transfer_id: transfer.id, amount: formatAmount(transfer.amount, currency.scale) },
        audit: {
          action: 'transfer.expire', currency_id: currency.id, object: { kind: 'transfer', id: transfer.id },
          changes: { wallet: account_id, amount: formatAmount(transfer.amount, currency.scale), ...transfer.metadata },
        },
      }));
      if (answer.replayed) {
        run.replayed += 1;
      } else {
        run.wallets += 1;
        run.amount += amount;
      }
      return;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code !== 'conflict' || attempt >= wallet_attempts_max) {
        run.held.push({ account_id, code: error.code });
        return;
      }
      [wallet] = await walletCredits(services.sql, currency.id, { account_ids: [account_id], limit: 1 });
    }
  }
}

/** Runs the expiry of each of `currencies` whose coins expire, one after another. */
export async function expireAll(services: ExpiryServices, currencies: Currency[], now = new Date()): Promise<ExpiryRun[]> {
  const runs: ExpiryRun[] = [];
  for (const currency of currencies) {
    if (validityOf(currency) !== undefined) runs.push(await expireCurrency(services, currency, now));
  }
  return runs;
}

/** The days within the next 60 on which coins of this wallet expire, soonest first. */
export async function walletExpiring(
  services: Pick<Services, 'sql'>, currency: Currency, account_id: string, now = new Date(),
): Promise<Array<{ amount: bigint; on: LocalDate }>> {
  const validity = validityOf(currency);
  if (validity === undefined) return [];
  const [wallet] = await walletCredits(services.sql, currency.id, { account_ids: [account_id], limit: 1 });
  if (wallet === undefined) return [];
  return expiringOf(lotsOf(wallet.credits, wallet.balance), validity, localDateOf(now));
}

/** The city's bill ahead: the coins held now, and the wallets' coins month by month as they expire. */
export interface LiabilityAhead {
  today: LocalDate;
  supply: Supply;
  months: MonthAhead[];
}

/** Read on one snapshot: the balances and the wallets' coins agree. */
export async function liabilityAhead(
  services: Pick<Services, 'sql'>, currency: Currency, months: number, now = new Date(),
): Promise<LiabilityAhead> {
  const today = localDateOf(now);
  const validity = validityOf(currency);
  return readSnapshot(services.sql, async (tx) => {
    const supply = await supplyOf(tx, currency);
    const by_day = new Map<LocalDate, bigint>();
    if (validity !== undefined) {
      for await (const page of allWalletCredits(tx, currency.id, run_page_wallets)) {
        for (const wallet of page) expiringByDay(lotsOf(wallet.credits, wallet.balance), validity, today, by_day);
      }
    }
    return { today, supply, months: monthsAhead(supply.in_wallets, by_day, today, months) };
  });
}
