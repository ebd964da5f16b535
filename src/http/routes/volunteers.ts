import { randomBytes } from 'node:crypto';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import QRCode from 'qrcode';
import type { AppContext, AppEnv } from '../context.js';
import { actorOf, coordinates, requireStaff } from '../auth.js';
import { uuid_pattern, accountForStaff, currencyForStaff } from '../lookup.js';
import {
  Account, Amount, DateTime, IdempotencyHeader, Text, Transfer, Uuid, jsonBody, jsonResponse, problems,
} from '../schemas.js';
import { presentAccount, presentTransfer } from '../present.js';
import { actor, answer, idempotencyOf, services } from '../idempotency.js';
import { closeSession, rewardVolunteer } from '../../app/volunteering.js';
import { renderCardSheet } from '../card-sheet.js';
import { audit } from '../audit.js';
import { DomainError, ValidationError } from '../../ledger/errors.js';
import { formatAmount, parseAmount } from '../../ledger/amount.js';
import { cardCodeFromBytes, formatCardCode, normalizeCardCode } from '../../ledger/cards.js';
import {
  activity_categories, languages, parseHours, rewardFor,
} from '../../ledger/volunteering.js';
import type { Activity, ActivitySession, LocalizedName } from '../../ledger/volunteering.js';
import type { Currency } from '../../ledger/model.js';
import { hashSecret } from '../../security/passwords.js';
import { signClaimToken } from '../../security/tokens.js';
import { findAccount, findCurrencyById } from '../../db/ledger.js';
import {
  currentCard, findActivity, findActivitySession, findCard, findWallet, insertActivity, insertActivitySession,
  insertWallet, isLocked, listActivities, reissueCard, setCardBlocked, unlockCard, updateActivity,
} from '../../db/volunteers.js';
import type { Card, Wallet } from '../../db/volunteers.js';
import { assert } from '../../ledger/errors.js';

export const volunteerRoutes = new OpenAPIHono<AppEnv>();

const CodeParam = z.object({ code: z.string().max(20) });
const IdParam = z.object({ id: z.string().max(100) });
const CardParam = z.object({ code: z.string().max(64) });
export const Pin = z.string().regex(/^[0-9]{4,6}$/, '4 to 6 digits');
const Language = z.enum(languages);
const Hours = z.string().max(10).openapi({ example: '2.5', description: 'Decimal string, at most two decimals' });


export function cardUrl(c: AppContext, code: string): string {
  return `${c.get('deps').config.public_base_url}/c/${code}`;
}

export function newCardCode(): string {
  return cardCodeFromBytes(randomBytes(10));
}

export function presentCard(c: AppContext, card: Card) {
  return {
    code: card.code,
    display_code: formatCardCode(card.code),
    url: cardUrl(c, card.code),
    status: card.status,
    locked: card.pin_failures >= c.get('deps').config.PIN_FAILURES_MAX
      && (card.locked_until === null || card.locked_until > new Date()),
    created_at: card.created_at.toISOString(),
  };
}

const CardOut = z.object({
  code: z.string(), display_code: z.string(), url: z.string(),
  status: z.enum(['active', 'blocked', 'replaced']), locked: z.boolean(), created_at: z.string(),
}).openapi('Card');

async function svg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}

/** The card named in the path, if the staff user coordinates its currency; 404 otherwise. */
async function cardForStaff(c: AppContext, typed: string): Promise<{ card: Card; currency: Currency }> {
  const user = requireStaff(c);
  const code = normalizeCardCode(typed);
  const card = code === undefined ? undefined : await findCard(c.get('deps').sql, code);
  const currency = card === undefined ? undefined : await findCurrencyById(c.get('deps').sql, card.currency_id);
  if (card === undefined || currency === undefined || !coordinates(user, currency)) {
    throw new DomainError('not_found', 'no such card');
  }
  return { card, currency };
}

