/**
 * Issue #8, HTTP hardening: security headers on every kind of response (API, errors, HTML, the
 * docs page and the printable card sheet with their own policies), CORS closed unless
 * CORS_ORIGINS lists an origin, and the request time limit — in the handler and, in the real
 * service, for a body that trickles in. (Body size: test/http.test.ts; page and batch sizes:
 * test/ledger.test.ts.)
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { Reply, TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { registerVolunteer } from './support/volunteer-fixtures.js';
import { loadConfig } from '../src/config.js';

let t: TestApp;
const opened: TestApp[] = [];
const metrics_token = 'hardening-metrics-token-0123456789abcdef';

beforeAll(async () => {
  t = await createTestApp({ BODY_SIZE_MAX_BYTES: '2048', METRICS_TOKEN: metrics_token });
  await createCurrency(t, 'HDR', 2);
});

afterAll(async () => {
  for (const app of opened) await app.close();
  await t?.close();
});

async function sameDatabase(env: Record<string, string>): Promise<TestApp> {
  const app = await createTestApp(env, { database_url: t.database_url });
  opened.push(app);
  return app;
}

/** A Content-Security-Policy as directive → sources. */
function cspOf(reply: Reply): Map<string, string[]> {
  const header = reply.headers.get('content-security-policy');
  expect(header, 'Content-Security-Policy').not.toBeNull();
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name !== undefined && name !== '') directives.set(name, sources);
  }
  return directives;
}

/** The headers every response carries, whatever its policy. */
function expectCommonHeaders(reply: Reply, label: string): void {
  expect(reply.headers.get('x-content-type-options'), label).toBe('nosniff');
  expect(reply.headers.get('referrer-policy'), label).toBe('no-referrer');
  expect(reply.headers.get('x-frame-options'), label).toBe('DENY');
  const permissions = reply.headers.get('permissions-policy') ?? '';
  expect(permissions, label).toContain('camera=(self)');
  expect(permissions, label).toContain('microphone=()');
  expect(permissions, label).toContain('geolocation=()');
  expect(reply.headers.get('strict-transport-security'), label).toMatch(/^max-age=\d+/);
  expect(reply.headers.get('x-powered-by'), label).toBeNull();
  expect(cspOf(reply).get('frame-ancestors'), label).toEqual(["'none'"]);
}

/** The web client's strict policy: own scripts and styles only, nothing inline, nothing eval'd. */
function expectWebPolicy(reply: Reply, label: string): void {
  expectCommonHeaders(reply, label);
  const csp = cspOf(reply);
  expect(csp.get('default-src'), label).toEqual(["'self'"]);
  expect(csp.get('script-src'), label).toEqual(["'self'"]);
  expect(csp.get('style-src'), label).toEqual(["'self'"]);
  expect(csp.get('connect-src'), label).toEqual(["'self'"]);
  expect(csp.get('object-src'), label).toEqual(["'none'"]);
  expect(csp.get('base-uri'), label).toEqual(["'none'"]);
  // The camera: the QR decoder's worker comes from a blob: URL, QR images are data: URLs.
  expect(csp.get('worker-src'), label).toEqual(["'self'", 'blob:']);
  expect(csp.get('img-src'), label).toEqual(["'self'", 'data:', 'blob:']);
  expect(reply.headers.get('content-security-policy'), label).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
}

