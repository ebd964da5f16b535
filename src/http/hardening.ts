import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './context.js';

/**
 * HTTP hardening: security headers on every response, CORS closed unless configured, and the
 * API docs page with its own policy. See docs/security.md.
 */

type Csp = Record<string, string[]>;

/**
 * The web client's policy, sent with every response (API answers included: a JSON or SVG opened
 * as a page can then run nothing either). Only the app's own scripts and styles — no inline
 * script or style, no eval; QR codes drawn as data: images; the QR decoder's worker from a blob:
 * URL; the camera stream; the API and its event streams on the same origin. No framing at all.
 */
export const web_csp: Csp = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  mediaSrc: ["'self'", 'blob:', 'mediastream:'],
  workerSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'"],
  manifestSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** The printable card sheet: its own inline stylesheet, inline SVG QR codes, and no script at all. */
const print_csp: Csp = {
  defaultSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  imgSrc: ['data:'],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/** swagger-ui-dist from the CDN when it is not installed locally; pinned to one major version. */
const swagger_cdn = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5';

let local_swagger_dir: string | null | undefined;

/** Where swagger-ui-dist is installed, if it is (looked up once). */
function localSwaggerDir(): string | undefined {
  if (local_swagger_dir === undefined) {
    try {
      local_swagger_dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
    } catch {
      local_swagger_dir = null;
    }
  }
  return local_swagger_dir ?? undefined;
}

/** Where the docs page loads Swagger UI from, as a CSP source. */
function docsAssetSource(): string {
  return localSwaggerDir() === undefined ? new URL(swagger_cdn).origin : "'self'";
}

function docsCsp(asset_origin: string): Csp {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", asset_origin],
    // Swagger UI sets style attributes in its markup.
    styleSrc: ["'self'", asset_origin, "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', asset_origin],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
}

/**
 * The public impact page's policy: the web client's, framed only by the sites listed in
 * IMPACT_FRAME_ANCESTORS (the city's own site), or by none.
 */
function impactCsp(frame_ancestors: readonly string[]): Csp {
  return { ...web_csp, frameAncestors: frame_ancestors.length === 0 ? ["'none'"] : [...frame_ancestors] };
}

/** One secureHeaders middleware per policy; everything but the CSP (and framing) is the same for all. */
function headersWith(csp: Csp, framed = false): MiddlewareHandler<AppEnv> {
  return secureHeaders({
    contentSecurityPolicy: csp,
    // Nothing is framed, not even by ourselves (frame-ancestors 'none' for browsers that know CSP);
    // a page that may be framed says by whom in its CSP only, as X-Frame-Options cannot list sites.
    xFrameOptions: framed ? false : 'DENY',
    // No Referer at all: our URLs can carry a payment request id or a claim token, and the app
    // links nowhere that needs to know where a visitor came from.
    referrerPolicy: 'no-referrer',
    // The camera, for scanning QR codes, on our own pages only; nothing else.
    permissionsPolicy: { camera: ['self'], microphone: [], geolocation: [], payment: [], usb: [], displayCapture: [] },
  });
}

/**
 * Security headers for every response (including errors and 404s), with the policy that fits:
 * the API docs, the printable card sheet and the public impact page have their own, everything
 * else the web client's.
 */
export function securityHeaders(impact_frame_ancestors: readonly string[] = []): MiddlewareHandler<AppEnv> {
  const web = headersWith(web_csp);
  const docs = headersWith(docsCsp(docsAssetSource()));
  const print = headersWith(print_csp);
  const impact = headersWith(impactCsp(impact_frame_ancestors), impact_frame_ancestors.length > 0);
  return (c, next) => {
    const p = c.req.path;
    if (/^\/impact\/[^/]+$/.test(p)) return impact(c, next);
    if (p === '/api/docs' || p.startsWith('/api/docs/')) return docs(c, next);
    if (/^\/api\/v1\/currencies\/[^/]+\/cards\/sheet$/.test(p)) return print(c, next);
    return web(c, next);
  };
}

/**
 * CORS for the API: closed unless CORS_ORIGINS lists origins. A listed origin gets the
 * Access-Control headers (bearer tokens, no cookies, so no credentials); any other origin gets
 * none, and its preflight is answered like any OPTIONS request (405).
 */
export function apiCors(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(origins);
  const open = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    exposeHeaders: ['Retry-After', 'Idempotency-Replayed', 'Content-Disposition', 'Wijkmunt-Export-Id'],
    maxAge: 600,
  });
  return async (c, next) => {
    const origin = c.req.header('Origin');
    if (origin === undefined || !allowed.has(origin)) {
      await next();
      return;
    }
    return open(c, next);
  };
}

/**
 * The API docs (Swagger UI) at /api/docs: from the installed swagger-ui-dist when there is one
 * (works offline), else from the CDN. No inline script: the page starts from /api/docs/init.js.
 */
export function serveApiDocs(app: Hono<AppEnv>, openapi_url: string): void {
  const local = localSwaggerDir();
  const base = local === undefined ? swagger_cdn : '/api/docs/assets';
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wijkmunt API</title>
<link rel="stylesheet" href="${base}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="${openapi_url}"></div>
<script src="${base}/swagger-ui-bundle.js"${local === undefined ? ' crossorigin="anonymous"' : ''}></script>
<script src="/api/docs/init.js"></script>
</body>
</html>`;
  const init = [
    "const root = document.getElementById('swagger-ui');",
    "window.ui = SwaggerUIBundle({ url: root.dataset.openapiUrl, domNode: root, validatorUrl: null });",
    '',
  ].join('\n');
  app.get('/api/docs', (c) => c.html(page));
  app.get('/api/docs/init.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    return c.body(init);
  });
  if (local !== undefined) {
    const assets: Record<string, string> = {
      'swagger-ui.css': 'text/css; charset=utf-8',
      'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
    };
    app.get('/api/docs/assets/:file', async (c) => {
      const file = c.req.param('file');
      const type = assets[file];
      if (type === undefined) return c.notFound();
      c.header('Content-Type', type);
      c.header('Cache-Control', 'public, max-age=86400');
      return c.body(await readFile(path.join(local, file)));
    });
  }
}

/**
 * Refuses a body over `max_bytes`. A request that states its length (as HTTP/1.1 clients do,
 * `Content-Length: 0` for a bodiless POST) is judged by it at once; a GET or HEAD that states
 * neither a length nor a chunked body has none (HTTP/1.1) and passes; any other is counted as it
 * streams (hono's bodyLimit). Asking every request for its body stream would build a whole
 * Fetch Request (with its AbortSignal) each time, bodiless payments and reads included, which
 * cost the service CPU under load (#15).
 */
export function limitBody(max_bytes: number, onError: (c: Context<AppEnv>) => Response): MiddlewareHandler<AppEnv> {
  const streamed = bodyLimit({ maxSize: max_bytes, onError });
  return async (c, next) => {
    const length = c.req.header('content-length');
    const chunked = c.req.header('transfer-encoding') !== undefined;
    if (length === undefined && !chunked && (c.req.method === 'GET' || c.req.method === 'HEAD')) return next();
    if (length === undefined || !/^[0-9]{1,15}$/.test(length) || chunked) {
      return streamed(c, next);
    }
    return Number(length) > max_bytes ? onError(c) : next();
  };
}
