/**
 * The browser tests' world: the real service as a child process on a fresh database filled with
 * the demo neighbourhood, the Chromium of the npm package @sparticuz/chromium (or CHROMIUM_PATH's)
 * driven by playwright-core (see chromium.ts), fake camera videos of QR codes filmed off the
 * screens (camera.ts), axe-core, and the screenshots kept in test-results/browser/.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { fillDemo } from '../../src/demo.js';
import { tokenKeysFrom } from '../../src/security/keys.js';
import type { DemoResult } from '../../src/demo.js';
import { createTestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db-harness.js';
import type { TestDatabase } from '../support/db-harness.js';
import { ensureWebBuilt } from '../support/web-build.js';
import { decodePng, y4mVideo } from './camera.js';
import { chromiumBuild, requireChromium } from './chromium.js';

export const root = projectRoot();
/** Screenshots, axe reports and the service's log of each run (gitignored). */
export const results_dir = path.join(root, 'test-results', 'browser');
/** The README's screenshots, refreshed from a run with UPDATE_DOCS_SCREENSHOTS=1. */
const docs_screenshots = path.join(root, 'docs', 'screenshots');

export type Lang = 'nl' | 'en' | 'fr';
const intl: Record<Lang, string> = { nl: 'nl-BE', en: 'en-GB', fr: 'fr-BE' };

/** The app's language of a page's `lang` attribute (an Intl tag such as "fr-BE"). */
function langOf(tag: string): Lang {
  const base = tag.slice(0, 2);
  return base === 'en' || base === 'fr' ? base : 'nl';
}

/**
 * Fails (never skips) when something the browser tests need is missing, saying how to get it:
 * the npm packages of the Chromium and its fonts (or the Chromium CHROMIUM_PATH names).
 */
