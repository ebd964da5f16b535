/**
 * Issue #4, cash-out to euros: a shop's redemption reserves its coins (pending transfer shop →
 * issuance); a coordinator approves (coins back at issuance, a payout of exact euros) or rejects
 * (coins back to the shop), once; payouts are exported as CSV and as a SEPA pain.001 file, each
 * payout in exactly one export; access per currency.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue } from './support/http-fixtures.js';
import { openWallet, registerVolunteer } from './support/volunteer-fixtures.js';
import {
  belgianIban, expectVerified, ledgerOf, newPairingCode, pairTablet, redeem, shopCounts, shopView, shopWithTablet,
} from './support/shop-fixtures.js';
import type { Tablet } from './support/shop-fixtures.js';

let t: TestApp;
let coord_tor: string;
let coord_ant: string;
let coord_exp: string;
let tor_issuance: string;

beforeAll(async () => {
  t = await createTestApp();
  // All at €0.10 per coin. TOR: whole coins. ANT: cents. EXP: exports. NOP: never gets a payer.
  const tor = await createCurrency(t, 'TOR', 0);
  const ant = await createCurrency(t, 'ANT', 2);
  const exp = await createCurrency(t, 'EXP', 0);
  await createCurrency(t, 'NOP', 0);
  tor_issuance = tor.issuance_account;
  coord_tor = (await t.createStaff('coordinator', [tor.id])).token;
  coord_ant = (await t.createStaff('coordinator', [ant.id])).token;
  coord_exp = (await t.createStaff('coordinator', [exp.id])).token;
});

afterAll(async () => {
  await t?.close();
});

/** A shop with a tablet and `coins` issued to it. */
async function fundedShop(currency: string, coins: string, options: { name?: string; iban?: string | null } = {}) {
  const made = await shopWithTablet(t, currency, options);
  await issue(t, currency, made.shop.account, coins);
  return made;
}

