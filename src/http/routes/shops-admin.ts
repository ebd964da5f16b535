import { randomBytes } from 'node:crypto';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppContext, AppEnv } from '../context.js';
import { requireAdmin } from '../auth.js';
import {
  accountForStaff, currencyForStaff, payoutExportNamed, payoutExportOf, redemptionForStaff, shopForStaff,
} from '../lookup.js';
import {
  Account, Amount, CsvFormatQuery, Currency as CurrencyOut, EuroAmount, Redemption, SepaVersion, Text, Uuid, ValidityDays, jsonBody, jsonResponse, problems,
} from '../schemas.js';
import { presentAccount, presentCurrency, presentRedemption } from '../present.js';
import { DomainError } from '../../ledger/errors.js';
import type { Currency } from '../../ledger/model.js';
import { formatIban, isValidIban, normalizeIban } from '../../ledger/iban.js';
import { bic_pattern, sepaText } from '../../ledger/sepa.js';
import { csvDocument, csvFileName } from '../../ledger/csv.js';
import { actor, services } from '../idempotency.js';
import * as access from '../../app/access.js';
import * as coordination from '../../app/coordination.js';
import { bankFile, decideCashOut, exportPayouts } from '../../app/cashouts.js';
import { findCurrency, listAccounts } from '../../db/ledger.js';
import { findShop, listDevices, listPayouts, listRedemptions } from '../../db/shops.js';
import type { Payout, PayoutExport, Shop } from '../../db/shops.js';

export const shopAdminRoutes = new OpenAPIHono<AppEnv>();

const CodeParam = z.object({ code: z.string().max(20) });
const IdParam = z.object({ id: z.string().max(100) });

const Iban = z.string().max(50).transform(normalizeIban).refine(isValidIban, 'not a valid IBAN (ISO 13616 check failed)');

const ShopOut = z.object({
  account: Account, name: z.string(), iban: z.string().nullable(), address: z.string().nullable(), contact: z.string().nullable(),
}).openapi('Shop');

async function presentShop(c: AppContext, shop: Shop, currency: Currency) {
  const { account } = await accountForStaff(c, shop.account_id);
  return {
    account: presentAccount(account, currency), name: shop.name,
    iban: shop.iban === null ? null : formatIban(shop.iban), address: shop.address, contact: shop.contact,
  };
}

shopAdminRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/shops', tags: ['shops'],
  summary: 'Register a shop and get a pairing code for its first tablet',
  request: {
    params: CodeParam,
    body: jsonBody(z.object({
      name: Text.trim().min(1).max(200), iban: Iban.optional(), address: Text.max(500).optional(), contact: Text.max(200).optional(),
    })),
  },
  responses: {
    201: jsonResponse(ShopOut.extend({ pairing_code: z.string(), pairing_expires_at: z.string() }), 'Created'),
    ...problems(401, 403, 404, 422),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const { shop, pairing } = await coordination.registerShop(services(c), actor(c), currency, c.req.valid('json'));
  return c.json({ ...(await presentShop(c, shop, currency)), pairing_code: pairing.pairing_code, pairing_expires_at: pairing.expires_at.toISOString() }, 201);
});

shopAdminRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/shops', tags: ['shops'],
  summary: 'The shops of a currency',
  request: { params: CodeParam },
  responses: { 200: jsonResponse(z.object({ items: z.array(ShopOut) }), 'Shops'), ...problems(401, 403, 404) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const sql = c.get('deps').sql;
  const accounts = await listAccounts(sql, currency.id, { kind: 'shop', limit: 500 });
  const items = [];
  for (const account of accounts) {
    const shop = await findShop(sql, account.id);
    if (shop !== undefined) {
      items.push({ account: presentAccount(account, currency), name: shop.name, iban: shop.iban === null ? null : formatIban(shop.iban), address: shop.address, contact: shop.contact });
    }
  }
  return c.json({ items }, 200);
});

shopAdminRoutes.openapi(createRoute({
  method: 'get', path: '/shops/{id}', tags: ['shops'],
  summary: 'One shop',
  request: { params: IdParam },
  responses: { 200: jsonResponse(ShopOut, 'The shop'), ...problems(401, 403, 404) },
}), async (c) => {
  const { shop, currency } = await shopForStaff(c, c.req.valid('param').id);
  return c.json(await presentShop(c, shop, currency), 200);
});

