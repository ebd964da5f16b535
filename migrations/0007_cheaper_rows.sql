-- Cheaper rows for the ledger's writes, measured on batches of 1,000 issues (see
-- docs/performance.md, "What limits each figure"):
--
-- 1. Accounts leave half of each page free, so that a balance change can be a HOT update (the
--    new row version on the same page, no new entries in the accounts' three indexes). Balance
--    columns are in no index. With full pages only about 1 update in 10 was HOT; with half-full
--    pages 8 in 10, and the batch's UPDATE of 1,001 accounts took 4.6 ms instead of 18.3.
--    Pages written before this migration keep their old fill until the table is rewritten
--    (VACUUM FULL accounts, or pg_repack without the lock).
--
-- 2. The foreign keys from transfers to their two accounts and from entries to their account
--    and transfer are checked once per statement, set-wise, instead of once per row. A per-row
--    key check is a trigger event and a separate index lookup with a row lock: 6 per transfer,
--    34 ms of a 57 ms write of 1,000 transfers. The statement checks below do the same lookups in
--    one query per INSERT (3.4 ms) and check a little more: an entry must name a transfer of its
--    own currency *and* be for one of that transfer's two accounts. They raise what a foreign key
--    raises (SQLSTATE 23503, the old constraint's name), so callers see no difference.
--    What a foreign key also did on the other side — refusing to delete or re-key a referenced
--    row — is kept by triggers: transfers are append-only (0001), accounts are never deleted
--    (0001), and an account's currency and id never change (below).
--    The keys of pending_id and reverses_id stay foreign keys: they are NULL on nearly every row,
--    which costs next to nothing.
--
-- 3. wm_batch_lock returns json built from arrays instead of jsonb objects: turning each locked
--    account row into a jsonb object cost 13.6 ms of the 15.8 ms for 1,001 accounts; arrays in
--    json cost 2.6 ms. The service reads the accounts by position (src/db/batch.ts).

ALTER TABLE accounts SET (fillfactor = 50);

ALTER TABLE transfers
  DROP CONSTRAINT transfers_currency_id_debit_account_id_fkey,
  DROP CONSTRAINT transfers_currency_id_credit_account_id_fkey;
ALTER TABLE entries
  DROP CONSTRAINT entries_currency_id_account_id_fkey,
  DROP CONSTRAINT entries_currency_id_transfer_id_fkey;

-- Every new transfer's two accounts exist in its currency (invariant 6).
CREATE FUNCTION wm_check_transfer_accounts() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
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
END $$;
CREATE TRIGGER transfers_accounts_exist AFTER INSERT ON transfers
  REFERENCING NEW TABLE AS new_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION wm_check_transfer_accounts();

-- Every new entry is for one of the two accounts of a transfer of its currency.
CREATE FUNCTION wm_check_entry_transfers() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
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
END $$;
CREATE TRIGGER entries_transfer_exists AFTER INSERT ON entries
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION wm_check_entry_transfers();

-- Transfers, entries and seals name accounts by (currency_id, id): those never change. Fires
-- only for an UPDATE that sets one of the two columns, never for a balance change.
CREATE FUNCTION wm_forbid_rekey() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.currency_id IS DISTINCT FROM OLD.currency_id OR NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE EXCEPTION 'the currency and id of an account never change' USING ERRCODE = 'WM900';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_no_rekey BEFORE UPDATE OF currency_id, id ON accounts
  FOR EACH ROW EXECUTE FUNCTION wm_forbid_rekey();

-- wm_batch_lock, returning json (see 3. above); otherwise as in 0006.
DROP FUNCTION wm_batch_lock(integer, uuid[], uuid[], text[], text[], uuid[], uuid[], uuid[], uuid[], text[]);
CREATE FUNCTION wm_batch_lock(p_currency integer, p_requests uuid[], p_accounts uuid[], p_scopes text[], p_keys text[],
                              p_sessions uuid[], p_claim_sessions uuid[], p_claim_accounts uuid[],
                              p_earning_accounts uuid[], p_earning_periods text[])
RETURNS json LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_locked   boolean[];
  v_keys     json;
  v_requests json;
  v_sessions json;
  v_claimed  json;
  v_earnings json;
  v_accounts json;
  v_ids      uuid[];
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
           'id', s.id, 'claims_count', s.claims_count, 'max_claims', s.max_claims, 'expires_at', s.expires_at)), '[]'::json)
  INTO v_sessions
  FROM (SELECT * FROM activity_sessions WHERE currency_id = p_currency AND id = ANY(p_sessions)
        ORDER BY id FOR UPDATE) s;

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

  v_ids := v_ids || p_accounts;
  -- Non-issuance accounts in ascending id order, the issuance account last.
  -- Each account as an array: id, kind, name, status, debits_pending, debits_posted,
  -- credits_pending, credits_posted, balance_max, version (the amounts as text).
  SELECT coalesce(json_agg(json_build_array(a.id, a.kind, a.name, a.status, a.debits_pending::text,
           a.debits_posted::text, a.credits_pending::text, a.credits_posted::text, a.balance_max::text,
           a.version::text)), '[]'::json)
  INTO v_accounts
  FROM (SELECT * FROM accounts WHERE currency_id = p_currency AND id = ANY(v_ids)
        ORDER BY kind = 'issuance', id FOR UPDATE) a;

  RETURN json_build_object('now', now(), 'keys', v_keys, 'requests', v_requests, 'sessions', v_sessions,
                            'claimed', v_claimed, 'earnings', v_earnings, 'accounts', v_accounts);
END $$;
