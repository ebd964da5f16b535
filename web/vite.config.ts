import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';
import preact from '@preact/preset-vite';

const web_dir = path.dirname(fileURLToPath(import.meta.url));

/** The wallet's first load: gzipped JavaScript of the entry and everything it imports statically. */
const first_load_js_budget_bytes = 100 * 1024;

/** Files outside the bundle (from web/public) that the app shell needs offline. */
const public_shell = ['/', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png'];

interface ChunkLike { type: 'chunk'; fileName: string; isEntry: boolean; imports: string[]; facadeModuleId: string | null; code: string; viteMetadata?: { importedCss: Set<string> } }
interface AssetLike { type: 'asset'; fileName: string }

/**
 * Emits the service worker (web/sw/sw.template.js) with the app shell to precache — the entry,
 * its static imports, their CSS, the language files and the QR renderer — and checks the
 * first-load budget (which counts the entry and its static imports only).
 */
function serviceWorkerAndBudget(): Plugin {
  return {
    name: 'wijkmunt-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = bundle as unknown as Record<string, ChunkLike | AssetLike>;
      const shell = new Set<string>();
      let first_load_gzip = 0;
      const visit = (name: string, count: boolean) => {
        const file = files[name];
        if (file === undefined || shell.has(name)) return;
        shell.add(name);
        if (file.type !== 'chunk') return;
        if (count) first_load_gzip += gzipSync(file.code).length;
        for (const css of file.viteMetadata?.importedCss ?? []) shell.add(css);
        for (const imported of file.imports) visit(imported, count);
      };
      for (const file of Object.values(files)) {
        if (file.type === 'chunk' && file.isEntry) visit(file.fileName, true);
      }
      for (const file of Object.values(files)) {
        const module = file.type === 'chunk' ? file.facadeModuleId ?? '' : '';
        // The language files, and the QR renderer: My card shows its QR offline, opened online or not.
        if (/[\\/]i18n[\\/][a-z]{2,3}\.ts$/.test(module) || /[\\/]lib[\\/]qr-render\.ts$/.test(module)) visit(file.fileName, false);
      }
      const precache = [...public_shell, ...[...shell].sort().map((name) => `/${name}`)];
      const version = createHash('sha256').update(precache.join('\n')).digest('hex').slice(0, 12);
      const template = readFileSync(path.join(web_dir, 'sw', 'sw.template.js'), 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: template
          .replace('__PRECACHE__', JSON.stringify(precache))
          .replace('__VERSION__', JSON.stringify(version)),
      });
      const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
      this.info(`wallet first load: ${kb(first_load_gzip)} gzipped JavaScript (budget ${kb(first_load_js_budget_bytes)})`);
      if (first_load_gzip > first_load_js_budget_bytes) {
        this.error(`the first load is ${kb(first_load_gzip)} of gzipped JavaScript, over the budget of ${kb(first_load_js_budget_bytes)}`);
      }
    },
  };
}

export default defineConfig({
  root: web_dir,
  publicDir: path.join(web_dir, 'public'),
  plugins: [preact(), serviceWorkerAndBudget()],
  build: {
    outDir: path.join(web_dir, 'dist'),
    emptyOutDir: true,
    // Old phones: syntax lowered for browsers from about 2020 on.
    target: ['es2020', 'chrome87', 'safari14', 'firefox78', 'edge88'],
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev:web` for UI work, with the service (:8080, or WIJKMUNT_API_URL) behind it.
    // /livez too: the client asks it while offline (lib/online.ts).
    proxy: Object.fromEntries(['/api', '/livez'].map((prefix) => [prefix, process.env.WIJKMUNT_API_URL ?? 'http://localhost:8080'])),
  },
});
