/** Small helpers for HTTP tests: set up currencies and accounts through the API, count rows. */
import { expect } from 'vitest';
import { newKey } from './app.js';
import type { Reply, TestApp } from './app.js';
import type { Counter } from 'prom-client';

export interface CurrencyOut {
  id: number;
  code: string;
  scale: number;
  issuance_account: string;
}

/** Creates a currency as the admin; fails the test if that does not work. */
export async function createCurrency(t: TestApp, code: string, scale = 2, extra: Record<string, unknown> = {}): Promise<CurrencyOut> {
  const reply = await t.request('POST', '/api/v1/currencies', {
    token: t.adminToken,
    body: { code, name: `Coin ${code}`, scale, euro_per_unit: '0.10', ...extra },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body as CurrencyOut;
}

/** Opens an account and returns its id. */
export async function openAccount(
  t: TestApp, code: string, kind: 'programme' | 'shop' | 'wallet', name: string, token = t.adminToken,
): Promise<string> {
  const reply = await t.request('POST', `/api/v1/currencies/${code}/accounts`, { token, body: { kind, name } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
}

/** Issues `amount` to an account and returns the transfer JSON. */
// Tests read whatever JSON came back.
export async function issue(t: TestApp, code: string, to_account: string, amount: string, token = t.adminToken): Promise<any> {
  const reply = await t.request('POST', `/api/v1/currencies/${code}/issue`, {
    token, idempotencyKey: newKey(), body: { to_account, amount },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

/** Moves `amount` and returns the transfer JSON. */
export async function transfer(
  t: TestApp, code: string, debit_account: string, credit_account: string, amount: string,
  options: { pending?: boolean; token?: string; transfer_code?: string } = {},
): Promise<any> {
  const reply = await t.request('POST', `/api/v1/currencies/${code}/transfers`, {
    token: options.token ?? t.adminToken,
    idempotencyKey: newKey(),
    body: {
      debit_account, credit_account, amount, code: options.transfer_code ?? 'reward', pending: options.pending ?? false,
      ...(options.transfer_code === 'adjustment' ? { memo: 'correction' } : {}),
    },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

export interface RowCounts {
  transfers: number;
  entries: number;
  accounts: number;
  idempotency_keys: number;
  currencies: number;
  users: number;
}

/** Row counts of the tables a request could write to; compare before and after. */
export async function rowCounts(t: TestApp): Promise<RowCounts> {
  const [row] = await t.sql<RowCounts[]>`
    SELECT (SELECT count(*) FROM transfers)::int AS transfers,
           (SELECT count(*) FROM entries)::int AS entries,
           (SELECT count(*) FROM accounts)::int AS accounts,
           (SELECT count(*) FROM idempotency_keys)::int AS idempotency_keys,
           (SELECT count(*) FROM currencies)::int AS currencies,
           (SELECT count(*) FROM users)::int AS users`;
  if (row === undefined) throw new Error('no counts');
  return row;
}

/** Asserts an RFC 9457 problem with this status and code. */
export function expectProblem(reply: Reply, status: number, code: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(reply.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

/** A hit/miss counter of an app's metrics (kept pages, kept sessions) as it stands. */
export async function hitsAndMisses(counter: Counter<'result'>): Promise<{ hit: number; miss: number }> {
  const { values } = await counter.get();
  const of = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0;
  return { hit: of('hit'), miss: of('miss') };
}
