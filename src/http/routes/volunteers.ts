import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import QRCode from 'qrcode';
import type { AppContext, AppEnv } from '../context.js';
import {
  accountForStaff, activityForStaff, cardForStaff, currencyForStaff, decodeCursor, encodeCursor, isBigintCursor, sessionForStaff, uuid_pattern, walletForStaff,
} from '../lookup.js';
import {
  Account, Amount, DateTime, EarningRoom, Expiring, IdempotencyHeader, PageQuery, Pin, Text, Transfer, Uuid, jsonBody, jsonResponse, pageOf, problems,
} from '../schemas.js';
import { presentAccount, presentEarningRoom, presentExpiring, presentTransfer } from '../present.js';
import { actor, answer, idempotencyOf, services } from '../idempotency.js';
import * as access from '../../app/access.js';
import { addActivity, awardByCard, closeSession, earningRoom, editActivity, editSession, openSession } from '../../app/volunteering.js';
import { walletExpiring } from '../../app/expiry.js';
import { helperLinks, linkHelper, unlinkHelper } from '../../app/gifts.js';
import { renderCardSheet } from '../card-sheet.js';
import { assert } from '../../ledger/errors.js';
import { formatAmount, parseAmount } from '../../ledger/amount.js';
import { formatCardCode, normalizeCardCode } from '../../ledger/cards.js';
import { foldForSearch } from '../../ledger/text.js';
import { activity_categories, languages, rewardFor } from '../../ledger/volunteering.js';
import type { Activity, ActivitySession, LocalizedName } from '../../ledger/volunteering.js';
import type { Currency } from '../../ledger/model.js';
import { signClaimToken } from '../../security/tokens.js';
import { findAccount } from '../../db/ledger.js';
import { currentCard, isLocked, listActivities, listActivitySessions, listWallets } from '../../db/volunteers.js';
import type { Card, Wallet } from '../../db/volunteers.js';

export const volunteerRoutes = new OpenAPIHono<AppEnv>();

const CodeParam = z.object({ code: z.string().max(20) });
const IdParam = z.object({ id: z.string().max(100) });
const CardParam = z.object({ code: z.string().max(64) });
const Language = z.enum(languages);
const Hours = z.string().max(10).openapi({ example: '2.5', description: 'Decimal string, at most two decimals' });


export function cardUrl(c: AppContext, code: string): string {
  return `${c.get('deps').config.public_base_url}/c/${code}`;
}

export function presentCard(c: AppContext, card: Card) {
  return {
    code: card.code,
    display_code: formatCardCode(card.code),
    url: cardUrl(c, card.code),
    status: card.status,
    locked: isLocked(card, c.get('deps').config.PIN_FAILURES_MAX),
    // Null while locked: until a coordinator unlocks it.
    locked_until: isLocked(card, c.get('deps').config.PIN_FAILURES_MAX) ? card.locked_until?.toISOString() ?? null : null,
    created_at: card.created_at.toISOString(),
  };
}

const CardOut = z.object({
  code: z.string(), display_code: z.string(), url: z.string(),
  status: z.enum(['active', 'blocked', 'replaced']), locked: z.boolean(),
  locked_until: z.string().nullable().openapi({ description: 'While locked: when the lock ends by itself; null when it holds until a coordinator unlocks the card' }),
  created_at: z.string(),
}).openapi('Card');

async function svg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
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
  const { account, card, wallet } = await access.registerVolunteer(services(c), actor(c), currency, input);
  return c.json({
    account: presentAccount(account, currency), card: presentCard(c, card),
    display_name: wallet.display_name, language: input.language,
  }, 201);
});

/** A volunteer as the coordinator sees them; the contact fields and the note never reach the wallet. */
const WalletOut = z.object({
  account: Account, card: z.union([CardOut, z.null()]), display_name: z.string(), language: z.string(),
  full_name: z.string().nullable(), phone: z.string().nullable(), email: z.string().nullable(), note: z.string().nullable(),
  updated_at: z.string().nullable(), expiring: Expiring, earning_room: EarningRoom,
  erased_at: z.string().nullable().openapi({ description: 'When the person\'s data was erased (POST /wallets/{id}/erase): the name is a pseudonym since' }),
}).openapi('VolunteerWallet');