/** Asks for a cash-out; fails the test unless 201. */
async function redemption(tablet: Tablet, amount: string): Promise<any> {
  const reply = await redeem(t, tablet, amount);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

async function decide(id: string, decision: 'approve' | 'reject', token = t.adminToken) {
  return t.request('POST', `/api/v1/redemptions/${id}/${decision}`, { token });
}

async function approve(id: string, token = t.adminToken): Promise<any> {
  const reply = await decide(id, 'approve', token);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

async function transferStatus(id: string): Promise<string> {
  const reply = await t.request('GET', `/api/v1/transfers/${id}`, { token: t.adminToken });
  expect(reply.status).toBe(200);
  return reply.body.status as string;
}

describe('asking to cash out', () => {
  it('reserves the coins: balance unchanged, available drops, pending shown to the shop and the coordinator', async () => {
    const { shop, tablet } = await fundedShop('TOR', '2000');
    const before = await shopCounts(t);
    const asked = await redemption(tablet, '1234');
    expect(asked).toMatchObject({
      id: expect.any(String), shop: shop.account, status: 'pending', amount: '1234', euro_amount: '123.40',
      transfer_id: expect.any(String), decided_at: null,
    });
    const after = await shopCounts(t);
    expect(after.redemptions).toBe(before.redemptions + 1);
    expect(after.transfers).toBe(before.transfers + 1);

    const held = await t.request('GET', `/api/v1/transfers/${asked.transfer_id}`, { token: t.adminToken });
    expect(held.body).toMatchObject({ status: 'pending', code: 'redemption', debit_account: shop.account, credit_account: tor_issuance, amount: '1234' });
    expect(await shopView(t, tablet)).toMatchObject({ balance: '2000', available: '766', pending_redemptions: '1234' });

    const mine = await t.request('GET', '/api/v1/shop/redemptions', { token: tablet.token });
    expect(mine.body.items).toEqual([asked]);
    const pending = await t.request('GET', '/api/v1/currencies/TOR/redemptions?status=pending', { token: coord_tor });
    expect(pending.status).toBe(200);
    expect(pending.body.items).toContainEqual(asked);
    const approved = await t.request('GET', '/api/v1/currencies/TOR/redemptions?status=approved', { token: coord_tor });
    expect(approved.body.items.map((r: { id: string }) => r.id)).not.toContain(asked.id);
    expectProblem(await t.request('GET', '/api/v1/currencies/TOR/redemptions?status=weird', { token: coord_tor }), 422, 'validation_failed');
  });

  it('reserved coins cannot be spent twice: a cash-out above what is available is 422 insufficient_funds', async () => {
    const { tablet } = await fundedShop('TOR', '1000');
    await redemption(tablet, '600');
    const before = await shopCounts(t);
    expectProblem(await redeem(t, tablet, '401'), 422, 'insufficient_funds');
    expect(await shopCounts(t)).toEqual(before);
    await redemption(tablet, '400');
    expectProblem(await redeem(t, tablet, '1'), 422, 'insufficient_funds');
    expect(await shopView(t, tablet)).toMatchObject({ balance: '1000', available: '0', pending_redemptions: '1000' });
  });

  it('concurrent cash-outs never reserve more than the shop has', async () => {
    const { shop, tablet } = await fundedShop('TOR', '1000');
    const replies = await Promise.all(Array.from({ length: 8 }, () => redeem(t, tablet, '300')));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(3);
    for (const reply of replies.filter((r) => r.status !== 201)) expectProblem(reply, 422, 'insufficient_funds');
    expect(await ledgerOf(t, shop.account)).toEqual({ balance: 1000n, available: 100n, debits_pending: 900n });
  });

  it('the same Idempotency-Key reserves once', async () => {
    const { shop, tablet } = await fundedShop('TOR', '100');
    const key = newKey();
    const first = await redeem(t, tablet, '40', key);
    const again = await redeem(t, tablet, '40', key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect((await ledgerOf(t, shop.account)).debits_pending).toBe(40n);
  });

  it('a shop without an IBAN is 422 iban_missing and nothing is reserved', async () => {
    const { shop, tablet } = await fundedShop('TOR', '100', { iban: null });
    const before = await shopCounts(t);
    expectProblem(await redeem(t, tablet, '50'), 422, 'iban_missing');
    expect(await shopCounts(t)).toEqual(before);
    expect(await ledgerOf(t, shop.account)).toEqual({ balance: 100n, available: 100n, debits_pending: 0n });
    // With an IBAN it works.
    const patched = await t.request('PATCH', `/api/v1/shops/${shop.account}`, { token: coord_tor, body: { iban: belgianIban(7) } });
    expect(patched.status).toBe(200);
    await redemption(tablet, '50');
  });
});

describe('approving and rejecting', () => {
  it('approve: the coins return to issuance, a payout of exactly amount × €0.10 (1234 → 123.40), verify ok', async () => {
    const { shop, tablet } = await fundedShop('TOR', '2000', { name: 'Bakkerij Approve', iban: 'BE68 5390 0754 7034' });
    const asked = await redemption(tablet, '1234');
    const issuance_before = (await ledgerOf(t, tor_issuance)).balance;
    const supply_before = (await t.request('GET', '/api/v1/currencies/TOR/supply', { token: coord_tor })).body;

    const decided = await approve(asked.id, coord_tor);
    expect(decided.redemption).toMatchObject({ id: asked.id, status: 'approved', amount: '1234', euro_amount: '123.40', decided_at: expect.any(String) });
    expect(decided.payout).toMatchObject({
      id: expect.any(String), redemption: asked.id, shop: { account: shop.account, name: 'Bakkerij Approve' },
      iban: 'BE68539007547034', euro_amount: '123.40', reference: `TOR-${asked.id.replace(/-/g, '').slice(0, 31).toUpperCase()}`,
      exported_at: null, export_id: null,
    });
    const [stored] = await t.sql<{ euro_amount: string }[]>`SELECT euro_amount::text FROM payouts WHERE redemption_id = ${asked.id}`;
    expect(stored?.euro_amount).toBe('123.40');

    expect(await transferStatus(asked.transfer_id)).toBe('posted');
    expect(await ledgerOf(t, shop.account)).toEqual({ balance: 766n, available: 766n, debits_pending: 0n });
    expect((await ledgerOf(t, tor_issuance)).balance - issuance_before).toBe(1234n);
    const supply_after = (await t.request('GET', '/api/v1/currencies/TOR/supply', { token: coord_tor })).body;
    expect(BigInt(supply_after.redeemed) - BigInt(supply_before.redeemed)).toBe(1234n);
    expect(BigInt(supply_before.in_shops) - BigInt(supply_after.in_shops)).toBe(1234n);
    expect(await shopView(t, tablet)).toMatchObject({ balance: '766', available: '766', pending_redemptions: '0' });
    expect((await t.request('GET', '/api/v1/shop/redemptions', { token: tablet.token })).body.items[0]).toMatchObject({ id: asked.id, status: 'approved' });
    await expectVerified(t, 'TOR');

    // Once only: approve again or reject after approve is 409 already_resolved, nothing changes.
    const before = await shopCounts(t);
    expectProblem(await decide(asked.id, 'approve'), 409, 'already_resolved');
    expectProblem(await decide(asked.id, 'reject'), 409, 'already_resolved');
    expect(await shopCounts(t)).toEqual(before);
    expect(await ledgerOf(t, shop.account)).toEqual({ balance: 766n, available: 766n, debits_pending: 0n });
  });

  it('reject: the reserved coins go back to the shop, no payout; then approve or reject again is 409', async () => {
    const { shop, tablet } = await fundedShop('TOR', '500');
    const asked = await redemption(tablet, '300');
    const issuance_before = (await ledgerOf(t, tor_issuance)).balance;
    const before = await shopCounts(t);
    const rejected = await decide(asked.id, 'reject', coord_tor);
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ redemption: { id: asked.id, status: 'rejected' }, payout: null });
    expect(await transferStatus(asked.transfer_id)).toBe('voided');
    expect(await ledgerOf(t, shop.account)).toEqual({ balance: 500n, available: 500n, debits_pending: 0n });
    expect((await ledgerOf(t, tor_issuance)).balance).toBe(issuance_before);
    expect((await shopCounts(t)).payouts).toBe(before.payouts);

    const after = await shopCounts(t);
    expectProblem(await decide(asked.id, 'approve'), 409, 'already_resolved');
    expectProblem(await decide(asked.id, 'reject'), 409, 'already_resolved');
    expect(await shopCounts(t)).toEqual(after);
    // The coins can be cashed out again.
    await redemption(tablet, '500');
    await expectVerified(t, 'TOR');
  });

  it('approve and reject racing on one redemption: exactly one wins', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { shop, tablet } = await fundedShop('TOR', '100');
      const asked = await redemption(tablet, '100');
      const replies = await Promise.all([
        decide(asked.id, 'approve'), decide(asked.id, 'reject'), decide(asked.id, 'approve'), decide(asked.id, 'reject'),
      ]);
      const won = replies.filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      for (const reply of replies.filter((r) => r.status !== 200)) expectProblem(reply, 409, 'already_resolved');
      const [count] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM payouts WHERE redemption_id = ${asked.id}`;
      const approved = won[0]!.body.redemption.status === 'approved';
      expect(count?.n).toBe(approved ? 1 : 0);
      expect((await ledgerOf(t, shop.account)).balance).toBe(approved ? 0n : 100n);
    }
    await expectVerified(t, 'TOR');
  });

  it('euros at scale 2 are rounded to the cent, half to even (12.34 → 1.23, 12.35 → 1.24, 12.25 → 1.22); whole cents exact', async () => {
    const { tablet } = await fundedShop('ANT', '2000.00');
    const cases: Array<[string, string]> = [
      ['12.34', '1.23'], ['12.35', '1.24'], ['12.25', '1.22'], ['12.30', '1.23'], ['999.99', '100.00'], ['0.10', '0.01'],
    ];
    for (const [coins, euros] of cases) {
      const asked = await redemption(tablet, coins);
      expect(asked.euro_amount, coins).toBe(euros);
      const decided = await approve(asked.id, coord_ant);
      expect(decided.payout.euro_amount, coins).toBe(euros);
    }
    await expectVerified(t, 'ANT');
  });

  it('a cash-out worth less than a euro cent is refused (422), so no payout of €0.00 can block a SEPA export', async () => {
    const { shop, tablet } = await fundedShop('ANT', '10.00');
    const before = await shopCounts(t);
    for (const coins of ['0.01', '0.04', '0.05']) {
      expectProblem(await redeem(t, tablet, coins), 422, 'validation_failed');
    }
    expect(await shopCounts(t)).toEqual(before);
    expect((await ledgerOf(t, shop.account)).debits_pending).toBe(0n);
    // 0.06 × 0.10 = 0.006 → €0.01.
    expect((await redemption(tablet, '0.06')).euro_amount).toBe('0.01');
  });

  it('a shop whose IBAN was removed after asking cannot be approved (422 iban_missing); with an IBAN again it can', async () => {
    const { shop, tablet } = await fundedShop('TOR', '100');
    const asked = await redemption(tablet, '100');
    expect((await t.request('PATCH', `/api/v1/shops/${shop.account}`, { token: coord_tor, body: { iban: null } })).status).toBe(200);
    const before = await shopCounts(t);
    expectProblem(await decide(asked.id, 'approve'), 422, 'iban_missing');
    expect(await shopCounts(t)).toEqual(before);
    expect(await transferStatus(asked.transfer_id)).toBe('pending');
    const newer = belgianIban(99);
    expect((await t.request('PATCH', `/api/v1/shops/${shop.account}`, { token: coord_tor, body: { iban: newer } })).status).toBe(200);
    const decided = await approve(asked.id);
    expect(decided.payout.iban).toBe(newer);
  });

  it('decisions are per currency: another currency\'s coordinator gets 404, a tablet or a wallet 403', async () => {
    const { tablet } = await fundedShop('TOR', '100');
    const asked = await redemption(tablet, '10');
    const volunteer = await registerVolunteer(t, 'TOR');
    const wallet_token = await openWallet(t, volunteer);
    const before = await shopCounts(t);
    for (const decision of ['approve', 'reject'] as const) {
      expectProblem(await decide(asked.id, decision, coord_ant), 404, 'not_found');
      expectProblem(await decide(asked.id, decision, tablet.token), 403, 'forbidden');
      expectProblem(await decide(asked.id, decision, wallet_token), 403, 'forbidden');
      expectProblem(await t.request('POST', `/api/v1/redemptions/${asked.id}/${decision}`), 401, 'unauthenticated');
      expectProblem(await decide('00000000-0000-4000-8000-000000000000', decision), 404, 'not_found');
      expectProblem(await decide('nope', decision), 404, 'not_found');
    }
    expectProblem(await t.request('GET', '/api/v1/currencies/TOR/redemptions', { token: coord_ant }), 403, 'forbidden');
    expect(await shopCounts(t)).toEqual(before);
    // Another tablet of another shop does not see this shop's cash-outs.
    const { tablet: other } = await fundedShop('TOR', '1');
    expect((await t.request('GET', '/api/v1/shop/redemptions', { token: other.token })).body.items).toEqual([]);
    // A second tablet of the same shop does.
    const shop_account = asked.shop as string;
    const second = await pairTablet(t, await newPairingCode(t, shop_account), 'Second');
    expect((await t.request('GET', '/api/v1/shop/redemptions', { token: second.token })).body.items.map((r: { id: string }) => r.id)).toEqual([asked.id]);
  });
});

// Exports -------------------------------------------------------------------------------------

/** RFC 4180 records; enough for the export (quoted fields with commas and doubled quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') { record.push(field); field = ''; } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(field); records.push(record); record = []; field = ''; i += 1;
    } else field += char;
  }
  expect(field === '' && record.length === 0, 'the file ends with CRLF').toBe(true);
  return records;
}

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === 'CdtTrfTxInf' });

/** "123.40" → 12340n. */
const cents = (euros: string) => {
  expect(euros).toMatch(/^\d+\.\d{2}$/);
  return BigInt(euros.replace('.', ''));
};
const euros = (minor: bigint) => `${minor / 100n}.${(minor % 100n).toString().padStart(2, '0')}`;

describe('payout exports', () => {
  const payer = { payer_name: 'Stad Gent', payer_iban: 'BE71 0961 2345 6769', payer_bic: 'GKCCBEBB' };
  const iban_a = belgianIban(501);
  const iban_b = 'NL91ABNA0417164300';
  let tablet_a: Tablet;
  let tablet_b: Tablet;
  let shop_a: string;
  let shop_b: string;
  /** The first export (made in the test that checks the files). */
  let first_export: { id: string; message_id: string };
  let first_xml: string;

  beforeAll(async () => {
    const a = await fundedShop('EXP', '200000', { name: 'Bakkerij "De Graankorrel", Rabot', iban: iban_a });
    const b = await fundedShop('EXP', '200000', { name: 'Café Ça Va', iban: iban_b });
    tablet_a = a.tablet;
    tablet_b = b.tablet;
    shop_a = a.shop.account;
    shop_b = b.shop.account;
  });

  it('without a paying account configured: 422 payer_missing, nothing marked exported', async () => {
    const { tablet } = await fundedShop('NOP', '100');
    await approve((await redemption(tablet, '100')).id);
    const before = await shopCounts(t);
    expectProblem(await t.request('POST', '/api/v1/currencies/NOP/payout-exports', { token: t.adminToken }), 422, 'payer_missing');
    expect(await shopCounts(t)).toEqual(before);
    const unexported = await t.request('GET', '/api/v1/currencies/NOP/payouts?unexported=true', { token: t.adminToken });
    expect(unexported.body.items).toHaveLength(1);
  });

  it('only an admin sets the paying account, with a valid IBAN (normalised) and BIC', async () => {
    expectProblem(await t.request('PATCH', '/api/v1/currencies/EXP', { token: coord_exp, body: payer }), 403, 'forbidden');
    for (const bad of [{ payer_iban: 'BE71 0961 2345 6760' }, { payer_bic: 'GKCC' }, { payer_bic: 'gkccbebb' }, { payer_bic: 'GKCCBE0B' }, { payer_name: 'x'.repeat(71) }, {}]) {
      expectProblem(await t.request('PATCH', '/api/v1/currencies/EXP', { token: t.adminToken, body: bad }), 422, 'validation_failed');
    }
    const [unchanged] = await t.sql<{ payer_iban: string | null }[]>`SELECT payer_iban FROM currencies WHERE code = 'EXP'`;
    expect(unchanged?.payer_iban).toBeNull();
    const patched = await t.request('PATCH', '/api/v1/currencies/EXP', { token: t.adminToken, body: payer });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.payer).toEqual({ name: 'Stad Gent', iban: 'BE71096123456769', bic: 'GKCCBEBB' });
  });

  it('an export: CSV and SEPA pain.001 with exact count and sum, unique ids, the shops\' IBANs, the payer as debtor', async () => {
    // Three payouts for shop A, one for shop B.
    const asked = [
      await redemption(tablet_a, '1234'), await redemption(tablet_a, '1'), await redemption(tablet_b, '99999'), await redemption(tablet_a, '7'),
    ];
    const payouts: any[] = [];
    for (const r of asked) payouts.push((await approve(r.id, coord_exp)).payout);
    expect(payouts.map((p) => p.euro_amount)).toEqual(['123.40', '0.10', '9999.90', '0.70']);
    const total = payouts.reduce((sum, p) => sum + cents(p.euro_amount), 0n);
    expect(euros(total)).toBe('10124.10');

    const unexported = await t.request('GET', '/api/v1/currencies/EXP/payouts?unexported=true', { token: coord_exp });
    expect(unexported.body.items.map((p: { id: string }) => p.id)).toEqual(payouts.map((p) => p.id));

    const created = await t.request('POST', '/api/v1/currencies/EXP/payout-exports', { token: coord_exp });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(String), message_id: expect.stringMatching(/^WM-EXP-[0-9A-F]{20}$/), payouts_count: 4, total_euros: '10124.10',
      csv_url: `/api/v1/currencies/EXP/payouts.csv?export=${created.body.id}`, xml_url: `/api/v1/currencies/EXP/payouts.xml?export=${created.body.id}`,
    });
    first_export = created.body;
    expect((await t.request('GET', '/api/v1/currencies/EXP/payouts?unexported=true', { token: coord_exp })).body.items).toEqual([]);
    const listed = await t.request('GET', '/api/v1/currencies/EXP/payouts', { token: coord_exp });
    for (const p of listed.body.items) expect(p).toMatchObject({ export_id: first_export.id, exported_at: expect.any(String) });

    // CSV: the header, then one row per payout with shop, IBAN, euros, reference.
    const csv = await t.request('GET', created.body.csv_url, { token: coord_exp });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain(`payouts-EXP-${first_export.message_id}.csv`);
    const [header, ...rows] = parseCsv(csv.body as string);
    expect(header).toEqual(['payout_id', 'shop', 'iban', 'euro_amount', 'reference', 'redemption_id', 'created_at', 'export_id', 'exported_at']);
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[5], r[7]])).toEqual(payouts.map((p, i) => [
      p.id, i === 2 ? 'Café Ça Va' : 'Bakkerij "De Graankorrel", Rabot', i === 2 ? iban_b : iban_a, p.euro_amount, p.reference, asked[i].id, first_export.id,
    ]));
    expect(rows.reduce((sum, r) => sum + cents(r[3]!), 0n)).toBe(total);

    // SEPA: parsed back, every total and id checked.
    const file = await t.request('GET', created.body.xml_url, { token: coord_exp });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(file.headers.get('wijkmunt-export-id')).toBe(first_export.id);
    first_xml = file.body as string;
    const doc = xml.parse(first_xml).Document;
    // pain.001.001.09 unless the currency is set to 03 (test/sepa-files.test.ts validates both against their XSDs).
    expect(doc['@_xmlns']).toBe('urn:iso:std:iso:20022:tech:xsd:pain.001.001.09');
    const { GrpHdr, PmtInf } = doc.CstmrCdtTrfInitn;
    expect(GrpHdr.MsgId).toBe(first_export.message_id);
    expect(GrpHdr.NbOfTxs).toBe('4');
    expect(GrpHdr.CtrlSum).toBe('10124.10');
    expect(GrpHdr.InitgPty.Nm).toBe('Stad Gent');
    expect(PmtInf.NbOfTxs).toBe('4');
    expect(PmtInf.CtrlSum).toBe('10124.10');
    expect(PmtInf.PmtMtd).toBe('TRF');
    expect(PmtInf.Dbtr.Nm).toBe('Stad Gent');
    expect(PmtInf.DbtrAcct.Id.IBAN).toBe('BE71096123456769');
    expect(PmtInf.DbtrAgt.FinInstnId.BICFI).toBe('GKCCBEBB');
    const txs = PmtInf.CdtTrfTxInf as any[];
    expect(txs).toHaveLength(4);
    expect(txs.reduce((sum: bigint, tx: any) => sum + cents(tx.Amt.InstdAmt['#text']), 0n)).toBe(total);
    const end_to_end = txs.map((tx) => tx.PmtId.EndToEndId as string);
    expect(new Set(end_to_end).size).toBe(4);
    expect(end_to_end).toEqual(payouts.map((p) => p.reference));
    txs.forEach((tx, i) => {
      expect(tx.Amt.InstdAmt['@_Ccy']).toBe('EUR');
      expect(tx.Amt.InstdAmt['#text']).toBe(payouts[i].euro_amount);
      expect(tx.CdtrAcct.Id.IBAN).toBe(i === 2 ? iban_b : iban_a);
      // Names in the SEPA character set.
      expect(tx.Cdtr.Nm).toBe(i === 2 ? 'Cafe Ca Va' : "Bakkerij 'De Graankorrel', Rabot");
      // The remittance says in plain words what the shop is paid for, with the payout's reference
      // (which the CSV ties to the cash-out), not a raw id.
      expect(tx.RmtInf.Ustrd).toMatch(new RegExp(`^${payouts[i].reference} Inwisseling \\d{4}-\\d{2} Coin EXP$`));
      expect(tx.RmtInf.Ustrd).not.toContain(asked[i].id);
    });
    // Payment and message ids are distinct.
    expect(PmtInf.PmtInfId).toEqual(expect.any(String));
  });

  it('an exported payout is not exported again: a second export is 409 nothing_to_export; a new approval goes only into the next', async () => {
    const before = await shopCounts(t);
    expectProblem(await t.request('POST', '/api/v1/currencies/EXP/payout-exports', { token: coord_exp }), 409, 'nothing_to_export');
    expect(await shopCounts(t)).toEqual(before);

    const later = await redemption(tablet_b, '500');
    const payout = (await approve(later.id, coord_exp)).payout;
    const made = await t.request('POST', '/api/v1/currencies/EXP/payout-exports', { token: coord_exp });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const file = await t.request('GET', made.body.xml_url as string, { token: coord_exp });
    expect(file.status, JSON.stringify(file.body)).toBe(200);
    const second_id = file.headers.get('wijkmunt-export-id');
    expect(second_id).toBe(made.body.id);
    expect(second_id).not.toBe(first_export.id);
    const { GrpHdr, PmtInf } = xml.parse(file.body as string).Document.CstmrCdtTrfInitn;
    expect(GrpHdr.MsgId).not.toBe(first_export.message_id);
    expect(GrpHdr.NbOfTxs).toBe('1');
    expect(GrpHdr.CtrlSum).toBe('50.00');
    expect(PmtInf.CdtTrfTxInf).toHaveLength(1);
    expect(PmtInf.CdtTrfTxInf[0].PmtId.EndToEndId).toBe(payout.reference);
    expect(PmtInf.CdtTrfTxInf[0].CdtrAcct.Id.IBAN).toBe(iban_b);
    const [exports] = await t.sql<{ n: number; ids: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS ids FROM payout_exports
      WHERE currency_id = (SELECT id FROM currencies WHERE code = 'EXP')`;
    expect(exports).toEqual({ n: 2, ids: 2 });
    // Every payout of EXP sits in exactly one export.
    const [unexported] = await t.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM payouts p JOIN currencies c ON c.id = p.currency_id WHERE c.code = 'EXP' AND p.export_id IS NULL`;
    expect(unexported?.n).toBe(0);

    // The CSV without ?export= lists every payout of the currency.
    const all = await t.request('GET', '/api/v1/currencies/EXP/payouts.csv', { token: coord_exp });
    expect(parseCsv(all.body as string)).toHaveLength(1 + 5);
  });

  it('GET payouts.xml never makes an export (#17): without ?export= it is 422 saying to POST /payout-exports first', async () => {
    await approve((await redemption(tablet_a, '10')).id, coord_exp);
    const before = await shopCounts(t);
    for (const query of ['', '?export=']) {
      const refused = await t.request('GET', `/api/v1/currencies/EXP/payouts.xml${query}`, { token: coord_exp });
      expectProblem(refused, 422, 'validation_failed');
      expect(refused.body.errors).toEqual([{ path: 'export', message: expect.any(String) }]);
    }
    const missing = await t.request('GET', '/api/v1/currencies/EXP/payouts.xml', { token: coord_exp });
    expect(missing.body.detail).toContain('create an export with POST /currencies/{code}/payout-exports first');
    // The payout waits for the next export: nothing was exported, no file was made.
    expect(await shopCounts(t)).toEqual(before);
    const waiting = await t.request('GET', '/api/v1/currencies/EXP/payouts?unexported=true', { token: coord_exp });
    expect(waiting.body.items).toHaveLength(1);
    expect((await t.request('POST', '/api/v1/currencies/EXP/payout-exports', { token: coord_exp })).status).toBe(201);
  });

  it('?export=ID downloads the same file again (same MsgId, same bytes); an unknown export is 404', async () => {
    const again = await t.request('GET', `/api/v1/currencies/EXP/payouts.xml?export=${first_export.id}`, { token: coord_exp });
    expect(again.status).toBe(200);
    expect(again.body).toBe(first_xml);
    expect(xml.parse(again.body as string).Document.CstmrCdtTrfInitn.GrpHdr.MsgId).toBe(first_export.message_id);
    const csv = await t.request('GET', `/api/v1/currencies/EXP/payouts.csv?export=${first_export.id}`, { token: coord_exp });
    expect(parseCsv(csv.body as string)).toHaveLength(1 + 4);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      expectProblem(await t.request('GET', `/api/v1/currencies/EXP/payouts.xml?export=${id}`, { token: coord_exp }), 404, 'not_found');
      expectProblem(await t.request('GET', `/api/v1/currencies/EXP/payouts.csv?export=${id}`, { token: coord_exp }), 404, 'not_found');
    }
    // An export of EXP is not found under another currency.
    expectProblem(await t.request('GET', `/api/v1/currencies/NOP/payouts.csv?export=${first_export.id}`, { token: t.adminToken }), 404, 'not_found');
  });

  it('two exports at the same moment: one gets the payouts, the other 409; no payout is in both', async () => {
    for (let round = 0; round < 3; round += 1) {
      await approve((await redemption(tablet_a, '10')).id);
      await approve((await redemption(tablet_b, '20')).id);
      const replies = await Promise.all([1, 2, 3].map(() => t.request('POST', '/api/v1/currencies/EXP/payout-exports', { token: coord_exp })));
      const made = replies.filter((r) => r.status === 201);
      expect(made).toHaveLength(1);
      expect(made[0]!.body).toMatchObject({ payouts_count: 2, total_euros: '3.00' });
      for (const reply of replies.filter((r) => r.status !== 201)) expectProblem(reply, 409, 'nothing_to_export');
    }
    const [check] = await t.sql<{ mismatched: number }[]>`
      SELECT count(*)::int AS mismatched FROM payout_exports e
      WHERE e.payouts_count <> (SELECT count(*) FROM payouts p WHERE p.currency_id = e.currency_id AND p.export_id = e.id)
         OR e.total_euros <> (SELECT sum(euro_amount) FROM payouts p WHERE p.currency_id = e.currency_id AND p.export_id = e.id)`;
    expect(check?.mismatched).toBe(0);
  });

  it('payouts and exports are per currency: another currency\'s coordinator 403, a tablet 403', async () => {
    const before = await shopCounts(t);
    for (const [method, path] of [
      ['GET', '/api/v1/currencies/EXP/payouts'], ['GET', '/api/v1/currencies/EXP/payouts?unexported=true'],
      ['POST', '/api/v1/currencies/EXP/payout-exports'], ['GET', '/api/v1/currencies/EXP/payouts.csv'],
      ['GET', `/api/v1/currencies/EXP/payouts.xml?export=${first_export.id}`],
      ['GET', '/api/v1/currencies/EXP/redemptions'],
    ] as const) {
      expectProblem(await t.request(method, path, { token: coord_tor }), 403, 'forbidden');
      expectProblem(await t.request(method, path, { token: tablet_a.token }), 403, 'forbidden');
      expectProblem(await t.request(method, path), 401, 'unauthenticated');
    }
    expect(await shopCounts(t)).toEqual(before);
    expectProblem(await t.request('GET', '/api/v1/currencies/EXP/payouts?unexported=maybe', { token: coord_exp }), 422, 'validation_failed');
    // Shop names and ids in the payouts are the shops'.
    const listed = await t.request('GET', '/api/v1/currencies/EXP/payouts', { token: coord_exp });
    expect(new Set(listed.body.items.map((p: { shop: { account: string } }) => p.shop.account))).toEqual(new Set([shop_a, shop_b]));
  });
});
