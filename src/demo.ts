/**
 * `wijkmunt demo`: fills an empty database with a believable neighbourhood — the Torekes-like
 * currency TOR, a funded programme, the default activities, three shops with pairing codes, ten
 * volunteers with cards and PINs, a coordinator and some history — and says how to try every flow.
 *
 * Everything after the first admin goes through the HTTP app itself (in process), so the demo
 * obeys the same rules, limits, audit trail and idempotency as real use.
 */
import { weakPin } from './ledger/secrets.js';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Sql } from './db/client.js';
import { listCurrencies } from './db/ledger.js';
import { findUserByEmail, insertUser } from './db/users.js';
import { hashSecret } from './security/passwords.js';
import { formatIban, isValidIban } from './ledger/iban.js';
import { formatCardCode } from './ledger/cards.js';

/** What the demo needs of the HTTP app: `app.request` of Hono. */
export interface RequestTarget {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

export interface DemoOptions {
  /** scrypt cost for the admin's password (the service's SCRYPT_COST_LOG2). */
  scrypt_cost_log2: number;
  /** The address the service is reached at, for the links printed (PUBLIC_BASE_URL). */
  base_url: string;
}

export interface DemoVolunteer {
  account: string;
  name: string;
  language: 'nl' | 'en' | 'fr';
  pin: string;
  card: string;
  card_url: string;
  balance?: string;
}

export interface DemoShop {
  account: string;
  name: string;
  iban: string;
  pairing_code: string;
  pairing_expires_at: string;
}

export interface DemoResult {
  base_url: string;
  currency: { code: string; name: string };
  admin: { email: string; password: string };
  coordinator: { email: string; password: string };
  programmes: Array<{ account: string; name: string; available?: string }>;
  shops: DemoShop[];
  volunteers: DemoVolunteer[];
  open_session: { id: string; activity: string; reward: string; claim_url: string; expires_at: string };
  pending_cashout: { shop: string; amount: string };
}

/** The database already holds data: the demo only fills an empty one. */
export class DemoRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoRefused';
  }
}

export const demo_currency = 'TOR';
const admin_email = 'beheer@wijkmunt.example';
const coordinator_email = 'coordinator@wijkmunt.example';

/** A readable random password: "demo-" and 12 letters and digits without look-alikes. */
function newPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  return `demo-${[...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** A PIN people would not guess: 4 digits the service accepts (src/ledger/secrets.ts), not a year. */
function newPin(): string {
  for (;;) {
    const pin = String(randomInt(0, 10_000)).padStart(4, '0');
    if (weakPin(pin) === undefined && !pin.startsWith('19') && !pin.startsWith('20')) return pin;
  }
}

/** A valid Belgian IBAN for a 10-digit bank + account number (national and ISO check digits computed). */
export function belgianIban(first10: string): string {
  const national = Number(BigInt(first10) % 97n) || 97;
  const bban = `${first10}${String(national).padStart(2, '0')}`;
  // ISO 7064 mod 97-10 over BBAN + "BE00", letters as numbers (B = 11, E = 14).
  const check = 98n - (BigInt(`${bban}111400`) % 97n);
  const iban = `BE${String(check).padStart(2, '0')}${bban}`;
  if (!isValidIban(iban)) throw new Error(`demo IBAN ${iban} is not valid`);
  return iban;
}

const shops = [
  { name: 'Bakkerij Het Warme Nest', bank: '0631234567', address: 'Rabotstraat 12, 9000 Gent', contact: 'Els Verbeke — 09 223 45 67' },
  { name: 'Kringwinkel De Tweede Kans', bank: '0019876543', address: 'Wondelgemstraat 88, 9000 Gent', contact: 'Samir — tweedekans@example.org' },
  { name: 'Fietsatelier Trap Op', bank: '7370011223', address: 'Opgeëistenlaan 5, 9000 Gent', contact: 'Jan Desmet — 0470 12 34 56' },
] as const;

const volunteers = [
  { name: 'Fatima', language: 'nl' },
  { name: 'Jonas', language: 'nl' },
  { name: 'Aïcha', language: 'fr' },
  { name: 'Mehmet', language: 'nl' },
  { name: 'Sarah', language: 'en' },
  { name: 'Lucas', language: 'fr' },
  { name: 'Nadia', language: 'nl' },
  { name: 'Kwame', language: 'en' },
  { name: 'Marie-Claire', language: 'fr' },
  { name: 'Pieter', language: 'nl' },
] as const;

// The answers are read loosely: the HTTP tests check their shapes.
type Json = Record<string, any>;

/** A small client of the in-process app: JSON in and out; any non-2xx answer is an error naming the step. */
function client(app: RequestTarget) {
  return async (method: string, path: string, options: { token?: string; body?: unknown; idempotent?: boolean } = {}): Promise<Json> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotent === true) headers['Idempotency-Key'] = randomUUID();
    const response = await app.request(`/api/v1${path}`, {
      method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const body = text === '' ? {} : JSON.parse(text) as Json;
    if (!response.ok) throw new Error(`demo step ${method} ${path} failed: ${response.status} ${body.code ?? ''} ${body.detail ?? text}`);
    return body;
  };
}

type Call = ReturnType<typeof client>;

/** A demo volunteer by index (throws when there is none). */
type Who = (index: number) => DemoVolunteer;

/** Wallet sessions the demo opened with card + PIN, one per volunteer, reused and closed at the end. */
interface WalletSessions {
  token(index: number): Promise<string>;
  closeAll(): Promise<void>;
}

/** Refuses (DemoRefused) when the database already has a currency or a demo user. */
async function refuseUnlessEmpty(sql: Sql): Promise<void> {
  const existing = await listCurrencies(sql);
  if (existing.length > 0) {
    throw new DemoRefused(`the database is not empty: it already has ${existing.length === 1 ? 'the currency' : 'the currencies'} `
      + `${existing.map((c) => c.code).join(', ')}. \`wijkmunt demo\` only fills an empty database: start it with a fresh `
      + 'DATA_DIR (e.g. DATA_DIR=./.demo-data) or an empty DATABASE_URL.');
  }
  for (const email of [admin_email, coordinator_email]) {
    if (await findUserByEmail(sql, email) !== undefined) {
      throw new DemoRefused(`the database is not empty: the demo user ${email} already exists.`);
    }
  }
}

