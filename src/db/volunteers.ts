import { randomUUID } from 'node:crypto';
import type { Queryable, Sql } from './client.js';
import { transaction } from './client.js';
import { DomainError, assert } from '../ledger/errors.js';
import type { Account, Currency } from '../ledger/model.js';
import { default_activities } from '../ledger/volunteering.js';
import type { Activity, ActivityCategory, ActivitySession, LocalizedName } from '../ledger/volunteering.js';

export type CardStatus = 'active' | 'blocked' | 'replaced';

export interface Card {
  currency_id: number;
  code: string;
  account_id: string;
  status: CardStatus;
  pin_failures: number;
  locked_until: Date | null;
  /** Locks since the last coordinator unlock or PIN change: each lasts longer, then one holds. */
  lock_count: number;
  created_at: Date;
}

export interface Wallet {
  currency_id: number;
  account_id: string;
  display_name: string;
  pin_hash: string;
  language: string;
  created_at: Date;
  /** For the coordinator's eyes only (never in the wallet, never in a sealed row). */
  full_name: string | null;
  phone: string | null;
  email: string | null;
  note: string | null;
  updated_at: Date | null;
  /** When the person's data was erased (docs/privacy-requests.md): the names are a pseudonym since. */
  erased_at: Date | null;
  /** The code of its receive QR (/r/<code>), made the first time the wallet shows it. */
  receive_code: string | null;
  /** Ever linked as a helper of another wallet (migrations/0018: set by the database, never cleared). */
  helps_others: boolean;
}

/** What a coordinator may change of a volunteer; null clears an optional field. */
export interface WalletProfile {
  display_name?: string | undefined;
  language?: string | undefined;
  full_name?: string | null | undefined;
  phone?: string | null | undefined;
  email?: string | null | undefined;
  note?: string | null | undefined;
}

/** Changes a volunteer's profile; the account keeps the display name too (statements show it). */
export async function updateWalletProfile(sql: Sql, wallet: Wallet, changes: WalletProfile): Promise<Wallet> {
  const next = { ...wallet, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) } as Wallet;
  return transaction(sql, async (tx) => {
    const [row] = await tx<Wallet[]>`
      UPDATE wallets SET display_name = ${next.display_name}, language = ${next.language}, full_name = ${next.full_name},
        phone = ${next.phone}, email = ${next.email}, note = ${next.note}, updated_at = now()
      WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id}
      RETURNING *`;
    if (next.display_name !== wallet.display_name) {
      await tx`UPDATE accounts SET name = ${next.display_name} WHERE currency_id = ${wallet.currency_id} AND id = ${wallet.account_id}`;
    }
    assert(row !== undefined, 'the wallet exists');
    return row;
  });
}

/** A wallet in the coordinator's list: its names and its current card's state. */
export interface WalletListItem {
  account_id: string;
  display_name: string;
  full_name: string | null;
  language: string;
  card_code: string | null;
  card_status: CardStatus | null;
  pin_failures: number | null;
  locked_until: Date | null;
}

/** Combining marks, which NFD splits off accented letters: "Aïcha" → "Aicha". */
const combining_marks = '[\u0300-\u036f]';

/**
 * The volunteers of a currency by name, case- and accent-insensitive ("aicha" finds "Aïcha"), in
 * the display or the full name, or the one whose card (current or not) is `card_code`; keyset
 * paged by (lower name, id). A wallet scan per currency: thousands of rows, not millions.
 */
