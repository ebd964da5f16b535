/**
 * Coins that expire (#20, points 1 and 2), against a real PostgreSQL with a clock the test
 * controls: the run is given `now`, and coins are dated by moving their entries back in time.
 * The run takes a wallet's oldest coins once they are validity_days old back to the issuance
 * account, once a day, catching up missed days; never a shop's; never what is reserved; never
 * more than expired, even while the wallet spends. A wallet and its coordinator are told what
 * expires within 60 days; the liability report takes expiring coins out month by month; verify
 * (the function, the HTTP route and the CLI) fails while a wallet keeps coins a run missed.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, newKey } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem, issue, openAccount, transfer } from './support/http-fixtures.js';
import { openWallet, registerVolunteer } from './support/volunteer-fixtures.js';
import { expectVerified } from './support/shop-fixtures.js';
import { createBatcher } from '../src/db/batch.js';
import { findCurrency } from '../src/db/ledger.js';
import { sealCurrency } from '../src/db/seals.js';
import { walletCredits } from '../src/db/expiry.js';
import { verifyCurrency } from '../src/db/verify.js';
import { expireCurrency } from '../src/app/expiry.js';
import type { ExpiryRun, ExpiryServices } from '../src/app/expiry.js';
import { euroValue, formatAmount } from '../src/ledger/amount.js';
import { addDays, expiredOf, localDateOf, lotsOf, monthAfter, validityOf } from '../src/ledger/expiry.js';

const day_ms = 86_400_000;
const root = path.resolve(import.meta.dirname, '..');

let t: TestApp;
let services: ExpiryServices;

beforeAll(async () => {
  t = await createTestApp();
  services = { sql: t.sql, batcher: createBatcher(t.sql, { size_max: 100, inflight_max: 1 }) };
});

afterAll(async () => {
  await t.close();
});

/** `days` days from now (negative: ago). */
const daysFromNow = (days: number) => new Date(Date.now() + days * day_ms);
const today = () => localDateOf(new Date());

/**
 * Moves a transfer `days` back in time, as if it had been made then: its row and its entries
 * (the append-only triggers are bypassed for this one transaction; the test database's user
 * is a superuser).
 */
async function backdate(transfer_id: string, days: number): Promise<void> {
  await t.sql.begin(async (tx) => {
    await tx`SET LOCAL session_replication_role = replica`;
    await tx`UPDATE transfers SET created_at = created_at - make_interval(days => ${days}) WHERE id = ${transfer_id}`;
    await tx`UPDATE entries SET created_at = created_at - make_interval(days => ${days}) WHERE transfer_id = ${transfer_id}`;
  });
}

/** A currency of whole coins whose coins stay `validity_days` in wallets, counted from long ago. */
async function expiringCurrency(code: string, validity_days: number, extra: Record<string, unknown> = {}) {
  const currency = await createCurrency(t, code, 0, { validity_days, ...extra });
  // As if the validity had always been there: coins dated back are not given notice.
  await t.sql`UPDATE currencies SET validity_from = '2000-01-01' WHERE code = ${code}`;
  return currency;
}

/** A wallet with coins earned `days_ago` (one issue each). */
async function walletWith(code: string, lots: Array<{ amount: string; days_ago: number }>): Promise<string> {
  const wallet = await openAccount(t, code, 'wallet', `Wallet ${newKey()}`);
  for (const lot of lots) {
    const issued = await issue(t, code, wallet, lot.amount);
    if (lot.days_ago > 0) await backdate(issued.id as string, lot.days_ago);
  }
  return wallet;
}

async function run(code: string, now = new Date()): Promise<ExpiryRun> {
  const currency = await findCurrency(t.sql, code);
  if (currency === undefined) throw new Error(`no currency ${code}`);
  return expireCurrency(services, currency, now);
}

async function balance(account: string): Promise<string> {
  const reply = await t.request('GET', `/api/v1/accounts/${account}`, { token: t.adminToken });
  expect(reply.status).toBe(200);
  return reply.body.balance as string;
}

async function expiries(account: string) {
  return t.sql<{ id: string; amount: bigint; credit_account_id: string; created_by: string; metadata: Record<string, unknown> }[]>`
    SELECT id, amount, credit_account_id, created_by, metadata FROM transfers
    WHERE code = 'expiry' AND debit_account_id = ${account} ORDER BY created_at, id`;
}