/** Creates the first admin directly (as `create-admin` does) and logs in as them: the staff token. */
async function signInFirstAdmin(call: Call, sql: Sql, options: DemoOptions) {
  const admin = { email: admin_email, password: newPassword() };
  await insertUser(sql, { email: admin.email, role: 'admin', currency_ids: [], password_hash: await hashSecret(admin.password, options.scrypt_cost_log2) });
  const staff = (await call('POST', '/auth/login', { body: admin })).token as string;
  return { admin, staff };
}

/** The currency (Torekes-like: 25 per hour, €0.10 each, volunteer caps of about €40 a day and €1600 a year) and its coordinator. */
async function createDemoCurrency(call: Call, staff: string) {
  const currency = await call('POST', '/currencies', {
    token: staff,
    body: { code: demo_currency, name: 'Torekes', scale: 0, euro_per_unit: '0.10', wallet_balance_max: '5000', volunteer_cap_day: '400', volunteer_cap_year: '16000' },
  });
  await call('PATCH', `/currencies/${demo_currency}`, {
    token: staff, body: { payer_name: 'Stad Gent - Torekes', payer_iban: belgianIban('0910102030'), payer_bic: 'GKCCBEBB' },
  });
  const coordinator = { email: coordinator_email, password: newPassword() };
  await call('POST', '/users', { token: staff, body: { ...coordinator, role: 'coordinator', currencies: [demo_currency] } });
  return { currency, coordinator };
}

/** Funds the default programme (made with the currency) for the year and creates a funded summer project; returns the latter. */
async function fundProgrammes(call: Call, staff: string): Promise<Json> {
  const [main_programme] = (await call('GET', `/currencies/${demo_currency}/accounts?kind=programme`, { token: staff })).items as Json[];
  if (main_programme === undefined) throw new Error('a new currency has its default programme');
  await call('POST', `/currencies/${demo_currency}/issue`, {
    token: staff, idempotent: true, body: { to_account: main_programme.id, amount: '20000', memo: `Werkingsbudget vrijwilligers ${new Date().getFullYear()}` },
  });
  const summer = await call('POST', `/currencies/${demo_currency}/accounts`, { token: staff, body: { kind: 'programme', name: 'Zomer in de wijk' } });
  await call('POST', `/currencies/${demo_currency}/issue`, {
    token: staff, idempotent: true, body: { to_account: summer.id, amount: '3000', memo: 'Projectsubsidie zomer' },
  });
  return summer;
}

