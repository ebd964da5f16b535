/**
 * CSV export that is also safe to open in a spreadsheet, in two forms. Pure string building.
 *
 * - `csv`: RFC 4180 — comma separator, decimal point, CRLF.
 * - `excel`: what a spreadsheet set to Belgian (or Dutch, French, German) conventions opens
 *   with a double click — semicolon separator, decimal comma in the columns that hold decimal
 *   numbers, a UTF-8 byte order mark (without it Excel reads UTF-8 as Windows-1252), CRLF.
 *
 * Both quote a field holding either separator, so the one file splits the same way whichever
 * separator the reader assumes.
 */

import { headerIn } from './csv-headers.js';
import type { CsvLanguage } from './csv-headers.js';

export const csv_formats = ['csv', 'excel'] as const;
export type CsvFormat = (typeof csv_formats)[number];

export type CsvValues = Array<string | null>;

interface Dialect {
  separator: string;
  decimal_comma: boolean;
  byte_order_mark: string;
}

const dialects: Record<CsvFormat, Dialect> = {
  csv: { separator: ',', decimal_comma: false, byte_order_mark: '' },
  excel: { separator: ';', decimal_comma: true, byte_order_mark: '\uFEFF' },
};

/** Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection). */
const formula_start = /^[=+\-@\t\r]/;
/** Plain decimal numbers such as amounts ("-3.10") are data, not formulas, and stay usable as numbers. */
const plain_number = /^-?\d+(\.\d+)?$/;
/**
 * Fields that must be quoted: RFC 4180's comma, double quote, CR and LF; the semicolon and the
 * tab that other readers split on (Excel in a Belgian locale splits on ";"); and edge whitespace
 * that readers tend to trim.
 */
const needs_quotes = /[",;\t\r\n]|^\s|\s$/;

/** One field, made inert for spreadsheets and quoted when needed. */
function csvField(value: string | null, decimal: boolean, dialect: Dialect): string {
  if (value === null) return '';
  // Digits, one point and a leading minus: nothing to neutralise or quote in either form.
  if (plain_number.test(value)) return decimal && dialect.decimal_comma ? value.replace('.', ',') : value;
  // The apostrophe makes spreadsheets show the text literally instead of evaluating it.
  const safe = formula_start.test(value) ? `'${value}` : value;
  return needs_quotes.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const no_decimals: ReadonlySet<number> = new Set();

/**
 * One CSV record terminated by CRLF. null becomes an empty field; fields with a comma,
 * semicolon, tab, double quote, CR, LF or leading/trailing whitespace are quoted with inner
 * quotes doubled; fields starting with = + - @ TAB or CR get a leading apostrophe against
 * formula injection, except plain decimal numbers such as "-3.10". In the `excel` form the
 * separator is ";" and the plain numbers of the columns in `decimal_at` get a decimal comma.
 */
export function csvRow(values: CsvValues, format: CsvFormat = 'csv', decimal_at: ReadonlySet<number> = no_decimals): string {
  const dialect = dialects[format];
  return `${values.map((value, i) => csvField(value, decimal_at.has(i), dialect)).join(dialect.separator)}\r\n`;
}

/** The columns of a CSV file, and which of them hold decimal numbers (amounts, euro amounts, hours). */
export interface CsvLayout {
  header: string[];
  /** Columns whose values are decimal numbers: the `excel` form writes them with a decimal comma. */
  decimals?: string[];
}

/** Writes the records of one file in one form. */
export interface CsvWriter {
  /** What the file starts with: the byte order mark of the `excel` form, then the header record. */
  start: string;
  /** One record; throws when its field count differs from the header's. */
  row(values: CsvValues): string;
}

/**
 * A writer for `layout` in `format`, its header row in `language`'s words for people when given
 * (csv-headers.ts), else the documented column names. Throws when a decimal column is not in the
 * header, and `row` throws on a record whose field count differs from the header's: programming
 * errors that would otherwise shift columns or leave a decimal point in an Excel file silently.
 */
export function csvWriter(layout: CsvLayout, format: CsvFormat, language?: CsvLanguage): CsvWriter {
  const decimal_at = new Set((layout.decimals ?? []).map((name) => {
    const index = layout.header.indexOf(name);
    if (index < 0) throw new Error(`CSV decimal column ${name} is not in the header`);
    return index;
  }));
  let records = 0;
  return {
    start: dialects[format].byte_order_mark + csvRow(headerIn(layout.header, language), format),
    row: (values) => {
      if (values.length !== layout.header.length) {
        throw new Error(`CSV row ${records} has ${values.length} fields, the header has ${layout.header.length}`);
      }
      records += 1;
      return csvRow(values, format, decimal_at);
    },
  };
}

/** The name of a downloaded file: `base` plus `.csv`, or `-excel.csv` for the Excel form, so both forms can sit side by side. */
export function csvFileName(base: string, format: CsvFormat): string {
  return `${base}${format === 'excel' ? '-excel' : ''}.csv`;
}

/** A whole CSV file in `format` (header in `language` when given): its start (see CsvWriter), then one record per row, each ending in CRLF. */
export function csvDocument(layout: CsvLayout, rows: CsvValues[], format: CsvFormat = 'csv', language?: CsvLanguage): string {
  const writer = csvWriter(layout, format, language);
  return writer.start + rows.map(writer.row).join('');
}
