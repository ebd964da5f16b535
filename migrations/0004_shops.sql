-- Shops: tablets, payment requests, charges, refunds, cash-out to euros.

CREATE TABLE shops (
  currency_id  integer NOT NULL,
  account_id   uuid NOT NULL,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Electronic format (no spaces), checked with ISO 13616 mod 97 before it is stored.
  iban         text CHECK (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'),
  address      text CHECK (length(address) <= 500),
  contact      text CHECK (length(contact) <= 200),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, account_id),
  FOREIGN KEY (currency_id, account_id) REFERENCES accounts (currency_id, id)
);

-- Single-use, expiring codes a tablet types once to become a device of the shop.
CREATE TABLE pairing_codes (
  currency_id      integer NOT NULL,
  code             text NOT NULL CHECK (code ~ '^[0-9A-HJKMNP-TV-Z]{8}$'),
  shop_account_id  uuid NOT NULL,
  expires_at       timestamptz NOT NULL,
  used_at          timestamptz,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, code),
  FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops (currency_id, account_id)
);
CREATE INDEX pairing_codes_by_code ON pairing_codes (code);

CREATE TABLE devices (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_seen_at     timestamptz NOT NULL DEFAULT now(),
  revoked_at       timestamptz,
  PRIMARY KEY (currency_id, id),
  FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops (currency_id, account_id)
);
CREATE INDEX devices_by_id ON devices (id);

-- A request to be paid, shown as a QR; paid at most once (status moves open → paid only once).
-- An open request past expires_at is expired, whether or not its row says so yet.
CREATE TABLE payment_requests (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  device_id        uuid,
  amount           bigint NOT NULL CHECK (amount > 0),
  memo             text CHECK (length(memo) <= 500),
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled', 'expired')),
  expires_at       timestamptz NOT NULL,
  transfer_id      uuid,
  paid_by          uuid,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops (currency_id, account_id),
  FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers (currency_id, id),
  CHECK ((status = 'paid') = (transfer_id IS NOT NULL))
);
CREATE INDEX payment_requests_by_id ON payment_requests (id);
CREATE UNIQUE INDEX payment_requests_paid_once ON payment_requests (currency_id, transfer_id) WHERE transfer_id IS NOT NULL;

-- How much of a payment was refunded so far; the CHECK keeps the total within the payment.
CREATE TABLE refund_totals (
  currency_id   integer NOT NULL,
  transfer_id   uuid NOT NULL,
  paid          bigint NOT NULL CHECK (paid > 0),
  refunded      bigint NOT NULL CHECK (refunded >= 0),
  PRIMARY KEY (currency_id, transfer_id),
  FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers (currency_id, id),
  CHECK (refunded <= paid)
);

-- A shop's cash-out: a pending transfer shop → issuance until a coordinator decides.
CREATE TABLE redemptions (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  transfer_id      uuid NOT NULL,
  amount           bigint NOT NULL CHECK (amount > 0),
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  requested_by     text NOT NULL,
  decided_by       text,
  decided_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  UNIQUE (currency_id, transfer_id),
  FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops (currency_id, account_id),
  FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers (currency_id, id)
);
CREATE INDEX redemptions_by_id ON redemptions (id);

-- Euros owed to a shop for an approved redemption: amount × euro_per_unit, exact.
CREATE TABLE payouts (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  redemption_id    uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  shop_name        text NOT NULL,
  iban             text,
  euro_amount      numeric(16, 2) NOT NULL CHECK (euro_amount >= 0),
  reference        text NOT NULL,
  export_id        uuid,
  exported_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  UNIQUE (currency_id, redemption_id),
  FOREIGN KEY (currency_id, redemption_id) REFERENCES redemptions (currency_id, id)
);

-- An export of payouts to the bank: each payout is in at most one export.
CREATE TABLE payout_exports (
  currency_id   integer NOT NULL,
  id            uuid NOT NULL,
  message_id    text NOT NULL,
  payouts_count integer NOT NULL CHECK (payouts_count > 0),
  total_euros   numeric(18, 2) NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (currency_id, id),
  UNIQUE (currency_id, message_id)
);
ALTER TABLE payouts ADD FOREIGN KEY (currency_id, export_id) REFERENCES payout_exports (currency_id, id);

-- The paying city's account, per currency, for SEPA files.
ALTER TABLE currencies
  ADD COLUMN payer_name text CHECK (length(payer_name) <= 70),
  ADD COLUMN payer_iban text CHECK (payer_iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'),
  ADD COLUMN payer_bic  text CHECK (payer_bic ~ '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$');
