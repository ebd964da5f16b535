import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { renderPain001, sepaText, sepa_versions, type SepaFile, type SepaPayment, type SepaVersion } from '../src/ledger/sepa.js';
import { schemaErrors } from './support/xsd.js';

// Every file written here is also validated against the published schema of its version
// (test/fixtures/iso20022), at the end of this file.

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
    version: '09',
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
        ReqdExctnDt: string | { Dt: string };
        Dbtr: { Nm: string };
        DbtrAcct: { Id: { IBAN: string } };
        DbtrAgt: { FinInstnId: { BIC?: string; BICFI?: string; Othr?: { Id: string } } };
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

/** Every file rendered in this file, by version: validated against the schemas at the end. */
const rendered: Record<SepaVersion, string[]> = { '09': [], '03': [] };

/** renderPain001, keeping the file for the schema check. */
function render(file: SepaFile): string {
  const xml = renderPain001(file);
  rendered[file.version].push(xml);
  return xml;
}

describe('renderPain001', () => {
  it('writes header, batch and transactions with exact counts and sums (pain.001.001.09)', () => {
    const xml = render(sepaFile());
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n')).toBe(true);
    const doc = parse(xml);
    expect(doc.xmlns).toBe('urn:iso:std:iso:20022:tech:xsd:pain.001.001.09');
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
      ReqdExctnDt: { Dt: '2026-11-27' },
      Dbtr: { Nm: 'Wijkmunt vzw' },
      DbtrAcct: { Id: { IBAN: 'BE68539007547034' } },
      DbtrAgt: { FinInstnId: { BICFI: 'GKCCBEBB' } },
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

  it('writes pain.001.001.03 where asked: its namespace, a plain ReqdExctnDt and BIC, the rest alike', () => {
    const xml = render(sepaFile({ version: '03' }));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n')).toBe(true);
    const doc = parse(xml);
    expect(doc.xmlns).toBe('urn:iso:std:iso:20022:tech:xsd:pain.001.001.03');
    expect(doc.PmtInf.ReqdExctnDt).toBe('2026-11-27');
    expect(doc.PmtInf.DbtrAgt).toEqual({ FinInstnId: { BIC: 'GKCCBEBB' } });
    // Only those three differ: the same file in .09 with them swapped back is the same text.
    const current = render(sepaFile());
    expect(current
      .replace('pain.001.001.09', 'pain.001.001.03')
      .replace(/<ReqdExctnDt>\n\s*<Dt>([^<]*)<\/Dt>\n\s*<\/ReqdExctnDt>/, '<ReqdExctnDt>$1</ReqdExctnDt>')
      .replace(/<(\/?)BICFI>/g, '<$1BIC>')).toBe(xml);
  });

  it('sums exactly where binary floating point would not', () => {
    // 0.1 + 0.2 is 0.30000000000000004 as JS numbers.
    const doc = parse(
      render(
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

    const small = parse(render(sepaFile({ payments: [payment({ amount_eur: '0.10' }), payment({ end_to_end_id: 'E2', amount_eur: '0.20' })] })));
    expect(small.GrpHdr.CtrlSum).toBe('0.30');
  });

  it('writes every amount and sum with exactly two decimals', () => {
    const xml = render(sepaFile({ payments: [payment({ amount_eur: '0007.00' }), payment({ end_to_end_id: 'E2', amount_eur: '5.50' })] }));
    const amounts = [...xml.matchAll(/<(InstdAmt Ccy="EUR"|CtrlSum)>([^<]*)</g)].map((match) => match[2]);
    expect(amounts).toEqual(['12.50', '12.50', '7.00', '5.50']);
    for (const amount of amounts) expect(amount).toMatch(/^\d+\.\d{2}$/);
  });

  it.each(sepa_versions)('writes the elements in the order of the pain.001.001.%s XSD', (version) => {
    const tree = parseOrdered(render(sepaFile({ version })));
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
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn', 'PmtInf', 'DbtrAgt', 'FinInstnId'])).toEqual([version === '09' ? 'BICFI' : 'BIC']);
    expect(childNames(tree, ['Document', 'CstmrCdtTrfInitn', 'PmtInf', 'ReqdExctnDt'])).toEqual(version === '09' ? ['Dt'] : []);
  });

  it('indents nested elements', () => {
    const xml = render(sepaFile());
    expect(xml).toContain('\n  <CstmrCdtTrfInitn>\n    <GrpHdr>\n      <MsgId>WM-2026-11-26-001</MsgId>\n');
    expect(xml).toContain('\n        <Amt>\n          <InstdAmt Ccy="EUR">123.40</InstdAmt>\n');
    expect(xml.endsWith('</Document>\n')).toBe(true);
  });

  it.each(sepa_versions)('transliterates names with accents, ampersands and emoji into well-formed XML (.%s)', (version) => {
    const xml = render(
      sepaFile({
        version,
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
    const doc = parse(render(sepaFile({ payments: [payment({ creditor_name: long_name, remittance: 'x'.repeat(200) })] })));
    const name = doc.PmtInf.CdtTrfTxInf[0]?.Cdtr.Nm ?? '';
    expect(name.length).toBeLessThanOrEqual(70);
    expect(name).toBe(long_name.slice(0, 70).trim());
    expect(doc.PmtInf.CdtTrfTxInf[0]?.RmtInf?.Ustrd).toBe('x'.repeat(140));
  });

  it.each(sepa_versions)('writes NOTPROVIDED without a debtor BIC (.%s)', (version) => {
    const file = sepaFile({ version });
    delete file.debtor_bic;
    const xml = render(file);
    expect(parse(xml).PmtInf.DbtrAgt).toEqual({ FinInstnId: { Othr: { Id: 'NOTPROVIDED' } } });
    expect(xml).toContain('<FinInstnId>\n          <Othr>\n            <Id>NOTPROVIDED</Id>\n          </Othr>\n        </FinInstnId>');
    expect(xml).not.toMatch(/<BIC(FI)?>/);
  });

  it('writes CreDtTm as local time without milliseconds', () => {
    const doc = parse(render(sepaFile({ created_at: new Date(2026, 0, 5, 7, 8, 9, 999) })));
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
    expect(() => renderPain001(sepaFile({ version: '3' as SepaVersion }))).toThrow(/SEPA version/);
    expect(() => renderPain001(sepaFile({ version: '001.001.09' as SepaVersion }))).toThrow(/SEPA version/);
    expect(() => renderPain001(sepaFile({ version: 'toString' as SepaVersion }))).toThrow(/SEPA version/);
  });

  it('normalises a lower-case BIC', () => {
    expect(parse(render(sepaFile({ debtor_bic: 'gebabebbxxx' }))).PmtInf.DbtrAgt).toEqual({ FinInstnId: { BICFI: 'GEBABEBBXXX' } });
    expect(parse(render(sepaFile({ version: '03', debtor_bic: 'gebabebbxxx' }))).PmtInf.DbtrAgt).toEqual({ FinInstnId: { BIC: 'GEBABEBBXXX' } });
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

// Against the published schemas ------------------------------------------------------------------

const creditor_ibans = ['NL91ABNA0417164300', 'FR1420041010050500013M02606', 'DE89370400440532013000', 'BE68539007547034'];

/** Random files: any Unicode in names and remittances, amounts up to the SEPA maximum, with and without a BIC. */
function randomFiles(version: SepaVersion, count: number, seed: number): SepaFile[] {
  const text = fc.string({ unit: 'binary', maxLength: 160 });
  const amount = fc.bigInt(1n, 99_999_999_999n).map((cents) => `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`);
  const randomPayment = fc.record({
    amount_eur: amount,
    // A name always keeps a letter: a bank needs one, and bankFile replaces an unprintable one.
    creditor_name: fc.tuple(text, fc.constantFrom('Bakkerij', 'Café Ça', 'Søren', 'Œuvre & Zoë')).map(([noise, name]) => `${noise} ${name}`),
    creditor_iban: fc.constantFrom(...creditor_ibans),
    remittance: text,
  });
  const file = fc.record({
    payments: fc.array(randomPayment, { minLength: 1, maxLength: 30 }),
    debtor_bic: fc.option(fc.constantFrom('GKCCBEBB', 'gebabebbxxx', 'BBRUBEBB010'), { nil: undefined }),
    debtor_name: fc.tuple(text, fc.constant('Stad Gent')).map(([noise, name]) => `${name} ${noise}`),
  });
  return fc.sample(file, { numRuns: count, seed }).map((drawn) => {
    const made = sepaFile({
      version,
      debtor_name: drawn.debtor_name,
      payments: drawn.payments.map((p, index) => payment({ ...p, end_to_end_id: `E2E-${index + 1}` })),
    });
    if (drawn.debtor_bic === undefined) delete made.debtor_bic;
    else made.debtor_bic = drawn.debtor_bic;
    return made;
  });
}

/** The EPC usage rules a schema cannot say, checked on the text of a file. */
function expectEpcRules(xml: string): void {
  const texts = [...xml.matchAll(/>([^<]+)</g)].map((match) => match[1]!).filter((text) => text.trim() !== '');
  for (const text of texts) expect(text).toMatch(/^[A-Za-z0-9/\-?:().,'+ ]+$/);
  for (const [, name] of xml.matchAll(/<Nm>([^<]*)<\/Nm>/g)) expect(name!.length).toBeLessThanOrEqual(70);
  for (const [, id] of xml.matchAll(/<(?:MsgId|PmtInfId|EndToEndId)>([^<]*)</g)) {
    expect(id!.startsWith('/') || id!.endsWith('/') || id!.includes('//'), id).toBe(false);
  }
  expect(xml).toMatch(/<FinInstnId>\s*(<BIC(FI)?>[A-Z0-9]{8}([A-Z0-9]{3})?<\/BIC(FI)?>|<Othr>\s*<Id>NOTPROVIDED<\/Id>\s*<\/Othr>)\s*<\/FinInstnId>/);
  // Exact control sums: CtrlSum of the header and the batch is the sum of the amounts.
  const amounts = [...xml.matchAll(/<InstdAmt Ccy="EUR">([^<]*)</g)].map((match) => BigInt(match[1]!.replace('.', '')));
  const sum = amounts.reduce((total, amount) => total + amount, 0n);
  const sums = [...xml.matchAll(/<CtrlSum>([^<]*)</g)].map((match) => BigInt(match[1]!.replace('.', '')));
  expect(sums).toEqual([sum, sum]);
  expect([...xml.matchAll(/<NbOfTxs>([^<]*)</g)].map((match) => Number(match[1]))).toEqual([amounts.length, amounts.length]);
}

describe('the files against the published XSDs (test/fixtures/iso20022)', () => {
  it.each(sepa_versions)('every file written above and 40 random ones validate against the pain.001.001.%s XSD and keep the EPC rules', async (version) => {
    const files = [...rendered[version], ...randomFiles(version, 40, version === '09' ? 9 : 3).map(renderPain001)];
    expect(rendered[version].length, 'the tests above ran first').toBeGreaterThan(0);
    const errors = await schemaErrors(version, files);
    errors.forEach((list, index) => expect(list, files[index]).toEqual([]));
    for (const xml of files) expectEpcRules(xml);
  });

  it.each(sepa_versions)('1,000 payouts in one file: exact control sum, valid against the pain.001.001.%s XSD', async (version) => {
    // Amounts 0.01, 0.02, … 10.00: the sum is 1000 · 1001 / 2 cents.
    const payments = Array.from({ length: 1000 }, (_, index) => payment({
      end_to_end_id: `PAYOUT-${index + 1}`, amount_eur: ((index + 1) / 100).toFixed(2),
      creditor_iban: creditor_ibans[index % creditor_ibans.length]!,
    }));
    const xml = renderPain001(sepaFile({ version, payments }));
    const doc = parse(xml);
    expect(doc.GrpHdr.NbOfTxs).toBe('1000');
    expect(doc.GrpHdr.CtrlSum).toBe('5005.00');
    expect(doc.PmtInf.CtrlSum).toBe('5005.00');
    expectEpcRules(xml);
    expect(await schemaErrors(version, [xml])).toEqual([[]]);
  });

  it('a broken file fails: the check is real', async () => {
    const good = renderPain001(sepaFile());
    const old = renderPain001(sepaFile({ version: '03' }));
    const broken09: Record<string, string> = {
      'the .03 namespace': good.replace('pain.001.001.09', 'pain.001.001.03'),
      'a plain ReqdExctnDt': good.replace(/<ReqdExctnDt>\s*<Dt>([^<]*)<\/Dt>\s*<\/ReqdExctnDt>/, '<ReqdExctnDt>$1</ReqdExctnDt>'),
      'BIC instead of BICFI': good.replace(/<(\/?)BICFI>/g, '<$1BIC>'),
      'no CtrlSum in the header': good.replace(/<CtrlSum>[^<]*<\/CtrlSum>/, ''),
      'a 71-character creditor name': good.replace(/<Nm>Bakkerij De Zon<\/Nm>/, `<Nm>${'x'.repeat(71)}</Nm>`),
      'an amount with three decimals': good.replace('>123.40<', '>123.405<'),
      'an amount of zero': good.replace('>123.40<', '>0.00<'),
      'a service level other than SEPA': good.replace('<Cd>SEPA</Cd>', '<Cd>URGP</Cd>'),
      'charges shared': good.replace('<ChrgBr>SLEV</ChrgBr>', '<ChrgBr>SHAR</ChrgBr>'),
      'elements out of order': good.replace(/(<PmtMtd>TRF<\/PmtMtd>)(\s*)(<BtchBookg>true<\/BtchBookg>)/, '$3$2$1'),
      'not well-formed': good.replace('</GrpHdr>', ''),
    };
    const broken03: Record<string, string> = {
      'the .09 namespace': old.replace('pain.001.001.03', 'pain.001.001.09'),
      'ReqdExctnDt with Dt': old.replace(/<ReqdExctnDt>([^<]*)<\/ReqdExctnDt>/, '<ReqdExctnDt><Dt>$1</Dt></ReqdExctnDt>'),
      'BICFI instead of BIC': old.replace(/<(\/?)BIC>/g, '<$1BICFI>'),
      'a lower-case currency': old.replace('Ccy="EUR"', 'Ccy="eur"'),
      'no debtor': old.replace(/<Dbtr>\s*<Nm>[^<]*<\/Nm>\s*<\/Dbtr>/, ''),
    };
    for (const [version, good_file, broken] of [['09', good, broken09], ['03', old, broken03]] as const) {
      for (const [what, xml] of Object.entries(broken)) expect(xml, what).not.toBe(good_file);
      const [good_errors, ...errors] = await schemaErrors(version, [good_file, ...Object.values(broken)]);
      expect(good_errors).toEqual([]);
      Object.keys(broken).forEach((what, index) => expect(errors[index], `${what} (.${version})`).not.toEqual([]));
    }
  });
});
