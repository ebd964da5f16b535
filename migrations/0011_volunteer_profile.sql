-- A volunteer as a coordinator knows them: two Fatimas are told apart by a full name, and the
-- coordinator may keep a phone number, an email address and a note. For the coordinator's eyes
-- only: never shown in the wallet, never in a sealed row (a person's data can be erased without
-- touching the ledger).
ALTER TABLE wallets
  ADD COLUMN full_name text CONSTRAINT wallets_full_name_check CHECK (length(full_name) BETWEEN 1 AND 200),
  ADD COLUMN phone text CONSTRAINT wallets_phone_check CHECK (length(phone) BETWEEN 1 AND 40),
  ADD COLUMN email text CONSTRAINT wallets_email_check CHECK (length(email) BETWEEN 3 AND 254),
  ADD COLUMN note text CONSTRAINT wallets_note_check CHECK (length(note) BETWEEN 1 AND 1000),
  ADD COLUMN updated_at timestamptz;
