import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { AppContext, AppEnv } from '../context.js';
import { requireDevice, requireWalletAccount } from '../auth.js';
import {
  Amount, Entry, IdempotencyHeader, PageQuery, Pin, Redemption, Text, Transfer, Uuid, jsonBody, jsonResponse,
  memo_length_max, pageOf, problems,
} from '../schemas.js';
import { presentCurrency, presentRedemption, presentTransfer } from '../present.js';
import { entriesPage } from '../lookup.js';
import { actor, answer, idempotencyOf, services } from '../idempotency.js';
import * as payments from '../../app/payments.js';
import * as access from '../../app/access.js';
import { requestCashOut } from '../../app/cashouts.js';
import { assert } from '../../ledger/errors.js';
import { formatAmount, parseAmount } from '../../ledger/amount.js';
import { availableOf, balanceOf } from '../../ledger/model.js';
import type { Currency } from '../../ledger/model.js';
import { findAccount, findCurrencyById } from '../../db/ledger.js';
import { effectiveStatus, findPaymentRequest, findShop, listRedemptions, takingsToday } from '../../db/shops.js';
import type { Device, PaymentRequest, Shop } from '../../db/shops.js';

export const shopRoutes = new OpenAPIHono<AppEnv>();

const IdParam = z.object({ id: z.string().max(100) });
const Memo = Text.max(memo_length_max);

async function deviceContext(c: AppContext): Promise<{ device: Device; shop: Shop; currency: Currency }> {
  const device = requireDevice(c);
  const sql = c.get('deps').sql;
  const shop = await findShop(sql, device.shop_account_id);
  const currency = await findCurrencyById(sql, device.currency_id);
  assert(shop !== undefined && currency !== undefined, 'a device has its shop and currency');
  return { device, shop, currency };
}

export function presentPaymentRequest(c: AppContext, request: PaymentRequest, currency: Currency, shop_name: string) {
  return {
    id: request.id,
    shop: { account: request.shop_account_id, name: shop_name },
    amount: formatAmount(request.amount, currency.scale),
    currency: currency.code,
    memo: request.memo,
    status: effectiveStatus(request),
    pay_url: `${c.get('deps').config.public_base_url}/p/${request.id}`,
    expires_at: request.expires_at.toISOString(),
    ...(request.transfer_id === null ? {} : { transfer_id: request.transfer_id }),
  };
}

const PaymentRequestOut = z.object({
  id: Uuid, shop: z.object({ account: Uuid, name: z.string() }), amount: Amount, currency: z.string(),
  memo: z.string().nullable(), status: z.enum(['open', 'paid', 'cancelled', 'expired']),
  pay_url: z.string(), expires_at: z.string(), transfer_id: Uuid.optional(),
}).openapi('PaymentRequest');

// Pairing --------------------------------------------------------------------------------

shopRoutes.openapi(createRoute({
  method: 'post', path: '/shop/devices', tags: ['shop'],
  summary: 'Pair a tablet with a one-time code from the coordinator',
  security: [],
  request: { body: jsonBody(z.object({ pairing_code: z.string().max(32), device_name: Text.trim().min(1).max(100) })) },
  responses: {
    201: jsonResponse(z.object({
      token: z.string(), expires_at: z.string(),
      shop: z.object({ account: Uuid, name: z.string(), currency: z.string() }),
      device: z.object({ id: Uuid, name: z.string() }),
    }), 'Paired'),
    ...problems(401, 422, 429),
  },
}), async (c) => {
  const input = c.req.valid('json');
  const { token, expires_at, device, shop, currency } = await access.pairTablet(services(c), actor(c), input.pairing_code, input.device_name);
  return c.json({
    token, expires_at: expires_at.toISOString(),
    shop: { account: shop.account_id, name: shop.name, currency: currency.code },
    device: { id: device.id, name: device.name },
  }, 201);
});

// The tablet's own shop ----------------------------------------------------------------------

shopRoutes.openapi(createRoute({
  method: 'get', path: '/shop', tags: ['shop'],
  summary: 'This shop: balance, pending cash-outs, and today\'s takings per tablet',
  responses: {
    200: jsonResponse(z.object({
      account: Uuid, name: z.string(), currency: z.string(), scale: z.number().int(), euro_per_unit: z.string(),
      balance: Amount, available: Amount,
      pending_redemptions: Amount, device: z.object({ id: Uuid, name: z.string() }),
      today: z.array(z.object({ device: z.object({ id: Uuid, name: z.string() }).nullable(), payments: Amount, payments_count: z.number().int(), refunds: Amount })),
    }), 'The shop'),
    ...problems(401, 403),
  },
}), async (c) => {
  const { device, shop, currency } = await deviceContext(c);
  const sql = c.get('deps').sql;
  const account = await findAccount(sql, shop.account_id);
  assert(account !== undefined, 'a shop has its account');
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  const takings = await takingsToday(sql, shop);
  return c.json({
    account: shop.account_id, name: shop.name, currency: currency.code, scale: currency.scale,
    euro_per_unit: presentCurrency(currency).euro_per_unit,
    balance: f(balanceOf(account)), available: f(availableOf(account)), pending_redemptions: f(account.debits_pending),
    device: { id: device.id, name: device.name },
    today: takings.map((t) => ({
      device: t.device_id === null || t.device_name === null ? null : { id: t.device_id, name: t.device_name },
      payments: f(t.payments), payments_count: t.payments_count, refunds: f(t.refunds),
    })),
  }, 200);
});


