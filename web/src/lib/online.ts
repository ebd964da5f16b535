import { effect, signal } from '@preact/signals';

/**
 * Whether the server can be reached, as far as we know: the browser's own flag, corrected by
 * every API call (a failed fetch means offline, any answer means online). While it is false the
 * server is asked again now and then (`/livez`), so the "no connection" banner goes away by
 * itself once the server answers — also when the browser thought it was online all along.
 */
export const online = signal(typeof navigator === 'undefined' ? true : navigator.onLine);

/**
 * How many times the browser said it went offline. An answer to a request sent before the
 * latest such moment says nothing about now (a request in flight may still be answered after
 * the network went), so only answers to requests sent since then mark the server reachable.
 */
let offline_events = 0;

/** Taken when a request is sent; handed back to `answered` with its answer. */
export function requestSent(): number {
  return offline_events;
}

/** The server answered a request sent at `sent` (from `requestSent`): true if that says it is reachable now. */
export function answered(sent: number): boolean {
  if (sent !== offline_events) return false;
  online.value = true;
  return true;
}

/** The first probe comes soon after a failure; later ones less often, up to the maximum. */
const probe_delay_ms_min = 2_000;
const probe_delay_ms_max = 10_000;
const probe_delay_growth = 1.5;
const probe_timeout_ms = 5_000;

/** One GET of the service's liveness, bypassing every cache: true when it answered. */
async function serverAnswers(): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), probe_timeout_ms);
  try {
    const response = await fetch('/livez', { cache: 'no-store', signal: abort.signal });
    return response.ok;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Probes until the server answers (then marks online) or until something else did. */
function probeWhileOffline(): () => void {
  let delay_ms = probe_delay_ms_min;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const next = () => {
    timer = setTimeout(() => {
      const sent = requestSent();
      void serverAnswers().then((ok) => {
        if (stopped) return;
        // An answer to a probe sent before the browser last went offline does not end the probing.
        if (!ok || !answered(sent)) {
          delay_ms = Math.min(delay_ms * probe_delay_growth, probe_delay_ms_max);
          next();
        }
      });
    }, delay_ms);
  };
  next();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

if (typeof window !== 'undefined') {
  window.addEventListener('online', () => { online.value = true; });
  window.addEventListener('offline', () => {
    offline_events += 1;
    online.value = false;
  });
  // Runs again whenever `online` changes: offline starts probing, online stops it.
  effect(() => (online.value ? undefined : probeWhileOffline()));
}
