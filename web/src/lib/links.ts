import { isCardCodeTypo, normalizeCardCode } from '../../../src/ledger/cards.js';

/**
 * What a scanned or typed code is. QR contents are URLs so that a phone's own camera app opens
 * the right page: `<base>/c/<card>`, `<base>/p/<payment request>`, `<base>/claim#<token>`,
 * `<base>/r/<receive code>` (a wallet to give coins to).
 * Bare codes (a card code, a payment request id, a claim token) are understood too.
 */
export type Scanned =
  | { kind: 'claim'; token: string }
  | { kind: 'pay'; id: string }
  | { kind: 'card'; code: string }
  | { kind: 'receive'; code: string }
  | { kind: 'unknown' };

const uuid_pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const token_pattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export { normalizeCardCode };

/** "K7QM3D9XP2RT8HWVZ" → "K7QM-3D9X-P2RT-8HWV-Z". */
export function groupCardCode(code: string): string {
  return code.match(/.{1,4}/g)?.join('-') ?? code;
}

/**
 * The card code in what was typed or scanned (a card link or a bare code) when it has a card
 * code's shape but its check symbol fails — one character is wrong — in capitals without dashes;
 * else undefined. A coordinator's screen then says "check the code", not "not a card".
 */
export function mistypedCardCode(input: string): string | undefined {
  const text = input.trim();
  const candidate = /(?:^|\/)c\/([A-Za-z0-9-]{17,40})\/?(?:[?#].*)?$/i.exec(text)?.[1] ?? text;
  return isCardCodeTypo(candidate) ? candidate.toUpperCase().replace(/[\s-]/g, '') : undefined;
}

const receive_link = /(?:^|\/)r\/([a-z2-7]{20})\/?(?:[?#].*)?$/i;

export function parseScanned(input: string): Scanned {
  const text = input.trim();
  const receive = receive_link.exec(text);
  if (receive?.[1] !== undefined) return { kind: 'receive', code: receive[1].toLowerCase() };
  // A link, with or without its scheme and host.
  const link = /(?:^|\/)(claim)\/?#(.+)$|(?:^|\/)p\/([0-9a-f-]{36})\/?(?:[?#].*)?$|(?:^|\/)c\/([A-Za-z0-9-]{17,40})\/?(?:[?#].*)?$/i.exec(text);
  if (link !== null) {
    if (link[1] !== undefined && link[2] !== undefined) {
      const token = decode(link[2]).trim();
      return token === '' ? { kind: 'unknown' } : { kind: 'claim', token };
    }
    if (link[3] !== undefined && uuid_pattern.test(link[3])) return { kind: 'pay', id: link[3].toLowerCase() };
    if (link[4] !== undefined) {
      const code = normalizeCardCode(link[4]);
      return code === undefined ? { kind: 'unknown' } : { kind: 'card', code };
    }
  }
  if (uuid_pattern.test(text)) return { kind: 'pay', id: text.toLowerCase() };
  if (token_pattern.test(text)) return { kind: 'claim', token: text };
  const code = normalizeCardCode(text);
  if (code !== undefined) return { kind: 'card', code };
  return { kind: 'unknown' };
}
