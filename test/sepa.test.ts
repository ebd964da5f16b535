import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderPain001, sepaText, type SepaFile, type SepaPayment } from '../src/ledger/sepa.js';

// Note: the output is not validated against the official pain.001.001.03 XSD here, because the
// schema is not available offline; element order is checked against the XSD sequences below.

function payment(overrides: Partial<SepaPayment> = {}): SepaPayment {
  return {
    end_to_end_id: 'PAYOUT-1',
    amount_eur: '123.40',
    creditor_name: 'Bakkerij De Zon',
    creditor_iban: 'NL91ABNA0417164300',
    remittance: 'Uitbetaling wijkmunten november',
    ...overrides,
  };
}

function sepaFile(overrides: Partial<SepaFile> = {}): SepaFile {
  return {
    message_id: 'WM-2026-11-26-001',
    // Local time on purpose: CreDtTm is written in local time.
    created_at: new Date(2026, 10, 26, 12, 0, 0, 789),
    execution_date: '2026-11-27',
    initiator_name: 'Wijkmunt vzw',
    debtor_name: 'Wijkmunt vzw',
    debtor_iban: 'BE68 5390 0754 7034',
    debtor_bic: 'GKCCBEBB',
    payment_info_id: 'PMT-2026-11-26-001',
    payments: [
      payment(),
      payment({ end_to_end_id: 'PAYOUT-2', amount_eur: '0.10', creditor_iban: 'fr14 2004 1010 0505 0001 3m02 606' }),
      payment({ end_to_end_id: 'PAYOUT-3', amount_eur: '1000.00', creditor_iban: 'DE89370400440532013000' }),
    ],
    ...overrides,
  };
}

type Ordered = Array<Record<string, unknown>>;

/** Parses with element order kept, to check sequences. */
function parseOrdered(xml: string): Ordered {
  return new XMLParser({ preserveOrder: true, ignoreAttributes: false, parseTagValue: false }).parse(xml) as Ordered;
}

/** Child element names of the element at `path` (each step the first element of that name). */
function childNames(tree: Ordered, path: string[]): string[] {
  let nodes = tree;
  for (const step of path) {
    const node = nodes.find((candidate) => step in candidate);
    if (node === undefined) throw new Error(`no ${step} in path ${path.join('/')}`);
    nodes = node[step] as Ordered;
  }
  return nodes.flatMap((node) => Object.keys(node).filter((key) => key !== ':@' && key !== '#text'));
}

interface Parsed {
  Document: {
    '@_xmlns': string;
    CstmrCdtTrfInitn: {
      GrpHdr: Record<string, unknown> & { NbOfTxs: string; CtrlSum: string; CreDtTm: string; InitgPty: { Nm: string } };
      PmtInf: Record<string, unknown> & {
        NbOfTxs: string;
        CtrlSum: string;
        Dbtr: { Nm: string };
        DbtrAcct: { Id: { IBAN: string } };
        DbtrAgt: { FinInstnId: { BIC?: string; Othr?: { Id: string } } };
        CdtTrfTxInf: Array<{
          PmtId: { EndToEndId: string };
          Amt: { InstdAmt: { '#text': string; '@_Ccy': string } };
          Cdtr: { Nm: string };
          CdtrAcct: { Id: { IBAN: string } };
          RmtInf?: { Ustrd: string };
        }>;
      };
    };
  };
}

/** Checks well-formedness with a real XML parser, then reads the values back as strings. */
function parse(xml: string): Parsed['Document']['CstmrCdtTrfInitn'] & { xmlns: string } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parsed = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    isArray: (name) => name === 'CdtTrfTxInf',
  }).parse(xml) as Parsed;
  return { ...parsed.Document.CstmrCdtTrfInitn, xmlns: parsed.Document['@_xmlns'] };
}

