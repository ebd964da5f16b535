import { describe, expect, it } from 'vitest';
import { csvDocument, csvFileName, csvRow, csvWriter } from '../src/ledger/csv.js';

describe('csvRow', () => {
  it('joins plain fields with commas and ends the record with CRLF', () => {
    expect(csvRow(['a', 'b c', '12.50'])).toBe('a,b c,12.50\r\n');
    expect(csvRow([])).toBe('\r\n');
  });

  it('writes null as an empty field and keeps empty strings empty', () => {
    expect(csvRow([null, 'x', null])).toBe(',x,\r\n');
    expect(csvRow(['', ''])).toBe(',\r\n');
  });

  it('quotes fields with a comma', () => {
    expect(csvRow(['Zon, De', 'x'])).toBe('"Zon, De",x\r\n');
  });

  it('quotes fields with a double quote and doubles it', () => {
    expect(csvRow(['say "hi"'])).toBe('"say ""hi"""\r\n');
    expect(csvRow(['"'])).toBe('""""\r\n');
  });

  it('quotes fields with a semicolon or a tab, which Excel in a Belgian locale and other readers split on', () => {
    expect(csvRow(['Zon; De', 'x'])).toBe('"Zon; De",x\r\n');
    expect(csvRow(['a\tb'])).toBe('"a\tb"\r\n');
    expect(csvRow([';'])).toBe('";"\r\n');
  });

  it('quotes fields with CR or LF', () => {
    expect(csvRow(['line 1\nline 2'])).toBe('"line 1\nline 2"\r\n');
    expect(csvRow(['a\r\nb'])).toBe('"a\r\nb"\r\n');
    expect(csvRow(['a\rb'])).toBe('"a\rb"\r\n');
  });

  it('quotes fields with leading or trailing spaces so readers keep them', () => {
    expect(csvRow([' lead'])).toBe('" lead"\r\n');
    expect(csvRow(['trail '])).toBe('"trail "\r\n');
    expect(csvRow(['in side'])).toBe('in side\r\n');
  });

  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ['=1,2', '"\'=1,2"'],
    ['\tcmd', '"\'\tcmd"'], // also quoted: a tab
    ['\t', '"\'\t"'], // also quoted: trailing whitespace
    ['\rcmd', '"\'\rcmd"'],
    ['-', "'-"],
    ['+32 2 123 45 67', "'+32 2 123 45 67"],
  ])('neutralises the formula-like value %j', (value, field) => {
    expect(csvRow([value])).toBe(`${field}\r\n`);
  });

  it.each([['-3.10'], ['-1'], ['0.00'], ['12'], ['-0.01']])('leaves the plain number %j as it is', (value) => {
    expect(csvRow([value])).toBe(`${value}\r\n`);
  });

  it.each([['-1e5'], ['-3.'], ['-.5'], ['-3.10 '], ['-3,10']])('still neutralises the not-quite-number %j', (value) => {
    expect(csvRow([value]).startsWith("'") || csvRow([value]).startsWith('"\'')).toBe(true);
  });

  it('does not touch formula characters in the middle of a value', () => {
    expect(csvRow(['a=b', 'x-y', 'me@example.org'])).toBe('a=b,x-y,me@example.org\r\n');
  });
});

describe('csvDocument', () => {
  it('writes the header and every row, each line ending in CRLF', () => {
    const document = csvDocument(
      { header: ['date', 'name', 'amount'] },
      [
        ['2026-11-26', 'Bakkerij "De Zon", Oost', '-3.10'],
        ['2026-11-27', null, '=1+1'],
      ],
    );
    expect(document).toBe(
      'date,name,amount\r\n' +
        '2026-11-26,"Bakkerij ""De Zon"", Oost",-3.10\r\n' +
        "2026-11-27,,'=1+1\r\n",
    );
  });

  it('writes only the header without rows', () => {
    expect(csvDocument({ header: ['a', 'b'] }, [])).toBe('a,b\r\n');
  });

  it('throws when a row does not match the header width', () => {
    expect(() => csvDocument({ header: ['a', 'b'] }, [['1', '2'], ['1']])).toThrow(/row 1 has 1 fields, the header has 2/);
    expect(() => csvDocument({ header: ['a', 'b'] }, [['1', '2'], ['1']], 'excel')).toThrow(/row 1 has 1 fields, the header has 2/);
  });

  it('throws when a decimal column is not in the header', () => {
    expect(() => csvWriter({ header: ['a'], decimals: ['amount'] }, 'excel')).toThrow(/decimal column amount/);
  });
});

describe('the Excel form (format=excel)', () => {
  const layout = { header: ['id', 'created_at', 'name', 'iban', 'amount', 'euros', 'count'], decimals: ['amount', 'euros'] };

  it('starts with a UTF-8 byte order mark, separates with ";" and ends each record with CRLF', () => {
    const document = csvDocument(layout, [['7', '2026-11-26T10:15:00.123Z', 'Aïcha', 'BE71096123456769', '12.50', '1.25', '3']], 'excel');
    expect(document).toBe(
      '\uFEFFid;created_at;name;iban;amount;euros;count\r\n' +
        '7;2026-11-26T10:15:00.123Z;Aïcha;BE71096123456769;12,50;1,25;3\r\n',
    );
    expect(Buffer.from(document, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('writes a decimal comma only in the decimal columns, negative amounts too; ids, dates and other numbers stay as they are', () => {
    const writer = csvWriter(layout, 'excel');
    expect(writer.row(['1.5', '2026-01-01', '2.5', 'NL91ABNA0417164300', '-3.10', '0.00', '12'])).toBe(
      '1.5;2026-01-01;2.5;NL91ABNA0417164300;-3,10;0,00;12\r\n',
    );
    expect(writer.row([null, null, null, null, null, '12', null])).toBe(';;;;;12;\r\n');
    // The standard form never writes a decimal comma.
    expect(csvWriter(layout, 'csv').row(['1', 'd', 'n', 'i', '-3.10', '0.00', '12'])).toBe('1,d,n,i,-3.10,0.00,12\r\n');
  });

  it('quotes fields holding ";", ",", a tab, a quote or a line break, and still neutralises formulas', () => {
    const writer = csvWriter({ header: ['text'] }, 'excel');
    expect(writer.row(['Zon; De'])).toBe('"Zon; De"\r\n');
    expect(writer.row(['Zon, De'])).toBe('"Zon, De"\r\n');
    expect(writer.row(['a\tb'])).toBe('"a\tb"\r\n');
    expect(writer.row(['say "hi"'])).toBe('"say ""hi"""\r\n');
    expect(writer.row(['line 1\r\nline 2'])).toBe('"line 1\r\nline 2"\r\n');
    expect(writer.row(['=SUM(A1;A2)'])).toBe(`"'=SUM(A1;A2)"\r\n`);
    expect(writer.row(['-3,10'])).toBe(`"'-3,10"\r\n`);
    expect(writer.row(['+32 2 123 45 67'])).toBe("'+32 2 123 45 67\r\n");
  });

  it('is named apart from the standard form', () => {
    expect(csvFileName('payouts-TOR-2026', 'csv')).toBe('payouts-TOR-2026.csv');
    expect(csvFileName('payouts-TOR-2026', 'excel')).toBe('payouts-TOR-2026-excel.csv');
  });

  it('neutralises a formula-like value in a decimal column: only plain numbers get the comma', () => {
    const writer = csvWriter({ header: ['amount'], decimals: ['amount'] }, 'excel');
    expect(writer.row(['=1+1'])).toBe("'=1+1\r\n");
    expect(writer.row(['-1e5'])).toBe("'-1e5\r\n");
  });
});
