/**
 * Issue #21 point 1, a person's data exported: GET /wallets/{id}/export holds every row about the
 * volunteer — profile, cards (masked), sign-ins, transfers, entries, rewards, earnings, audit rows
 * — and nothing about anyone else; ?format=html is a printable page in their language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, openAccount } from './support/http-fixtures.js';
import { moveBetween, person, personalTexts, scene } from './support/person-fixtures.js';
import type { Person, Scene } from './support/person-fixtures.js';

let t: TestApp;
let s: Scene;
let ann: Person;
let bob: Person;
/** A transfer between the two, which both exports hold. */
let between: string;

beforeAll(async () => {
  t = await createTestApp();
  s = await scene(t, 'EXP');
  ann = await person(t, s, 'Ann7', 'fr');
  bob = await person(t, s, 'Bob7', 'nl');
  between = await moveBetween(t, s, bob, ann, '1.00');
});

afterAll(async () => { await t?.close(); });

// Tests read whatever JSON came back.
async function exportOf(p: Person, token = t.adminToken): Promise<any> {
  const reply = await t.request('GET', `/api/v1/wallets/${p.account}/export`, { token });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

describe('GET /wallets/{id}/export', () => {
  it('holds every row about the person, read independently from the database', async () => {
    const ids = async (query: Promise<Array<{ id: string }>>) => (await query).map((r) => String(r.id)).sort();
    // Read before the export, which records itself in the log after reading.
    const audit_ids = await ids(t.sql`
      SELECT id::text FROM audit_log
      WHERE object_id = ANY(${[ann.account, ...ann.codes]}::text[]) OR actor_id = ${ann.account} OR changes->>'wallet' = ${ann.account}`);
    const x = await exportOf(ann);
    expect(x.person).toEqual({
      account: ann.account, display_name: ann.names[1], full_name: ann.full_name, phone: ann.phone, email: ann.email, note: ann.note,
      language: 'fr', created_at: expect.any(String), updated_at: expect.any(String), erased_at: null,
    });
    expect(x.transfers.map((r: any) => r.id).sort()).toEqual(await ids(t.sql`
      SELECT id::text FROM transfers WHERE ${ann.account} IN (debit_account_id, credit_account_id)`));
    expect(x.transfers.length).toBe(7);
    expect(x.entries.map((e: any) => e.version)).toEqual((await t.sql<{ v: string }[]>`
      SELECT version::text AS v FROM entries WHERE account_id = ${ann.account} ORDER BY version`).map((r) => r.v));
    expect(x.sessions.map((r: any) => r.id).sort()).toEqual([...ann.session_ids].sort());
    expect(x.claims.map((c: any) => c.session).sort()).toEqual([s.qr_session.id, s.card_session].sort());
    expect(x.claims.map((c: any) => c.via).sort()).toEqual(['card', 'qr']);
    expect(x.earnings.map((e: any) => e.period[0]).sort()).toEqual(['d', 'y']);
    expect(x.cards.map((c: any) => c.code)).toEqual(ann.codes.map((code) => `••••-••••-••••-${code.slice(12, 16)}-${code.slice(16)}`));
    expect(x.cards.map((c: any) => c.status)).toEqual(['replaced', 'active']);
    expect(x.audit.map((r: any) => r.id).sort()).toEqual(audit_ids);
    const actions = new Set(x.audit.map((r: any) => r.action));
    for (const action of ['wallet.register', 'wallet.update', 'card.reissue', 'wallet.login', 'card.pin_failed', 'session.claim', 'session.award', 'payment.pay', 'payment.charge']) {
      expect(actions, action).toContain(action);
    }
    expect(x.account).toMatchObject({ id: ann.account, kind: 'wallet', balance: '75.50', status: 'active' });
  });

  it('holds nothing about anyone else: no other volunteer\'s ids, names, contact details or card codes, no staff member\'s id', async () => {
    const text = JSON.stringify(await exportOf(ann));
    const bobs_transfers = await t.sql<{ id: string }[]>`
      SELECT id::text FROM transfers WHERE ${bob.account} IN (debit_account_id, credit_account_id) AND id <> ${between}`;
    expect(bobs_transfers.length).toBeGreaterThan(5);
    const staff = await t.sql<{ id: string }[]>`SELECT id::text FROM users`;
    const others = [bob.account, ...personalTexts(bob), ...bob.session_ids, ...bobs_transfers.map((r) => r.id), ...staff.map((r) => r.id)];
    expect(others.filter((other) => text.toLowerCase().includes(other.toLowerCase()))).toEqual([]);
    // Their own card codes only masked, and the transfer between the two without the other's side.
    expect([...ann.codes, ...ann.display_codes].filter((code) => text.includes(code))).toEqual([]);
    const shared = JSON.parse(text).transfers.find((r: any) => r.id === between);
    expect(shared).toMatchObject({ direction: 'in', amount: '1.00', counterparty: { kind: 'wallet', name: null }, made_by: 'staff', memo: 'dubbel geboekt' });
    // Sanity: the same search finds the person's own data, so its silence about the other means something.
    expect(text).toContain(ann.full_name);
    expect(text).toContain(ann.phone);
  });

  it('as a printable page in the person\'s language, with dates and amounts written as it writes them', async () => {
    const fr = await t.request('GET', `/api/v1/wallets/${ann.account}/export?format=html`, { token: t.adminToken });
    expect(fr.status).toBe(200);
    expect(fr.headers.get('content-type')).toMatch(/^text\/html/);
    expect(fr.headers.get('cache-control')).toBe('private, no-store');
    expect(fr.body).toContain('<html lang="fr-BE">');
    expect(fr.body).toContain('Mes données chez Coin EXP');
    expect(fr.body).toContain('Remboursement');
    expect(fr.body).toContain('75,50 Coin EXP');
    expect(fr.body).toMatch(/\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4}/);
    // The person's own texts are escaped, never markup.
    expect(fr.body).toContain('&#60;b&#62;Ann7&#60;/b&#62;');
    expect(fr.body).not.toContain('<b>Ann7</b>');
    const nl = await t.request('GET', `/api/v1/wallets/${bob.account}/export?format=html`, { token: t.adminToken });
    expect(nl.body).toContain('<html lang="nl-BE">');
    expect(nl.body).toContain('Mijn gegevens bij Coin EXP');
    expect(nl.body).toContain('Terugbetaling');
    expect(nl.body).toMatch(/\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) \d{4}/);
    expect(nl.body).not.toContain(ann.full_name);
  });

  it('is recorded in the audit log: who read whose data', async () => {
    const before = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'wallet.export' AND object_id = ${bob.account}`;
    await exportOf(bob);
    const after = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'wallet.export' AND object_id = ${bob.account}`;
    expect(after[0]!.n).toBe(before[0]!.n + 1);
  });

  it('refuses bad input and other callers with a problem, and says nothing about the person', async () => {
    const other = await createCurrency(t, 'EXQ');
    const outsider = await t.createStaff('coordinator', [other.id]);
    const insider = await t.createStaff('coordinator', [(await t.sql<{ id: number }[]>`SELECT id FROM currencies WHERE code = 'EXP'`)[0]!.id]);
    const programme = await openAccount(t, 'EXP', 'programme', 'Not a wallet');
    const cases: Array<[string, string | undefined, number, string]> = [
      [`/api/v1/wallets/${ann.account}/export`, undefined, 401, 'unauthenticated'],
      [`/api/v1/wallets/${ann.account}/export`, ann.token, 403, 'forbidden'],
      [`/api/v1/wallets/${ann.account}/export`, s.tablet.token, 403, 'forbidden'],
      [`/api/v1/wallets/${ann.account}/export`, outsider.token, 404, 'not_found'],
      [`/api/v1/wallets/${programme}/export`, t.adminToken, 404, 'not_found'],
      ['/api/v1/wallets/00000000-0000-4000-8000-000000000000/export', t.adminToken, 404, 'not_found'],
      ['/api/v1/wallets/not-a-uuid/export', t.adminToken, 404, 'not_found'],
      [`/api/v1/wallets/${ann.account}/export?format=pdf`, t.adminToken, 422, 'validation_failed'],
    ];
    for (const [path, token, status, code] of cases) {
      const reply = await t.request('GET', path, token === undefined ? {} : { token });
      expectProblem(reply, status, code);
      expect(JSON.stringify(reply.body)).not.toContain(ann.full_name);
    }
    // A coordinator of the currency may, like an admin.
    expect((await exportOf(ann, insider.token)).person.account).toBe(ann.account);
  });
});
