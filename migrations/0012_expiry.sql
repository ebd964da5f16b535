-- Coins that expire (#20, point 1). A currency may give the coins in wallets a validity:
-- validity_days after they were earned (a local day, Europe/Brussels) they go back to the
-- issuance account with a transfer of code 'expiry', made by the daily expiry run. NULL: coins
-- never expire. Shops' coins never expire.
--
-- validity_from is the local day from which the current validity counts for coins already in
-- wallets: a coin expires validity_days after the later of the day it was earned and
-- validity_from. Setting or changing the validity so gives every volunteer at least
-- validity_days of notice; it is set whenever validity_days is.
--
-- No lots are stored and no payment writes anything more: what is left of a wallet's coins is
-- read from its entries (its newest credits that add up to its balance, since spending takes
-- the oldest coins first), see src/db/expiry.ts and docs/expiry.md.
ALTER TABLE currencies
  ADD COLUMN validity_days integer CONSTRAINT currencies_validity_days_check CHECK (validity_days BETWEEN 1 AND 3650),
  ADD COLUMN validity_from date,
  ADD CONSTRAINT currencies_validity_from_check CHECK ((validity_days IS NULL) = (validity_from IS NULL));

ALTER TABLE transfers DROP CONSTRAINT transfers_code_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_code_check
  CHECK (code IN ('budget', 'issue', 'reward', 'payment', 'refund', 'redemption', 'reversal', 'adjustment', 'expiry'));
