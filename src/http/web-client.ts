import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context, Hono } from 'hono';
import type { AppEnv } from './context.js';
import { problemResponse } from './problem.js';

/**
 * Serves the built web client (web/dist, made by `npm run build`): index.html for the app's
 * own paths and deep links, hashed assets with a year of cache, and the manifest, service worker
 * and icons. Without a build, those paths answer 503 problem+json saying how to build it.
 */

/** Paths the client routes itself: each answers with index.html. */
export const client_paths = [
  '/', '/c/:card', '/p/:id', '/r/:code', '/claim', '/wallet', '/wallet/*', '/shop', '/shop/*', '/console', '/console/*', '/impact/:code',
] as const;

const content_types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const compressible = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.svg', '.txt', '.map']);

const cache_immutable = 'public, max-age=31536000, immutable';
const cache_revalidate = 'no-cache';
const cache_day = 'public, max-age=86400';

/** Only plain file names: no folders, no dot-dot, nothing odd. */
const file_name_pattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

interface CachedFile {
  mtime_ms: number;
  size: number;
  body: Uint8Array;
  gzip: Uint8Array | undefined;
  etag: string;
}

/** Built files by path, each read and gzipped once per change. */
type FileCache = Map<string, CachedFile>;

/** The file, read once per change (size, mtime) and gzipped once; undefined when missing. */
async function load(cache: FileCache, file: string): Promise<CachedFile | undefined> {
  let info;
  try {
    info = await stat(file);
  } catch {
    return undefined;
  }
  if (!info.isFile()) return undefined;
  const known = cache.get(file);
  if (known !== undefined && known.mtime_ms === info.mtimeMs && known.size === info.size) return known;
  const body = new Uint8Array(await readFile(file));
  const ext = path.extname(file);
  const gzip = compressible.has(ext) && body.length > 512 ? new Uint8Array(gzipSync(body, { level: 9 })) : undefined;
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const loaded = { mtime_ms: info.mtimeMs, size: info.size, body, gzip, etag };
  cache.set(file, loaded);
  return loaded;
}

/** The file's answer (304 when the client has it, gzipped when it may be); undefined when the file is missing. */
async function send(c: Context<AppEnv>, cache: FileCache, file: string, cache_control: string) {
  const found = await load(cache, file);
  if (found === undefined) return undefined;
  const ext = path.extname(file);
  c.header('Content-Type', content_types[ext] ?? 'application/octet-stream');
  c.header('Cache-Control', cache_control);
  c.header('ETag', found.etag);
  c.header('X-Content-Type-Options', 'nosniff');
  if (found.gzip !== undefined) c.header('Vary', 'Accept-Encoding');
  const matches = c.req.header('If-None-Match')?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === found.etag);
  if (matches === true) return c.body(null, 304);
  const accepts_gzip = /\bgzip\b/.test(c.req.header('Accept-Encoding') ?? '');
  if (found.gzip !== undefined && accepts_gzip) {
    c.header('Content-Encoding', 'gzip');
    return c.body(found.gzip as Uint8Array<ArrayBuffer>, 200);
  }
  return c.body(found.body as Uint8Array<ArrayBuffer>, 200);
}

/** 503 problem+json saying how to build the web client. */
function notBuilt(c: Context<AppEnv>) {
  return problemResponse(c, 503, 'web_client_not_built', 'the web client is not built: run `npm run build` (or `npm run build:web`), then reload');
}

/** 404 problem+json for a file the build does not have. */
function notFound(c: Context<AppEnv>) {
  return problemResponse(c, 404, 'not_found', `no file ${c.req.path}`);
}

export function serveWebClient(app: Hono<AppEnv>, dist_dir: string): void {
  const cache: FileCache = new Map();

  const index_html = path.join(dist_dir, 'index.html');
  for (const route of client_paths) {
    // Security headers (Content-Security-Policy and the rest) come from the app-wide middleware.
    app.get(route, async (c) => (await send(c, cache, index_html, cache_revalidate)) ?? notBuilt(c));
  }

  const folder = (prefix: string, sub_dir: string, cache_control: string) => {
    app.get(`${prefix}/:file`, async (c) => {
      const name = c.req.param('file');
      if (!file_name_pattern.test(name) || name.includes('..')) return notFound(c);
      const answer = await send(c, cache, path.join(dist_dir, sub_dir, name), cache_control);
      if (answer !== undefined) return answer;
      return (await load(cache, index_html)) === undefined ? notBuilt(c) : notFound(c);
    });
  };
  // Vite names every built asset by its content hash: it never changes, so cache it for a year.
  folder('/assets', 'assets', cache_immutable);
  folder('/icons', 'icons', cache_day);

  const root_file = (name: string) => {
    app.get(`/${name}`, async (c) => (await send(c, cache, path.join(dist_dir, name), cache_revalidate)) ?? notBuilt(c));
  };
  root_file('manifest.webmanifest');
  // The service worker must be revalidated every time, or a new build would wait for days.
  root_file('sw.js');
}
