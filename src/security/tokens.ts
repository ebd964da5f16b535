import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';

export const token_issuer = 'wijkmunt';
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

/** Verifies signature (algorithm pinned), kid, exp, iss and aud; undefined when anything fails. */
export async function verifyToken(keys: TokenKeys, audience: string, token: string): Promise<TokenClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, (header) => {
      const key = header.kid === undefined ? undefined : keys.keys.get(header.kid);
      if (key === undefined) throw new joseErrors.JWKSNoMatchingKey();
      return key;
    }, {
      algorithms: [algorithm],
      issuer: token_issuer,
      audience,
      requiredClaims: ['exp', 'iss', 'aud', 'sub', 'sid'],
    });
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return undefined;
    return { sub: payload.sub, sid: payload.sid };
  } catch {
    return undefined;
  }
}
