// The service worker of the Wijkmunt web client, emitted at build as /sw.js (see vite.config.ts).
// It keeps the app shell (index.html, the entry script and styles, the language files) so a
// flaky connection shows the app with a clear "offline" state instead of a browser error page.
// The API is never cached: balances and payments always come from the server.
/* eslint-disable no-restricted-globals */
const VERSION = __VERSION__;
const PRECACHE = __PRECACHE__;
const SHELL_CACHE = `wijkmunt-shell-${VERSION}`;
const ASSET_CACHE = 'wijkmunt-assets';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('wijkmunt-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    // Hashed assets of older builds: keep only what this build still uses or fetched since.
    const assets = await caches.open(ASSET_CACHE);
    const keep = new Set(PRECACHE);
    for (const request of await assets.keys()) {
      if (!keep.has(new URL(request.url).pathname)) await assets.delete(request);
    }
    await self.clients.claim();
  })());
});

async function fromShell(request) {
  const cache = await caches.open(SHELL_CACHE);
  return cache.match(request, { ignoreSearch: true });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;

  if (request.mode === 'navigate') {
    // Network first (a new build shows at once); offline, the cached shell serves every deep link.
    event.respondWith((async () => {
      try {
        return await fetch(request);
      } catch (error) {
        const shell = await fromShell('/');
        if (shell !== undefined) return shell;
        throw error;
      }
    })());
    return;
  }

  if (url.pathname.startsWith('/assets/')) {
    // Hashed file names never change content: cache first, and keep what was fetched.
    event.respondWith((async () => {
      const cached = (await fromShell(request)) ?? (await caches.match(request));
      if (cached !== undefined) return cached;
      const response = await fetch(request);
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(ASSET_CACHE).then((cache) => cache.put(request, copy)));
      }
      return response;
    })());
    return;
  }

  // Manifest, icons: the network when it answers, else the shell copy.
  event.respondWith((async () => {
    try {
      return await fetch(request);
    } catch (error) {
      const cached = await fromShell(request);
      if (cached !== undefined) return cached;
      throw error;
    }
  })());
});
