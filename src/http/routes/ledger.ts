import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../context.js';
import { actorOf } from '../auth.js';
import { accountForStaff, currencyForStaff, decodeCursor, encodeCursor, entriesPage, transferForStaff } from '../lookup.js';
import {
  Account, Amount, Entry, IdempotencyHeader, PageQuery, Text, Transfer, Uuid, batch_size_max, jsonBody,
  jsonResponse, memo_length_max, name_length_max, pageOf, problems,
} from '../schemas.js';
import { presentAccount, presentTransfer } from '../present.js';
import { actor, answer, idempotencyOf, services } from '../idempotency.js';
import { DomainError, ValidationError } from '../../ledger/errors.js';
import { failureError } from '../../ledger/failures.js';
import { parseAmount } from '../../ledger/amount.js';
import { account_kinds, account_statuses, transfer_codes } from '../../ledger/model.js';
import type { Currency, TransferResult } from '../../ledger/model.js';
import { newTransferId } from '../../ledger/ids.js';
import { listAccounts } from '../../db/ledger.js';
import { BatchItemError } from '../../app/posting.js';
import * as coordination from '../../app/coordination.js';
import type { TransferInput } from '../../app/coordination.js';

export const ledgerRoutes = new OpenAPIHono<AppEnv>();

const CodeParam = z.object({ code: z.string().max(20) });
const IdParam = z.object({ id: z.string().max(100) });
const Memo = Text.max(memo_length_max);

const isAccountCursor = (v: unknown): v is { n: string; i: string } =>
  typeof v === 'object' && v !== null && typeof (v as { n: unknown }).n === 'string'
  && typeof (v as { i: unknown }).i === 'string'
  && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test((v as { i: string }).i)
  && !(v as { n: string }).n.includes('\u0000');

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/accounts', tags: ['accounts'],
  summary: 'Open a programme, shop or wallet account',
  request: {
    params: CodeParam,
    body: jsonBody(z.object({
      kind: z.enum(['programme', 'shop', 'wallet']),
      name: Text.trim().min(1).max(name_length_max),
    })),
  },
  responses: { 201: jsonResponse(Account, 'Created'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const { kind, name } = c.req.valid('json');
  const account = await coordination.openAccount(services(c), actor(c), currency, kind, name);
  return c.json(presentAccount(account, currency), 201);
});

ledgerRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/accounts', tags: ['accounts'],
  summary: 'Accounts of a currency, by name',
  request: {
    params: CodeParam,
    query: PageQuery.extend({ kind: z.enum(account_kinds).optional(), q: Text.max(name_length_max).optional() }),
  },
  responses: { 200: jsonResponse(pageOf(Account), 'A page of accounts'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const query = c.req.valid('query');
  const after = decodeCursor(query.cursor, isAccountCursor);
  const rows = await listAccounts(c.get('deps').sql, currency.id, {
    kind: query.kind, q: query.q, limit: query.limit + 1,
    after: after === undefined ? undefined : { name: after.n, id: after.i },
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return c.json({
    items: page.map((a) => presentAccount(a, currency)),
    next_cursor: rows.length > query.limit && last !== undefined ? encodeCursor({ n: last.name.toLowerCase(), i: last.id }) : null,
  }, 200);
});

ledgerRoutes.openapi(createRoute({
  method: 'get', path: '/accounts/{id}', tags: ['accounts'],
  summary: 'One account with its balance',
  request: { params: IdParam },
  responses: { 200: jsonResponse(Account, 'The account'), ...problems(401, 403, 404) },
}), async (c) => {
  const { account, currency } = await accountForStaff(c, c.req.valid('param').id);
  return c.json(presentAccount(account, currency), 200);
});

ledgerRoutes.openapi(createRoute({
  method: 'patch', path: '/accounts/{id}', tags: ['accounts'],
  summary: 'Freeze, unfreeze or close an account (never deleted; closed only when it holds nothing)',
  request: {
    params: IdParam,
    body: jsonBody(z.object({
      status: z.enum(account_statuses),
      reason: Text.trim().min(1).max(500).optional().openapi({ description: 'Why: required to freeze; shown with the account' }),
    })),
  },
  responses: { 200: jsonResponse(Account, 'The account'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { account, currency } = await accountForStaff(c, c.req.valid('param').id);
  const { status, reason } = c.req.valid('json');
  const updated = await coordination.setAccountStatus(services(c), actor(c), currency, account, status, reason ?? null);
  return c.json(presentAccount(updated, currency), 200);
});

ledgerRoutes.openapi(createRoute({
  method: 'get', path: '/accounts/{id}/entries', tags: ['accounts'],
  summary: 'Statement of an account with running balance, newest first',
  request: { params: IdParam, query: PageQuery },
  responses: { 200: jsonResponse(pageOf(Entry), 'A page of entries'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { account, currency } = await accountForStaff(c, c.req.valid('param').id);
  return c.json(await entriesPage(c, account, currency, c.req.valid('query')), 200);
});

// Transfers -------------------------------------------------------------------------------

const TransferCodeIn = z.enum(transfer_codes).exclude(['reversal']);

const NewTransfer = z.object({
  id: Uuid.optional().openapi({ description: 'Client-chosen id; a transfer id is used at most once' }),
  debit_account: Uuid,
  credit_account: Uuid,
  amount: Amount,
  code: TransferCodeIn,
  memo: Memo.optional(),
  pending: z.boolean().default(false).openapi({ description: 'Reserve now; post or void later' }),
  metadata: z.record(Text.max(100), z.union([Text.max(500), z.number(), z.boolean(), z.null()]))
    .refine((m) => Object.keys(m).length <= 20, 'at most 20 keys').optional(),
});
type NewTransferInput = z.infer<typeof NewTransfer>;

function toInput(input: NewTransferInput, currency: Currency, path: string): TransferInput {
  return {
    ...(input.id === undefined ? {} : { id: input.id }),
    phase: input.pending ? 'pending' : 'single',
    code: input.code,
    debit_account_id: input.debit_account,
    credit_account_id: input.credit_account,
    amount: parseAmount(input.amount, currency.scale, `${path}amount`),
    memo: input.memo ?? null,
    metadata: input.metadata ?? {},
  };
}

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/transfers', tags: ['transfers'],
  summary: 'Move value between two accounts of a currency. Out of a wallet or a shop only as an '
    + '`adjustment` with a reason (`memo`); payments, refunds and cash-outs are made by their own '
    + 'paths, rewards only from a programme to a wallet (422 `code_not_allowed`)',
  request: { params: CodeParam, headers: IdempotencyHeader, body: jsonBody(NewTransfer) },
  responses: { 201: jsonResponse(Transfer, 'Created'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const input = c.req.valid('json');
  const transfer = toInput(input, currency, '');
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await coordination.transfer(
    services(c), actor(c), currency, idempotencyOf(c, input), transfer, (t) => presentTransfer(t, currency)));
});

const BatchOut = z.object({
  results: z.array(z.object({
    id: Uuid, status: z.enum(['created', 'failed']),
    error: z.object({ code: z.string(), detail: z.string() }).optional(),
  })),
});

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/transfers/batch', tags: ['transfers'],
  summary: 'Apply up to 1000 transfers, atomically (all or none) or item by item',
  request: {
    params: CodeParam, headers: IdempotencyHeader,
    body: jsonBody(z.object({ atomic: z.boolean(), transfers: z.array(NewTransfer).min(1).max(batch_size_max) })),
  },
  responses: {
    200: jsonResponse(BatchOut, 'One result per item, in order'),
    ...problems(400, 401, 403, 404, 409, 422),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const input = c.req.valid('json');
  const foreign = await coordination.foreignAccounts(services(c), currency, input.transfers.flatMap((t) => [t.debit_account, t.credit_account]));
  const parsed = parseItems(input, currency, foreign);
  const ids = parsed.map((p) => p.id);
  if (new Set(ids).size !== ids.length) {
    throw new ValidationError([{ path: 'transfers', message: 'transfer ids must be unique within a batch' }]);
  }
  const valid = parsed.flatMap((p) => (p.input === undefined ? [] : [p.input]));
  try {
    return answer<z.infer<typeof BatchOut>, 200>(c, await coordination.transferList(services(c), actor(c), currency, idempotencyOf(c, input), valid, input.atomic,
      (results) => batchOutcome(parsed, results, input, currency)));
  } catch (error) {
    // Atomic: the first item that failed, which wrote nothing.
    if (!(error instanceof BatchItemError)) throw error;
    const index = parsed.findIndex((p) => p.input === valid[error.index]);
    throw batchItemFailed(index, await coordination.explained(services(c), currency, failureError(error.code, error.detail, currency.scale)) as DomainError);
  }
});

/** An atomic batch refused: the index of its first failed item, and why it failed. */
function batchItemFailed(index: number, cause: DomainError): DomainError {
  return new DomainError('batch_item_failed', `transfer ${index} failed: ${cause.message}`, { index, item_code: cause.code });
}

type BatchInput = { atomic: boolean; transfers: NewTransferInput[] };
/** An item with its id: parsed, or refused before it reached the ledger (an amount it cannot hold). */
type ParsedItem = { id: string; input: TransferInput & { id: string }; error?: undefined }
  | { id: string; input: undefined; error: { code: string; detail: string } };

/**
 * Amounts are parsed per item, and accounts of another currency named: in an atomic batch the
 * first bad item rejects the request.
 */
function parseItems(input: BatchInput, currency: Currency, foreign: Set<string>): ParsedItem[] {
  return input.transfers.map((t, index): ParsedItem => {
    const id = t.id ?? newTransferId();
    const elsewhere = [t.debit_account, t.credit_account].find((a) => foreign.has(a));
    if (elsewhere !== undefined) {
      const cause = new DomainError('cross_currency', `account ${elsewhere} is not in ${currency.code}`);
      if (input.atomic) throw batchItemFailed(index, cause);
      return { id, input: undefined, error: { code: cause.code, detail: cause.message } };
    }
    try {
      return { id, input: { ...toInput(t, currency, `transfers.${index}.`), id } };
    } catch (error) {
      if (input.atomic || !(error instanceof ValidationError)) throw error;
      return { id, input: undefined, error: { code: error.code, detail: error.message } };
    }
  });
}

/** The answer to a batch: one result per item, in order, and what the audit log records. */
function batchOutcome(parsed: ParsedItem[], results: TransferResult[], input: BatchInput, currency: Currency) {
  let next = 0;
  const body = {
    results: parsed.map((p) => {
      if (p.input === undefined) return { id: p.id, status: 'failed' as const, error: p.error };
      const result = results[next++];
      if (result === undefined || !result.ok) {
        const cause = result === undefined
          ? new DomainError('invalid_transfer', 'not applied')
          : failureError(result.code, result.detail, currency.scale);
        return { id: p.id, status: 'failed' as const, error: { code: cause.code, detail: cause.message } };
      }
      return { id: p.id, status: 'created' as const };
    }),
  };
  const created = results.filter((r) => r.ok).length;
  return {
    status: 200, body,
    audit: { action: 'transfer.batch' as const, currency_id: currency.id, changes: { atomic: input.atomic, items: input.transfers.length, created } },
  };
}

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/issue', tags: ['transfers'],
  summary: 'Issue new coins to an account (a programme budget, or directly)',
  request: {
    params: CodeParam, headers: IdempotencyHeader,
    body: jsonBody(z.object({ to_account: Uuid, amount: Amount, memo: Memo.optional() })),
  },
  responses: { 201: jsonResponse(Transfer, 'Created'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const input = c.req.valid('json');
  const amount = parseAmount(input.amount, currency.scale);
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await coordination.issue(services(c), actor(c), currency, idempotencyOf(c, input),
    { to_account: input.to_account, amount, memo: input.memo ?? null }, (t) => presentTransfer(t, currency)));
});

ledgerRoutes.openapi(createRoute({
  method: 'get', path: '/transfers/{id}', tags: ['transfers'],
  summary: 'One transfer',
  request: { params: IdParam },
  responses: { 200: jsonResponse(Transfer, 'The transfer'), ...problems(401, 403, 404) },
}), async (c) => {
  const { transfer, currency } = await transferForStaff(c, c.req.valid('param').id);
  return c.json(presentTransfer(transfer, currency), 200);
});

const ReverseIn = z.object({ memo: Memo.optional(), amount: Amount.optional() });

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/transfers/{id}/reverse', tags: ['transfers'],
  summary: 'Correct a posted transfer with one the other way, at most once: all of it, or `amount` of it (at most what is left: a payment\'s refunds are left out), with the reason in `memo`, shown in the volunteer\'s history; an approved cash-out only whole, with its payout not yet exported',
  request: { params: IdParam, headers: IdempotencyHeader, body: { content: { 'application/json': { schema: ReverseIn } } } },
  responses: { 201: jsonResponse(Transfer, 'The reversal'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const { transfer, currency } = await transferForStaff(c, c.req.valid('param').id);
  const input = await optionalJson(c, ReverseIn);
  const amount = input.amount === undefined ? undefined : parseAmount(input.amount, currency.scale);
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await coordination.reverse(services(c), actor(c), currency, idempotencyOf(c, input),
    transfer, { memo: input.memo ?? null, amount }, (t) => presentTransfer(t, currency)));
});

for (const phase of ['post', 'void'] as const) {
  ledgerRoutes.openapi(createRoute({
    method: 'post', path: `/transfers/{id}/${phase}`, tags: ['transfers'],
    summary: phase === 'post'
      ? 'Post a pending transfer, for its amount or less; at most once'
      : 'Void a pending transfer, releasing the reserved amount; at most once',
    request: { params: IdParam, headers: IdempotencyHeader },
    responses: { 201: jsonResponse(Transfer, 'The resolving transfer'), ...problems(400, 401, 403, 404, 409, 422) },
  }), async (c) => {
    const { transfer, currency } = await transferForStaff(c, c.req.valid('param').id);
    const input = await optionalJson(c, z.object({ amount: Amount.optional(), memo: Memo.optional() }));
    const amount = phase === 'post' && input.amount !== undefined ? parseAmount(input.amount, currency.scale) : undefined;
    return answer<ReturnType<typeof presentTransfer>, 201>(c, await coordination.resolve(services(c), actor(c), currency, idempotencyOf(c, input),
      transfer, phase, { ...(amount === undefined ? {} : { amount }), memo: input.memo ?? null }, (t) => presentTransfer(t, currency)));
  });
}

/** Bodies that may be left out entirely: empty means {}. */
async function optionalJson<T extends z.ZodTypeAny>(c: AppContext, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new DomainError('malformed_json', 'the body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return parsed.data;
}
