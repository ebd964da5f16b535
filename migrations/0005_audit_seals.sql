-- Audit trail and tamper-evident seals of history.

-- Who did what, on which object, when and from where. Append-only, like the ledger.
CREATE TABLE audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  currency_id  integer REFERENCES currencies (id),
  actor_kind   text NOT NULL CHECK (actor_kind IN ('user', 'wallet', 'device', 'anonymous', 'system')),
  actor_id     text,
  action       text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)*$'),
  object_kind  text,
  object_id    text,
  ip           text,
  request_id   text,
  changes      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_by_currency ON audit_log (currency_id, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_by_object ON audit_log (object_id, id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();

-- The transaction that wrote each transfer (64-bit, never wraps). A seal taken with snapshot
-- xmin X covers exactly the transfers with previous X ≤ txid < X: every such transaction had
-- ended when the seal was taken, so a transfer that commits late is sealed by the next seal,
-- and no writer ever waits for sealing.
ALTER TABLE transfers ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX transfers_by_txid ON transfers (currency_id, txid);

CREATE TABLE seals (
  currency_id      integer NOT NULL REFERENCES currencies (id),
  seq              bigint NOT NULL CHECK (seq > 0),
  -- Transfers with txid_from ≤ txid < txid_to.
  txid_from        xid8 NOT NULL,
  txid_to          xid8 NOT NULL,
  transfers_count  bigint NOT NULL CHECK (transfers_count >= 0),
  -- SHA-256 (hex) over the previous seal's hash and every covered transfer's hash, in order.
  previous_hash    text NOT NULL CHECK (previous_hash ~ '^[0-9a-f]{64}$'),
  -- The covered transfers, in seal order: 16-byte ids and 32-byte hashes, concatenated, so that
  -- verify can name the transfer that was changed, removed or slipped in.
  transfer_ids     bytea NOT NULL CHECK (length(transfer_ids) = 16 * transfers_count),
  transfer_hashes  bytea NOT NULL CHECK (length(transfer_hashes) = 32 * transfers_count),
  hash             text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, seq),
  CHECK (txid_from <= txid_to)
);
CREATE TRIGGER seals_append_only BEFORE UPDATE OR DELETE ON seals
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON seals
  FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();
