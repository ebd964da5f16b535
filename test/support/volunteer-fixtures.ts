/** Helpers for the volunteer tests (issue #3): register volunteers, open wallets, run sessions, read QR codes. */
import { expect } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import jsQRModule from 'jsqr';
import { newKey } from './app.js';
import type { Reply, TestApp } from './app.js';
import { createCurrency, rowCounts } from './http-fixtures.js';
import type { RowCounts } from './http-fixtures.js';

// jsqr is a CommonJS bundle: what a default import yields differs between type checker and run time.
type JsQR = typeof jsQRModule.default;
const jsQR: JsQR = (jsQRModule as unknown as { default?: JsQR }).default ?? (jsQRModule as unknown as JsQR);

export interface Volunteer {
  account: string;
  /** Canonical card code (17 symbols, no dashes). */
  code: string;
  display_code: string;
  url: string;
  pin: string;
  name: string;
}

let volunteer_counter = 0;

/** Registers a volunteer through the API; fails the test if that does not work. */
export async function registerVolunteer(
  t: TestApp, currency: string,
  options: { name?: string; pin?: string; language?: string; token?: string } = {},
): Promise<Volunteer> {
  volunteer_counter += 1;
  const name = options.name ?? `Volunteer ${volunteer_counter}`;
  const pin = options.pin ?? '2468';
  const reply = await t.request('POST', `/api/v1/currencies/${currency}/wallets`, {
    token: options.token ?? t.adminToken,
    body: { display_name: name, pin, ...(options.language === undefined ? {} : { language: options.language }) },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return {
    account: reply.body.account.id as string, code: reply.body.card.code as string,
    display_code: reply.body.card.display_code as string, url: reply.body.card.url as string, pin, name,
  };
}

/** Opens a wallet session with card + PIN and returns the raw reply. */
export async function walletSession(t: TestApp, card: string, pin: string | number): Promise<Reply> {
  return t.request('POST', '/api/v1/wallet/session', { body: { card, pin } });
}

/** Opens a wallet session and returns its token; fails the test otherwise. */
export async function openWallet(t: TestApp, volunteer: Pick<Volunteer, 'code' | 'pin'>): Promise<string> {
  const reply = await walletSession(t, volunteer.code, volunteer.pin);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.token as string;
}

/** The activities of a currency, as the API lists them. */
// Tests read whatever JSON came back.
export async function activitiesOf(t: TestApp, currency: string, token = t.adminToken): Promise<any[]> {
  const reply = await t.request('GET', `/api/v1/currencies/${currency}/activities`, { token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.items as any[];
}

/** The default activity of a category (from the catalogue every new currency gets). */
export async function activityOf(t: TestApp, currency: string, category = 'repair_cafe'): Promise<any> {
  const found = (await activitiesOf(t, currency)).find((a) => a.category === category);
  expect(found, `no ${category} activity in ${currency}`).toBeDefined();
  return found;
}

/** The default volunteering programme of a currency ("Vrijwilligerswerk <CODE>"). */
export async function programmeOf(t: TestApp, currency: string): Promise<string> {
  return (await activityOf(t, currency)).programme_account as string;
}

/** Opens a session of an activity; fails the test otherwise. */
export async function openSession(
  t: TestApp, activity_id: string,
  body: { hours?: string; max_claims?: number; expires_at?: string; starts_at?: string; ends_at?: string; place?: string; public?: boolean } = {},
  token = t.adminToken,
): Promise<any> {
  const reply = await t.request('POST', `/api/v1/activities/${activity_id}/sessions`, { token, body });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

/** Claims a session by its token, with a fresh Idempotency-Key unless one is given. */
export async function claim(t: TestApp, wallet_token: string, claim_token: string, key: string = newKey()): Promise<Reply> {
  return t.request('POST', '/api/v1/claims', { token: wallet_token, idempotencyKey: key, body: { token: claim_token } });
}

/** Awards a scanned card in event mode. */
export async function award(
  t: TestApp, session_id: string, body: { card: string; hours?: string }, token = t.adminToken, key: string = newKey(),
): Promise<Reply> {
  return t.request('POST', `/api/v1/sessions/${session_id}/awards`, { token, idempotencyKey: key, body });
}

/** Balance of any account, as a decimal string. */
export async function balanceOf(t: TestApp, account: string): Promise<string> {
  const reply = await t.request('GET', `/api/v1/accounts/${account}`, { token: t.adminToken });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.balance as string;
}

/** Issues a budget to a programme (code 'budget'). */
export async function fund(t: TestApp, currency: string, programme: string, amount: string): Promise<void> {
  const reply = await t.request('POST', `/api/v1/currencies/${currency}/issue`, {
    token: t.adminToken, idempotencyKey: newKey(), body: { to_account: programme, amount },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
}

export interface VolunteerCounts extends RowCounts {
  wallets: number;
  cards: number;
  wallet_sessions: number;
  activities: number;
  activity_sessions: number;
  claims: number;
  volunteer_earnings: number;
  claims_counted: number;
}

/** Row counts of every table a volunteer request could write to; compare before and after. */
export async function volunteerCounts(t: TestApp): Promise<VolunteerCounts> {
  const [row] = await t.sql<Omit<VolunteerCounts, keyof RowCounts>[]>`
    SELECT (SELECT count(*) FROM wallets)::int AS wallets,
           (SELECT count(*) FROM cards)::int AS cards,
           (SELECT count(*) FROM wallet_sessions)::int AS wallet_sessions,
           (SELECT count(*) FROM activities)::int AS activities,
           (SELECT count(*) FROM activity_sessions)::int AS activity_sessions,
           (SELECT count(*) FROM claims)::int AS claims,
           (SELECT count(*) FROM volunteer_earnings)::int AS volunteer_earnings,
           (SELECT coalesce(sum(claims_count), 0) FROM activity_sessions)::int AS claims_counted`;
  if (row === undefined) throw new Error('no counts');
  return { ...(await rowCounts(t)), ...row };
}

/** Renders an SVG QR code and decodes it with a real QR decoder; undefined when unreadable. */
export function decodeQrSvg(svg: string): string | undefined {
  const rendered = new Resvg(svg, { fitTo: { mode: 'width', value: 400 }, background: 'white' }).render();
  const pixels = rendered.pixels;
  const result = jsQR(new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length), rendered.width, rendered.height);
  return result?.data;
}

/** The three parts of a compact JWS. */
export function jwsParts(token: string): { header: string; payload: string; signature: string } {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) throw new Error(`not a JWS: ${token}`);
  return { header, payload, signature };
}

/**
 * A currency (scale 0) whose volunteers may earn at most 100 a day, its funded programme, its
 * repair-café activity (25 an hour), and one volunteer with an open wallet.
 */
export async function cappedVolunteer(t: TestApp, currency: string): Promise<{ activity: any; volunteer: Volunteer; token: string }> {
  await createCurrency(t, currency, 0, { volunteer_cap_day: '100' });
  await fund(t, currency, await programmeOf(t, currency), '10000');
  const activity = await activityOf(t, currency);
  const volunteer = await registerVolunteer(t, currency);
  return { activity, volunteer, token: await openWallet(t, volunteer) };
}
