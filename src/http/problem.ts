import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, ValidationError } from '../ledger/errors.js';

/** Base of the `type` URIs of problems; the code follows it. */
export const problem_type_base = 'urn:wijkmunt:problem:';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

const titles: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  423: 'Locked',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

const http_exception_codes: Record<number, string> = {
  400: 'malformed_request',
  401: 'unauthenticated',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

/**
 * The challenge every 401 carries (RFC 9110 §15.5.2): this API takes bearer tokens
 * (RFC 6750 §3); a token that was presented and refused is named `invalid_token`.
 */
function bearerChallenge(token_presented: boolean): string {
  return token_presented ? 'Bearer realm="wijkmunt", error="invalid_token"' : 'Bearer realm="wijkmunt"';
}

export function problemResponse(c: Context, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Response {
  if (status === 401) c.header('WWW-Authenticate', bearerChallenge(c.req.header('Authorization') !== undefined));
  const body: Problem = {
    type: `${problem_type_base}${code}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
  c.header('Content-Type', 'application/problem+json');
  return c.body(JSON.stringify(body), status as ContentfulStatusCode);
}

/** The problem+json answer to anything thrown by a handler; a 5xx never carries internals. */
export function errorToProblem(c: Context, error: unknown): Response {
  if (error instanceof ValidationError) {
    return problemResponse(c, 422, 'validation_failed', error.message, { errors: error.errors });
  }
  if (error instanceof DomainError) {
    // A refusal that ends by itself says when (a locked card, a rate limit): RFC 9110 Retry-After.
    const retry_after_s = error.extra?.['retry_after_s'];
    if (typeof retry_after_s === 'number') c.header('Retry-After', String(retry_after_s));
    return problemResponse(c, error.status, error.code, error.message, error.extra);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const code = error.message.startsWith('Malformed JSON') ? 'malformed_json' : (http_exception_codes[status] ?? 'error');
    const detail = status >= 500 ? 'The service could not handle this request.' : (error.message || titles[status] || 'Error');
    return problemResponse(c, status, code, detail);
  }
  return problemResponse(c, 500, 'internal_error',
    'Something went wrong on our side. Retry with the same Idempotency-Key: a request that moves value is applied at most once.');
}
