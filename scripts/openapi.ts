/**
 * Prints the service's OpenAPI 3.1 document (the one served at /api/v1/openapi.json) without a
 * database: the app is built with dummy dependencies, and postgres.js connects only on a query.
 *
 *   tsx scripts/openapi.ts > openapi.json
 *   npm run gen:api        # regenerates web/src/api-types.ts from it
 */
import { pino } from 'pino';
import { createApp, api_base_path } from '../src/http/app.js';
import { createSql } from '../src/db/client.js';
import { loadConfig } from '../src/config.js';
import { createMetrics } from '../src/http/metrics.js';
import type { AppDeps } from '../src/http/context.js';

const sql = createSql({ url: 'postgres://openapi@127.0.0.1:1/none', pool_size_max: 1, statement_timeout_ms: 1000 });
const deps: AppDeps = {
  sql,
  config: loadConfig({ LOG_LEVEL: 'silent' }),
  keys: { current_kid: 'openapi', keys: new Map([['openapi', new Uint8Array(32)]]) },
  logger: pino({ level: 'silent' }),
  metrics: createMetrics(false),
  lifecycle: { shutting_down: false },
};
const app = createApp(deps);
const response = await app.request(`${api_base_path}/openapi.json`);
if (response.status !== 200) throw new Error(`the OpenAPI document answered ${response.status}`);
const document: unknown = await response.json();
process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
await sql.end({ timeout: 0 });
