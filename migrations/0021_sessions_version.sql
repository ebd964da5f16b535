-- A wallet's request is let in by its session: live (neither revoked nor expired), its card
-- active, and its wallet as it is now. The service keeps the sessions it read, each with the
-- version of its currency's sessions at that read: a counter the database raises whenever
-- anything a kept session stands on changes — a session revoked, moved or deleted while live, a
-- card's status or code, a wallet's row — whatever path changed it. The version is read fresh
-- with every request (with the account, in one statement), so a kept session is used only while
-- nothing it stands on has changed since it was read (#22).
ALTER TABLE currencies ADD COLUMN sessions_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION wm_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE currencies SET sessions_version = sessions_version + 1 WHERE id = OLD.currency_id;
  RETURN NULL;
END $$;

-- A session changed in any way, or deleted while it could still be used (retention deletes only
-- sessions that had expired: those raise nothing; the service checks a kept session's expiry
-- itself).
CREATE TRIGGER wallet_sessions_changed AFTER UPDATE ON wallet_sessions
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER wallet_sessions_deleted AFTER DELETE ON wallet_sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND OLD.expires_at > now()) EXECUTE FUNCTION wm_sessions_changed();

-- A card's status, code or wallet (not its PIN attempts: a session does not depend on them).
CREATE TRIGGER cards_sessions_changed AFTER UPDATE ON cards
  FOR EACH ROW WHEN ((OLD.status, OLD.code, OLD.account_id, OLD.currency_id) IS DISTINCT FROM (NEW.status, NEW.code, NEW.account_id, NEW.currency_id))
  EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER cards_deleted AFTER DELETE ON cards
  FOR EACH ROW EXECUTE FUNCTION wm_sessions_changed();

-- A wallet's row: a session carries it (name, language, whether it helps others, ...).
CREATE TRIGGER wallets_sessions_changed AFTER UPDATE ON wallets
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER wallets_deleted AFTER DELETE ON wallets
  FOR EACH ROW EXECUTE FUNCTION wm_sessions_changed();