shopRoutes.openapi(createRoute({
  method: 'get', path: '/shop/entries', tags: ['shop'],
  summary: 'This shop\'s history, newest first',
  request: { query: PageQuery },
  responses: { 200: jsonResponse(pageOf(Entry), 'A page of entries'), ...problems(401, 403, 422) },
}), async (c) => {
  const { shop, currency } = await deviceContext(c);
  const sql = c.get('deps').sql;
  const account = await findAccount(sql, shop.account_id);
  assert(account !== undefined, 'a shop has its account');
  return c.json(await entriesPage(c, account, currency, c.req.valid('query')), 200);
});

shopRoutes.openapi(createRoute({
  method: 'delete', path: '/shop/device', tags: ['shop'],
  summary: 'Unpair this tablet: its token stops working at once',
  responses: { 204: { description: 'Unpaired' }, ...problems(401, 403) },
}), async (c) => {
  const { device, shop } = await deviceContext(c);
  await access.unpairTablet(services(c), actor(c), shop, device.id, 'itself');
  return c.body(null, 204);
});

// Payment requests ---------------------------------------------------------------------------

shopRoutes.openapi(createRoute({
  method: 'post', path: '/shop/payment-requests', tags: ['shop'],
  summary: 'Ask to be paid: an amount, shown as a QR code until paid or expired',
  request: { body: jsonBody(z.object({ amount: Amount, memo: Memo.optional() })) },
  responses: { 201: jsonResponse(PaymentRequestOut, 'Created'), ...problems(401, 403, 422) },
}), async (c) => {
  const { device, shop, currency } = await deviceContext(c);
  const input = c.req.valid('json');
  const amount = parseAmount(input.amount, currency.scale);
  const request = await payments.openPaymentRequest(services(c), actor(c), currency, device, { amount, memo: input.memo ?? null });
  return c.json(presentPaymentRequest(c, request, currency, shop.name), 201);
});

shopRoutes.openapi(createRoute({
  method: 'get', path: '/payment-requests/{id}', tags: ['shop'],
  summary: 'What a payment QR asks: shop, amount, status (anyone with the id)',
  security: [],
  request: { params: IdParam },
  responses: { 200: jsonResponse(PaymentRequestOut, 'The request'), ...problems(404) },
}), async (c) => {
  const { request, currency, shop } = await payments.paymentRequestById(services(c), c.req.valid('param').id);
  c.header('Cache-Control', 'no-store');
  return c.json(presentPaymentRequest(c, request, currency, shop.name), 200);
});

/** Longest an event stream stays open; the tablet reconnects or polls after it. */
const event_stream_duration_max_ms = 30 * 60 * 1000;
const heartbeat_interval_ms = 15_000;

shopRoutes.openapi(createRoute({
  method: 'get', path: '/payment-requests/{id}/events', tags: ['shop'],
  summary: 'Server-sent events: one on every status change, ending when the request is final',
  request: { params: IdParam },
  responses: { 200: { description: 'text/event-stream of `status` events', content: { 'text/event-stream': { schema: z.string() } } }, ...problems(401, 403, 404) },
}), async (c) => {
  const device = requireDevice(c);
  const { request, currency, shop } = await payments.ownPaymentRequest(services(c), device, c.req.valid('param').id);
  const events = c.get('events');
  const sql = c.get('deps').sql;
  return streamSSE(c, async (stream) => {
    let wake: () => void = () => {};
    const changed = () => wake();
    stream.onAbort(() => wake());
    const unsubscribe = await events.subscribe(request.id, changed);
    try {
      const started_ms = Date.now();
      let last_status = '';
      for (;;) {
        // Read the row after subscribing, so a change committed in between is not missed.
        const current = await findPaymentRequest(sql, request.id);
        // Retention deletes a request RETENTION_DAYS (at least 2) after it ended; this stream ends with it.
        assert(current !== undefined, 'a payment request is kept while its event stream runs');
        const status = effectiveStatus(current);
        if (status !== last_status) {
          last_status = status;
          await stream.writeSSE({ event: 'status', data: JSON.stringify(presentPaymentRequest(c, current, currency, shop.name)) });
        }
        if (status !== 'open' || stream.aborted || Date.now() - started_ms > event_stream_duration_max_ms) break;
        const until_expiry_ms = Math.max(0, current.expires_at.getTime() - Date.now()) + 50;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(heartbeat_interval_ms, until_expiry_ms));
          wake = () => { clearTimeout(timer); resolve(); };
        });
        if (!stream.aborted) await stream.write(': keep-alive\n\n');
      }
    } finally {
      unsubscribe();
    }
  }) as never;
});

