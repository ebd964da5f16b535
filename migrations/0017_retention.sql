-- Kept no longer than needed (docs/privacy.md). The retention run deletes old idempotency
-- records, payment requests, sessions and pairing codes (plain DELETEs: none of them is sealed
-- or append-only), and pseudonymises old audit rows (under 0016's guard): the client address is cut to its network,
-- and what a failed login or PIN attempt typed (an email, an unknown card code) is replaced by a
-- pseudonym. The audit log stays append-only for everything else.

-- When the run pseudonymised the row; a row waits for it in a small partial index.
ALTER TABLE audit_log ADD COLUMN pseudonymised_at timestamptz;
CREATE INDEX audit_log_to_pseudonymise ON audit_log (at) WHERE pseudonymised_at IS NULL;

-- An audit row changes only in a transaction that says it pseudonymises, and then only in its
-- personal data (the guard of migration 0016): the run sets wijkmunt.pseudonymise as erasure does.

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
