/**
 * Issue #21 point 1, a person's data erased: after POST /wallets/{id}/erase no personal field of
 * the person is found anywhere in the database (every text, json and array column of every
 * table is searched), the ledger is whole (transfers, entries and seals unchanged, verify
 * passes), and the export shows only the pseudonym. A wallet with coins is refused or emptied
 * into a programme in the same call; bad input changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, openAccount, transfer } from './support/http-fixtures.js';
import { charge, expectVerified, fundedWallet } from './support/shop-fixtures.js';
import { findEverywhere, moveBetween, person, personalTexts, scene } from './support/person-fixtures.js';
import type { Person, Scene } from './support/person-fixtures.js';
import { fingerprintDiff, fingerprinter } from './support/world.js';
import type { Fingerprint } from './support/world.js';
import { findCurrency } from '../src/db/ledger.js';
import { sealCurrency } from '../src/db/seals.js';
import type { Currency } from '../src/ledger/model.js';

let t: TestApp;
let s: Scene;
let fingerprint: () => Promise<Fingerprint>;

beforeAll(async () => {
  t = await createTestApp();
  s = await scene(t, 'ERA');
  fingerprint = await fingerprinter(t);
});

afterAll(async () => { await t?.close(); });

async function erase(account: string, body: unknown, token: string | null = t.adminToken) {
  return t.request('POST', `/api/v1/wallets/${account}/erase`, { ...(token === null ? {} : { token }), body });
}

async function currencyRow(code: string): Promise<Currency> {
  const found = await findCurrency(t.sql, code);
  if (found === undefined) throw new Error(`no currency ${code}`);
  return found;
}

/** Seals until every transfer of the currency is sealed (other test files share the cluster, so one seal may stop short). */
async function sealAll(code: string): Promise<void> {
  const c = await currencyRow(code);
  for (let attempt = 0; attempt < 200; attempt++) {
    await sealCurrency(t.sql, c);
    const [row] = await t.sql<{ done: boolean }[]>`
      SELECT (SELECT count(*) FROM transfers WHERE currency_id = ${c.id})
             = coalesce((SELECT sum(transfers_count) FROM seals WHERE currency_id = ${c.id}), 0) AS done`;
    if (row?.done === true) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${code}: transfers left unsealed`);
}

/** The ledger's rows as they are: every transfer and entry (as JSON text), and the seals. */
async function ledgerRows(code: string): Promise<{ transfers: string[]; entries: string[]; seals: string[] }> {
  const { id } = await currencyRow(code);
  const rows = async (query: Promise<Array<{ r: string }>>) => (await query).map((x) => x.r);
  return {
    transfers: await rows(t.sql`SELECT to_jsonb(x)::text AS r FROM transfers x WHERE currency_id = ${id} ORDER BY id`),
    entries: await rows(t.sql`SELECT to_jsonb(x)::text AS r FROM entries x WHERE currency_id = ${id} ORDER BY account_id, version`),
    seals: await rows(t.sql`SELECT to_jsonb(x)::text AS r FROM seals x WHERE currency_id = ${id} ORDER BY seq`),
  };
}

describe('POST /wallets/{id}/erase', () => {
  let ann: Person;
  let bob: Person;
  // Tests read whatever JSON came back.
  let erased: any;

  it('leaves no personal field of the person anywhere in the database, and the ledger whole', async () => {
    ann = await person(t, s, 'Ann9');
    bob = await person(t, s, 'Bob9', 'en');
    await moveBetween(t, s, bob, ann, '1.00');
    expect(await findEverywhere(t, personalTexts(ann))).not.toEqual([]);
    await sealAll('ERA');
    await expectVerified(t, 'ERA');
    const before = await ledgerRows('ERA');
    const [{ pin_hash } = { pin_hash: '' }] = await t.sql<{ pin_hash: string }[]>`SELECT pin_hash FROM wallets WHERE account_id = ${ann.account}`;
    expect(pin_hash).toMatch(/^scrypt\$/);
    const programme_before = (await t.request('GET', `/api/v1/accounts/${s.programme}`, { token: t.adminToken })).body.balance as string;

    const reply = await erase(ann.account, { reason: 'Verzoek van de persoon, per brief', move_rest_to_programme: s.programme });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    erased = reply.body;
    expect(erased).toMatchObject({
      display_name: expect.stringMatching(/^Gewist [0-9A-F]{4}$/), erased_at: expect.any(String),
      account: { id: ann.account, name: erased.display_name, balance: '0.00', status: 'closed' },
      moved: { amount: '75.50', to: s.programme }, cards_destroyed: 2, sessions_ended: 1,
    });
    expect(erased.audit_rows_pseudonymised).toBeGreaterThanOrEqual(10);
    expect(erased.answers_pseudonymised).toBeGreaterThanOrEqual(1);

    expect(await findEverywhere(t, [...personalTexts(ann), pin_hash])).toEqual([]);
    // The same search still finds the other volunteer: it would have found the erased one.
    expect((await findEverywhere(t, [bob.full_name, bob.phone, bob.codes[1]!])).length).toBeGreaterThanOrEqual(3);

    // The ledger: what was there is unchanged, one transfer (the move) and its two entries were added.
    const after = await ledgerRows('ERA');
    expect(after.seals).toEqual(before.seals);
    expect(after.transfers.filter((r) => !before.transfers.includes(r)).map((r) => JSON.parse(r).id)).toEqual([erased.moved.transfer]);
    expect(before.transfers.filter((r) => !after.transfers.includes(r))).toEqual([]);
    expect(before.entries.filter((r) => !after.entries.includes(r))).toEqual([]);
    expect(after.entries.length).toBe(before.entries.length + 2);
    const move = JSON.parse(after.transfers.find((r) => JSON.parse(r).id === erased.moved.transfer)!);
    expect(move).toMatchObject({ code: 'adjustment', debit_account_id: ann.account, credit_account_id: s.programme, memo: 'Verzoek van de persoon, per brief', metadata: { erasure: true } });
    const programme_after = (await t.request('GET', `/api/v1/accounts/${s.programme}`, { token: t.adminToken })).body.balance as string;
    expect(Number(programme_after) * 100 - Number(programme_before) * 100).toBe(7550);
    await sealAll('ERA');
    await expectVerified(t, 'ERA');
  });

  it('keeps no way in: the PIN hash is gone, the sign-in ended, the card codes name nothing', async () => {
    const [wallet] = await t.sql<{ pin_hash: string; erased_at: Date | null }[]>`SELECT pin_hash, erased_at FROM wallets WHERE account_id = ${ann.account}`;
    expect(wallet).toMatchObject({ pin_hash: 'erased', erased_at: expect.any(Date) });
    expectProblem(await t.request('GET', '/api/v1/wallet', { token: ann.token }), 401, 'unauthenticated');
    for (const code of ann.codes) {
      expectProblem(await t.request('POST', '/api/v1/wallet/session', { body: { card: code, pin: ann.pin } }), 401, 'unauthenticated');
      expectProblem(await t.request('POST', `/api/v1/cards/${code}/block`, { token: t.adminToken }), 404, 'not_found');
    }
    const cards = await t.sql<{ status: string }[]>`SELECT status FROM cards WHERE account_id = ${ann.account}`;
    expect(cards.map((c) => c.status)).toEqual(['replaced', 'replaced']);
    const sessions = await t.sql<{ revoked_at: Date | null }[]>`SELECT revoked_at FROM wallet_sessions WHERE account_id = ${ann.account}`;
    expect(sessions.length).toBe(1);
    expect(sessions.every((r) => r.revoked_at !== null)).toBe(true);
  });

  it('the export of the erased wallet shows only the pseudonym', async () => {
    const reply = await t.request('GET', `/api/v1/wallets/${ann.account}/export`, { token: t.adminToken });
    expect(reply.status).toBe(200);
    expect(reply.body.person).toEqual({
      account: ann.account, display_name: erased.display_name, full_name: null, phone: null, email: null, note: null,
      language: 'nl', created_at: expect.any(String), updated_at: expect.any(String), erased_at: erased.erased_at,
    });
    const text = JSON.stringify(reply.body);
    expect(personalTexts(ann).filter((p) => text.toLowerCase().includes(p.toLowerCase()))).toEqual([]);
    // The history is all there, under the pseudonym: the rewards, payments and the move.
    expect(reply.body.transfers.length).toBe(8);
    expect(reply.body.audit.map((r: any) => r.action)).toEqual(expect.arrayContaining(['wallet.register', 'wallet.update', 'session.award', 'wallet.erase']));
    const page = await t.request('GET', `/api/v1/wallets/${ann.account}/export?format=html`, { token: t.adminToken });
    expect(page.body).toContain(erased.display_name);
    expect(page.body).toContain('De persoonsgegevens van deze portemonnee zijn gewist op');
    expect(personalTexts(ann).filter((p) => page.body.includes(p))).toEqual([]);
  });

  it('audits the erasure itself without the personal data', async () => {
    const rows = await t.sql<{ actor_kind: string; changes: any }[]>`SELECT actor_kind, changes FROM audit_log WHERE action = 'wallet.erase' AND object_id = ${ann.account}`;
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({
      actor_kind: 'user',
      changes: { pseudonym: erased.display_name, reason: 'Verzoek van de persoon, per brief', moved: erased.moved, cards_destroyed: 2, sessions_ended: 1 },
    });
  });

  it('an erased wallet is not erased twice and takes no new personal data (409 already_erased)', async () => {
    const before = await fingerprint();
    expectProblem(await erase(ann.account, { reason: 'nogmaals' }), 409, 'already_erased');
    expectProblem(await t.request('PATCH', `/api/v1/wallets/${ann.account}`, { token: t.adminToken, body: { phone: '0470 00 00 00' } }), 409, 'already_erased');
    expectProblem(await t.request('POST', `/api/v1/wallets/${ann.account}/cards`, { token: t.adminToken }), 409, 'already_erased');
    expect(fingerprintDiff(before, await fingerprint())).toEqual([]);
  });
});

describe('erasure ends what named the person elsewhere', () => {
  it('its receive code names nobody any more, and its helper links are revoked both ways', async () => {
    await createCurrency(t, 'ERH', 0, { gifts_enabled: true });
    const [leaving, helped, helper, giver] = await Promise.all(['Roos', 'Mehmet', 'Jonas', 'Ilse'].map((name) => fundedWallet(t, 'ERH', undefined, name)));
    const code = (await t.request('GET', '/api/v1/wallet/receive', { token: leaving!.token })).body.code as string;
    expect((await t.request('GET', `/api/v1/wallet/receivers/${code}`, { token: giver!.token })).body).toMatchObject({ display_name: 'Roos' });
    const link = (wallet: string, helper_wallet: string) =>
      t.request('POST', `/api/v1/wallets/${wallet}/helpers`, { token: t.adminToken, body: { helper_wallet, month_max: '20' } });
    expect((await link(helped!.account, leaving!.account)).status).toBe(201);
    expect((await link(leaving!.account, helper!.account)).status).toBe(201);

    expect((await erase(leaving!.account, { reason: 'asked by letter' })).status).toBe(200);
    expectProblem(await t.request('GET', `/api/v1/wallet/receivers/${code}`, { token: giver!.token }), 422, 'receive_code_unknown');
    const [row] = await t.sql<{ receive_code: string | null }[]>`SELECT receive_code FROM wallets WHERE account_id = ${leaving!.account}`;
    expect(row!.receive_code).toBeNull();
    expect((await t.request('GET', `/api/v1/wallets/${helped!.account}/helpers`, { token: t.adminToken })).body.items).toEqual([]);
    expect((await t.request('GET', '/api/v1/wallet/helped', { token: helper!.token })).body.items).toEqual([]);
    const active = await t.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM wallet_helpers WHERE revoked_at IS NULL AND ${leaving!.account} IN (account_id, helper_account_id)`;
    expect(active[0]!.n).toBe(0);
  });
});