export async function listWallets(
  sql: Queryable, currency_id: number,
  query: { folded?: string | undefined; card_code?: string | undefined; after?: { name: string; id: string } | undefined; limit: number },
): Promise<WalletListItem[]> {
  const pattern = query.folded === undefined ? null : `%${query.folded.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<WalletListItem[]>`
    SELECT w.account_id, w.display_name, w.full_name, w.language,
           c.code AS card_code, c.status AS card_status, c.pin_failures, c.locked_until
    FROM wallets w
    LEFT JOIN LATERAL (
      SELECT * FROM cards WHERE currency_id = w.currency_id AND account_id = w.account_id
      ORDER BY (status = 'replaced'), created_at DESC LIMIT 1
    ) c ON true
    WHERE w.currency_id = ${currency_id}
      AND (${pattern}::text IS NULL
           OR regexp_replace(normalize(lower(w.display_name), NFD), ${combining_marks}, '', 'g') LIKE ${pattern}
           OR regexp_replace(normalize(lower(coalesce(w.full_name, '')), NFD), ${combining_marks}, '', 'g') LIKE ${pattern}
           OR (${query.card_code ?? null}::text IS NOT NULL
               AND EXISTS (SELECT 1 FROM cards k WHERE k.currency_id = w.currency_id AND k.account_id = w.account_id AND k.code = ${query.card_code ?? null})))
      AND (${query.after?.name ?? null}::text IS NULL
           OR (lower(w.display_name), w.account_id) > (${query.after?.name ?? null}, ${query.after?.id ?? null}::uuid))
    ORDER BY lower(w.display_name), w.account_id
    LIMIT ${query.limit}`;
}

/** Opens a wallet account with its holder and first card, in one transaction. */
export async function insertWallet(
  sql: Sql, currency: Currency, input: { display_name: string; pin_hash: string; language: string; card_code: string },
): Promise<{ account: Account; wallet: Wallet; card: Card }> {
  return transaction(sql, async (tx) => {
    const [account] = await tx<Account[]>`
      INSERT INTO accounts (currency_id, id, kind, name, balance_max)
      VALUES (${currency.id}, ${randomUUID()}, 'wallet', ${input.display_name}, ${currency.wallet_balance_max})
      RETURNING *`;
    assert(account !== undefined, 'insert returns the account');
    const [wallet] = await tx<Wallet[]>`
      INSERT INTO wallets (currency_id, account_id, display_name, pin_hash, language)
      VALUES (${currency.id}, ${account.id}, ${input.display_name}, ${input.pin_hash}, ${input.language})
      RETURNING *`;
    const [card] = await tx<Card[]>`
      INSERT INTO cards (currency_id, code, account_id) VALUES (${currency.id}, ${input.card_code}, ${account.id})
      RETURNING *`;
    assert(wallet !== undefined && card !== undefined, 'inserts return their rows');
    return { account, wallet, card };
  });
}

export async function findWallet(sql: Queryable, account_id: string): Promise<Wallet | undefined> {
  const [row] = await sql<Wallet[]>`SELECT * FROM wallets WHERE account_id = ${account_id}`;
  return row;
}

export async function findCard(sql: Queryable, code: string): Promise<Card | undefined> {
  const [row] = await sql<Card[]>`SELECT * FROM cards WHERE code = ${code}`;
  return row;
}

/** The card a wallet can use now (not replaced), if any. */
export async function currentCard(sql: Queryable, wallet: Wallet): Promise<Card | undefined> {
  const [row] = await sql<Card[]>`
    SELECT * FROM cards WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id} AND status <> 'replaced'`;
  return row;
}

/**
 * Gives a wallet a new card: every earlier card is replaced and every session opened with it
 * revoked, at once, in the same transaction. The balance is untouched.
 */
export async function reissueCard(sql: Sql, wallet: Wallet, new_code: string): Promise<Card> {
  return transaction(sql, async (tx) => {
    const old = await tx<{ code: string }[]>`
      UPDATE cards SET status = 'replaced'
      WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id} AND status <> 'replaced'
      RETURNING code`;
    if (old.length > 0) {
      await tx`UPDATE wallet_sessions SET revoked_at = now()
               WHERE currency_id = ${wallet.currency_id} AND card_code = ANY(${old.map((c) => c.code)}) AND revoked_at IS NULL`;
    }
    const [card] = await tx<Card[]>`
      INSERT INTO cards (currency_id, code, account_id) VALUES (${wallet.currency_id}, ${new_code}, ${wallet.account_id})
      RETURNING *`;
    assert(card !== undefined, 'insert returns the card');
    return card;
  });
}

/** Blocks a card (its sessions die with it) or makes a blocked card usable again. */
export async function setCardBlocked(sql: Sql, card: Card, blocked: boolean): Promise<Card> {
  return transaction(sql, async (tx) => {
    const [row] = await tx<Card[]>`
      UPDATE cards SET status = ${blocked ? 'blocked' : 'active'}
      WHERE currency_id = ${card.currency_id} AND code = ${card.code} AND status <> 'replaced'
      RETURNING *`;
    if (row === undefined) throw new DomainError('card_replaced', 'this card was replaced by a new one and cannot be used again');
    if (blocked) {
      await tx`UPDATE wallet_sessions SET revoked_at = now()
               WHERE currency_id = ${card.currency_id} AND card_code = ${card.code} AND revoked_at IS NULL`;
    }
    return row;
  });
}

/** Clears a PIN lockout and its escalation. */
export async function unlockCard(sql: Queryable, card: Card): Promise<Card> {
  const [row] = await sql<Card[]>`
    UPDATE cards SET pin_failures = 0, locked_until = NULL, lock_count = 0
    WHERE currency_id = ${card.currency_id} AND code = ${card.code}
    RETURNING *`;
  assert(row !== undefined, 'the card exists');
  return row;
}

/**
 * Takes one PIN attempt before the PIN is compared, so concurrent guesses cannot exceed the
 * limit. Undefined when the card is locked (or not active). An expired lock starts afresh.
 */
export async function takePinAttempt(sql: Queryable, card: Card, failures_max: number): Promise<Card | undefined> {
  const [row] = await sql<Card[]>`
    UPDATE cards SET
      pin_failures = CASE WHEN locked_until <= now() THEN 1 ELSE pin_failures + 1 END,
      locked_until = CASE WHEN locked_until <= now() THEN NULL ELSE locked_until END
    WHERE currency_id = ${card.currency_id} AND code = ${card.code} AND status = 'active'
      AND (pin_failures < ${failures_max} OR locked_until <= now())
    RETURNING *`;
  return row;
}

/** How a card's lockout escalates: the first lock's length and how many timed locks come before one that holds. */
export interface LockRule {
  failures_max: number;
  lock_s: number;
  timed_locks_max: number;
}

/**
 * After the comparison: a right PIN clears the count of this round (the locks are remembered);
 * the last wrong one of a round locks the card — for lock_s × 4^(n−1) at the n-th lock, and
 * after `timed_locks_max` timed locks until a coordinator unlocks it (locked_until stays NULL).
 */
export async function settlePinAttempt(sql: Queryable, card: Card, right: boolean, rule: LockRule): Promise<Card | undefined> {
  const [row] = right
    ? await sql<Card[]>`UPDATE cards SET pin_failures = 0, locked_until = NULL
                        WHERE currency_id = ${card.currency_id} AND code = ${card.code} RETURNING *`
    : await sql<Card[]>`
        UPDATE cards SET lock_count = lock_count + 1,
          locked_until = CASE WHEN lock_count + 1 > ${rule.timed_locks_max} THEN NULL
                              ELSE now() + make_interval(secs => ${rule.lock_s} * power(4, lock_count)) END
        WHERE currency_id = ${card.currency_id} AND code = ${card.code}
          AND pin_failures >= ${rule.failures_max} AND locked_until IS NULL
        RETURNING *`;
  if (row !== undefined) return row;
  // Undefined when the card's code is gone: its person was erased meanwhile (src/app/privacy.ts).
  const [current] = await sql<Card[]>`SELECT * FROM cards WHERE currency_id = ${card.currency_id} AND code = ${card.code}`;
  return current;
}

/** Whether the card is locked out now. */
export function isLocked(card: Card, failures_max: number, now = new Date()): boolean {
  return card.pin_failures >= failures_max && (card.locked_until === null || card.locked_until > now);
}

/**
 * A session opened with the card; undefined when the card is no longer active under its code
 * (blocked, or its person erased meanwhile: the card row is read under a key-share lock, which
 * waits for an erasure holding it and then finds the code changed).
 */
export async function insertWalletSession(sql: Queryable, card: Card, expires_at: Date): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    WITH card AS (
      SELECT currency_id, account_id, code FROM cards
      WHERE currency_id = ${card.currency_id} AND code = ${card.code} AND status = 'active' FOR KEY SHARE
    )
    INSERT INTO wallet_sessions (currency_id, id, account_id, card_code, expires_at)
    SELECT currency_id, ${randomUUID()}, account_id, code, ${expires_at} FROM card
    RETURNING id`;
  return row?.id;
}