async function presentWallet(c: AppContext, wallet: Wallet, currency: Currency) {
  const sql = c.get('deps').sql;
  const account = await findAccount(sql, wallet.account_id);
  const card = await currentCard(sql, wallet);
  assert(account !== undefined, 'a wallet has its account');
  const [expiring, room] = await Promise.all([walletExpiring(services(c), currency, account.id), earningRoom(services(c), currency, account.id)]);
  return {
    account: presentAccount(account, currency), card: card === undefined ? null : presentCard(c, card),
    display_name: wallet.display_name, language: wallet.language,
    full_name: wallet.full_name, phone: wallet.phone, email: wallet.email, note: wallet.note,
    updated_at: wallet.updated_at?.toISOString() ?? null, expiring: presentExpiring(expiring, currency),
    earning_room: presentEarningRoom(room, currency),
    erased_at: wallet.erased_at?.toISOString() ?? null,
  };
}

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/wallets/{id}', tags: ['volunteers'],
  summary: 'A volunteer: account, names, language, contact details, note, current card, the coins that expire within 60 days, and what they may still earn under the caps',
  request: { params: IdParam },
  responses: { 200: jsonResponse(WalletOut, 'The wallet'), ...problems(401, 403, 404) },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  return c.json(await presentWallet(c, wallet, currency), 200);
});

/** An optional text a coordinator may clear with null. */
const Optional = (max: number) => Text.trim().min(1).max(max).nullable().optional();

volunteerRoutes.openapi(createRoute({
  method: 'patch', path: '/wallets/{id}', tags: ['volunteers'],
  summary: 'Change what is known of a volunteer: display name, full name, language, phone, email, note (null clears)',
  request: {
    params: IdParam,
    body: jsonBody(z.object({
      display_name: Text.trim().min(1).max(100).optional(),
      full_name: Optional(200), language: Language.optional(),
      phone: Text.trim().min(1).max(40).regex(/^[0-9+()./ -]+$/, 'digits, spaces and + ( ) . / - only').nullable().optional(),
      email: Text.trim().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address').nullable().optional(),
      note: Optional(1000),
    })),
  },
  responses: { 200: jsonResponse(WalletOut, 'The wallet'), ...problems(401, 403, 404, 409, 422) },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  const updated = await access.editVolunteer(services(c), actor(c), wallet, c.req.valid('json'));
  return c.json(await presentWallet(c, updated, currency), 200);
});

const WalletListItem = z.object({
  account: Uuid, display_name: z.string(), full_name: z.string().nullable(), language: z.string(),
  card: z.union([z.object({
    code: z.string(), display_code: z.string(), status: z.enum(['active', 'blocked', 'replaced']), locked: z.boolean(),
  }), z.null()]),
}).openapi('VolunteerListItem');

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/wallets', tags: ['volunteers'],
  summary: 'The volunteers, by name: q finds "Aïcha" from "aicha" (case and accents do not matter), or a card code typed with or without dashes',
  request: { params: CodeParam, query: PageQuery.extend({ q: Text.max(100).optional() }) },
  responses: { 200: jsonResponse(pageOf(WalletListItem), 'A page of volunteers'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const query = c.req.valid('query');
  const after = decodeCursor(query.cursor, isNameCursor);
  const rows = await listWallets(c.get('deps').sql, currency.id, {
    folded: query.q === undefined ? undefined : foldForSearch(query.q), card_code: query.q === undefined ? undefined : normalizeCardCode(query.q),
    after, limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const failures_max = c.get('deps').config.PIN_FAILURES_MAX;
  return c.json({
    items: page.map((w) => ({
      account: w.account_id, display_name: w.display_name, full_name: w.full_name, language: w.language,
      card: w.card_code === null || w.card_status === null ? null : {
        code: w.card_code, display_code: formatCardCode(w.card_code), status: w.card_status,
        locked: (w.pin_failures ?? 0) >= failures_max && (w.locked_until === null || w.locked_until > new Date()),
      },
    })),
    next_cursor: rows.length > query.limit && last !== undefined ? encodeCursor({ name: last.display_name.toLowerCase(), id: last.account_id }) : null,
  }, 200);
});

const isNameCursor = (v: unknown): v is { name: string; id: string } =>
  typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' && typeof (v as { id?: unknown }).id === 'string'
  && uuid_pattern.test((v as { id: string }).id);

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/wallets/{id}/cards', tags: ['volunteers'],
  summary: 'Issue a new card (lost card): the old card and its sessions stop working at once',
  request: { params: IdParam },
  responses: { 201: jsonResponse(CardOut, 'The new card'), ...problems(401, 403, 404, 409) },
}), async (c) => {
  const { wallet } = await walletForStaff(c, c.req.valid('param').id);
  const card = await access.replaceCard(services(c), actor(c), wallet);
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
    // Only a replaced card refuses (409 card_replaced), and only to be unblocked.
    responses: { 200: jsonResponse(CardOut, 'The card'), ...problems(401, 403, 404, ...(action === 'unblock' ? [409] : [])) },
  }), async (c) => {
    const { card } = await cardForStaff(c, c.req.valid('param').code);
    return c.json(presentCard(c, await access.changeCard(services(c), actor(c), card, action)), 200);
  });
}

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/cards/{code}/pin', tags: ['volunteers'],
  summary: 'Set a new PIN for a card (a forgotten PIN): the card\'s lock ends; open sessions stay open',
  request: { params: CardParam, body: jsonBody(z.object({ pin: Pin })) },
  responses: { 200: jsonResponse(CardOut, 'The card'), ...problems(401, 403, 404, 409, 422) },
}), async (c) => {
  const { card } = await cardForStaff(c, c.req.valid('param').code);
  return c.json(presentCard(c, await access.setCardPin(services(c), actor(c), card, c.req.valid('json').pin)), 200);
});

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
  const cards = [];
  for (const { wallet, card } of await access.cardsToPrint(services(c), currency, c.req.queries('wallet') ?? [])) {
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
  const activity = await addActivity(services(c), actor(c), currency, input);
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
  const updated = await editActivity(services(c), actor(c), currency, activity, input);
  return c.json(presentActivity(updated, currency), 200);
});

