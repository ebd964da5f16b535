-- Every change of a currency's row raises its row_version (a trigger, whatever path changes it).
-- A wallet's own reads need its currency as it is now (validity, caps, names_version): the
-- service reads the version with the account, in the same statement, and reads the whole
-- currency row again only when that version differs from the row it kept (#22).
ALTER TABLE currencies ADD COLUMN row_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION wm_currency_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.row_version := OLD.row_version + 1;
  RETURN NEW;
END $$;

CREATE TRIGGER currencies_row_version BEFORE UPDATE ON currencies
  FOR EACH ROW EXECUTE FUNCTION wm_currency_row_version();