/**
 * The wallet of a live session: not revoked or expired, its card active. A PIN lockout caused
 * elsewhere does not end it (a stranger who knows the card code cannot log the owner out);
 * a block or a new card does.
 */
export async function findSessionWallet(sql: Queryable, session_id: string): Promise<(Wallet & { card_code: string }) | undefined> {
  const [row] = await sql<(Wallet & { card_code: string })[]>`
    SELECT w.*, s.card_code FROM wallet_sessions s
    JOIN cards c ON c.currency_id = s.currency_id AND c.code = s.card_code
    JOIN wallets w ON w.currency_id = s.currency_id AND w.account_id = s.account_id
    WHERE s.id = ${session_id} AND s.revoked_at IS NULL AND s.expires_at > now() AND c.status = 'active'`;
  return row;
}

/**
 * A new PIN for the wallet: its active card's lockout and escalation are cleared (earlier
 * wrong guesses say nothing about the new PIN). Sessions already open stay open.
 */
export async function setWalletPin(sql: Sql, wallet: Wallet, pin_hash: string): Promise<Card | undefined> {
  return transaction(sql, async (tx) => {
    await tx`UPDATE wallets SET pin_hash = ${pin_hash} WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id}`;
    const [card] = await tx<Card[]>`
      UPDATE cards SET pin_failures = 0, locked_until = NULL, lock_count = 0
      WHERE currency_id = ${wallet.currency_id} AND account_id = ${wallet.account_id} AND status = 'active'
      RETURNING *`;
    return card;
  });
}

