import { z } from '@hono/zod-openapi';
import { account_kinds, account_statuses, transfer_codes } from '../ledger/model.js';
import { csv_formats } from '../ledger/csv.js';
import { csv_languages } from '../ledger/csv-headers.js';
import { sepa_versions } from '../ledger/sepa.js';
import { expiring_days_ahead, validity_days_max } from '../ledger/expiry.js';

/** Shared request and response schemas; the OpenAPI document is generated from them. */

/** Bounds on strings a client can make large. */
export const name_length_max = 200;
export const memo_length_max = 500;
export const page_size_max = 500;
export const page_size_default = 50;
export const batch_size_max = 1000;

/** A UTF-16 surrogate without its other half: not a character, and not valid in jsonb. */
export const lone_surrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** U+200D joining two emoji (👩‍🔧, 🏳️‍🌈, ❤️‍🔥), after an optional VS16 and skin tone: it draws one emoji. */
const emoji_joiner = /(?<=\p{Extended_Pictographic}\uFE0F?[\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;
/** The tag characters of a subdivision flag (🏴 + "gbsct" + cancel tag = the flag of Scotland). */
const emoji_flag_tags = /(?<=\u{1F3F4})[\u{E0020}-\u{E007E}]+\u{E007F}/gu;
const format_character = /\p{Cf}/u;

/**
 * Whether `text` holds an invisible format character (Unicode category Cf): direction overrides
 * and isolates (U+202A–U+202E, U+2066–U+2069) that make "tnuocca" read as "account", zero-width
 * spaces and joiners (U+200B–U+200F), the word joiner and invisible operators (U+2060–U+2064),
 * U+FEFF, U+180E, the soft hyphen, tag characters and the rest of Cf. Kept: U+200D between two
 * emoji and the tags of a subdivision flag, the only places where they draw something visible.
 */
export function hasInvisibleFormatCharacter(text: string): boolean {
  return format_character.test(text.replace(emoji_joiner, '').replace(emoji_flag_tags, ''));
}

/**
 * Client text that reaches the database, stored NFC-normalised (a decomposed "a" + U+0308 is
 * stored as "ä", so names compare, search and sort as they read). PostgreSQL text and jsonb
 * cannot hold U+0000, and jsonb refuses a lone surrogate ("\ud800" in JSON), so both are refused
 * here (422 naming the field) instead of failing in SQL (500); so are invisible format characters,
 * which let a name or memo show other than it is (hasInvisibleFormatCharacter). Limits chained
 * after it (`.max()`) count the normalised text.
 */
export const Text = z.string()
  .refine((s) => !s.includes('\u0000'), 'must not contain the NUL character')
  .refine((s) => !lone_surrogate.test(s), 'must be valid Unicode text')
  .refine((s) => !hasInvisibleFormatCharacter(s),
    'must not contain invisible formatting characters (such as text direction overrides or zero-width spaces)')
  .normalize('NFC');

/**
 * An instant with its offset ("2025-01-31T12:00:00+01:00"), in the years 1 to 9999 (UTC):
 * PostgreSQL has no year 0, and JavaScript writes years past 9999 in a form it cannot read.
 */
export const DateTime = z.string().datetime({ offset: true }).refine((s) => {
  const year = new Date(s).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'must lie in the years 1 to 9999');

export const Amount = z.string().max(40).openapi({
  description: 'Decimal string in coin units, at most the currency scale decimals, e.g. "12.50"',
  example: '12.50',
});
export const EuroAmount = z.string().openapi({ example: '123.40' });
export const Uuid = z.string().uuid();
export const CurrencyCode = z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/).openapi({ example: 'TOR' });

/**
 * An RFC 9457 problem. Besides the standard members, a problem may carry the members below:
 * every member the service sends is listed here (the contract test holds responses to it).
 */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().openapi({ example: 'insufficient_funds' }),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional()
    .openapi({ description: 'validation_failed: each field that is wrong, and why' }),
  account_id: Uuid.optional().openapi({ description: 'The account a refused transfer is about' }),
  available: Amount.optional().openapi({ description: 'insufficient_funds: what the account can still spend' }),
  room: Amount.optional().openapi({ description: 'balance_max_exceeded: what the account can still receive' }),
  left: Amount.optional().openapi({ description: 'refund_exceeds_payment: what is left of the payment; volunteer_cap_exceeded, gift_limit_exceeded, helper_limit_exceeded: what is left of the cap or limit' }),
  left_minor: z.string().regex(/^-?[0-9]+$/).optional().openapi({ description: 'refund_exceeds_payment: `left` in minor units' }),
  balance: Amount.optional().openapi({ description: 'account_not_empty: the balance still in the account' }),
  pending: Amount.optional().openapi({ description: 'account_not_empty: what is reserved by pending transfers' }),
  cap: Amount.optional().openapi({ description: 'volunteer_cap_exceeded, gift_limit_exceeded, helper_limit_exceeded: the cap or limit that would be crossed' }),
  period: z.enum(['day', 'month', 'year']).optional().openapi({ description: 'volunteer_cap_exceeded, gift_limit_exceeded (day), helper_limit_exceeded (month): the period of that cap or limit' }),
  index: z.number().int().min(0).optional().openapi({ description: 'batch_item_failed: the position of the transfer that failed' }),
  item_code: z.string().optional().openapi({ description: 'batch_item_failed: the code of that transfer\'s failure' }),
  retry_after_s: z.number().int().min(0).optional().openapi({ description: 'rate_limited, card_locked: seconds until a new attempt is counted or the lock ends (also in Retry-After)' }),
  tries_left: z.number().int().min(0).optional().openapi({ description: 'a wrong PIN of a real card: tries left before the card locks' }),
  locked_until: z.union([z.string(), z.null()]).optional().openapi({ description: 'card_locked: when the lock ends by itself; null when it holds until a coordinator unlocks the card' }),
}).openapi('Problem');

