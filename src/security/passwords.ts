import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (
  password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** Block size and parallelism; N comes from configuration (OWASP: N=2^17 with r=8, p=1). */
const block_size = 8;
const parallelism = 1;
const memory_max_bytes = 256 * 1024 * 1024;
const key_length_bytes = 32;
const salt_length_bytes = 16;

/**
 * Hashes a secret as `scrypt$N$r$p$salt$hash` (base64url parts). The parameters travel with
 * the hash, so raising `cost_log2` later keeps old hashes verifiable.
 */
export async function hashSecret(secret: string, cost_log2: number): Promise<string> {
  const salt = randomBytes(salt_length_bytes);
  const N = 2 ** cost_log2;
  const hash = await scrypt(secret, salt, key_length_bytes, { N, r: block_size, p: parallelism, maxmem: memory_max_bytes });
  return ['scrypt', N, block_size, parallelism, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Compares a secret with a stored hash in constant time. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || n === undefined || r === undefined || p === undefined || salt === undefined || hash === undefined) {
    return false;
  }
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n), r: Number(r), p: Number(p), maxmem: memory_max_bytes,
  });
  return timingSafeEqual(actual, expected);
}

/** A hash to compare against when the user does not exist, so timing does not tell. */
const dummy_hashes = new Map<number, Promise<string>>();
export function dummyHash(cost_log2: number): Promise<string> {
  let hash = dummy_hashes.get(cost_log2);
  if (hash === undefined) {
    hash = hashSecret(randomBytes(16).toString('hex'), cost_log2);
    dummy_hashes.set(cost_log2, hash);
  }
  return hash;
}
