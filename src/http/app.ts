import { ping } from '../db/client.js';
import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { timeout } from 'hono/timeout';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { HTTPException } from 'hono/http-exception';
import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from './context.js';
import { requestLog } from './context.js';
import { createBatcher } from '../db/batch.js';
import { createLoaders } from '../db/loaders.js';
import { HistoryPages } from './history-pages.js';
import { KeptSessions } from './kept-sessions.js';
import { authenticate } from './auth.js';
import { errorToProblem, problemResponse } from './problem.js';
import { staffRoutes } from './routes/staff.js';
import { ledgerRoutes } from './routes/ledger.js';
import { volunteerRoutes } from './routes/volunteers.js';
import { walletRoutes } from './routes/wallet.js';
import { shopRoutes } from './routes/shop.js';
import { shopAdminRoutes } from './routes/shops-admin.js';
import { auditRoutes } from './routes/audit.js';
import { reportRoutes } from './routes/reports.js';
import { publicRoutes } from './routes/public.js';
import { privacyRoutes } from './routes/privacy.js';
import { ValidationError } from '../ledger/errors.js';
import { projectRoot } from '../paths.js';
import { serveWebClient } from './web-client.js';
import { createPaymentEvents } from '../db/events.js';
import { apiCors, limitBody, securityHeaders, serveApiDocs } from './hardening.js';
import { createRateLimiter } from './rate-limit.js';
import { completeDocument } from './openapi.js';
import type { OpenApiDocument } from './openapi.js';
import { requestIdentity } from './request-id.js';
import { bearerMatches } from './metrics.js';

export const api_base_path = '/api/v1';

/** What every request finds on its context besides `deps`: made once per app. */
type AppServices = Pick<AppEnv['Variables'], 'events' | 'batcher' | 'loaders' | 'rate_limiter' | 'history_pages' | 'kept_sessions'>;

/** Bytes of history pages an app instance keeps (a first page of 50 entries is ~20 kB). */
const history_pages_bytes_max = 16 * 1024 * 1024;

/** Wallet sessions an app instance keeps (a few hundred bytes each). */
const kept_sessions_max = 20_000;

/** The app's shared services; the batcher reports its batches and failed batches to the metrics and the log. */
function createServices(deps: AppDeps): AppServices {
  const events = createPaymentEvents(deps.sql);
  const rate_limiter = createRateLimiter(deps.config.RATE_LIMIT_KEYS_MAX);
  const loaders = createLoaders(deps.sql, { batch_size_max: deps.config.BATCH_SIZE_MAX });
  const batcher = createBatcher(deps.sql, {
    size_max: deps.config.BATCH_SIZE_MAX, inflight_max: deps.config.BATCH_INFLIGHT_MAX,
    onBatch: (size) => deps.metrics.batch_size.observe(size),
    onBatchFailure: (error, size) => {
      deps.metrics.batch_failures.inc();
      deps.logger.warn({ err: error, size }, 'batch failed as a whole; retrying its requests one by one');
    },
  });
  return {
    events, batcher, loaders, rate_limiter,
    history_pages: new HistoryPages(history_pages_bytes_max), kept_sessions: new KeptSessions(kept_sessions_max),
  };
}

/** Middleware that puts the dependencies and services on the context, then counts, times and logs the request. */
function requestContext(deps: AppDeps, services: AppServices): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('deps', deps);
    c.set('events', services.events);
    c.set('batcher', services.batcher);
    c.set('loaders', services.loaders);
    c.set('rate_limiter', services.rate_limiter);
    c.set('history_pages', services.history_pages);
    c.set('kept_sessions', services.kept_sessions);
    const started_ns = process.hrtime.bigint();
    await next();
    const duration_s = Number(process.hrtime.bigint() - started_ns) / 1e9;
    const route = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
    deps.metrics.http_requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    deps.metrics.http_request_duration.observe({ method: c.req.method, route }, duration_s);
    // Only method, path and status: never headers or bodies (tokens, PINs, passwords).
    if (deps.logger.isLevelEnabled('info')) {
      requestLog(c).info({ method: c.req.method, path: c.req.path, status: c.res.status, duration_ms: Math.round(duration_s * 1000) }, 'request');
    }
  };
}

