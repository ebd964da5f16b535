import type { SessionRead } from '../db/loaders.js';

/**
 * Wallet sessions as last read, by session id (#22). A session is let in while it is live
 * (neither revoked nor expired), its card active; the database raises its currency's
 * `sessions_version` whenever anything a session stands on changes (a session revoked or
 * deleted, a card's status or code, a wallet's row: migrations/0021, whatever path changed it).
 * Raising it changes the currency's row, so its row_version, which each wallet request reads with
 * its account: the currency row, and its sessions_version, is read again then. A session kept
 * here is used only while that version is the one it was read with and it has not expired by
 * the database's clock (read with the account, so a service whose clock lags the database's lets
 * no session live longer). Bounded by count; the oldest goes first.
 */
export class KeptSessions {
  readonly #sessions = new Map<string, SessionRead>();

  constructor(readonly sessions_max: number) {}

  /** The session, if kept, read at `sessions_version` of `currency_id`'s sessions and not expired at `now_ms` (the database's clock). */
  get(session_id: string, currency_id: number, sessions_version: bigint, now_ms: number): SessionRead['wallet'] | undefined {
    const kept = this.#sessions.get(session_id);
    if (kept === undefined) return undefined;
    if (kept.wallet.currency_id !== currency_id || kept.sessions_version !== sessions_version || kept.expires_at.getTime() <= now_ms) {
      this.#sessions.delete(session_id);
      return undefined;
    }
    return kept.wallet;
  }

  set(session_id: string, read: SessionRead): void {
    this.#sessions.delete(session_id);
    this.#sessions.set(session_id, read);
    if (this.#sessions.size > this.sessions_max) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done !== true) this.#sessions.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#sessions.size;
  }
}
