import type { Sql } from './client.js';
import { payment_request_channel } from './shops.js';

export type PaymentRequestListener = (status: string) => void;

/**
 * Fans PostgreSQL notifications about payment requests out to the listeners of this process.
 * One LISTEN connection per process, opened on first use; because the notification comes from
 * the database on commit, a payment made through any server process reaches every tablet.
 */
export interface PaymentEvents {
  /** Resolves once the process is listening, so no commit after it can be missed. */
  subscribe(request_id: string, listener: PaymentRequestListener): Promise<() => void>;
}

export function createPaymentEvents(sql: Sql): PaymentEvents {
  const listeners = new Map<string, Set<PaymentRequestListener>>();
  let listening: Promise<unknown> | undefined;

  const dispatch = (payload: string) => {
    const separator = payload.lastIndexOf(':');
    const id = payload.slice(0, separator);
    const status = payload.slice(separator + 1);
    for (const listener of listeners.get(id) ?? []) listener(status);
  };

  return {
    async subscribe(request_id, listener) {
      let set = listeners.get(request_id);
      if (set === undefined) {
        set = new Set();
        listeners.set(request_id, set);
      }
      set.add(listener);
      try {
        listening ??= sql.listen(payment_request_channel, dispatch);
        await listening;
      } catch (error) {
        listening = undefined;
        set.delete(listener);
        throw error;
      }
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(request_id);
      };
    },
  };
}
