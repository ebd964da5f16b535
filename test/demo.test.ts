/**
 * `wijkmunt demo` (issue #5): it fills an empty database through the HTTP app, the ledger
 * verifies afterwards, everything it prints works (logins, pairing codes, cards with PINs, the
 * open claim link), and a second run refuses without changing anything. Run as the README says
 * (issue #19, point 15), it prints its links on the port or PUBLIC_BASE_URL it was given and the
 * command that starts the service on its data, and its data folder is ignored by git.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createTestDatabase } from './support/db-harness.js';
import { DemoRefused, belgianIban, demoStartCommand, describeDemo, fillDemo } from '../src/demo.js';
import type { DemoResult } from '../src/demo.js';
import { isValidIban } from '../src/ledger/iban.js';

let t: TestApp;
let demo: DemoResult;
const base_url = 'http://wijk.example:8080';
const root = path.resolve(import.meta.dirname, '..');

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['currencies', 'accounts', 'transfers', 'users', 'audit_log']) {
    const [row] = await t.sql.unsafe<Array<{ n: string }>>(`SELECT count(*) AS n FROM ${table}`);
    out[table] = Number(row?.n ?? -1);
  }
  return out;
}

beforeAll(async () => {
  t = await createTestApp({ PUBLIC_BASE_URL: base_url });
  demo = await fillDemo(t.app, t.sql, { scrypt_cost_log2: 10, base_url });
});

afterAll(async () => {
  await t?.close();
});

describe('wijkmunt demo', () => {
  it('fills the empty database with a neighbourhood', async () => {
    expect(demo.currency).toEqual({ code: 'TOR', name: 'Torekes' });
    const currency = await t.request('GET', '/api/v1/currencies/TOR', { token: t.adminToken });
    expect(currency.body).toMatchObject({ scale: 0, euro_per_unit: '0.10' });
    expect(currency.body.payer).not.toBeNull();

    expect(demo.shops).toHaveLength(3);
    expect(demo.volunteers).toHaveLength(10);
    expect(new Set(demo.volunteers.map((v) => v.card)).size).toBe(10);
    expect(new Set(demo.volunteers.map((v) => v.language))).toEqual(new Set(['nl', 'en', 'fr']));
    for (const v of demo.volunteers) {
      expect(v.pin).toMatch(/^[0-9]{4}$/);
      expect(v.card_url).toBe(`${base_url}/c/${v.card}`);
    }

    // The default activities, and one more paid a fixed amount.
    const activities = await t.request('GET', '/api/v1/currencies/TOR/activities', { token: t.adminToken });
    expect(activities.body.items.length).toBeGreaterThanOrEqual(6);
    expect(activities.body.items.some((a: { amount: string | null }) => a.amount !== null)).toBe(true);

    // Funded programmes, history of rewards, payments, a refund and cash-outs.
    const supply = await t.request('GET', '/api/v1/currencies/TOR/supply', { token: t.adminToken });
    expect(supply.body.issued).toBe('23000');
    expect(Number(supply.body.in_wallets)).toBeGreaterThan(0);
    expect(Number(supply.body.in_shops)).toBeGreaterThan(0);
    expect(supply.body.redeemed).toBe('40');
    const [codes] = await t.sql<Array<{ rewards: string; payments: string; refunds: string }>>`
      SELECT count(*) FILTER (WHERE code = 'reward') AS rewards, count(*) FILTER (WHERE code = 'payment') AS payments,
             count(*) FILTER (WHERE code = 'refund') AS refunds FROM transfers`;
    expect(Number(codes?.rewards)).toBeGreaterThanOrEqual(10);
    expect(Number(codes?.payments)).toBeGreaterThanOrEqual(5);
    expect(Number(codes?.refunds)).toBe(1);
    const pending = await t.request('GET', '/api/v1/currencies/TOR/redemptions?status=pending', { token: t.adminToken });
    expect(pending.body.items).toHaveLength(1);
    const payouts = await t.request('GET', '/api/v1/currencies/TOR/payouts?unexported=true', { token: t.adminToken });
    expect(payouts.body.items).toHaveLength(1);

    // Balances it reports are those of the ledger.
    const wallets = await t.request('GET', '/api/v1/currencies/TOR/accounts?kind=wallet&limit=100', { token: t.adminToken });
    for (const v of demo.volunteers) {
      expect(wallets.body.items.find((a: { id: string }) => a.id === v.account)?.balance).toBe(v.balance);
    }
  });

  it('leaves a ledger that verifies', async () => {
    const verify = await t.request('GET', '/api/v1/currencies/TOR/verify', { token: t.adminToken });
    expect(verify.status).toBe(200);
    expect(verify.body.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(verify.body.ok).toBe(true);
  });

  it('prints logins, pairing codes, cards and PINs that work', async () => {
    for (const login of [demo.admin, demo.coordinator]) {
      const answer = await t.request('POST', '/api/v1/auth/login', { body: login });
      expect(answer.status).toBe(200);
    }
    const coordinator = await t.request('POST', '/api/v1/auth/login', { body: demo.coordinator });
    expect(coordinator.body.user).toMatchObject({ role: 'coordinator', currencies: ['TOR'] });

    const shop = demo.shops[0];
    expect(shop).toBeDefined();
    const paired = await t.request('POST', '/api/v1/shop/devices', { body: { pairing_code: shop?.pairing_code, device_name: 'test tablet' } });
    expect(paired.status).toBe(201);
    expect(paired.body.shop.name).toBe(shop?.name);

    const volunteer = demo.volunteers[9];
    const opened = await t.request('POST', '/api/v1/wallet/session', { body: { card: volunteer?.card, pin: volunteer?.pin } });
    expect(opened.status).toBe(200);
    expect(opened.body.wallet.display_name).toBe(volunteer?.name);

    // The open session's claim link pays the volunteer the reward it names.
    const token = decodeURIComponent(demo.open_session.claim_url.split('#')[1] ?? '');
    const claim = await t.request('POST', '/api/v1/claims', { token: opened.body.token, idempotencyKey: 'demo-claim', body: { token } });
    expect(claim.status).toBe(201);
    expect(`${claim.body.amount} TOR`).toBe(demo.open_session.reward);

    const text = describeDemo(demo, 'npm start');
    expect(text).toContain(`${base_url}/console`);
    expect(text).toContain(`${base_url}/shop`);
    for (const s of demo.shops) expect(text).toContain(s.pairing_code);
    for (const v of demo.volunteers) {
      expect(text).toContain(v.card_url);
      expect(text).toContain(`PIN ${v.pin}`);
    }
    expect(text).toContain(demo.admin.password);
    expect(text).toContain(demo.open_session.claim_url);
    expect(text).toContain(`${base_url}/impact/TOR`);
  });

  it('refuses a database that is not empty, changing nothing', async () => {
    const before = await counts();
    await expect(fillDemo(t.app, t.sql, { scrypt_cost_log2: 10, base_url })).rejects.toThrow(DemoRefused);
    await expect(fillDemo(t.app, t.sql, { scrypt_cost_log2: 10, base_url })).rejects.toThrow(/not empty.*TOR/);
    expect(await counts()).toEqual(before);
  });

  it('makes valid Belgian IBANs', () => {
    expect(belgianIban('5390075470')).toBe('BE68539007547034');
    for (const bank of ['0631234567', '0019876543', '7370011223', '0910102030']) expect(isValidIban(belgianIban(bank))).toBe(true);
  });
});

/** `wijkmunt demo` as `npm run demo` runs it (from the sources), with `env` on top of this process's environment without the settings tested. */
function runDemo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), 'demo'], {
      cwd: root,
      env: { ...process.env, PORT: undefined, PUBLIC_BASE_URL: undefined, JWT_SECRET: undefined, SCRYPT_COST_LOG2: '10', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every http(s) link the demo printed. */
function linksIn(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^\s)]+/g)].map((m) => m[0]);
}

