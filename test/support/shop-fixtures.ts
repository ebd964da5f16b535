/** Helpers for the shop tests (issue #4): shops, tablets, funded wallets, IBANs, event streams, row counts. */
import { expect } from 'vitest';
import { newKey } from './app.js';
import type { Reply, TestApp } from './app.js';
import { issue, rowCounts } from './http-fixtures.js';
import type { RowCounts } from './http-fixtures.js';
import { openWallet, registerVolunteer } from './volunteer-fixtures.js';
import type { Volunteer } from './volunteer-fixtures.js';

/**
 * A Belgian IBAN built from scratch: a 10-digit bank + account number, its national mod-97
 * check (00 → 97), then the ISO 13616 check digits, all with bigint arithmetic. Distinct `n`
 * give distinct valid IBANs. Written independently of src/ledger/iban.ts on purpose.
 */
export function belgianIban(n: number): string {
  const first10 = (1_000_000_000n + BigInt(n) * 7919n).toString().slice(-10).padStart(10, '0');
  const national = BigInt(first10) % 97n;
  const bban = first10 + (national === 0n ? 97n : national).toString().padStart(2, '0');
  // "BE00" rearranged: B = 11, E = 14.
  const check = 98n - (BigInt(`${bban}111400`) % 97n);
  return `BE${check.toString().padStart(2, '0')}${bban}`;
}

/** "BE68539007547034" → "BE68 5390 0754 7034". */
export function paperIban(iban: string): string {
  return iban.replace(/(.{4})(?=.)/g, '$1 ');
}

export interface ShopOut {
  account: string;
  name: string;
  iban: string | null;
  pairing_code: string;
  pairing_expires_at: string;
}

let shop_counter = 0;

