import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../context.js';
import { actorOf, requireWallet, wallet_audience } from '../auth.js';
import { Amount, Entry, IdempotencyHeader, PageQuery, Transfer, Uuid, jsonBody, jsonResponse, pageOf, problems } from '../schemas.js';
import { presentTransfer } from '../present.js';
import { entriesPage, uuid_pattern } from '../lookup.js';
import { actor, answer, idempotencyOf, services } from '../idempotency.js';
import { rewardVolunteer } from '../../app/volunteering.js';
import { audit } from '../audit.js';
import { takeAttempt } from '../rate-limit.js';
import { Pin } from './volunteers.js';
import { DomainError, assert } from '../../ledger/errors.js';
import { formatAmount } from '../../ledger/amount.js';
import { balanceOf } from '../../ledger/model.js';
import type { Account, Currency } from '../../ledger/model.js';
import { normalizeCardCode } from '../../ledger/cards.js';
import { rewardFor } from '../../ledger/volunteering.js';
import { dummyHash, verifySecret } from '../../security/passwords.js';
import { signToken, verifyClaimToken } from '../../security/tokens.js';
import { findAccount, findCurrencyById } from '../../db/ledger.js';
import {
  findCard, findWallet, insertWalletSession, revokeWalletSession,
  settlePinAttempt, takePinAttempt,
} from '../../db/volunteers.js';
import type { Card, Wallet } from '../../db/volunteers.js';

export const walletRoutes = new OpenAPIHono<AppEnv>();

const WalletOut = z.object({
  account: Uuid, currency: z.string(), display_name: z.string(), language: z.string(), balance: Amount,
}).openapi('Wallet');

const wrong_card_or_pin = 'the card or the PIN is wrong';

/**
 * Checks card + PIN with the lockout rules: every attempt is counted before the comparison,
 * the answer never tells whether the card or the PIN was wrong, and a locked card says so.
 * Opening a wallet answers a wrong card or PIN with 401; a shop charge with 422
 * `invalid_card_or_pin`, because there the tablet itself is authenticated and must stay so.
 */
export async function checkCardPin(
  c: AppContext, typed_card: string, pin: string, wrong: 'unauthenticated' | 'invalid_card_or_pin' = 'unauthenticated',
): Promise<{ card: Card; wallet: Wallet }> {
  const deps = c.get('deps');
  const { PIN_FAILURES_MAX: failures_max, PIN_LOCK_S: lock_s } = deps.config;
  const code = normalizeCardCode(typed_card);
  const guess = takeAttempt(c, 'pin', code);
  const card = code === undefined ? undefined : await findCard(deps.sql, code);
  if (card === undefined || card.status !== 'active') {
    // Same work as a real comparison, so the time does not tell a card exists.
    await verifySecret(pin, await dummyHash(deps.config.SCRYPT_COST_LOG2));
    await audit(c, {
      action: 'card.pin_failed', currency_id: card?.currency_id ?? null, object: { kind: 'card', id: code ?? typed_card },
      changes: { reason: card === undefined ? 'unknown card' : `card ${card.status}` },
    });
    throw new DomainError(wrong, wrong_card_or_pin);
  }
  const attempt = await takePinAttempt(deps.sql, card, failures_max);
  if (attempt === undefined) {
    await audit(c, { action: 'card.pin_failed', currency_id: card.currency_id, object: { kind: 'card', id: card.code }, changes: { reason: 'locked' } });
    throw new DomainError('card_locked', 'too many wrong PINs: this card is locked for a while, or until a coordinator unlocks it');
  }
  const wallet = await findWallet(deps.sql, card.account_id);
  assert(wallet !== undefined, 'a card has its wallet');
  const right = await verifySecret(pin, wallet.pin_hash);
  await settlePinAttempt(deps.sql, card, right, failures_max, lock_s);
  if (!right) {
    await audit(c, {
      action: attempt.pin_failures >= failures_max ? 'card.locked' : 'card.pin_failed', currency_id: card.currency_id,
      object: { kind: 'card', id: card.code }, changes: { reason: 'wrong PIN', pin_failures: attempt.pin_failures },
    });
    if (attempt.pin_failures >= failures_max) {
      throw new DomainError('card_locked', 'too many wrong PINs: this card is now locked for a while, or until a coordinator unlocks it');
    }
    throw new DomainError(wrong, wrong_card_or_pin);
  }
  guess.release();
  return { card, wallet };
}

