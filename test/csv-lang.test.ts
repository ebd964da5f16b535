/**
 * Issue #19 point 11: CSV headers for people. Every CSV download asked with `?lang=nl|en|fr`
 * names its columns in that language's words and its totals row "Totaal" / "Total"; without
 * `lang` it is exactly the documented machine header (docs/reports.md), which programs read. The
 * rows themselves are the same either way, in both forms (`format=csv`, `format=excel`). A
 * language the service does not speak is a 422 naming `lang`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { column_words } from '../src/ledger/csv-headers.js';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { pay, redeem, requestPayment, shopWithTablet } from './support/shop-fixtures.js';
import { award, fund, openSession, openWallet, programmeOf, registerVolunteer } from './support/volunteer-fixtures.js';

const CODE = 'LNG';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  await createCurrency(t, CODE, 2);
  const programme = await programmeOf(t, CODE);
  await fund(t, CODE, programme, '100.00');
  const activity = await t.request('POST', `/api/v1/currencies/${CODE}/activities`, {
    token: t.adminToken, body: { name: { nl: 'Repair café' }, category: 'repair_cafe', rate_per_hour: '10.00', programme_account: programme },
  });
  expect(activity.status, JSON.stringify(activity.body)).toBe(201);
  const volunteer = await registerVolunteer(t, CODE, { name: 'Fatima' });
  const session = await openSession(t, activity.body.id as string, { hours: '1.5' });
  expect((await award(t, session.id as string, { card: volunteer.code })).status).toBe(201);
  const { tablet } = await shopWithTablet(t, CODE, { name: 'Bakkerij De Zon' });
  const request = await requestPayment(t, tablet, '12.50', 'Taart');
  expect((await pay(t, await openWallet(t, volunteer), request.id as string)).status).toBe(201);
  const redemption = await redeem(t, tablet, '10.00');
  expect(redemption.status, JSON.stringify(redemption.body)).toBe(201);
  expect((await t.request('POST', `/api/v1/redemptions/${redemption.body.id}/approve`, { token: t.adminToken })).status).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

/** The body as text, with its byte order mark if it has one (Response.text() would drop it). */
async function download(path: string): Promise<string> {
  const response = await t.app.request(path, { headers: { Authorization: `Bearer ${t.adminToken}` } });
  const text = Buffer.from(await response.arrayBuffer()).toString('utf8');
  expect(response.status, text).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  return text;
}

const query = (path: string, params: string) => `${path}${path.includes('?') ? '&' : '?'}${params}`;

/** The documented header of each download (docs/reports.md), and whether it ends with a totals row. */
const downloads = [
  {
    path: `/api/v1/currencies/${CODE}/exports/transfers.csv`, total: false,
    header: 'id,created_at,code,phase,status,debit_account_id,debit_account_name,credit_account_id,credit_account_name,amount,memo,created_by,pending_id,reverses_id',
  },
  { path: `/api/v1/currencies/${CODE}/exports/balances.csv`, total: false, header: 'account_id,kind,name,status,balance' },
  {
    path: `/api/v1/currencies/${CODE}/exports/volunteering.csv`, total: true,
    header: 'activity_id,activity_nl,activity_en,activity_fr,category,hours,coins,rewards,volunteers,first_time_volunteers',
  },
  { path: `/api/v1/currencies/${CODE}/exports/volunteering.csv?group=category`, total: true, header: 'category,hours,coins,rewards,volunteers,first_time_volunteers' },
  { path: `/api/v1/currencies/${CODE}/exports/volunteering.csv?group=month`, total: true, header: 'month,hours,coins,rewards,volunteers,first_time_volunteers' },
  {
    path: `/api/v1/currencies/${CODE}/exports/shops.csv`, total: true,
    header: 'shop_account_id,shop_name,month,payments,takings,refunds,net,redemptions_requested,redemptions_approved,redemptions_rejected,euros_paid_out',
  },
  { path: `/api/v1/currencies/${CODE}/exports/shops.csv?group=shop`, total: true, header: 'shop_account_id,shop_name,payments,takings,refunds,net,redemptions_requested,redemptions_approved,redemptions_rejected,euros_paid_out' },
  { path: `/api/v1/currencies/${CODE}/exports/shops.csv?group=month`, total: true, header: 'month,payments,takings,refunds,net,redemptions_requested,redemptions_approved,redemptions_rejected,euros_paid_out' },
  { path: `/api/v1/currencies/${CODE}/exports/circulation.csv`, total: false, header: 'month,at,in_programmes,in_wallets,in_shops,circulating,euro_liability' },
  { path: `/api/v1/currencies/${CODE}/exports/liability.csv`, total: false, header: 'month,in_wallets,in_shops,expiring,circulating,euro_liability' },
  { path: `/api/v1/currencies/${CODE}/payouts.csv`, total: false, header: 'payout_id,shop,iban,euro_amount,reference,redemption_id,created_at,export_id,exported_at' },
];