async function walletForStaff(c: AppContext, id: string): Promise<{ wallet: Wallet; currency: Currency }> {
  const { account, currency } = await accountForStaff(c, id);
  const wallet = account.kind === 'wallet' ? await findWallet(c.get('deps').sql, account.id) : undefined;
  if (wallet === undefined) throw new DomainError('not_found', `no wallet ${id}`);
  return { wallet, currency };
}

// Wallets and cards ------------------------------------------------------------------------

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/wallets', tags: ['volunteers'],
  summary: 'Register a volunteer: a wallet, its PIN and a first card',
  request: {
    params: CodeParam,
    body: jsonBody(z.object({
      display_name: Text.trim().min(1).max(100).openapi({ description: 'A first name or nickname is enough' }),
      pin: Pin,
      language: Language.default('nl'),
    })),
  },
  responses: {
    201: jsonResponse(z.object({ account: Account, card: CardOut, display_name: z.string(), language: Language }), 'Registered'),
    ...problems(401, 403, 404, 422),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const input = c.req.valid('json');
  const deps = c.get('deps');
  const { account, card, wallet } = await insertWallet(deps.sql, currency, {
    display_name: input.display_name,
    language: input.language,
    pin_hash: await hashSecret(input.pin, deps.config.SCRYPT_COST_LOG2),
    card_code: newCardCode(),
  });
  await audit(c, {
    action: 'wallet.register', currency_id: currency.id, object: { kind: 'wallet', id: account.id },
    changes: { display_name: wallet.display_name, language: input.language, card: card.code },
  });
  return c.json({
    account: presentAccount(account, currency), card: presentCard(c, card),
    display_name: wallet.display_name, language: input.language,
  }, 201);
});

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/wallets/{id}', tags: ['volunteers'],
  summary: 'A volunteer: account, name, language and current card',
  request: { params: IdParam },
  responses: {
    200: jsonResponse(z.object({ account: Account, card: CardOut.nullable(), display_name: z.string(), language: z.string() }), 'The wallet'),
    ...problems(401, 403, 404),
  },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  const sql = c.get('deps').sql;
  const account = await findAccount(sql, wallet.account_id);
  const card = await currentCard(sql, wallet);
  assert(account !== undefined, 'a wallet has its account');
  return c.json({
    account: presentAccount(account, currency), card: card === undefined ? null : presentCard(c, card),
    display_name: wallet.display_name, language: wallet.language,
  }, 200);
});

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/wallets/{id}/cards', tags: ['volunteers'],
  summary: 'Issue a new card (lost card): the old card and its sessions stop working at once',
  request: { params: IdParam },
  responses: { 201: jsonResponse(CardOut, 'The new card'), ...problems(401, 403, 404) },
}), async (c) => {
  const { wallet } = await walletForStaff(c, c.req.valid('param').id);
  const card = await reissueCard(c.get('deps').sql, wallet, newCardCode());
  await audit(c, { action: 'card.reissue', currency_id: wallet.currency_id, object: { kind: 'wallet', id: wallet.account_id }, changes: { card: card.code } });
  return c.json(presentCard(c, card), 201);
});

