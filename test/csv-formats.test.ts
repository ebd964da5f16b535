/**
 * Issue #17, point 8: every CSV download comes in two forms, read back here by Python's strict
 * CSV reader from real responses. `format=csv` (the default) is RFC 4180; `format=excel` is what
 * Excel in a Belgian locale opens with a double click: `;` separator, decimal comma in the
 * columns of amounts, euro amounts and hours, a UTF-8 byte order mark, CRLF. Both quote a field
 * holding `;`, `,`, a tab, a quote or a line break, and neutralise formulas.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { pay, redeem, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import { award, fund, openSession, openWallet, programmeOf, registerVolunteer } from './support/volunteer-fixtures.js';

const CODE = 'XLS';
/** Names and a memo with everything a CSV reader can trip over; the shop's also starts like a formula. */
const volunteer_name = 'Aïcha; "Ai"\tvan\r\nOost';
const shop_name = '=Bakkerij; De Zon, Oost';
const memo = 'Taart; 2 × "groot"\tmet\nkaars';
const activity_names = { nl: 'Repair; café', en: 'Fix\tit', fr: 'Réparer\r\nensemble' };

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, CODE, 2);
  const programme = await programmeOf(t, CODE);
  await fund(t, CODE, programme, '100.00');
  const activity = await t.request('POST', `/api/v1/currencies/${CODE}/activities`, {
    token: t.adminToken, body: { name: activity_names, category: 'repair_cafe', rate_per_hour: '10.00', programme_account: programme },
  });
  expect(activity.status, JSON.stringify(activity.body)).toBe(201);
  const volunteer = await registerVolunteer(t, CODE, { name: volunteer_name });
  const session = await openSession(t, activity.body.id as string, { hours: '1.5' });
  expect((await award(t, session.id as string, { card: volunteer.code })).status).toBe(201);

  const { tablet } = await shopWithTablet(t, CODE, { name: shop_name });
  const request = await requestPayment(t, tablet, '12.50', memo);
  expect((await pay(t, await openWallet(t, volunteer), request.id as string)).status).toBe(201);
  const redemption = await redeem(t, tablet, '10.00');
  expect(redemption.status, JSON.stringify(redemption.body)).toBe(201);
  const approved = await t.request('POST', `/api/v1/redemptions/${redemption.body.id}/approve`, { token: t.adminToken });
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

