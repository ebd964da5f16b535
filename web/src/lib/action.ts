import { useState } from 'preact/hooks';

/**
 * The state of a form that sends something: `busy` while it runs, the `error` it failed with,
 * and the `done` message its success returned. `run` clears the last error and message first,
 * and tells whether the action succeeded; `reset` clears them without running anything (a
 * dialog opened again starts clean).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const reset = () => {
    setError(undefined);
    setDone(undefined);
  };
  const run = async (action: () => Promise<string | void>): Promise<boolean> => {
    setBusy(true);
    reset();
    try {
      const message = await action();
      setDone(typeof message === 'string' ? message : undefined);
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run, reset };
}
