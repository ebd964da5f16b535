/**
 * Issue #17, point 9: names and memos (volunteers, shops, activities in each language,
 * currencies, accounts, tablets, memos) refuse invisible format characters — a direction
 * override makes "Bakkerij‮ 01 tuo‭" read as something it is not — with a plain 422 that writes
 * nothing, keep emoji joined by U+200D, and are stored NFC-normalised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, openAccount } from './support/http-fixtures.js';
import { createShop, newPairingCode, pair } from './support/shop-fixtures.js';
import { activityOf, programmeOf } from './support/volunteer-fixtures.js';
import { fingerprintDiff, fingerprinter } from './support/world.js';
import { hasInvisibleFormatCharacter } from '../src/http/schemas.js';

let t: TestApp;
let fingerprint: Awaited<ReturnType<typeof fingerprinter>>;
let wallet: string;
let programme: string;
let shop: string;
let activity: string;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, 'TXT', 2);
  wallet = await openAccount(t, 'TXT', 'wallet', 'Wallet');
  programme = await programmeOf(t, 'TXT');
  shop = (await createShop(t, 'TXT', { name: 'Bakkerij' })).account;
  activity = (await activityOf(t, 'TXT')).id as string;
  fingerprint = await fingerprinter(t);
});

afterAll(async () => {
  await t?.close();
});

describe('invisible format characters', () => {
  it.each([
    ['U+202E right-to-left override', 'Aïcha\u202Eahcïa'],
    ['U+202A–U+202D embeddings and overrides', 'a\u202Ab\u202Bc\u202Cd\u202De'],
    ['U+2066–U+2069 isolates', '\u2066x\u2069'],
    ['U+200B zero-width space', 'Jan\u200BPeeters'],
    ['U+200C zero-width non-joiner', 'a\u200Cb'],
    ['U+200D zero-width joiner between letters', 'a\u200Db'],
    ['U+200E, U+200F direction marks', '\u200Ea\u200F'],
    ['U+2060–U+2064 word joiner and invisible operators', 'a\u2060b\u2064c'],
    ['U+FEFF byte order mark', '\uFEFFLies'],
    ['U+180E Mongolian vowel separator', 'a\u180Eb'],
    ['U+00AD soft hyphen (category Cf)', 'Bak\u00ADkerij'],
    ['a tag character outside a flag', 'a\u{E0041}'],
    ['a joiner at the end of an emoji', '👩\u200D'],
  ])('are refused: %s', (_label, text) => {
    expect(hasInvisibleFormatCharacter(text)).toBe(true);
  });

  it.each([
    ['plain names', 'Aïcha, Jan-Willem & Zoë'],
    ['scripts that need no format character', 'Ελένη Σμυρνάκη · محمد · 李小龍'],
    ['emoji joined by U+200D', '👩‍🔧 Repair café 🏳️‍🌈 ❤️‍🔥 👨‍👩‍👧‍👦'],
    ['a joined emoji with a skin tone', '👩🏽‍🔧'],
    ['a subdivision flag (tag characters after 🏴)', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
  ])('are not found in %s', (_label, text) => {
    expect(hasInvisibleFormatCharacter(text)).toBe(false);
  });
});

/** Every place a name or memo enters: the request, and the field the 422 names. */
function entries(text: string): Array<{ label: string; method: string; path: string; body: Record<string, unknown>; field: string; token?: string }> {
  return [
    { label: 'volunteer display name', method: 'POST', path: '/api/v1/currencies/TXT/wallets', body: { display_name: text, pin: '2468' }, field: 'display_name' },
    { label: 'shop name', method: 'POST', path: '/api/v1/currencies/TXT/shops', body: { name: text }, field: 'name' },
    { label: 'shop address', method: 'POST', path: '/api/v1/currencies/TXT/shops', body: { name: 'Shop', address: text }, field: 'address' },
    { label: 'shop rename', method: 'PATCH', path: `/api/v1/shops/${shop}`, body: { name: text }, field: 'name' },
    { label: 'activity name (nl)', method: 'POST', path: '/api/v1/currencies/TXT/activities',
      body: { name: { nl: text }, category: 'repair_cafe', rate_per_hour: '10', programme_account: programme }, field: 'name.nl' },
    { label: 'activity name (en)', method: 'POST', path: '/api/v1/currencies/TXT/activities',
      body: { name: { nl: 'Repair café', en: text }, category: 'repair_cafe', rate_per_hour: '10', programme_account: programme }, field: 'name.en' },
    { label: 'activity name (fr)', method: 'POST', path: '/api/v1/currencies/TXT/activities',
      body: { name: { nl: 'Repair café', fr: text }, category: 'repair_cafe', rate_per_hour: '10', programme_account: programme }, field: 'name.fr' },
    { label: 'activity rename', method: 'PATCH', path: `/api/v1/activities/${activity}`, body: { name: { nl: 'Repair café', fr: text } }, field: 'name.fr' },
    { label: 'currency name', method: 'POST', path: '/api/v1/currencies', body: { code: 'TXU', name: text, scale: 2, euro_per_unit: '0.10' }, field: 'name' },
    { label: 'currency rename', method: 'PATCH', path: '/api/v1/currencies/TXT', body: { name: text }, field: 'name' },
    { label: 'account name', method: 'POST', path: '/api/v1/currencies/TXT/accounts', body: { kind: 'programme', name: text }, field: 'name' },
    { label: 'memo of an issue', method: 'POST', path: '/api/v1/currencies/TXT/issue', body: { to_account: wallet, amount: '1.00', memo: text }, field: 'memo' },
  ];
}

