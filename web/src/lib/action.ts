import { useState } from 'preact/hooks';

/**
 * The state of a form that sends something: `busy` while it runs, the `error` it failed with,
 * and the `done` message its success returned. `run` clears the last error and message first,
 * and tells whether the action succeeded.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const run = async (action: () => Promise<string | undefined>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await action());
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run };
}