describe('the demo as the README runs it', () => {
  it('prints how to start the service on its data: the settings it was given, never a secret', () => {
    expect(demoStartCommand({})).toBe('npm start');
    expect(demoStartCommand({ DATA_DIR: './.demo-data' })).toBe('DATA_DIR=./.demo-data npm start');
    expect(demoStartCommand({ DATA_DIR: '/tmp/my demo', PORT: '3000', PUBLIC_BASE_URL: 'https://wijk.example.org', HOST: '127.0.0.1' }))
      .toBe("DATA_DIR='/tmp/my demo' PORT=3000 PUBLIC_BASE_URL=https://wijk.example.org npm start");
    expect(demoStartCommand({ DATA_DIR: "it's", PORT: '' })).toBe("DATA_DIR='it'\\''s' npm start");
    const with_secrets = demoStartCommand({ DATABASE_URL: 'postgres://u:secret@db/w', JWT_SECRET: 'x'.repeat(40) });
    expect(with_secrets).toBe('npm start   (with the same DATABASE_URL and JWT_SECRET)');
    expect(with_secrets).not.toContain('secret@');
  });

  it('the README\'s demo folder is ignored by git, and its commands are those the demo prints', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const ignored = (await readFile(path.join(root, '.gitignore'), 'utf8')).split('\n').map((line) => line.trim());
    expect(readme).toContain('DATA_DIR=./.demo-data npm run demo\n');
    expect(readme).toContain(`${demoStartCommand({ DATA_DIR: './.demo-data' })}\n`);
    expect(ignored.some((line) => ['.demo-data', '.demo-data/', '/.demo-data', '/.demo-data/'].includes(line))).toBe(true);
    // Without settings, `npm run demo` then `npm start`, as in the README's first example.
    expect(readme).toMatch(/^npm run demo\s.*\n^npm start\s/m);
    expect(demoStartCommand({})).toBe('npm start');
  });

  it('run from the command line, it prints links on its PORT, or on PUBLIC_BASE_URL, and how to start the service there', async () => {
    const data_dir = await mkdtemp(path.join(os.tmpdir(), 'wijkmunt-demo-'));
    const databases = [await createTestDatabase(), await createTestDatabase()];
    try {
      const folder = path.join(data_dir, 'demo data');
      await mkdir(folder);
      const cases: Array<{ env: Record<string, string>; base: string; start: string }> = [
        { env: { PORT: '3457' }, base: 'http://localhost:3457', start: `DATA_DIR='${folder}' PORT=3457 npm start   (with the same DATABASE_URL)` },
        {
          env: { PORT: '3458', PUBLIC_BASE_URL: 'https://wijk.example.org/' }, base: 'https://wijk.example.org',
          start: `DATA_DIR='${folder}' PORT=3458 PUBLIC_BASE_URL=https://wijk.example.org/ npm start   (with the same DATABASE_URL)`,
        },
      ];
      for (const [i, { env, base, start }] of cases.entries()) {
        const database = databases[i]!;
        const run = await runDemo({ ...env, DATA_DIR: folder, DATABASE_URL: database.url });
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const lines = run.stdout.split('\n');
        expect(lines[lines.findIndex((line) => line.startsWith('Start the service on this data')) + 1]).toBe(`  ${start}`);
        expect(run.stdout).toContain(`${base}/console`);
        expect(run.stdout).toContain(`${base}/shop`);
        const links = linksIn(run.stdout);
        expect(links.filter((link) => /\/c\/[0-9A-Z]{17}$/.test(link))).toHaveLength(10);
        for (const link of links) expect(link.startsWith(`${base}/`), link).toBe(true);
        expect(run.stdout).not.toContain(database.url);
      }

      // PORT=0 would print links to a port nobody knows yet: refused before anything is written.
      const any_port = await runDemo({ PORT: '0', DATA_DIR: folder, DATABASE_URL: databases[0]!.url });
      expect(any_port.code).toBe(2);
      expect(any_port.stderr).toMatch(/PORT is 0.*set PORT or PUBLIC_BASE_URL/);
    } finally {
      for (const database of databases) await database.drop();
      await rm(data_dir, { recursive: true, force: true });
    }
  }, 120_000);
});
