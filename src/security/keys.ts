import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TokenKeys } from './tokens.js';

const secret_length_bytes = 48;
const key_file_name = 'jwt-secret';

function keysFrom(secret: string): TokenKeys {
  const kid = createHash('sha256').update(secret).digest('hex').slice(0, 16);
  return { current_kid: kid, keys: new Map([[kid, new TextEncoder().encode(secret)]]) };
}

/**
 * The token signing key: JWT_SECRET when given, else a secret generated once into the data
 * folder (mode 0600) and reused on every start, so tokens survive restarts.
 */
export async function loadTokenKeys(secret: string | undefined, data_dir: string): Promise<TokenKeys> {
  if (secret !== undefined) return keysFrom(secret);
  const file = path.join(data_dir, key_file_name);
  try {
    const mode = (await stat(file)).mode & 0o777;
    if ((mode & 0o077) !== 0) await chmod(file, 0o600);
    return keysFrom((await readFile(file, 'utf8')).trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(data_dir, { recursive: true });
  const generated = randomBytes(secret_length_bytes).toString('base64url');
  // 'wx' fails if another process created it meanwhile; then that one wins.
  try {
    await writeFile(file, `${generated}\n`, { mode: 0o600, flag: 'wx' });
    return keysFrom(generated);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return keysFrom((await readFile(file, 'utf8')).trim());
  }
}