/** Creates a shop through the API; fails the test otherwise. */
export async function createShop(
  t: TestApp, currency: string, body: { name?: string; iban?: string; address?: string; contact?: string } = {}, token = t.adminToken,
): Promise<ShopOut> {
  shop_counter += 1;
  const reply = await t.request('POST', `/api/v1/currencies/${currency}/shops`, {
    token, body: { name: `Shop ${shop_counter}`, ...body },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return { ...reply.body, account: reply.body.account.id as string } as ShopOut;
}

/** POST /shop/devices, raw. */
export async function pair(t: TestApp, pairing_code: string, device_name: string): Promise<Reply> {
  return t.request('POST', '/api/v1/shop/devices', { body: { pairing_code, device_name } });
}

export interface Tablet {
  token: string;
  device: string;
  name: string;
}

/** Pairs a tablet with the code; fails the test otherwise. */
export async function pairTablet(t: TestApp, pairing_code: string, name = 'Till'): Promise<Tablet> {
  const reply = await pair(t, pairing_code, name);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return { token: reply.body.token as string, device: reply.body.device.id as string, name };
}

/** A fresh pairing code for another tablet of the shop. */
export async function newPairingCode(t: TestApp, shop: string, token = t.adminToken): Promise<string> {
  const reply = await t.request('POST', `/api/v1/shops/${shop}/pairing-codes`, { token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.pairing_code as string;
}

/** A shop (with a valid IBAN unless `iban: null`) and one paired tablet. */
export async function shopWithTablet(
  t: TestApp, currency: string, options: { name?: string; iban?: string | null; tablet_name?: string } = {},
): Promise<{ shop: ShopOut; tablet: Tablet }> {
  const iban = options.iban === undefined ? belgianIban(shop_counter + 1000) : options.iban;
  const shop = await createShop(t, currency, {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(iban === null ? {} : { iban }),
  });
  const tablet = await pairTablet(t, shop.pairing_code, options.tablet_name ?? 'Till');
  return { shop, tablet };
}

export interface Payer extends Volunteer {
  token: string;
}

/** A volunteer with an open wallet session holding `amount` (issued), if any. */
export async function fundedWallet(t: TestApp, currency: string, amount?: string, name?: string): Promise<Payer> {
  const volunteer = await registerVolunteer(t, currency, name === undefined ? {} : { name });
  if (amount !== undefined) await issue(t, currency, volunteer.account, amount);
  return { ...volunteer, token: await openWallet(t, volunteer) };
}

/** POST /shop/payment-requests; fails the test unless 201. */
export async function requestPayment(t: TestApp, tablet: Tablet, amount: string, memo?: string): Promise<any> {
  const reply = await t.request('POST', '/api/v1/shop/payment-requests', {
    token: tablet.token, body: { amount, ...(memo === undefined ? {} : { memo }) },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

/** POST /payment-requests/{id}/pay, raw. */
export async function pay(t: TestApp, wallet_token: string, request_id: string, key: string = newKey()): Promise<Reply> {
  return t.request('POST', `/api/v1/payment-requests/${request_id}/pay`, { token: wallet_token, idempotencyKey: key });
}

/** POST /shop/charges, raw. */
export async function charge(
  t: TestApp, tablet: Tablet, body: { card: string; pin: string; amount: string; memo?: string }, key: string = newKey(),
): Promise<Reply> {
  return t.request('POST', '/api/v1/shop/charges', { token: tablet.token, idempotencyKey: key, body });
}

/** POST /shop/refunds, raw. */
export async function refund(t: TestApp, tablet: Tablet, transfer_id: string, amount: string, key: string = newKey()): Promise<Reply> {
  return t.request('POST', '/api/v1/shop/refunds', { token: tablet.token, idempotencyKey: key, body: { transfer_id, amount } });
}

/** POST /shop/redemptions, raw. */
export async function redeem(t: TestApp, tablet: Tablet, amount: string, key: string = newKey()): Promise<Reply> {
  return t.request('POST', '/api/v1/shop/redemptions', { token: tablet.token, idempotencyKey: key, body: { amount } });
}

/** GET /shop as the tablet; fails the test unless 200. */
export async function shopView(t: TestApp, tablet: Tablet): Promise<any> {
  const reply = await t.request('GET', '/api/v1/shop', { token: tablet.token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

/** The ledger numbers of an account straight from the database, in minor units. */
export async function ledgerOf(t: TestApp, account: string): Promise<{ balance: bigint; available: bigint; debits_pending: bigint }> {
  const [row] = await t.sql<{ balance: bigint; available: bigint; debits_pending: bigint }[]>`
    SELECT (credits_posted - debits_posted)::bigint AS balance,
           (credits_posted - debits_posted - debits_pending)::bigint AS available,
           debits_pending
    FROM accounts WHERE id = ${account}`;
  if (row === undefined) throw new Error(`no account ${account}`);
  return row;
}

export interface ShopCounts extends RowCounts {
  shops: number;
  pairing_codes: number;
  pairing_codes_used: number;
  devices: number;
  devices_revoked: number;
  payment_requests: number;
  payment_requests_paid: number;
  refund_totals: number;
  refunded: string;
  redemptions: number;
  payouts: number;
  payouts_exported: number;
  payout_exports: number;
  pin_failures: number;
}

/** Row counts of every table a shop request could write to; compare before and after. */
export async function shopCounts(t: TestApp): Promise<ShopCounts> {
  const [row] = await t.sql<Omit<ShopCounts, keyof RowCounts>[]>`
    SELECT (SELECT count(*) FROM shops)::int AS shops,
           (SELECT count(*) FROM pairing_codes)::int AS pairing_codes,
           (SELECT count(*) FROM pairing_codes WHERE used_at IS NOT NULL)::int AS pairing_codes_used,
           (SELECT count(*) FROM devices)::int AS devices,
           (SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL)::int AS devices_revoked,
           (SELECT count(*) FROM payment_requests)::int AS payment_requests,
           (SELECT count(*) FROM payment_requests WHERE status = 'paid')::int AS payment_requests_paid,
           (SELECT count(*) FROM refund_totals)::int AS refund_totals,
           (SELECT coalesce(sum(refunded), 0) FROM refund_totals)::text AS refunded,
           (SELECT count(*) FROM redemptions)::int AS redemptions,
           (SELECT count(*) FROM payouts)::int AS payouts,
           (SELECT count(*) FROM payouts WHERE export_id IS NOT NULL)::int AS payouts_exported,
           (SELECT count(*) FROM payout_exports)::int AS payout_exports,
           (SELECT coalesce(sum(pin_failures), 0) FROM cards)::int AS pin_failures`;
  if (row === undefined) throw new Error('no counts');
  return { ...(await rowCounts(t)), ...row };
}

/** GET /currencies/{code}/verify as the admin: every invariant holds. */
export async function expectVerified(t: TestApp, currency: string): Promise<void> {
  const reply = await t.request('GET', `/api/v1/currencies/${currency}/verify`, { token: t.adminToken });
  expect(reply.status).toBe(200);
  expect(reply.body.ok, JSON.stringify(reply.body.checks.filter((c: any) => !c.ok))).toBe(true);
}

// Server-sent events ---------------------------------------------------------------------------

export interface SseEvent {
  event: string;
  // Tests read whatever JSON came back.
  data: any;
  /** Date.now() when the event's bytes were read. */
  at: number;
}

export interface EventStream {
  status: number;
  headers: Headers;
  /** The problem body when the status is not 200. */
  body: any;
  /** The next event, or undefined when the stream ended; rejects after `timeout_ms`. */
  next(timeout_ms?: number): Promise<SseEvent | undefined>;
  /** Resolves when the server closed the stream (with Date.now() then). */
  ended: Promise<number>;
  /** Comment lines (keep-alives) seen so far. */
  comments: number;
  close(): Promise<void>;
}

/**
 * Opens GET /payment-requests/{id}/events through the app (no port) and reads it in the
 * background, stamping each event with the time it arrived.
 */
export async function openEvents(t: TestApp, request_id: string, token?: string): Promise<EventStream> {
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const response = await t.app.request(`/api/v1/payment-requests/${request_id}/events`, { headers });
  const queue: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  let done = false;
  let resolveEnded: (at: number) => void = () => {};
  const ended = new Promise<number>((resolve) => { resolveEnded = resolve; });
  const stream: EventStream = {
    status: response.status, headers: response.headers, body: undefined, ended, comments: 0,
    async next(timeout_ms = 5000) {
      const deadline = Date.now() + timeout_ms;
      while (queue.length === 0 && !done) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no server-sent event within ${timeout_ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => { clearTimeout(timer); resolve(); });
        });
      }
      return queue.shift();
    },
    async close() {
      if (!done) await reader?.cancel().catch(() => {});
    },
  };
  if (response.status !== 200 || response.body === null) {
    const text = await response.text();
    stream.body = text === '' ? null : JSON.parse(text);
    done = true;
    resolveEnded(Date.now());
    return stream;
  }
  const reader = response.body.getReader();
  const wakeAll = () => { for (const wake of waiters.splice(0)) wake(); };
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += decoder.decode(value, { stream: true });
        let boundary = buffer.indexOf('\n\n');
        while (boundary !== -1) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let event = 'message';
          const data: string[] = [];
          let comment = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comment = true;
            else if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length > 0) queue.push({ event, data: JSON.parse(data.join('\n')), at: Date.now() });
          else if (comment) stream.comments += 1;
          boundary = buffer.indexOf('\n\n');
        }
        wakeAll();
      }
    } catch {
      // Cancelled by close().
    } finally {
      done = true;
      resolveEnded(Date.now());
      wakeAll();
    }
  })();
  return stream;
}
