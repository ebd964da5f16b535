import { createHash } from 'node:crypto';

/**
 * Tamper evidence. Each transfer has a canonical encoding and a SHA-256 hash; a seal hashes
 * the previous seal's hash with the hashes of the transfers it covers, so changing, removing or
 * adding a sealed transfer, or a seal, breaks the chain. docs/audit.md explains how an auditor
 * recomputes it independently.
 */

/** Hash before the first seal of a currency. */
export const genesis_hash = '0'.repeat(64);

/** The fields of a transfer that are sealed, as stored. */
export interface SealedTransfer {
  id: string;
  currency_code: string;
  debit_account_id: string;
  credit_account_id: string;
  /** Minor units, as a decimal string. */
  amount: string;
  code: string;
  phase: string;
  pending_id: string | null;
  reverses_id: string | null;
  memo: string | null;
  metadata: unknown;
  created_by: string;
  /** UTC with microseconds: 2026-11-26T10:00:00.123456Z. */
  created_at: string;
}

/**
 * JSON with object keys sorted by UTF-16 code units and no insignificant whitespace (the
 * JSON Canonicalization Scheme of RFC 8785 for the values a transfer holds).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The canonical encoding of a transfer: a JSON array of its fields in a fixed order. */
export function encodeTransfer(t: SealedTransfer): string {
  return canonicalJson([
    'wijkmunt-transfer-v1', t.currency_code, t.id, t.debit_account_id, t.credit_account_id, t.amount, t.code,
    t.phase, t.pending_id, t.reverses_id, t.memo, t.metadata ?? {}, t.created_by, t.created_at,
  ]);
}

export function transferHash(t: SealedTransfer): string {
  return createHash('sha256').update(encodeTransfer(t), 'utf8').digest('hex');
}

/**
 * Accumulates a seal: SHA-256 over "wijkmunt-seal-v1\n<currency>\n<seq>\n<previous hash>\n"
 * followed by one line "<transfer hash>\n" per covered transfer, in (txid, id) order.
 */
export class SealHasher {
  private readonly hash = createHash('sha256');
  private readonly ids: Buffer[] = [];
  private readonly hashes: Buffer[] = [];

  constructor(currency_code: string, seq: bigint, previous_hash: string) {
    this.hash.update(`wijkmunt-seal-v1\n${currency_code}\n${seq}\n${previous_hash}\n`, 'utf8');
  }

  /** Adds the next covered transfer; returns its hash. */
  add(transfer: SealedTransfer): string {
    const hex = transferHash(transfer);
    this.hash.update(`${hex}\n`, 'utf8');
    this.ids.push(Buffer.from(transfer.id.replace(/-/g, ''), 'hex'));
    this.hashes.push(Buffer.from(hex, 'hex'));
    return hex;
  }

  get count(): number {
    return this.ids.length;
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  /** The covered transfers' ids (16 bytes each) and hashes (32 bytes each), in order. */
  members(): { ids: Buffer; hashes: Buffer } {
    return { ids: Buffer.concat(this.ids), hashes: Buffer.concat(this.hashes) };
  }
}

/** Splits stored seal members back into (id, hash hex) pairs. */
export function sealMembers(ids: Uint8Array, hashes: Uint8Array): Array<{ id: string; hash: string }> {
  const out: Array<{ id: string; hash: string }> = [];
  for (let i = 0; i * 16 < ids.length; i++) {
    const hex = Buffer.from(ids.subarray(i * 16, i * 16 + 16)).toString('hex');
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    out.push({ id, hash: Buffer.from(hashes.subarray(i * 32, i * 32 + 32)).toString('hex') });
  }
  return out;
}
