/**
 * Recent pages of wallets' histories, as sent (#22). A page is told completely by its wallet's
 * account version (every posting to the account raises it: a payment, a refund, a reversal, an
 * expiry) and by its currency's `names_version` (raised by the database whenever an account or
 * an activity of the currency is renamed, migrations/0019), with the page size and cursor. Both
 * are read fresh with the request, so a page kept here is the page the database would give;
 * a helper's history also lists payments made from other wallets and is never kept.
 * Bounded by bytes; the least recently used page goes first.
 */
export interface PageKey {
  account_id: string;
  version: bigint;
  names_version: bigint;
  scale: number;
  limit: number;
  cursor: string | undefined;
}

/** What a kept page costs in memory: its key and its body, two bytes a character. */
function sizeOf(key: string, body: string): number {
  return key.length + body.length * 2;
}

export class HistoryPages {
  readonly #pages = new Map<string, string>();
  #bytes = 0;

  constructor(readonly bytes_max: number) {}

  static key(k: PageKey): string {
    return `${k.account_id}|${k.version}|${k.names_version}|${k.scale}|${k.limit}|${k.cursor ?? ''}`;
  }

  /** The page's JSON body, if kept. */
  get(key: string): string | undefined {
    const body = this.#pages.get(key);
    if (body === undefined) return undefined;
    // Most recently used last: eviction takes the first.
    this.#pages.delete(key);
    this.#pages.set(key, body);
    return body;
  }

  set(key: string, body: string): void {
    const size = sizeOf(key, body);
    if (size > this.bytes_max) return;
    const old = this.#pages.get(key);
    if (old !== undefined) {
      this.#pages.delete(key);
      this.#bytes -= sizeOf(key, old);
    }
    this.#pages.set(key, body);
    this.#bytes += size;
    for (const [oldest, page] of this.#pages) {
      if (this.#bytes <= this.bytes_max) break;
      this.#pages.delete(oldest);
      this.#bytes -= sizeOf(oldest, page);
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#pages.size;
  }
}
