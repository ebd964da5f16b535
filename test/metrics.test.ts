/**
 * Issue #17, point 10: /metrics is not on the public listener by default. Without METRICS_TOKEN
 * it is served only on a listener of its own (METRICS_HOST:METRICS_PORT, loopback by default) and
 * the main listener answers 404; with METRICS_TOKEN it is on the main listener for
 * `Authorization: Bearer <token>` only. Both modes against the real service process, over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/db-harness.js';
import type { TestDatabase } from './support/db-harness.js';
import { bearerMatches } from '../src/http/metrics.js';
import { loadConfig, scrubSecrets } from '../src/config.js';

const root = path.resolve(import.meta.dirname, '..');
const metrics_token = 'metrics-token-for-prometheus-0123456789';
let database: TestDatabase;
let data_dir: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-metrics-'));
});

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(data_dir, { recursive: true, force: true });
  await database?.drop();
});

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Service {
  port: number;
  output: string;
  stop(): Promise<void>;
}

/** Starts `src/main.ts` with `env`; resolves once it listens, rejects with its output when it exits first. */
function startService(env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts')], {
    cwd: root,
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, DATA_DIR: data_dir, LOG_LEVEL: 'warn',
      SCRYPT_COST_LOG2: '10', SEAL_INTERVAL_S: '0', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listens on http:\/\/localhost:(\d+)[\s\S]*Metrics: .*\n/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          port: Number(match[1]), output,
          stop: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((done) => child.once('exit', done));
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`service exited with ${code}:\n${output}`)); });
  });
}

/** Whether anything accepts a TCP connection at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.setTimeout(2000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}

/** An address of this machine other than loopback, if it has one. */
function outsideAddress(): string | undefined {
  return Object.values(os.networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

describe('without METRICS_TOKEN (the default)', () => {
  it('serves /metrics only on its own loopback listener; the main listener answers 404', async () => {
    const metrics_port = await freePort();
    const service = await startService({ METRICS_PORT: String(metrics_port) });
    try {
      expect(service.output).toContain(`Metrics: http://127.0.0.1:${metrics_port}/metrics`);
      const main = `http://127.0.0.1:${service.port}`;
      for (const headers of [{}, { Authorization: `Bearer ${metrics_token}` }] as Array<Record<string, string>>) {
        const hidden = await fetch(`${main}/metrics`, { headers });
        expect(hidden.status).toBe(404);
        expect(hidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await hidden.text()).not.toContain('wijkmunt_');
      }
      expect((await fetch(`${main}/livez`)).status).toBe(200);

      const scraped = await fetch(`http://127.0.0.1:${metrics_port}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await scraped.text();
      // It counts the main listener's requests, and the process's own metrics are there.
      expect(text).toMatch(/^wijkmunt_http_requests_total\{method="GET",route="\/livez",status="200"\} 1$/m);
      expect(text).toMatch(/^wijkmunt_http_requests_total\{method="GET",route="unmatched",status="404"\} 2$/m);
      expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
      // The metrics listener serves nothing else.
      for (const other of ['/', '/livez', '/api/v1/openapi.json']) {
        expect((await fetch(`http://127.0.0.1:${metrics_port}${other}`)).status, other).toBe(404);
      }
      // Loopback only: from the machine's other addresses nothing answers.
      const outside = outsideAddress();
      if (outside !== undefined) expect(await accepts(outside, metrics_port)).toBe(false);
    } finally {
      await service.stop();
    }
    // Stopped with the service.
    expect(await accepts('127.0.0.1', metrics_port)).toBe(false);
  });

  it('METRICS_PORT=0: no metrics anywhere', async () => {
    const service = await startService({ METRICS_PORT: '0' });
    try {
      expect(service.output).toContain('Metrics: off (METRICS_PORT=0)');
      expect((await fetch(`http://127.0.0.1:${service.port}/metrics`)).status).toBe(404);
    } finally {
      await service.stop();
    }
  });

  it('refuses to start when the metrics address is taken, saying which setting to change', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await expect(startService({ METRICS_PORT: String(port) }))
        .rejects.toThrow(new RegExp(`exited with 1[\\s\\S]*metrics listener cannot use 127\\.0\\.0\\.1:${port}[\\s\\S]*METRICS_PORT`));
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});

describe('with METRICS_TOKEN', () => {
  it('serves /metrics on the main listener to the bearer of the token only; no other listener opens', async () => {
    const metrics_port = await freePort();
    const service = await startService({ METRICS_TOKEN: metrics_token, METRICS_PORT: String(metrics_port) });
    try {
      const url = `http://127.0.0.1:${service.port}/metrics`;
      for (const authorization of [
        undefined, 'Bearer', `Bearer ${metrics_token.slice(0, -1)}x`, `Bearer ${metrics_token}x`, `Bearer ${metrics_token.slice(1)}`,
        `Basic ${Buffer.from(`prometheus:${metrics_token}`).toString('base64')}`, metrics_token,
      ]) {
        const refused = await fetch(url, { headers: authorization === undefined ? {} : { Authorization: authorization } });
        expect(refused.status, authorization).toBe(401);
        expect(refused.headers.get('www-authenticate'), authorization).toMatch(/^Bearer/);
        const body = await refused.json() as { code: string };
        expect(body.code).toBe('unauthenticated');
      }
      const scraped = await fetch(url, { headers: { Authorization: `Bearer ${metrics_token}` } });
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await scraped.text()).toMatch(/^wijkmunt_http_requests_total\{method="GET",route="\/metrics",status="401"\} 7$/m);
      expect(await accepts('127.0.0.1', metrics_port)).toBe(false);
      expect(service.output).toContain('Metrics: /metrics on this listener, with Authorization: Bearer <METRICS_TOKEN>');
      expect(service.output).not.toContain(metrics_token);
    } finally {
      await service.stop();
    }
  });

  it('the token has at least 32 characters and leaves the environment once read', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({ METRICS_TOKEN: metrics_token }).METRICS_TOKEN).toBe(metrics_token);
    expect(loadConfig({}).METRICS_TOKEN).toBeUndefined();
    expect(loadConfig({})).toMatchObject({ METRICS_HOST: '127.0.0.1', METRICS_PORT: 9464 });
    const env: NodeJS.ProcessEnv = { METRICS_TOKEN: metrics_token, PORT: '8080' };
    scrubSecrets(env);
    expect(env).toEqual({ PORT: '8080' });
  });

  it('compares the bearer token whole', () => {
    expect(bearerMatches(`Bearer ${metrics_token}`, metrics_token)).toBe(true);
    expect(bearerMatches(`bearer ${metrics_token}`, metrics_token)).toBe(true);
    for (const wrong of [undefined, '', 'Bearer ', `Bearer ${metrics_token} extra`, `Bearer ${metrics_token.toUpperCase()}`, `Token ${metrics_token}`]) {
      expect(bearerMatches(wrong, metrics_token), String(wrong)).toBe(false);
    }
  });
});