describe('POST /wallets/{id}/erase refuses, and changes nothing', () => {
  let carl: Person;

  beforeAll(async () => {
    carl = await person(t, s, 'Carl3');
  });

  it('a wallet with coins and no programme named: 422 account_not_empty, saying how', async () => {
    const before = await fingerprint();
    const reply = await erase(carl.account, { reason: 'Verzoek per mail' });
    expectProblem(reply, 422, 'account_not_empty');
    expect(reply.body).toMatchObject({ account_id: carl.account, balance: '74.50', pending: '0.00' });
    expect(reply.body.detail).toMatch(/move_rest_to_programme/);
    expect(fingerprintDiff(before, await fingerprint())).toEqual([]);
  });

  it('a reservation still pending: 422 account_not_empty, also with a programme named', async () => {
    const held = await transfer(t, s.currency, carl.account, s.shop.account, '1.00', { pending: true, transfer_code: 'adjustment' });
    const before = await fingerprint();
    const reply = await erase(carl.account, { reason: 'Verzoek per mail', move_rest_to_programme: s.programme });
    expectProblem(reply, 422, 'account_not_empty');
    expect(reply.body).toMatchObject({ pending: '1.00' });
    expect(fingerprintDiff(before, await fingerprint())).toEqual([]);
    expect((await t.request('POST', `/api/v1/transfers/${held.id as string}/void`, { token: t.adminToken, idempotencyKey: newKey() })).status).toBe(201);
  });

  it('bad input: a reason that names the person, no reason, a programme that is none of this currency\'s', async () => {
    const other = await createCurrency(t, 'ERB');
    const elsewhere = await openAccount(t, 'ERB', 'programme', 'Elders');
    const cases: Array<[unknown, string, string]> = [
      [{ reason: `Verzoek van ${carl.full_name}` }, 'reason', 'validation_failed'],
      [{ reason: `gebeld op ${carl.phone}`, move_rest_to_programme: s.programme }, 'reason', 'validation_failed'],
      [{ reason: `kaart ${carl.display_codes[1]!} kwijt`, move_rest_to_programme: s.programme }, 'reason', 'validation_failed'],
      [{ reason: 'zoé carl3q vroeg het', move_rest_to_programme: s.programme }, 'reason', 'validation_failed'],
      [{}, 'reason', 'validation_failed'],
      [{ reason: '   ' }, 'reason', 'validation_failed'],
      [{ reason: 'x'.repeat(501) }, 'reason', 'validation_failed'],
      [{ reason: 'Verzoek', move_rest_to_programme: s.shop.account }, 'move_rest_to_programme', 'validation_failed'],
      [{ reason: 'Verzoek', move_rest_to_programme: elsewhere }, 'move_rest_to_programme', 'validation_failed'],
      [{ reason: 'Verzoek', move_rest_to_programme: '00000000-0000-4000-8000-000000000000' }, 'move_rest_to_programme', 'validation_failed'],
      [{ reason: 'Verzoek', move_rest_to_programme: 'not-an-id' }, 'move_rest_to_programme', 'validation_failed'],
    ];
    const before = await fingerprint();
    for (const [body, path, code] of cases) {
      const reply = await erase(carl.account, body);
      expectProblem(reply, 422, code);
      expect(reply.body.errors?.map((e: { path: string }) => e.path), JSON.stringify(body)).toContain(path);
    }
    expect(fingerprintDiff(before, await fingerprint())).toEqual([]);
    expect(other.code).toBe('ERB');
  });

  it('who may not: anyone but a coordinator of the currency or an admin', async () => {
    const outsider = await t.createStaff('coordinator', [(await currencyRow('ERB')).id]);
    const programme = await openAccount(t, 'ERA', 'programme', 'Geen portemonnee');
    const before = await fingerprint();
    const body = { reason: 'Verzoek', move_rest_to_programme: s.programme };
    expectProblem(await erase(carl.account, body, null), 401, 'unauthenticated');
    expectProblem(await erase(carl.account, body, carl.token), 403, 'forbidden');
    expectProblem(await erase(carl.account, body, s.tablet.token), 403, 'forbidden');
    expectProblem(await erase(carl.account, body, outsider.token), 404, 'not_found');
    expectProblem(await erase(programme, body), 404, 'not_found');
    expectProblem(await erase('00000000-0000-4000-8000-000000000000', body), 404, 'not_found');
    expect(fingerprintDiff(before, await fingerprint())).toEqual([]);
  });
});