shopAdminRoutes.openapi(createRoute({
  method: 'patch', path: '/shops/{id}', tags: ['shops'],
  summary: 'Change a shop\'s name, IBAN, address or contact',
  request: {
    params: IdParam,
    body: jsonBody(z.object({
      name: Text.trim().min(1).max(200).optional(), iban: Iban.nullable().optional(),
      address: Text.max(500).nullable().optional(), contact: Text.max(200).nullable().optional(),
    })),
  },
  responses: { 200: jsonResponse(ShopOut, 'The shop'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { shop, currency } = await shopForStaff(c, c.req.valid('param').id);
  const updated = await coordination.editShop(services(c), actor(c), shop, c.req.valid('json'));
  return c.json(await presentShop(c, updated, currency), 200);
});

shopAdminRoutes.openapi(createRoute({
  method: 'post', path: '/shops/{id}/pairing-codes', tags: ['shops'],
  summary: 'A new single-use pairing code for another tablet of the shop',
  request: { params: IdParam },
  responses: { 201: jsonResponse(z.object({ pairing_code: z.string(), expires_at: z.string() }), 'Created'), ...problems(401, 403, 404) },
}), async (c) => {
  const { shop } = await shopForStaff(c, c.req.valid('param').id);
  const pairing = await access.newPairingCode(services(c), actor(c), shop);
  return c.json({ pairing_code: pairing.pairing_code, expires_at: pairing.expires_at.toISOString() }, 201);
});

shopAdminRoutes.openapi(createRoute({
  method: 'get', path: '/shops/{id}/devices', tags: ['shops'],
  summary: 'The paired tablets of a shop',
  request: { params: IdParam },
  responses: {
    200: jsonResponse(z.object({ items: z.array(z.object({ id: Uuid, name: z.string(), created_at: z.string(), last_seen_at: z.string() })) }), 'Devices'),
    ...problems(401, 403, 404),
  },
}), async (c) => {
  const { shop } = await shopForStaff(c, c.req.valid('param').id);
  const devices = await listDevices(c.get('deps').sql, shop);
  return c.json({
    items: devices.map((d) => ({ id: d.id, name: d.name, created_at: d.created_at.toISOString(), last_seen_at: d.last_seen_at.toISOString() })),
  }, 200);
});

shopAdminRoutes.openapi(createRoute({
  method: 'delete', path: '/shops/{id}/devices/{device}', tags: ['shops'],
  summary: 'Unpair a tablet: its token stops working at once',
  request: { params: z.object({ id: z.string().max(100), device: z.string().max(100) }) },
  responses: { 204: { description: 'Revoked' }, ...problems(401, 403, 404) },
}), async (c) => {
  const { id, device } = c.req.valid('param');
  const { shop } = await shopForStaff(c, id);
  await access.unpairTablet(services(c), actor(c), shop, device, 'coordinator');
  return c.body(null, 204);
});

// Cash-out: redemptions and payouts ---------------------------------------------------------

shopAdminRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/redemptions', tags: ['shops'],
  summary: 'Cash-out requests, newest first (filter by status)',
  request: { params: CodeParam, query: z.object({ status: z.enum(['pending', 'approved', 'rejected', 'reversed']).optional() }) },
  responses: { 200: jsonResponse(z.object({ items: z.array(Redemption) }), 'Redemptions'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const rows = await listRedemptions(c.get('deps').sql, currency.id, { status: c.req.valid('query').status }, 500);
  return c.json({ items: rows.map((r) => presentRedemption(r, currency)) }, 200);
});

const PayoutOut = z.object({
  id: Uuid, redemption: Uuid, shop: z.object({ account: Uuid, name: z.string() }), iban: z.string().nullable(),
  euro_amount: EuroAmount, reference: z.string(), exported_at: z.string().nullable(), export_id: Uuid.nullable(),
  cancelled_at: z.string().nullable().openapi({ description: 'Set when the approved cash-out was reversed before this payout was exported' }),
}).openapi('Payout');

function presentPayout(payout: Payout) {
  return {
    id: payout.id, redemption: payout.redemption_id, shop: { account: payout.shop_account_id, name: payout.shop_name },
    iban: payout.iban, euro_amount: payout.euro_amount, reference: payout.reference,
    exported_at: payout.exported_at?.toISOString() ?? null, export_id: payout.export_id,
    cancelled_at: payout.cancelled_at?.toISOString() ?? null,
  };
}

for (const decision of ['approve', 'reject'] as const) {
  shopAdminRoutes.openapi(createRoute({
    method: 'post', path: `/redemptions/{id}/${decision}`, tags: ['shops'],
    summary: decision === 'approve'
      ? 'Approve a cash-out: the coins return to issuance and a payout of exact euros is due'
      : 'Reject a cash-out: the reserved coins are released to the shop',
    request: { params: IdParam },
    responses: {
      200: jsonResponse(z.object({ redemption: Redemption, payout: z.union([PayoutOut, z.null()]) }), 'Decided'),
      ...problems(401, 403, 404, 409),
    },
  }), async (c) => {
    const { redemption, currency } = await redemptionForStaff(c, c.req.valid('param').id);
    const result = await decideCashOut(services(c), actor(c), currency, redemption.id, decision);
    return c.json({
      redemption: presentRedemption(result.redemption, currency),
      payout: result.payout === undefined ? null : presentPayout(result.payout),
    }, 200);
  });
}

shopAdminRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/payouts', tags: ['shops'],
  summary: 'Payouts of a currency; `unexported=true` for those not sent to the bank yet',
  request: { params: CodeParam, query: z.object({ unexported: z.enum(['true', 'false']).optional() }) },
  responses: { 200: jsonResponse(z.object({ items: z.array(PayoutOut) }), 'Payouts'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const rows = await listPayouts(c.get('deps').sql, currency.id, { unexported: c.req.valid('query').unexported === 'true' });
  return c.json({ items: rows.map(presentPayout) }, 200);
});

const ExportOut = z.object({
  id: Uuid, message_id: z.string(), payouts_count: z.number().int(), total_euros: EuroAmount, created_at: z.string(),
  csv_url: z.string(), xml_url: z.string(),
}).openapi('PayoutExport');

function presentExport(currency: Currency, exported: PayoutExport) {
  const base = `/api/v1/currencies/${currency.code}/payouts`;
  return {
    id: exported.id, message_id: exported.message_id, payouts_count: exported.payouts_count,
    total_euros: exported.total_euros, created_at: exported.created_at.toISOString(),
    csv_url: `${base}.csv?export=${exported.id}`, xml_url: `${base}.xml?export=${exported.id}`,
  };
}

shopAdminRoutes.openapi(createRoute({
  method: 'post', path: '/currencies/{code}/payout-exports', tags: ['shops'],
  summary: 'Put every payout not exported yet into one bank export (each payout is exported once)',
  request: { params: CodeParam },
  responses: { 201: jsonResponse(ExportOut, 'Created'), ...problems(401, 403, 404, 409, 422) },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  return c.json(presentExport(currency, await exportPayouts(services(c), actor(c), currency)), 201);
});

shopAdminRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/payouts.csv', tags: ['shops'],
  summary: 'Payouts as CSV: those of one export (`export=`), or all of the currency; `format=excel` for Excel in Belgian conventions',
  request: { params: CodeParam, query: CsvFormatQuery.extend({ export: z.string().max(100).optional() }) },
  responses: {
    200: {
      description: 'CSV: RFC 4180 (`format=csv`, the default), or for Excel (`format=excel`: `;` separator, decimal comma in '
        + '`euro_amount`, UTF-8 byte order mark); CRLF in both',
      content: { 'text/csv': { schema: z.string() } },
    },
    ...problems(401, 403, 404, 422),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const query = c.req.valid('query');
  const exported = await payoutExportOf(c, currency, query.export);
  const payouts = await listPayouts(c.get('deps').sql, currency.id, { export_id: exported?.id });
  const layout = {
    header: ['payout_id', 'shop', 'iban', 'euro_amount', 'reference', 'redemption_id', 'created_at', 'export_id', 'exported_at'],
    decimals: ['euro_amount'],
  };
  const csv = csvDocument(layout, payouts.map((p) => [
    p.id, p.shop_name, p.iban, p.euro_amount, p.reference, p.redemption_id, p.created_at.toISOString(), p.export_id,
    p.exported_at?.toISOString() ?? null,
  ]), query.format, query.lang);
  c.header('Content-Type', 'text/csv; charset=utf-8');
  const name = `payouts-${currency.code}${exported === undefined ? '' : `-${exported.message_id}`}`;
  c.header('Content-Disposition', `attachment; filename="${csvFileName(name, query.format)}"`);
  return c.body(csv, 200) as never;
});

/** The export a download names: required, since only POST /payout-exports makes one (a GET changes nothing). */
const ExportToDownload = z.object({
  export: z.string({
    error: (issue) => (issue.input === undefined
      ? 'required: create an export with POST /currencies/{code}/payout-exports first, then download its xml_url'
      : undefined),
  }).min(1).max(100).openapi({ description: 'Id of an export made by POST /currencies/{code}/payout-exports' }),
});

shopAdminRoutes.openapi(createRoute({
  method: 'get', path: '/currencies/{code}/payouts.xml', tags: ['shops'],
  summary: 'SEPA credit transfer file (pain.001.001.09, or .03 where the currency\'s `sepa_version` says so) of one export (`export=`, required); '
    + 'POST /currencies/{code}/payout-exports makes the export',
  request: { params: CodeParam, query: ExportToDownload },
  responses: {
    200: {
      description: 'pain.001 XML',
      headers: { 'Wijkmunt-Export-Id': { description: 'Id of the export the file belongs to', schema: { type: 'string', format: 'uuid' } } },
      content: { 'application/xml': { schema: z.string() } },
    },
    ...problems(401, 403, 404, 422),
  },
}), async (c) => {
  const { currency } = await currencyForStaff(c, c.req.valid('param').code);
  const exported = await payoutExportNamed(c, currency, c.req.valid('query').export);
  const xml = await bankFile(services(c), currency, exported);
  c.header('Content-Type', 'application/xml; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${exported.message_id}.xml"`);
  c.header('Wijkmunt-Export-Id', exported.id);
  return c.body(xml, 200) as never;
});

// Currency settings for shops -----------------------------------------------------------------

shopAdminRoutes.openapi(createRoute({
  method: 'patch', path: '/currencies/{code}', tags: ['currencies'],
  summary: 'Change a currency\'s name, payment request expiry, paying account and pain.001 version for SEPA files, how long coins stay valid in wallets, the caps on volunteer allowances, or its gifts between wallets (admin)',
  request: {
    params: CodeParam,
    body: jsonBody(z.object({
      name: Text.trim().min(1).max(200).optional(),
      payment_request_ttl_s: z.number().int().min(10).max(86_400).optional(),
      payer_name: Text.trim().min(1).max(70).refine((s) => sepaText(s, 70) !== '', 'must hold letters or digits a bank can print (SEPA)').optional(),
      payer_iban: Iban.optional(),
      payer_bic: z.string().regex(bic_pattern, 'a BIC of 8 or 11 characters (ISO 9362, as SEPA files accept it)').optional(),
      sepa_version: SepaVersion.optional(),
      validity_days: ValidityDays.nullable().optional().openapi({ description: 'null: coins never expire' }),
      volunteer_cap_day: Amount.nullable().optional().openapi({ description: 'Most a volunteer earns a day; null: no cap' }),
      volunteer_cap_year: Amount.nullable().optional().openapi({ description: 'Most a volunteer earns a calendar year; null: no cap' }),
      gifts_enabled: z.boolean().optional().openapi({ description: 'Whether wallets may give coins to one another' }),
      gift_day_max: Amount.nullable().optional().openapi({ description: 'What one wallet may give a day; null: no daily limit' }),
    })),
  },
  responses: { 200: jsonResponse(CurrencyOut, 'The currency'), ...problems(401, 403, 404, 422) },
}), async (c) => {
  requireAdmin(c);
  const code = c.req.valid('param').code;
  const currency = await findCurrency(c.get('deps').sql, code);
  if (currency === undefined) throw new DomainError('currency_not_found', `no currency ${code}`);
  const updated = await coordination.changeCurrency(services(c), actor(c), currency, c.req.valid('json'));
  return c.json(presentCurrency(updated), 200);
});
