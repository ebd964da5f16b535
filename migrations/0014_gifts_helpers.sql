-- Gifts between neighbours and helpers who pay for someone (#20, points 3 and 4).
--
-- Gifts: a currency may let wallets give coins to one another (gifts_enabled, off by default),
-- at most gift_day_max a giver per local day (Europe/Brussels; NULL: no daily limit). A wallet
-- is given to by its receive code (shown as a QR, /r/<code>), which names the wallet without
-- its id or its card code; it is made the first time the wallet asks for it.
ALTER TABLE currencies
  ADD COLUMN gifts_enabled boolean NOT NULL DEFAULT false,
  ADD COLUMN gift_day_max bigint CONSTRAINT currencies_gift_day_max_check CHECK (gift_day_max > 0);

ALTER TABLE wallets
  ADD COLUMN receive_code text CONSTRAINT wallets_receive_code_check CHECK (receive_code ~ '^[a-z2-7]{20}$'),
  ADD CONSTRAINT wallets_receive_code_key UNIQUE (currency_id, receive_code);

ALTER TABLE transfers DROP CONSTRAINT transfers_code_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_code_check
  CHECK (code IN ('budget', 'issue', 'reward', 'payment', 'refund', 'redemption', 'reversal', 'adjustment', 'expiry', 'gift'));

-- Helpers: a coordinator links a helper's wallet to a volunteer's; the helper may then pay a
-- shop's request from the volunteer's wallet, at most month_max a calendar month. Revoking
-- keeps the row (revoked_at); linking again makes it active with the new maximum.
CREATE TABLE wallet_helpers (
  currency_id        integer NOT NULL,
  account_id         uuid NOT NULL,
  helper_account_id  uuid NOT NULL,
  month_max          bigint NOT NULL CHECK (month_max > 0),
  created_at         timestamptz NOT NULL DEFAULT now(),
  revoked_at         timestamptz,
  PRIMARY KEY (currency_id, account_id, helper_account_id),
  CHECK (account_id <> helper_account_id),
  FOREIGN KEY (currency_id, account_id) REFERENCES wallets (currency_id, account_id),
  FOREIGN KEY (currency_id, helper_account_id) REFERENCES wallets (currency_id, account_id)
);
CREATE INDEX wallet_helpers_helper_idx ON wallet_helpers (currency_id, helper_account_id);

-- The counters of volunteer_earnings also count what a giver gave on a local day
-- ('g2026-12-07', on the giver's account) and what a helper paid from a wallet in a calendar
-- month ('h<helper account id>m2026-12', on the helped wallet's account): the one posting
-- pipeline locks and raises them with the transfer, and its write refuses to pass the limit,
-- as it does for the legal caps on earnings.
ALTER TABLE volunteer_earnings DROP CONSTRAINT volunteer_earnings_period_check;
ALTER TABLE volunteer_earnings ADD CONSTRAINT volunteer_earnings_period_check
  CHECK (period ~ '^(d[0-9]{4}-[0-9]{2}-[0-9]{2}|y[0-9]{4}|g[0-9]{4}-[0-9]{2}-[0-9]{2}|h[0-9a-f-]{36}m[0-9]{4}-[0-9]{2})$');
COMMENT ON TABLE volunteer_earnings IS
  'Per account and period: rewards earned (d<day>, y<year>), gifts given (g<day>), paid by a helper (h<helper>m<month>)';