describe('security headers', () => {
  it('on API answers, every kind of problem+json error, operations endpoints and the web client', async () => {
    const cases: Array<[string, Promise<Reply>, number]> = [
      ['GET /livez', t.request('GET', '/livez'), 200],
      ['GET /metrics', t.request('GET', '/metrics', { headers: { Authorization: `Bearer ${metrics_token}` } }), 200],
      ['401 /metrics', t.request('GET', '/metrics'), 401],
      ['GET openapi.json', t.request('GET', '/api/v1/openapi.json'), 200],
      ['GET /currencies', t.request('GET', '/api/v1/currencies', { token: t.adminToken }), 200],
      ['401', t.request('GET', '/api/v1/auth/me'), 401],
      ['401 bad token', t.request('GET', '/api/v1/auth/me', { token: 'a.b.c' }), 401],
      ['403', t.request('POST', '/api/v1/users', {
        token: (await t.createStaff('coordinator', [])).token, body: { email: 'x@example.org', password: '0123456789', role: 'admin' },
      }), 403],
      ['404 in the API', t.request('GET', '/api/v1/no-such-route'), 404],
      ['404 outside', t.request('GET', '/no-such-file.php'), 404],
      ['405', t.request('PUT', '/api/v1/auth/login', { body: {} }), 405],
      ['400 malformed JSON', t.request('POST', '/api/v1/auth/login', { raw: '{', headers: { 'Content-Type': 'application/json' } }), 400],
      ['413', t.request('POST', '/api/v1/auth/login', { raw: JSON.stringify({ email: 'x'.repeat(4096) }), headers: { 'Content-Type': 'application/json' } }), 413],
      ['422', t.request('POST', '/api/v1/auth/login', { body: { email: 1 } }), 422],
    ];
    for (const [label, pending, status] of cases) {
      const reply = await pending;
      expect(reply.status, label).toBe(status);
      expectWebPolicy(reply, label);
    }
    // The web client's pages (503 problem+json when it is not built: the headers are there either way).
    for (const page of ['/', '/wallet', '/shop', '/console', '/p/5b7a0a52-9a44-4f41-9a57-1b8d2f0c6e11']) {
      const reply = await t.request('GET', page);
      expect([200, 503], page).toContain(reply.status);
      expectWebPolicy(reply, page);
    }
  });

  it('the card QR (SVG) and a 429 carry them too', async () => {
    const volunteer = await registerVolunteer(t, 'HDR');
    const qr = await t.request('GET', `/api/v1/cards/${volunteer.code}/qr.svg`, { token: t.adminToken });
    expect(qr.status).toBe(200);
    expectWebPolicy(qr, 'qr.svg');
    const limited = await sameDatabase({ LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1' });
    await limited.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.org', password: 'wrong' } });
    const reply = await limited.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.org', password: 'wrong' } });
    expectProblem(reply, 429, 'rate_limited');
    expectWebPolicy(reply, '429');
  });

  it('/api/docs has its own policy: Swagger UI from one asset source, no inline script, no framing', async () => {
    const page = await t.request('GET', '/api/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expectCommonHeaders(page, '/api/docs');
    const csp = cspOf(page);
    const scripts = csp.get('script-src') ?? [];
    expect(scripts[0]).toBe("'self'");
    expect(scripts.length).toBeLessThanOrEqual(2);
    expect(scripts.join(' ')).not.toMatch(/unsafe|\*/);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    // Every script of the page has a src within script-src; none is inline.
    const html = page.body as string;
    const tags = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(tags.length).toBe(2);
    for (const [, attributes, content] of tags) {
      expect(content?.trim()).toBe('');
      const src = /src="([^"]+)"/.exec(attributes ?? '')?.[1] ?? '';
      expect(src.startsWith('/') || scripts.includes(new URL(src).origin), src).toBe(true);
    }
    const init = await t.request('GET', '/api/docs/init.js');
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(init.body).toContain('SwaggerUIBundle');
    expect(html).toContain('data-openapi-url="/api/v1/openapi.json"');
  });

  it('the printable card sheet may use its inline stylesheet but runs no script at all', async () => {
    const volunteer = await registerVolunteer(t, 'HDR');
    const sheet = await t.request('GET', `/api/v1/currencies/HDR/cards/sheet?wallet=${volunteer.account}`, { token: t.adminToken });
    expect(sheet.status).toBe(200);
    expect(sheet.body).toContain('<style>');
    expectCommonHeaders(sheet, 'sheet');
    const csp = cspOf(sheet);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.has('script-src')).toBe(false);
    expect(csp.get('style-src')).toEqual(["'unsafe-inline'"]);
    expect(csp.get('form-action')).toEqual(["'none'"]);
  });
});