const totals = { nl: 'Totaal', en: 'Total', fr: 'Total' } as const;

describe.each(downloads)('$path', ({ path, header, total }) => {
  it('without lang: the documented column names, as before', async () => {
    const text = await download(path);
    expect(text.split('\r\n')[0]).toBe(header);
    if (total) expect(text.trimEnd().split('\r\n').at(-1)!.startsWith('total,')).toBe(true);
  });

  for (const lang of ['nl', 'en', 'fr'] as const) {
    it(`lang=${lang}: the header in words for people, the same rows, the totals row "${totals[lang]}"; in both forms`, async () => {
      const machine = await download(path);
      const human = await download(query(path, `lang=${lang}`));
      const [human_header, ...human_rows] = human.split('\r\n');
      const names = header.split(',');
      expect(human_header!.split(',')).toEqual(names.map((name) => column_words[name]![lang]));
      // No column is left as its code (IBAN is the same word for everyone).
      expect(human_header!.split(',').filter((words) => names.includes(words))).toEqual([]);
      const rows = machine.split('\r\n').slice(1).join('\r\n');
      expect(human_rows.join('\r\n')).toBe(total ? rows.replace(/(^|\r\n)total,/, `$1${totals[lang]},`) : rows);

      const excel = await download(query(path, `lang=${lang}&format=excel`));
      expect(excel.startsWith(`\uFEFF${human_header!.split(',').join(';')}\r\n`)).toBe(true);
      const machine_excel = await download(query(path, 'format=excel'));
      expect(excel.split('\r\n').slice(1).join('\r\n'))
        .toBe(total ? machine_excel.split('\r\n').slice(1).join('\r\n').replace(/(^|\r\n)total;/, `$1${totals[lang]};`) : machine_excel.split('\r\n').slice(1).join('\r\n'));
    });
  }
});

describe('lang', () => {
  it('a few words checked by a reader of each language', async () => {
    expect((await download(`/api/v1/currencies/${CODE}/exports/balances.csv?lang=nl`)).split('\r\n')[0]).toBe('Kenmerk rekening,Soort rekening,Naam,Status,Saldo');
    expect((await download(`/api/v1/currencies/${CODE}/exports/balances.csv?lang=en`)).split('\r\n')[0]).toBe('Account reference,Account kind,Name,Status,Balance');
    expect((await download(`/api/v1/currencies/${CODE}/exports/balances.csv?lang=fr`)).split('\r\n')[0]).toBe('Référence du compte,Type de compte,Nom,Statut,Solde');
  });

  it('every column with words is a column of some download (no words left for a column that went)', () => {
    const used = new Set(downloads.flatMap((d) => d.header.split(',')));
    expect(Object.keys(column_words).filter((name) => !used.has(name))).toEqual([]);
  });

  it('a language the service does not speak, or a wrong spelling of one, is 422 naming lang; nothing is downloaded', async () => {
    for (const lang of ['de', 'NL', '', 'nl-BE', 'nl,en']) {
      for (const path of [`/api/v1/currencies/${CODE}/exports/transfers.csv`, `/api/v1/currencies/${CODE}/payouts.csv`]) {
        const reply = await t.request('GET', query(path, `lang=${encodeURIComponent(lang)}`), { token: t.adminToken });
        expectProblem(reply, 422, 'validation_failed');
        expect(reply.body.errors.map((e: { path: string }) => e.path), lang).toContain('lang');
      }
    }
  });
});
