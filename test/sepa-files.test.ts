/**
 * Issue #18, point 3: the SEPA payout file in the EPC's current format. A currency's payout
 * exports download as pain.001.001.09 (EPC132-08, 2023) unless an admin sets its
 * `sepa_version` to '03'; both are checked against the published XSDs (test/fixtures/iso20022)
 * through the live routes, on a real PostgreSQL. The remittance text keeps the cash-out's
 * reference and id whatever the currency's name.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue } from './support/http-fixtures.js';
import { redeem, shopWithTablet } from './support/shop-fixtures.js';
import type { Tablet } from './support/shop-fixtures.js';
import { schemaErrors } from './support/xsd.js';
import type { SepaVersion } from '../src/ledger/sepa.js';


/** This month in Belgium, as the remittance text names a payout made now ("2026-12"). */
const month_now = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels', year: 'numeric', month: '2-digit' }).format(new Date());
let t: TestApp;

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === 'CdtTrfTxInf' });
const sepa_set = /^[A-Za-z0-9/\-?:().,'+ ]*$/;
const payer = { payer_name: 'Stad Gent - Dienst Wijkmunten', payer_iban: 'BE71 0961 2345 6769', payer_bic: 'GKCCBEBB' };

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t?.close();
});

/** A currency at €0.10 a coin, with the city's paying account set. */
async function payingCurrency(code: string, account: Record<string, string> = payer): Promise<void> {
  await createCurrency(t, code, 0);
  const patched = await t.request('PATCH', `/api/v1/currencies/${code}`, { token: t.adminToken, body: account });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
}

/** A shop with a tablet and `coins` issued to it. */
async function fundedShop(currency: string, coins: string, name?: string): Promise<Tablet> {
  const { shop, tablet } = await shopWithTablet(t, currency, name === undefined ? {} : { name });
  await issue(t, currency, shop.account, coins);
  return tablet;
}

/** Asks for a cash-out of `amount` coins and approves it; returns the cash-out and its payout. */
async function paidOut(tablet: Tablet, amount: string): Promise<{ id: string; payout: { reference: string; euro_amount: string } }> {
  const asked = await redeem(t, tablet, amount);
  expect(asked.status, JSON.stringify(asked.body)).toBe(201);
  const approved = await t.request('POST', `/api/v1/redemptions/${asked.body.id}/approve`, { token: t.adminToken });
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  return { id: asked.body.id as string, payout: approved.body.payout };
}

interface Export {
  id: string;
  message_id: string;
  payouts_count: number;
  total_euros: string;
  created_at: string;
  xml_url: string;
}

async function makeExport(code: string): Promise<Export> {
  const created = await t.request('POST', `/api/v1/currencies/${code}/payout-exports`, { token: t.adminToken });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as Export;
}

/** GET /currencies/{code}/payouts.xml?export=…: the file, after checking the answer's headers. */
async function download(code: string, exported: Export): Promise<string> {
  const file = await t.request('GET', `/api/v1/currencies/${code}/payouts.xml?export=${exported.id}`, { token: t.adminToken });
  expect(file.status, JSON.stringify(file.body)).toBe(200);
  expect(file.headers.get('content-type')).toMatch(/^application\/xml/);
  expect(file.headers.get('content-disposition')).toContain(`${exported.message_id}.xml`);
  return file.body as string;
}

/** Valid against the XSD of `version` and not against the other one. */
async function expectValid(version: SepaVersion, xml: string): Promise<void> {
  expect(await schemaErrors(version, [xml])).toEqual([[]]);
  const [other] = await schemaErrors(version === '09' ? '03' : '09', [xml]);
  expect(other).not.toEqual([]);
}

function parse(xml: string): any {
  return parser.parse(xml).Document;
}

/** "123.40" → 12340n. */
function cents(euros: string): bigint {
  expect(euros).toMatch(/^\d+\.\d{2}$/);
  return BigInt(euros.replace('.', ''));
}

