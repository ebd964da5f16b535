import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../context.js';
import { actorOf } from '../auth.js';
import { accountForStaff, currencyForStaff, decodeCursor, encodeCursor, entriesPage, transferForStaff } from '../lookup.js';
import {
  Account, Amount, Entry, IdempotencyHeader, PageQuery, Text, Transfer, Uuid, batch_size_max, jsonBody,
  jsonResponse, memo_length_max, name_length_max, pageOf, problems,
} from '../schemas.js';
import { presentAccount, presentTransfer } from '../present.js';
import { idempotent, idempotentBatch } from '../idempotency.js';
import { DomainError, ValidationError, isErrorCode } from '../../ledger/errors.js';
import { postingOf } from '../../ledger/batch.js';
import type { Posting } from '../../ledger/batch.js';
import { failureError } from '../../ledger/failures.js';
import { audit } from '../audit.js';
import { parseAmount } from '../../ledger/amount.js';
import { account_kinds, account_statuses, transfer_codes } from '../../ledger/model.js';
import type { Currency, TransferRequest, TransferResult } from '../../ledger/model.js';
import { postSingleTransfers } from '../../db/batch.js';
import { newTransferId } from '../../ledger/ids.js';
import {
  BatchItemError, findAccountsIn, insertAccount, listAccounts, postTransfer, setAccountStatus,
  takenTransferIds,
} from '../../db/ledger.js';
import type { Queryable } from '../../db/client.js';

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
  const account = await insertAccount(c.get('deps').sql, currency, kind, name);
  await audit(c, { action: 'account.create', currency_id: currency.id, object: { kind: 'account', id: account.id }, changes: { kind, name } });
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
  summary: 'Freeze, unfreeze or close an account (never deleted)',
  request: { params: IdParam, body: jsonBody(z.object({ status: z.enum(account_statuses) })) },
  responses: { 200: jsonResponse(Account, 'The account'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { account, currency } = await accountForStaff(c, c.req.valid('param').id);
  const { status } = c.req.valid('json');
  if (account.status === 'closed' && status !== 'closed') {
    throw new DomainError('account_closed', 'a closed account stays closed');
  }
  const updated = await setAccountStatus(c.get('deps').sql, account, status);
  await audit(c, {
    action: 'account.update', currency_id: currency.id, object: { kind: 'account', id: account.id },
    changes: { status: { from: account.status, to: status } },
  });
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

function toRequest(input: NewTransferInput, currency: Currency, actor: string, path: string): TransferRequest {
  return {
    id: input.id ?? newTransferId(),
    phase: input.pending ? 'pending' : 'single',
    code: input.code,
    debit_account_id: input.debit_account,
    credit_account_id: input.credit_account,
    amount: parseAmount(input.amount, currency.scale, `${path}amount`),
    memo: input.memo ?? null,
    metadata: input.metadata ?? {},
    created_by: actor,
  };
}

/**
 * Checks in TypeScript what the database enforces again: the transfer id is new (here in every
 * currency, as paths name transfers by id alone), both accounts exist in this currency, and
 * they differ. Names the account of another currency instead of a bare "not found".
 */
async function checkAccounts(sql: Queryable, currency: Currency, requests: TransferRequest[]): Promise<Map<string, string>> {
  const ids = [...new Set(requests.flatMap((r) => [r.debit_account_id, r.credit_account_id]).filter((id): id is string => id !== undefined))];
  const found = new Map((await findAccountsIn(sql, ids)).map((a) => [a.id, a.currency_id]));
  const taken = await takenTransferIds(sql, requests.map((r) => r.id));
  const problems = new Map<string, string>();
  for (const r of requests) {
    if (taken.has(r.id)) problems.set(r.id, `already_exists:a transfer with id ${r.id} already exists`);
    for (const id of [r.debit_account_id, r.credit_account_id]) {
      if (id === undefined || problems.has(r.id)) continue;
      const currency_id = found.get(id);
      if (currency_id === undefined) problems.set(r.id, `account_not_found:no account ${id}`);
      else if (currency_id !== currency.id) problems.set(r.id, `cross_currency:account ${id} is not in ${currency.code}`);
    }
    if (!problems.has(r.id) && r.debit_account_id === r.credit_account_id) {
      problems.set(r.id, 'same_account:debit and credit account are the same');
    }
  }
  return problems;
}

function failure(problem: string): DomainError {
  const [code, detail] = problem.split(/:(.*)/s) as [string, string];
  return new DomainError(isErrorCode(code) ? code : 'invalid_transfer', detail);
}

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/transfers', tags: ['transfers'],
  summary: 'Move value between two accounts of a currency',
  request: { params: CodeParam, headers: IdempotencyHeader, body: jsonBody(NewTransfer) },
  responses: { 201: jsonResponse(Transfer, 'Created'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const input = c.req.valid('json');
  const request = toRequest(input, currency, actorOf(c), '');
  return idempotent(c, actorOf(c), input, async (tx) => {
    const problem = (await checkAccounts(tx, currency, [request])).get(request.id);
    if (problem !== undefined) throw failure(problem);
    const transfer = await postTransfer(tx, currency, request);
    return {
      status: 201 as const, body: presentTransfer(transfer, currency), transfers: [transfer],
      audit: { action: 'transfer.create', currency_id: currency.id, object: { kind: 'transfer', id: transfer.id }, changes: input },
    };
  });
});

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/transfers/batch', tags: ['transfers'],
  summary: 'Apply up to 1000 transfers, atomically (all or none) or item by item',
  request: {
    params: CodeParam, headers: IdempotencyHeader,
    body: jsonBody(z.object({ atomic: z.boolean(), transfers: z.array(NewTransfer).min(1).max(batch_size_max) })),
  },
  responses: {
    200: jsonResponse(z.object({
      results: z.array(z.object({
        id: Uuid, status: z.enum(['created', 'failed']),
        error: z.object({ code: z.string(), detail: z.string() }).optional(),
      })),
    }), 'One result per item, in order'),
    ...problems(400, 401, 403, 404, 409, 422),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const input = c.req.valid('json');
  const actor = actorOf(c);
  // Amounts are parsed per item: in an atomic batch the first bad one rejects the request.
  const parsed = input.transfers.map((t, index): ParsedItem => {
    try {
      return { request: toRequest(t, currency, actor, `transfers.${index}.`) };
    } catch (error) {
      if (input.atomic || !(error instanceof ValidationError)) throw error;
      return { request: undefined, id: t.id ?? newTransferId(), error: { code: error.code, detail: error.message } };
    }
  });
  const ids = parsed.map((p) => p.request?.id ?? p.id);
  if (new Set(ids).size !== ids.length) {
    throw new ValidationError([{ path: 'transfers', message: 'transfer ids must be unique within a batch' }]);
  }
  const requests = parsed.flatMap((p) => (p.request === undefined ? [] : [p.request]));
  try {
    // Single-phase transfers in two round trips, the key and the audit row with them
    // (executeKeyed). A transfer id taken meanwhile, and pending items, go the general way below.
    const postings = requests.map(postingOf);
    if (postings.every((posting): posting is Posting => posting !== undefined)) {
      const problems = await checkAccounts(c.get('deps').sql, currency, requests);
      if (!input.atomic || problems.size === 0) {
        const valid = requests.filter((r) => !problems.has(r.id));
        const commands = postings.filter((posting) => !problems.has(posting.id)).map((posting) => ({ posting }));
        const answered = await idempotentBatch(c, actor, input, currency, commands, input.atomic,
          (results) => batchOutcome(parsed, problems, valid, results, input, currency));
        if (answered !== undefined) return answered;
      }
    }
    return await idempotent(c, actor, input, async (tx) => {
      const problems = await checkAccounts(tx, currency, requests);
      if (input.atomic && problems.size > 0) {
        const index = requests.findIndex((r) => problems.has(r.id));
        throw batchItemFailed(index, failure(problems.get(requests[index]?.id ?? '') ?? ''));
      }
      const valid = requests.filter((r) => !problems.has(r.id));
      const results = await postSingleTransfers(tx, currency.id, valid, input.atomic);
      return batchOutcome(parsed, problems, valid, results, input, currency);
    });
  } catch (error) {
    // Atomic: the first item that failed, which wrote nothing.
    if (!(error instanceof BatchItemError)) throw error;
    throw batchItemFailed(error.index, failureError(error.code, error.detail, currency.scale));
  }
});

/** An atomic batch refused: the index of its first failed item, and why it failed. */
function batchItemFailed(index: number, cause: DomainError): DomainError {
  return new DomainError('batch_item_failed', `transfer ${index} failed: ${cause.message}`, { index, item_code: cause.code });
}

type BatchInput = { atomic: boolean; transfers: NewTransferInput[] };
type ParsedItem = { request: TransferRequest; id?: undefined; error?: undefined }
  | { request: undefined; id: string; error: { code: string; detail: string } };

/** The answer to a batch: one result per item, in order, and what the audit log records. */
function batchOutcome(
  parsed: ParsedItem[], problems: Map<string, string>, valid: TransferRequest[], results: TransferResult[],
  input: BatchInput, currency: Currency,
) {
  const by_id = new Map(valid.map((r, i) => [r.id, results[i]]));
  const body = {
    results: parsed.map((p) => {
      if (p.request === undefined) return { id: p.id, status: 'failed' as const, error: p.error };
      const problem = problems.get(p.request.id);
      if (problem !== undefined) {
        const e = failure(problem);
        return { id: p.request.id, status: 'failed' as const, error: { code: e.code, detail: e.message } };
      }
      const result = by_id.get(p.request.id);
      if (result === undefined || !result.ok) {
        const cause = result === undefined
          ? new DomainError('invalid_transfer', 'not applied')
          : failureError(result.code, result.detail, currency.scale);
        return { id: p.request.id, status: 'failed' as const, error: { code: cause.code, detail: cause.message } };
      }
      return { id: p.request.id, status: 'created' as const };
    }),
  };
  const transfers = results.flatMap((r) => (r.ok ? [r.transfer] : []));
  return {
    status: 200 as const, body, transfers,
    audit: { action: 'transfer.batch', currency_id: currency.id, changes: { atomic: input.atomic, items: input.transfers.length, created: transfers.length } },
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
  return idempotent(c, actorOf(c), input, async (tx) => {
    const [target] = await findAccountsIn(tx, [input.to_account]);
    if (target === undefined) throw new DomainError('account_not_found', `no account ${input.to_account}`);
    if (target.currency_id !== currency.id) throw new DomainError('cross_currency', `account ${target.id} is not in ${currency.code}`);
    if (target.kind === 'issuance') throw new DomainError('same_account', 'coins cannot be issued to the issuance account');
    const transfer = await postTransfer(tx, currency, {
      id: newTransferId(), phase: 'single', code: target.kind === 'programme' ? 'budget' : 'issue',
      debit_account_id: currency.issuance_account_id, credit_account_id: target.id, amount,
      memo: input.memo ?? null, created_by: actorOf(c),
    });
    return {
      status: 201 as const, body: presentTransfer(transfer, currency), transfers: [transfer],
      audit: { action: 'transfer.issue', currency_id: currency.id, object: { kind: 'transfer', id: transfer.id }, changes: input },
    };
  });
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

ledgerRoutes.openapi(createRoute({
  method: 'post', path: '/transfers/{id}/reverse', tags: ['transfers'],
  summary: 'Correct a posted transfer with one the other way; at most once',
  request: { params: IdParam, headers: IdempotencyHeader, body: { content: { 'application/json': { schema: z.object({ memo: Memo.optional() }) } } } },
  responses: { 201: jsonResponse(Transfer, 'The reversal'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const { transfer, currency } = await transferForStaff(c, c.req.valid('param').id);
  const input = await optionalJson(c, z.object({ memo: Memo.optional() }));
  return idempotent(c, actorOf(c), input, async (tx) => {
    const reversal = await postTransfer(tx, currency, {
      id: newTransferId(), phase: 'single', code: 'reversal', reverses_id: transfer.id,
      memo: input.memo ?? null, created_by: actorOf(c),
    });
    return {
      status: 201 as const, body: presentTransfer(reversal, currency), transfers: [reversal],
      audit: {
        action: 'transfer.reverse', currency_id: currency.id, object: { kind: 'transfer', id: transfer.id },
        changes: { reversal: reversal.id, memo: input.memo ?? null },
      },
    };
  });
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
    return idempotent(c, actorOf(c), input, async (tx) => {
      const resolution = await postTransfer(tx, currency, {
        id: newTransferId(), phase, code: transfer.code, pending_id: transfer.id, amount,
        memo: input.memo ?? null, created_by: actorOf(c),
      });
      return {
        status: 201 as const, body: presentTransfer(resolution, currency), transfers: [resolution],
        audit: {
          action: `transfer.${phase}`, currency_id: currency.id, object: { kind: 'transfer', id: transfer.id },
          changes: { resolution: resolution.id, amount: input.amount ?? null },
        },
      };
    });
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