describe('renderPain001', () => {
  it('writes header, batch and transactions with exact counts and sums', () => {
    const xml = renderPain001(sepaFile());
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n')).toBe(true);
    const doc = parse(xml);
    expect(doc.xmlns).toBe('urn:iso:std:iso:20022:tech:xsd:pain.001.001.03');
    expect(doc.GrpHdr).toMatchObject({
      MsgId: 'WM-2026-11-26-001',
      CreDtTm: '2026-11-26T12:00:00',
      NbOfTxs: '3',
      CtrlSum: '1123.50',
      InitgPty: { Nm: 'Wijkmunt vzw' },
    });
    expect(doc.PmtInf).toMatchObject({
      PmtInfId: 'PMT-2026-11-26-001',
      PmtMtd: 'TRF',
      BtchBookg: 'true',
      NbOfTxs: '3',
      CtrlSum: '1123.50',
      PmtTpInf: { SvcLvl: { Cd: 'SEPA' } },
      ReqdExctnDt: '2026-11-27',
      Dbtr: { Nm: 'Wijkmunt vzw' },
      DbtrAcct: { Id: { IBAN: 'BE68539007547034' } },
      DbtrAgt: { FinInstnId: { BIC: 'GKCCBEBB' } },
      ChrgBr: 'SLEV',
    });
    const transactions = doc.PmtInf.CdtTrfTxInf;
    expect(transactions.map((tx) => tx.PmtId.EndToEndId)).toEqual(['PAYOUT-1', 'PAYOUT-2', 'PAYOUT-3']);
    expect(transactions.map((tx) => tx.Amt.InstdAmt['#text'])).toEqual(['123.40', '0.10', '1000.00']);
    expect(transactions.map((tx) => tx.Amt.InstdAmt['@_Ccy'])).toEqual(['EUR', 'EUR', 'EUR']);
    expect(transactions.map((tx) => tx.CdtrAcct.Id.IBAN)).toEqual([
      'NL91ABNA0417164300',
      'FR1420041010050500013M02606',
      'DE89370400440532013000',
    ]);
    expect(transactions[0]?.RmtInf?.Ustrd).toBe('Uitbetaling wijkmunten november');
  });

  it('sums exactly where binary floating point would not', () => {
    // 0.1 + 0.2 is 0.30000000000000004 as JS numbers.
    const doc = parse(
      renderPain001(
        sepaFile({
          payments: [
            payment({ amount_eur: '0.10' }),
            payment({ end_to_end_id: 'PAYOUT-2', amount_eur: '0.20' }),
            payment({ end_to_end_id: 'PAYOUT-3', amount_eur: '999999999.99' }),
            payment({ end_to_end_id: 'PAYOUT-4', amount_eur: '999999999.99' }),
          ],
        }),
      ),
    );
    expect(doc.GrpHdr.CtrlSum).toBe('2000000000.28');
    expect(doc.PmtInf.CtrlSum).toBe('2000000000.28');
    expect(doc.GrpHdr.NbOfTxs).toBe('4');

    const small = parse(renderPain001(sepaFile({ payments: [payment({ amount_eur: '0.10' }), payment({ end_to_end_id: 'E2', amount_eur: '0.20' })] })));
    expect(small.GrpHdr.CtrlSum).toBe('0.30');
  });

  it('writes every amount and sum with exactly two decimals', () => {
    const xml = renderPain001(sepaFile({ payments: [payment({ amount_eur: '0007.00' }), payment({ end_to_end_id: 'E2', amount_eur: '5.50' })] }));
    const amounts = [...xml.matchAll(/<(InstdAmt Ccy="EUR"|CtrlSum)>([^<]*)</g)].map((match) => match[2]);
    expect(amounts).toEqual(['12.50', '12.50', '7.00', '5.50']);
    for (const amount of amounts) expect(amount).toMatch(/^\d+\.\d{2}$/);
  });

  it('writes the elements in the order of the pain.001.001.03 XSD', () => {
    const tree = parseOrdered(renderPain001(sepaFile()));
    expect(childNames(tree, [])).toEqual(['?xml', 'Document']);
    expect(childNames(tree, ['Document'])).toEqual(['CstmrCdtTrfInitn']);
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn'])).toEqual(['GrpHdr', 'PmtInf']);
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn', 'GrpHdr'])).toEqual([
      'MsgId', 'CreDtTm', 'NbOfTxs', 'CtrlSum', 'InitgPty',
    ]);
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn', 'PmtInf'])).toEqual([
      'PmtInfId', 'PmtMtd', 'BtchBookg', 'NbOfTxs', 'CtrlSum', 'PmtTpInf', 'ReqdExctnDt',
      'Dbtr', 'DbtrAcct', 'DbtrAgt', 'ChrgBr', 'CdtTrfTxInf', 'CdtTrfTxInf', 'CdtTrfTxInf',
    ]);
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn', 'PmtInf', 'CdtTrfTxInf'])).toEqual([
      'PmtId', 'Amt', 'Cdtr', 'CdtrAcct', 'RmtInf',
    ]);
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn', 'PmtInf', 'CdtTrfTxInf', 'Amt'])).toEqual(['InstdAmt']);
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn', 'PmtInf', 'DbtrAgt', 'FinInstnId'])).toEqual(['BIC']);
  });

  it('indents nested elements', () => {
    const xml = renderPain001(sepaFile());
    expect(xml).toContain('\n  <CstmrCdtTrfInitn>\n    <GrpHdr>\n      <MsgId>WM-2026-11-26-001</MsgId>\n');
    expect(xml).toContain('\n        <Amt>\n          <InstdAmt Ccy="EUR">123.40</InstdAmt>\n');
    expect(xml.endsWith('</Document>\n')).toBe(true);
  });

  it('transliterates names with accents, ampersands and emoji into well-formed XML', () => {
    const xml = renderPain001(
      sepaFile({
        initiator_name: 'Wijkmunt & Co <vzw>',
        debtor_name: 'Crèche "Les Petits Œufs"',
        payments: [
          payment({ creditor_name: 'Café Ça & Zoë 🍰 Bäckerei Straße', remittance: 'Merci 😀 — prix spécial: 10€ <bon> l\'été' }),
          payment({ end_to_end_id: 'E2', creditor_name: 'Søren Ølgaard', remittance: '🎉🎉' }),
        ],
      }),
    );
    expect(xml).not.toMatch(/[^\x09\x0a\x20-\x7e]/); // plain ASCII only
    const doc = parse(xml);
    expect(doc.GrpHdr.InitgPty.Nm).toBe('Wijkmunt + Co (vzw)');
    expect(doc.PmtInf.Dbtr.Nm).toBe("Creche 'Les Petits OEufs'");
    const [first, second] = doc.PmtInf.CdtTrfTxInf;
    expect(first?.Cdtr.Nm).toBe('Cafe Ca + Zoe Backerei Strasse');
    expect(first?.RmtInf?.Ustrd).toBe("Merci - prix special: 10EUR (bon) l'ete");
    expect(second?.Cdtr.Nm).toBe('Soren Olgaard');
    // Nothing of the remittance survives, and an empty Ustrd is invalid: RmtInf is left out.
    expect(second?.RmtInf).toBeUndefined();
  });

  it('cuts a creditor name longer than 70 characters and remittance longer than 140', () => {
    const long_name = `${'Vereniging van Buurtbewoners '.repeat(3)}Oost`;
    expect(long_name.length).toBeGreaterThan(70);
    const doc = parse(renderPain001(sepaFile({ payments: [payment({ creditor_name: long_name, remittance: 'x'.repeat(200) })] })));
    const name = doc.PmtInf.CdtTrfTxInf[0]?.Cdtr.Nm ?? '';
    expect(name.length).toBeLessThanOrEqual(70);
    expect(name).toBe(long_name.slice(0, 70).trim());
    expect(doc.PmtInf.CdtTrfTxInf[0]?.RmtInf?.Ustrd).toBe('x'.repeat(140));
  });

  it('writes NOTPROVIDED without a debtor BIC', () => {
    const file = sepaFile();
    delete file.debtor_bic;
    const xml = renderPain001(file);
    expect(parse(xml).PmtInf.DbtrAgt).toEqual({ FinInstnId: { Othr: { Id: 'NOTPROVIDED' } } });
    expect(xml).toContain('<FinInstnId>\n          <Othr>\n            <Id>NOTPROVIDED</Id>\n          </Othr>\n        </FinInstnId>');
    expect(xml).not.toContain('<BIC>');
  });

  it('writes CreDtTm as local time without milliseconds', () => {
    const doc = parse(renderPain001(sepaFile({ created_at: new Date(2026, 0, 5, 7, 8, 9, 999) })));
    expect(doc.GrpHdr.CreDtTm).toBe('2026-01-05T07:08:09');
  });

  it('throws on invalid input', () => {
    expect(() => renderPain001(sepaFile({ payments: [] }))).toThrow(/at least one payment/);
    expect(() => renderPain001(sepaFile({ debtor_iban: 'BE68539007547035' }))).toThrow(/debtor_iban is not a valid/);
    expect(() => renderPain001(sepaFile({ payments: [payment({ creditor_iban: 'NL91ABNA0417164301' })] }))).toThrow(
      /payments\[0\]\.creditor_iban is not a valid/,
    );
    expect(() => renderPain001(sepaFile({ payments: [payment({ creditor_iban: 'SA0380000000608010167519' })] }))).toThrow(/creditor_iban/);
    for (const amount_eur of ['0.00', '1', '1.5', '1.234', '-1.00', '1,00', ' 1.00', '1e3', '1000000000.00']) {
      expect(() => renderPain001(sepaFile({ payments: [payment({ amount_eur })] })), amount_eur).toThrow(/amount_eur/);
    }
    for (const id of ['', 'x'.repeat(36), 'ID_1', 'ID&1', 'Ïd', ' ID', 'ID ', '/ID', 'ID/', 'I//D']) {
      expect(() => renderPain001(sepaFile({ message_id: id })), id).toThrow(/message_id/);
      expect(() => renderPain001(sepaFile({ payment_info_id: id })), id).toThrow(/payment_info_id/);
      expect(() => renderPain001(sepaFile({ payments: [payment({ end_to_end_id: id })] })), id).toThrow(/end_to_end_id/);
    }
    expect(() => renderPain001(sepaFile({ message_id: 'x'.repeat(35) }))).not.toThrow();
    expect(() => renderPain001(sepaFile({ execution_date: '2026-02-30' }))).toThrow(/execution_date/);
    expect(() => renderPain001(sepaFile({ execution_date: '27/11/2026' }))).toThrow(/execution_date/);
    expect(() => renderPain001(sepaFile({ created_at: new Date(Number.NaN) }))).toThrow(/created_at/);
    expect(() => renderPain001(sepaFile({ created_at: new Date(Date.UTC(10000, 5, 1)) }))).toThrow(/created_at/);
    expect(() => renderPain001(sepaFile({ debtor_bic: 'GKCC' }))).toThrow(/debtor_bic/);
    expect(() => renderPain001(sepaFile({ payments: [payment({ creditor_name: '🍰 ✨' })] }))).toThrow(/creditor_name is empty/);
  });

  it('normalises a lower-case BIC', () => {
    expect(parse(renderPain001(sepaFile({ debtor_bic: 'gebabebbxxx' }))).PmtInf.DbtrAgt).toEqual({ FinInstnId: { BIC: 'GEBABEBBXXX' } });
  });
});

