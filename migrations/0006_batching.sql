-- Request batching: many value-moving requests in one transaction, applied set-wise.
--
-- A batch (payments, card charges, rewards) runs in two statements inside one READ COMMITTED
-- transaction:
--   wm_batch_lock  claims the idempotency keys (try-locks), then reads what they recorded,
--                  locks the payment requests and the activity sessions, reads which rewards
--                  were given, locks the volunteers' earnings counters, then the accounts
--                  (non-issuance in ascending id order, the issuance account last — the order a
--                  reward and wm_transfers take them in too, so no two paths deadlock), and
--                  returns all of it;
--   wm_batch_write writes what the service decided from that state: every transfer, entry,
--                  balance change (one UPDATE per account, whatever the number of items that
--                  touch it), paid request, reward, idempotency record and audit row, set-wise.
-- The rows stay locked between the two, so the decisions hold; the CHECK constraints of the
-- accounts still refuse any negative balance, and wm_batch_write checks that every account's
-- version is the one the service computed.

-- Both functions touch rows by key only, so they are planned without sequential scans: right
-- after a burst of new rows (payment requests, idempotency keys) and before autovacuum has
-- analysed them, the planner believes those tables tiny and would scan them on every batch.
CREATE FUNCTION wm_batch_lock(p_currency integer, p_requests uuid[], p_accounts uuid[], p_scopes text[], p_keys text[],
                              p_sessions uuid[], p_claim_sessions uuid[], p_claim_accounts uuid[],
                              p_earning_accounts uuid[], p_earning_periods text[])
RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_locked   boolean[];
  v_keys     jsonb;
  v_requests jsonb;
  v_sessions jsonb;
  v_claimed  jsonb;
  v_earnings jsonb;
  v_accounts jsonb;
  v_ids      uuid[];
BEGIN
  -- Claim the keys first, then read their records in a later statement (a new snapshot), so a
  -- record committed by the previous holder of a key is seen.
  SELECT coalesce(array_agg(pg_try_advisory_xact_lock(hashtextextended(k.scope || chr(31) || k.key, 0)) ORDER BY k.n), '{}')
  INTO v_locked
  FROM unnest(p_scopes, p_keys) WITH ORDINALITY AS k(scope, key, n);

  -- One index lookup per key (LATERAL … LIMIT 1 cannot be turned into a join, which the planner
  -- would hash against a scan of the whole table).
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'locked', v_locked[k.n::integer], 'request_hash', i.request_hash,
           'status', i.response_status, 'body', i.response_body) ORDER BY k.n), '[]'::jsonb)
  INTO v_keys
  FROM unnest(p_scopes, p_keys) WITH ORDINALITY AS k(scope, key, n)
  LEFT JOIN LATERAL (SELECT * FROM idempotency_keys WHERE scope = k.scope AND key = k.key LIMIT 1) i ON true;

  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', r.id, 'shop_account_id', r.shop_account_id, 'device_id', r.device_id,
           'amount', r.amount::text, 'memo', r.memo, 'status', r.status, 'expires_at', r.expires_at)), '[]'::jsonb),
         coalesce(array_agg(r.shop_account_id), '{}')
  INTO v_requests, v_ids
  FROM (SELECT * FROM payment_requests WHERE currency_id = p_currency AND id = ANY(p_requests)
        ORDER BY id FOR UPDATE) r;

  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', s.id, 'claims_count', s.claims_count, 'max_claims', s.max_claims, 'expires_at', s.expires_at)), '[]'::jsonb)
  INTO v_sessions
  FROM (SELECT * FROM activity_sessions WHERE currency_id = p_currency AND id = ANY(p_sessions)
        ORDER BY id FOR UPDATE) s;

  -- Under the session locks no other transaction rewards these sessions meanwhile.
  SELECT coalesce(jsonb_agg(jsonb_build_object('session_id', c.session_id, 'account_id', c.account_id)), '[]'::jsonb)
  INTO v_claimed
  FROM unnest(p_claim_sessions, p_claim_accounts) AS k(session_id, account_id)
  JOIN LATERAL (SELECT * FROM claims WHERE currency_id = p_currency AND session_id = k.session_id
                AND account_id = k.account_id LIMIT 1) c ON true;

  -- The counters that exist are locked; one that does not yet is created by the write, whose
  -- conditional upsert refuses to pass the cap if another transaction created it meanwhile.
  SELECT coalesce(jsonb_agg(jsonb_build_object('account_id', e.account_id, 'period', e.period, 'amount', e.amount::text)), '[]'::jsonb)
  INTO v_earnings
  FROM (SELECT e.* FROM unnest(p_earning_accounts, p_earning_periods) AS k(account_id, period)
        JOIN LATERAL (SELECT * FROM volunteer_earnings WHERE currency_id = p_currency AND account_id = k.account_id
                      AND period = k.period LIMIT 1) e ON true
        ORDER BY e.account_id, e.period FOR UPDATE OF e) e;

  v_ids := v_ids || p_accounts;
  -- Non-issuance accounts in ascending id order, the issuance account last.
  SELECT coalesce(jsonb_agg(to_jsonb(a) - 'created_at' || jsonb_build_object(
           'debits_pending', a.debits_pending::text, 'debits_posted', a.debits_posted::text,
           'credits_pending', a.credits_pending::text, 'credits_posted', a.credits_posted::text,
           'balance_max', a.balance_max::text, 'version', a.version::text)), '[]'::jsonb)
  INTO v_accounts
  FROM (SELECT * FROM accounts WHERE currency_id = p_currency AND id = ANY(v_ids)
        ORDER BY kind = 'issuance', id FOR UPDATE) a;

  RETURN jsonb_build_object('now', now(), 'keys', v_keys, 'requests', v_requests, 'sessions', v_sessions,
                            'claimed', v_claimed, 'earnings', v_earnings, 'accounts', v_accounts);