/**
 * Optional to the validator but documented as required: a request without the key reaches the
 * route, which answers 400 `idempotency_key_missing` (and `idempotency_key_invalid` past 255
 * characters), as the API promises, instead of the validator's 422.
 */
export const IdempotencyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({
    param: { required: true },
    minLength: 1,
    maxLength: 255,
    description: 'Required (400 without it): 1–255 characters, chosen by the client per request. The same key and '
      + 'body replay the first response (Idempotency-Replayed: true); the same key with another body is 422.',
  }),
});

/** `?format=` of every CSV download. */
export const CsvFormatQuery = z.object({
  format: z.enum(csv_formats).default('csv').openapi({
    description: '`csv` (default): RFC 4180, comma separator, decimal point. `excel`: for a spreadsheet in Belgian '
      + 'conventions: `;` separator, decimal comma in the columns of amounts, euro amounts and hours (ids, IBANs and '
      + 'dates as they are), UTF-8 byte order mark. Both end records with CRLF and quote a field holding `,`, `;`, a tab, '
      + 'a double quote or a line break.',
  }),
  lang: z.enum(csv_languages).optional().openapi({
    description: 'For people: the header row in Dutch, English or French words, and the totals row\'s "total" as '
      + '"Totaal" / "Total". Without it the header is the documented column names, for programs. The rows are the same.',
  }),
});

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(page_size_max).default(page_size_default),
  cursor: z.string().max(500).optional(),
});

export const SepaVersion = z.enum(sepa_versions).openapi({
  description: 'The pain.001 version of the currency\'s SEPA payout files: `09` (pain.001.001.09, EPC132-08 2023 '
    + 'customer-to-PSP guidelines; the default) or `03` (pain.001.001.03, for a bank that does not take `09` yet)',
  example: '09',
});

export const Currency = z.object({
  id: z.number().int(),
  code: CurrencyCode,
  name: z.string(),
  scale: z.number().int(),
  euro_per_unit: z.string(),
  wallet_balance_max: Amount.nullable(),
  volunteer_cap_day: Amount.nullable(),
  volunteer_cap_year: Amount.nullable(),
  payment_request_ttl_s: z.number().int(),
  issuance_account: Uuid,
  payer: z.object({ name: z.string().nullable(), iban: z.string(), bic: z.string().nullable() }).nullable(),
  sepa_version: SepaVersion,
  validity_days: z.number().int().nullable().openapi({
    description: 'Days the coins in a wallet stay valid after they were earned (the daily run then takes them back); null: they never expire. Shops\' coins never expire.',
  }),
  validity_from: z.string().nullable().openapi({
    description: 'The local day (YYYY-MM-DD) from which the current validity counts for coins earned before it: a coin expires validity_days after the later of the day it was earned and this day',
  }),
  gifts_enabled: z.boolean().openapi({ description: 'Whether wallets may give coins to one another (POST /wallet/gifts); false unless an admin allows it' }),
  gift_day_max: Amount.nullable().openapi({ description: 'What one wallet may give in a local day (Europe/Brussels); null: no daily limit' }),
  created_at: z.string(),
}).openapi('Currency');

