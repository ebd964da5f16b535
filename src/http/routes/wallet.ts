import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.js';
import { requireWallet, requireWalletAccount } from '../auth.js';
import {
  Amount, EarningRoom, Entry, Expiring, IdempotencyHeader, PageQuery, Pin, Text, Transfer, Uuid, jsonBody, jsonResponse, memo_length_max, pageOf,
  problems,
} from '../schemas.js';
import { presentEarningRoom, presentExpiring, presentTransfer } from '../present.js';
import { walletHistoryBody } from '../lookup.js';
import { actor, answer, idempotencyOf, services } from '../idempotency.js';
import { claimByToken, earningRoom } from '../../app/volunteering.js';
import type { EarningRoom as Room } from '../../app/volunteering.js';
import { walletExpiring } from '../../app/expiry.js';
import { giftReceiver, giveGift, helperLinks, receiveCode } from '../../app/gifts.js';
import * as access from '../../app/access.js';
import { DomainError, assert } from '../../ledger/errors.js';
import { formatAmount, parseAmount } from '../../ledger/amount.js';
import { rewardFor } from '../../ledger/volunteering.js';
import { account_statuses, balanceOf } from '../../ledger/model.js';
import type { Account, Currency } from '../../ledger/model.js';
import { findCurrency, findCurrencyById } from '../../db/ledger.js';
import { listAgenda } from '../../db/volunteers.js';
import type { Wallet } from '../../db/volunteers.js';

export const walletRoutes = new OpenAPIHono<AppEnv>();

const WalletOut = z.object({
  account: Uuid, currency: z.string(), display_name: z.string(), language: z.string(), balance: Amount,
  status: z.enum(account_statuses).openapi({ description: 'frozen: a coordinator froze the wallet; it can neither pay nor receive until released' }),
  expiring: Expiring,
  earning_room: EarningRoom,
  gifts_enabled: z.boolean().openapi({ description: 'Whether this wallet may give coins to other wallets and receive them (its currency allows gifts)' }),
}).openapi('Wallet');

function presentWallet(
  wallet: Wallet, account: Account, currency: Currency, expiring: Array<{ amount: bigint; on: string }>, room: Room | undefined,
) {
  return {
    account: account.id, currency: currency.code, display_name: wallet.display_name, language: wallet.language,
    balance: formatAmount(balanceOf(account), currency.scale), status: account.status, expiring: presentExpiring(expiring, currency),
    earning_room: presentEarningRoom(room, currency),
    gifts_enabled: currency.gifts_enabled,
  };
}

walletRoutes.openapi(createRoute({
  method: 'post', path: '/wallet/session', tags: ['wallet'],
  summary: 'Open a wallet with card + PIN (5 wrong PINs lock the card)',
  security: [],
  request: { body: jsonBody(z.object({ card: z.string().max(64), pin: Pin })) },
  responses: {
    200: jsonResponse(z.object({
      token: z.string(), expires_at: z.string(),
      wallet: z.object({ account: Uuid, currency: z.string(), display_name: z.string(), language: z.string() }),
    }), 'Opened'),
    ...problems(401, 422, 423, 429),
  },
}), async (c) => {
  const input = c.req.valid('json');
  const { token, expires_at, wallet, currency } = await access.openWallet(services(c), actor(c), input.card, input.pin);
  return c.json({
    token, expires_at: expires_at.toISOString(),
    wallet: { account: wallet.account_id, currency: currency.code, display_name: wallet.display_name, language: wallet.language },
  }, 200);
});

walletRoutes.openapi(createRoute({
  method: 'post', path: '/wallet/logout', tags: ['wallet'],
  summary: 'Close this wallet session',
  responses: { 204: { description: 'Closed' }, ...problems(401, 403) },
}), async (c) => {
  const wallet = requireWallet(c);
  await access.closeWallet(services(c), actor(c), wallet, c.get('principal')?.session_id);
  return c.body(null, 204);
});