for (const action of ['block', 'unblock', 'unlock'] as const) {
  volunteerRoutes.openapi(createRoute({
    method: 'post', path: `/cards/{code}/${action}`, tags: ['volunteers'],
    summary: {
      block: 'Block a card: it and its sessions stop working at once',
      unblock: 'Make a blocked card usable again',
      unlock: 'Clear a PIN lockout (and unblock a blocked card)',
    }[action],
    request: { params: CardParam },
    responses: { 200: jsonResponse(CardOut, 'The card'), ...problems(401, 403, 404, 409) },
  }), async (c) => {
    const { card } = await cardForStaff(c, c.req.valid('param').code);
    const sql = c.get('deps').sql;
    let updated = card;
    if (action === 'block') updated = await setCardBlocked(sql, card, true);
    if (action === 'unlock') updated = await unlockCard(sql, card);
    if (action !== 'block' && updated.status === 'blocked') updated = await setCardBlocked(sql, updated, false);
    if (action === 'unblock' && card.status === 'replaced') {
      throw new DomainError('card_replaced', 'this card was replaced by a new one and cannot be used again');
    }
    await audit(c, {
      action: `card.${action}`, currency_id: card.currency_id, object: { kind: 'card', id: card.code },
      changes: { wallet: card.account_id, status: { from: card.status, to: updated.status }, pin_failures: { from: card.pin_failures, to: updated.pin_failures } },
    });
    return c.json(presentCard(c, updated), 200);
  });
}

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/cards/{code}/qr.svg', tags: ['volunteers'],
  summary: 'The QR code of a card: its URL',
  request: { params: CardParam },
  responses: { 200: { description: 'SVG', content: { 'image/svg+xml': { schema: z.string() } } }, ...problems(401, 403, 404) },
}), async (c) => {
  const { card } = await cardForStaff(c, c.req.valid('param').code);
  c.header('Content-Type', 'image/svg+xml');
  c.header('Cache-Control', 'private, no-store');
  return c.body(await svg(cardUrl(c, card.code)), 200) as never;
});

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/cards/sheet', tags: ['volunteers'],
  summary: 'A printable A4 sheet of cards (HTML with print CSS): name, QR, typed code, instructions',
  request: {
    params: CodeParam,
    query: z.object({ wallet: z.union([Uuid, z.array(Uuid).max(200)]).openapi({ description: 'One or more wallet ids' }) }),
  },
  responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } }, ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const ids = c.req.queries('wallet') ?? [];
  const sql = c.get('deps').sql;
  const cards = [];
  for (const id of ids) {
    const wallet = uuid_pattern.test(id) ? await findWallet(sql, id) : undefined;
    if (wallet === undefined || wallet.currency_id !== currency.id) throw new DomainError('not_found', `no wallet ${id} in ${currency.code}`);
    const card = await currentCard(sql, wallet);
    if (card === undefined) continue;
    cards.push({
      display_name: wallet.display_name, language: wallet.language, code: formatCardCode(card.code),
      url: cardUrl(c, card.code), qr_svg: await svg(cardUrl(c, card.code)),
    });
  }
  c.header('Cache-Control', 'private, no-store');
  return c.html(renderCardSheet(currency.name, cards), 200) as never;
});

// Activities -------------------------------------------------------------------------------

const NameIn = z.union([
  Text.trim().min(1).max(200),
  z.object({ nl: Text.trim().min(1).max(200), en: Text.trim().min(1).max(200).optional(), fr: Text.trim().min(1).max(200).optional() }),
]).openapi({ description: 'A name, or names per language (nl required)' });

const ActivityOut = z.object({
  id: Uuid, currency: z.string(),
  name: z.object({ nl: z.string(), en: z.string().optional(), fr: z.string().optional() }),
  category: z.enum(activity_categories),
  rate_per_hour: Amount.nullable(), amount: Amount.nullable(),
  programme_account: Uuid, active: z.boolean(), created_at: z.string(),
}).openapi('Activity');

function presentActivity(activity: Activity, currency: Currency) {
  return {
    id: activity.id, currency: currency.code, name: activity.name, category: activity.category,
    rate_per_hour: activity.rate_per_hour === null ? null : formatAmount(activity.rate_per_hour, currency.scale),
    amount: activity.amount === null ? null : formatAmount(activity.amount, currency.scale),
    programme_account: activity.programme_account_id, active: activity.active,
    created_at: activity.created_at.toISOString(),
  };
}

function toName(input: z.infer<typeof NameIn>): LocalizedName {
  return typeof input === 'string' ? { nl: input } : input;
}

