import { getConnInfo } from '@hono/node-server/conninfo';
import type { AppContext } from './context.js';
import { insertAudit } from '../db/audit.js';
import type { ActorKind } from '../db/audit.js';

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

export interface AuditInput {
  action: string;
  currency_id: number | null;
  object?: { kind: string; id: string };
  changes?: Record<string, unknown>;
  /** Who acted when the request itself is not authenticated (a login, a pairing). */
  actor?: { kind: ActorKind; id: string | null };
}

/**
 * Records an action in the append-only audit log, after it succeeded: who, what, on which
 * object, when, from where, with the changed fields. Callers never pass secrets (PINs,
 * passwords, tokens, pairing codes). A failure to record is logged loudly, not hidden.
 */
export async function audit(c: AppContext, input: AuditInput): Promise<void> {
  const actor = input.actor ?? actorOfPrincipal(c);
  const changes = Object.fromEntries(Object.entries(input.changes ?? {}).map(([k, v]) =>
    [k, typeof v === 'string' ? v.slice(0, field_length_max) : v]));
  try {
    await insertAudit(c.get('deps').sql, {
      currency_id: input.currency_id,
      actor_kind: actor.kind,
      actor_id: actor.id,
      action: input.action,
      object_kind: input.object?.kind ?? null,
      object_id: input.object?.id ?? null,
      ip: clientAddress(c),
      request_id: c.get('requestId') ?? null,
      changes,
    });
  } catch (error) {
    c.get('log').error({ err: error, action: input.action }, 'audit record failed');
    throw error;
  }
}
