/**
 * localStorage and sessionStorage that never throw (private mode, storage off, quota): the app
 * keeps working, it just forgets more.
 */
function safe(kind: 'localStorage' | 'sessionStorage'): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  const store = (): Storage | undefined => {
    try {
      return window[kind];
    } catch {
      return undefined;
    }
  };
  return {
    getItem: (key) => {
      try {
        return store()?.getItem(key) ?? null;
      } catch {
        return null;
      }
    },
    setItem: (key, value) => {
      try {
        store()?.setItem(key, value);
      } catch {
        // Not stored.
      }
    },
    removeItem: (key) => {
      try {
        store()?.removeItem(key);
      } catch {
        // Nothing to remove.
      }
    },
  };
}

export const local = safe('localStorage');
export const session = safe('sessionStorage');

export function readJson<T>(store: typeof local, key: string): T | undefined {
  const text = store.getItem(key);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
