import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.js';

/**
 * A request id a proxy may hand on: 1–64 letters, digits, dots, underscores and hyphens. It is
 * stored in the audit log and logged as given, so nothing else (spaces, quotes, markup, control
 * characters, a novel's worth of text) gets that far.
 */
export const forwarded_request_id = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Names each request (`c.get('requestId')`, the audit log, the log lines) and tells the client
 * in `X-Request-Id`. The client's own `X-Request-Id` is taken only from a trusted proxy
 * (TRUST_PROXY), which is where it is meant to come from, and only when it matches
 * forwarded_request_id; otherwise the request gets a new UUID. Without the proxy any client
 * could write the id its actions are recorded under.
 */
export function requestIdentity(trust_proxy: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = trust_proxy ? c.req.header('X-Request-Id') : undefined;
    const id = given !== undefined && forwarded_request_id.test(given) ? given : randomUUID();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
  };
}
