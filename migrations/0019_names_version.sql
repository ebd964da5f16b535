-- A page of a wallet's history names the other accounts and the activities of its rows. The
-- rows never change (entries are append-only, and a reversal or refund bumps the version of the
-- accounts it touches), the names can. So a page is fully told by its account's version and the
-- version of its currency's names: a counter the database bumps whenever an account or an
-- activity of the currency is renamed (a shop's new name, a volunteer's, an erasure's
-- pseudonym), whatever path renamed it. The service keeps recent pages by these two (#22).
ALTER TABLE currencies ADD COLUMN names_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION wm_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE currencies SET names_version = names_version + 1 WHERE id = NEW.currency_id;
  RETURN NULL;
END $$;

CREATE TRIGGER accounts_names_version AFTER UPDATE OF name ON accounts
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION wm_names_changed();
CREATE TRIGGER activities_names_version AFTER UPDATE OF name ON activities
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION wm_names_changed();