/** The currency's sepa_version as the database holds it. */
async function storedVersion(code: string): Promise<string | undefined> {
  const [row] = await t.sql<{ sepa_version: string }[]>`SELECT sepa_version FROM currencies WHERE code = ${code}`;
  return row?.sepa_version;
}

describe('the payout file of an export', () => {
  it('is pain.001.001.09 by default from the live route, valid against the EPC XSD, with names mapped into the SEPA set', async () => {
    await payingCurrency('NEW');
    const listed = await t.request('GET', '/api/v1/currencies', { token: t.adminToken });
    expect(listed.body.items.find((c: { code: string }) => c.code === 'NEW')).toMatchObject({ sepa_version: '09' });
    expect(await storedVersion('NEW')).toBe('09');

    const names = ['Bäckerei Straße & Zoë 🍞', '東京 🍣', 'Crème "Brûlée" <Gent>; Œuf_1'];
    const tablets = [];
    for (const name of names) tablets.push(await fundedShop('NEW', '5000', name));
    const paid = [await paidOut(tablets[0]!, '1234'), await paidOut(tablets[1]!, '1'), await paidOut(tablets[2]!, '777')];
    const exported = await makeExport('NEW');
    const xml = await download('NEW', exported);
    await expectValid('09', xml);
    expect(xml).not.toMatch(/[^\x09\x0a\x20-\x7e]/);

    const doc = parse(xml);
    expect(doc['@_xmlns']).toBe('urn:iso:std:iso:20022:tech:xsd:pain.001.001.09');
    const { GrpHdr, PmtInf } = doc.CstmrCdtTrfInitn;
    expect(GrpHdr).toMatchObject({ MsgId: exported.message_id, NbOfTxs: '3', CtrlSum: exported.total_euros, InitgPty: { Nm: 'Stad Gent - Dienst Wijkmunten' } });
    expect(exported.total_euros).toBe('201.20');
    const tomorrow = new Date(Date.parse(exported.created_at) + 86_400_000).toISOString().slice(0, 10);
    expect(PmtInf).toMatchObject({
      PmtMtd: 'TRF', NbOfTxs: '3', CtrlSum: '201.20', PmtTpInf: { SvcLvl: { Cd: 'SEPA' } }, ReqdExctnDt: { Dt: tomorrow },
      DbtrAcct: { Id: { IBAN: 'BE71096123456769' } }, DbtrAgt: { FinInstnId: { BICFI: 'GKCCBEBB' } }, ChrgBr: 'SLEV',
    });
    const txs = PmtInf.CdtTrfTxInf as any[];
    expect(txs.map((tx) => tx.Cdtr.Nm)).toEqual([
      'Backerei Strasse + Zoe', `Shop ${paid[1]!.payout.reference}`, "Creme 'Brulee' (Gent), OEuf-1",
    ]);
    txs.forEach((tx, i) => {
      expect(tx.PmtId.EndToEndId).toBe(paid[i]!.payout.reference);
      expect(tx.Amt.InstdAmt['#text']).toBe(paid[i]!.payout.euro_amount);
      expect(tx.CdtrAgt).toBeUndefined();
      expect(tx.RmtInf.Ustrd).toBe(`${paid[i]!.payout.reference} Inwisseling ${month_now} Coin NEW`);
      for (const text of [tx.Cdtr.Nm, tx.RmtInf.Ustrd]) expect(text).toMatch(sepa_set);
    });
  });

  it('sepa_version 03 set with PATCH: the same export downloads as pain.001.001.03, valid against its XSD; 09 switches back', async () => {
    await payingCurrency('OLD');
    const tablet = await fundedShop('OLD', '5000', 'Fietsherstel Rabot');
    const paid = [await paidOut(tablet, '100'), await paidOut(tablet, '2345')];
    const exported = await makeExport('OLD');
    const current = await download('OLD', exported);
    await expectValid('09', current);

    const patched = await t.request('PATCH', '/api/v1/currencies/OLD', { token: t.adminToken, body: { sepa_version: '03' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ code: 'OLD', sepa_version: '03', payer: { bic: 'GKCCBEBB' } });
    expect(await storedVersion('OLD')).toBe('03');
    const [audit] = await t.sql<{ changes: unknown }[]>`
      SELECT changes FROM audit_log WHERE action = 'currency.update' AND object_id = 'OLD' ORDER BY id DESC LIMIT 1`;
    expect(audit?.changes).toEqual({ sepa_version: '03' });

    const xml = await download('OLD', exported);
    await expectValid('03', xml);
    const doc = parse(xml);
    expect(doc['@_xmlns']).toBe('urn:iso:std:iso:20022:tech:xsd:pain.001.001.03');
    const { GrpHdr, PmtInf } = doc.CstmrCdtTrfInitn;
    // The same export: same message id, same payments; only the version's elements differ.
    expect(GrpHdr).toMatchObject({ MsgId: exported.message_id, NbOfTxs: '2', CtrlSum: '244.50' });
    expect(PmtInf.ReqdExctnDt).toBe(parse(current).CstmrCdtTrfInitn.PmtInf.ReqdExctnDt.Dt);
    expect(PmtInf.DbtrAgt).toEqual({ FinInstnId: { BIC: 'GKCCBEBB' } });
    expect(PmtInf.CdtTrfTxInf.map((tx: any) => tx.PmtId.EndToEndId)).toEqual(paid.map((p) => p.payout.reference));

    // A new export of a .03 currency is .03 too; 09 switches it back.
    await paidOut(tablet, '5');
    await expectValid('03', await download('OLD', await makeExport('OLD')));
    const back = await t.request('PATCH', '/api/v1/currencies/OLD', { token: t.adminToken, body: { sepa_version: '09' } });
    expect(back.body.sepa_version).toBe('09');
    expect(await download('OLD', exported)).toBe(current);
  });

  it('an invalid sepa_version is 422 validation_failed and changes nothing; only an admin sets it', async () => {
    await payingCurrency('BAD');
    const before = await t.sql`SELECT * FROM currencies WHERE code = 'BAD'`;
    const [audits_before] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log WHERE object_id = 'BAD'`;
    for (const sepa_version of ['3', '003', '04', '10', '', ' 09', '09 ', 'pain.001.001.09', 'V09', 9, 3, null, true, ['09'], { version: '09' }]) {
      const reply = await t.request('PATCH', '/api/v1/currencies/BAD', { token: t.adminToken, body: { sepa_version } });
      expectProblem(reply, 422, 'validation_failed');
      // With a valid change beside it, nothing of the body is applied either.
      const mixed = await t.request('PATCH', '/api/v1/currencies/BAD', { token: t.adminToken, body: { name: 'Renamed', sepa_version } });
      expectProblem(mixed, 422, 'validation_failed');
    }
    const coordinator = (await t.createStaff('coordinator', [before[0]!.id as number])).token;
    expectProblem(await t.request('PATCH', '/api/v1/currencies/BAD', { token: coordinator, body: { sepa_version: '03' } }), 403, 'forbidden');
    expect(await t.sql`SELECT * FROM currencies WHERE code = 'BAD'`).toEqual(before);
    const [audits_after] = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log WHERE object_id = 'BAD'`;
    expect(audits_after).toEqual(audits_before);
    // The database refuses a version the code does not write, too.
    await expect(t.sql`UPDATE currencies SET sepa_version = '04' WHERE code = 'BAD'`).rejects.toThrow(/currencies_sepa_version_check/);
  });

  it('without a payer BIC: the debtor agent is NOTPROVIDED, valid in both versions', async () => {
    await payingCurrency('NOB', { payer_name: payer.payer_name, payer_iban: payer.payer_iban });
    const tablet = await fundedShop('NOB', '1000');
    await paidOut(tablet, '250');
    const exported = await makeExport('NOB');
    for (const version of ['09', '03'] as const) {
      const patched = await t.request('PATCH', '/api/v1/currencies/NOB', { token: t.adminToken, body: { sepa_version: version } });
      expect(patched.body).toMatchObject({ sepa_version: version, payer: { bic: null } });
      const xml = await download('NOB', exported);
      await expectValid(version, xml);
      expect(parse(xml).CstmrCdtTrfInitn.PmtInf.DbtrAgt).toEqual({ FinInstnId: { Othr: { Id: 'NOTPROVIDED' } } });
      expect(xml).not.toMatch(/<BIC(FI)?>/);
    }
  });

  it('a currency name of 70 or 200 characters never pushes the reference or the month out of Ustrd', async () => {
    await payingCurrency('LNG');
    const tablet = await fundedShop('LNG', '1000');
    for (const name of [`Buurtmunt ${'Rabot-Blaisantvest '.repeat(4)}`.slice(0, 70), 'Wijkmunt van de Brugse Poort '.repeat(7).slice(0, 200)]) {
      expect([70, 200]).toContain(name.length);
      const renamed = await t.request('PATCH', '/api/v1/currencies/LNG', { token: t.adminToken, body: { name } });
      expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
      const paid = await paidOut(tablet, '10');
      const exported = await makeExport('LNG');
      for (const version of ['09', '03'] as const) {
        await t.request('PATCH', '/api/v1/currencies/LNG', { token: t.adminToken, body: { sepa_version: version } });
        const xml = await download('LNG', exported);
        await expectValid(version, xml);
        const [tx] = parse(xml).CstmrCdtTrfInitn.PmtInf.CdtTrfTxInf;
        const ustrd = tx.RmtInf.Ustrd as string;
        expect(ustrd.length).toBeLessThanOrEqual(140);
        expect(ustrd.startsWith(`${paid.payout.reference} Inwisseling ${month_now} `)).toBe(true);
        // What is left of the 140 characters holds the start of the name.
        expect(name.startsWith(ustrd.slice(`${paid.payout.reference} Inwisseling ${month_now} `.length))).toBe(true);
      }
    }
  });

  it('many payouts in one export: NbOfTxs and CtrlSum exact, equal to the export\'s total, valid in both versions', async () => {
    await payingCurrency('MNY');
    const tablets = [await fundedShop('MNY', '1000000', 'Kruidenierszaak De Hoek'), await fundedShop('MNY', '1000000', 'Brasserie Ça Va')];
    const count = 60;
    const paid = [];
    // Amounts in coins of 1 to 60 thousand-odd: euro values with all sorts of cents.
    for (let i = 1; i <= count; i += 1) paid.push(await paidOut(tablets[i % 2]!, String(i * 1013)));
    const exported = await makeExport('MNY');
    const total = paid.reduce((sum, p) => sum + cents(p.payout.euro_amount), 0n);
    expect(cents(exported.total_euros)).toBe(total);
    expect(exported.payouts_count).toBe(count);
    for (const version of ['09', '03'] as const) {
      await t.request('PATCH', '/api/v1/currencies/MNY', { token: t.adminToken, body: { sepa_version: version } });
      const xml = await download('MNY', exported);
      await expectValid(version, xml);
      const { GrpHdr, PmtInf } = parse(xml).CstmrCdtTrfInitn;
      for (const header of [GrpHdr, PmtInf]) expect(header).toMatchObject({ NbOfTxs: String(count), CtrlSum: exported.total_euros });
      const txs = PmtInf.CdtTrfTxInf as any[];
      expect(txs.reduce((sum: bigint, tx: any) => sum + cents(tx.Amt.InstdAmt['#text']), 0n)).toBe(total);
      expect(new Set(txs.map((tx) => tx.PmtId.EndToEndId)).size).toBe(count);
    }
  });
});
