import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile, chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TokenKeys } from './tokens.js';

const secret_length_bytes = 48;
export const key_file_name = 'jwt-secret';
/** Older generated keys, newest first, one a line: still verify, never sign. */
export const previous_key_file_name = 'jwt-secret.previous';

/** The key id of a secret: a short hash, so a token names its key without revealing it. */
export function keyId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

/** Signing key `current`, plus `previous` keys accepted for verification only. */
export function tokenKeysFrom(current: string, previous: readonly string[] = []): TokenKeys {
  const encode = (secret: string) => new TextEncoder().encode(secret);
  const current_kid = keyId(current);
  const keys = new Map<string, Uint8Array>([[current_kid, encode(current)]]);
  for (const secret of previous) {
    const kid = keyId(secret);
    if (!keys.has(kid)) keys.set(kid, encode(secret));
  }
  return { current_kid, keys };
}

/** A secret file's lines; the file is made 0600 if anyone else could read it. ENOENT → []. */
async function readSecretFile(file: string): Promise<string[]> {
  try {
    const mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) await chmod(file, 0o600);
    return (await readFile(file, 'utf8')).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Writes a secret file (0600) in one step: a temporary file renamed over the old one. */
async function writeSecretFile(file: string, lines: string[]): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, lines.map((line) => `${line}\n`).join(''), { mode: 0o600, flag: 'wx' });
  await rename(temporary, file);
}

function generateSecret(): string {
  return randomBytes(secret_length_bytes).toString('base64url');
}

/**
 * The token keys. With JWT_SECRET: it signs, JWT_SECRETS_PREVIOUS only verify. Without it: a
 * secret generated once into the data folder (mode 0600) and reused on every start, so tokens
 * survive restarts; keys retired by `wijkmunt rotate-key` (DATA_DIR/jwt-secret.previous) and
 * JWT_SECRETS_PREVIOUS still verify.
 */
export async function loadTokenKeys(secret: string | undefined, previous: readonly string[], data_dir: string): Promise<TokenKeys> {
  if (secret !== undefined) return tokenKeysFrom(secret, previous);
  const file = path.join(data_dir, key_file_name);
  const retired = [...await readSecretFile(path.join(data_dir, previous_key_file_name)), ...previous];
  const [existing] = await readSecretFile(file);
  if (existing !== undefined) return tokenKeysFrom(existing, retired);
  await mkdir(data_dir, { recursive: true });
  const generated = generateSecret();
  // 'wx' fails if another process created it meanwhile; then that one wins.
  try {
    await writeFile(file, `${generated}\n`, { mode: 0o600, flag: 'wx' });
    return tokenKeysFrom(generated, retired);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const [winner] = await readSecretFile(file);
    if (winner === undefined) throw new Error(`${file} is empty`);
    return tokenKeysFrom(winner, retired);
  }
}

/**
 * Retires the generated key: it moves to the front of jwt-secret.previous (tokens it signed stay
 * valid until they expire) and a new key becomes current. A running service picks the new key
 * up when restarted. Returns the key ids, for the operator.
 */
export async function rotateTokenKeyFile(data_dir: string): Promise<{ current_kid: string; previous_kids: string[] }> {
  await mkdir(data_dir, { recursive: true });
  const file = path.join(data_dir, key_file_name);
  const previous_file = path.join(data_dir, previous_key_file_name);
  const [old] = await readSecretFile(file);
  const retired = await readSecretFile(previous_file);
  // First keep the old key as a previous one, then replace it: a crash in between loses nothing.
  const next_retired = old === undefined ? retired : [old, ...retired.filter((secret) => secret !== old)];
  if (old !== undefined) await writeSecretFile(previous_file, next_retired);
  const generated = generateSecret();
  await writeSecretFile(file, [generated]);
  return { current_kid: keyId(generated), previous_kids: next_retired.map(keyId) };
}

/** Removes the retired generated keys: every token they signed stops working. Returns how many. */
export async function forgetPreviousTokenKeys(data_dir: string): Promise<number> {
  const previous_file = path.join(data_dir, previous_key_file_name);
  const retired = await readSecretFile(previous_file);
  await rm(previous_file, { force: true });
  return retired.length;
}