/** The body's bytes and headers (Response.text() would drop a byte order mark). */
async function download(path: string): Promise<{ bytes: Buffer; headers: Headers }> {
  const response = await t.app.request(path, { headers: { Authorization: `Bearer ${t.adminToken}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  expect(response.status, bytes.toString()).toBe(200);
  return { bytes, headers: response.headers };
}

/** The records of a CSV as Python's csv module reads them, strict (a stray quote is an error). */
function pythonCsv(bytes: Buffer, delimiter: ',' | ';'): string[][] {
  const script = [
    'import csv, io, json, sys',
    "text = io.TextIOWrapper(sys.stdin.buffer, encoding=sys.argv[2], newline='')",
    'print(json.dumps(list(csv.reader(text, delimiter=sys.argv[1], strict=True))))',
  ].join('\n');
  // The standard form must have no byte order mark: read as plain UTF-8, one would show in the first name.
  const encoding = delimiter === ';' ? 'utf-8-sig' : 'utf-8';
  const run = spawnSync('python3', ['-c', script, delimiter, encoding], { input: bytes, encoding: 'utf8' });
  expect(run.error, 'python3 runs').toBeUndefined();
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as string[][];
}

/** Each CSV download, with the columns that hold decimal numbers. */
const downloads: Array<{ path: string; decimals: string[] }> = [
  { path: `/api/v1/currencies/${CODE}/exports/transfers.csv`, decimals: ['amount'] },
  { path: `/api/v1/currencies/${CODE}/exports/balances.csv`, decimals: ['balance'] },
  { path: `/api/v1/currencies/${CODE}/exports/volunteering.csv`, decimals: ['hours', 'coins'] },
  { path: `/api/v1/currencies/${CODE}/exports/volunteering.csv?group=month`, decimals: ['hours', 'coins'] },
  {
    path: `/api/v1/currencies/${CODE}/exports/shops.csv`,
    decimals: ['takings', 'refunds', 'net', 'redemptions_requested', 'redemptions_approved', 'redemptions_rejected', 'euros_paid_out'],
  },
  {
    path: `/api/v1/currencies/${CODE}/exports/shops.csv?group=shop`,
    decimals: ['takings', 'refunds', 'net', 'redemptions_requested', 'redemptions_approved', 'redemptions_rejected', 'euros_paid_out'],
  },
  { path: `/api/v1/currencies/${CODE}/exports/liability.csv?months=3`, decimals: ['in_wallets', 'in_shops', 'expiring', 'circulating', 'euro_liability'] },
  { path: `/api/v1/currencies/${CODE}/exports/circulation.csv`, decimals: ['in_programmes', 'in_wallets', 'in_shops', 'circulating', 'euro_liability'] },
  { path: `/api/v1/currencies/${CODE}/payouts.csv`, decimals: ['euro_amount'] },
];

function withFormat(path: string, format: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}format=${format}`;
}

describe.each(downloads)('$path', ({ path, decimals }) => {
  it('format=csv (and no format) is RFC 4180: commas, decimal points, no byte order mark, CRLF; Python reads it strictly', async () => {
    const plain = await download(path);
    const explicit = await download(withFormat(path, 'csv'));
    expect(explicit.bytes.equals(plain.bytes)).toBe(true);
    expect(plain.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(plain.bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(plain.bytes.toString('utf8').endsWith('\r\n')).toBe(true);
    const [header, ...rows] = pythonCsv(plain.bytes, ',');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toHaveLength(header!.length);
    for (const name of decimals) {
      const column = header!.indexOf(name);
      expect(column, name).toBeGreaterThanOrEqual(0);
      for (const row of rows) expect(row[column], name).toMatch(/^(-?\d+(\.\d+)?)?$/);
    }
  });

  it('format=excel: byte order mark, ";", decimal comma in the decimal columns only, CRLF; otherwise the same records', async () => {
    const csv = await download(path);
    const standard = pythonCsv(csv.bytes, ',');
    const excel = await download(withFormat(path, 'excel'));
    expect(excel.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    // Named apart, so both forms can sit in one folder.
    const name = /^attachment; filename="([A-Za-z0-9-]+)\.csv"$/.exec(csv.headers.get('content-disposition') ?? '')?.[1];
    expect(name).toBeDefined();
    expect(excel.headers.get('content-disposition')).toBe(`attachment; filename="${name}-excel.csv"`);
    expect([...excel.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = excel.bytes.toString('utf8');
    expect(text.split('\r\n')[0]).toBe(`\uFEFF${standard[0]!.join(';')}`);
    expect(text.endsWith('\r\n')).toBe(true);

    const records = pythonCsv(excel.bytes, ';');
    expect(records[0]).toEqual(standard[0]);
    const decimal_columns = decimals.map((name) => standard[0]!.indexOf(name));
    let commas = 0;
    for (const row of records.slice(1)) {
      for (const column of decimal_columns) {
        expect(row[column]).toMatch(/^(-?\d+(,\d+)?)?$/);
        if (row[column]!.includes(',')) commas += 1;
      }
    }
    expect(commas, 'some decimal has a fraction').toBeGreaterThan(0);
    // Back to decimal points, the Excel form holds exactly the records of the standard form:
    // ids, IBANs, dates (with their milliseconds) and counts untouched.
    const restored = records.map((row, r) => (r === 0 ? row : row.map((value, i) => (decimal_columns.includes(i) ? value.replace(',', '.') : value))));
    expect(restored).toEqual(standard);
  });
});

describe('awkward text in both forms', () => {
  it('names and memos with ";", ",", tabs, quotes and line breaks come back whole; a formula-like name stays text', async () => {
    for (const [format, delimiter] of [['csv', ','], ['excel', ';']] as const) {
      const transfers = pythonCsv((await download(`/api/v1/currencies/${CODE}/exports/transfers.csv?format=${format}`)).bytes, delimiter);
      const header = transfers[0]!;
      const payment = transfers.find((row) => row[header.indexOf('code')] === 'payment');
      expect(payment, format).toBeDefined();
      expect(payment![header.indexOf('memo')], format).toBe(memo);
      expect(payment![header.indexOf('debit_account_name')], format).toBe(volunteer_name);
      expect(payment![header.indexOf('credit_account_name')], format).toBe(`'${shop_name}`);
      expect(payment![header.indexOf('amount')], format).toBe(format === 'csv' ? '12.50' : '12,50');

      const volunteering = (await download(`/api/v1/currencies/${CODE}/exports/volunteering.csv?format=${format}`)).bytes;
      // Quoted although the standard form splits on commas only: Excel in a Belgian locale splits on ";", others on tabs.
      expect(volunteering.toString('utf8'), format).toContain(`${delimiter}"Repair; café"${delimiter}"Fix\tit"${delimiter}`);
      const activity = pythonCsv(volunteering, delimiter);
      const columns = activity[0]!;
      const row = activity.find((r) => r[columns.indexOf('activity_nl')] === activity_names.nl);
      expect(row, format).toBeDefined();
      expect([row![columns.indexOf('activity_en')], row![columns.indexOf('activity_fr')]]).toEqual([activity_names.en, activity_names.fr]);
      expect(row![columns.indexOf('hours')]).toBe(format === 'csv' ? '1.50' : '1,50');

      const payouts = pythonCsv((await download(`/api/v1/currencies/${CODE}/payouts.csv?format=${format}`)).bytes, delimiter);
      const fields = payouts[0]!;
      expect(payouts).toHaveLength(2);
      expect(payouts[1]![fields.indexOf('shop')]).toBe(`'${shop_name}`);
      expect(payouts[1]![fields.indexOf('iban')]).toMatch(/^BE\d{14}$/);
      expect(payouts[1]![fields.indexOf('euro_amount')]).toBe(format === 'csv' ? '1.00' : '1,00');
    }
  });

  it('an unknown format is 422 naming it', async () => {
    for (const path of downloads.map((d) => d.path)) {
      const reply = await t.request('GET', withFormat(path, 'xlsx'), { token: t.adminToken });
      expectProblem(reply, 422, 'validation_failed');
      expect(reply.body.errors.map((e: { path: string }) => e.path)).toEqual(['format']);
    }
  });
});
