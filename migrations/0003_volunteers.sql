-- Volunteers: wallets with PIN, printed cards, activities, sessions, claims, legal caps.

-- A wallet account's holder. The PIN belongs to the wallet and survives a card reissue.
CREATE TABLE wallets (
  currency_id   integer NOT NULL,
  account_id    uuid NOT NULL,
  display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  pin_hash      text NOT NULL,
  language      text NOT NULL DEFAULT 'nl' CHECK (language ~ '^[a-z]{2}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, account_id),
  FOREIGN KEY (currency_id, account_id) REFERENCES accounts (currency_id, id)
);

-- A printed card: an identifier, not a key. Spending needs the PIN.
-- status: active; blocked (by a coordinator, can be unblocked); replaced (by a new card, final).
CREATE TABLE cards (
  currency_id      integer NOT NULL,
  code             text NOT NULL CHECK (code ~ '^[0-9A-HJKMNP-TV-Z]{17}$'),
  account_id       uuid NOT NULL,
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'replaced')),
  -- Wrong PINs since the last right one; at the maximum the card is locked until locked_until.
  pin_failures     integer NOT NULL DEFAULT 0 CHECK (pin_failures >= 0),
  locked_until     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, code),
  FOREIGN KEY (currency_id, account_id) REFERENCES wallets (currency_id, account_id)
);
-- Cards are found by code alone (from a scanned URL); codes carry 80 random bits.
CREATE INDEX cards_by_code ON cards (code);
CREATE INDEX cards_by_wallet ON cards (currency_id, account_id);
-- One usable card per wallet at a time.
CREATE UNIQUE INDEX cards_one_active ON cards (currency_id, account_id) WHERE status <> 'replaced';

-- Sessions opened with card + PIN; a token is valid only while its session is.
CREATE TABLE wallet_sessions (
  currency_id  integer NOT NULL,
  id           uuid NOT NULL,
  account_id   uuid NOT NULL,
  card_code    text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  PRIMARY KEY (currency_id, id),
  FOREIGN KEY (currency_id, card_code) REFERENCES cards (currency_id, code)
);
CREATE INDEX wallet_sessions_by_id ON wallet_sessions (id);

CREATE TABLE activities (
  currency_id           integer NOT NULL,
  id                    uuid NOT NULL,
  name                  jsonb NOT NULL CHECK (jsonb_typeof(name) = 'object' AND name ? 'nl'),
  category              text NOT NULL CHECK (category IN ('repair_cafe', 'it_repair', 'buurtbeheer',
                                                          'street_ambassador', 'neighbourhood_party', 'other')),
  -- Exactly one of: coins per hour, or a fixed amount per claim (minor units).
  rate_per_hour         bigint CHECK (rate_per_hour > 0),
  amount                bigint CHECK (amount > 0),
  programme_account_id  uuid NOT NULL,
  active                boolean NOT NULL DEFAULT true,
  created_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  FOREIGN KEY (currency_id, programme_account_id) REFERENCES accounts (currency_id, id),
  CHECK ((rate_per_hour IS NULL) <> (amount IS NULL))
);
CREATE INDEX activities_by_id ON activities (id);

-- One occurrence of an activity, claimable by QR until it expires, by at most max_claims wallets.
CREATE TABLE activity_sessions (
  currency_id   integer NOT NULL,
  id            uuid NOT NULL,
  activity_id   uuid NOT NULL,
  hours         numeric(5, 2) CHECK (hours > 0 AND hours <= 24),
  max_claims    integer NOT NULL CHECK (max_claims BETWEEN 1 AND 10000),
  claims_count  integer NOT NULL DEFAULT 0,
  expires_at    timestamptz NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  FOREIGN KEY (currency_id, activity_id) REFERENCES activities (currency_id, id),
  CHECK (claims_count BETWEEN 0 AND max_claims)
);
CREATE INDEX activity_sessions_by_id ON activity_sessions (id);

-- A wallet is rewarded for a session at most once (invariant 5).
CREATE TABLE claims (
  currency_id  integer NOT NULL,
  session_id   uuid NOT NULL,
  account_id   uuid NOT NULL,
  transfer_id  uuid NOT NULL,
  hours        numeric(5, 2),
  via          text NOT NULL CHECK (via IN ('qr', 'card')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, session_id, account_id),
  FOREIGN KEY (currency_id, session_id) REFERENCES activity_sessions (currency_id, id),
  FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers (currency_id, id)
);

-- Rewards per wallet per period ('d2026-11-26' local day, 'y2026'), so legal caps hold under
-- concurrency: a reward raises both counters with a conditional upsert that cannot pass the cap.
CREATE TABLE volunteer_earnings (
  currency_id  integer NOT NULL,
  account_id   uuid NOT NULL,
  period       text NOT NULL CHECK (period ~ '^(d[0-9]{4}-[0-9]{2}-[0-9]{2}|y[0-9]{4})$'),
  amount       bigint NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (currency_id, account_id, period),
  FOREIGN KEY (currency_id, account_id) REFERENCES accounts (currency_id, id)
);

CREATE TRIGGER claims_append_only BEFORE UPDATE OR DELETE ON claims
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
