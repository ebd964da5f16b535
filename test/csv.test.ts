import { describe, expect, it } from 'vitest';
import { csvDocument, csvRow } from '../src/ledger/csv.js';

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
    ['\tcmd', "'\tcmd"],
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
      ['date', 'name', 'amount'],
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
    expect(csvDocument(['a', 'b'], [])).toBe('a,b\r\n');
  });

  it('throws when a row does not match the header width', () => {
    expect(() => csvDocument(['a', 'b'], [['1', '2'], ['1']])).toThrow(/row 1 has 1 fields, the header has 2/);
  });
});
