import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { uuid_pattern } from '../ledger/ids.js';

export const token_issuer = 'wijkmunt';

/** Who a token is for: a staff member, a wallet opened with card + PIN, a paired tablet. */
export const staff_audience = 'staff';
export const wallet_audience = 'wallet';
export const device_audience = 'device';
const algorithm = 'HS256';

export interface TokenKeys {
  /** Key id written in the header of new tokens. */
  current_kid: string;
  /** Every key still accepted, by kid (the current one included). */
  keys: Map<string, Uint8Array>;
}

export interface TokenClaims {
  /** Subject: a user, wallet or device id. */
  sub: string;
  /** The session row that keeps the token revocable. */
  sid: string;
}

/** Signs a token for `audience` (e.g. "staff") valid for `ttl_s` seconds. */
export async function signToken(keys: TokenKeys, audience: string, claims: TokenClaims, ttl_s: number): Promise<{ token: string; expires_at: Date }> {
  const key = keys.keys.get(keys.current_kid);
  if (key === undefined) throw new Error('current signing key missing');
  const now_s = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sid: claims.sid })
    .setProtectedHeader({ alg: algorithm, kid: keys.current_kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(token_issuer)
    .setAudience(audience)
    .setIssuedAt(now_s)
    .setExpirationTime(now_s + ttl_s)
    .sign(key);
  return { token, expires_at: new Date((now_s + ttl_s) * 1000) };
}

/** Verification keys imported once per secret (importing on every request cost ~6 % of a payment). */
const imported = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function verificationKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = imported.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    imported.set(secret, key);
  }
  return key;
}

function keyFor(keys: TokenKeys) {
  return async (header: { kid?: string }) => {
    const secret = header.kid === undefined ? undefined : keys.keys.get(header.kid);
    if (secret === undefined) throw new joseErrors.JWKSNoMatchingKey();
    return verificationKey(secret);
  };
}

type VerifiedClaims = TokenClaims & { aud: string };
type Verified<C> = { claims: C; expires_ms: number };

/** Most verified tokens remembered per key set (the oldest is forgotten first). */
const verified_max = 10_000;

/**
 * Remembers tokens that verified, per key set, until they expire: the same string under the same
 * keys always verifies the same way, and checking an HMAC was a tenth of the service's CPU per
 * payment. A remembered token past its expiry answers `expired`; failures are not remembered.
 */
function rememberVerified<C, F>(expired: F) {
  const caches = new WeakMap<TokenKeys, Map<string, Verified<C>>>();
  return async (keys: TokenKeys, cache_key: string, verify: () => Promise<Verified<C> | F>): Promise<C | F> => {
    let cache = caches.get(keys);
    if (cache === undefined) {
      cache = new Map();
      caches.set(keys, cache);
    }
    const known = cache.get(cache_key);
    if (known !== undefined) {
      if (Date.now() < known.expires_ms) return known.claims;
      cache.delete(cache_key);
      return expired;
    }
    const verified = await verify();
    if (typeof verified !== 'object' || verified === null || !('expires_ms' in verified)) return verified;
    if (cache.size >= verified_max) cache.delete(cache.keys().next().value as string);
    cache.set(cache_key, verified);
    return verified.claims;
  };
}

const bearer_tokens = rememberVerified<VerifiedClaims, undefined>(undefined);

/** Users, wallets, devices and sessions are rows named by uuid: a claim naming anything else names no one. */
function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuid_pattern.test(value);
}

/**
 * Verifies signature (algorithm pinned), kid, exp, iss, one of `audiences`, and that sub and sid
 * are uuids (a session is looked up by them); undefined when anything fails. Returns the audience
 * the token was made for. Remembered once verified (see rememberVerified); callers still check
 * the session behind the token on every request, so a revoked session ends at once.
 */
export async function verifyToken(keys: TokenKeys, audiences: string[], token: string): Promise<VerifiedClaims | undefined> {
  return bearer_tokens(keys, `${audiences.join(' ')}\n${token}`, () => verifySignedToken(keys, audiences, token));
}

async function verifySignedToken(keys: TokenKeys, audiences: string[], token: string): Promise<{ claims: VerifiedClaims; expires_ms: number } | undefined> {
  try {
    const { payload } = await jwtVerify(token, keyFor(keys), {
      algorithms: [algorithm],
      issuer: token_issuer,
      audience: audiences,
      requiredClaims: ['exp', 'iss', 'aud', 'sub', 'sid'],
    });
    const aud = Array.isArray(payload.aud) ? undefined : payload.aud;
    if (!isUuid(payload.sub) || !isUuid(payload.sid) || aud === undefined || payload.exp === undefined) return undefined;
    return { claims: { sub: payload.sub, sid: payload.sid, aud }, expires_ms: payload.exp * 1000 };
  } catch {
    return undefined;
  }
}

const claim_audience = 'claim';

/** What a claim QR carries: the activity session and its currency. */
export interface ClaimClaims {
  session_id: string;
  currency: string;
}

/** A compact signed token naming an activity session, valid until the session expires. */
export async function signClaimToken(keys: TokenKeys, claims: ClaimClaims, expires_at: Date): Promise<string> {
  const key = keys.keys.get(keys.current_kid);
  if (key === undefined) throw new Error('current signing key missing');
  return new SignJWT({ cur: claims.currency })
    .setProtectedHeader({ alg: algorithm, kid: keys.current_kid })
    .setSubject(claims.session_id)
    .setIssuer(token_issuer)
    .setAudience(claim_audience)
    .setExpirationTime(Math.floor(expires_at.getTime() / 1000))
    .sign(key);
}

const claim_tokens = rememberVerified<ClaimClaims, 'expired' | 'invalid'>('expired');

/**
 * Verifies a claim QR token: 'expired' for a well-signed token past its time; 'invalid' for
 * anything tampered or foreign. Remembered once verified, like bearer tokens: every volunteer of
 * a session scans the same token.
 */
export async function verifyClaimToken(keys: TokenKeys, token: string): Promise<ClaimClaims | 'expired' | 'invalid'> {
  return claim_tokens(keys, token, () => verifySignedClaimToken(keys, token));
}

async function verifySignedClaimToken(keys: TokenKeys, token: string): Promise<{ claims: ClaimClaims; expires_ms: number } | 'expired' | 'invalid'> {
  try {
    const { payload } = await jwtVerify(token, keyFor(keys), {
      algorithms: [algorithm], issuer: token_issuer, audience: claim_audience, requiredClaims: ['exp', 'sub'],
    });
    if (typeof payload.sub !== 'string' || typeof payload.cur !== 'string' || payload.exp === undefined) return 'invalid';
    return { claims: { session_id: payload.sub, currency: payload.cur }, expires_ms: payload.exp * 1000 };
  } catch (error) {
    return error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid';
  }
}