export function requireTools(): void {
  requireChromium();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Reply {
  status: number;
  // The tests read whatever JSON came back.
  body: any;
}

export interface World {
  /** http://127.0.0.1:<port>: a secure context for the camera, and the PUBLIC_BASE_URL of QR codes. */
  base: string;
  demo: DemoResult;
  /** Where this test file keeps its screenshots. */
  shots: string;
  /** Scratch files (videos) of this run. */
  tmp: string;
  api(method: string, path: string, options?: { token?: string; body?: unknown; idempotent?: boolean }): Promise<Reply>;
  login(who: { email: string; password: string }): Promise<string>;
  /** The service's output so far. */
  log(): string;
  /** Stops the service (the database stays), as a server gone away; `serviceUp` starts it again on the same address. */
  serviceDown(): Promise<void>;
  serviceUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A world and a browser for the tests of one `describe`: started before them (before the
 * describe's own `beforeAll`, which may use them) and closed after them.
 */
export function worldAndBrowser(name: string): { world: World; browser: Browser } {
  const held = {} as { world: World; browser: Browser };
  beforeAll(async () => {
    held.world = await startWorld(name);
    held.browser = await launchBrowser();
  }, 240_000);
  afterAll(async () => {
    await held.browser?.close().catch(() => undefined);
    await held.world?.stop();
  }, 60_000);
  return held;
}

/**
 * The world of one test file: the web client built, a fresh database with the demo neighbourhood
 * (made through the HTTP app, as `wijkmunt demo` does), and the service (`src/main.ts`) on it.
 */
export async function startWorld(name: string): Promise<World> {
  requireTools();
  await ensureWebBuilt();
  const shots = path.join(results_dir, name);
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), `wijkmunt-browser-${name}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const database: TestDatabase = await createTestDatabase();

  // One signing key for the demo's app and the service, so the demo's claim QR is valid there.
  const jwt_secret = randomBytes(48).toString('base64url');
  const setup = await createTestApp({ PUBLIC_BASE_URL: base }, { database_url: database.url, keys: tokenKeysFrom(jwt_secret) });
  let demo: DemoResult;
  try {
    demo = await fillDemo(setup.app, setup.sql, { scrypt_cost_log2: 10, base_url: base });
  } finally {
    await setup.close();
  }

  const service_env = {
    DATABASE_URL: database.url, DATA_DIR: tmp, JWT_SECRET: jwt_secret, PORT: String(port), HOST: '127.0.0.1', PUBLIC_BASE_URL: base, METRICS_PORT: '0',
    SCRYPT_COST_LOG2: '10', LOG_LEVEL: 'warn', SEAL_INTERVAL_S: '0',
    // One test client address for every browser: the limits are out of the way.
    LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000', PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000',
    PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: '1000',
  };
  let service = await startService(service_env);
  /** Output of the service runs before the current one (serviceDown / serviceUp). */
  let earlier_output = '';

  const api = async (method: string, p: string, options: { token?: string; body?: unknown; idempotent?: boolean } = {}): Promise<Reply> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotent === true) headers['Idempotency-Key'] = crypto.randomUUID();
    const response = await fetch(`${base}/api/v1${p}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };

  return {
    base, demo, shots, tmp, api,
    login: async (who) => {
      const answer = await api('POST', '/auth/login', { body: who });
      if (answer.status !== 200) throw new Error(`login of ${who.email} failed: ${JSON.stringify(answer.body)}`);
      return answer.body.token as string;
    },
    log: () => earlier_output + service.output(),
    serviceDown: async () => {
      await service.stop();
    },
    serviceUp: async () => {
      earlier_output += service.output();
      service = await startService(service_env);
    },
    stop: async () => {
      await service.stop();
      writeFileSync(path.join(shots, 'service.log'), earlier_output + service.output());
      await database.drop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** `node src/main.ts` (through tsx, as the other process tests do); resolves once it listens. */
async function startService(env: Record<string, string>): Promise<{ output: () => string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts')], {
    cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listens on http:\/\/localhost:\d+/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code}:\n${output}`));
    });
  });
  return {
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Chromium, optionally with a fake camera showing `video` (a y4m file) forever. */
export async function launchBrowser(video?: string): Promise<Browser> {
  const build = await chromiumBuild();
  // As root, Chromium starts only without its sandbox.
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
  ];
  if (video !== undefined) {
    args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`);
  }
  return chromium.launch({ executablePath: build.executable, args, env: { ...process.env, ...build.env } });
}

export type Device = 'phone' | 'tablet';
export const viewports = {
  phone: { width: 360, height: 640 },
  tablet: { width: 1280, height: 800 },
} as const;

/** Problems a page had that no test step asked for: uncaught errors in the app. */
const page_errors = new WeakMap<Page, string[]>();

/**
 * A context as a phone (360×640) or a tablet / desk (1280×800) in `lang`. Service workers are
 * blocked unless `service_workers` is 'allow' (the offline tests): a page the client's service
 * worker controls would hide its requests from page.route.
 */
export async function newContext(
  browser: Browser, world: World, device: Device, lang: Lang, storageState?: BrowserContextOptions['storageState'],
  service_workers: 'allow' | 'block' = 'block',
): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL: world.base,
    viewport: viewports[device],
    deviceScaleFactor: device === 'phone' ? 2 : 1,
    hasTouch: device === 'phone',
    locale: intl[lang],
    timezoneId: 'Europe/Brussels',
    reducedMotion: 'reduce',
    acceptDownloads: true,
    serviceWorkers: service_workers,
    ...(storageState === undefined ? {} : { storageState }),
  });
  context.setDefaultTimeout(20_000);
  // The app's language on this device, as if chosen once (it follows the browser's otherwise).
  await context.addInitScript((tag) => {
    if (location.protocol.startsWith('http')) localStorage.setItem('wm.locale', tag);
  }, lang);
  context.on('page', (page) => watch(page));
  return context;
}

function watch(page: Page): void {
  const errors: string[] = [];
  page_errors.set(page, errors);
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
}

export async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  if (!page_errors.has(page)) watch(page);
  return page;
}

/**
 * Runs `steps` on a page of a fresh context (`device`, `lang`), then checks that the app threw
 * nothing and closes the context, whatever happened.
 */
