import { randomUUID } from 'node:crypto';
import type { Queryable, Sql } from './client.js';
import { transaction } from './client.js';
import { DomainError, assert } from '../ledger/errors.js';

export type Role = 'admin' | 'coordinator';

export interface User {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  /** Codes of the currencies a coordinator works in (empty for admins: they have all). */
  currencies: string[];
  currency_ids: number[];
  disabled_at: Date | null;
  password_changed_at: Date | null;
}

const user_columns = (sql: Queryable) => sql`
  u.id, u.email, u.password_hash, u.role, u.disabled_at, u.password_changed_at,
  coalesce(array_agg(c.code ORDER BY c.code) FILTER (WHERE c.id IS NOT NULL), '{}') AS currencies,
  coalesce(array_agg(c.id ORDER BY c.code) FILTER (WHERE c.id IS NOT NULL), '{}') AS currency_ids`;

export async function insertUser(
  sql: Sql, input: { email: string; password_hash: string; role: Role; currency_ids: number[] },
): Promise<User> {
  const id = randomUUID();
  await transaction(sql, async (tx) => {
    const [taken] = await tx`SELECT 1 FROM users WHERE lower(email) = lower(${input.email})`;
    if (taken !== undefined) throw new DomainError('email_exists', `a user with email ${input.email} exists`);
    await tx`INSERT INTO users (id, email, password_hash, role)
             VALUES (${id}, ${input.email}, ${input.password_hash}, ${input.role})`;
    for (const currency_id of input.currency_ids) {
      await tx`INSERT INTO user_currencies (user_id, currency_id) VALUES (${id}, ${currency_id})`;
    }
  });
  const user = await findUserById(sql, id);
  assert(user !== undefined, 'inserted user is found');
  return user;
}

/** Whether an admin who can still log in exists (the first one is made with the CLI). */
export async function hasActiveAdmin(sql: Queryable): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL) AS found`;
  return row?.found === true;
}

export async function findUserByEmail(sql: Queryable, email: string): Promise<User | undefined> {
  const [row] = await sql<User[]>`
    SELECT ${user_columns(sql)} FROM users u
    LEFT JOIN user_currencies uc ON uc.user_id = u.id LEFT JOIN currencies c ON c.id = uc.currency_id
    WHERE lower(u.email) = lower(${email}) GROUP BY u.id`;
  return row;
}

export async function findUserById(sql: Queryable, id: string): Promise<User | undefined> {
  const [row] = await sql<User[]>`
    SELECT ${user_columns(sql)} FROM users u
    LEFT JOIN user_currencies uc ON uc.user_id = u.id LEFT JOIN currencies c ON c.id = uc.currency_id
    WHERE u.id = ${id} GROUP BY u.id`;
  return row;
}

export async function insertSession(sql: Queryable, user_id: string, expires_at: Date): Promise<string> {
  const id = randomUUID();
  await sql`INSERT INTO auth_sessions (id, user_id, expires_at) VALUES (${id}, ${user_id}, ${expires_at})`;
  return id;
}

/** The users behind live sessions, by session id; a revoked, expired or disabled one is not there. */
export async function findSessionUsers(sql: Queryable, session_ids: readonly string[]): Promise<Map<string, User>> {
  const rows = await sql<(User & { session_id: string })[]>`
    SELECT s.id AS session_id, ${user_columns(sql)} FROM auth_sessions s
    JOIN users u ON u.id = s.user_id
    LEFT JOIN user_currencies uc ON uc.user_id = u.id LEFT JOIN currencies c ON c.id = uc.currency_id
    WHERE s.id = ANY(${session_ids as string[]}::uuid[]) AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL
    GROUP BY s.id, u.id`;
  return new Map(rows.map(({ session_id, ...user }) => [session_id, user]));
}

export async function revokeSession(sql: Queryable, session_id: string): Promise<void> {
  await sql`UPDATE auth_sessions SET revoked_at = now() WHERE id = ${session_id} AND revoked_at IS NULL`;
}

export async function listUsers(sql: Queryable): Promise<User[]> {
  return sql<User[]>`
    SELECT ${user_columns(sql)} FROM users u
    LEFT JOIN user_currencies uc ON uc.user_id = u.id LEFT JOIN currencies c ON c.id = uc.currency_id
    GROUP BY u.id ORDER BY lower(u.email)`;
}

/** Ends every live session of a user, but `except` (the one asking, when they change their own password). */
export async function revokeUserSessions(sql: Queryable, user_id: string, except?: string): Promise<number> {
  const rows = await sql`
    UPDATE auth_sessions SET revoked_at = now()
    WHERE user_id = ${user_id} AND revoked_at IS NULL AND expires_at > now() AND id IS DISTINCT FROM ${except ?? null}::uuid
    RETURNING id`;
  return rows.length;
}

/** Sets a user's password and ends their sessions but `except`. */
export async function setPassword(sql: Sql, user_id: string, password_hash: string, except?: string): Promise<void> {
  await transaction(sql, async (tx) => {
    await tx`UPDATE users SET password_hash = ${password_hash}, password_changed_at = now() WHERE id = ${user_id}`;
    await revokeUserSessions(tx, user_id, except);
  });
}

export interface UserChanges {
  disabled?: boolean | undefined;
  role?: Role | undefined;
  currency_ids?: number[] | undefined;
}

/**
 * Changes a user's role, currencies or disabled state; disabling ends every session at once.
 * The last admin who can log in can be neither disabled nor made a coordinator: the check and
 * the change hold one lock, so two admins cannot do it to each other at the same time.
 */
export async function updateUser(sql: Sql, user: User, changes: UserChanges): Promise<User> {
  await transaction(sql, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('wijkmunt:admins'))`;
    const leaves_admins = user.role === 'admin' && (changes.disabled === true || (changes.role !== undefined && changes.role !== 'admin'));
    if (leaves_admins) {
      const [other] = await tx`SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> ${user.id} LIMIT 1`;
      if (other === undefined) throw new DomainError('last_admin', 'this is the last admin who can log in; make another admin first');
    }
    if (changes.disabled !== undefined) {
      await tx`UPDATE users SET disabled_at = CASE WHEN ${changes.disabled} THEN coalesce(disabled_at, now()) END WHERE id = ${user.id}`;
      if (changes.disabled) await revokeUserSessions(tx, user.id);
    }
    if (changes.role !== undefined) await tx`UPDATE users SET role = ${changes.role} WHERE id = ${user.id}`;
    if (changes.currency_ids !== undefined) {
      await tx`DELETE FROM user_currencies WHERE user_id = ${user.id}`;
      for (const currency_id of changes.currency_ids) {
        await tx`INSERT INTO user_currencies (user_id, currency_id) VALUES (${user.id}, ${currency_id})`;
      }
    }
  });
  const updated = await findUserById(sql, user.id);
  assert(updated !== undefined, 'the user exists');
  return updated;
}
