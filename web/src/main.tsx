import { render } from 'preact';
import './styles.css';
import { App } from './app.js';
import { initLocale } from './i18n/index.js';

const root = document.getElementById('app');
if (root !== null) {
  // The language file loads first (Dutch is built in), so the first paint is already translated.
  void initLocale().finally(() => render(<App />, root));
}

// The service worker keeps the app shell for flaky connections (production builds only).
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => {
      // No offline shell (e.g. plain HTTP on a LAN): the app still works online.
    });
  });
}