export async function withPage(browser: Browser, world: World, device: Device, lang: Lang, steps: (page: Page) => Promise<void>): Promise<void> {
  const context = await newContext(browser, world, device, lang);
  try {
    const page = await newPage(context);
    await steps(page);
    expectNoPageErrors(page);
  } finally {
    await context.close();
  }
}

/** Opens a volunteer's card link and types their PIN (what the wallet shows next is the caller's to wait for). */
export async function signInWithCard(page: Page, who: { card_url: string; pin: string }): Promise<void> {
  await page.goto(who.card_url);
  await page.getByTestId('open-card').waitFor();
  await typePin(page, who.pin);
}

/**
 * Opens a volunteer's wallet on a phone (`lang`) from their card link with their PIN, and runs
 * `steps` on its home with the balance loaded; as withPage, it then checks for errors and closes.
 */
export async function withWalletHome(
  browser: Browser, world: World, who: { card_url: string; pin: string }, steps: (page: Page) => Promise<void>, lang: Lang = 'nl',
): Promise<void> {
  await withPage(browser, world, 'phone', lang, async (page) => {
    await signInWithCard(page, who);
    await page.getByTestId('wallet-home').waitFor();
    await page.getByTestId('balance').waitFor();
    await steps(page);
  });
}

/** Logs `who` in to the coordinator console and waits for the dashboard. */
export async function openConsole(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.goto('/console');
  await page.getByTestId('login-email').fill(who.email);
  await page.getByTestId('login-password').fill(who.password);
  await page.getByTestId('login-submit').click();
  await dashboardLoaded(page);
}

/** No uncaught error happened in the page's scripts. */
export function expectNoPageErrors(page: Page): void {
  expect(page_errors.get(page) ?? []).toEqual([]);
}

const axe_source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation { id: string; impact: string | null; help: string; nodes: string[] }

