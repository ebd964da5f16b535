/**
 * The first admin's way back in, on the machine (#10 point 5): `wijkmunt set-password`,
 * `disable-user` and `enable-user` run the same access use cases as the admin's routes — a
 * weak password is refused, sessions end, the audit log records the operator as `system`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { expectProblem } from './support/http-fixtures.js';

const root = path.resolve(import.meta.dirname, '..');
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t?.close();
});

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), ...args], {
      cwd: root, env: { ...process.env, DATABASE_URL: t.database_url, LOG_LEVEL: 'warn', SCRYPT_COST_LOG2: '10' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const login = (email: string, password: string) => t.request('POST', '/api/v1/auth/login', { body: { email, password } });

describe('staff accounts from the command line', () => {
  it('set-password refuses a weak password, then sets a new one and ends every session of that user', async () => {
    const created = await t.request('POST', '/api/v1/users', { token: t.adminToken, body: { email: 'forgot@example.org', password: 'fiets-kaas-Gent-7', role: 'admin' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const session = (await login('forgot@example.org', 'fiets-kaas-Gent-7')).body.token as string;

    const weak = await cli('set-password', '--email', 'forgot@example.org', '--password', 'password1234');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/too easy to guess/);
    expect((await t.request('GET', '/api/v1/auth/me', { token: session })).status).toBe(200);

    const set = await cli('set-password', '--email', 'forgot@example.org', '--password', 'brood-Melk-Kaas-3');
    expect(set.code, set.stderr).toBe(0);
    expectProblem(await t.request('GET', '/api/v1/auth/me', { token: session }), 401, 'unauthenticated');
    expect((await login('forgot@example.org', 'brood-Melk-Kaas-3')).status).toBe(200);
    const [row] = await t.sql<{ actor_kind: string; actor_id: string | null }[]>`
      SELECT actor_kind, actor_id FROM audit_log WHERE action = 'user.password_reset' AND object_id = ${created.body.id as string}`;
    expect(row).toEqual({ actor_kind: 'system', actor_id: 'cli' });

    const unknown = await cli('set-password', '--email', 'nobody@example.org', '--password', 'brood-Melk-Kaas-3');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user with email nobody@example.org/);
  });

  it('disable-user ends the sessions and refuses logins; enable-user lets the user in again', async () => {
    await t.request('POST', '/api/v1/users', { token: t.adminToken, body: { email: 'away@example.org', password: 'fiets-kaas-Gent-7', role: 'coordinator' } });
    const session = (await login('away@example.org', 'fiets-kaas-Gent-7')).body.token as string;
    const disabled = await cli('disable-user', '--email', 'away@example.org');
    expect(disabled.code, disabled.stderr).toBe(0);
    expectProblem(await t.request('GET', '/api/v1/auth/me', { token: session }), 401, 'unauthenticated');
    expectProblem(await login('away@example.org', 'fiets-kaas-Gent-7'), 401, 'unauthenticated');
    const enabled = await cli('enable-user', '--email', 'away@example.org');
    expect(enabled.code, enabled.stderr).toBe(0);
    expect((await login('away@example.org', 'fiets-kaas-Gent-7')).status).toBe(200);
    expect((await cli('disable-user')).code).toBe(2);
  });
});