describe('a name or memo with a direction override (U+202E)', () => {
  it('is 422 validation_failed with a plain message naming the field, and nothing is stored', async () => {
    const code = await newPairingCode(t, shop);
    const before = await fingerprint();
    const text = 'Bakkerij\u202E 01 tuo';
    const outcomes = [];
    for (const entry of entries(text)) {
      const reply = await t.request(entry.method, entry.path, { token: t.adminToken, body: entry.body, idempotencyKey: newKey() });
      expect(reply.headers.get('content-type'), entry.label).toMatch(/^application\/problem\+json/);
      outcomes.push({ label: entry.label, status: reply.status, code: reply.body.code, errors: reply.body.errors });
    }
    const message = 'must not contain invisible formatting characters (such as text direction overrides or zero-width spaces)';
    expect(outcomes).toEqual(entries(text).map((entry) => ({
      label: entry.label, status: 422, code: 'validation_failed', errors: [{ path: entry.field, message }],
    })));
    // A tablet's name, typed when pairing with a code.
    const pairing = await pair(t, code, 'Kassa\u202E');
    expect(pairing.status).toBe(422);
    expect(pairing.body.errors).toEqual([{ path: 'device_name', message }]);
    expect(fingerprintDiff(before, await fingerprint())).toEqual([]);
    // The code was not used up: it still pairs.
    expect((await pair(t, code, 'Kassa')).status).toBe(201);
  });
});

