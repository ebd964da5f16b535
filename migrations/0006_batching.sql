-- Request batching: many value-moving requests in one transaction, applied set-wise.
--
-- A batch runs in two statements inside one READ COMMITTED transaction:
--   wm_batch_lock  claims the idempotency keys (try-locks), then reads what they recorded,
--                  locks the payment requests and then the accounts involved (non-issuance in
--                  ascending id order, the issuance account last — the order wm_transfers
--                  takes them in too, so the two paths cannot deadlock each other), and
--                  returns all of it;
--   wm_batch_write writes what the service decided from that state: every transfer, entry,
--                  balance change (one UPDATE per account, whatever the number of items that
--                  touch it), paid request, idempotency record and audit row, set-wise.
-- The rows stay locked between the two, so the decisions hold; the CHECK constraints of the
-- accounts still refuse any negative balance, and wm_batch_write checks that every account's
-- version is the one the service computed.

-- Both functions touch rows by key only, so they are planned without sequential scans: right
-- after a burst of new rows (payment requests, idempotency keys) and before autovacuum has
-- analysed them, the planner believes those tables tiny and would scan them on every batch.
CREATE FUNCTION wm_batch_lock(p_currency integer, p_requests uuid[], p_accounts uuid[], p_scopes text[], p_keys text[])
RETURNS jsonb LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_locked   boolean[];
  v_keys     jsonb;
  v_requests jsonb;
  v_accounts jsonb;
  v_issuance jsonb;
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

  v_ids := v_ids || p_accounts;
  SELECT coalesce(jsonb_agg(to_jsonb(a) - 'created_at' || jsonb_build_object(
           'debits_pending', a.debits_pending::text, 'debits_posted', a.debits_posted::text,
           'credits_pending', a.credits_pending::text, 'credits_posted', a.credits_posted::text,
           'balance_max', a.balance_max::text, 'version', a.version::text)), '[]'::jsonb)
  INTO v_accounts
  FROM (SELECT * FROM accounts WHERE currency_id = p_currency AND id = ANY(v_ids) AND kind <> 'issuance'
        ORDER BY id FOR UPDATE) a;
  SELECT coalesce(jsonb_agg(to_jsonb(a) - 'created_at' || jsonb_build_object(
           'debits_pending', a.debits_pending::text, 'debits_posted', a.debits_posted::text,
           'credits_pending', a.credits_pending::text, 'credits_posted', a.credits_posted::text,
           'balance_max', a.balance_max::text, 'version', a.version::text)), '[]'::jsonb)
  INTO v_issuance
  FROM (SELECT * FROM accounts WHERE currency_id = p_currency AND id = ANY(v_ids) AND kind = 'issuance'
        FOR UPDATE) a;

  RETURN jsonb_build_object('now', now(), 'keys', v_keys, 'requests', v_requests,
                            'accounts', v_accounts || v_issuance);
END $$;

CREATE FUNCTION wm_batch_write(p_currency integer, p_transfers jsonb, p_entries jsonb, p_accounts jsonb,
                               p_paid jsonb, p_keys jsonb, p_audit jsonb)
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
