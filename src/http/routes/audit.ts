import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../context.js';
import { requireAdmin } from '../auth.js';
import { currencyForStaff, decodeCursor, encodeCursor, isBigintCursor } from '../lookup.js';
import { DateTime, PageQuery, Text, jsonResponse, pageOf, problems } from '../schemas.js';
import { auditNames, idsNamed, listAudit } from '../../db/audit.js';
import { foldForSearch } from '../../ledger/text.js';
import type { AuditQuery, AuditRow } from '../../db/audit.js';
import { listCurrencies } from '../../db/ledger.js';

export const auditRoutes = new OpenAPIHono<AppEnv>();

const AuditEntryOut = z.object({
  id: z.string(), at: z.string(), currency: z.string().nullable(),
  actor: z.object({
    kind: z.enum(['user', 'wallet', 'device', 'anonymous', 'system']), id: z.string().nullable(),
    name: z.string().nullable().openapi({ description: 'A staff member\'s email, a volunteer\'s or shop\'s name, a tablet with its shop' }),
  }),
  action: z.string(),
  object: z.union([z.object({ kind: z.string(), id: z.string(), name: z.string().nullable() }), z.null()]),
  ip: z.string().nullable(), request_id: z.string().nullable(), changes: z.record(z.string(), z.unknown()),
}).openapi('AuditEntry');

const AuditFilter = PageQuery.extend({
  actor: Text.max(100).optional().openapi({ description: 'A user, wallet or device id' }),
  name: Text.trim().min(2).max(100).optional().openapi({ description: 'A name typed in part (case and accents do not matter): entries whose actor or object is so named' }),
  object: Text.max(100).optional().openapi({ description: 'An object id (account, card, transfer, …)' }),
  action: z.string().regex(/^[a-z_]+(\.[a-z_]+)*$/).max(60).optional().openapi({ description: 'An action, or a prefix such as "card"' }),
  from: DateTime.optional(),
  to: DateTime.optional(),
});
type AuditFilterIn = z.infer<typeof AuditFilter>;

const isIdCursor = isBigintCursor;

async function page(c: AppContext, filter: AuditFilterIn, currency_id: number | undefined) {
  const before = decodeCursor(filter.cursor, isIdCursor);
  const sql = c.get('deps').sql;
  const named = filter.name === undefined ? undefined : await idsNamed(sql, currency_id, foldForSearch(filter.name));
  const query: AuditQuery = {
    currency_id, actor: filter.actor, object: filter.object, named, action: filter.action,
    from: filter.from === undefined ? undefined : new Date(filter.from),
    to: filter.to === undefined ? undefined : new Date(filter.to),
    limit: filter.limit + 1,
    before_id: before === undefined ? undefined : BigInt(before),
  };
  const rows = await listAudit(sql, query);
  const codes = new Map((await listCurrencies(sql)).map((cur) => [cur.id, cur.code]));
  const items = rows.slice(0, filter.limit);
  const last = items.at(-1);
  const names = await auditNames(sql, items.flatMap((r) => [
    ...(r.actor_id === null ? [] : [{ kind: r.actor_kind, id: r.actor_id }]),
    ...(r.object_kind === null || r.object_id === null ? [] : [{ kind: r.object_kind, id: r.object_id }]),
  ]));
  const nameOf = (kind: string, id: string | null) => (id === null ? null : names.get(`${kind}:${id}`) ?? null);
  return {
    items: items.map((r: AuditRow) => ({
      id: r.id.toString(), at: r.at.toISOString(), currency: r.currency_id === null ? null : codes.get(r.currency_id) ?? null,
      actor: { kind: r.actor_kind, id: r.actor_id, name: nameOf(r.actor_kind, r.actor_id) }, action: r.action,
      object: r.object_kind === null || r.object_id === null ? null : { kind: r.object_kind, id: r.object_id, name: nameOf(r.object_kind, r.object_id) },
      ip: r.ip, request_id: r.request_id, changes: r.changes,
    })),
    next_cursor: rows.length > filter.limit && last !== undefined ? encodeCursor(last.id.toString()) : null,
  };
}

auditRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/audit-log', tags: ['audit'],
  summary: 'Who did what in a currency, newest first (filter by actor, object, action, time)',
  request: { params: z.object({ code: z.string().max(20) }), query: AuditFilter },
  responses: { 200: jsonResponse(pageOf(AuditEntryOut), 'A page of the audit log'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  return c.json(await page(c, c.req.valid('query'), currency.id), 200);
});

auditRoutes.openapi(createRoute({
  method: 'get', path: '/audit-log', tags: ['audit'],
  summary: 'The whole audit log, logins included (admin)',
  request: { query: AuditFilter },
  responses: { 200: jsonResponse(pageOf(AuditEntryOut), 'A page of the audit log'), ...problems(401, 403, 422) },
}), async (c) => {
  requireAdmin(c);
  return c.json(await page(c, c.req.valid('query'), undefined), 200);
});