/** Days a currency's coins stay valid in wallets: 1 to ten years. */
export const ValidityDays = z.number().int().min(1).max(validity_days_max).openapi({
  description: `Days the coins in a wallet stay valid after they were earned (1–${validity_days_max}); a new validity counts from today for the coins already held`,
  example: 365,
});

/** Coins of a wallet that expire on a day. */
export const EarningRoom = z.object({
  day: Amount.nullable().openapi({ description: 'What the volunteer may still earn today; null: the currency sets no day cap' }),
  year: Amount.nullable().openapi({ description: 'What the volunteer may still earn this calendar year; null: no year cap' }),
  cap_day: Amount.nullable().openapi({ description: 'The day cap it is measured against' }),
  cap_year: Amount.nullable().openapi({ description: 'The year cap it is measured against' }),
}).nullable().openapi('EarningRoom', { description: 'Room left under the legal caps on volunteer allowances (as rewards are checked); null when the currency sets none' });

export const Expiring = z.array(z.object({
  amount: Amount,
  on: z.string().openapi({ description: 'The local day (YYYY-MM-DD) they expire and go back to the issuance account', example: '2026-03-03' }),
})).openapi({ description: `The days within the next ${expiring_days_ahead} on which coins of this wallet expire, soonest first (empty when none do)` });

export const Account = z.object({
  id: Uuid,
  currency: CurrencyCode,
  kind: z.enum(account_kinds),
  name: z.string(),
  balance: Amount,
  available: Amount,
  pending_debits: Amount,
  pending_credits: Amount,
  status: z.enum(account_statuses),
  status_reason: z.string().nullable().openapi({ description: 'Why a coordinator froze or closed it; null while active' }),
  created_at: z.string(),
}).openapi('Account');

export const Transfer = z.object({
  id: Uuid,
  currency: CurrencyCode,
  debit_account: Uuid,
  credit_account: Uuid,
  amount: Amount,
  code: z.enum(transfer_codes),
  memo: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  status: z.enum(['posted', 'pending', 'voided']),
  pending_id: Uuid.optional(),
  reverses: Uuid.optional(),
  created_by: z.string(),
  created_at: z.string(),
}).openapi('Transfer');

export const Entry = z.object({
  transfer_id: Uuid,
  amount: Amount.openapi({ description: 'Signed: negative when the account was debited' }),
  balance_after: Amount,
  code: z.enum(transfer_codes),
  memo: z.string().nullable(),
  counterparty: z.object({
    id: Uuid, name: z.string(),
    kind: z.enum(account_kinds).openapi({ description: 'issuance and programme accounts are named by screens in their own language' }),
  }),
  activity: z.object({ id: Uuid, name: z.record(z.string(), z.string()) }).nullable()
    .openapi({ description: 'For rewards: the activity, named per language' }),
  refund_of: Uuid.nullable().openapi({ description: 'For a refund: the payment it gives (part of) back' }),
  reverses: Uuid.nullable().openapi({ description: 'For a reversal: the transfer it takes back, in whole or in part (its amount says how much)' }),
  reversed: z.boolean().openapi({ description: 'A coordinator\'s correction reversed this transfer; it cannot be corrected again' }),
  on_behalf: z.object({
    helper: z.object({ id: Uuid, name: z.string() }), volunteer: z.object({ id: Uuid, name: z.string() }),
  }).nullable().openapi({ description: 'A payment a helper made from the wallet they help: "paid by <helper> for <volunteer>"' }),
  for_other: z.boolean().openapi({
    description: 'Only in a helper\'s own history (GET /wallet/entries): a payment it made from a wallet it helps. The amount left that '
      + 'wallet, not this one: it is not counted in this balance, and balance_after is this wallet\'s balance, unchanged',
  }),
  created_at: z.string(),
}).openapi('Entry');

export function pageOf<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

/** Standard error responses, by status. */
export function problems(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }> = {};
  for (const status of statuses) {
    out[status] = { description: 'Problem', content: { 'application/problem+json': { schema: Problem } } };
  }
  return out;
}

export function jsonBody<T extends z.ZodTypeAny>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } } as const;
}

export function jsonResponse<T extends z.ZodTypeAny>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** A card's PIN as typed: 4 to 6 digits. */
export const Pin = z.string().regex(/^[0-9]{4,6}$/, '4 to 6 digits');

/** A shop's cash-out request, as the shop's tablet and the coordinator see it. */
export const Redemption = z.object({
  id: Uuid, shop: Uuid, status: z.enum(['pending', 'approved', 'rejected', 'reversed']), amount: Amount, euro_amount: EuroAmount,
  transfer_id: Uuid, created_at: z.string(), decided_at: z.string().nullable(),
}).openapi('Redemption');
