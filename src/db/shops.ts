import { randomUUID } from 'node:crypto';
import type { Queryable, Sql } from './client.js';
import { transaction } from './client.js';
import { DomainError, assert } from '../ledger/errors.js';
import type { Account, Currency } from '../ledger/model.js';

export interface Shop {
  currency_id: number;
  account_id: string;
  name: string;
  iban: string | null;
  address: string | null;
  contact: string | null;
  created_at: Date;
}

export interface Device {
  currency_id: number;
  id: string;
  shop_account_id: string;
  name: string;
  created_at: Date;
  last_seen_at: Date;
  revoked_at: Date | null;
}

export type PaymentRequestStatus = 'open' | 'paid' | 'cancelled' | 'expired';

export interface PaymentRequest {
  currency_id: number;
  id: string;
  shop_account_id: string;
  device_id: string | null;
  amount: bigint;
  memo: string | null;
  status: PaymentRequestStatus;
  expires_at: Date;
  transfer_id: string | null;
  paid_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The status a client sees: an open request past its expiry is expired. */
export function effectiveStatus(request: PaymentRequest, now = new Date()): PaymentRequestStatus {
  return request.status === 'open' && request.expires_at <= now ? 'expired' : request.status;
}

/** Channel of payment request status changes (LISTEN/NOTIFY): payload "<id>:<status>". */
export const payment_request_channel = 'wm_payment_request';

// Shops, pairing codes, devices ------------------------------------------------------------

export async function insertShop(
  sql: Sql, currency: Currency, input: { name: string; iban: string | null; address: string | null; contact: string | null },
): Promise<{ account: Account; shop: Shop }> {
  return transaction(sql, async (tx) => {
    const [account] = await tx<Account[]>`
      INSERT INTO accounts (currency_id, id, kind, name) VALUES (${currency.id}, ${randomUUID()}, 'shop', ${input.name})
      RETURNING *`;
    assert(account !== undefined, 'insert returns the account');
    const [shop] = await tx<Shop[]>`
      INSERT INTO shops (currency_id, account_id, name, iban, address, contact)
      VALUES (${currency.id}, ${account.id}, ${input.name}, ${input.iban}, ${input.address}, ${input.contact})
      RETURNING *`;
    assert(shop !== undefined, 'insert returns the shop');
    return { account, shop };
  });
}

export async function findShop(sql: Queryable, account_id: string): Promise<Shop | undefined> {
  const [row] = await sql<Shop[]>`SELECT * FROM shops WHERE account_id = ${account_id}`;
  return row;
}

export async function updateShop(sql: Queryable, shop: Shop, changes: Partial<Pick<Shop, 'name' | 'iban' | 'address' | 'contact'>>): Promise<Shop> {
  const next = { ...shop, ...changes };
  const [row] = await sql<Shop[]>`
    UPDATE shops SET name = ${next.name}, iban = ${next.iban}, address = ${next.address}, contact = ${next.contact}
    WHERE currency_id = ${shop.currency_id} AND account_id = ${shop.account_id}
    RETURNING *`;
  assert(row !== undefined, 'the shop exists');
  if (changes.name !== undefined) {
    await sql`UPDATE accounts SET name = ${changes.name} WHERE currency_id = ${shop.currency_id} AND id = ${shop.account_id}`;
  }
  return row;
}

export async function insertPairingCode(sql: Queryable, shop: Shop, code: string, expires_at: Date, created_by: string): Promise<void> {
  await sql`INSERT INTO pairing_codes (currency_id, code, shop_account_id, expires_at, created_by)
            VALUES (${shop.currency_id}, ${code}, ${shop.account_id}, ${expires_at}, ${created_by})`;
}

/**
 * Uses a pairing code and registers the device in one transaction: a code pairs exactly one
 * tablet, even when two type it at the same moment.
 */
export async function pairDevice(sql: Sql, code: string, device_name: string): Promise<Device | undefined> {
  return transaction(sql, async (tx) => {
    const [used] = await tx<{ currency_id: number; shop_account_id: string }[]>`
      UPDATE pairing_codes SET used_at = now()
      WHERE code = ${code} AND used_at IS NULL AND expires_at > now()
      RETURNING currency_id, shop_account_id`;
    if (used === undefined) return undefined;
    const [device] = await tx<Device[]>`
      INSERT INTO devices (currency_id, id, shop_account_id, name)
      VALUES (${used.currency_id}, ${randomUUID()}, ${used.shop_account_id}, ${device_name})
      RETURNING *`;
    return device;
  });
}

export async function findDevice(sql: Queryable, id: string): Promise<Device | undefined> {
  const [row] = await sql<Device[]>`SELECT * FROM devices WHERE id = ${id}`;
  return row;
}

/** The devices that may act now (not revoked), by id; marks each seen at most once a minute. */
export async function findLiveDevices(sql: Queryable, ids: readonly string[]): Promise<Map<string, Device>> {
  const rows = await sql<Device[]>`SELECT * FROM devices WHERE id = ANY(${ids as string[]}::uuid[]) AND revoked_at IS NULL`;
  const stale = rows.filter((row) => Date.now() - row.last_seen_at.getTime() > 60_000);
  if (stale.length > 0) {
    await sql`UPDATE devices SET last_seen_at = now() WHERE (currency_id, id) IN (
      SELECT * FROM unnest(${stale.map((d) => d.currency_id)}::int[], ${stale.map((d) => d.id)}::uuid[]))`;
  }
  return new Map(rows.map((row) => [row.id, row]));
}

export async function listDevices(sql: Queryable, shop: Shop): Promise<Device[]> {
  return sql<Device[]>`
    SELECT * FROM devices WHERE currency_id = ${shop.currency_id} AND shop_account_id = ${shop.account_id}
      AND revoked_at IS NULL
    ORDER BY created_at`;
}

export async function revokeDevice(sql: Queryable, shop: Shop, device_id: string): Promise<boolean> {
  const rows = await sql`
    UPDATE devices SET revoked_at = now()
    WHERE currency_id = ${shop.currency_id} AND shop_account_id = ${shop.account_id} AND id = ${device_id} AND revoked_at IS NULL
    RETURNING id`;
  return rows.length === 1;
}

// Payment requests ---------------------------------------------------------------------------

export async function insertPaymentRequest(
  sql: Queryable, device: Device, input: { amount: bigint; memo: string | null; expires_at: Date },
): Promise<PaymentRequest> {
  const [row] = await sql<PaymentRequest[]>`
    INSERT INTO payment_requests (currency_id, id, shop_account_id, device_id, amount, memo, expires_at)
    VALUES (${device.currency_id}, ${randomUUID()}, ${device.shop_account_id}, ${device.id}, ${input.amount}, ${input.memo}, ${input.expires_at})
    RETURNING *`;
  assert(row !== undefined, 'insert returns the payment request');
  return row;
}

export async function findPaymentRequest(sql: Queryable, id: string): Promise<PaymentRequest | undefined> {
  const [row] = await sql<PaymentRequest[]>`SELECT * FROM payment_requests WHERE id = ${id}`;
  return row;
}

function refuseUnpayable(request: PaymentRequest): void {
  const status = effectiveStatus(request);
  if (status === 'paid') throw new DomainError('already_paid', 'this payment request was already paid');
  if (status === 'cancelled') throw new DomainError('cancelled', 'the shop cancelled this payment request');
  if (status === 'expired') throw new DomainError('expired', 'this payment request has expired; ask the shop for a new one');
}

/** Cancels an open request; paid or expired ones cannot be cancelled. */
export async function cancelPaymentRequest(sql: Sql, request: PaymentRequest): Promise<PaymentRequest> {
  return transaction(sql, async (tx) => {
    const [locked] = await tx<PaymentRequest[]>`
      SELECT * FROM payment_requests WHERE currency_id = ${request.currency_id} AND id = ${request.id} FOR UPDATE`;
    assert(locked !== undefined, 'the payment request exists');
    if (effectiveStatus(locked) === 'cancelled') return locked;
    refuseUnpayable(locked);
    const [row] = await tx<PaymentRequest[]>`
      UPDATE payment_requests SET status = 'cancelled', updated_at = now()
      WHERE currency_id = ${request.currency_id} AND id = ${request.id}
      RETURNING *`;
    await tx`SELECT pg_notify(${payment_request_channel}, ${`${request.id}:cancelled`})`;
    assert(row !== undefined, 'the locked request is updated');
    return row;
  });
}

// Takings ------------------------------------------------------------------------------------

export interface Takings {
  device_id: string | null;
  device_name: string | null;
  payments: bigint;
  payments_count: number;
  refunds: bigint;
}

/** Today's payments and refunds of a shop per device (local day in Belgium). */
export async function takingsToday(sql: Queryable, shop: Shop): Promise<Takings[]> {
  return sql<Takings[]>`
    SELECT t.metadata->>'device_id' AS device_id, d.name AS device_name,
           coalesce(sum(t.amount) FILTER (WHERE t.code = 'payment'), 0)::bigint AS payments,
           count(*) FILTER (WHERE t.code = 'payment')::int AS payments_count,
           coalesce(sum(t.amount) FILTER (WHERE t.code = 'refund'), 0)::bigint AS refunds
    FROM entries e
    JOIN transfers t ON t.currency_id = e.currency_id AND t.id = e.transfer_id
    LEFT JOIN devices d ON d.currency_id = t.currency_id AND d.id::text = t.metadata->>'device_id'
    WHERE e.currency_id = ${shop.currency_id} AND e.account_id = ${shop.account_id}
      AND e.created_at >= (date_trunc('day', now() AT TIME ZONE 'Europe/Brussels') AT TIME ZONE 'Europe/Brussels')
      AND t.code IN ('payment', 'refund')
    GROUP BY 1, 2
    ORDER BY 2 NULLS LAST`;
}

// Redemptions and payouts ------------------------------------------------------------------

export interface Redemption {
  currency_id: number;
  id: string;
  shop_account_id: string;
  transfer_id: string;
  amount: bigint;
  status: 'pending' | 'approved' | 'rejected' | 'reversed';
  requested_by: string;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
}

export interface Payout {
  currency_id: number;
  id: string;
  redemption_id: string;
  shop_account_id: string;
  shop_name: string;
  iban: string | null;
  euro_amount: string;
  reference: string;
  export_id: string | null;
  exported_at: Date | null;
  /** Set when the approved cash-out was reversed before the payout was exported. */
  cancelled_at: Date | null;
  created_at: Date;
}

/** Records a cash-out whose coins the pipeline reserved (a pending transfer shop → issuance). */
export async function insertRedemption(
  tx: Queryable, redemption: { id: string; currency_id: number; shop_account_id: string; transfer_id: string; amount: bigint; requested_by: string },
): Promise<Redemption> {
  const [row] = await tx<Redemption[]>`
    INSERT INTO redemptions (currency_id, id, shop_account_id, transfer_id, amount, requested_by)
    VALUES (${redemption.currency_id}, ${redemption.id}, ${redemption.shop_account_id}, ${redemption.transfer_id},
            ${redemption.amount}, ${redemption.requested_by})
    RETURNING *`;
  assert(row !== undefined, 'insert returns the redemption');
  return row;
}

export async function findRedemption(sql: Queryable, id: string): Promise<Redemption | undefined> {
  const [row] = await sql<Redemption[]>`SELECT * FROM redemptions WHERE id = ${id}`;
  return row;
}

export async function listRedemptions(
  sql: Queryable, currency_id: number, filter: { shop_account_id?: string; status?: Redemption['status'] }, limit: number,
): Promise<Redemption[]> {
  return sql<Redemption[]>`
    SELECT * FROM redemptions
    WHERE currency_id = ${currency_id}
      AND (${filter.shop_account_id ?? null}::uuid IS NULL OR shop_account_id = ${filter.shop_account_id ?? null}::uuid)
      AND (${filter.status ?? null}::text IS NULL OR status = ${filter.status ?? null}::text)
    ORDER BY created_at DESC
    LIMIT ${limit}`;
}

/** A cash-out and its payout, locked in this order for the rest of the caller's transaction. */
export async function lockRedemption(tx: Queryable, currency_id: number, id: string): Promise<{ redemption: Redemption; payout: Payout | undefined } | undefined> {
  const [redemption] = await tx<Redemption[]>`
    SELECT * FROM redemptions WHERE currency_id = ${currency_id} AND id = ${id} FOR UPDATE`;
  if (redemption === undefined) return undefined;
  const [payout] = await tx<Payout[]>`
    SELECT * FROM payouts WHERE currency_id = ${currency_id} AND redemption_id = ${id} FOR UPDATE`;
  return { redemption, payout };
}

export async function markRedemption(
  tx: Queryable, redemption: Redemption, status: Exclude<Redemption['status'], 'pending'>, actor: string,
): Promise<Redemption> {
  const [row] = await tx<Redemption[]>`
    UPDATE redemptions SET status = ${status}, decided_by = coalesce(decided_by, ${actor}), decided_at = coalesce(decided_at, now())
    WHERE currency_id = ${redemption.currency_id} AND id = ${redemption.id}
    RETURNING *`;
  assert(row !== undefined, 'the locked redemption is updated');
  return row;
}

export async function insertPayout(
  tx: Queryable, redemption: Redemption, payout: { id: string; euro_amount: string; reference: string; shop: Shop },
): Promise<Payout> {
  const [row] = await tx<Payout[]>`
    INSERT INTO payouts (currency_id, id, redemption_id, shop_account_id, shop_name, iban, euro_amount, reference)
    VALUES (${redemption.currency_id}, ${payout.id}, ${redemption.id}, ${payout.shop.account_id}, ${payout.shop.name},
            ${payout.shop.iban}, ${payout.euro_amount}, ${payout.reference})
    RETURNING *`;
  assert(row !== undefined, 'insert returns the payout');
  return row;
}

/** A payout not yet exported is cancelled; the CHECK of payouts keeps it out of every export. */
export async function cancelPayout(tx: Queryable, payout: Payout): Promise<Payout> {
  const [row] = await tx<Payout[]>`
    UPDATE payouts SET cancelled_at = now()
    WHERE currency_id = ${payout.currency_id} AND id = ${payout.id} AND export_id IS NULL
    RETURNING *`;
  assert(row !== undefined, 'a locked payout not exported is cancelled');
  return row;
}

export async function listPayouts(sql: Queryable, currency_id: number, filter: { export_id?: string; unexported?: boolean }): Promise<Payout[]> {
  return sql<Payout[]>`
    SELECT * FROM payouts
    WHERE currency_id = ${currency_id}
      AND (${filter.export_id ?? null}::uuid IS NULL OR export_id = ${filter.export_id ?? null}::uuid)
      AND (${filter.unexported ?? false} = false OR (export_id IS NULL AND cancelled_at IS NULL))
    ORDER BY created_at, id`;
}

export interface PayoutExport {
  currency_id: number;
  id: string;
  message_id: string;
  payouts_count: number;
  total_euros: string;
  created_by: string;
  created_at: Date;
}

/**
 * Puts every payable payout (with an IBAN and a positive amount) not exported yet into a new
 * export, once: concurrent exports lock the payout rows, so no payout lands in two exports.
 * Undefined when there is nothing to export.
 */
export async function createPayoutExport(sql: Sql, currency: Currency, actor: string, message_id: (id: string) => string): Promise<PayoutExport | undefined> {
  return transaction(sql, async (tx) => {
    const pending = await tx<{ id: string; euro_amount: string }[]>`
      SELECT id, euro_amount FROM payouts
      WHERE currency_id = ${currency.id} AND export_id IS NULL AND cancelled_at IS NULL AND iban IS NOT NULL AND euro_amount > 0
      ORDER BY created_at, id FOR UPDATE`;
    if (pending.length === 0) return undefined;
    const id = randomUUID();
    const [created] = await tx<PayoutExport[]>`
      INSERT INTO payout_exports (currency_id, id, message_id, payouts_count, total_euros, created_by)
      SELECT ${currency.id}, ${id}, ${message_id(id)}, count(*), sum(euro_amount), ${actor}
      FROM payouts WHERE currency_id = ${currency.id} AND id = ANY(${pending.map((p) => p.id)}::uuid[])
      RETURNING *`;
    await tx`UPDATE payouts SET export_id = ${id}, exported_at = now()
             WHERE currency_id = ${currency.id} AND id = ANY(${pending.map((p) => p.id)}::uuid[])`;
    return created;
  });
}

export async function findPayoutExport(sql: Queryable, currency_id: number, id: string): Promise<PayoutExport | undefined> {
  const [row] = await sql<PayoutExport[]>`SELECT * FROM payout_exports WHERE currency_id = ${currency_id} AND id = ${id}`;
  return row;
}
