import { getConnInfo } from '@hono/node-server/conninfo';
import type { AppContext } from './context.js';
import { requestLog } from './context.js';
import { insertAudit } from '../db/audit.js';
import type { ActorKind, AuditEntry } from '../db/audit.js';
import type { AuditInput } from '../app/context.js';
import type { Queryable } from '../db/client.js';
import { lone_surrogate } from './schemas.js';

/** Longest text kept from a client-supplied field in the log (e.g. a mistyped email). */
const field_length_max = 200;

/**
 * Where the request came from: the forwarded client when a proxy is trusted, else the socket.
 * The last X-Forwarded-For entry is the one our proxy added; earlier ones are whatever the
 * client sent, so believing them would let anyone choose their address (and dodge rate limits).
 */
export function clientAddress(c: AppContext): string | null {
  if (c.get('deps').config.TRUST_PROXY) {
    const forwarded = c.req.header('X-Forwarded-For')?.split(',').at(-1)?.trim();
    if (forwarded !== undefined && forwarded !== '') return forwarded.slice(0, 100);
  }
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    // Requests made inside the process (tests) have no socket.
    return null;
  }
}

function actorOfPrincipal(c: AppContext): { kind: ActorKind; id: string | null } {
  const principal = c.get('principal');
  if (principal === undefined) return { kind: 'anonymous', id: null };
  switch (principal.kind) {
    case 'staff': return { kind: 'user', id: principal.user.id };
    case 'wallet': return { kind: 'wallet', id: principal.wallet.account_id };
    case 'device': return { kind: 'device', id: principal.device.id };
  }
}

export type { AuditInput };

/**
 * Client text as PostgreSQL can keep it: cut to field_length_max without splitting a character,
 * NUL removed and lone surrogates replaced (text cannot hold the one, jsonb refuses the other).
 * A typed card code that is no card at all, for example, is recorded as typed, minus those.
 */
function storable(text: string): string {
  const cut = text.slice(0, field_length_max);
  return (/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut)
    .replace(/\u0000/g, '')
    .replace(new RegExp(lone_surrogate.source, 'g'), '\uFFFD');
}

/** The audit record of an action by this request, to be written with the action. */
export function auditEntry(c: AppContext, input: AuditInput): AuditEntry {
  const actor = input.actor ?? actorOfPrincipal(c);
  const changes = Object.fromEntries(Object.entries(input.changes ?? {}).map(([k, v]) =>
    [k, typeof v === 'string' ? storable(v) : v]));
  return {
    currency_id: input.currency_id,
    actor_kind: actor.kind,
    actor_id: actor.id,
    action: input.action,
    object_kind: input.object?.kind ?? null,
    object_id: input.object === undefined ? null : storable(input.object.id),
    ip: clientAddress(c),
    request_id: c.get('requestId') ?? null,
    changes,
  };
}

/**
 * Records an action in the append-only audit log, after it succeeded: who, what, on which
 * object, when, from where, with the changed fields. Callers never pass secrets (PINs,
 * passwords, tokens, pairing codes). A failure to record is logged loudly, not hidden.
 * Given the action's transaction (`sql`), the record commits with the action or not at all.
 */
export async function audit(c: AppContext, input: AuditInput, sql: Queryable = c.get('deps').sql): Promise<void> {
  try {
    await insertAudit(sql, auditEntry(c, input));
  } catch (error) {
    requestLog(c).error({ err: error, action: input.action }, 'audit record failed');
    throw error;
  }
}
