/**
 * The Chromium the browser tests drive, and the fonts it draws with; nothing of the machine's but
 * Node and npm is needed.
 *
 * - By default the Chromium of the npm package `@sparticuz/chromium` (pinned in package.json): a
 *   headless shell for x64 Linux, shipped brotli-compressed inside the package with the few
 *   shared libraries it needs (NSS, NSPR, expat: `al2023.tar.br`) and SwiftShader. The package's
 *   own `executablePath()` unpacks into `$TMPDIR` itself, shared by every version and without a
 *   guard against two processes unpacking at once; here each version is unpacked once into
 *   `$TMPDIR/wijkmunt-chromium-<version>-<uid>/` (first into a folder of its own, then renamed
 *   into place, so parallel test files never see half a binary; about 200 MB, kept for the next
 *   runs), and started with its libraries on `LD_LIBRARY_PATH`.
 * - `CHROMIUM_PATH=/usr/bin/chromium` (or any other Chromium) drives that one instead.
 *
 * Either way the browser draws with the DejaVu fonts of the npm package `dejavu-fonts-ttf`
 * (pinned too; the fonts Debian's fonts-dejavu-core has), through a fontconfig file of its own
 * (`FONTCONFIG_FILE`) that knows no other font: the screenshots show the same readable text on
 * every machine, with or without fonts installed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';

const require = createRequire(import.meta.url);

/** The Chromium to start, and what its process needs in its environment. */
export interface ChromiumBuild {
  executable: string;
  /** Where it came from, for messages: `@sparticuz/chromium 143.0.4` or the CHROMIUM_PATH. */
  source: string;
  env: Record<string, string>;
}

/** The folder of `@sparticuz/chromium`'s compressed files, and its version. */
function sparticuzPackage(): { bin: string; version: string } {
  // The package exports only its entry point (build/cjs/index.cjs); bin/ is two levels up.
  const entry = require.resolve('@sparticuz/chromium');
  const dir = path.resolve(path.dirname(entry), '..', '..');
  const version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  return { bin: path.join(dir, 'bin'), version };
}

/**
 * Fails (never skips) when the browser tests cannot have a Chromium, saying how to get one:
 * CHROMIUM_PATH names no file, or the npm packages are not installed.
 */
export function requireChromium(): void {
  const system = process.env.CHROMIUM_PATH;
  if (system !== undefined && system !== '') {
    if (!existsSync(system)) throw new Error(`CHROMIUM_PATH is ${system}, which does not exist. Unset it to use the Chromium of the npm package @sparticuz/chromium.`);
  } else {
    let bin: string;
    try {
      bin = sparticuzPackage().bin;
    } catch {
      throw new Error('The browser tests need the npm package @sparticuz/chromium (a devDependency): run npm install.');
    }
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(`@sparticuz/chromium ships Chromium for x64 Linux only, not ${process.platform}-${process.arch}: set CHROMIUM_PATH to a Chromium of this machine.`);
    }
    if (!existsSync(path.join(bin, 'chromium.br'))) throw new Error(`${bin}/chromium.br is missing: run npm install.`);
  }
  fontsDir();
}

let unpacked: Promise<ChromiumBuild> | undefined;

/** The Chromium of this run (unpacked on first use). */
export function chromiumBuild(): Promise<ChromiumBuild> {
  unpacked ??= findChromium();
  return unpacked;
}

async function findChromium(): Promise<ChromiumBuild> {
  requireChromium();
  const env: Record<string, string> = { FONTCONFIG_FILE: fontconfigFile() };
  const system = process.env.CHROMIUM_PATH;
  if (system !== undefined && system !== '') return { executable: system, source: system, env };
  const { bin, version } = sparticuzPackage();
  // Per user: Chromium writes beside itself (locales/), and the folder is its unpacker's only.
  const dir = path.join(os.tmpdir(), `wijkmunt-chromium-${version}-${os.userInfo().uid}`);
  if (!existsSync(path.join(dir, 'chromium'))) await unpack(bin, dir);
  const libs = path.join(dir, 'lib');
  env.LD_LIBRARY_PATH = [libs, ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter((p) => p !== '')].join(':');
  return { executable: path.join(dir, 'chromium'), source: `@sparticuz/chromium ${version}`, env };
}

/**
 * Unpacks the package's files into `dir`: `chromium` (the binary), SwiftShader's libraries beside
 * it (where Chromium looks for them), and `lib/` (NSS, NSPR, expat). Built in a folder of its own
 * and renamed into place: whoever renames first wins, the others throw theirs away.
 */
