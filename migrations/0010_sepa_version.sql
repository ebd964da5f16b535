-- The pain.001 version of a currency's SEPA payout files: '09' (pain.001.001.09, as the EPC's
-- customer-to-PSP implementation guidelines EPC132-08 of 2023 describe it) for every currency,
-- existing ones included, unless its bank still needs '03' (pain.001.001.03 of 2009), which an
-- admin sets with PATCH /currencies/{code}. A file is rendered when it is downloaded, so after a
-- switch an earlier export downloads again in the new version, with the same message id.
ALTER TABLE currencies
  ADD COLUMN sepa_version text NOT NULL DEFAULT '09'
    CONSTRAINT currencies_sepa_version_check CHECK (sepa_version IN ('09', '03'));
