import { useState } from 'preact/hooks';

/** One page of a list the API reads with a cursor. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * A list read page by page (a wallet's or a shop's history, the audit log, the wallets):
 * `reload` reads the first page again — together with `alongside`, e.g. the balance shown above
 * the list — and `more` appends the next one. A failure of either is kept in `error`.
 */
export function usePagedList<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  alongside?: () => Promise<unknown>,
) {
  const [items, setItems] = useState<T[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [loadingMore, setLoadingMore] = useState(false);

  const reload = async () => {
    setError(undefined);
    try {
      const [, page] = await Promise.all([alongside?.(), fetchPage(undefined)]);
      setItems(page.items);
      setCursor(page.next_cursor);
    } catch (caught) {
      setError(caught);
    }
  };

  const more = async () => {
    if (cursor === null) return;
    setLoadingMore(true);
    try {
      const page = await fetchPage(cursor);
      setItems((before) => [...(before ?? []), ...page.items]);
      setCursor(page.next_cursor);
    } catch (caught) {
      setError(caught);
    } finally {
      setLoadingMore(false);
    }
  };

  return {
    items,
    error,
    loadingMore,
    hasMore: cursor !== null,
    reload,
    more,
    /** Forgets the list (shows loading) until the next `reload`. */
    clear: () => setItems(undefined),
  };
}