/** Adds an activity paid a fixed amount from the summer project; returns it and a finder of the default activities by category. */
async function createActivities(call: Call, staff: string, summer: Json) {
  const soup = await call('POST', `/currencies/${demo_currency}/activities`, {
    token: staff,
    body: {
      name: { nl: 'Soep koken voor de buurt', en: 'Cooking soup for the neighbourhood', fr: 'Soupe pour le quartier' },
      category: 'other', amount: '30', programme_account: summer.id,
    },
  });
  const activities = (await call('GET', `/currencies/${demo_currency}/activities`, { token: staff })).items as Json[];
  const activity = (category: string) => {
    const found = activities.find((a) => a.category === category);
    if (found === undefined) throw new Error(`no default activity ${category}`);
    return found;
  };
  return { soup, activity };
}

/** Registers each shop with an IBAN; its first code pairs the demo's own till, a fresh one is printed. */
async function registerShops(call: Call, staff: string) {
  const shop_rows: DemoShop[] = [];
  const tills: string[] = [];
  for (const shop of shops) {
    const iban = belgianIban(shop.bank);
    const created = await call('POST', `/currencies/${demo_currency}/shops`, {
      token: staff, body: { name: shop.name, iban, address: shop.address, contact: shop.contact },
    });
    const paired = await call('POST', '/shop/devices', { body: { pairing_code: created.pairing_code, device_name: 'Kassa toonbank' } });
    tills.push(paired.token as string);
    const fresh = await call('POST', `/shops/${created.account.id}/pairing-codes`, { token: staff });
    shop_rows.push({
      account: created.account.id, name: shop.name, iban: formatIban(iban),
      pairing_code: fresh.pairing_code, pairing_expires_at: fresh.expires_at,
    });
  }
  return { shop_rows, tills };
}

/** Ten volunteer wallets with a card and a PIN each. */
async function createVolunteers(call: Call, staff: string): Promise<DemoVolunteer[]> {
  const people: DemoVolunteer[] = [];
  for (const person of volunteers) {
    const pin = newPin();
    const wallet = await call('POST', `/currencies/${demo_currency}/wallets`, {
      token: staff, body: { display_name: person.name, pin, language: person.language },
    });
    people.push({ account: wallet.account.id, name: person.name, language: person.language, pin, card: wallet.card.code, card_url: wallet.card.url });
  }
  return people;
}

/** Opens a volunteer's wallet with card + PIN on first use, then reuses that session. */
function walletSessions(call: Call, who: Who): WalletSessions {
  const wallets = new Map<number, string>();
  return {
    async token(index) {
      const known = wallets.get(index);
      if (known !== undefined) return known;
      const opened = await call('POST', '/wallet/session', { body: { card: who(index).card, pin: who(index).pin } });
      wallets.set(index, opened.token as string);
      return opened.token as string;
    },
    async closeAll() {
      for (const token of wallets.values()) await call('POST', '/wallet/logout', { token });
    },
  };
}

/** History of rewards: sessions awarded card by card, claimed with phones, and one paid a fixed amount. */
async function rewardVolunteers(call: Call, staff: string, activity: (category: string) => Json, soup: Json, who: Who, wallets: WalletSessions) {
  // A Repair Café, scanned card by card in event mode (2 hours: 50 TOR each).
  const repair = await call('POST', `/activities/${activity('repair_cafe').id}/sessions`, { token: staff, body: { hours: '2', max_claims: 20 } });
  for (const index of [0, 1, 2, 3, 4, 5]) {
    await call('POST', `/sessions/${repair.id}/awards`, { token: staff, idempotent: true, body: { card: who(index).card } });
  }
  // Neighbourhood upkeep: 3 hours for four volunteers, one of whom left after 1.5 hours.
  const upkeep = await call('POST', `/activities/${activity('buurtbeheer').id}/sessions`, { token: staff, body: { hours: '3', max_claims: 10 } });
  for (const index of [6, 7, 8]) {
    await call('POST', `/sessions/${upkeep.id}/awards`, { token: staff, idempotent: true, body: { card: who(index).card } });
  }
  await call('POST', `/sessions/${upkeep.id}/awards`, { token: staff, idempotent: true, body: { card: who(9).card, hours: '1.5' } });
  // Street ambassadors claim with their phones: wallet opened with card + PIN, claim QR scanned.
  const street = await call('POST', `/activities/${activity('street_ambassador').id}/sessions`, { token: staff, body: { hours: '1.5', max_claims: 10 } });
  for (const index of [0, 4, 8]) {
    await call('POST', '/claims', { token: await wallets.token(index), idempotent: true, body: { token: street.claim_token } });
  }
  // Soup for the neighbourhood: a fixed 30 TOR from the summer project.
  const soup_session = await call('POST', `/activities/${soup.id}/sessions`, { token: staff, body: { max_claims: 8 } });
  for (const index of [2, 5]) {
    await call('POST', `/sessions/${soup_session.id}/awards`, { token: staff, idempotent: true, body: { card: who(index).card } });
  }
}