describe('the public impact page in a frame (IMPACT_FRAME_ANCESTORS)', () => {
  it('by default, /impact/<code> may not be framed at all, like every page', async () => {
    const page = await t.request('GET', '/impact/HDR');
    expectWebPolicy(page, '/impact/HDR');
  });

  it('with IMPACT_FRAME_ANCESTORS, only /impact/<code> may be framed, by those sites only', async () => {
    const app = await sameDatabase({ IMPACT_FRAME_ANCESTORS: 'https://stad.gent, https://www.stad.gent' });
    const page = await app.request('GET', '/impact/HDR?lang=en');
    const csp = cspOf(page);
    expect(csp.get('frame-ancestors')).toEqual(['https://stad.gent', 'https://www.stad.gent']);
    // X-Frame-Options cannot name sites: the CSP alone says who may frame.
    expect(page.headers.get('x-frame-options')).toBeNull();
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    for (const path of ['/', '/wallet', '/console', '/impact', '/impact/HDR/more', '/api/v1/public/currencies/HDR/impact', '/api/docs']) {
      const other = await app.request('GET', path);
      expect(other.headers.get('x-frame-options'), path).toBe('DENY');
      expect(cspOf(other).get('frame-ancestors'), path).toEqual(["'none'"]);
    }
  });

  it('IMPACT_FRAME_ANCESTORS takes exact origins only', () => {
    for (const bad of ['*', "'self'", 'https://stad.gent/', 'https://stad.gent/impact', 'stad.gent', 'https://stad.gent;script-src *']) {
      expect(() => loadConfig({ IMPACT_FRAME_ANCESTORS: bad }), bad).toThrow(/IMPACT_FRAME_ANCESTORS/);
    }
    expect(loadConfig({ IMPACT_FRAME_ANCESTORS: 'https://stad.gent  http://localhost:8000' }).IMPACT_FRAME_ANCESTORS)
      .toEqual(['https://stad.gent', 'http://localhost:8000']);
    expect(loadConfig({}).IMPACT_FRAME_ANCESTORS).toEqual([]);
  });
});