/**
 * The operations endpoints outside the API: /livez, /readyz and, with METRICS_TOKEN, /metrics
 * for `Authorization: Bearer <METRICS_TOKEN>`. Without the token /metrics is not here (404): it
 * is served on a listener of its own (createMetricsApp, started by main.ts), loopback by default.
 */
function addOperationsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.get('/livez', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    if (deps.lifecycle.shutting_down) return problemResponse(c, 503, 'unavailable', 'shutting down');
    try {
      await ping(deps.sql);
    } catch {
      return problemResponse(c, 503, 'unavailable', 'database unreachable');
    }
    return c.json({ status: 'ready' });
  });
  const metrics_token = deps.config.METRICS_TOKEN;
  if (metrics_token === undefined) return;
  app.get('/metrics', async (c) => {
    if (!bearerMatches(c.req.header('Authorization'), metrics_token)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return problemResponse(c, 401, 'unauthenticated', 'the metrics need Authorization: Bearer with the METRICS_TOKEN');
    }
    c.header('Content-Type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
}

/**
 * The API (mounted under /api/v1): invalid input as ValidationError, timeout, body limit,
 * authentication, routes, and the OpenAPI document (made on its first request, then kept).
 */
function createApi(deps: AppDeps): OpenAPIHono<AppEnv> {
  const api = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ValidationError(result.error.issues.map((issue) => ({
          path: issue.path.map(String).join('.'),
          message: issue.message,
        })));
      }
    },
  });
  api.use('*', timeout(deps.config.REQUEST_TIMEOUT_MS, () =>
    new HTTPException(503, { message: 'the request took too long' })));
  api.use('*', limitBody(deps.config.BODY_SIZE_MAX_BYTES,
    (c) => problemResponse(c, 413, 'payload_too_large', `the body may be at most ${deps.config.BODY_SIZE_MAX_BYTES} bytes`)));
  api.use('*', authenticate());
  api.route('/', staffRoutes);
  api.route('/', ledgerRoutes);
  api.route('/', volunteerRoutes);
  api.route('/', walletRoutes);
  api.route('/', shopAdminRoutes);
  api.route('/', shopRoutes);
  api.route('/', auditRoutes);
  api.route('/', reportRoutes);
  api.route('/', publicRoutes);
  api.route('/', privacyRoutes);
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  let document: OpenApiDocument | undefined;
  api.get('/openapi.json', (c) => c.json(document ??= completeDocument(api.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Wijkmunt API',
      version: '1',
      description: 'Ledger of neighbourhood coins: currencies, accounts, transfers. Amounts are decimal strings; errors are application/problem+json.',
      license: { name: 'AGPL-3.0-or-later', url: 'https://spdx.org/licenses/AGPL-3.0-or-later.html' },
    },
    servers: [{ url: api_base_path }],
    security: [{ bearer: [] }],
  }))));
  return api;
}

/**
 * Builds the HTTP application: middleware, the API under /api/v1, operations endpoints, and
 * one error handler that turns everything into problem+json.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const services = createServices(deps);

  app.use('*', securityHeaders(deps.config.IMPACT_FRAME_ANCESTORS));
  app.use('*', requestIdentity(deps.config.TRUST_PROXY));
  app.use(`${api_base_path}/*`, apiCors(deps.config.CORS_ORIGINS));
  app.use('*', methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) => {
      c.header('Allow', methods.join(', '));
      return problemResponse(c, 405, 'method_not_allowed', `${c.req.method} is not allowed here; use ${methods.join(', ')}`);
    },
  }));
  app.use('*', requestContext(deps, services));

  // The web client (web/dist): index.html for its pages and deep links, its assets, manifest and service worker.
  serveWebClient(app, path.join(projectRoot(), 'web', 'dist'));
  addOperationsRoutes(app, deps);
  app.route(api_base_path, createApi(deps));
  serveApiDocs(app, `${api_base_path}/openapi.json`);

  app.notFound((c) => problemResponse(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    const response = errorToProblem(c, error);
    if (response.status >= 500) requestLog(c, deps.logger).error({ err: error }, 'request failed');
    return response;
  });
  return app;
}
