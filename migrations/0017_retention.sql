-- Kept no longer than needed (docs/privacy.md). The retention run deletes old idempotency
-- records, payment requests, sessions and pairing codes (plain DELETEs: none of them is sealed
-- or append-only), and pseudonymises old audit rows: the client address is cut to its network,
-- and what a failed login or PIN attempt typed (an email, an unknown card code) is replaced by a
-- pseudonym. The audit log stays append-only for everything else.

-- When the run pseudonymised the row; a row waits for it in a small partial index.
ALTER TABLE audit_log ADD COLUMN pseudonymised_at timestamptz;
CREATE INDEX audit_log_to_pseudonymise ON audit_log (at) WHERE pseudonymised_at IS NULL;

-- An audit row may change only where it is pseudonymised: its address, the fields it recorded,
-- the object a failed attempt typed, and the moment it was done. Who, what and when stay.
CREATE FUNCTION wm_audit_pseudonymise_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.id, NEW.at, NEW.currency_id, NEW.actor_kind, NEW.actor_id, NEW.action, NEW.object_kind, NEW.request_id)
     IS DISTINCT FROM
     (OLD.id, OLD.at, OLD.currency_id, OLD.actor_kind, OLD.actor_id, OLD.action, OLD.object_kind, OLD.request_id) THEN
    RAISE EXCEPTION 'UPDATE on audit_log is forbidden: the ledger is append-only (only pseudonymising is allowed)'
      USING ERRCODE = 'WM900';
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER audit_log_pseudonymise_only BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION wm_audit_pseudonymise_only();

-- The installation's secret of pseudonyms: the same email gets the same pseudonym (so repeated
-- attempts still show as such), which cannot be computed back without this row.
CREATE TABLE privacy_salt (
  one   boolean PRIMARY KEY DEFAULT true CHECK (one),
  salt  text NOT NULL CHECK (length(salt) >= 32)
);
INSERT INTO privacy_salt (salt) VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

-- The network of a client address: an IPv4 address to its /24, an IPv6 one to its /48 (an
-- IPv4-mapped IPv6 address as IPv4); anything that is not an address, to nothing.
CREATE FUNCTION wm_network_of(p_address text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  v inet;
BEGIN
  IF p_address IS NULL OR p_address ~ '/' THEN
    RETURN p_address;
  END IF;
  v := regexp_replace(p_address, '^::ffff:([0-9.]+)$', '\1', 'i')::inet;
  RETURN network(set_masklen(v, CASE family(v) WHEN 4 THEN 24 ELSE 48 END))::text;
EXCEPTION WHEN invalid_text_representation THEN
  RETURN NULL;
END $$;