walletRoutes.openapi(createRoute({
  method: 'post', path: '/wallet/pin', tags: ['wallet'],
  summary: 'Change my PIN (the current one is required and counts as a PIN attempt)',
  request: { body: jsonBody(z.object({ old_pin: Pin, new_pin: Pin })) },
  responses: { 204: { description: 'Changed' }, ...problems(401, 403, 422, 423, 429) },
}), async (c) => {
  const input = c.req.valid('json');
  await access.changeOwnPin(services(c), actor(c), requireWallet(c), input.old_pin, input.new_pin);
  return c.body(null, 204);
});

walletRoutes.openapi(createRoute({
  method: 'get', path: '/wallet', tags: ['wallet'],
  summary: 'My wallet: name, balance, the coins that expire within 60 days, and what I may still earn under the caps',
  responses: { 200: jsonResponse(WalletOut, 'The wallet'), ...problems(401, 403) },
}), async (c) => {
  const { wallet, account, currency } = requireWalletAccount(c);
  const [expiring, room] = await Promise.all([walletExpiring(services(c), currency, account.id), earningRoom(services(c), currency, account.id)]);
  return c.json(presentWallet(wallet, account, currency, expiring, room), 200);
});

const AgendaItem = z.object({
  session: Uuid,
  activity: z.object({ nl: z.string(), en: z.string().optional(), fr: z.string().optional() }).openapi({ description: 'The activity\'s name per language' }),
  category: z.string(),
  place: z.string().nullable(),
  starts_at: z.string(),
  ends_at: z.string().nullable(),
  hours: z.string().nullable(),
  reward: Amount.openapi({ description: 'What one claim of the session pays' }),
}).openapi('AgendaItem');

/** Most sessions an agenda lists at once. */
const agenda_items_max = 100;

walletRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/agenda', tags: ['wallet'],
  summary: 'What can I do? The upcoming public sessions of a currency, soonest first (no login; never a claim token)',
  security: [],
  request: {
    params: z.object({ code: z.string().max(20) }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(agenda_items_max).default(agenda_items_max) }),
  },
  responses: { 200: jsonResponse(z.object({ currency: z.string(), items: z.array(AgendaItem) }), 'The agenda'), ...problems(404, 422) },
}), async (c) => {
  const code = c.req.valid('param').code;
  const sql = c.get('deps').sql;
  const currency = await findCurrency(sql, code);
  if (currency === undefined) throw new DomainError('currency_not_found', `no currency ${code}`);
  const rows = await listAgenda(sql, currency.id, new Date(), c.req.valid('query').limit);
  const items = rows.map(({ session, activity }) => {
    assert(session.starts_at !== null, 'a public session says when it starts');
    return {
      session: session.id, activity: activity.name, category: activity.category, place: session.place,
      starts_at: session.starts_at.toISOString(), ends_at: session.ends_at?.toISOString() ?? null, hours: session.hours,
      reward: formatAmount(rewardFor(activity, session.hours), currency.scale),
    };
  });
  c.header('Cache-Control', 'no-store');
  return c.json({ currency: currency.code, items }, 200);
});


walletRoutes.openapi(createRoute({
  method: 'get', path: '/wallet/entries', tags: ['wallet'],
  summary: 'My history, newest first, with who paid or was paid and for which activity; a helper\'s also lists what it paid from the wallets it helps (for_other)',
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(pageOf(Entry), 'A page of entries'),
    ...problems(401, 403, 422),
  },
}), async (c) => {
  const { wallet, account, currency } = requireWalletAccount(c);
  const body = await walletHistoryBody(c, wallet, account, currency, c.req.valid('query'));
  return c.body(body, 200, { 'Content-Type': 'application/json' }) as never;
});

walletRoutes.openapi(createRoute({
  method: 'post', path: '/claims', tags: ['wallet'],
  summary: 'Claim the coins of a session by its scanned QR token (once per session)',
  request: { headers: IdempotencyHeader, body: jsonBody(z.object({ token: z.string().min(1).max(2048) })) },
  responses: { 201: jsonResponse(Transfer, 'The reward'), ...problems(400, 401, 403, 409, 422) },
}), async (c) => {
  const wallet = requireWallet(c);
  const input = c.req.valid('json');
  // Read fresh: the legal caps the reward is checked against are the currency's.
  const currency = await findCurrencyById(c.get('deps').sql, wallet.currency_id);
  assert(currency !== undefined, 'a wallet has its currency');
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await claimByToken(services(c), actor(c), idempotencyOf(c, input),
    wallet, currency, input.token, (transfer) => presentTransfer(transfer, currency)));
});