/**
 * No personal text of `p` anywhere, but for its old card codes typed after the erasure by a
 * request that raced it: logged as an unknown card, nothing links them to the person any more.
 */
async function expectNothingLeftOf(p: Person): Promise<void> {
  const hits = await findEverywhere(t, personalTexts(p));
  expect(hits.filter((hit) => !hit.startsWith('audit_log.object_id: '))).toEqual([]);
  const typed_later = await t.sql<{ action: string; reason: string; after: boolean }[]>`
    SELECT action, changes->>'reason' AS reason, id > (SELECT id FROM audit_log WHERE action = 'wallet.erase' AND object_id = ${p.account}) AS after
    FROM audit_log WHERE object_id = ANY(${p.codes}::text[])`;
  expect(typed_later.every((r) => r.action === 'card.pin_failed' && r.reason === 'unknown card' && r.after), JSON.stringify(typed_later)).toBe(true);
}

describe('erasure under concurrency', () => {
  it('two erasures of one wallet at once: one erases and moves the coins once, the other is 409', async () => {
    const dee = await person(t, s, 'Dee5');
    const replies = await Promise.all([1, 2, 3].map(() => erase(dee.account, { reason: 'Verzoek', move_rest_to_programme: s.programme })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const moves = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM transfers WHERE debit_account_id = ${dee.account} AND metadata ? 'erasure'`;
    expect(moves[0]!.n).toBe(1);
    expect(await findEverywhere(t, personalTexts(dee))).toEqual([]);
    await expectVerified(t, 'ERA');
  });

  it('card payments racing an erasure: each is paid before it or refused after, the wallet ends empty and closed', async () => {
    const eve = await person(t, s, 'Eve4');
    // Four, below the five PIN attempts a card counts at once (more would lock it, erasure or not).
    const payments = Array.from({ length: 4 }, () => charge(t, s.tablet, { card: eve.card, pin: eve.pin, amount: '2.00' }));
    const erasure = erase(eve.account, { reason: 'Verzoek', move_rest_to_programme: s.programme });
    const [erased, ...paid] = await Promise.all([erasure, ...payments]);
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    for (const reply of paid) expect([201, 422], JSON.stringify(reply.body)).toContain(reply.status);
    const paid_count = paid.filter((r) => r.status === 201).length;
    expect(Number(erased.body.moved.amount)).toBe(74.5 - 2 * paid_count);
    const [account] = await t.sql<{ balance: bigint; status: string }[]>`
      SELECT credits_posted - debits_posted AS balance, status FROM accounts WHERE id = ${eve.account}`;
    expect(account).toEqual({ balance: 0n, status: 'closed' });
    await expectNothingLeftOf(eve);
    await expectVerified(t, 'ERA');
  });

  it('sign-ins racing an erasure: each opens before it (and is ended by it) or is refused after, never a server error', async () => {
    const fay = await person(t, s, 'Fay6');
    const logins = Array.from({ length: 4 }, () => t.request('POST', '/api/v1/wallet/session', { body: { card: fay.card, pin: fay.pin } }));
    const [erased, ...opened] = await Promise.all([erase(fay.account, { reason: 'Verzoek', move_rest_to_programme: s.programme }), ...logins]);
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    for (const reply of opened) expect([200, 401], JSON.stringify(reply.body)).toContain(reply.status);
    for (const reply of opened.filter((r) => r.status === 200)) {
      expectProblem(await t.request('GET', '/api/v1/wallet', { token: reply.body.token as string }), 401, 'unauthenticated');
    }
    await expectNothingLeftOf(fay);
    const open_sessions = await t.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM wallet_sessions WHERE account_id = ${fay.account} AND revoked_at IS NULL`;
    expect(open_sessions[0]!.n).toBe(0);
    await expectVerified(t, 'ERA');
  });
});

describe('the audit log under erasure', () => {
  it('stays append-only: only a pseudonymising transaction may change a row, and only its personal data', async () => {
    await expect(t.sql`UPDATE audit_log SET ip = NULL WHERE id = (SELECT min(id) FROM audit_log)`).rejects.toThrow(/append-only/);
    await expect(t.sql.begin(async (tx) => {
      await tx`SELECT set_config('wijkmunt.pseudonymise', 'on', true)`;
      await tx`UPDATE audit_log SET action = 'wallet.forged' WHERE id = (SELECT min(id) FROM audit_log)`;
    })).rejects.toThrow(/append-only/);
    await expect(t.sql.begin(async (tx) => {
      await tx`SELECT set_config('wijkmunt.pseudonymise', 'on', true)`;
      await tx`DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)`;
    })).rejects.toThrow(/append-only/);
  });
});