describe('the expiry run', () => {
  it('takes the oldest coins back to the issuance account validity_days after they were earned, once a day', async () => {
    const currency = await expiringCurrency('EXA', 365);
    const shop = await openAccount(t, 'EXA', 'shop', 'Bakker');
    const wallet = await walletWith('EXA', [{ amount: '10', days_ago: 400 }, { amount: '20', days_ago: 200 }, { amount: '5', days_ago: 0 }]);
    // Spending takes the oldest coins: 4 of the 10 earned 400 days ago.
    await transfer(t, 'EXA', wallet, shop, '4', { transfer_code: 'adjustment' });

    expect(await run('EXA')).toMatchObject({ currency: 'EXA', today: today(), wallets: 1, amount: 6n, replayed: 0, held: [] });
    expect(await balance(wallet)).toBe('25');
    const [first] = await expiries(wallet);
    expect(first).toMatchObject({
      amount: 6n, credit_account_id: currency.issuance_account, created_by: 'system:expiry',
      metadata: { expired_on: today(), earned_from: addDays(today(), -400), earned_to: addDays(today(), -400), validity_days: 365 },
    });

    // The same day again: nothing more.
    expect(await run('EXA')).toMatchObject({ wallets: 0, amount: 0n });
    expect(await run('EXA', daysFromNow(164))).toMatchObject({ wallets: 0, amount: 0n });
    // 365 days after the 20 were earned.
    expect(await run('EXA', daysFromNow(165))).toMatchObject({ wallets: 1, amount: 20n });
    expect(await run('EXA', daysFromNow(165))).toMatchObject({ wallets: 0, amount: 0n });
    expect(await balance(wallet)).toBe('5');
    expect(await balance(shop)).toBe('4');

    // Sealed and verified like every transfer; the audit log names the run.
    await sealCurrency(t.sql, (await findCurrency(t.sql, 'EXA'))!);
    await expectVerified(t, 'EXA');
    const audit = await t.sql<{ actor_kind: string; actor_id: string; object_id: string; changes: Record<string, unknown> }[]>`
      SELECT actor_kind, actor_id, object_id, changes FROM audit_log WHERE action = 'transfer.expire' AND object_id = ${first!.id}`;
    expect(audit).toEqual([{ actor_kind: 'system', actor_id: 'expiry', object_id: first!.id, changes: expect.objectContaining({ wallet, amount: '6' }) }]);
    const entries = await t.request('GET', `/api/v1/accounts/${wallet}/entries`, { token: t.adminToken });
    expect(entries.body.items[0]).toMatchObject({ code: 'expiry', amount: '-20', balance_after: '5', counterparty: { id: currency.issuance_account } });
  });

  it('catches up the days it missed in one transfer', async () => {
    await expiringCurrency('EXB', 30);
    const wallet = await walletWith('EXB', [{ amount: '3', days_ago: 90 }, { amount: '4', days_ago: 60 }, { amount: '8', days_ago: 31 }, { amount: '1', days_ago: 2 }]);
    expect(await run('EXB')).toMatchObject({ wallets: 1, amount: 15n });
    const [only, ...others] = await expiries(wallet);
    expect(others).toEqual([]);
    expect(only?.metadata).toMatchObject({ earned_from: addDays(today(), -90), earned_to: addDays(today(), -31) });
    expect(await balance(wallet)).toBe('1');
  });

  it('never touches shops or programmes, nor the wallets of a currency whose coins never expire', async () => {
    await expiringCurrency('EXC', 10);
    const shop = await openAccount(t, 'EXC', 'shop', 'Shop');
    const programme = await openAccount(t, 'EXC', 'programme', 'Programme');
    await backdate((await issue(t, 'EXC', shop, '50')).id as string, 100);
    await backdate((await issue(t, 'EXC', programme, '70')).id as string, 100);
    await createCurrency(t, 'EXD', 0);
    const forever = await walletWith('EXD', [{ amount: '9', days_ago: 5000 }]);
    expect(await run('EXC')).toMatchObject({ wallets: 0, amount: 0n });
    expect(await run('EXD', daysFromNow(10_000))).toMatchObject({ wallets: 0, amount: 0n });
    expect([await balance(shop), await balance(programme), await balance(forever)]).toEqual(['50', '70', '9']);
  });

  it('leaves coins a pending transfer reserved, and a second run the same day replays its key; the next day takes the rest', async () => {
    await expiringCurrency('EXE', 30);
    const shop = await openAccount(t, 'EXE', 'shop', 'Shop');
    const wallet = await walletWith('EXE', [{ amount: '10', days_ago: 40 }]);
    const pending = await transfer(t, 'EXE', wallet, shop, '7', { pending: true, transfer_code: 'adjustment' });
    expect(await run('EXE')).toMatchObject({ wallets: 1, amount: 3n });
    const voided = await t.request('POST', `/api/v1/transfers/${pending.id}/void`, { token: t.adminToken, idempotencyKey: newKey() });
    expect(voided.status).toBe(201);
    // Its key of today recorded 3: the 7 now free stay until tomorrow.
    expect(await run('EXE')).toMatchObject({ wallets: 0, amount: 0n, replayed: 1 });
    expect(await balance(wallet)).toBe('7');
    expect(await run('EXE', daysFromNow(1))).toMatchObject({ wallets: 1, amount: 7n });
    expect((await expiries(wallet)).map((e) => e.amount)).toEqual([3n, 7n]);
    await expectVerified(t, 'EXE');
  });

  it('holds a frozen wallet\'s coins until it is unfrozen', async () => {
    await expiringCurrency('EXF', 30);
    const wallet = await walletWith('EXF', [{ amount: '12', days_ago: 31 }]);
    const patch = (status: string) => t.request('PATCH', `/api/v1/accounts/${wallet}`, {
      token: t.adminToken, body: status === 'frozen' ? { status, reason: 'checking a complaint' } : { status },
    });
    expect((await patch('frozen')).status).toBe(200);
    expect(await run('EXF')).toMatchObject({ wallets: 0, held: [{ account_id: wallet, code: 'account_frozen' }] });
    expect((await patch('active')).status).toBe(200);
    expect(await run('EXF')).toMatchObject({ wallets: 1, amount: 12n, held: [] });
  });

  it('runs once when two runs of the same day race', async () => {
    await expiringCurrency('EXG', 30);
    const wallets = await Promise.all(Array.from({ length: 8 }, () => walletWith('EXG', [{ amount: '5', days_ago: 45 }, { amount: '2', days_ago: 1 }])));
    const [a, b] = await Promise.all([run('EXG'), run('EXG')]);
    expect(a!.wallets + b!.wallets).toBe(8);
    for (const wallet of wallets) {
      expect((await expiries(wallet)).map((e) => e.amount)).toEqual([5n]);
      expect(await balance(wallet)).toBe('2');
    }
    await expectVerified(t, 'EXG');
  });

  it('takes only expired coins from a wallet that spends while the run reads it', async () => {
    await expiringCurrency('EXH', 30);
    const shop = await openAccount(t, 'EXH', 'shop', 'Shop');
    const wallet = await walletWith('EXH', [{ amount: '50', days_ago: 60 }, { amount: '50', days_ago: 0 }]);
    const spends = Array.from({ length: 15 }, () => transfer(t, 'EXH', wallet, shop, '3', { transfer_code: 'adjustment' }));
    const [during] = await Promise.all([run('EXH'), ...spends]);
    // A wallet that kept moving is read again, a few times; what is left over waits for the next run.
    expect(during.held.every((h) => h.code === 'conflict')).toBe(true);
    const after = await run('EXH');
    expect(after.held).toEqual([]);
    const expired = (await expiries(wallet)).reduce((sum, e) => sum + e.amount, 0n);
    expect(during.amount + after.amount).toBe(expired);
    // The spending took the oldest coins first, before or after the run: the run took what was
    // left of the expired 50, and nothing of the fresh 50.
    expect(expired).toBeLessThanOrEqual(50n);
    expect(BigInt(await balance(wallet))).toBe(100n - 45n - expired);
    const currency = (await findCurrency(t.sql, 'EXH'))!;
    const [left] = await walletCredits(t.sql, currency.id, { account_ids: [wallet], limit: 1 });
    expect(left!.balance).toBe(55n - expired);
    expect(expiredOf(lotsOf(left!.credits, left!.balance), validityOf(currency)!, today())).toBeUndefined();
    await expectVerified(t, 'EXH');
  });
});