// Gifts and helpers (#20, points 3 and 4) ----------------------------------------------------------

walletRoutes.openapi(createRoute({
  method: 'get', path: '/wallet/receive', tags: ['wallet'],
  summary: 'My receive code and its URL (/r/<code>) for a QR another wallet scans to give me coins',
  responses: {
    200: jsonResponse(z.object({
      code: z.string().openapi({ description: 'Names this wallet without its id or card code; always the same' }),
      url: z.string(),
    }), 'The receive code'),
    ...problems(401, 403),
  },
}), async (c) => {
  const code = await receiveCode(services(c), requireWallet(c));
  return c.json({ code, url: `${c.get('deps').config.public_base_url}/r/${code}` }, 200);
});

const ReceiveCodeParam = z.object({ code: z.string().max(100).openapi({ description: 'A receive code, as its QR\'s URL ends (/r/<code>)' }) });

walletRoutes.openapi(createRoute({
  method: 'get', path: '/wallet/receivers/{code}', tags: ['wallet'],
  summary: 'Who a scanned receive code names (their display name), before giving',
  request: { params: ReceiveCodeParam },
  responses: { 200: jsonResponse(z.object({ display_name: z.string() }), 'The receiver'), ...problems(401, 403, 422) },
}), async (c) => {
  const { currency } = requireWalletAccount(c);
  const receiver = await giftReceiver(services(c), currency, c.req.valid('param').code);
  return c.json({ display_name: receiver.display_name }, 200);
});

const GiftIn = z.object({
  to: z.string().min(1).max(300).openapi({ description: 'The receiver\'s receive code (or its URL, /r/<code>)' }),
  amount: Amount,
  memo: Text.trim().max(memo_length_max).optional(),
});

walletRoutes.openapi(createRoute({
  method: 'post', path: '/wallet/gifts', tags: ['wallet'],
  summary: 'Give coins to another wallet by its receive code (where the currency allows gifts, within the day\'s limit)',
  request: { headers: IdempotencyHeader, body: jsonBody(GiftIn) },
  responses: { 201: jsonResponse(Transfer, 'The gift'), ...problems(400, 401, 403, 409, 422) },
}), async (c) => {
  const { wallet, currency } = requireWalletAccount(c);
  const input = c.req.valid('json');
  const memo = input.memo === undefined || input.memo === '' ? null : input.memo;
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await giveGift(services(c), actor(c), currency, idempotencyOf(c, input), wallet,
    { to: input.to, amount: parseAmount(input.amount, currency.scale), memo }, (transfer) => presentTransfer(transfer, currency)));
});

const HelpedOut = z.object({
  wallet: Uuid, display_name: z.string(),
  available: Amount.openapi({ description: 'What the helped wallet can spend now' }),
  month_max: Amount, spent_this_month: Amount,
  left_this_month: Amount.openapi({ description: 'What this helper may still pay from it this calendar month' }),
  status: z.enum(account_statuses),
}).openapi('HelpedWallet');

walletRoutes.openapi(createRoute({
  method: 'get', path: '/wallet/helped', tags: ['wallet'],
  summary: 'The wallets I help: I may pay a shop from them (on_behalf_of), up to a maximum a month',
  responses: { 200: jsonResponse(z.object({ items: z.array(HelpedOut) }), 'The wallets I help'), ...problems(401, 403) },
}), async (c) => {
  const { wallet, currency } = requireWalletAccount(c);
  const links = await helperLinks(services(c), currency, wallet.account_id, 'helper');
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  return c.json({
    items: links.map((l) => ({
      wallet: l.account_id, display_name: l.display_name, available: f(l.available), month_max: f(l.month_max),
      spent_this_month: f(l.spent), left_this_month: f(l.month_max > l.spent ? l.month_max - l.spent : 0n),
      status: l.status as (typeof account_statuses)[number],
    })),
  }, 200);
});
