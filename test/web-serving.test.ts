/** Issue #5: the service serves the built web client — deep links, assets, manifest, service worker. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../src/paths.js';
import { serveWebClient } from '../src/http/web-client.js';
import type { AppEnv } from '../src/http/context.js';
import { createTestApp } from './support/app.js';
import { ensureWebBuilt } from './support/web-build.js';
import type { TestApp } from './support/app.js';

const root = projectRoot();
const dist = path.join(root, 'web', 'dist');

/** The hashed script and stylesheet that index.html loads. */
function entryAssets(html: string): { script: string; style: string } {
  const script = /<script type="module"[^>]*src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  const style = /<link rel="stylesheet"[^>]*href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
  if (script === undefined || style === undefined) throw new Error(`index.html names no entry script or stylesheet:\n${html}`);
  return { script, style };
}

describe('the web client, served by the service', () => {
  let t: TestApp;
  let html: string;

  beforeAll(async () => {
    await ensureWebBuilt();
    html = readFileSync(path.join(dist, 'index.html'), 'utf8');
    t = await createTestApp();
  }, 300_000);

  afterAll(async () => {
    await t?.close();
  });

  it.each([
    '/', '/wallet', '/wallet/scan', '/wallet/card', '/c/K7QM3D9XP2RT8HWVZ', '/p/5b7a0a52-9a44-4f41-9a57-1b8d2f0c6e11',
    '/claim', '/shop', '/shop/pair', '/console', '/console/wallets/123', '/impact/TOR',
  ])('%s answers with the app page, revalidated on every visit', async (url) => {
    const response = await t.app.request(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const body = await response.text();
    expect(body).toBe(html);
    expect(body).toContain('<div id="app"></div>');
  });

  it('the entry script and stylesheet are served with their types and a year of cache', async () => {
    const { script, style } = entryAssets(html);
    for (const [url, type] of [[script, /^text\/javascript/], [style, /^text\/css/]] as const) {
      const response = await t.app.request(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-type'), url).toMatch(type);
      expect(response.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const body = await response.text();
      expect(body).toBe(readFileSync(path.join(dist, url), 'utf8'));
    }
  });

  it('assets are gzipped for clients that accept it, and identical once unzipped', async () => {
    const { script } = entryAssets(html);
    const response = await t.app.request(script, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('vary')).toBe('Accept-Encoding');
    const zipped = Buffer.from(await response.arrayBuffer());
    expect(gunzipSync(zipped).toString('utf8')).toBe(readFileSync(path.join(dist, script), 'utf8'));
  });

  it('a known ETag answers 304 without a body', async () => {
    const first = await t.app.request('/wallet');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await t.app.request('/wallet', { headers: { 'If-None-Match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('the manifest starts the wallet standalone, and the service worker is revalidated every time', async () => {
    const manifest = await t.app.request('/manifest.webmanifest');
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    expect(manifest.headers.get('cache-control')).toBe('no-cache');
    const parsed = await manifest.json() as { name: string; start_url: string; display: string; icons: Array<{ src: string; type: string }> };
    expect(parsed).toMatchObject({ name: 'Wijkmunt', start_url: '/wallet', display: 'standalone' });
    for (const icon of parsed.icons) {
      const reply = await t.app.request(icon.src);
      expect(reply.status, icon.src).toBe(200);
      expect(reply.headers.get('content-type'), icon.src).toBe(icon.type);
    }

    const worker = await t.app.request('/sw.js');
    expect(worker.status).toBe(200);
    expect(worker.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(worker.headers.get('cache-control')).toBe('no-cache');
    const code = await worker.text();
    // The precache list names the entry script: the app shell works offline.
    expect(code).toContain(JSON.stringify(entryAssets(html).script));
    expect(code).not.toContain('__PRECACHE__');
  });

  it('unknown files and path tricks are problem+json 404, never a file outside the build', async () => {
    for (const url of ['/assets/nope-123.js', '/assets/..%2f..%2fpackage.json', '/assets/.hidden', '/icons/..%2Findex.html', '/c/a/b']) {
      const reply = await t.request('GET', url);
      expect(reply.status, url).toBe(404);
      expect(reply.headers.get('content-type'), url).toBe('application/problem+json');
      expect(JSON.stringify(reply.body)).not.toContain('"name": "wijkmunt"');
    }
  });

  it('the API keeps its own 404s and its docs', async () => {
    const missing = await t.request('GET', '/api/v1/no-such-thing');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(missing.body.code).toBe('not_found');
    const docs = await t.app.request('/api/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    const wallet_api = await t.request('GET', '/api/v1/wallet');
    expect(wallet_api.status).toBe(401);
  });

  it('without a build, the app paths answer 503 problem+json saying how to build it', async () => {
    const app = new Hono<AppEnv>();
    serveWebClient(app, path.join(root, 'web', 'no-such-dist'));
    for (const url of ['/', '/wallet', '/c/K7QM3D9XP2RT8HWVZ', '/assets/index-abc.js', '/sw.js', '/manifest.webmanifest']) {
      const response = await app.request(url);
      expect(response.status, url).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const body = await response.json() as { code: string; detail: string };
      expect(body.code).toBe('web_client_not_built');
      expect(body.detail).toContain('npm run build');
    }
  });
});
