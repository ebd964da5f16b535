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
}

const user_columns = (sql: Queryable) => sql`
  u.id, u.email, u.password_hash, u.role, u.disabled_at,
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

/** The user behind a live session, or undefined when revoked, expired or disabled. */
export async function findSessionUser(sql: Queryable, session_id: string): Promise<User | undefined> {
  const [row] = await sql<User[]>`
    SELECT ${user_columns(sql)} FROM auth_sessions s
    JOIN users u ON u.id = s.user_id
    LEFT JOIN user_currencies uc ON uc.user_id = u.id LEFT JOIN currencies c ON c.id = uc.currency_id
    WHERE s.id = ${session_id} AND s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL
    GROUP BY u.id`;
  return row;
}

export async function revokeSession(sql: Queryable, session_id: string): Promise<void> {
  await sql`UPDATE auth_sessions SET revoked_at = now() WHERE id = ${session_id} AND revoked_at IS NULL`;
}