// Sessions, claims by QR and awards by card --------------------------------------------------

const SessionOut = z.object({
  id: Uuid, activity: Uuid, hours: z.string().nullable(), reward: Amount, max_claims: z.number().int(),
  claims_count: z.number().int(), claim_token: z.string(), claim_url: z.string(), expires_at: z.string(),
  closed_at: z.string().nullable(),
  starts_at: z.string().nullable(), ends_at: z.string().nullable(), place: z.string().nullable(),
  public: z.boolean().openapi({ description: 'On the currency\'s public agenda (GET /currencies/{code}/agenda)' }),
}).openapi('ActivitySession');

/** When and where a session takes place, and whether the agenda shows it (null clears a time or the place). */
const ScheduleIn = {
  starts_at: DateTime.nullable().optional(),
  ends_at: DateTime.nullable().optional(),
  place: Text.trim().min(1).max(200).nullable().optional(),
  public: z.boolean().optional().openapi({ description: 'On the public agenda (default false); needs starts_at' }),
  expires_at: DateTime.optional().openapi({ description: 'Until when its claim QR works; default CLAIM_SESSION_TTL_S after the session ends (or starts, or now)' }),
};

async function presentSession(c: AppContext, session: ActivitySession, activity: Activity, currency: Currency) {
  const claim_token = await signClaimToken(c.get('deps').keys, { session_id: session.id, currency: currency.code }, session.expires_at);
  return {
    id: session.id, activity: activity.id, hours: session.hours,
    reward: formatAmount(rewardFor(activity, session.hours), currency.scale),
    max_claims: session.max_claims, claims_count: session.claims_count,
    claim_token, claim_url: `${c.get('deps').config.public_base_url}/claim#${claim_token}`,
    expires_at: session.expires_at.toISOString(), closed_at: session.closed_at?.toISOString() ?? null,
    starts_at: session.starts_at?.toISOString() ?? null, ends_at: session.ends_at?.toISOString() ?? null,
    place: session.place, public: session.public,
  };
}

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/activities/{id}/sessions', tags: ['volunteers'],
  summary: 'Open a session of an activity: a signed claim QR for its volunteers',
  request: {
    params: IdParam,
    body: { content: { 'application/json': { schema: z.object({
      hours: Hours.optional(), max_claims: z.number().int().min(1).max(10_000).optional(), ...ScheduleIn,
    }) } } },
  },
  responses: { 201: jsonResponse(SessionOut, 'Created'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { activity, currency } = await activityForStaff(c, c.req.valid('param').id);
  const session = await openSession(services(c), actor(c), currency, activity, c.req.valid('json'));
  return c.json(await presentSession(c, session, activity, currency), 201);
});

const SessionListItem = SessionOut.extend({
  activity_name: z.object({ nl: z.string(), en: z.string().optional(), fr: z.string().optional() }),
  open: z.boolean().openapi({ description: 'Still rewards: not ended, not expired, room left, its activity active' }),
}).openapi('ActivitySessionListItem');