async function unpack(bin: string, dir: string): Promise<void> {
  const staging = mkdtempSync(`${dir}.part-`);
  try {
    await pipeline(createReadStream(path.join(bin, 'chromium.br')), createBrotliDecompress(), createWriteStream(path.join(staging, 'chromium'), { mode: 0o755 }));
    untar(brotliDecompressSync(readFileSync(path.join(bin, 'swiftshader.tar.br'))), staging);
    untar(brotliDecompressSync(readFileSync(path.join(bin, 'al2023.tar.br'))), staging);
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another test file's process was first.
      if (!existsSync(path.join(dir, 'chromium'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Writes the files and folders of a plain tar archive (ustar or GNU, no long names or links) under `dir`. */
function untar(archive: Buffer, dir: string): void {
  const field = (offset: number, length: number, at: number) => archive.toString('utf8', at + offset, at + offset + length).replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= archive.length;) {
    const name = field(0, 100, at);
    if (name === '') break;
    // A POSIX ustar header may put the start of a long name in its prefix field (GNU's has none).
    const prefix = archive.toString('latin1', at + 257, at + 263) === 'ustar\u000000' ? field(345, 155, at) : '';
    const full = prefix === '' ? name : `${prefix}/${name}`;
    const size = Number.parseInt(field(124, 12, at).trim() || '0', 8);
    const mode = Number.parseInt(field(100, 8, at).trim() || '644', 8);
    const type = field(156, 1, at);
    const target = path.resolve(dir, full);
    if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`tar entry outside its folder: ${full}`);
    if (type === '5') {
      mkdirSync(target, { recursive: true });
    } else if (type === '0' || type === '') {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, archive.subarray(at + 512, at + 512 + size), { mode });
    } else {
      throw new Error(`tar entry ${full} of type ${type}: only files and folders are expected`);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

/** The TrueType files of `dejavu-fonts-ttf`. */
function fontsDir(): string {
  let dir: string;
  try {
    dir = path.dirname(require.resolve('dejavu-fonts-ttf/package.json'));
  } catch {
    throw new Error('The browser tests need the npm package dejavu-fonts-ttf (a devDependency): run npm install.');
  }
  return dir;
}

/**
 * A fontconfig file that knows only the DejaVu fonts of the npm package, with DejaVu's own rules
 * making them sans-serif, serif and monospace, and sans-serif the fallback; written once into `$TMPDIR` (named by its content,
 * so checkouts in other folders each have theirs).
 */
function fontconfigFile(): string {
  const fonts = fontsDir();
  const includes = ['57-dejavu-sans.conf', '57-dejavu-serif.conf', '57-dejavu-sans-mono.conf']
    .map((file) => `  <include ignore_missing="no">${escape(path.join(fonts, 'fontconfig', file))}</include>`);
  const body = (cache: string) => [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
    '<fontconfig>',
    `  <dir>${escape(path.join(fonts, 'ttf'))}</dir>`,
    `  <cachedir>${escape(cache)}</cachedir>`,
    // As Debian's defaults (10-yes-antialias.conf, 10-hinting-slight.conf) draw text.
    '  <match target="pattern"><edit name="antialias" mode="append"><bool>true</bool></edit></match>',
    '  <match target="pattern"><edit name="hintstyle" mode="append"><const>hintslight</const></edit></match>',
    // fontconfig's 49-sansserif.conf, before the aliases: a family asked for by a name no font
    // has (system-ui, Segoe UI, sans…) falls back to sans-serif, not to whichever font sorts first.
    '  <match target="pattern">',
    ...['sans-serif', 'serif', 'monospace'].map((generic) => `    <test qual="all" name="family" compare="not_eq"><string>${generic}</string></test>`),
    '    <edit name="family" mode="append_last"><string>sans-serif</string></edit>',
    '  </match>',
    ...includes,
    '</fontconfig>',
    '',
  ].join('\n');
  const key = createHash('sha256').update(body('')).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `wijkmunt-fontconfig-${key}`);
  const file = path.join(dir, 'fonts.conf');
  if (!existsSync(file)) {
    mkdirSync(path.join(dir, 'cache'), { recursive: true });
    const part = `${file}.${process.pid}`;
    writeFileSync(part, body(path.join(dir, 'cache')));
    renameSync(part, file);
  }
  return file;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
