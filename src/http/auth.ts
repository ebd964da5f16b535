import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, AppContext, Principal, SessionWallet } from './context.js';
import { DomainError, assert } from '../ledger/errors.js';
import { device_audience, staff_audience, verifyToken, wallet_audience } from '../security/tokens.js';
import type { Device } from '../db/shops.js';
import type { User } from '../db/users.js';
import type { Currency } from '../ledger/model.js';
import type { AccountRead } from '../db/loaders.js';

export { device_audience, staff_audience, wallet_audience };

/** Reads a bearer token, if any, and sets the principal. Never rejects by itself. */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('principal', undefined);
    const header = c.req.header('Authorization');
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_\-.]{1,4096})$/.exec(header);
      if (match === null) throw new DomainError('unauthenticated', 'the Authorization header must be "Bearer <token>"');
      const deps = c.get('deps');
      const claims = await verifyToken(deps.keys, [staff_audience, wallet_audience, device_audience], match[1] ?? '');
      if (claims === undefined) throw new DomainError('unauthenticated', 'the token is invalid or expired');
      c.set('principal', await principalOf(c, claims));
    }
    await next();
  };
}

/** The principal behind a verified token, if its session is still live (checked every time; the lookups of one turn of the event loop are one query). */
async function principalOf(c: Context<AppEnv>, claims: { sub: string; sid: string; aud: string }): Promise<Principal> {
  if (claims.aud === wallet_audience) {
    const { wallet, account } = await walletSession(c, claims.sid, claims.sub);
    if (wallet === undefined || wallet.account_id !== claims.sub) {
      throw new DomainError('unauthenticated', 'the session has ended; open your wallet again with card and PIN');
    }
    assert(account !== undefined && account.currency.id === wallet.currency_id, 'a live session\'s wallet has its account and currency');
    return { kind: 'wallet', wallet, session_id: claims.sid, account };
  }
  if (claims.aud === device_audience) {
    const device = await c.get('loaders').liveDevice.load(claims.sid);
    if (device === undefined || device.id !== claims.sub) {
      throw new DomainError('unauthenticated', 'this tablet was unpaired; pair it again with a new code');
    }
    return { kind: 'device', device, session_id: claims.sid };
  }
  const user = await c.get('loaders').staffSession.load(claims.sid);
  if (user === undefined || user.id !== claims.sub) {
    throw new DomainError('unauthenticated', 'the session has ended; log in again');
  }
  return { kind: 'staff', user, session_id: claims.sid };
}

/**
 * A wallet session and its account as they are now. The account is read first, with its
 * currency's row_version (one statement, shared with the requests of this turn): the currency row
 * is read again whenever it changed, and with it its sessions_version, which every change of a
 * session, card or wallet raises. A session kept at that version, and not expired by the database's
 * clock read with the account, is what the database would answer (kept-sessions.ts), else it is read.
 */
async function walletSession(c: Context<AppEnv>, session_id: string, account_id: string): Promise<{ wallet: SessionWallet | undefined; account: AccountRead | undefined }> {
  const loaders = c.get('loaders');
  const kept = c.get('kept_sessions');
  const account = await loaders.accountWithCurrency.load(account_id);
  const hit = account === undefined ? undefined : kept.get(session_id, account.currency.id, account.currency.sessions_version, account.read_at.getTime());
  c.get('deps').metrics.wallet_sessions.inc({ result: hit === undefined ? 'miss' : 'hit' });
  if (hit !== undefined) return { wallet: hit, account };
  const read = await loaders.sessionWallet.load(session_id);
  if (read === undefined) return { wallet: undefined, account };
  kept.set(session_id, read);
  return { wallet: read.wallet, account };
}

/** The wallet of the current session, or 401/403. */
export function requireWallet(c: Context<AppEnv>): SessionWallet {
  const principal = c.get('principal');
  if (principal === undefined) throw new DomainError('unauthenticated', 'open your wallet with card and PIN first');
  if (principal.kind !== 'wallet') throw new DomainError('forbidden', 'only a wallet may do this');
  return principal.wallet;
}

/** The wallet of the current session with its account and currency, read with the session check; or 401/403. */
export function requireWalletAccount(c: Context<AppEnv>): AccountRead & { wallet: SessionWallet } {
  const wallet = requireWallet(c);
  const principal = c.get('principal');
  assert(principal?.kind === 'wallet', 'a wallet principal');
  return { wallet, ...principal.account };
}

/** The shop tablet making the request, or 401/403. */
export function requireDevice(c: Context<AppEnv>): Device {
  const principal = c.get('principal');
  if (principal === undefined) throw new DomainError('unauthenticated', 'pair this tablet first');
  if (principal.kind !== 'device') throw new DomainError('forbidden', 'only a shop tablet may do this');
  return principal.device;
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
  if (principal === undefined) return 'anonymous';
  switch (principal.kind) {
    case 'staff': return `user:${principal.user.id}`;
    case 'wallet': return `wallet:${principal.wallet.account_id}`;
    case 'device': return `device:${principal.device.id}`;
  }
}
