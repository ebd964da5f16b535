/**
 * CSV export (RFC 4180) that is also safe to open in a spreadsheet. Pure string building.
 */

/** Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection). */
const formula_start = /^[=+\-@\t\r]/;
/** Plain decimal numbers such as amounts ("-3.10") are data, not formulas, and stay usable as numbers. */
const plain_number = /^-?\d+(\.\d+)?$/;
/** Fields that RFC 4180 requires to be quoted, plus edge whitespace that readers tend to trim. */
const needs_quotes = /[",\r\n]|^\s|\s$/;

/** One field, made inert for spreadsheets and quoted when needed. */
function csvField(value: string | null): string {
  if (value === null) return '';
  // The apostrophe makes spreadsheets show the text literally instead of evaluating it.
  const safe = formula_start.test(value) && !plain_number.test(value) ? `'${value}` : value;
  return needs_quotes.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * One CSV record terminated by CRLF. null becomes an empty field; fields with a comma,
 * double quote, CR, LF or leading/trailing whitespace are quoted with inner quotes doubled;
 * fields starting with = + - @ TAB or CR get a leading apostrophe against formula injection,
 * except plain decimal numbers such as "-3.10".
 */
export function csvRow(values: Array<string | null>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/**
 * A whole CSV file: the header record, then one record per row, each ending in CRLF.
 * Throws when a row's field count differs from the header's, a programming error that
 * would otherwise shift columns silently.
 */
export function csvDocument(header: string[], rows: Array<Array<string | null>>): string {
  rows.forEach((row, index) => {
    if (row.length !== header.length) {
      throw new Error(`CSV row ${index} has ${row.length} fields, the header has ${header.length}`);
    }
  });
  return csvRow(header) + rows.map(csvRow).join('');
}
