import { signal } from '@preact/signals';

/**
 * Whether the server can be reached, as far as we know: the browser's own flag, corrected by
 * every API call (a failed fetch means offline, any answer means online).
 */
export const online = signal(typeof navigator === 'undefined' ? true : navigator.onLine);

if (typeof window !== 'undefined') {
  window.addEventListener('online', () => { online.value = true; });
  window.addEventListener('offline', () => { online.value = false; });
}
