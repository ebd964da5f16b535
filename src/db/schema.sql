-- Wijkmunt's database schema as the migrations leave it: tables, indexes, functions, triggers.
--
-- GENERATED from migrations/*.sql by `npm run schema` (scripts/schema.ts, which reads the
-- catalogue of a freshly migrated database through src/db/catalogue.ts). Never edit it by hand:
-- change the schema with a new migration, then run `npm run schema`. test/schema.test.ts fails
-- while this file differs from what the migrations make.
--
-- Tables come in dependency order (a table after those it references), a foreign key that closes
-- a cycle as ALTER TABLE after the table it references; functions by name; triggers last, by
-- table. The schema_migrations table of the migration runner (src/db/migrate.ts) is left out.

-- Tables -----------------------------------------------------------------------------------------

CREATE TABLE currencies (
  id                     integer NOT NULL GENERATED ALWAYS AS IDENTITY,
  code                   text NOT NULL,
  name                   text NOT NULL,
  scale                  smallint NOT NULL,
  euro_per_unit          numeric(24,12) NOT NULL,
  wallet_balance_max     bigint,
  volunteer_cap_day      bigint,
  volunteer_cap_year     bigint,
  payment_request_ttl_s  integer NOT NULL DEFAULT 300,
  issuance_account_id    uuid NOT NULL,
  created_at             timestamp with time zone NOT NULL DEFAULT now(),
  payer_name             text,
  payer_iban             text,
  payer_bic              text,
  sepa_version           text NOT NULL DEFAULT '09'::text,
  validity_days          integer,
  validity_from          date,
  gifts_enabled          boolean NOT NULL DEFAULT false,
  gift_day_max           bigint,
  names_version          bigint NOT NULL DEFAULT 0,
  row_version            bigint NOT NULL DEFAULT 0,
  sessions_version       bigint NOT NULL DEFAULT 0,
  CONSTRAINT currencies_pkey                        PRIMARY KEY (id),
  CONSTRAINT currencies_code_key                    UNIQUE (code),
  CONSTRAINT currencies_code_check                  CHECK ((code ~ '^[A-Z][A-Z0-9]{1,9}$'::text)),
  CONSTRAINT currencies_euro_per_unit_check         CHECK ((euro_per_unit >= (0)::numeric)),
  CONSTRAINT currencies_gift_day_max_check          CHECK ((gift_day_max > 0)),
  CONSTRAINT currencies_name_check                  CHECK (((length(name) >= 1) AND (length(name) <= 200))),
  CONSTRAINT currencies_payer_bic_check             CHECK ((payer_bic ~ '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$'::text)),
  CONSTRAINT currencies_payer_iban_check            CHECK ((payer_iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'::text)),
  CONSTRAINT currencies_payer_name_check            CHECK ((length(payer_name) <= 70)),
  CONSTRAINT currencies_payment_request_ttl_s_check CHECK (((payment_request_ttl_s >= 10) AND (payment_request_ttl_s <= 86400))),
  CONSTRAINT currencies_scale_check                 CHECK (((scale >= 0) AND (scale <= 6))),
  CONSTRAINT currencies_sepa_version_check          CHECK ((sepa_version = ANY (ARRAY['09'::text, '03'::text]))),
  CONSTRAINT currencies_validity_days_check         CHECK (((validity_days >= 1) AND (validity_days <= 3650))),
  CONSTRAINT currencies_validity_from_check         CHECK (((validity_days IS NULL) = (validity_from IS NULL))),
  CONSTRAINT currencies_volunteer_cap_day_check     CHECK ((volunteer_cap_day > 0)),
  CONSTRAINT currencies_volunteer_cap_year_check    CHECK ((volunteer_cap_year > 0)),
  CONSTRAINT currencies_wallet_balance_max_check    CHECK ((wallet_balance_max > 0))
);

CREATE TABLE accounts (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  kind             text NOT NULL,
  name             text NOT NULL,
  status           text NOT NULL DEFAULT 'active'::text,
  debits_pending   bigint NOT NULL DEFAULT 0,
  debits_posted    bigint NOT NULL DEFAULT 0,
  credits_pending  bigint NOT NULL DEFAULT 0,
  credits_posted   bigint NOT NULL DEFAULT 0,
  balance_max      bigint,
  version          bigint NOT NULL DEFAULT 0,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  status_reason    text,
  CONSTRAINT accounts_pkey                  PRIMARY KEY (currency_id, id),
  CONSTRAINT accounts_balance_max           CHECK (((balance_max IS NULL) OR (((credits_posted + credits_pending) - debits_posted) <= balance_max))),
  CONSTRAINT accounts_balance_max_check     CHECK ((balance_max > 0)),
  CONSTRAINT accounts_credits_pending_check CHECK ((credits_pending >= 0)),
  CONSTRAINT accounts_credits_posted_check  CHECK ((credits_posted >= 0)),
  CONSTRAINT accounts_debits_pending_check  CHECK ((debits_pending >= 0)),
  CONSTRAINT accounts_debits_posted_check   CHECK ((debits_posted >= 0)),
  CONSTRAINT accounts_kind_check            CHECK ((kind = ANY (ARRAY['issuance'::text, 'programme'::text, 'wallet'::text, 'shop'::text]))),
  CONSTRAINT accounts_name_check            CHECK (((length(name) >= 1) AND (length(name) <= 200))),
  CONSTRAINT accounts_not_negative          CHECK (((kind = 'issuance'::text) OR (((credits_posted - debits_posted) - debits_pending) >= 0))),
  CONSTRAINT accounts_status_check          CHECK ((status = ANY (ARRAY['active'::text, 'frozen'::text, 'closed'::text]))),
  CONSTRAINT accounts_status_reason_check   CHECK (((length(status_reason) >= 1) AND (length(status_reason) <= 500))),
  CONSTRAINT accounts_currency_id_fkey      FOREIGN KEY (currency_id) REFERENCES currencies(id)
) WITH (fillfactor=50);
CREATE INDEX accounts_by_id ON accounts USING btree (id);
CREATE INDEX accounts_by_kind_name ON accounts USING btree (currency_id, kind, lower(name));
CREATE UNIQUE INDEX accounts_one_issuance ON accounts USING btree (currency_id) WHERE kind = 'issuance'::text;
ALTER TABLE currencies ADD CONSTRAINT currencies_issuance_account FOREIGN KEY (id, issuance_account_id) REFERENCES accounts(currency_id, id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE activities (
  currency_id           integer NOT NULL,
  id                    uuid NOT NULL,
  name                  jsonb NOT NULL,
  category              text NOT NULL,
  rate_per_hour         bigint,
  amount                bigint,
  programme_account_id  uuid NOT NULL,
  active                boolean NOT NULL DEFAULT true,
  created_at            timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT activities_pkey                                  PRIMARY KEY (currency_id, id),
  CONSTRAINT activities_amount_check                          CHECK ((amount > 0)),
  CONSTRAINT activities_category_check                        CHECK ((category = ANY (ARRAY['repair_cafe'::text, 'it_repair'::text, 'buurtbeheer'::text, 'street_ambassador'::text, 'neighbourhood_party'::text, 'other'::text]))),
  CONSTRAINT activities_check                                 CHECK (((rate_per_hour IS NULL) <> (amount IS NULL))),
  CONSTRAINT activities_name_check                            CHECK (((jsonb_typeof(name) = 'object'::text) AND (name ? 'nl'::text))),
  CONSTRAINT activities_rate_per_hour_check                   CHECK ((rate_per_hour > 0)),
  CONSTRAINT activities_currency_id_programme_account_id_fkey FOREIGN KEY (currency_id, programme_account_id) REFERENCES accounts(currency_id, id)
);
CREATE INDEX activities_by_id ON activities USING btree (id);

CREATE TABLE activity_sessions (
  currency_id   integer NOT NULL,
  id            uuid NOT NULL,
  activity_id   uuid NOT NULL,
  hours         numeric(5,2),
  max_claims    integer NOT NULL,
  claims_count  integer NOT NULL DEFAULT 0,
  expires_at    timestamp with time zone NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamp with time zone NOT NULL DEFAULT now(),
  closed_at     timestamp with time zone,
  starts_at     timestamp with time zone,
  ends_at       timestamp with time zone,
  place         text,
  public        boolean NOT NULL DEFAULT false,
  CONSTRAINT activity_sessions_pkey                         PRIMARY KEY (currency_id, id),
  CONSTRAINT activity_sessions_check                        CHECK (((claims_count >= 0) AND (claims_count <= max_claims))),
  CONSTRAINT activity_sessions_hours_check                  CHECK (((hours > (0)::numeric) AND (hours <= (24)::numeric))),
  CONSTRAINT activity_sessions_max_claims_check             CHECK (((max_claims >= 1) AND (max_claims <= 10000))),
  CONSTRAINT activity_sessions_place_check                  CHECK (((length(place) >= 1) AND (length(place) <= 200))),
  CONSTRAINT activity_sessions_public_check                 CHECK (((NOT public) OR (starts_at IS NOT NULL))),
  CONSTRAINT activity_sessions_times_check                  CHECK (((ends_at IS NULL) OR ((starts_at IS NOT NULL) AND (ends_at > starts_at)))),
  CONSTRAINT activity_sessions_currency_id_activity_id_fkey FOREIGN KEY (currency_id, activity_id) REFERENCES activities(currency_id, id)
);
CREATE INDEX activity_sessions_agenda ON activity_sessions USING btree (currency_id, starts_at) WHERE public;
CREATE INDEX activity_sessions_by_id ON activity_sessions USING btree (id);

CREATE TABLE audit_log (
  id                bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  at                timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  currency_id       integer,
  actor_kind        text NOT NULL,
  actor_id          text,
  action            text NOT NULL,
  object_kind       text,
  object_id         text,
  ip                text,
  request_id        text,
  changes           jsonb NOT NULL DEFAULT '{}'::jsonb,
  pseudonymised_at  timestamp with time zone,
  CONSTRAINT audit_log_pkey             PRIMARY KEY (id),
  CONSTRAINT audit_log_action_check     CHECK ((action ~ '^[a-z_]+(\.[a-z_]+)*$'::text)),
  CONSTRAINT audit_log_actor_kind_check CHECK ((actor_kind = ANY (ARRAY['user'::text, 'wallet'::text, 'device'::text, 'anonymous'::text, 'system'::text]))),
  CONSTRAINT audit_log_currency_id_fkey FOREIGN KEY (currency_id) REFERENCES currencies(id)
);
CREATE INDEX audit_log_by_actor ON audit_log USING btree (actor_id, id);
CREATE INDEX audit_log_by_currency ON audit_log USING btree (currency_id, id);
CREATE INDEX audit_log_by_object ON audit_log USING btree (object_id, id);
CREATE INDEX audit_log_by_wallet ON audit_log USING btree ((changes ->> 'wallet'::text), id) WHERE changes ? 'wallet'::text;
CREATE INDEX audit_log_to_pseudonymise ON audit_log USING btree (at) WHERE pseudonymised_at IS NULL;

CREATE TABLE users (
  id                   uuid NOT NULL,
  email                text NOT NULL,
  password_hash        text NOT NULL,
  role                 text NOT NULL,
  created_at           timestamp with time zone NOT NULL DEFAULT now(),
  disabled_at          timestamp with time zone,
  password_changed_at  timestamp with time zone,
  CONSTRAINT users_pkey        PRIMARY KEY (id),
  CONSTRAINT users_email_check CHECK (((length(email) >= 3) AND (length(email) <= 254))),
  CONSTRAINT users_role_check  CHECK ((role = ANY (ARRAY['admin'::text, 'coordinator'::text])))
);
CREATE UNIQUE INDEX users_email ON users USING btree (lower(email));

CREATE TABLE auth_sessions (
  id          uuid NOT NULL,
  user_id     uuid NOT NULL,
  created_at  timestamp with time zone NOT NULL DEFAULT now(),
  expires_at  timestamp with time zone NOT NULL,
  revoked_at  timestamp with time zone,
  CONSTRAINT auth_sessions_pkey         PRIMARY KEY (id),
  CONSTRAINT auth_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)
);
CREATE INDEX auth_sessions_user ON auth_sessions USING btree (user_id);

CREATE TABLE wallets (
  currency_id   integer NOT NULL,
  account_id    uuid NOT NULL,
  display_name  text NOT NULL,
  pin_hash      text NOT NULL,
  language      text NOT NULL DEFAULT 'nl'::text,
  created_at    timestamp with time zone NOT NULL DEFAULT now(),
  full_name     text,
  phone         text,
  email         text,
  note          text,
  updated_at    timestamp with time zone,
  receive_code  text,
  erased_at     timestamp with time zone,
  helps_others  boolean NOT NULL DEFAULT false,
  CONSTRAINT wallets_pkey                        PRIMARY KEY (currency_id, account_id),
  CONSTRAINT wallets_receive_code_key            UNIQUE (currency_id, receive_code),
  CONSTRAINT wallets_display_name_check          CHECK (((length(display_name) >= 1) AND (length(display_name) <= 100))),
  CONSTRAINT wallets_email_check                 CHECK (((length(email) >= 3) AND (length(email) <= 254))),
  CONSTRAINT wallets_full_name_check             CHECK (((length(full_name) >= 1) AND (length(full_name) <= 200))),
  CONSTRAINT wallets_language_check              CHECK ((language ~ '^[a-z]{2}$'::text)),
  CONSTRAINT wallets_note_check                  CHECK (((length(note) >= 1) AND (length(note) <= 1000))),
  CONSTRAINT wallets_phone_check                 CHECK (((length(phone) >= 1) AND (length(phone) <= 40))),
  CONSTRAINT wallets_receive_code_check          CHECK ((receive_code ~ '^[a-z2-7]{20}$'::text)),
  CONSTRAINT wallets_currency_id_account_id_fkey FOREIGN KEY (currency_id, account_id) REFERENCES accounts(currency_id, id)
);

CREATE TABLE cards (
  currency_id   integer NOT NULL,
  code          text NOT NULL,
  account_id    uuid NOT NULL,
  status        text NOT NULL DEFAULT 'active'::text,
  pin_failures  integer NOT NULL DEFAULT 0,
  locked_until  timestamp with time zone,
  created_at    timestamp with time zone NOT NULL DEFAULT now(),
  lock_count    integer NOT NULL DEFAULT 0,
  CONSTRAINT cards_pkey                        PRIMARY KEY (currency_id, code),
  CONSTRAINT cards_code_check                  CHECK ((code ~ '^[0-9A-HJKMNP-TV-Z]{17}$'::text)),
  CONSTRAINT cards_lock_count_check            CHECK ((lock_count >= 0)),
  CONSTRAINT cards_pin_failures_check          CHECK ((pin_failures >= 0)),
  CONSTRAINT cards_status_check                CHECK ((status = ANY (ARRAY['active'::text, 'blocked'::text, 'replaced'::text]))),
  CONSTRAINT cards_currency_id_account_id_fkey FOREIGN KEY (currency_id, account_id) REFERENCES wallets(currency_id, account_id)
);
CREATE INDEX cards_by_code ON cards USING btree (code);
CREATE INDEX cards_by_wallet ON cards USING btree (currency_id, account_id);
CREATE UNIQUE INDEX cards_one_active ON cards USING btree (currency_id, account_id) WHERE status <> 'replaced'::text;

CREATE TABLE transfers (
  currency_id        integer NOT NULL,
  id                 uuid NOT NULL,
  debit_account_id   uuid NOT NULL,
  credit_account_id  uuid NOT NULL,
  amount             bigint NOT NULL,
  code               text NOT NULL,
  phase              text NOT NULL,
  pending_id         uuid,
  reverses_id        uuid,
  memo               text,
  metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_by         text NOT NULL,
  created_at         timestamp with time zone NOT NULL DEFAULT now(),
  txid               xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CONSTRAINT transfers_pkey                         PRIMARY KEY (currency_id, id),
  CONSTRAINT transfers_amount_check                 CHECK ((amount > 0)),
  CONSTRAINT transfers_check                        CHECK ((debit_account_id <> credit_account_id)),
  CONSTRAINT transfers_check1                       CHECK (((phase = ANY (ARRAY['post'::text, 'void'::text])) = (pending_id IS NOT NULL))),
  CONSTRAINT transfers_check2                       CHECK (((reverses_id IS NULL) OR ((phase = 'single'::text) AND (code = 'reversal'::text)))),
  CONSTRAINT transfers_code_check                   CHECK ((code = ANY (ARRAY['budget'::text, 'issue'::text, 'reward'::text, 'payment'::text, 'refund'::text, 'redemption'::text, 'reversal'::text, 'adjustment'::text, 'expiry'::text, 'gift'::text]))),
  CONSTRAINT transfers_memo_check                   CHECK ((length(memo) <= 500)),
  CONSTRAINT transfers_phase_check                  CHECK ((phase = ANY (ARRAY['single'::text, 'pending'::text, 'post'::text, 'void'::text]))),
  CONSTRAINT transfers_currency_id_pending_id_fkey  FOREIGN KEY (currency_id, pending_id) REFERENCES transfers(currency_id, id),
  CONSTRAINT transfers_currency_id_reverses_id_fkey FOREIGN KEY (currency_id, reverses_id) REFERENCES transfers(currency_id, id)
);
CREATE INDEX transfers_by_id ON transfers USING btree (id);
CREATE INDEX transfers_by_time ON transfers USING btree (currency_id, created_at, id);
CREATE INDEX transfers_by_txid ON transfers USING btree (currency_id, txid);
CREATE UNIQUE INDEX transfers_resolve_once ON transfers USING btree (currency_id, pending_id) WHERE pending_id IS NOT NULL;
CREATE UNIQUE INDEX transfers_reverse_once ON transfers USING btree (currency_id, reverses_id) WHERE reverses_id IS NOT NULL;

CREATE TABLE claims (
  currency_id  integer NOT NULL,
  session_id   uuid NOT NULL,
  account_id   uuid NOT NULL,
  transfer_id  uuid NOT NULL,
  hours        numeric(5,2),
  via          text NOT NULL,
  created_at   timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT claims_pkey                         PRIMARY KEY (currency_id, session_id, account_id),
  CONSTRAINT claims_via_check                    CHECK ((via = ANY (ARRAY['qr'::text, 'card'::text]))),
  CONSTRAINT claims_currency_id_session_id_fkey  FOREIGN KEY (currency_id, session_id) REFERENCES activity_sessions(currency_id, id),
  CONSTRAINT claims_currency_id_transfer_id_fkey FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers(currency_id, id)
);

CREATE TABLE shops (
  currency_id  integer NOT NULL,
  account_id   uuid NOT NULL,
  name         text NOT NULL,
  iban         text,
  address      text,
  contact      text,
  created_at   timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT shops_pkey                        PRIMARY KEY (currency_id, account_id),
  CONSTRAINT shops_address_check               CHECK ((length(address) <= 500)),
  CONSTRAINT shops_contact_check               CHECK ((length(contact) <= 200)),
  CONSTRAINT shops_iban_check                  CHECK ((iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'::text)),
  CONSTRAINT shops_name_check                  CHECK (((length(name) >= 1) AND (length(name) <= 200))),
  CONSTRAINT shops_currency_id_account_id_fkey FOREIGN KEY (currency_id, account_id) REFERENCES accounts(currency_id, id)
);

CREATE TABLE devices (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  name             text NOT NULL,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  last_seen_at     timestamp with time zone NOT NULL DEFAULT now(),
  revoked_at       timestamp with time zone,
  CONSTRAINT devices_pkey                             PRIMARY KEY (currency_id, id),
  CONSTRAINT devices_name_check                       CHECK (((length(name) >= 1) AND (length(name) <= 100))),
  CONSTRAINT devices_currency_id_shop_account_id_fkey FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops(currency_id, account_id)
);
CREATE INDEX devices_by_id ON devices USING btree (id);

CREATE TABLE entries (
  currency_id    integer NOT NULL,
  account_id     uuid NOT NULL,
  version        bigint NOT NULL,
  transfer_id    uuid NOT NULL,
  amount         bigint NOT NULL,
  balance_after  bigint NOT NULL,
  created_at     timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT entries_pkey                                   PRIMARY KEY (currency_id, account_id, version),
  CONSTRAINT entries_currency_id_transfer_id_account_id_key UNIQUE (currency_id, transfer_id, account_id),
  CONSTRAINT entries_amount_check                           CHECK ((amount <> 0)),
  CONSTRAINT entries_version_check                          CHECK ((version > 0))
);

CREATE TABLE idempotency_keys (
  scope            text NOT NULL,
  key              text NOT NULL,
  request_hash     text NOT NULL,
  response_status  integer NOT NULL,
  response_body    jsonb NOT NULL,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT idempotency_keys_pkey      PRIMARY KEY (scope, key),
  CONSTRAINT idempotency_keys_key_check CHECK (((length(key) >= 1) AND (length(key) <= 255)))
);

CREATE TABLE pairing_codes (
  currency_id      integer NOT NULL,
  code             text NOT NULL,
  shop_account_id  uuid NOT NULL,
  expires_at       timestamp with time zone NOT NULL,
  used_at          timestamp with time zone,
  created_by       text NOT NULL,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT pairing_codes_pkey                             PRIMARY KEY (currency_id, code),
  CONSTRAINT pairing_codes_code_check                       CHECK ((code ~ '^[0-9A-HJKMNP-TV-Z]{8}$'::text)),
  CONSTRAINT pairing_codes_currency_id_shop_account_id_fkey FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops(currency_id, account_id)
);
CREATE INDEX pairing_codes_by_code ON pairing_codes USING btree (code);

CREATE TABLE payment_requests (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  device_id        uuid,
  amount           bigint NOT NULL,
  memo             text,
  status           text NOT NULL DEFAULT 'open'::text,
  expires_at       timestamp with time zone NOT NULL,
  transfer_id      uuid,
  paid_by          uuid,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  updated_at       timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT payment_requests_pkey                             PRIMARY KEY (currency_id, id),
  CONSTRAINT payment_requests_amount_check                     CHECK ((amount > 0)),
  CONSTRAINT payment_requests_check                            CHECK (((status = 'paid'::text) = (transfer_id IS NOT NULL))),
  CONSTRAINT payment_requests_memo_check                       CHECK ((length(memo) <= 500)),
  CONSTRAINT payment_requests_status_check                     CHECK ((status = ANY (ARRAY['open'::text, 'paid'::text, 'cancelled'::text, 'expired'::text]))),
  CONSTRAINT payment_requests_currency_id_shop_account_id_fkey FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops(currency_id, account_id),
  CONSTRAINT payment_requests_currency_id_transfer_id_fkey     FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers(currency_id, id)
);
CREATE INDEX payment_requests_by_id ON payment_requests USING btree (id);
CREATE UNIQUE INDEX payment_requests_paid_once ON payment_requests USING btree (currency_id, transfer_id) WHERE transfer_id IS NOT NULL;

CREATE TABLE payout_exports (
  currency_id    integer NOT NULL,
  id             uuid NOT NULL,
  message_id     text NOT NULL,
  payouts_count  integer NOT NULL,
  total_euros    numeric(18,2) NOT NULL,
  created_by     text NOT NULL,
  created_at     timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT payout_exports_pkey                       PRIMARY KEY (currency_id, id),
  CONSTRAINT payout_exports_currency_id_message_id_key UNIQUE (currency_id, message_id),
  CONSTRAINT payout_exports_payouts_count_check        CHECK ((payouts_count > 0))
);

CREATE TABLE redemptions (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  transfer_id      uuid NOT NULL,
  amount           bigint NOT NULL,
  status           text NOT NULL DEFAULT 'pending'::text,
  requested_by     text NOT NULL,
  decided_by       text,
  decided_at       timestamp with time zone,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT redemptions_pkey                             PRIMARY KEY (currency_id, id),
  CONSTRAINT redemptions_currency_id_transfer_id_key      UNIQUE (currency_id, transfer_id),
  CONSTRAINT redemptions_amount_check                     CHECK ((amount > 0)),
  CONSTRAINT redemptions_status_check                     CHECK ((status = ANY (ARRAY['pending'::text, 'approved'::text, 'rejected'::text, 'reversed'::text]))),
  CONSTRAINT redemptions_currency_id_shop_account_id_fkey FOREIGN KEY (currency_id, shop_account_id) REFERENCES shops(currency_id, account_id),
  CONSTRAINT redemptions_currency_id_transfer_id_fkey     FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers(currency_id, id)
);
CREATE INDEX redemptions_by_id ON redemptions USING btree (id);

CREATE TABLE payouts (
  currency_id      integer NOT NULL,
  id               uuid NOT NULL,
  redemption_id    uuid NOT NULL,
  shop_account_id  uuid NOT NULL,
  shop_name        text NOT NULL,
  iban             text,
  euro_amount      numeric(16,2) NOT NULL,
  reference        text NOT NULL,
  export_id        uuid,
  exported_at      timestamp with time zone,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  cancelled_at     timestamp with time zone,
  CONSTRAINT payouts_pkey                           PRIMARY KEY (currency_id, id),
  CONSTRAINT payouts_currency_id_redemption_id_key  UNIQUE (currency_id, redemption_id),
  CONSTRAINT payouts_cancelled_not_exported         CHECK (((cancelled_at IS NULL) OR (export_id IS NULL))),
  CONSTRAINT payouts_euro_amount_check              CHECK ((euro_amount >= (0)::numeric)),
  CONSTRAINT payouts_currency_id_export_id_fkey     FOREIGN KEY (currency_id, export_id) REFERENCES payout_exports(currency_id, id),
  CONSTRAINT payouts_currency_id_redemption_id_fkey FOREIGN KEY (currency_id, redemption_id) REFERENCES redemptions(currency_id, id)
);

CREATE TABLE privacy_salt (
  one   boolean NOT NULL DEFAULT true,
  salt  text NOT NULL,
  CONSTRAINT privacy_salt_pkey       PRIMARY KEY (one),
  CONSTRAINT privacy_salt_one_check  CHECK (one),
  CONSTRAINT privacy_salt_salt_check CHECK ((length(salt) >= 32))
);

CREATE TABLE refund_totals (
  currency_id  integer NOT NULL,
  transfer_id  uuid NOT NULL,
  paid         bigint NOT NULL,
  refunded     bigint NOT NULL,
  CONSTRAINT refund_totals_pkey                         PRIMARY KEY (currency_id, transfer_id),
  CONSTRAINT refund_totals_check                        CHECK ((refunded <= paid)),
  CONSTRAINT refund_totals_paid_check                   CHECK ((paid > 0)),
  CONSTRAINT refund_totals_refunded_check               CHECK ((refunded >= 0)),
  CONSTRAINT refund_totals_currency_id_transfer_id_fkey FOREIGN KEY (currency_id, transfer_id) REFERENCES transfers(currency_id, id)
);

CREATE TABLE seals (
  currency_id      integer NOT NULL,
  seq              bigint NOT NULL,
  txid_from        xid8 NOT NULL,
  txid_to          xid8 NOT NULL,
  transfers_count  bigint NOT NULL,
  previous_hash    text NOT NULL,
  transfer_ids     bytea NOT NULL,
  transfer_hashes  bytea NOT NULL,
  hash             text NOT NULL,
  created_at       timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT seals_pkey                  PRIMARY KEY (currency_id, seq),
  CONSTRAINT seals_check                 CHECK ((length(transfer_ids) = (16 * transfers_count))),
  CONSTRAINT seals_check1                CHECK ((length(transfer_hashes) = (32 * transfers_count))),
  CONSTRAINT seals_check2                CHECK ((txid_from <= txid_to)),
  CONSTRAINT seals_hash_check            CHECK ((hash ~ '^[0-9a-f]{64}$'::text)),
  CONSTRAINT seals_previous_hash_check   CHECK ((previous_hash ~ '^[0-9a-f]{64}$'::text)),
  CONSTRAINT seals_seq_check             CHECK ((seq > 0)),
  CONSTRAINT seals_transfers_count_check CHECK ((transfers_count >= 0)),
  CONSTRAINT seals_currency_id_fkey      FOREIGN KEY (currency_id) REFERENCES currencies(id)
);

CREATE TABLE user_currencies (
  user_id      uuid NOT NULL,
  currency_id  integer NOT NULL,
  CONSTRAINT user_currencies_pkey             PRIMARY KEY (user_id, currency_id),
  CONSTRAINT user_currencies_currency_id_fkey FOREIGN KEY (currency_id) REFERENCES currencies(id),
  CONSTRAINT user_currencies_user_id_fkey     FOREIGN KEY (user_id) REFERENCES users(id)
);

CREATE TABLE volunteer_earnings (
  currency_id  integer NOT NULL,
  account_id   uuid NOT NULL,
  period       text NOT NULL,
  amount       bigint NOT NULL,
  CONSTRAINT volunteer_earnings_pkey                        PRIMARY KEY (currency_id, account_id, period),
  CONSTRAINT volunteer_earnings_amount_check                CHECK ((amount >= 0)),
  CONSTRAINT volunteer_earnings_period_check                CHECK ((period ~ '^(d[0-9]{4}-[0-9]{2}-[0-9]{2}|y[0-9]{4}|g[0-9]{4}-[0-9]{2}-[0-9]{2}|h[0-9a-f-]{36}m[0-9]{4}-[0-9]{2})$'::text)),
  CONSTRAINT volunteer_earnings_currency_id_account_id_fkey FOREIGN KEY (currency_id, account_id) REFERENCES accounts(currency_id, id)
);
COMMENT ON TABLE volunteer_earnings IS 'Per account and period: rewards earned (d<day>, y<year>), gifts given (g<day>), paid by a helper (h<helper>m<month>)';

CREATE TABLE wallet_helpers (
  currency_id        integer NOT NULL,
  account_id         uuid NOT NULL,
  helper_account_id  uuid NOT NULL,
  month_max          bigint NOT NULL,
  created_at         timestamp with time zone NOT NULL DEFAULT now(),
  revoked_at         timestamp with time zone,
  CONSTRAINT wallet_helpers_pkey                               PRIMARY KEY (currency_id, account_id, helper_account_id),
  CONSTRAINT wallet_helpers_check                              CHECK ((account_id <> helper_account_id)),
  CONSTRAINT wallet_helpers_month_max_check                    CHECK ((month_max > 0)),
  CONSTRAINT wallet_helpers_currency_id_account_id_fkey        FOREIGN KEY (currency_id, account_id) REFERENCES wallets(currency_id, account_id),
  CONSTRAINT wallet_helpers_currency_id_helper_account_id_fkey FOREIGN KEY (currency_id, helper_account_id) REFERENCES wallets(currency_id, account_id)
);
CREATE INDEX wallet_helpers_helper_idx ON wallet_helpers USING btree (currency_id, helper_account_id);

CREATE TABLE wallet_sessions (
  currency_id  integer NOT NULL,
  id           uuid NOT NULL,
  account_id   uuid NOT NULL,
  card_code    text NOT NULL,
  created_at   timestamp with time zone NOT NULL DEFAULT now(),
  expires_at   timestamp with time zone NOT NULL,
  revoked_at   timestamp with time zone,
  CONSTRAINT wallet_sessions_pkey                       PRIMARY KEY (currency_id, id),
  CONSTRAINT wallet_sessions_currency_id_card_code_fkey FOREIGN KEY (currency_id, card_code) REFERENCES cards(currency_id, code) ON UPDATE CASCADE
);
CREATE INDEX wallet_sessions_by_id ON wallet_sessions USING btree (id);
-- Functions --------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION wm_audit_guard()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('wijkmunt.pseudonymise', true) = 'on'
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.currency_id IS NOT DISTINCT FROM OLD.currency_id
     AND NEW.actor_kind = OLD.actor_kind AND NEW.action = OLD.action
     AND NEW.object_kind IS NOT DISTINCT FROM OLD.object_kind AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% on % is forbidden: the audit log is append-only (only its personal data may be pseudonymised)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'WM900';
END $function$;

CREATE OR REPLACE FUNCTION wm_batch_lock(p_currency integer, p_requests uuid[], p_accounts uuid[], p_scopes text[], p_keys text[], p_sessions uuid[], p_claim_sessions uuid[], p_claim_accounts uuid[], p_earning_accounts uuid[], p_earning_periods text[], p_transfers uuid[], p_new_ids uuid[])
 RETURNS json
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
  v_locked    boolean[];
  v_keys      json;
  v_requests  json;
  v_sessions  json;
  v_claimed   json;
  v_earnings  json;
  v_accounts  json;
  v_transfers json;
  v_taken     json;
  v_ids       uuid[];
BEGIN
  -- Claim the keys first, then read their records in a later statement (a new snapshot), so a
  -- record committed by the previous holder of a key is seen.
  SELECT coalesce(array_agg(pg_try_advisory_xact_lock(hashtextextended(k.scope || chr(31) || k.key, 0)) ORDER BY k.n), '{}')
  INTO v_locked
  FROM unnest(p_scopes, p_keys) WITH ORDINALITY AS k(scope, key, n);

  -- One index lookup per key (LATERAL … LIMIT 1 cannot be turned into a join, which the planner
  -- would hash against a scan of the whole table).
  SELECT coalesce(json_agg(json_build_object(
           'locked', v_locked[k.n::integer], 'request_hash', i.request_hash,
           'status', i.response_status, 'body', i.response_body) ORDER BY k.n), '[]'::json)
  INTO v_keys
  FROM unnest(p_scopes, p_keys) WITH ORDINALITY AS k(scope, key, n)
  LEFT JOIN LATERAL (SELECT * FROM idempotency_keys WHERE scope = k.scope AND key = k.key LIMIT 1) i ON true;

  SELECT coalesce(json_agg(json_build_object(
           'id', r.id, 'shop_account_id', r.shop_account_id, 'device_id', r.device_id,
           'amount', r.amount::text, 'memo', r.memo, 'status', r.status, 'expires_at', r.expires_at)), '[]'::json),
         coalesce(array_agg(r.shop_account_id), '{}')
  INTO v_requests, v_ids
  FROM (SELECT * FROM payment_requests WHERE currency_id = p_currency AND id = ANY(p_requests)
        ORDER BY id FOR UPDATE) r;

  SELECT coalesce(json_agg(json_build_object(
           'id', s.id, 'claims_count', s.claims_count, 'max_claims', s.max_claims, 'expires_at', s.expires_at,
           'closed_at', s.closed_at, 'activity_active', a.active)), '[]'::json)
  INTO v_sessions
  FROM (SELECT * FROM activity_sessions WHERE currency_id = p_currency AND id = ANY(p_sessions)
        ORDER BY id FOR UPDATE) s
  JOIN activities a ON a.currency_id = p_currency AND a.id = s.activity_id;

  -- Under the session locks no other transaction rewards these sessions meanwhile.
  SELECT coalesce(json_agg(json_build_object('session_id', c.session_id, 'account_id', c.account_id)), '[]'::json)
  INTO v_claimed
  FROM unnest(p_claim_sessions, p_claim_accounts) AS k(session_id, account_id)
  JOIN LATERAL (SELECT * FROM claims WHERE currency_id = p_currency AND session_id = k.session_id
                AND account_id = k.account_id LIMIT 1) c ON true;

  -- The counters that exist are locked; one that does not yet is created by the write, whose
  -- conditional upsert refuses to pass the cap if another transaction created it meanwhile.
  SELECT coalesce(json_agg(json_build_object('account_id', e.account_id, 'period', e.period, 'amount', e.amount::text)), '[]'::json)
  INTO v_earnings
  FROM (SELECT e.* FROM unnest(p_earning_accounts, p_earning_periods) AS k(account_id, period)
        JOIN LATERAL (SELECT * FROM volunteer_earnings WHERE currency_id = p_currency AND account_id = k.account_id
                      AND period = k.period LIMIT 1) e ON true
        ORDER BY e.account_id, e.period FOR UPDATE OF e) e;

  v_ids := v_ids || p_accounts || coalesce((
    SELECT array_agg(x) FROM transfers t, unnest(ARRAY[t.debit_account_id, t.credit_account_id]) x
    WHERE t.currency_id = p_currency AND t.id = ANY(p_transfers)), '{}');
  -- Non-issuance accounts in ascending id order, the issuance account last. Each account as an
  -- array: id, kind, name, status, debits_pending, debits_posted, credits_pending,
  -- credits_posted, balance_max, version (the amounts as text; arrays cost a fifth of objects).
  SELECT coalesce(json_agg(json_build_array(a.id, a.kind, a.name, a.status, a.debits_pending::text,
           a.debits_posted::text, a.credits_pending::text, a.credits_posted::text, a.balance_max::text,
           a.version::text)), '[]'::json)
  INTO v_accounts
  FROM (SELECT * FROM accounts WHERE currency_id = p_currency AND id = ANY(v_ids)
        ORDER BY kind = 'issuance', id FOR UPDATE) a;

  -- A refund named (to be reversed) brings its payment along: taking a refund back lowers what
  -- the payment gave back. Both move the same two accounts, locked above.
  v_ids := p_transfers;
  IF cardinality(p_transfers) > 0 THEN
    SELECT p_transfers || coalesce(array_agg((r.metadata->>'refund_of')::uuid), '{}') INTO v_ids
    FROM transfers r
    WHERE r.currency_id = p_currency AND r.id = ANY(p_transfers) AND r.code = 'refund' AND r.metadata ? 'refund_of';
  END IF;

  -- Every transfer that resolves, reverses or refunds one of them moves these accounts, whose
  -- locks this transaction now holds: what is read below cannot change before it commits.
  SELECT coalesce(json_agg(json_build_object(
           'id', t.id, 'debit_account_id', t.debit_account_id, 'credit_account_id', t.credit_account_id,
           'amount', t.amount::text, 'code', t.code, 'phase', t.phase, 'metadata', t.metadata,
           'resolved_phase', r.phase, 'reversed', v.id IS NOT NULL, 'refunded', coalesce(f.refunded, 0)::text)), '[]'::json)
  INTO v_transfers
  FROM transfers t
  LEFT JOIN LATERAL (SELECT phase FROM transfers WHERE currency_id = p_currency AND pending_id = t.id LIMIT 1) r ON true
  LEFT JOIN LATERAL (SELECT id FROM transfers WHERE currency_id = p_currency AND reverses_id = t.id LIMIT 1) v ON true
  LEFT JOIN refund_totals f ON f.currency_id = p_currency AND f.transfer_id = t.id
  WHERE t.currency_id = p_currency AND t.id = ANY(v_ids);

  -- Paths name a transfer by its id alone, so a client's id must be new in every currency.
  SELECT coalesce(json_agg(t.id), '[]'::json) INTO v_taken FROM transfers t WHERE t.id = ANY(p_new_ids);

  RETURN json_build_object('now', now(), 'keys', v_keys, 'requests', v_requests, 'sessions', v_sessions,
                           'claimed', v_claimed, 'earnings', v_earnings, 'accounts', v_accounts,
                           'transfers', v_transfers, 'taken', v_taken);
END $function$;

CREATE OR REPLACE FUNCTION wm_batch_write(p_currency integer, p_transfers jsonb, p_entries jsonb, p_accounts jsonb, p_paid jsonb, p_keys jsonb, p_audit jsonb, p_claims jsonb, p_sessions jsonb, p_earnings jsonb, p_refunds jsonb)
 RETURNS void
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
  v_count integer;
  v_ids   uuid[];
BEGIN
  INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase,
                         pending_id, reverses_id, memo, metadata, created_by)
  SELECT p_currency, t.id, t.debit_account_id, t.credit_account_id, t.amount, t.code, t.phase,
         t.pending_id, t.reverses_id, t.memo, coalesce(t.metadata, '{}'::jsonb), t.created_by
  FROM jsonb_to_recordset(p_transfers)
    AS t(id uuid, debit_account_id uuid, credit_account_id uuid, amount bigint, code text, phase text,
         pending_id uuid, reverses_id uuid, memo text, metadata jsonb, created_by text);

  -- One UPDATE per account for the whole batch; the versions must come out as computed. The
  -- rows are found by their ids (id = ANY), never by joining the whole table to the batch.
  SELECT coalesce(array_agg(d.id), '{}') INTO v_ids FROM jsonb_to_recordset(p_accounts) AS d(id uuid);
  WITH changed AS (
    UPDATE accounts a SET debits_posted = a.debits_posted + d.debits,
                          credits_posted = a.credits_posted + d.credits,
                          debits_pending = a.debits_pending + d.debits_pending,
                          credits_pending = a.credits_pending + d.credits_pending,
                          version = a.version + d.entries
    FROM jsonb_to_recordset(p_accounts) AS d(id uuid, debits bigint, credits bigint, debits_pending bigint,
                                             credits_pending bigint, entries bigint, version_after bigint)
    WHERE a.currency_id = p_currency AND a.id = ANY(v_ids) AND a.id = d.id
    RETURNING a.version = d.version_after AS as_computed
  )
  SELECT count(*) FILTER (WHERE as_computed) INTO v_count FROM changed;
  IF v_count <> jsonb_array_length(p_accounts) THEN
    RAISE EXCEPTION 'batch: % of % accounts changed as computed', v_count, jsonb_array_length(p_accounts)
      USING ERRCODE = 'WM002';
  END IF;

  INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after)
  SELECT p_currency, e.account_id, e.version, e.transfer_id, e.amount, e.balance_after
  FROM jsonb_to_recordset(p_entries) AS e(account_id uuid, version bigint, transfer_id uuid, amount bigint, balance_after bigint);

  SELECT coalesce(array_agg(p.id), '{}') INTO v_ids FROM jsonb_to_recordset(p_paid) AS p(id uuid);
  UPDATE payment_requests r SET status = 'paid', transfer_id = p.transfer_id, paid_by = p.paid_by, updated_at = now()
  FROM jsonb_to_recordset(p_paid) AS p(id uuid, transfer_id uuid, paid_by uuid)
  WHERE r.currency_id = p_currency AND r.id = ANY(v_ids) AND r.id = p.id AND r.status = 'open';
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count <> jsonb_array_length(p_paid) THEN
    RAISE EXCEPTION 'batch: % of % payment requests were open', v_count, jsonb_array_length(p_paid)
      USING ERRCODE = 'WM002';
  END IF;
  PERFORM pg_notify('wm_payment_request', p.id || ':paid')
  FROM jsonb_to_recordset(p_paid) AS p(id text);

  -- Rewards: the CHECK of activity_sessions keeps claims_count within max_claims, the primary
  -- key of claims keeps one reward per wallet and session.
  SELECT coalesce(array_agg(s.id), '{}') INTO v_ids FROM jsonb_to_recordset(p_sessions) AS s(id uuid);
  UPDATE activity_sessions a SET claims_count = a.claims_count + s.claims
  FROM jsonb_to_recordset(p_sessions) AS s(id uuid, claims integer)
  WHERE a.currency_id = p_currency AND a.id = ANY(v_ids) AND a.id = s.id;
  INSERT INTO claims (currency_id, session_id, account_id, transfer_id, hours, via)
  SELECT p_currency, c.session_id, c.account_id, c.transfer_id, c.hours, c.via
  FROM jsonb_to_recordset(p_claims) AS c(session_id uuid, account_id uuid, transfer_id uuid, hours numeric, via text);
  -- The counters locked by wm_batch_lock are raised, the missing ones created. One that another
  -- transaction created since (or a cap that would be crossed) leaves a counter unraised: then
  -- the batch fails, and its requests are retried one by one.
  WITH raised AS (
    UPDATE volunteer_earnings e SET amount = e.amount + r.amount
    FROM jsonb_to_recordset(p_earnings) AS r(account_id uuid, period text, amount bigint, cap bigint)
    WHERE e.currency_id = p_currency AND e.account_id = r.account_id AND e.period = r.period
      AND (r.cap IS NULL OR e.amount + r.amount <= r.cap)
    RETURNING 1
  )
  SELECT count(*) INTO v_count FROM raised;
  WITH created AS (
    INSERT INTO volunteer_earnings (currency_id, account_id, period, amount)
    SELECT p_currency, r.account_id, r.period, r.amount
    FROM jsonb_to_recordset(p_earnings) AS r(account_id uuid, period text, amount bigint, cap bigint)
    WHERE (r.cap IS NULL OR r.amount <= r.cap)
      AND NOT EXISTS (SELECT 1 FROM volunteer_earnings e
                      WHERE e.currency_id = p_currency AND e.account_id = r.account_id AND e.period = r.period)
    ON CONFLICT (currency_id, account_id, period) DO NOTHING
    RETURNING 1
  )
  SELECT v_count + count(*) INTO v_count FROM created;
  IF v_count <> jsonb_array_length(p_earnings) THEN
    RAISE EXCEPTION 'batch: % of % earnings counters raised within their caps', v_count, jsonb_array_length(p_earnings)
      USING ERRCODE = 'WM002';
  END IF;

  -- What refunds and reversals gave back per payment, less the refunds taken back (negative
  -- amounts); refund_totals' CHECKs keep it within 0 and the payment. One row per payment,
  -- summed first (a batch may refund one payment twice). A sum below zero lowers a row that a
  -- refund made: an UPDATE, as an INSERT's proposed row would fail the CHECK before its conflict.
  -- Most batches (payments, rewards) give nothing back and skip both statements.
  IF jsonb_array_length(p_refunds) > 0 THEN
    INSERT INTO refund_totals AS t (currency_id, transfer_id, paid, refunded)
    SELECT p_currency, r.transfer_id, max(r.paid), sum(r.amount)
    FROM jsonb_to_recordset(p_refunds) AS r(transfer_id uuid, paid bigint, amount bigint)
    GROUP BY r.transfer_id HAVING sum(r.amount) >= 0
    ON CONFLICT (currency_id, transfer_id) DO UPDATE SET refunded = t.refunded + EXCLUDED.refunded;
    WITH taken_back AS (
      SELECT r.transfer_id, sum(r.amount) AS amount
      FROM jsonb_to_recordset(p_refunds) AS r(transfer_id uuid, amount bigint)
      GROUP BY r.transfer_id HAVING sum(r.amount) < 0
    ), lowered AS (
      UPDATE refund_totals t SET refunded = t.refunded + b.amount
      FROM taken_back b WHERE t.currency_id = p_currency AND t.transfer_id = b.transfer_id
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM lowered) - (SELECT count(*) FROM taken_back) INTO v_count;
    IF v_count <> 0 THEN
      RAISE EXCEPTION 'batch: a refund taken back from a payment without refunds' USING ERRCODE = 'WM002';
    END IF;
  END IF;

  INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body)
  SELECT k.scope, k.key, k.request_hash, k.status, k.body
  FROM jsonb_to_recordset(p_keys) AS k(scope text, key text, request_hash text, status integer, body jsonb);

  INSERT INTO audit_log (currency_id, actor_kind, actor_id, action, object_kind, object_id, ip, request_id, changes)
  SELECT a.currency_id, a.actor_kind, a.actor_id, a.action, a.object_kind, a.object_id, a.ip, a.request_id,
         coalesce(a.changes, '{}'::jsonb)
  FROM jsonb_to_recordset(p_audit)
    AS a(currency_id integer, actor_kind text, actor_id text, action text, object_kind text, object_id text,
         ip text, request_id text, changes jsonb);
END $function$;

CREATE OR REPLACE FUNCTION wm_check_entry_transfers()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
  v record;
BEGIN
  SELECT e.currency_id, e.transfer_id, e.account_id INTO v
  FROM new_entries e
  LEFT JOIN LATERAL (SELECT true AS found FROM transfers t
                     WHERE t.currency_id = e.currency_id AND t.id = e.transfer_id
                       AND e.account_id IN (t.debit_account_id, t.credit_account_id) LIMIT 1) t ON true
  WHERE t.found IS NULL
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert or update on table "entries" violates foreign key constraint "entries_currency_id_transfer_id_fkey"'
      USING ERRCODE = '23503', TABLE = 'entries', CONSTRAINT = 'entries_currency_id_transfer_id_fkey',
            DETAIL = format('Key (currency_id, transfer_id, account_id)=(%s, %s, %s) is not a transfer of that account in table "transfers".',
                            v.currency_id, v.transfer_id, v.account_id);
  END IF;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION wm_check_transfer_accounts()
 RETURNS trigger
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
DECLARE
  v record;
BEGIN
  -- One index lookup per key: a LATERAL … LIMIT 1 cannot become a join, which the planner
  -- (knowing nothing of the transition table) could hash against a scan of a whole index.
  -- Each account once, however many of the new transfers name it (a batch of issues names the
  -- issuance account a thousand times).
  SELECT k.currency_id, k.account_id, k.side INTO v
  FROM (SELECT DISTINCT t.currency_id, t.debit_account_id AS account_id, 'debit' AS side FROM new_transfers t
        UNION ALL
        SELECT DISTINCT t.currency_id, t.credit_account_id, 'credit' FROM new_transfers t) k
  LEFT JOIN LATERAL (SELECT true AS found FROM accounts a
                     WHERE a.currency_id = k.currency_id AND a.id = k.account_id LIMIT 1) a ON true
  WHERE a.found IS NULL
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'insert or update on table "transfers" violates foreign key constraint "transfers_currency_id_%_account_id_fkey"', v.side
      USING ERRCODE = '23503', TABLE = 'transfers',
            CONSTRAINT = format('transfers_currency_id_%s_account_id_fkey', v.side),
            DETAIL = format('Key (currency_id, %s_account_id)=(%s, %s) is not present in table "accounts".',
                            v.side, v.currency_id, v.account_id);
  END IF;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION wm_currency_row_version()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  NEW.row_version := OLD.row_version + 1;
  RETURN NEW;
END $function$;

CREATE OR REPLACE FUNCTION wm_forbid_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  RAISE EXCEPTION '% on % is forbidden: the ledger is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'WM900';
END $function$;

CREATE OR REPLACE FUNCTION wm_forbid_rekey()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF NEW.currency_id IS DISTINCT FROM OLD.currency_id OR NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE EXCEPTION 'the currency and id of an account never change' USING ERRCODE = 'WM900';
  END IF;
  RETURN NEW;
END $function$;

CREATE OR REPLACE FUNCTION wm_mark_helper()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  UPDATE wallets SET helps_others = true
  WHERE currency_id = NEW.currency_id AND account_id = NEW.helper_account_id AND NOT helps_others;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION wm_names_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  UPDATE currencies SET names_version = names_version + 1 WHERE id = NEW.currency_id;
  RETURN NULL;
END $function$;

CREATE OR REPLACE FUNCTION wm_network_of(p_address text)
 RETURNS text
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
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
END $function$;

CREATE OR REPLACE FUNCTION wm_sessions_changed()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  UPDATE currencies SET sessions_version = sessions_version + 1 WHERE id = OLD.currency_id;
  RETURN NULL;
END $function$;
-- Triggers ---------------------------------------------------------------------------------------

CREATE TRIGGER currencies_row_version BEFORE UPDATE ON currencies FOR EACH ROW EXECUTE FUNCTION wm_currency_row_version();
CREATE TRIGGER accounts_names_version AFTER UPDATE OF name ON accounts FOR EACH ROW WHEN (old.name IS DISTINCT FROM new.name) EXECUTE FUNCTION wm_names_changed();
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER accounts_no_rekey BEFORE UPDATE OF currency_id, id ON accounts FOR EACH ROW EXECUTE FUNCTION wm_forbid_rekey();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER activities_names_version AFTER UPDATE OF name ON activities FOR EACH ROW WHEN (old.name IS DISTINCT FROM new.name) EXECUTE FUNCTION wm_names_changed();
CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION wm_audit_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER wallets_deleted AFTER DELETE ON wallets FOR EACH ROW EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER wallets_sessions_changed AFTER UPDATE ON wallets FOR EACH ROW WHEN (old.* IS DISTINCT FROM new.*) EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER cards_deleted AFTER DELETE ON cards FOR EACH ROW EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER cards_sessions_changed AFTER UPDATE ON cards FOR EACH ROW WHEN (old.status IS DISTINCT FROM new.status OR old.code IS DISTINCT FROM new.code OR old.account_id IS DISTINCT FROM new.account_id OR old.currency_id IS DISTINCT FROM new.currency_id) EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER transfers_accounts_exist AFTER INSERT ON transfers REFERENCING NEW TABLE AS new_transfers FOR EACH STATEMENT EXECUTE FUNCTION wm_check_transfer_accounts();
CREATE TRIGGER transfers_append_only BEFORE DELETE OR UPDATE ON transfers FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER claims_append_only BEFORE DELETE OR UPDATE ON claims FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER entries_append_only BEFORE DELETE OR UPDATE ON entries FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER entries_transfer_exists AFTER INSERT ON entries REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION wm_check_entry_transfers();
CREATE TRIGGER seals_append_only BEFORE DELETE OR UPDATE ON seals FOR EACH ROW EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON seals FOR EACH STATEMENT EXECUTE FUNCTION wm_forbid_change();
CREATE TRIGGER wallet_helpers_mark_helper AFTER INSERT OR UPDATE OF helper_account_id ON wallet_helpers FOR EACH ROW EXECUTE FUNCTION wm_mark_helper();
CREATE TRIGGER wallet_sessions_changed AFTER UPDATE ON wallet_sessions FOR EACH ROW WHEN (old.* IS DISTINCT FROM new.*) EXECUTE FUNCTION wm_sessions_changed();
CREATE TRIGGER wallet_sessions_deleted AFTER DELETE ON wallet_sessions FOR EACH ROW WHEN (old.revoked_at IS NULL AND old.expires_at > now()) EXECUTE FUNCTION wm_sessions_changed();