async function walletContext(c: AppContext): Promise<{ wallet: Wallet; account: Account; currency: Currency }> {
  const wallet = requireWallet(c);
  const sql = c.get('deps').sql;
  const account = await findAccount(sql, wallet.account_id);
  const currency = await findCurrencyById(sql, wallet.currency_id);
  assert(account !== undefined && currency !== undefined, 'a wallet has its account and currency');
  return { wallet, account, currency };
}

function presentWallet(wallet: Wallet, account: Account, currency: Currency) {
  return {
    account: account.id, currency: currency.code, display_name: wallet.display_name, language: wallet.language,
    balance: formatAmount(balanceOf(account), currency.scale),
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
  const { card, wallet } = await checkCardPin(c, input.card, input.pin);
  const deps = c.get('deps');
  const ttl_s = deps.config.WALLET_TOKEN_TTL_S;
  const session_id = await insertWalletSession(deps.sql, card, new Date(Date.now() + ttl_s * 1000));
  await audit(c, {
    action: 'wallet.login', currency_id: wallet.currency_id, actor: { kind: 'wallet', id: wallet.account_id },
    object: { kind: 'card', id: card.code },
  });
  const { token, expires_at } = await signToken(deps.keys, wallet_audience, { sub: wallet.account_id, sid: session_id }, ttl_s);
  const currency = await findCurrencyById(deps.sql, wallet.currency_id);
  assert(currency !== undefined, 'a wallet has its currency');
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
  const principal = c.get('principal');
  if (principal !== undefined) await revokeWalletSession(c.get('deps').sql, principal.session_id);
  await audit(c, { action: 'wallet.logout', currency_id: wallet.currency_id, object: { kind: 'card', id: wallet.card_code } });
  return c.body(null, 204);
});

walletRoutes.openapi(createRoute({
  method: 'get', path: '/wallet', tags: ['wallet'],
  summary: 'My wallet: name and balance',
  responses: { 200: jsonResponse(WalletOut, 'The wallet'), ...problems(401, 403) },
}), async (c) => {
  const { wallet, account, currency } = await walletContext(c);
  return c.json(presentWallet(wallet, account, currency), 200);
});


walletRoutes.openapi(createRoute({
  method: 'get', path: '/wallet/entries', tags: ['wallet'],
  summary: 'My history, newest first, with who paid or was paid and for which activity',
  request: { query: PageQuery },
  responses: {
    200: jsonResponse(pageOf(Entry), 'A page of entries'),
    ...problems(401, 403, 422),
  },
}), async (c) => {
  const { account, currency } = await walletContext(c);
  return c.json(await entriesPage(c, account, currency, c.req.valid('query')), 200);
});

walletRoutes.openapi(createRoute({
  method: 'post', path: '/claims', tags: ['wallet'],
  summary: 'Claim the coins of a session by its scanned QR token (once per session)',
  request: { headers: IdempotencyHeader, body: jsonBody(z.object({ token: z.string().min(1).max(2048) })) },
  responses: { 201: jsonResponse(Transfer, 'The reward'), ...problems(400, 401, 403, 404, 409, 422) },
}), async (c) => {
  const wallet = requireWallet(c);
  const input = c.req.valid('json');
  const deps = c.get('deps');
  // Read fresh: the legal caps the reward is checked against are the currency's.
  const currency = await findCurrencyById(deps.sql, wallet.currency_id);
  assert(currency !== undefined, 'a wallet has its currency');
  const claim = await verifyClaimToken(deps.keys, input.token);
  if (claim === 'expired') throw new DomainError('expired', 'this QR code has expired; ask the coordinator for a new one');
  if (claim === 'invalid') throw new DomainError('invalid_token', 'this is not a valid claim QR code');
  if (claim.currency !== currency.code) {
    throw new DomainError('wrong_currency', `this QR code is for ${claim.currency}, your wallet holds ${currency.code}`);
  }
  const found = uuid_pattern.test(claim.session_id) ? await c.get('loaders').activitySession.load(claim.session_id) : undefined;
  const { session, activity } = found ?? {};
  if (session === undefined || activity === undefined || session.currency_id !== currency.id) {
    throw new DomainError('invalid_token', 'this claim QR code names no session');
  }
  const amount = rewardFor(activity, session.hours);
  return answer<ReturnType<typeof presentTransfer>, 201>(c, await rewardVolunteer(services(c), actor(c), idempotencyOf(c, input),
    { currency, session, activity, account_id: wallet.account_id, amount, hours: session.hours, via: 'qr' },
    (transfer) => presentTransfer(transfer, currency),
    (transfer) => ({
      action: 'session.claim', currency_id: currency.id, object: { kind: 'session', id: session.id },
      changes: { wallet: wallet.account_id, hours: session.hours, transfer: transfer.id },
    })));
});