export async function revokeWalletSession(sql: Queryable, session_id: string): Promise<void> {
  await sql`UPDATE wallet_sessions SET revoked_at = now() WHERE id = ${session_id} AND revoked_at IS NULL`;
}

// Activities and sessions --------------------------------------------------------------------

export interface NewActivity {
  name: LocalizedName;
  category: ActivityCategory;
  rate_per_hour: bigint | null;
  amount: bigint | null;
  programme_account_id: string;
}

export async function insertActivity(sql: Queryable, currency_id: number, input: NewActivity): Promise<Activity> {
  const [row] = await sql<Activity[]>`
    INSERT INTO activities (currency_id, id, name, category, rate_per_hour, amount, programme_account_id)
    VALUES (${currency_id}, ${randomUUID()}, ${sql.json(input.name as never)}, ${input.category},
            ${input.rate_per_hour}, ${input.amount}, ${input.programme_account_id})
    RETURNING *`;
  assert(row !== undefined, 'insert returns the activity');
  return row;
}

/**
 * What every new currency starts with: a volunteering programme (empty until funded) and the
 * default activity catalogue paid from it, which coordinators then edit.
 */
export async function insertDefaultCatalogue(tx: Queryable, currency: Currency): Promise<void> {
  const programme_id = randomUUID();
  await tx`INSERT INTO accounts (currency_id, id, kind, name)
           VALUES (${currency.id}, ${programme_id}, 'programme', ${`Vrijwilligerswerk ${currency.code}`})`;
  const unit = 10n ** BigInt(currency.scale);
  for (const activity of default_activities) {
    await insertActivity(tx, currency.id, {
      name: activity.name, category: activity.category, amount: null,
      rate_per_hour: BigInt(activity.rate_per_hour_units) * unit, programme_account_id: programme_id,
    });
  }
}