async function programmeIn(c: AppContext, currency: Currency, id: string): Promise<string> {
  const account = uuid_pattern.test(id) ? await findAccount(c.get('deps').sql, id) : undefined;
  if (account === undefined || account.currency_id !== currency.id || account.kind !== 'programme') {
    throw new ValidationError([{ path: 'programme_account', message: `not a programme account of ${currency.code}` }]);
  }
  return account.id;
}

function rateOrAmount(input: { rate_per_hour?: string; amount?: string }, currency: Currency) {
  if ((input.rate_per_hour === undefined) === (input.amount === undefined)) {
    throw new ValidationError([{ path: 'rate_per_hour', message: 'give either rate_per_hour or amount' }]);
  }
  return {
    rate_per_hour: input.rate_per_hour === undefined ? null : parseAmount(input.rate_per_hour, currency.scale, 'rate_per_hour'),
    amount: input.amount === undefined ? null : parseAmount(input.amount, currency.scale, 'amount'),
  };
}

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/activities', tags: ['volunteers'],
  summary: 'Add an activity to the catalogue, paid per hour or a fixed amount from a programme',
  request: {
    params: CodeParam,
    body: jsonBody(z.object({
      name: NameIn, category: z.enum(activity_categories),
      rate_per_hour: Amount.optional(), amount: Amount.optional(), programme_account: Uuid,
    })),
  },
  responses: { 201: jsonResponse(ActivityOut, 'Created'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const input = c.req.valid('json');
  const activity = await insertActivity(c.get('deps').sql, currency.id, {
    name: toName(input.name), category: input.category, ...rateOrAmount(input, currency),
    programme_account_id: await programmeIn(c, currency, input.programme_account),
  });
  await audit(c, { action: 'activity.create', currency_id: currency.id, object: { kind: 'activity', id: activity.id }, changes: input });
  return c.json(presentActivity(activity, currency), 201);
});

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/activities', tags: ['volunteers'],
  summary: 'The activity catalogue of a currency',
  request: { params: CodeParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(ActivityOut) }), 'Activities'), ...problems(401, 403, 404) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const activities = await listActivities(c.get('deps').sql, currency.id);
  return c.json({ items: activities.map((a) => presentActivity(a, currency)) }, 200);
});

async function activityForStaff(c: AppContext, id: string): Promise<{ activity: Activity; currency: Currency }> {
  const user = requireStaff(c);
  const sql = c.get('deps').sql;
  const activity = uuid_pattern.test(id) ? await findActivity(sql, id) : undefined;
  const currency = activity === undefined ? undefined : await findCurrencyById(sql, activity.currency_id);
  if (activity === undefined || currency === undefined || !coordinates(user, currency)) {
    throw new DomainError('not_found', `no activity ${id}`);
  }
  return { activity, currency };
}

