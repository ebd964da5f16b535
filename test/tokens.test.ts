/**
 * Issue #8, tokens: the algorithm is pinned (no `none`, no RS256, no HMAC with a public key, no
 * other HS size), exp/iss/aud/sub/sid are required, tampering is refused — for staff, wallet and
 * tablet tokens alike. Key rotation by kid: tokens of a previous key stay valid (until they
 * expire) while that key is configured, and stop working once it is removed; new tokens are
 * always signed with the current key. Logout and revocation take effect at once.
 * (test/auth.test.ts holds more forgeries of staff tokens.)
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { fundedWallet, shopWithTablet } from './support/shop-fixtures.js';
import { activityOf, openSession } from './support/volunteer-fixtures.js';
import {
  forgetPreviousTokenKeys, keyId, loadTokenKeys, previous_key_file_name, key_file_name, rotateTokenKeyFile,
} from '../src/security/keys.js';
import type { TokenKeys } from '../src/security/tokens.js';
import { signToken, verifyToken } from '../src/security/tokens.js';
import { loadConfig, scrubSecrets } from '../src/config.js';

const root = path.resolve(import.meta.dirname, '..');
let t: TestApp;
let data_dir: string;
let first_keys: TokenKeys;
const opened: TestApp[] = [];

/** A principal's token and the route that shows it works (200) or not (401). */
interface Holder {
  kind: 'staff' | 'wallet' | 'device';
  token: string;
  probe: string;
}
let holders: Holder[];
let shop_account: string;
let device_id: string;

beforeAll(async () => {
  data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-keys-'));
  first_keys = await loadTokenKeys(undefined, [], data_dir);
  t = await createTestApp({}, { keys: first_keys });
  await createCurrency(t, 'KEY', 2);
  const wallet = await fundedWallet(t, 'KEY', '5.00');
  const { shop, tablet } = await shopWithTablet(t, 'KEY');
  shop_account = shop.account;
  device_id = tablet.device;
  holders = [
    { kind: 'staff', token: t.adminToken, probe: '/api/v1/auth/me' },
    { kind: 'wallet', token: wallet.token, probe: '/api/v1/wallet' },
    { kind: 'device', token: tablet.token, probe: '/api/v1/shop' },
  ];
});

afterAll(async () => {
  for (const app of opened) await app.close();
  await t?.close();
  if (data_dir !== undefined) await rm(data_dir, { recursive: true, force: true });
});

/** The service restarted on the same database with these keys. */
async function restartWith(keys: TokenKeys): Promise<TestApp> {
  const app = await createTestApp({}, { database_url: t.database_url, keys });
  opened.push(app);
  return app;
}

function probe(app: TestApp, holder: Holder, token = holder.token): Promise<Reply> {
  return app.request('GET', holder.probe, { token });
}

function currentKey(keys: TokenKeys): Uint8Array {
  const key = keys.keys.get(keys.current_kid);
  if (key === undefined) throw new Error('no current key');
  return key;
}

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The token's own claims, re-signed with whatever header, claims and key a test wants. */
async function forge(token: string, options: {
  alg?: string; kid?: string | null; key?: Uint8Array | KeyObject;
  drop?: string[]; set?: Record<string, unknown>;
} = {}): Promise<string> {
  const claims: Record<string, unknown> = { ...decodeJwt(token), ...options.set };
  for (const name of options.drop ?? []) delete claims[name];
  const kid = options.kid === undefined ? decodeProtectedHeader(token).kid : options.kid;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT', ...(kid === null ? {} : { kid }) })
    .sign(options.key ?? currentKey(first_keys));
}

