import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one app instance (own registry, so tests can build many apps). */
export interface Metrics {
  registry: Registry;
  http_requests: Counter<'method' | 'route' | 'status'>;
  http_request_duration: Histogram<'method' | 'route'>;
  transfers: Counter<'code'>;
  batch_size: Histogram;
  batch_failures: Counter;
  /** Pages of wallet history answered from the kept pages (hit) or read from the database (miss). */
  history_pages: Counter<'result'>;
  /** Wallet requests let in by a kept session (hit) or by one read from the database (miss). */
  wallet_sessions: Counter<'result'>;
}

export function createMetrics(collect_process_metrics: boolean): Metrics {
  const registry = new Registry();
  if (collect_process_metrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    http_requests: new Counter({
      name: 'wijkmunt_http_requests_total', help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'], registers: [registry],
    }),
    http_request_duration: new Histogram({
      name: 'wijkmunt_http_request_duration_seconds', help: 'HTTP request latency',
      labelNames: ['method', 'route'], registers: [registry],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    transfers: new Counter({
      name: 'wijkmunt_transfers_total', help: 'Transfers committed, by code',
      labelNames: ['code'], registers: [registry],
    }),
    batch_size: new Histogram({
      name: 'wijkmunt_batch_commands', help: 'Value-moving requests per database transaction',
      registers: [registry], buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    }),
    batch_failures: new Counter({
      name: 'wijkmunt_batch_failures_total', help: 'Batches that failed as a whole and were retried request by request',
      registers: [registry],
    }),
    history_pages: new Counter({
      name: 'wijkmunt_history_pages_total', help: 'Pages of wallet history by where they came from: hit (kept pages) or miss (database)',
      labelNames: ['result'], registers: [registry],
    }),
    wallet_sessions: new Counter({
      name: 'wijkmunt_wallet_sessions_total', help: 'Wallet requests by where their session came from: hit (kept, unchanged since) or miss (database)',
      labelNames: ['result'], registers: [registry],
    }),
  };
}

/** The metrics as Prometheus text. */
export async function metricsResponse(metrics: Metrics): Promise<Response> {
  return new Response(await metrics.registry.metrics(), { status: 200, headers: { 'Content-Type': metrics.registry.contentType } });
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Whether an Authorization header is `Bearer <token>`. The digests are compared, in constant
 * time: equal lengths whatever was sent, so neither the token's characters nor its length leak
 * through the time the answer takes.
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
  return timingSafeEqual(sha256(given ?? ''), sha256(token)) && given !== undefined;
}

/**
 * The app of the metrics listener (METRICS_HOST:METRICS_PORT, loopback by default): GET
 * /metrics and nothing else. Whoever reaches that address may read the metrics, so it is meant
 * for a local Prometheus or agent, not for the internet.
 */
export function createMetricsApp(metrics: Metrics): Hono {
  const app = new Hono();
  app.get('/metrics', () => metricsResponse(metrics));
  app.notFound((c) => c.text('not found: the metrics are at /metrics\n', 404));
  return app;
}