shopRoutes.openapi(createRoute({
  method: 'post', path: '/payment-requests/{id}/pay', tags: ['shop'],
  summary: 'Pay a payment request from my wallet (exactly once), or as a helper from the wallet I help (on_behalf_of)',
  request: {
    params: IdParam, headers: IdempotencyHeader,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z.object({
            on_behalf_of: Uuid.optional().openapi({
              description: 'A wallet I am the helper of: it pays, within the monthly maximum a coordinator set (403 without an active link)',
            }),
          }),
        },
      },
    },
  },
  responses: { 201: jsonResponse(Transfer, 'The payment'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const { wallet, currency } = requireWalletAccount(c);
  const id = c.req.valid('param').id;
  const { on_behalf_of } = c.req.valid('json');
  const present = (t: Parameters<typeof presentTransfer>[0]) => presentTransfer(t, currency);
  if (on_behalf_of === undefined) {
    return answer<ReturnType<typeof presentTransfer>, 201>(c, await payments.payRequest(services(c), actor(c), currency,
      idempotencyOf(c, { pay: id.toLowerCase() }), wallet.account_id, id, present));
  }
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await payments.payRequestFor(services(c), actor(c), currency,
    idempotencyOf(c, { pay: id.toLowerCase(), on_behalf_of: on_behalf_of.toLowerCase() }), wallet, on_behalf_of, id, present));
});

shopRoutes.openapi(createRoute({
  method: 'post', path: '/payment-requests/{id}/cancel', tags: ['shop'],
  summary: 'Cancel an open payment request',
  request: { params: IdParam },
  responses: { 200: jsonResponse(PaymentRequestOut, 'Cancelled'), ...problems(401, 403, 404, 409) },
}), async (c) => {
  const { request, currency, shop } = await payments.cancelRequest(services(c), actor(c), requireDevice(c), c.req.valid('param').id);
  return c.json(presentPaymentRequest(c, request, currency, shop.name), 200);
});

// Card + PIN, refunds, cash-out ------------------------------------------------------------

shopRoutes.openapi(createRoute({
  method: 'post', path: '/shop/charges', tags: ['shop'],
  summary: 'Take a payment from a scanned card with the customer\'s PIN',
  request: {
    headers: IdempotencyHeader,
    body: jsonBody(z.object({ card: z.string().max(64), pin: Pin, amount: Amount, memo: Memo.optional() })),
  },
  responses: { 201: jsonResponse(Transfer, 'The payment'), ...problems(400, 401, 403, 409, 422, 423, 429) },
}), async (c) => {
  const { device, shop, currency } = await deviceContext(c);
  const input = c.req.valid('json');
  const amount = parseAmount(input.amount, currency.scale);
  const { pin: _pin, ...fingerprint } = input;
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await payments.chargeCard(services(c), actor(c), currency, idempotencyOf(c, fingerprint), {
    shop, device_id: device.id, card: input.card, pin: input.pin, amount, memo: input.memo ?? null,
  }, (t) => presentTransfer(t, currency)));
});

shopRoutes.openapi(createRoute({
  method: 'post', path: '/shop/refunds', tags: ['shop'],
  summary: 'Refund part or all of a payment to the wallet that paid it',
  request: { headers: IdempotencyHeader, body: jsonBody(z.object({ transfer_id: Uuid, amount: Amount })) },
  responses: { 201: jsonResponse(Transfer, 'The refund'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const { device, shop, currency } = await deviceContext(c);
  const input = c.req.valid('json');
  const amount = parseAmount(input.amount, currency.scale);
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await payments.refund(services(c), actor(c), currency, idempotencyOf(c, input), {
    shop, device_id: device.id, payment_id: input.transfer_id, amount,
  }, (t) => presentTransfer(t, currency)));
});

shopRoutes.openapi(createRoute({
  method: 'post', path: '/shop/redemptions', tags: ['shop'],
  summary: 'Ask to cash coins in for euros: reserved until a coordinator approves or rejects',
  request: { headers: IdempotencyHeader, body: jsonBody(z.object({ amount: Amount })) },
  responses: { 201: jsonResponse(Redemption, 'Pending'), ...problems(400, 401, 403, 409, 422) },
}), async (c) => {
  const { shop, currency } = await deviceContext(c);
  const input = c.req.valid('json');
  const amount = parseAmount(input.amount, currency.scale);
  return answer<ReturnType<typeof presentRedemption>, 201>(c, await requestCashOut(services(c), actor(c), currency, shop, idempotencyOf(c, input), amount,
    (redemption) => presentRedemption(redemption, currency)));
});

shopRoutes.openapi(createRoute({
  method: 'get', path: '/shop/redemptions', tags: ['shop'],
  summary: 'This shop\'s cash-out requests, newest first',
  responses: { 200: jsonResponse(z.object({ items: z.array(Redemption) }), 'Redemptions'), ...problems(401, 403) },
}), async (c) => {
  const { shop, currency } = await deviceContext(c);
  const rows = await listRedemptions(c.get('deps').sql, currency.id, { shop_account_id: shop.account_id }, 100);
  return c.json({ items: rows.map((r) => presentRedemption(r, currency)) }, 200);
});