describe('forged tokens of every kind are 401', () => {
  it('re-signed like the app signs them, staff, wallet and tablet tokens work (control for the forgeries below)', async () => {
    for (const holder of holders) {
      const reply = await probe(t, holder, await forge(holder.token));
      expect(reply.status, `${holder.kind}: ${JSON.stringify(reply.body)}`).toBe(200);
    }
  });

  it('alg none, RS256 with any RSA key, HS256 keyed with an RSA public key, and HS384/HS512 with the real key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const public_pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const holder of holders) {
      const [, payload] = holder.token.split('.') as [string, string];
      const unsigned = `${encode({ alg: 'none', typ: 'JWT', kid: first_keys.current_kid })}.${payload}.`;
      const forgeries = [
        unsigned,
        await forge(holder.token, { alg: 'RS256', key: rsa.privateKey }),
        await forge(holder.token, { alg: 'HS256', key: new TextEncoder().encode(public_pem) }),
        await forge(holder.token, { alg: 'HS384' }),
        await forge(holder.token, { alg: 'HS512' }),
      ];
      for (const [index, forged] of forgeries.entries()) {
        const reply = await probe(t, holder, forged);
        expect(reply.status, `${holder.kind} forgery ${index}`).toBe(401);
        expectProblem(reply, 401, 'unauthenticated');
      }
    }
  });

  it('a token without exp, iss, aud, sub or sid — each missing on its own, properly signed — is 401', async () => {
    for (const holder of holders) {
      for (const claim of ['exp', 'iss', 'aud', 'sub', 'sid']) {
        const reply = await probe(t, holder, await forge(holder.token, { drop: [claim] }));
        expect(reply.status, `${holder.kind} without ${claim}`).toBe(401);
      }
    }
  });

  it('a properly signed token whose sid or sub is not a uuid is 401 problem+json, never 500 (#17)', async () => {
    for (const holder of holders) {
      for (const set of [{ sid: 'not-a-uuid' }, { sub: 'not-a-uuid' }, { sid: 'not-a-uuid', sub: 'not-a-uuid' }, { sid: '' }, { sid: 42 }]) {
        const reply = await probe(t, holder, await forge(holder.token, { set }));
        expectProblem(reply, 401, 'unauthenticated');
      }
    }
  });

  it('a tampered payload under the old signature, an unknown or missing kid, an expired token: 401', async () => {
    for (const holder of holders) {
      const [header, payload, signature] = holder.token.split('.') as [string, string, string];
      const claims = decodeJwt(holder.token);
      const tampered = `${header}.${encode({ ...claims, exp: (claims.exp ?? 0) + 86400 })}.${signature}`;
      const now_s = Math.floor(Date.now() / 1000);
      for (const forged of [
        tampered,
        `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
        await forge(holder.token, { kid: 'unknown-kid' }),
        await forge(holder.token, { kid: null }),
        await forge(holder.token, { set: { iat: now_s - 7200, exp: now_s - 60 } }),
        await forge(holder.token, { set: { aud: holder.kind === 'staff' ? 'device' : 'staff' } }),
      ]) {
        expectProblem(await probe(t, holder, forged), 401, 'unauthenticated');
      }
    }
  });

  it('a claim QR token (same key, audience "claim") is no bearer token', async () => {
    const activity = await activityOf(t, 'KEY');
    const session = await openSession(t, activity.id);
    const claim_token = new URL(session.claim_url as string).hash.slice(1);
    expect(decodeJwt(claim_token).aud).toBe('claim');
    for (const holder of holders) expectProblem(await probe(t, holder, claim_token), 401, 'unauthenticated');
  });
});

describe('key rotation (generated key in DATA_DIR)', () => {
  it('the generated key file is 0600, and every token names the key that signed it', async () => {
    expect((await stat(path.join(data_dir, key_file_name))).mode & 0o777).toBe(0o600);
    for (const holder of holders) expect(decodeProtectedHeader(holder.token)).toMatchObject({ alg: 'HS256', kid: first_keys.current_kid });
  });

  it('after rotate-key, old tokens still work and new ones are signed with the new key; after --forget-previous, old ones are 401', async () => {
    const rotated = await rotateTokenKeyFile(data_dir);
    expect(rotated.current_kid).not.toBe(first_keys.current_kid);
    expect(rotated.previous_kids).toEqual([first_keys.current_kid]);
    for (const name of [key_file_name, previous_key_file_name]) {
      expect((await stat(path.join(data_dir, name))).mode & 0o777, name).toBe(0o600);
    }
    const second_keys = await loadTokenKeys(undefined, [], data_dir);
    expect(second_keys.current_kid).toBe(rotated.current_kid);
    expect([...second_keys.keys.keys()].sort()).toEqual([first_keys.current_kid, rotated.current_kid].sort());

    const restarted = await restartWith(second_keys);
    for (const holder of holders) expect((await probe(restarted, holder)).status, holder.kind).toBe(200);
    // New tokens: the new key, never a previous one.
    expect(decodeProtectedHeader(restarted.adminToken).kid).toBe(rotated.current_kid);
    const now_s = Math.floor(Date.now() / 1000);
    // Valid until it expires: an old-key token past its exp is refused like any other.
    const staff = holders[0]!;
    expectProblem(await probe(restarted, staff, await forge(staff.token, { set: { exp: now_s - 1 } })), 401, 'unauthenticated');

    expect(await forgetPreviousTokenKeys(data_dir)).toBe(1);
    const third_keys = await loadTokenKeys(undefined, [], data_dir);
    expect([...third_keys.keys.keys()]).toEqual([rotated.current_kid]);
    const without_previous = await restartWith(third_keys);
    for (const holder of holders) expectProblem(await probe(without_previous, holder), 401, 'unauthenticated');
    expect((await without_previous.request('GET', '/api/v1/auth/me', { token: restarted.adminToken })).status).toBe(200);
  });

  it('the CLI rotates the file key, keeps every previous key until told to forget them, and refuses when JWT_SECRET is set', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-cli-keys-'));
    try {
      const first = await runCli(['rotate-key'], { DATA_DIR: dir });
      expect(first.code, first.stderr).toBe(0);
      const key_one = (await readFile(path.join(dir, key_file_name), 'utf8')).trim();
      expect(first.stdout).toContain(keyId(key_one));
      const second = await runCli(['rotate-key'], { DATA_DIR: dir });
      expect(second.code, second.stderr).toBe(0);
      const key_two = (await readFile(path.join(dir, key_file_name), 'utf8')).trim();
      expect(key_two).not.toBe(key_one);
      expect((await readFile(path.join(dir, previous_key_file_name), 'utf8')).trim().split('\n')).toEqual([key_one]);
      // The secrets themselves never appear in what the CLI prints.
      expect(first.stdout + second.stdout).not.toContain(key_one);
      expect(second.stdout).not.toContain(key_two);

      const forgot = await runCli(['rotate-key', '--forget-previous'], { DATA_DIR: dir });
      expect(forgot.code, forgot.stderr).toBe(0);
      await expect(stat(path.join(dir, previous_key_file_name))).rejects.toThrow(/ENOENT/);
      expect((await readFile(path.join(dir, key_file_name), 'utf8')).trim()).toBe(key_two);

      const refused = await runCli(['rotate-key'], { DATA_DIR: dir, JWT_SECRET: randomBytes(32).toString('hex') });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/JWT_SECRETS_PREVIOUS/);
      expect((await readFile(path.join(dir, key_file_name), 'utf8')).trim()).toBe(key_two);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('key rotation (JWT_SECRET and JWT_SECRETS_PREVIOUS)', () => {
  it('a token of a key listed in JWT_SECRETS_PREVIOUS works; without it, 401; only JWT_SECRET signs', async () => {
    const old_secret = randomBytes(32).toString('base64url');
    const new_secret = randomBytes(32).toString('base64url');
    const unused = path.join(data_dir, 'not-used');
    const old_app = await restartWith(await loadTokenKeys(old_secret, [], unused));
    const old_token = old_app.adminToken;
    expect(decodeProtectedHeader(old_token).kid).toBe(keyId(old_secret));

    const config = loadConfig({ JWT_SECRET: new_secret, JWT_SECRETS_PREVIOUS: ` ${old_secret} ,${randomBytes(32).toString('hex')}` });
    expect(config.JWT_SECRETS_PREVIOUS).toHaveLength(2);
    expect(config.JWT_SECRETS_PREVIOUS[0]).toBe(old_secret);
    const rotated = await restartWith(await loadTokenKeys(config.JWT_SECRET, config.JWT_SECRETS_PREVIOUS, unused));
    expect((await rotated.request('GET', '/api/v1/auth/me', { token: old_token })).status).toBe(200);
    expect(decodeProtectedHeader(rotated.adminToken).kid).toBe(keyId(new_secret));

    const removed = await restartWith(await loadTokenKeys(new_secret, [], unused));
    expectProblem(await removed.request('GET', '/api/v1/auth/me', { token: old_token }), 401, 'unauthenticated');
    expect((await removed.request('GET', '/api/v1/auth/me', { token: rotated.adminToken })).status).toBe(200);
    // Nothing was written to the data folder in this mode.
    await expect(stat(unused)).rejects.toThrow(/ENOENT/);
  });

  it('JWT_SECRETS_PREVIOUS is validated (each ≥ 32 characters) and scrubbed from the environment with JWT_SECRET', () => {
    expect(() => loadConfig({ JWT_SECRETS_PREVIOUS: `${'a'.repeat(32)},short` })).toThrow(/JWT_SECRETS_PREVIOUS/);
    expect(loadConfig({}).JWT_SECRETS_PREVIOUS).toEqual([]);
    const env: NodeJS.ProcessEnv = { JWT_SECRET: 'x'.repeat(32), JWT_SECRETS_PREVIOUS: 'y'.repeat(32), PORT: '1' };
    scrubSecrets(env);
    expect(env).toEqual({ PORT: '1' });
  });
});

describe('logout and revocation take effect at once', () => {
  it('staff logout, wallet logout and revoking a tablet each make that token 401 on the very next request', async () => {
    const staff = await t.createStaff('admin', []);
    const wallet = await fundedWallet(t, 'KEY');
    const fresh: Holder[] = [
      { kind: 'staff', token: staff.token, probe: '/api/v1/auth/me' },
      { kind: 'wallet', token: wallet.token, probe: '/api/v1/wallet' },
      { kind: 'device', token: holders[2]!.token, probe: '/api/v1/shop' },
    ];
    for (const holder of fresh) expect((await probe(t, holder)).status, holder.kind).toBe(200);

    expect((await t.request('POST', '/api/v1/auth/logout', { token: staff.token })).status).toBe(204);
    expect((await t.request('POST', '/api/v1/wallet/logout', { token: wallet.token })).status).toBe(204);
    const revoked = await t.request('DELETE', `/api/v1/shops/${shop_account}/devices/${device_id}`, { token: t.adminToken });
    expect(revoked.status, JSON.stringify(revoked.body)).toBeLessThan(300);

    for (const holder of fresh) expectProblem(await probe(t, holder), 401, 'unauthenticated');
    // Re-signing the same claims does not bring a session back: the server checks it every time.
    for (const holder of fresh) expectProblem(await probe(t, holder, await forge(holder.token)), 401, 'unauthenticated');
  });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = { ...process.env };
    delete clean.JWT_SECRET;
    delete clean.JWT_SECRETS_PREVIOUS;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), ...args], {
      cwd: root, env: { ...clean, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('verified tokens are remembered only while valid', () => {
  it('a remembered token still expires on time; a changed byte is verified afresh and refused', async () => {
    const keys: TokenKeys = { current_kid: 'k', keys: new Map([['k', new Uint8Array(32).fill(7)]]) };
    const claims = { sub: '00000000-0000-4000-8000-000000000001', sid: '00000000-0000-4000-8000-000000000002' };
    const { token } = await signToken(keys, 'wallet', claims, 60);
    expect(await verifyToken(keys, ['wallet'], token)).toEqual({ ...claims, aud: 'wallet' });
    // Remembered: the same answer again, and only for the audiences it was checked against.
    expect(await verifyToken(keys, ['wallet'], token)).toEqual({ ...claims, aud: 'wallet' });
    expect(await verifyToken(keys, ['staff'], token)).toBeUndefined();
    // The signature's second-to-last character carries six bits of it: changed, never left as it was.
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.slice(-1);
    expect(flipped).not.toBe(token);
    expect(await verifyToken(keys, ['wallet'], flipped)).toBeUndefined();
    // Other keys (a restart after --forget-previous) verify afresh.
    const other: TokenKeys = { current_kid: 'k', keys: new Map([['k', new Uint8Array(32).fill(8)]]) };
    expect(await verifyToken(other, ['wallet'], token)).toBeUndefined();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 61_000);
      expect(await verifyToken(keys, ['wallet'], token)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
