/**
 * Volunteers with a full history for the export and erasure tests (issue #21 point 1): renamed,
 * with contact details and a note, a replaced card, a sign-in and a wrong PIN, a reward by QR
 * and one by card, a coordinator's reward, a payment by QR and a card charge with a refund.
 */
import { expect } from 'vitest';
import { newKey } from './app.js';
import type { TestApp } from './app.js';
import { createCurrency, transfer } from './http-fixtures.js';
import { charge, pay, refund, requestPayment, shopWithTablet } from './shop-fixtures.js';
import type { ShopOut, Tablet } from './shop-fixtures.js';
import { activityOf, award, claim, fund, openSession, openWallet, registerVolunteer } from './volunteer-fixtures.js';

export interface Scene {
  currency: string;
  programme: string;
  shop: ShopOut;
  tablet: Tablet;
  /** Two sessions of a paid-per-hour activity: one claimed by QR, one awarded by card. */
  qr_session: { id: string; claim_token: string };
  card_session: string;
}

export interface Person {
  account: string;
  /** Names it was known by (the first, then the current one). */
  names: string[];
  full_name: string;
  phone: string;
  email: string;
  note: string;
  language: string;
  pin: string;
  /** Every card code it had, canonical and as printed. */
  codes: string[];
  display_codes: string[];
  /** The current card. */
  card: string;
  token: string;
  session_ids: string[];
}

/** A currency with a funded programme, a shop with its tablet and two sessions to earn from. */
export async function scene(t: TestApp, code: string): Promise<Scene> {
  // Caps, so that the volunteers' earnings per day and year are counted.
  await createCurrency(t, code, 2, { volunteer_cap_day: '400.00', volunteer_cap_year: '16000.00' });
  const activity = await activityOf(t, code);
  await fund(t, code, activity.programme_account as string, '1000.00');
  const { shop, tablet } = await shopWithTablet(t, code, { name: 'Buurtwinkel Kruidenier' });
  const qr = await openSession(t, activity.id as string, { hours: '2' });
  const by_card = await openSession(t, activity.id as string, { hours: '1' });
  return {
    currency: code, programme: activity.programme_account as string, shop, tablet,
    qr_session: { id: qr.id as string, claim_token: qr.claim_token as string }, card_session: by_card.id as string,
  };
}

let person_counter = 0;

function expectStatus(reply: { status: number; body: unknown }, status: number): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
}

/** A volunteer of the scene with a history of every kind; `tag` makes each name unique in the database. */
export async function person(t: TestApp, s: Scene, tag: string, language = 'nl'): Promise<Person> {
  person_counter += 1;
  const first = `Zoë${tag}`;
  const registered = await registerVolunteer(t, s.currency, { name: first, pin: '2468', language });
  const current = `Zoé ${tag}q`;
  const profile = {
    display_name: current, full_name: `Zoë ${tag} Vandenbroucke`, phone: `+32 470 ${person_counter}${tag.length} 11 ${10 + person_counter}`,
    email: `zoe.${tag.toLowerCase()}@example.org`, note: `Komt op woensdag <b>${tag}</b> met de fiets`,
  };
  expectStatus(await t.request('PATCH', `/api/v1/wallets/${registered.account}`, { token: t.adminToken, body: profile }), 200);
  const replaced = await t.request('POST', `/api/v1/wallets/${registered.account}/cards`, { token: t.adminToken });
  expectStatus(replaced, 201);
  const card = replaced.body.code as string;
  const token = await openWallet(t, { code: card, pin: '2468' });
  expectStatus(await t.request('POST', '/api/v1/wallet/session', { body: { card, pin: '0000' } }), 401);
  expectStatus(await claim(t, token, s.qr_session.claim_token), 201);
  expectStatus(await award(t, s.card_session, { card }), 201);
  await transfer(t, s.currency, s.programme, registered.account, '5.00');
  expectStatus(await pay(t, token, (await requestPayment(t, s.tablet, '3.00', 'Brood')).id as string), 201);
  const charged = await charge(t, s.tablet, { card, pin: '2468', amount: '4.00', memo: 'Groenten' });
  expectStatus(charged, 201);
  expectStatus(await refund(t, s.tablet, charged.body.id as string, '1.50'), 201);
  const sessions = await t.sql<{ id: string }[]>`SELECT id FROM wallet_sessions WHERE account_id = ${registered.account} ORDER BY created_at`;
  return {
    account: registered.account, names: [first, current], ...profile, language, pin: '2468',
    codes: [registered.code, card], display_codes: [registered.display_code, replaced.body.display_code as string],
    card, token, session_ids: sessions.map((r) => r.id),
  };
}

/** Every personal text of a person, as a search for them must not find it. */
export function personalTexts(p: Person): string[] {
  return [...p.names, p.full_name, p.phone, p.email, p.note, ...p.codes, ...p.display_codes];
}

/** A coordinator moves coins from one volunteer's wallet to another's (an adjustment with a reason). */
export async function moveBetween(t: TestApp, s: Scene, from: Person, to: Person, amount: string): Promise<string> {
  const reply = await t.request('POST', `/api/v1/currencies/${s.currency}/transfers`, {
    token: t.adminToken, idempotencyKey: newKey(),
    body: { debit_account: from.account, credit_account: to.account, amount, code: 'adjustment', memo: 'dubbel geboekt' },
  });
  expectStatus(reply, 201);
  return reply.body.id as string;
}

/**
 * Where any of `texts` occurs, case-insensitive, in any text, json or array column of any table:
 * "table.column: text" for each hit. Read from information_schema, so a table added later is
 * searched too.
 */
export async function findEverywhere(t: TestApp, texts: string[]): Promise<string[]> {
  const columns = await t.sql<{ table_name: string; column_name: string }[]>`
    SELECT c.table_name, c.column_name FROM information_schema.columns c
    JOIN information_schema.tables x ON x.table_schema = c.table_schema AND x.table_name = c.table_name AND x.table_type = 'BASE TABLE'
    WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
    ORDER BY c.table_name, c.column_name`;
  expect(columns.length).toBeGreaterThan(40);
  const hits: string[] = [];
  for (const { table_name, column_name } of columns) {
    const rows = await t.sql.unsafe<{ text: string }[]>(
      `SELECT x AS text FROM unnest($1::text[]) x WHERE EXISTS (SELECT 1 FROM "${table_name}" WHERE strpos(lower("${column_name}"::text), lower(x)) > 0)`,
      [texts],
    );
    for (const row of rows) hits.push(`${table_name}.${column_name}: ${row.text}`);
  }
  return hits;
}