describe('sepaText', () => {
  it('strips accents', () => {
    expect(sepaText('Café Ça', 70)).toBe('Cafe Ca');
    expect(sepaText('Ærøskøbing Łódź Straße Œuvre', 70)).toBe('AEroskobing Lodz Strasse OEuvre');
    expect(sepaText('ﬁne Ｗｉｊｋ ²', 70)).toBe('fine Wijk 2');
  });

  it('maps other characters to a close equivalent or a space', () => {
    expect(sepaText('Jan & Piet', 70)).toBe('Jan + Piet');
    expect(sepaText('a<b>c"d', 70)).toBe("a(b)c'd");
    expect(sepaText('semi;colon_under', 70)).toBe('semi,colon-under');
    expect(sepaText('tab\there\nnewline', 70)).toBe('tab here newline');
    expect(sepaText('Ελλάδα Москва 東京', 70)).toBe('');
    expect(sepaText('🏠 Wijk 👨‍👩‍👧 huis', 70)).toBe('Wijk huis');
  });

  it('keeps the whole SEPA set unchanged', () => {
    const all = "abcxyz ABCXYZ 0123456789 / - ? : ( ) . , ' +";
    expect(sepaText(all, 140)).toBe(all);
  });

  it('collapses spaces, trims and cuts without leaving a trailing space', () => {
    expect(sepaText('   a    b   ', 70)).toBe('a b');
    expect(sepaText('abcd efgh', 5)).toBe('abcd');
    expect(sepaText('abcdefgh', 3)).toBe('abc');
    expect(sepaText('abc', 0)).toBe('');
  });

  it('never leaves XML special characters except the apostrophe', () => {
    const text = sepaText('<&>"\' &amp; ]]>', 70);
    expect(text).not.toMatch(/[<>&"]/);
    expect(XMLValidator.validate(`<a>${text}</a>`)).toBe(true);
  });

  it('rejects a nonsensical max_length', () => {
    expect(() => sepaText('a', -1)).toThrow(/max_length/);
    expect(() => sepaText('a', 1.5)).toThrow(/max_length/);
  });
});