/** History of spending: card + PIN at the tills, a payment QR paid from a phone, a refund, and two cash-outs. */
async function spendAndCashOut(call: Call, staff: string, tills: string[], who: Who, wallets: WalletSessions): Promise<void> {
  const [bakery, thrift, bikes] = tills as [string, string, string];
  const charge = (till: string, index: number, amount: string, memo: string) =>
    call('POST', '/shop/charges', { token: till, idempotent: true, body: { card: who(index).card, pin: who(index).pin, amount, memo } });
  await charge(bakery, 0, '18', 'Brood en koffiekoeken');
  await charge(bakery, 3, '12', 'Volkorenbrood');
  await charge(bakery, 6, '25', 'Taart voor de buren');
  const coat = await charge(thrift, 1, '35', 'Winterjas');
  await charge(thrift, 7, '20', 'Kinderboeken');
  await charge(bikes, 2, '40', 'Nieuwe band en remblokjes');
  const request = await call('POST', '/shop/payment-requests', { token: bikes, body: { amount: '15', memo: 'Fietslicht' } });
  await call('POST', `/payment-requests/${request.id}/pay`, { token: await wallets.token(4), idempotent: true });
  // The coat was a size too small: part of it refunded.
  await call('POST', '/shop/refunds', { token: thrift, idempotent: true, body: { transfer_id: coat.id, amount: '10' } });

  // Cash-out: the bakery's request approved (its payout waits for the next bank file), the thrift shop's pending.
  const bakery_cashout = await call('POST', '/shop/redemptions', { token: bakery, idempotent: true, body: { amount: '40' } });
  await call('POST', `/redemptions/${bakery_cashout.id}/approve`, { token: staff });
  await call('POST', '/shop/redemptions', { token: thrift, idempotent: true, body: { amount: '30' } });
}

/** The wallets' balances by account id and the programmes' budgets, as they stand after the history. */
async function readBalances(call: Call, staff: string) {
  const balances = new Map<string, string>();
  for (const account of (await call('GET', `/currencies/${demo_currency}/accounts?kind=wallet&limit=100`, { token: staff })).items as Json[]) {
    balances.set(account.id, account.balance);
  }
  const programmes = ((await call('GET', `/currencies/${demo_currency}/accounts?kind=programme`, { token: staff })).items as Json[])
    .map((p) => ({ account: p.id as string, name: p.name as string, available: p.available as string }));
  return { balances, programmes };
}

/**
 * Fills an empty database through `app`. Refuses (DemoRefused) when a currency or a demo user
 * already exists, before changing anything.
 */
export async function fillDemo(app: RequestTarget, sql: Sql, options: DemoOptions): Promise<DemoResult> {
  await refuseUnlessEmpty(sql);
  const call = client(app);

  // Staff: the first admin directly, everything else over HTTP.
  const { admin, staff } = await signInFirstAdmin(call, sql, options);
  const { currency, coordinator } = await createDemoCurrency(call, staff);
  const summer = await fundProgrammes(call, staff);
  const { soup, activity } = await createActivities(call, staff, summer);
  const { shop_rows, tills } = await registerShops(call, staff);
  const people = await createVolunteers(call, staff);
  const who = (index: number): DemoVolunteer => {
    const person = people[index];
    if (person === undefined) throw new Error(`no volunteer ${index}`);
    return person;
  };

  const wallets = walletSessions(call, who);
  await rewardVolunteers(call, staff, activity, soup, who, wallets);
  await spendAndCashOut(call, staff, tills, who, wallets);

  // Close the demo's own wallet sessions and staff login; the tills stay paired.
  await wallets.closeAll();

  // A session left open for trying the claim QR, the full-screen QR and event mode.
  const open = await call('POST', `/activities/${activity('repair_cafe').id}/sessions`, { token: staff, body: { hours: '2', max_claims: 30 } });

  const { balances, programmes } = await readBalances(call, staff);
  await call('POST', '/auth/logout', { token: staff });

  return {
    base_url: options.base_url,
    currency: { code: currency.code, name: currency.name },
    admin, coordinator, programmes,
    shops: shop_rows,
    volunteers: people.map((p) => ({ ...p, balance: balances.get(p.account) })),
    open_session: {
      id: open.id, activity: 'Repair Café', reward: `${open.reward} ${demo_currency}`, claim_url: open.claim_url, expires_at: open.expires_at,
    },
    pending_cashout: { shop: shops[1].name, amount: `30 ${demo_currency}` },
  };
}