export async function updateActivity(sql: Queryable, activity: Activity, changes: Partial<NewActivity & { active: boolean }>): Promise<Activity> {
  const next = { ...activity, ...changes };
  const [row] = await sql<Activity[]>`
    UPDATE activities SET name = ${sql.json(next.name as never)}, category = ${next.category},
      rate_per_hour = ${next.rate_per_hour}, amount = ${next.amount},
      programme_account_id = ${next.programme_account_id}, active = ${next.active}
    WHERE currency_id = ${activity.currency_id} AND id = ${activity.id}
    RETURNING *`;
  assert(row !== undefined, 'the activity exists');
  return row;
}

export async function listActivities(sql: Queryable, currency_id: number): Promise<Activity[]> {
  return sql<Activity[]>`SELECT * FROM activities WHERE currency_id = ${currency_id} ORDER BY active DESC, name->>'nl', id`;
}

export async function findActivity(sql: Queryable, id: string): Promise<Activity | undefined> {
  const [row] = await sql<Activity[]>`SELECT * FROM activities WHERE id = ${id}`;
  return row;
}

type SessionRow = Omit<ActivitySession, 'hours'> & { hours: string | null };

/** When and where a session takes place, and whether the agenda shows it. */
export type SessionSchedule = Pick<ActivitySession, 'starts_at' | 'ends_at' | 'place' | 'public' | 'expires_at'>;

export async function insertActivitySession(
  sql: Queryable, activity: Activity, input: SessionSchedule & { hours: string | null; max_claims: number; created_by: string },
): Promise<ActivitySession> {
  const [row] = await sql<SessionRow[]>`
    INSERT INTO activity_sessions (currency_id, id, activity_id, hours, max_claims, expires_at, created_by,
                                   starts_at, ends_at, place, public)
    VALUES (${activity.currency_id}, ${randomUUID()}, ${activity.id}, ${input.hours}, ${input.max_claims},
            ${input.expires_at}, ${input.created_by}, ${input.starts_at}, ${input.ends_at}, ${input.place}, ${input.public})
    RETURNING *`;
  assert(row !== undefined, 'insert returns the session');
  return row;
}

export async function findActivitySession(sql: Queryable, id: string): Promise<ActivitySession | undefined> {
  const [row] = await sql<SessionRow[]>`SELECT * FROM activity_sessions WHERE id = ${id}`;
  return row;
}

/** Sets when and where a session takes place, until when its QR works, and whether the agenda shows it. */
export async function updateSessionSchedule(sql: Queryable, session: ActivitySession, schedule: SessionSchedule): Promise<ActivitySession> {
  const [row] = await sql<SessionRow[]>`
    UPDATE activity_sessions SET starts_at = ${schedule.starts_at}, ends_at = ${schedule.ends_at}, place = ${schedule.place},
      public = ${schedule.public}, expires_at = ${schedule.expires_at}
    WHERE currency_id = ${session.currency_id} AND id = ${session.id}
    RETURNING *`;
  assert(row !== undefined, 'a session is never deleted');
  return row;
}

/**
 * The agenda of a currency: its public sessions not yet over (they end, or without an end
 * start, after `now`), not ended by a coordinator, their activity active, soonest first.
 */