const isSessionCursor = (v: unknown): v is { us: string; id: string } =>
  typeof v === 'object' && v !== null && isBigintCursor((v as { us?: unknown }).us)
  && typeof (v as { id?: unknown }).id === 'string' && uuid_pattern.test((v as { id: string }).id);

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/sessions', tags: ['volunteers'],
  summary: 'The claim sessions of a currency, newest first, from every device; open=true keeps those that still reward',
  request: { params: CodeParam, query: PageQuery.extend({ open: z.enum(['true', 'false']).optional() }) },
  responses: { 200: jsonResponse(pageOf(SessionListItem), 'A page of sessions'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const query = c.req.valid('query');
  const before = decodeCursor(query.cursor, isSessionCursor);
  const rows = await listActivitySessions(c.get('deps').sql, currency.id, {
    open: query.open === undefined ? undefined : query.open === 'true', before, limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const now = new Date();
  const items = [];
  for (const { session, activity } of page) {
    const open = session.closed_at === null && session.expires_at > now && session.claims_count < session.max_claims && activity.active;
    items.push({ ...(await presentSession(c, session, activity, currency)), activity_name: activity.name, open });
  }
  const last = rows.length > query.limit ? page.at(-1) : undefined;
  return c.json({ items, next_cursor: last === undefined ? null : encodeCursor(last.cursor) }, 200);
});

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
  method: 'patch', path: '/sessions/{id}', tags: ['volunteers'],
  summary: 'Change when and where a session takes place, until when its QR works, or whether the public agenda shows it',
  request: { params: IdParam, body: jsonBody(z.object(ScheduleIn)) },
  responses: { 200: jsonResponse(SessionOut, 'The session'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { session, activity, currency } = await sessionForStaff(c, c.req.valid('param').id);
  const updated = await editSession(services(c), actor(c), currency, session, c.req.valid('json'));
  return c.json(await presentSession(c, updated, activity, currency), 200);
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
  type Awarded = ReturnType<typeof presentTransfer> & { volunteer: { account: string; display_name: string } };
  return answer<Awarded, 201>(c, await awardByCard(services(c), actor(c), idempotencyOf(c, { session: session.id, ...input }),
    currency, session, activity, input,
    (transfer, wallet) => ({ ...presentTransfer(transfer, currency), volunteer: { account: wallet.account_id, display_name: wallet.display_name } })));
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

// Helpers (#20, point 4) -------------------------------------------------------------------------

const HelperOut = z.object({
  wallet: Uuid.openapi({ description: 'The helped volunteer\'s wallet' }),
  helper_wallet: Uuid, helper_name: z.string(),
  month_max: Amount.openapi({ description: 'What the helper may pay from the wallet a calendar month' }),
  spent_this_month: Amount, created_at: z.string(),
}).openapi('Helper');

volunteerRoutes.openapi(createRoute({
  method: 'get', path: '/wallets/{id}/helpers', tags: ['volunteers'],
  summary: 'The helpers of a volunteer: who may pay shops from this wallet, up to how much a month',
  request: { params: IdParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(HelperOut) }), 'The helpers'), ...problems(401, 403, 404) },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  const links = await helperLinks(services(c), currency, wallet.account_id, 'helped');
  const f = (minor: bigint) => formatAmount(minor, currency.scale);
  return c.json({
    items: links.map((l) => ({
      wallet: l.account_id, helper_wallet: l.helper_account_id, helper_name: l.display_name,
      month_max: f(l.month_max), spent_this_month: f(l.spent), created_at: l.created_at.toISOString(),
    })),
  }, 200);
});

volunteerRoutes.openapi(createRoute({
  method: 'post', path: '/wallets/{id}/helpers', tags: ['volunteers'],
  summary: 'Link a helper\'s wallet to this volunteer\'s: the helper may pay shops from it, up to month_max a calendar month (again: a new maximum)',
  request: { params: IdParam, body: jsonBody(z.object({ helper_wallet: Uuid, month_max: Amount })) },
  responses: { 201: jsonResponse(HelperOut, 'The link'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  const input = c.req.valid('json');
  const link = await linkHelper(services(c), actor(c), currency, wallet, input.helper_wallet, parseAmount(input.month_max, currency.scale, 'month_max'));
  return c.json({
    wallet: link.account_id, helper_wallet: link.helper_account_id, helper_name: link.display_name,
    month_max: formatAmount(link.month_max, currency.scale), spent_this_month: formatAmount(link.spent, currency.scale), created_at: link.created_at.toISOString(),
  }, 201);
});

volunteerRoutes.openapi(createRoute({
  method: 'delete', path: '/wallets/{id}/helpers/{helper_wallet}', tags: ['volunteers'],
  summary: 'End a helper\'s link at once: their next payment from this wallet is refused',
  request: { params: IdParam.extend({ helper_wallet: z.string().max(100) }) },
  responses: { 204: { description: 'Ended' }, ...problems(401, 403, 404) },
}), async (c) => {
  const { wallet, currency } = await walletForStaff(c, c.req.valid('param').id);
  await unlinkHelper(services(c), actor(c), currency, wallet, c.req.valid('param').helper_wallet);
  return c.body(null, 204);
});