/** `wijkmunt <args>` as a process on the test database. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), ...args], {
      cwd: root, env: { ...process.env, DATABASE_URL: t.database_url, LOG_LEVEL: 'warn', EXPIRY_INTERVAL_S: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function expiryCheck(code: string, now = new Date()) {
  const currency = await findCurrency(t.sql, code);
  if (currency === undefined) throw new Error(`no currency ${code}`);
  const checks = await verifyCurrency(t.sql, currency, now);
  const found = checks.find((c) => c.name === 'coins_within_validity');
  if (found === undefined) throw new Error('verify has no expiry check');
  return found;
}

describe('verify checks the expiry rule', () => {
  it('fails while a wallet keeps coins a missed run should have taken, and passes once a run took them', async () => {
    await expiringCurrency('VXK', 30);
    const late = await walletWith('VXK', [{ amount: '6', days_ago: 32 }, { amount: '4', days_ago: 3 }]);
    const frozen = await walletWith('VXK', [{ amount: '9', days_ago: 50 }]);
    const frozen_reply = await t.request('PATCH', `/api/v1/accounts/${frozen}`, { token: t.adminToken, body: { status: 'frozen', reason: 'checking a complaint' } });
    expect(frozen_reply.status).toBe(200);

    const missed = await expiryCheck('VXK');
    expect(missed.ok).toBe(false);
    expect(missed.detail).toContain(`wallet ${late} keeps 6 minor units`);
    // A frozen wallet's coins are left by the run, so verify leaves them too.
    expect(missed.detail).not.toContain(frozen);
    const over_http = await t.request('GET', '/api/v1/currencies/VXK/verify', { token: t.adminToken });
    expect(over_http.body.ok).toBe(false);
    const by_cli = await cli('verify', '--currency', 'VXK');
    expect(by_cli.code, by_cli.stderr).toBe(1);
    expect(by_cli.stdout).toMatch(new RegExp(`FAIL coins_within_validity: wallet ${late} keeps 6 minor units`));

    expect(await run('VXK')).toMatchObject({ wallets: 1, amount: 6n });
    expect(await expiryCheck('VXK')).toMatchObject({ ok: true });
    await expectVerified(t, 'VXK');
    const clean = await cli('verify', '--currency', 'VXK');
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/ok   coins_within_validity/);

    // 28 days on, the 4 coins expire: due on that day (the run of the day has until midnight),
    // overdue the day after when no run took them.
    expect(await expiryCheck('VXK', daysFromNow(27))).toMatchObject({ ok: true });
    expect(await expiryCheck('VXK', daysFromNow(28))).toMatchObject({ ok: false });
    expect(await run('VXK', daysFromNow(27))).toMatchObject({ wallets: 1, amount: 4n });
    expect(await expiryCheck('VXK', daysFromNow(28))).toMatchObject({ ok: true });
  });

  it('leaves coins a pending transfer reserved, and has nothing to check when coins never expire', async () => {
    await expiringCurrency('VXL', 30);
    const shop = await openAccount(t, 'VXL', 'shop', 'Shop');
    const wallet = await walletWith('VXL', [{ amount: '10', days_ago: 40 }]);
    await transfer(t, 'VXL', wallet, shop, '10', { pending: true, transfer_code: 'adjustment' });
    expect(await expiryCheck('VXL')).toMatchObject({ ok: true });
    await createCurrency(t, 'VXM', 0);
    await walletWith('VXM', [{ amount: '3', days_ago: 5000 }]);
    expect(await expiryCheck('VXM')).toEqual({ name: 'coins_within_validity', ok: true, detail: 'coins never expire in this currency' });
  });
});

describe('the validity of a currency', () => {
  it('is set when created and changed by an admin, and counts from the day it is set', async () => {
    const created = await createCurrency(t, 'EXV', 0, { validity_days: 365 }) as unknown as Record<string, unknown>;
    expect(created).toMatchObject({ validity_days: 365, validity_from: today() });
    const wallet = await walletWith('EXV', [{ amount: '9', days_ago: 800 }]);
    // Earned long before the validity was set: it counts from the day it was.
    expect(await run('EXV', daysFromNow(364))).toMatchObject({ wallets: 0 });
    const patch = (body: unknown) => t.request('PATCH', '/api/v1/currencies/EXV', { token: t.adminToken, body });
    expect((await patch({ validity_days: 30 })).body).toMatchObject({ validity_days: 30, validity_from: today() });
    expect(await run('EXV', daysFromNow(29))).toMatchObject({ wallets: 0 });
    expect((await patch({ validity_days: null })).body).toMatchObject({ validity_days: null, validity_from: null });
    expect(await run('EXV', daysFromNow(1000))).toMatchObject({ wallets: 0 });
    expect((await patch({ validity_days: 30 })).status).toBe(200);
    expect(await run('EXV', daysFromNow(30))).toMatchObject({ wallets: 1, amount: 9n });
    expect(await balance(wallet)).toBe('0');
  });

  it('is 1 to 3650 days, and only an admin changes it', async () => {
    await createCurrency(t, 'EXW', 0);
    for (const validity_days of [0, 3651, 1.5, '365']) {
      expectProblem(await t.request('PATCH', '/api/v1/currencies/EXW', { token: t.adminToken, body: { validity_days } }), 422, 'validation_failed');
      expectProblem(await t.request('POST', '/api/v1/currencies', {
        token: t.adminToken, body: { code: 'EXX', name: 'X', scale: 0, euro_per_unit: '0.10', validity_days },
      }), 422, 'validation_failed');
    }
    const coordinator = await t.createStaff('coordinator', [(await findCurrency(t.sql, 'EXW'))!.id]);
    expectProblem(await t.request('PATCH', '/api/v1/currencies/EXW', { token: coordinator.token, body: { validity_days: 30 } }), 403, 'forbidden');
  });

  it('leaves expiry transfers to the run: a coordinator cannot make one', async () => {
    await expiringCurrency('EXY', 30);
    const wallet = await walletWith('EXY', [{ amount: '5', days_ago: 0 }]);
    const currency = await findCurrency(t.sql, 'EXY');
    const reply = await t.request('POST', '/api/v1/currencies/EXY/transfers', {
      token: t.adminToken, idempotencyKey: newKey(),
      body: { debit_account: wallet, credit_account: currency!.issuance_account_id, amount: '5', code: 'expiry', memo: 'by hand' },
    });
    expectProblem(reply, 422, 'code_not_allowed');
  });
});

describe('what a wallet is told', () => {
  it('lists the days within 60 on which its coins expire, for the wallet and its coordinator', async () => {
    await expiringCurrency('EXT', 365);
    const volunteer = await registerVolunteer(t, 'EXT');
    for (const [amount, days_ago] of [['4', 340], ['6', 340], ['2', 320], ['8', 250], ['1', 0]] as const) {
      const issued = await issue(t, 'EXT', volunteer.account, amount);
      await backdate(issued.id as string, days_ago);
    }
    const expected = [{ amount: '10', on: addDays(today(), 25) }, { amount: '2', on: addDays(today(), 45) }];
    const token = await openWallet(t, volunteer);
    const own = await t.request('GET', '/api/v1/wallet', { token });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ balance: '21', expiring: expected });
    const seen = await t.request('GET', `/api/v1/wallets/${volunteer.account}`, { token: t.adminToken });
    expect(seen.status).toBe(200);
    expect(seen.body.expiring).toEqual(expected);
  });

  it('is told nothing when its coins never expire or none expire soon', async () => {
    await createCurrency(t, 'EXU', 0);
    const volunteer = await registerVolunteer(t, 'EXU');
    await issue(t, 'EXU', volunteer.account, '5');
    const token = await openWallet(t, volunteer);
    expect((await t.request('GET', '/api/v1/wallet', { token })).body.expiring).toEqual([]);
    const fresh = await registerVolunteer(t, 'EXT');
    expect((await t.request('GET', `/api/v1/wallets/${fresh.account}`, { token: t.adminToken })).body.expiring).toEqual([]);
  });
});

describe('the liability report', () => {
  it('gives per month the coins in wallets and shops, those expected to expire, and the euro liability', async () => {
    await expiringCurrency('EXL', 365, { scale: 2 });
    await t.sql`UPDATE currencies SET scale = 2 WHERE code = 'EXL'`;
    const shop = await openAccount(t, 'EXL', 'shop', 'Shop');
    await issue(t, 'EXL', shop, '10.05');
    const programme = await openAccount(t, 'EXL', 'programme', 'Programme');
    await issue(t, 'EXL', programme, '1000.00');
    // Expired but not yet taken back (this month), in 100 days, and after the horizon.
    await walletWith('EXL', [{ amount: '1.25', days_ago: 370 }, { amount: '20.00', days_ago: 265 }]);
    await walletWith('EXL', [{ amount: '3.50', days_ago: 265 }, { amount: '100.00', days_ago: 0 }]);
    const reply = await t.request('GET', '/api/v1/currencies/EXL/reports/liability?months=12', { token: t.adminToken });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const now = today();
    const in_100_days = addDays(now, 100).slice(0, 7);
    expect(reply.body).toMatchObject({
      currency: 'EXL', today: now, validity_days: 365,
      now: { in_programmes: '1000.00', in_wallets: '124.75', in_shops: '10.05', circulating: '134.80', euro_liability: '13.48' },
    });
    expect(reply.body.months).toHaveLength(12);
    let held = 12475n;
    const f = (minor: bigint) => formatAmount(minor, 2);
    reply.body.months.forEach((m: unknown, i: number) => {
      const month = monthAfter(now, i);
      const expiring = (i === 0 ? 125n : 0n) + (month === in_100_days ? 2350n : 0n);
      held -= expiring;
      const circulating = held + 1005n;
      expect(m).toEqual({
        month, in_wallets: f(held), in_shops: '10.05', expiring: f(expiring), circulating: f(circulating),
        euro_liability: euroValue(circulating, 2, '0.10'),
      });
    });
    expect(held).toBe(10000n);

    // The same months as CSV (the console's download), and in the Excel form with decimal commas.
    const csv = await t.request('GET', '/api/v1/currencies/EXL/exports/liability.csv?months=12', { token: t.adminToken });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="liability-EXL-${now}.csv"`);
    const lines = (csv.body as string).split('\r\n');
    expect(lines[0]).toBe('month,in_wallets,in_shops,expiring,circulating,euro_liability');
    expect(lines.slice(1, -1)).toEqual(reply.body.months.map((m: any) =>
      [m.month, m.in_wallets, m.in_shops, m.expiring, m.circulating, m.euro_liability].join(',')));
    expect(lines.at(-1)).toBe('');
    const excel = await t.request('GET', '/api/v1/currencies/EXL/exports/liability.csv?months=1&format=excel', { token: t.adminToken });
    expect((excel.body as string).split('\r\n')[1]).toBe([now.slice(0, 7), '123,50', '10,05', '1,25', '133,55', '13,36'].join(';'));
  });

  it('keeps the wallets as they are when coins never expire, and takes 1 to 60 months', async () => {
    await createCurrency(t, 'EXM', 2);
    await walletWith('EXM', [{ amount: '7.77', days_ago: 900 }]);
    const reply = await t.request('GET', '/api/v1/currencies/EXM/reports/liability?months=2', { token: t.adminToken });
    expect(reply.body.months.map((m: any) => [m.in_wallets, m.expiring, m.euro_liability])).toEqual([['7.77', '0.00', '0.78'], ['7.77', '0.00', '0.78']]);
    expect((await t.request('GET', '/api/v1/currencies/EXM/reports/liability', { token: t.adminToken })).body.months).toHaveLength(12);
    for (const months of ['0', '61', 'x']) {
      expectProblem(await t.request('GET', `/api/v1/currencies/EXM/reports/liability?months=${months}`, { token: t.adminToken }), 422, 'validation_failed');
      expectProblem(await t.request('GET', `/api/v1/currencies/EXM/exports/liability.csv?months=${months}`, { token: t.adminToken }), 422, 'validation_failed');
    }
  });
});