volunteerRoutes.openapi(createRoute({
  method: 'patch', path: '/activities/{id}', tags: ['volunteers'],
  summary: 'Edit an activity (name, category, rate or amount, programme, active)',
  request: {
    params: IdParam,
    body: jsonBody(z.object({
      name: NameIn.optional(), category: z.enum(activity_categories).optional(),
      rate_per_hour: Amount.optional(), amount: Amount.optional(), programme_account: Uuid.optional(),
      active: z.boolean().optional(),
    })),
  },
  responses: { 200: jsonResponse(ActivityOut, 'The activity'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { activity, currency } = await activityForStaff(c, c.req.valid('param').id);
  const input = c.req.valid('json');
  const pay = input.rate_per_hour === undefined && input.amount === undefined ? {} : rateOrAmount(input, currency);
  const updated = await updateActivity(c.get('deps').sql, activity, {
    ...(input.name === undefined ? {} : { name: toName(input.name) }),
    ...(input.category === undefined ? {} : { category: input.category }),
    ...(input.active === undefined ? {} : { active: input.active }),
    ...(input.programme_account === undefined ? {} : { programme_account_id: await programmeIn(c, currency, input.programme_account) }),
    ...pay,
  });
  await audit(c, { action: 'activity.update', currency_id: currency.id, object: { kind: 'activity', id: activity.id }, changes: input });
  return c.json(presentActivity(updated, currency), 200);
});

// Sessions, claims by QR and awards by card --------------------------------------------------

const SessionOut = z.object({
  id: Uuid, activity: Uuid, hours: z.string().nullable(), reward: Amount, max_claims: z.number().int(),
  claims_count: z.number().int(), claim_token: z.string(), claim_url: z.string(), expires_at: z.string(),
  closed_at: z.string().nullable(),
}).openapi('ActivitySession');

async function presentSession(c: AppContext, session: ActivitySession, activity: Activity, currency: Currency) {
  const claim_token = await signClaimToken(c.get('deps').keys, { session_id: session.id, currency: currency.code }, session.expires_at);
  return {
    id: session.id, activity: activity.id, hours: session.hours,
    reward: formatAmount(rewardFor(activity, session.hours), currency.scale),
    max_claims: session.max_claims, claims_count: session.claims_count,
    claim_token, claim_url: `${c.get('deps').config.public_base_url}/claim#${claim_token}`,
    expires_at: session.expires_at.toISOString(), closed_at: session.closed_at?.toISOString() ?? null,
  };
}

/** Default when a coordinator does not say: room for a big repair café. */
const max_claims_default = 100;

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/activities/{id}/sessions', tags: ['volunteers'],
  summary: 'Open a session of an activity: a signed claim QR for its volunteers',
  request: {
    params: IdParam,
    body: { content: { 'application/json': { schema: z.object({
      hours: Hours.optional(), max_claims: z.number().int().min(1).max(10_000).optional(),
      expires_at: DateTime.optional(),
    }) } } },
  },
  responses: { 201: jsonResponse(SessionOut, 'Created'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { activity, currency } = await activityForStaff(c, c.req.valid('param').id);
  const input = c.req.valid('json');
  if (!activity.active) throw new DomainError('validation_failed', 'this activity is no longer active', { errors: [{ path: '', message: 'inactive activity' }] });
  const hours = input.hours === undefined ? (activity.rate_per_hour === null ? null : '1.00') : parseHours(input.hours);
  const expires_at = input.expires_at === undefined
    ? new Date(Date.now() + c.get('deps').config.CLAIM_SESSION_TTL_S * 1000)
    : new Date(input.expires_at);
  if (expires_at <= new Date()) throw new ValidationError([{ path: 'expires_at', message: 'must be in the future' }]);
  rewardFor(activity, hours);
  const session = await insertActivitySession(c.get('deps').sql, activity, {
    hours: activity.rate_per_hour === null ? null : hours, max_claims: input.max_claims ?? max_claims_default,
    expires_at, created_by: actorOf(c),
  });
  await audit(c, {
    action: 'session.create', currency_id: currency.id, object: { kind: 'session', id: session.id },
    changes: { activity: activity.id, hours: session.hours, max_claims: session.max_claims, expires_at: session.expires_at.toISOString() },
  });
  return c.json(await presentSession(c, session, activity, currency), 201);
});

async function sessionForStaff(c: AppContext, id: string) {
  const user = requireStaff(c);
  const sql = c.get('deps').sql;
  const session = uuid_pattern.test(id) ? await findActivitySession(sql, id) : undefined;
  const activity = session === undefined ? undefined : await findActivity(sql, session.activity_id);
  const currency = session === undefined ? undefined : await findCurrencyById(sql, session.currency_id);
  if (session === undefined || activity === undefined || currency === undefined || !coordinates(user, currency)) {
    throw new DomainError('not_found', `no session ${id}`);
  }
  return { session, activity, currency };
}

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/sessions/{id}', tags: ['volunteers'],
  summary: 'A session, with its claim token and how many claimed it',
  request: { params: IdParam },
  responses: { 200: jsonResponse(SessionOut, 'The session'), ...problems(401, 403, 404) },
}), async (c) => {
  const { session, activity, currency } = await sessionForStaff(c, c.req.valid('param').id);
  return c.json(await presentSession(c, session, activity, currency), 200);
});

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/sessions/{id}/qr.svg', tags: ['volunteers'],
  summary: 'The claim QR of a session: its claim_url',
  request: { params: IdParam },
  responses: { 200: { description: 'SVG', content: { 'image/svg+xml': { schema: z.string() } } }, ...problems(401, 403, 404) },
}), async (c) => {
  const { session, activity, currency } = await sessionForStaff(c, c.req.valid('param').id);
  const { claim_url } = await presentSession(c, session, activity, currency);
  c.header('Content-Type', 'image/svg+xml');
  c.header('Cache-Control', 'private, no-store');
  return c.body(await svg(claim_url), 200) as never;
});

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/sessions/{id}/awards', tags: ['volunteers'],
  summary: 'Event mode: reward the volunteer whose card was scanned (once per session)',
  request: {
    params: IdParam, headers: IdempotencyHeader,
    body: jsonBody(z.object({ card: z.string().max(64), hours: Hours.optional() })),
  },
  responses: {
    201: jsonResponse(Transfer.extend({ volunteer: z.object({ account: Uuid, display_name: z.string() }) }), 'The reward'),
    ...problems(400, 401, 403, 404, 409, 422),
  },
}), async (c) => {
  const { session, activity, currency } = await sessionForStaff(c, c.req.valid('param').id);
  const input = c.req.valid('json');
  const sql = c.get('deps').sql;
  const code = normalizeCardCode(input.card);
  const card = code === undefined ? undefined : await findCard(sql, code);
  if (card === undefined) throw new DomainError('not_found', 'no such card: scan it again or type its code');
  if (card.currency_id !== currency.id) throw new DomainError('wrong_currency', `this card is not a ${currency.name} card`);
  if (card.status !== 'active') throw new DomainError('card_replaced', 'this card is blocked or was replaced; use the volunteer\'s current card');
  if (isLocked(card, c.get('deps').config.PIN_FAILURES_MAX)) {
    throw new DomainError('card_locked', 'this card is locked after too many wrong PINs; unlock it first');
  }
  const wallet = await findWallet(sql, card.account_id);
  assert(wallet !== undefined, 'a card has its wallet');
  const hours = activity.rate_per_hour === null ? null : (input.hours === undefined ? session.hours : parseHours(input.hours));
  const amount = rewardFor(activity, hours);
  return answer<ReturnType<typeof presentTransfer> & { volunteer: { account: string; display_name: string } }, 201>(c, await rewardVolunteer(
    services(c), actor(c), idempotencyOf(c, { session: session.id, ...input }),
    { currency, session, activity, account_id: wallet.account_id, amount, hours, via: 'card' },
    (transfer) => ({ ...presentTransfer(transfer, currency), volunteer: { account: wallet.account_id, display_name: wallet.display_name } }),
    (transfer) => ({
      action: 'session.award', currency_id: currency.id, object: { kind: 'session', id: session.id },
      changes: { wallet: wallet.account_id, card: card.code, hours, transfer: transfer.id },
    })));
});

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/sessions/{id}/close', tags: ['volunteers'],
  summary: 'End a claim session at once: its QR rewards no one any more (409 session_closed)',
  request: { params: IdParam },
  responses: { 200: jsonResponse(SessionOut, 'The session, ended'), ...problems(401, 403, 404) },
}), async (c) => {
  const { session, activity, currency } = await sessionForStaff(c, c.req.valid('param').id);
  const closed = await closeSession(services(c), actor(c), currency, session);
  return c.json(await presentSession(c, closed, activity, currency), 200);
});
