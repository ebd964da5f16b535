import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, AppContext } from './context.js';
import { DomainError } from '../ledger/errors.js';
import { verifyToken } from '../security/tokens.js';
import { findSessionUser } from '../db/users.js';
import type { User } from '../db/users.js';
import type { Currency } from '../ledger/model.js';

export const staff_audience = 'staff';

/** Reads a bearer token, if any, and sets the principal. Never rejects by itself. */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('principal', undefined);
    const header = c.req.header('Authorization');
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_\-.]{1,4096})$/.exec(header);
      if (match === null) throw new DomainError('unauthenticated', 'the Authorization header must be "Bearer <token>"');
      const deps = c.get('deps');
      const claims = await verifyToken(deps.keys, staff_audience, match[1] ?? '');
      if (claims === undefined) throw new DomainError('unauthenticated', 'the token is invalid or expired');
      const user = await findSessionUser(deps.sql, claims.sid);
      if (user === undefined || user.id !== claims.sub) {
        throw new DomainError('unauthenticated', 'the session has ended; log in again');
      }
      c.set('principal', { kind: 'staff', user, session_id: claims.sid });
    }
    await next();
  };
}

/** The logged-in staff user, or 401/403. */
export function requireStaff(c: Context<AppEnv>): User {
  const principal = c.get('principal');
  if (principal === undefined) throw new DomainError('unauthenticated', 'log in first');
  if (principal.kind !== 'staff') throw new DomainError('forbidden', 'only staff may do this');
  return principal.user;
}

export function requireAdmin(c: AppContext): User {
  const user = requireStaff(c);
  if (user.role !== 'admin') throw new DomainError('forbidden', 'only an admin may do this');
  return user;
}

/** Admins coordinate every currency; coordinators only their own. */
export function coordinates(user: User, currency: Currency): boolean {
  return user.role === 'admin' || user.currency_ids.includes(currency.id);
}

/** The actor string recorded on transfers. */
export function actorOf(c: AppContext): string {
  const principal = c.get('principal');
  return principal === undefined ? 'anonymous' : `user:${principal.user.id}`;
}
