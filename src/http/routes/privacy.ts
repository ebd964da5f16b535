import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.js';
import { walletForStaff } from '../lookup.js';
import { Account, Amount, Text, Uuid, jsonBody, jsonResponse, problems } from '../schemas.js';
import { presentAccount } from '../present.js';
import { actor, services } from '../idempotency.js';
import { PersonExportOut, presentPersonExport } from '../person-export.js';
import { renderPersonPage } from '../person-page.js';
import { erasePerson, exportPerson } from '../../app/privacy.js';
import { formatAmount } from '../../ledger/amount.js';

/** A person's data on request (docs/privacy-requests.md): exported, or erased. */
export const privacyRoutes = new OpenAPIHono<AppEnv>();

const IdParam = z.object({ id: z.string().max(100) });

privacyRoutes.openapi(createRoute({
  method: 'get', path: '/wallets/{id}/export', tags: ['volunteers'],
  summary: 'Everything stored about a volunteer (profile, cards with masked codes, sign-ins, transfers, entries, rewards, audit rows about them), as JSON or a printable page in their language',
  request: {
    params: IdParam,
    query: z.object({ format: z.enum(['json', 'html']).default('json').openapi({ description: 'html: a printable page in the volunteer\'s language (nl, en or fr)' }) }),
  },
  responses: {
    200: {
      description: 'The export',
      content: { 'application/json': { schema: PersonExportOut }, 'text/html': { schema: z.string() } },
    },
    ...problems(401, 403, 404, 422),
  },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  const exported = presentPersonExport(await exportPerson(services(c), actor(c), currency, wallet), currency);
  c.header('Cache-Control', 'private, no-store');
  if (c.req.valid('query').format === 'html') return c.html(renderPersonPage(exported), 200) as never;
  return c.json(exported, 200);
});

const ErasureOut = z.object({
  account: Account,
  display_name: z.string().openapi({ example: 'Gewist 7F3A', description: 'The pseudonym the wallet is known by from now on' }),
  erased_at: z.string(),
  moved: z.union([z.object({ transfer: Uuid, amount: Amount, to: Uuid }), z.null()]).openapi({ description: 'The coins left, moved to the programme' }),
  cards_destroyed: z.number().int(),
  sessions_ended: z.number().int(),
  audit_rows_pseudonymised: z.number().int(),
  answers_pseudonymised: z.number().int().openapi({ description: 'Recorded answers of Idempotency-Keys that named the person' }),
}).openapi('Erasure');

privacyRoutes.openapi(createRoute({
  method: 'post', path: '/wallets/{id}/erase', tags: ['volunteers'],
  summary: 'Erase a volunteer\'s personal data: names become a pseudonym, contact details, note, card codes, PIN and sign-ins are gone, the audit rows about them pseudonymised; the ledger stays whole. A wallet with coins needs move_rest_to_programme (else 422 account_not_empty)',
  request: {
    params: IdParam,
    body: jsonBody(z.object({
      reason: Text.trim().min(1).max(500).openapi({ description: 'Why (a request of the person, …): kept in the audit log and as the memo of a move, so it must not name the person' }),
      move_rest_to_programme: Uuid.optional().openapi({ description: 'A programme of the currency that receives the coins left in the wallet, with the reason as memo' }),
    })),
  },
  responses: { 200: jsonResponse(ErasureOut, 'Erased'), ...problems(401, 403, 404, 409, 422) },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  const erased = await erasePerson(services(c), actor(c), currency, wallet, c.req.valid('json'));
  return c.json({
    account: presentAccount(erased.account, currency), display_name: erased.wallet.display_name,
    erased_at: erased.wallet.erased_at?.toISOString() ?? '',
    moved: erased.moved === undefined ? null : { transfer: erased.moved.id, amount: formatAmount(erased.moved.amount, currency.scale), to: erased.moved.credit_account_id },
    cards_destroyed: erased.cards_destroyed, sessions_ended: erased.sessions_ended,
    audit_rows_pseudonymised: erased.audit_rows_pseudonymised, answers_pseudonymised: erased.answers_pseudonymised,
  }, 200);
});