describe('a decomposed "Aïcha" (i + U+0308)', () => {
  const decomposed = 'Ai\u0308cha';
  const composed = 'A\u00EFcha';

  it('is stored NFC-normalised in every name and memo, and answered so', async () => {
    expect(decomposed).not.toBe(composed);
    expect(decomposed.normalize('NFC')).toBe(composed);

    const volunteer = await t.request('POST', '/api/v1/currencies/TXT/wallets', { token: t.adminToken, body: { display_name: decomposed, pin: '2468' } });
    expect(volunteer.status, JSON.stringify(volunteer.body)).toBe(201);
    const [wallet_row] = await t.sql<{ display_name: string; name: string }[]>`
      SELECT w.display_name, a.name FROM wallets w JOIN accounts a ON a.id = w.account_id WHERE w.account_id = ${volunteer.body.account.id}`;
    expect(wallet_row).toEqual({ display_name: composed, name: composed });

    const created_shop = await createShop(t, 'TXT', { name: `Bij ${decomposed}`, address: `Straat van ${decomposed} 1`, contact: decomposed });
    const [shop_row] = await t.sql<{ name: string; address: string; contact: string }[]>`
      SELECT name, address, contact FROM shops WHERE account_id = ${created_shop.account}`;
    expect(shop_row).toEqual({ name: `Bij ${composed}`, address: `Straat van ${composed} 1`, contact: composed });
    expect(created_shop.name).toBe(`Bij ${composed}`);

    const tablet = await pair(t, created_shop.pairing_code, `Kassa ${decomposed}`);
    expect(tablet.status).toBe(201);
    const [device_row] = await t.sql<{ name: string }[]>`SELECT name FROM devices WHERE id = ${tablet.body.device.id}`;
    expect(device_row?.name).toBe(`Kassa ${composed}`);

    const activity = await t.request('POST', '/api/v1/currencies/TXT/activities', {
      token: t.adminToken,
      body: { name: { nl: decomposed, en: `${decomposed} en`, fr: `${decomposed} fr` }, category: 'repair_cafe', rate_per_hour: '10', programme_account: programme },
    });
    expect(activity.status, JSON.stringify(activity.body)).toBe(201);
    const [activity_row] = await t.sql<{ name: Record<string, string> }[]>`SELECT name FROM activities WHERE id = ${activity.body.id}`;
    expect(activity_row?.name).toEqual({ nl: composed, en: `${composed} en`, fr: `${composed} fr` });

    const currency = await t.request('POST', '/api/v1/currencies', { token: t.adminToken, body: { code: 'TXN', name: decomposed, scale: 2, euro_per_unit: '0.10' } });
    expect(currency.status, JSON.stringify(currency.body)).toBe(201);
    expect(currency.body.name).toBe(composed);

    const account = await openAccount(t, 'TXT', 'programme', decomposed);
    const issued = await t.request('POST', '/api/v1/currencies/TXT/issue', {
      token: t.adminToken, idempotencyKey: newKey(), body: { to_account: wallet, amount: '1.00', memo: `Voor ${decomposed}` },
    });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const [rows] = await t.sql<{ currency: string; account: string; memo: string }[]>`
      SELECT (SELECT name FROM currencies WHERE code = 'TXN') AS currency,
             (SELECT name FROM accounts WHERE id = ${account}) AS account,
             (SELECT memo FROM transfers WHERE id = ${issued.body.id}) AS memo`;
    expect(rows).toEqual({ currency: composed, account: composed, memo: `Voor ${composed}` });

    // A search typed decomposed finds the name stored composed.
    const found = await t.request('GET', `/api/v1/currencies/TXT/accounts?kind=programme&q=${encodeURIComponent(decomposed)}`, { token: t.adminToken });
    expect(found.status).toBe(200);
    expect(found.body.items.map((a: { id: string }) => a.id)).toContain(account);
  });

  it('counts length limits on the normalised text: 100 decomposed "ï" are 100 characters, not 200', async () => {
    const reply = await t.request('POST', '/api/v1/currencies/TXT/wallets', { token: t.adminToken, body: { display_name: 'i\u0308'.repeat(100), pin: '2468' } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.account.name).toBe('\u00EF'.repeat(100));
  });

  it('keeps emoji joined by U+200D', async () => {
    const name = 'Repair café 👩‍🔧🏳️‍🌈';
    const account = await openAccount(t, 'TXT', 'programme', name);
    const [row] = await t.sql<{ name: string }[]>`SELECT name FROM accounts WHERE id = ${account}`;
    expect(row?.name).toBe(name);
  });
});