/** Settings the service must have as the demo had them: its data folder (and signing key), its port, its address. */
const service_settings = ['DATA_DIR', 'PORT', 'PUBLIC_BASE_URL'] as const;
/** Settings the service must have the same too, but that are secrets: named, never printed. */
const service_secrets = ['DATABASE_URL', 'JWT_SECRET'] as const;

/** A value as one word of a POSIX shell command. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that starts the service on the demo's data, so that what the demo prints works
 * there: `npm start` after the settings of `env` (the demo's environment) that the service needs
 * the same, e.g. `DATA_DIR=./.demo-data npm start`; secrets set are named, not printed.
 */
export function demoStartCommand(env: Readonly<Record<string, string | undefined>>): string {
  const given = (name: string) => env[name] !== undefined && env[name] !== '';
  const command = [...service_settings.filter(given).map((name) => `${name}=${shellWord(env[name]!)}`), 'npm start'].join(' ');
  const secrets = service_secrets.filter(given);
  return secrets.length === 0 ? command : `${command}   (with the same ${secrets.join(' and ')})`;
}

/** How to try every flow, for the terminal; `start_command` starts the service on this data (demoStartCommand). */
export function describeDemo(demo: DemoResult, start_command: string): string {
  const base = demo.base_url;
  const when = (iso: string) => new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Brussels', dateStyle: 'medium', timeStyle: 'short',
  }).format(new Date(iso));
  const pad = (text: string, width: number) => text.padEnd(width);
  const lines = [
    '',
    `Wijkmunt demo: the neighbourhood currency ${demo.currency.name} (${demo.currency.code}) is ready.`,
    `Start the service on this data, then open ${base}/`,
    `  ${start_command}`,
    '',
    `Coordinator console  ${base}/console`,
    `  ${pad('admin', 12)} ${pad(demo.admin.email, 32)} password ${demo.admin.password}`,
    `  ${pad('coordinator', 12)} ${pad(demo.coordinator.email, 32)} password ${demo.coordinator.password}`,
    '  Programme budgets: ' + demo.programmes.map((p) => `${p.name} ${p.available ?? ''} ${demo.currency.code}`).join(', '),
    '',
    `Shop tablets  ${base}/shop  (type the pairing code; each works once, until ${demo.shops[0] === undefined ? '' : when(demo.shops[0].pairing_expires_at)})`,
    ...demo.shops.map((s) => `  ${pad(s.name, 28)} pairing code ${pad(s.pairing_code, 12)} IBAN ${s.iban}`),
    '',
    'Volunteers  (open the card link on a phone, then type the PIN)',
    ...demo.volunteers.map((v) => `  ${pad(v.name, 13)} ${v.language}  PIN ${v.pin}  ${pad(`${v.balance ?? '?'} ${demo.currency.code}`, 9)} ${pad(formatCardCode(v.card), 22)} ${v.card_url}`),
    '',
    'Try every flow:',
    `  1. Claim: log in to the console, Activities → open a session, or scan this claim link with a volunteer's phone:`,
    `     ${demo.open_session.claim_url}`,
    `     (${demo.open_session.activity}, ${demo.open_session.reward}, valid until ${when(demo.open_session.expires_at)}; full screen QR and event mode at ${base}/console/sessions/${demo.open_session.id})`,
    `  2. Pay with a QR: pair a tablet at ${base}/shop, type an amount, scan the QR with a volunteer's wallet (${base}/c/<card>).`,
    '  3. Pay with card + PIN: on the tablet, "Scan card", the amount, then the volunteer types the PIN; refund part of it from the history.',
    `  4. Cash-out: ${demo.pending_cashout.shop} asked to cash in ${demo.pending_cashout.amount}; approve it in ${base}/console/cashouts and make the SEPA file.`,
    `  5. Cards: print, reissue, block or unlock a card in ${base}/console/wallets; the ledger check is in ${base}/console/ledger.`,
    `  6. The public view of what the neighbourhood did, without a login: ${base}/impact/${demo.currency.code} (groups under 10 people show "< 10").`,
    '',
    'These passwords and PINs are printed only now. The demo data is for trying things out, not for real coins.',
    '',
  ];
  return lines.join('\n');
}