/**
 * axe-core on the page as it is. The page's Content-Security-Policy allows only its own scripts,
 * so axe is evaluated through the DevTools protocol (page.evaluate), not added as a <script>.
 */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(axe_source);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.map(String).join(' ')} — ${(n.failureSummary ?? '').replace(/\s+/g, ' ')}`),
    }));
  });
}

/** Horizontal overflow of the page: how much wider than the viewport it is, and the widest elements. */
async function horizontalOverflow(page: Page): Promise<{ overflow: number; culprits: string[] }> {
  return page.evaluate(() => {
    const scroller = document.scrollingElement ?? document.documentElement;
    const width = scroller.clientWidth;
    const culprits = [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > width + 1)
      .slice(0, 8)
      .map((element) => {
        const id = element.getAttribute('data-testid') ?? element.id;
        return `${element.tagName.toLowerCase()}${id === '' ? '' : `[${id}]`}.${String(element.className).replace(/\s+/g, '.')} right=${Math.round(element.getBoundingClientRect().right)}`;
      });
    return { overflow: scroller.scrollWidth - width, culprits };
  });
}

/** Waits until the page's language is `lang` and it has painted in it. */
async function inLanguage(page: Page, lang: Lang): Promise<void> {
  await page.waitForFunction((tag) => document.documentElement.lang === tag, intl[lang]);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/** Switches the language with the screen's own language picker. */
export async function chooseLanguage(page: Page, lang: Lang): Promise<void> {
  await page.getByTestId('language').first().selectOption(lang);
  await inLanguage(page, lang);
}

let shot_counter = 0;
const axe_log: Array<{ screen: string; lang: Lang; violations: AxeViolation[] }> = [];

export interface CheckOptions {
  /** Languages to check the screen in, switching with its language picker (default: the current one). */
  languages?: Lang[];
}

/**
 * One screen, as it is now: a screenshot, no horizontal scrolling, and no serious or critical
 * axe-core violation — in each of `languages` (the first is the screen's current language; the
 * screen is switched back to it afterwards).
 */
export async function checkScreen(page: Page, world: World, name: string, options: CheckOptions = {}): Promise<void> {
  const current = langOf(await page.evaluate(() => document.documentElement.lang));
  const languages = options.languages ?? [current];
  for (const lang of languages) {
    if (lang !== current) await chooseLanguage(page, lang);
    else await inLanguage(page, lang);
    shot_counter += 1;
    const width = page.viewportSize()?.width ?? 0;
    await page.screenshot({ path: path.join(world.shots, `${String(shot_counter).padStart(3, '0')}-${name}-${lang}-${width}.png`), fullPage: true });
    const { overflow, culprits } = await horizontalOverflow(page);
    expect(overflow, `${name} (${lang}, ${width} px wide) scrolls sideways by ${overflow} px: ${culprits.join('; ')}`).toBeLessThanOrEqual(0);
    const violations = await axeViolations(page);
    axe_log.push({ screen: name, lang, violations });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad, `axe-core on ${name} (${lang}):\n${JSON.stringify(bad, null, 2)}`).toEqual([]);
  }
  if (languages.some((lang) => lang !== current)) await chooseLanguage(page, current);
}

/** Only the sideways-scrolling check (and a screenshot), at the page's current viewport. */
export async function checkNoSidewaysScroll(page: Page, world: World, name: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  const lang = (await page.evaluate(() => document.documentElement.lang)).slice(0, 2);
  shot_counter += 1;
  await page.screenshot({ path: path.join(world.shots, `${String(shot_counter).padStart(3, '0')}-${name}-${lang}-${width}.png`), fullPage: true });
  const { overflow, culprits } = await horizontalOverflow(page);
  expect(overflow, `${name} (${width} px wide) scrolls sideways by ${overflow} px: ${culprits.join('; ')}`).toBeLessThanOrEqual(0);
}

/** Writes what axe-core said (moderate and minor findings too) next to the screenshots. */
export function writeAxeReport(world: World): void {
  writeFileSync(path.join(world.shots, 'axe.json'), JSON.stringify(axe_log, null, 2));
}

/**
 * A screenshot for the README (docs/screenshots/<name>.png): kept with the test results, and
 * copied into docs/ only when UPDATE_DOCS_SCREENSHOTS=1, so a test run never changes committed files.
 */
export async function docScreenshot(target: Page | Locator, world: World, name: string): Promise<void> {
  const dir = path.join(world.shots, 'docs');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  if ('goto' in target) await target.evaluate(() => window.scrollTo(0, 0));
  await target.screenshot({ path: file });
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
    mkdirSync(docs_screenshots, { recursive: true });
    copyFileSync(file, path.join(docs_screenshots, `${name}.png`));
  }
}

/**
 * A fake camera video of the QR code shown by `qr`, its element filmed off the screen (a
 * screenshot): 640×480, the code fitted into 300×300 px in the middle (qr-scanner reads the
 * central two thirds of a frame), 10 frames a second (see camera.ts). The screenshot is kept
 * beside the video in the world's scratch folder.
 */
export async function filmQr(qr: Locator, world: World, name: string): Promise<string> {
  await expect.poll(() => qr.locator('svg').count()).toBe(1);
  const png = path.join(world.tmp, `${name}.png`);
  const y4m = path.join(world.tmp, `${name}.y4m`);
  writeFileSync(y4m, y4mVideo(decodePng(await qr.screenshot({ path: png }))));
  return y4m;
}

/** Types a PIN on the PIN pad, key by key, and presses OK. */
export async function typePin(page: Page, pin: string): Promise<void> {
  for (const digit of pin) await page.getByTestId(`pin-${digit}`).click();
  await page.getByTestId('pin-ok').click();
}

/** Types an amount on the tablet's keypad, key by key ("." for the separator). */
export async function typeAmount(page: Page, amount: string): Promise<void> {
  for (const key of amount) await page.getByTestId(key === '.' ? 'amount-key-sep' : `amount-key-${key}`).click();
}

/** The console's dashboard with all its figures loaded (today, supply, budgets). */
export async function dashboardLoaded(page: Page): Promise<void> {
  await page.locator('[data-testid="today-rewards"], [data-testid="today-unavailable"]').first().waitFor();
  await page.getByTestId('supply-circulating').waitFor();
  await page.getByTestId('programme-available').first().waitFor();
}