export async function listAgenda(
  sql: Queryable, currency_id: number, now: Date, limit: number,
): Promise<Array<{ session: ActivitySession; activity: Activity }>> {
  const sessions = await sql<SessionRow[]>`
    SELECT s.* FROM activity_sessions s JOIN activities a ON a.currency_id = s.currency_id AND a.id = s.activity_id
    WHERE s.currency_id = ${currency_id} AND s.public AND s.closed_at IS NULL AND a.active
      AND coalesce(s.ends_at, s.starts_at) > ${now}
    ORDER BY s.starts_at, s.id
    LIMIT ${limit}`;
  const activities = new Map((await listActivities(sql, currency_id)).map((a) => [a.id, a]));
  return sessions.map((session) => {
    const activity = activities.get(session.activity_id);
    assert(activity !== undefined, 'a session has its activity');
    return { session, activity };
  });
}

/** What a wallet earned in each of `periods` (the keys of the legal caps' counters); 0 when nothing. */
export async function earnedIn(sql: Queryable, currency_id: number, account_id: string, periods: string[]): Promise<Map<string, bigint>> {
  const rows = await sql<{ period: string; amount: bigint }[]>`
    SELECT period, amount FROM volunteer_earnings
    WHERE currency_id = ${currency_id} AND account_id = ${account_id} AND period = ANY(${periods}::text[])`;
  return new Map(periods.map((p) => [p, rows.find((r) => r.period === p)?.amount ?? 0n]));
}

/**
 * Ends a session at once (later claims are refused); ending it again changes nothing. Run in a
 * transaction: the row is locked first, so of closes at the same time one is `closed_now`.
 */
export async function closeActivitySession(tx: Queryable, session: ActivitySession): Promise<{ session: ActivitySession; closed_now: boolean }> {
  const [before] = await tx<{ open: boolean }[]>`
    SELECT closed_at IS NULL AS open FROM activity_sessions
    WHERE currency_id = ${session.currency_id} AND id = ${session.id} FOR UPDATE`;
  const [row] = await tx<SessionRow[]>`
    UPDATE activity_sessions SET closed_at = coalesce(closed_at, now())
    WHERE currency_id = ${session.currency_id} AND id = ${session.id}
    RETURNING *`;
  assert(before !== undefined && row !== undefined, 'a session is never deleted');
  return { session: row, closed_now: before.open };
}

/**
 * The claim sessions of a currency, newest first, with their activities: `open` keeps those
 * that still reward (not ended, not expired, room left, activity active), `open: false` the
 * others; keyset paged by (created_at, id).
 */
export async function listActivitySessions(
  sql: Queryable, currency_id: number,
  query: { open?: boolean | undefined; before?: { us: string; id: string } | undefined; limit: number },
): Promise<Array<{ session: ActivitySession; activity: Activity; cursor: { us: string; id: string } }>> {
  const sessions = await sql<(SessionRow & { created_us: bigint })[]>`
    SELECT s.*, (extract(epoch FROM s.created_at) * 1000000)::bigint AS created_us FROM activity_sessions s JOIN activities a ON a.currency_id = s.currency_id AND a.id = s.activity_id
    WHERE s.currency_id = ${currency_id}
      AND (${query.open ?? null}::boolean IS NULL
           OR (${query.open ?? null}::boolean = (s.closed_at IS NULL AND s.expires_at > now() AND s.claims_count < s.max_claims AND a.active)))
      AND (${query.before?.us ?? null}::bigint IS NULL
           OR (s.created_at, s.id) < ('epoch'::timestamptz + ${query.before?.us ?? null}::bigint * interval '1 microsecond', ${query.before?.id ?? null}::uuid))
    ORDER BY s.created_at DESC, s.id DESC
    LIMIT ${query.limit}`;
  // The catalogue of a currency is small: one read names every session's activity.
  const activities = new Map((await listActivities(sql, currency_id)).map((a) => [a.id, a]));
  return sessions.map(({ created_us, ...session }) => {
    const activity = activities.get(session.activity_id);
    assert(activity !== undefined, 'a session has its activity');
    // The exact time as PostgreSQL keeps it (microseconds), so the next page starts right after.
    return { session, activity, cursor: { us: created_us.toString(), id: session.id } };
  });
}