describe('CORS', () => {
  const preflight = (app: TestApp, origin: string, path = '/api/v1/auth/login') => app.request('OPTIONS', path, {
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
  });

  it('is closed by default: no Access-Control header for any origin, and a preflight is refused', async () => {
    for (const origin of ['https://evil.example', 'http://localhost:5173', 'null']) {
      const simple = await t.request('GET', '/api/v1/auth/me', { token: t.adminToken, headers: { Origin: origin } });
      expect(simple.status).toBe(200);
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
      const refused = await preflight(t, origin);
      expectProblem(refused, 405, 'method_not_allowed');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('access-control-allow-methods')).toBeNull();
      expect(refused.headers.get('access-control-allow-headers')).toBeNull();
    }
  });

  it('with CORS_ORIGINS, the listed origins get a preflight and the headers; other origins and non-API paths get none', async () => {
    const app = await sameDatabase({ CORS_ORIGINS: 'https://wallet.example.org, http://localhost:5173' });
    for (const origin of ['https://wallet.example.org', 'http://localhost:5173']) {
      const allowed = await preflight(app, origin);
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
      expect(allowed.headers.get('access-control-allow-methods')?.split(',')).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE']));
      expect(allowed.headers.get('access-control-allow-headers')?.split(',')).toEqual(['Authorization', 'Content-Type', 'Idempotency-Key']);
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      expect(allowed.headers.get('access-control-max-age')).toBe('600');
      expect(allowed.headers.get('vary')).toMatch(/Origin/);
      expectCommonHeaders(allowed, 'preflight');

      const actual = await app.request('GET', '/api/v1/auth/me', { token: app.adminToken, headers: { Origin: origin } });
      expect(actual.status).toBe(200);
      expect(actual.headers.get('access-control-allow-origin')).toBe(origin);
      expect(actual.headers.get('access-control-expose-headers')).toContain('Retry-After');
    }
    for (const origin of ['https://evil.example', 'https://wallet.example.org.evil.example', 'null', 'https://WALLET.example.org']) {
      expect((await preflight(app, origin)).status, origin).toBe(405);
      const simple = await app.request('GET', '/api/v1/auth/me', { token: app.adminToken, headers: { Origin: origin } });
      expect(simple.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
    const outside = await app.request('GET', '/livez', { headers: { Origin: 'https://wallet.example.org' } });
    expect(outside.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('CORS_ORIGINS takes exact origins only: no wildcard, no path, no other scheme', () => {
    for (const bad of ['*', 'https://wallet.example.org/', 'https://wallet.example.org/app', 'ftp://files.example.org', 'wallet.example.org']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.org,http://localhost:5173' }).CORS_ORIGINS)
      .toEqual(['https://a.example.org', 'http://localhost:5173']);
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
  });
});

describe('the request time limit', () => {
  it('a request still running after REQUEST_TIMEOUT_MS is answered 503 problem+json, with the headers', async () => {
    const app = await sameDatabase({ REQUEST_TIMEOUT_MS: '300' });
    const started = Date.now();
    let reply: Reply | undefined;
    // Hold the currencies table so the request has to wait for it.
    await t.sql.begin(async (tx) => {
      await tx`LOCK TABLE currencies IN ACCESS EXCLUSIVE MODE`;
      reply = await app.request('GET', '/api/v1/currencies', { token: app.adminToken });
    });
    const elapsed_ms = Date.now() - started;
    expect(reply).toBeDefined();
    expectProblem(reply!, 503, 'unavailable');
    expect(JSON.stringify(reply!.body)).not.toMatch(/currencies|lock|SELECT/i);
    expectWebPolicy(reply!, '503');
    expect(elapsed_ms).toBeGreaterThanOrEqual(290);
    expect(elapsed_ms).toBeLessThan(5000);
    // Once the table is free again, the same request succeeds.
    expect((await app.request('GET', '/api/v1/currencies', { token: app.adminToken })).status).toBe(200);
  });
});

describe('the real service process', () => {
  let child: ChildProcess | undefined;
  let data_dir: string | undefined;

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    if (data_dir !== undefined) await rm(data_dir, { recursive: true, force: true });
  });

  it('hangs up on headers or a body trickling in past REQUEST_TIMEOUT_MS; limits by the socket address, not X-Forwarded-For', async () => {
    data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-hardening-'));
    const root = path.resolve(import.meta.dirname, '..');
    const started = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts')], {
      cwd: root,
      env: {
        ...process.env, PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', DATA_DIR: data_dir, DATABASE_URL: t.database_url, LOG_LEVEL: 'info',
        SCRYPT_COST_LOG2: '10', REQUEST_TIMEOUT_MS: '1000', SEAL_INTERVAL_S: '0', LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listens on http:\/\/localhost:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', onData);
      started.once('exit', (code) => { clearTimeout(timer); reject(new Error(`service exited with ${code}:\n${output}`)); });
    });

    /** Opens a raw connection, writes `text`, and resolves with what came back once the server hangs up. */
    const hangUp = (text: string) => new Promise<{ answer: string; waited_ms: number }>((resolve, reject) => {
      const began = Date.now();
      const socket = net.connect(port, '127.0.0.1');
      let received = '';
      const guard = setTimeout(() => { socket.destroy(); reject(new Error('the connection was still open after 8 s')); }, 8000);
      socket.on('data', (chunk) => { received += chunk.toString(); });
      socket.on('close', () => { clearTimeout(guard); resolve({ answer: received, waited_ms: Date.now() - began }); });
      socket.on('error', () => {});
      socket.write(text);
    });
    // Headers that never end (the default would wait a minute), and a body announced as 100
    // bytes of which 1 arrives: the server hangs up after about a second.
    for (const text of [
      'GET /livez HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    ]) {
      const { answer, waited_ms } = await hangUp(text);
      expect(waited_ms, text).toBeGreaterThanOrEqual(900);
      expect(waited_ms, text).toBeLessThan(8000);
      expect(answer === '' || /^HTTP\/1\.1 (408|503)/.test(answer), answer).toBe(true);
    }

    // Over a real socket the limiter keys on 127.0.0.1: a forged X-Forwarded-For changes nothing.
    const login = (forwarded: string, password: string) => fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': forwarded },
      body: JSON.stringify({ email: 'nobody@example.org', password }),
    });
    const secret_password = 'correct-horse-battery-staple-1';
    expect((await login('198.51.100.1', secret_password)).status).toBe(401);
    expect((await login('198.51.100.2', secret_password)).status).toBe(401);
    const limited = await login('198.51.100.3', secret_password);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    // The log names the limited address, never the password tried.
    for (let i = 0; i < 40 && !output.includes('rate limited'); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(output).toMatch(/"address":"127\.0\.0\.1".*rate limited|rate limited.*"address":"127\.0\.0\.1"/);
    expect(output).not.toContain(secret_password);
  }, 90_000);
});
