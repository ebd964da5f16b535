-- A person's data erased on request (docs/privacy-requests.md). The ledger is untouched: no
-- transfer, entry or seal holds a person's name, contact details, card code or PIN (created_by
-- names an actor by id, metadata holds ids), so erasure never touches sealed history.

-- When a wallet's person was erased: the names are a pseudonym from then on, the contact
-- fields, the note and the PIN are gone, and the wallet takes no new personal data.
ALTER TABLE wallets ADD COLUMN erased_at timestamptz;

-- Erasure destroys a card code by giving the card a new random one; the wallet sessions opened
-- with the card follow it.
ALTER TABLE wallet_sessions DROP CONSTRAINT wallet_sessions_currency_id_card_code_fkey;
ALTER TABLE wallet_sessions ADD CONSTRAINT wallet_sessions_currency_id_card_code_fkey
  FOREIGN KEY (currency_id, card_code) REFERENCES cards (currency_id, code) ON UPDATE CASCADE;

-- The audit log stays append-only: a row is never deleted, and what it records (when, which
-- action, by what kind of actor, on what kind of object, in which request) never changes. Only
-- a transaction that says it pseudonymises (SET LOCAL wijkmunt.pseudonymise = 'on', as an
-- erasure does) may replace the personal data of a row: the object's id (a card code), the
-- actor's id, the client address and the recorded changes.
CREATE FUNCTION wm_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('wijkmunt.pseudonymise', true) = 'on'
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.currency_id IS NOT DISTINCT FROM OLD.currency_id
     AND NEW.actor_kind = OLD.actor_kind AND NEW.action = OLD.action
     AND NEW.object_kind IS NOT DISTINCT FROM OLD.object_kind AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% on % is forbidden: the audit log is append-only (only its personal data may be pseudonymised)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'WM900';
END $$;
DROP TRIGGER audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION wm_audit_guard();

-- The audit rows that name a wallet in their changes (card actions, charges, rewards, expiry),
-- found without reading the whole log when a person's data is exported or erased.
CREATE INDEX audit_log_by_wallet ON audit_log ((changes->>'wallet'), id) WHERE changes ? 'wallet';
