/**
 * A person's export as JSON (GET /wallets/{id}/export): everything stored about a volunteer, as
 * the person may read it. Card codes are masked, another volunteer on the other side of a
 * transfer is neither named nor identified, and staff, tablets and the service appear by kind,
 * never by id. The printable page (person-page.ts) shows this same object.
 */
import { z } from '@hono/zod-openapi';
import type { PersonExport } from '../app/privacy.js';
import type { Currency } from '../ledger/model.js';
import { statusOf } from '../ledger/model.js';
import { formatAmount } from '../ledger/amount.js';
import { formatCardCode } from '../ledger/cards.js';
import { maskCardCode, scrubbed } from '../ledger/erasure.js';
import type { Replacement } from '../ledger/erasure.js';
import { Account, Amount, Uuid } from './schemas.js';
import { presentAccount } from './present.js';

const When = z.string().openapi({ example: '2026-03-03T10:00:00.000Z' });
const Nullable = z.string().nullable();

export const PersonExportOut = z.object({
  format: z.literal('wijkmunt-person-export-1'),
  generated_at: When,
  currency: z.object({ code: z.string(), name: z.string() }),
  person: z.object({
    account: Uuid, display_name: z.string(), full_name: Nullable, phone: Nullable, email: Nullable, note: Nullable,
    language: z.string(), created_at: When, updated_at: Nullable, erased_at: Nullable,
  }),
  account: Account,
  cards: z.array(z.object({ code: z.string().openapi({ description: 'Masked: only the last group and the check symbol' }), status: z.string(), pin_failures: z.number().int(), locked_until: Nullable, created_at: When })),
  sessions: z.array(z.object({ id: Uuid, card: z.string(), created_at: When, expires_at: When, revoked_at: Nullable })),
  transfers: z.array(z.object({
    id: Uuid, code: z.string(), direction: z.enum(['in', 'out']), amount: Amount, status: z.string(), memo: Nullable,
    metadata: z.record(z.string(), z.unknown()),
    counterparty: z.object({ kind: z.string(), name: Nullable.openapi({ description: 'None for another volunteer' }) }),
    made_by: z.enum(['self', 'staff', 'shop', 'system', 'other']), reverses: Nullable, pending_id: Nullable, created_at: When,
  })),
  entries: z.array(z.object({ version: z.string(), transfer_id: Uuid, amount: Amount, balance_after: Amount, created_at: When })),
  claims: z.array(z.object({
    session: Uuid, activity: z.object({ id: Uuid, name: z.record(z.string(), z.string()), category: z.string() }),
    hours: Nullable, via: z.enum(['qr', 'card']), transfer_id: Uuid, created_at: When,
  })),
  earnings: z.array(z.object({ period: z.string(), amount: Amount })),
  audit: z.array(z.object({
    id: z.string(), at: When, action: z.string(),
    actor: z.object({ kind: z.string(), self: z.boolean() }),
    object: z.object({ kind: Nullable, id: Nullable }),
    ip: Nullable.openapi({ description: 'The address the person acted from; none for others\' actions' }),
    changes: z.record(z.string(), z.unknown()),
  })),
}).openapi('PersonExport');

export type PersonExportJson = z.infer<typeof PersonExportOut>;

/** Who made a transfer, by kind: the person, a staff member, a shop's tablet, the service. */
function madeBy(created_by: string, self: string): PersonExportJson['transfers'][number]['made_by'] {
  if (created_by === `wallet:${self}`) return 'self';
  const kind = created_by.split(':')[0];
  if (kind === 'user') return 'staff';
  if (kind === 'device') return 'shop';
  if (kind === 'system') return 'system';
  return 'other';
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function presentActivity(e: PersonExport, f: (minor: bigint) => string) {
  return {
    transfers: e.record.transfers.map((t) => ({
      id: t.id, code: t.code, direction: t.debit_account_id === e.wallet.account_id ? 'out' as const : 'in' as const,
      amount: f(t.amount), status: statusOf(t), memo: t.memo, metadata: t.metadata,
      counterparty: { kind: t.counterparty_kind, name: t.counterparty_name }, made_by: madeBy(t.created_by, e.wallet.account_id),
      reverses: t.reverses_id, pending_id: t.pending_id, created_at: t.created_at.toISOString(),
    })),
    claims: e.record.claims.map((c) => ({
      session: c.session_id, activity: { id: c.activity_id, name: { ...c.activity_name }, category: c.category },
      hours: c.hours, via: c.via, transfer_id: c.transfer_id, created_at: c.created_at.toISOString(),
    })),
  };
}

/** The export as JSON; `currency` gives the amounts their scale. */
export function presentPersonExport(e: PersonExport, currency: Currency): PersonExportJson {
  const { wallet, record } = e;
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  const masks: Replacement[] = record.cards.flatMap((c) => [
    { text: c.code, by: maskCardCode(c.code) }, { text: formatCardCode(c.code), by: maskCardCode(c.code) },
  ]);
  const activity = presentActivity(e, f);
  return {
    format: 'wijkmunt-person-export-1', generated_at: e.generated_at.toISOString(), currency: { code: currency.code, name: currency.name },
    person: {
      account: wallet.account_id, display_name: wallet.display_name, full_name: wallet.full_name, phone: wallet.phone, email: wallet.email,
      note: wallet.note, language: wallet.language, created_at: wallet.created_at.toISOString(), updated_at: iso(wallet.updated_at), erased_at: iso(wallet.erased_at),
    },
    account: presentAccount(e.account, currency),
    cards: record.cards.map((c) => ({ code: maskCardCode(c.code), status: c.status, pin_failures: c.pin_failures, locked_until: iso(c.locked_until), created_at: c.created_at.toISOString() })),
    sessions: record.sessions.map((s) => ({ id: s.id, card: maskCardCode(s.card_code), created_at: s.created_at.toISOString(), expires_at: s.expires_at.toISOString(), revoked_at: iso(s.revoked_at) })),
    transfers: activity.transfers,
    entries: record.entries.map((x) => ({ version: x.version.toString(), transfer_id: x.transfer_id, amount: f(x.amount), balance_after: f(x.balance_after), created_at: x.created_at.toISOString() })),
    claims: activity.claims,
    earnings: record.earnings.map((x) => ({ period: x.period, amount: f(x.amount) })),
    audit: record.audit.map((r) => {
      const self = r.actor_kind === 'wallet' && r.actor_id === wallet.account_id;
      return {
        id: r.id.toString(), at: r.at.toISOString(), action: r.action, actor: { kind: r.actor_kind, self },
        object: { kind: r.object_kind, id: r.object_id === null ? null : scrubbed(r.object_id, masks) as string },
        ip: self ? r.ip : null, changes: scrubbed(r.changes, masks) as Record<string, unknown>,
      };
    }),
  };
}
