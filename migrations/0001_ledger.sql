-- Wijkmunt ledger: currencies, accounts, transfers, entries, staff, idempotency.
--
-- Every ledger table carries currency_id and every primary/unique key includes it, so that
-- the tables can be distributed by currency (Citus) with each transfer on one shard.
-- Amounts are BIGINT minor units. Balances are kept as TigerBeetle does: debits and credits,
-- posted and pending, per account.

CREATE TABLE currencies (
  id                        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code                      text NOT NULL UNIQUE CHECK (code ~ '^[A-Z][A-Z0-9]{1,9}$'),
  name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  scale                     smallint NOT NULL CHECK (scale BETWEEN 0 AND 6),
  euro_per_unit             numeric(24, 12) NOT NULL CHECK (euro_per_unit >= 0),
  wallet_balance_max        bigint CHECK (wallet_balance_max > 0),
  volunteer_cap_day         bigint CHECK (volunteer_cap_day > 0),
  volunteer_cap_year        bigint CHECK (volunteer_cap_year > 0),
  payment_request_ttl_s     integer NOT NULL DEFAULT 300 CHECK (payment_request_ttl_s BETWEEN 10 AND 86400),
  issuance_account_id       uuid NOT NULL,
  created_at                timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  currency_id      integer NOT NULL REFERENCES currencies (id),
  id               uuid NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('issuance', 'programme', 'wallet', 'shop')),
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'closed')),
  debits_pending   bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  debits_posted    bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_pending  bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  credits_posted   bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  -- Copied from the currency's wallet_balance_max for wallets, so the database can enforce it.
  balance_max      bigint CHECK (balance_max > 0),
  -- Number of entries written for this account; the latest entry carries this version.
  version          bigint NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  -- Invariant 3: only the issuance account may go below zero (counting reserved debits).
  CONSTRAINT accounts_not_negative
    CHECK (kind = 'issuance' OR credits_posted - debits_posted - debits_pending >= 0),
  CONSTRAINT accounts_balance_max
    CHECK (balance_max IS NULL OR credits_posted + credits_pending - debits_posted <= balance_max)
);
CREATE UNIQUE INDEX accounts_one_issuance ON accounts (currency_id) WHERE kind = 'issuance';
CREATE INDEX accounts_by_kind_name ON accounts (currency_id, kind, lower(name));
-- Paths name accounts and transfers by id alone; uuids are unique in practice, and keys that
-- must be unique all include currency_id.
CREATE INDEX accounts_by_id ON accounts (id);

ALTER TABLE currencies
  ADD CONSTRAINT currencies_issuance_account FOREIGN KEY (id, issuance_account_id)
  REFERENCES accounts (currency_id, id) DEFERRABLE INITIALLY DEFERRED;

-- A transfer moves `amount` from the debit account to the credit account. Both foreign keys
-- share currency_id, so a transfer cannot cross currencies (invariant 6) by construction.
-- phase: single (posted at once), pending (reserved), post / void (resolve a pending one).
CREATE TABLE transfers (
  currency_id        integer NOT NULL,
  id                 uuid NOT NULL,
  debit_account_id   uuid NOT NULL,
  credit_account_id  uuid NOT NULL,
  amount             bigint NOT NULL CHECK (amount > 0),
  code               text NOT NULL CHECK (code IN ('budget', 'issue', 'reward', 'payment', 'refund',
                                                   'redemption', 'reversal', 'adjustment')),
  phase              text NOT NULL CHECK (phase IN ('single', 'pending', 'post', 'void')),
  pending_id         uuid,
  reverses_id        uuid,
  memo               text CHECK (length(memo) <= 500),
  metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_by         text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  FOREIGN KEY (currency_id, debit_account_id) REFERENCES accounts (currency_id, id),
  FOREIGN KEY (currency_id, credit_account_id) REFERENCES accounts (currency_id, id),
  FOREIGN KEY (currency_id, pending_id) REFERENCES transfers (currency_id, id),
  FOREIGN KEY (currency_id, reverses_id) REFERENCES transfers (currency_id, id),
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((phase IN ('post', 'void')) = (pending_id IS NOT NULL)),
  CHECK (reverses_id IS NULL OR (phase = 'single' AND code = 'reversal'))
);
-- Invariant 5: a pending transfer is resolved at most once, a transfer reversed at most once.
CREATE UNIQUE INDEX transfers_resolve_once ON transfers (currency_id, pending_id) WHERE pending_id IS NOT NULL;
CREATE UNIQUE INDEX transfers_reverse_once ON transfers (currency_id, reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX transfers_by_time ON transfers (currency_id, created_at, id);
CREATE INDEX transfers_by_id ON transfers (id);

-- One entry per account per posted movement, with the balance after it: a statement with
-- running balance is one range scan of this primary key, whatever the history size.
CREATE TABLE entries (
  currency_id    integer NOT NULL,
  account_id     uuid NOT NULL,
  version        bigint NOT NULL CHECK (version > 0),
  transfer_id    uuid NOT NULL,
  amount         bigint NOT NULL CHECK (amount <> 0),
  balance_after  bigint NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, account_id, version),
  UNIQUE (currency_id, transfer_id, account_id),
  FOREIGN KEY (currency_id, account_id) REFERENCES accounts (currency_id, id),
  FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers (currency_id, id)
);

-- Invariant 4: transfers and entries are never updated or deleted.
CREATE FUNCTION wm_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on % is forbidden: the ledger is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'WM900';
END $$;
CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
  FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();

-- Accounts are frozen or closed, never deleted.
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();

-- Staff ----------------------------------------------------------------------------------

CREATE TABLE users (
  id             uuid PRIMARY KEY,
  email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('admin', 'coordinator')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  disabled_at    timestamptz
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE user_currencies (
  user_id      uuid NOT NULL REFERENCES users (id),
  currency_id  integer NOT NULL REFERENCES currencies (id),
  PRIMARY KEY (user_id, currency_id)
);

-- Revocable sessions: a token is only valid while its session row is not revoked.
CREATE TABLE auth_sessions (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

-- Idempotency: the first successful response to (scope, key), replayed to later requests.
CREATE TABLE idempotency_keys (
  scope            text NOT NULL,
  key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash     text NOT NULL,
  response_status  integer NOT NULL,
  response_body    jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