END $$;

CREATE FUNCTION wm_batch_write(p_currency integer, p_transfers jsonb, p_entries jsonb, p_accounts jsonb,
                               p_paid jsonb, p_keys jsonb, p_audit jsonb,
                               p_claims jsonb, p_sessions jsonb, p_earnings jsonb)
RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_count integer;
  v_ids   uuid[];
BEGIN
  INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase,
                         memo, metadata, created_by)
  SELECT p_currency, t.id, t.debit_account_id, t.credit_account_id, t.amount, t.code, 'single',
         t.memo, coalesce(t.metadata, '{}'::jsonb), t.created_by
  FROM jsonb_to_recordset(p_transfers)
    AS t(id uuid, debit_account_id uuid, credit_account_id uuid, amount bigint, code text, memo text,
         metadata jsonb, created_by text);

  -- One UPDATE per account for the whole batch; the versions must come out as computed. The
  -- rows are found by their ids (id = ANY), never by joining the whole table to the batch.
  SELECT coalesce(array_agg(d.id), '{}') INTO v_ids FROM jsonb_to_recordset(p_accounts) AS d(id uuid);
  WITH changed AS (
    UPDATE accounts a SET debits_posted = a.debits_posted + d.debits,
                          credits_posted = a.credits_posted + d.credits,
                          version = a.version + d.entries
    FROM jsonb_to_recordset(p_accounts) AS d(id uuid, debits bigint, credits bigint, entries bigint, version_after bigint)
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

  INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body)
  SELECT k.scope, k.key, k.request_hash, k.status, k.body
  FROM jsonb_to_recordset(p_keys) AS k(scope text, key text, request_hash text, status integer, body jsonb);

  INSERT INTO audit_log (currency_id, actor_kind, actor_id, action, object_kind, object_id, ip, request_id, changes)
  SELECT a.currency_id, a.actor_kind, a.actor_id, a.action, a.object_kind, a.object_id, a.ip, a.request_id,
         coalesce(a.changes, '{}'::jsonb)
  FROM jsonb_to_recordset(p_audit)
    AS a(currency_id integer, actor_kind text, actor_id text, action text, object_kind text, object_id text,
         ip text, request_id text, changes jsonb);
END $$;

-- wm_transfers, revised: the accounts are found by index (id = ANY) instead of a scan of the
-- whole table, and the results are collected in an array (appending to a jsonb value copied it
-- on every item: quadratic in the batch size).
CREATE OR REPLACE FUNCTION wm_transfers(p_currency integer, p_items jsonb, p_atomic boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_results  jsonb[] := '{}';
  v_ids      uuid[];
  v_index    integer := 0;
  v_item     jsonb;
  v_error    jsonb;
  v_state    text;
  v_message  text;
  v_detail   text;
  v_constraint text;
BEGIN
  SELECT coalesce(array_agg(DISTINCT x), '{}') INTO v_ids FROM (
    SELECT (i->>'debit_account_id')::uuid AS x FROM jsonb_array_elements(p_items) i
    UNION ALL SELECT (i->>'credit_account_id')::uuid FROM jsonb_array_elements(p_items) i
    UNION ALL SELECT unnest(ARRAY[r.debit_account_id, r.credit_account_id])
      FROM jsonb_array_elements(p_items) i
      JOIN transfers r ON r.currency_id = p_currency
                      AND r.id = coalesce((i->>'pending_id')::uuid, (i->>'reverses_id')::uuid)
  ) s WHERE x IS NOT NULL;

  -- Lock every non-issuance account the batch touches, in ascending id order.
  PERFORM 1 FROM accounts a
  WHERE a.currency_id = p_currency AND a.id = ANY(v_ids) AND a.kind <> 'issuance'
  ORDER BY a.id
  FOR UPDATE;

  IF p_atomic THEN
    BEGIN
      FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_results := v_results || jsonb_build_object('ok', true, 'transfer', wm_apply(p_currency, v_item));
        v_index := v_index + 1;
      END LOOP;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                              v_detail = PG_EXCEPTION_DETAIL, v_constraint = CONSTRAINT_NAME;
      v_error := wm_error_result(v_state, v_message, v_detail, v_constraint);
      IF v_error IS NULL THEN
        RAISE;
      END IF;
      RAISE EXCEPTION USING ERRCODE = 'WM001', MESSAGE = v_error->>'code',
        DETAIL = (v_error->'detail')::text, HINT = v_index::text;
    END;
    RETURN to_jsonb(v_results);
  END IF;

  FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    BEGIN
      v_results := v_results || jsonb_build_object('ok', true, 'transfer', wm_apply(p_currency, v_item));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                              v_detail = PG_EXCEPTION_DETAIL, v_constraint = CONSTRAINT_NAME;
      v_error := wm_error_result(v_state, v_message, v_detail, v_constraint);
      IF v_error IS NULL THEN
        RAISE;
      END IF;
      v_results := v_results || (v_error || jsonb_build_object('ok', false));
    END;
  END LOOP;
  RETURN to_jsonb(v_results);
END $$;
