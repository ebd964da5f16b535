-- Whether a wallet has ever been linked as a helper (#20.4). A wallet's history lists what it
-- paid for the wallets it helps; for the many wallets that never helped anyone, that second
-- query of every page of history is skipped (#22). Set by the database on every new link, so no
-- code path can link a helper without it, and never cleared: a revoked link's payments stay in
-- the helper's history.
ALTER TABLE wallets ADD COLUMN helps_others boolean NOT NULL DEFAULT false;

UPDATE wallets w SET helps_others = true
WHERE EXISTS (SELECT 1 FROM wallet_helpers h WHERE h.currency_id = w.currency_id AND h.helper_account_id = w.account_id);

CREATE FUNCTION wm_mark_helper() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE wallets SET helps_others = true
  WHERE currency_id = NEW.currency_id AND account_id = NEW.helper_account_id AND NOT helps_others;
  RETURN NULL;
END $$;

CREATE TRIGGER wallet_helpers_mark_helper AFTER INSERT OR UPDATE OF helper_account_id ON wallet_helpers
  FOR EACH ROW EXECUTE FUNCTION wm_mark_helper();
