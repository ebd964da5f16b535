import type { OpenAPIHono } from '@hono/zod-openapi';
import { assert } from '../ledger/errors.js';

/** The OpenAPI 3.1 document as @hono/zod-openapi generates it. */
export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type HeaderObject = NonNullable<NonNullable<OpenApiDocument['components']>['headers']>[string];

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const problem_response = {
  description: 'Problem',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/** Response headers the service sends alike on many operations, referred to from each. */
const shared_headers = {
  'WWW-Authenticate': {
    description: 'The bearer challenge of every 401 (RFC 9110, RFC 6750): `Bearer realm="wijkmunt"`, '
      + 'with `error="invalid_token"` when the request carried a token that was refused.',
    required: true,
    schema: { type: 'string', pattern: '^Bearer( |$)' },
  },
  'Retry-After': {
    description: 'Seconds to wait before an attempt is counted again.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  'Idempotency-Replayed': {
    description: '`true` when this is the recorded response of an earlier request with the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
} satisfies Record<string, HeaderObject>;

/** The parts of an operation object this module reads and writes. */
interface Operation {
  operationId?: string;
  parameters?: Array<{ in?: string; name?: string } | { $ref: string }>;
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { headers?: Record<string, unknown> } & Record<string, unknown>>;
}

/**
 * The operationId of `method path`: the method, then each segment of the path in PascalCase, a
 * parameter as `By` and its name — `GET /currencies/{code}/payouts.xml` is
 * `getCurrenciesByCodePayoutsXml`. It changes only when the route's method or path does.
 */
export function operationIdOf(method: string, path: string): string {
  const words = path.split('/').filter((segment) => segment !== '').flatMap((segment) => {
    const parameter = /^\{(.+)\}$/.exec(segment);
    return parameter === null ? segment.split(/[^A-Za-z0-9]+/) : ['by', ...(parameter[1] ?? '').split(/[^A-Za-z0-9]+/)];
  });
  return method.toLowerCase() + words.filter((word) => word !== '')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

function hasParameterIn(operation: Operation, places: string[]): boolean {
  return (operation.parameters ?? []).some((p) => 'in' in p && p.in !== undefined && places.includes(p.in));
}

function takesIdempotencyKey(operation: Operation): boolean {
  return (operation.parameters ?? []).some((p) => 'in' in p && p.in === 'header' && p.name?.toLowerCase() === 'idempotency-key');
}

/** Adds `status` as a Problem unless the route documents it; adds `header` to it either way. */
function addProblem(operation: Operation, status: string, header?: keyof typeof shared_headers): void {
  const responses = (operation.responses ??= {});
  const response = (responses[status] ??= structuredClone(problem_response));
  if (header !== undefined) response.headers = { ...response.headers, [header]: { $ref: `#/components/headers/${header}` } };
}

/** Adds to one operation what the service does alike on every operation. */
function completeOperation(operation: Operation, method: string, path: string): void {
  operation.operationId ??= operationIdOf(method, path);
  const reads_json = operation.requestBody?.content?.['application/json'] !== undefined;
  // Malformed JSON is 400 wherever a JSON body is read.
  if (reads_json) addProblem(operation, '400');
  // Every path or query parameter and every body is validated: 422 validation_failed names the field.
  if (reads_json || hasParameterIn(operation, ['path', 'query'])) addProblem(operation, '422');
  // A token that is presented must be valid everywhere, public operations included.
  addProblem(operation, '401', 'WWW-Authenticate');
  if (operation.responses?.['429'] !== undefined) addProblem(operation, '429', 'Retry-After');
  if (takesIdempotencyKey(operation)) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (status.startsWith('2')) response.headers = { ...response.headers, 'Idempotency-Replayed': { $ref: '#/components/headers/Idempotency-Replayed' } };
    }
  }
}

/**
 * The served document: the generated one, with what holds for every operation alike added in
 * this one place (route files declare only what is their own): an operationId derived from
 * method and path, 400 where JSON is read, 422 where input is validated, 401 everywhere with its
 * WWW-Authenticate challenge, Retry-After on 429, Idempotency-Replayed on replayable successes.
 */
export function completeDocument(document: OpenApiDocument): OpenApiDocument {
  const completed = structuredClone(document);
  const operation_ids = new Map<string, string>();
  for (const [path, item] of Object.entries(completed.paths ?? {})) {
    for (const method of methods) {
      const operation = (item as Partial<Record<string, Operation>>)[method];
      if (operation === undefined) continue;
      completeOperation(operation, method, path);
      const id = operation.operationId ?? '';
      const earlier = operation_ids.get(id);
      assert(earlier === undefined, `operationId ${id} of ${method.toUpperCase()} ${path} is also that of ${earlier ?? ''}`);
      operation_ids.set(id, `${method.toUpperCase()} ${path}`);
    }
  }
  completed.components = { ...completed.components, headers: { ...completed.components?.headers, ...shared_headers } };
  return completed;
}
