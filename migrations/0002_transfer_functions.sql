-- Posting transfers in one round trip.
--
-- wm_transfers(currency, items, atomic) applies a list of transfers in the caller's transaction:
-- it locks every non-issuance account involved in ascending id order (no deadlocks between
-- writers), then applies the items in order. The issuance account is never balance-checked,
-- so it is not locked up front; its row is only touched by the UPDATE that moves it.
--
-- Domain failures are raised as SQLSTATE WM001 with MESSAGE = a stable code and DETAIL = a JSON
-- object. In atomic mode the first failure aborts everything and HINT names the item index; in
-- per-item mode each item runs in its own subtransaction and its failure is returned.

CREATE FUNCTION wm_fail(p_code text, p_detail jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'WM001', MESSAGE = p_code, DETAIL = p_detail::text;
END $$;

-- Turns a caught error into {code, detail}; NULL for errors that are not the client's doing
-- (deadlocks, serialization failures, bugs), which the caller must re-raise.
CREATE FUNCTION wm_error_result(p_state text, p_message text, p_detail text, p_constraint text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN CASE
    WHEN p_state = 'WM001' THEN jsonb_build_object('code', p_message, 'detail', p_detail::jsonb)
    WHEN p_state = '23505' THEN jsonb_build_object('code', CASE p_constraint
        WHEN 'transfers_pkey' THEN 'already_exists'
        WHEN 'transfers_reverse_once' THEN 'already_reversed'
        WHEN 'transfers_resolve_once' THEN 'already_resolved'
        ELSE 'conflict' END, 'detail', jsonb_build_object('constraint', p_constraint))
    WHEN p_state = '23514' THEN jsonb_build_object('code', CASE p_constraint
        WHEN 'accounts_not_negative' THEN 'insufficient_funds'
        WHEN 'accounts_balance_max' THEN 'balance_max_exceeded'
        ELSE 'invalid_transfer' END, 'detail', jsonb_build_object('constraint', p_constraint))
    WHEN p_state = '23503' THEN jsonb_build_object('code', 'account_not_found', 'detail', '{}'::jsonb)
    WHEN p_state = '22003' THEN jsonb_build_object('code', 'amount_too_large', 'detail', '{}'::jsonb)
    ELSE NULL
  END;
END $$;

CREATE FUNCTION wm_apply(p_currency integer, t jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_id          uuid := (t->>'id')::uuid;
  v_phase       text := coalesce(t->>'phase', 'single');
  v_code        text := t->>'code';
  v_debit       uuid := (t->>'debit_account_id')::uuid;
  v_credit      uuid := (t->>'credit_account_id')::uuid;
  v_amount      bigint := (t->>'amount')::bigint;
  v_pending_id  uuid := (t->>'pending_id')::uuid;
  v_reverses_id uuid := (t->>'reverses_id')::uuid;
  v_reserved    bigint := 0;
  v_ref         transfers;
  v_row         transfers;
  d             accounts;
  c             accounts;
BEGIN
  IF EXISTS (SELECT 1 FROM transfers WHERE currency_id = p_currency AND id = v_id) THEN
    PERFORM wm_fail('already_exists', jsonb_build_object('transfer_id', v_id));
  END IF;

  IF v_phase IN ('post', 'void') THEN
    SELECT * INTO v_ref FROM transfers WHERE currency_id = p_currency AND id = v_pending_id;
    IF NOT FOUND THEN
      PERFORM wm_fail('transfer_not_found', jsonb_build_object('transfer_id', v_pending_id));
    END IF;
    IF v_ref.phase <> 'pending' THEN
      PERFORM wm_fail('not_pending', jsonb_build_object('transfer_id', v_pending_id));
    END IF;
    IF EXISTS (SELECT 1 FROM transfers WHERE currency_id = p_currency AND pending_id = v_pending_id) THEN
      PERFORM wm_fail('already_resolved', jsonb_build_object('transfer_id', v_pending_id));
    END IF;
    v_debit := v_ref.debit_account_id;
    v_credit := v_ref.credit_account_id;
    v_code := v_ref.code;
    v_reserved := v_ref.amount;
    IF v_phase = 'void' OR v_amount IS NULL THEN
      v_amount := v_ref.amount;
    END IF;
    IF v_amount > v_ref.amount THEN
      PERFORM wm_fail('amount_exceeds_pending',
        jsonb_build_object('transfer_id', v_pending_id, 'pending_amount', v_ref.amount::text));
    END IF;
  ELSIF v_reverses_id IS NOT NULL THEN
    SELECT * INTO v_ref FROM transfers WHERE currency_id = p_currency AND id = v_reverses_id;
    IF NOT FOUND THEN
      PERFORM wm_fail('transfer_not_found', jsonb_build_object('transfer_id', v_reverses_id));
    END IF;
    IF v_ref.phase NOT IN ('single', 'post') THEN
      PERFORM wm_fail('not_reversible', jsonb_build_object('transfer_id', v_reverses_id, 'phase', v_ref.phase));
    END IF;
    IF EXISTS (SELECT 1 FROM transfers WHERE currency_id = p_currency AND reverses_id = v_reverses_id) THEN
      PERFORM wm_fail('already_reversed', jsonb_build_object('transfer_id', v_reverses_id));
    END IF;
    v_debit := v_ref.credit_account_id;
    v_credit := v_ref.debit_account_id;
    v_amount := v_ref.amount;
    v_code := 'reversal';
    v_phase := 'single';
  END IF;

  IF v_debit = v_credit THEN
    PERFORM wm_fail('same_account', jsonb_build_object('account_id', v_debit));
  END IF;

  -- Non-issuance rows are locked by wm_transfers; in READ COMMITTED each statement sees the
  -- latest committed row, so these checks run against current balances.
  SELECT * INTO d FROM accounts WHERE currency_id = p_currency AND id = v_debit;
  IF NOT FOUND THEN
    PERFORM wm_fail('account_not_found', jsonb_build_object('account_id', v_debit));
  END IF;
  SELECT * INTO c FROM accounts WHERE currency_id = p_currency AND id = v_credit;
  IF NOT FOUND THEN
    PERFORM wm_fail('account_not_found', jsonb_build_object('account_id', v_credit));
  END IF;

  -- New movements need open accounts. Resolving an earlier reservation does not; a reversal
  -- (a coordinator's correction) may touch a frozen account but never a closed one.
  IF v_phase IN ('single', 'pending') THEN
    IF d.status = 'closed' OR (d.status = 'frozen' AND v_reverses_id IS NULL) THEN
      PERFORM wm_fail('account_' || d.status, jsonb_build_object('account_id', d.id));
    END IF;
    IF c.status = 'closed' OR (c.status = 'frozen' AND v_reverses_id IS NULL) THEN
      PERFORM wm_fail('account_' || c.status, jsonb_build_object('account_id', c.id));
    END IF;
    IF d.kind <> 'issuance' AND d.credits_posted - d.debits_posted - d.debits_pending < v_amount THEN
      PERFORM wm_fail('insufficient_funds', jsonb_build_object('account_id', d.id, 'account_name', d.name,
        'available', (d.credits_posted - d.debits_posted - d.debits_pending)::text));
    END IF;
    IF c.balance_max IS NOT NULL
       AND c.credits_posted + c.credits_pending - c.debits_posted + v_amount > c.balance_max THEN
      PERFORM wm_fail('balance_max_exceeded', jsonb_build_object('account_id', c.id, 'account_name', c.name,
        'room', greatest(c.balance_max - (c.credits_posted + c.credits_pending - c.debits_posted), 0)::text));
    END IF;
  END IF;

  INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase,
                         pending_id, reverses_id, memo, metadata, created_by)
  VALUES (p_currency, v_id, v_debit, v_credit, v_amount, v_code, v_phase,
          v_pending_id, v_reverses_id, t->>'memo', coalesce(t->'metadata', '{}'::jsonb), t->>'created_by')
  RETURNING * INTO v_row;

  UPDATE accounts SET
    debits_pending = debits_pending + CASE v_phase WHEN 'pending' THEN v_amount
                                                   WHEN 'single' THEN 0 ELSE -v_reserved END,
    debits_posted = debits_posted + CASE WHEN v_phase IN ('single', 'post') THEN v_amount ELSE 0 END,
    version = version + CASE WHEN v_phase IN ('single', 'post') THEN 1 ELSE 0 END
  WHERE currency_id = p_currency AND id = v_debit
  RETURNING * INTO d;
  UPDATE accounts SET
    credits_pending = credits_pending + CASE v_phase WHEN 'pending' THEN v_amount
                                                     WHEN 'single' THEN 0 ELSE -v_reserved END,
    credits_posted = credits_posted + CASE WHEN v_phase IN ('single', 'post') THEN v_amount ELSE 0 END,
    version = version + CASE WHEN v_phase IN ('single', 'post') THEN 1 ELSE 0 END
  WHERE currency_id = p_currency AND id = v_credit
  RETURNING * INTO c;

  IF v_phase IN ('single', 'post') THEN
    INSERT INTO entries (currency_id, account_id, version, transfer_id, amount, balance_after, created_at)
    VALUES (p_currency, v_debit, d.version, v_id, -v_amount, d.credits_posted - d.debits_posted, v_row.created_at),
           (p_currency, v_credit, c.version, v_id, v_amount, c.credits_posted - c.debits_posted, v_row.created_at);
  END IF;

  -- Amounts leave as strings: a JSON number would lose precision above 2^53 in clients.
  RETURN to_jsonb(v_row) || jsonb_build_object('amount', v_row.amount::text);
END $$;

CREATE FUNCTION wm_transfers(p_currency integer, p_items jsonb, p_atomic boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_results  jsonb := '[]'::jsonb;
  v_index    integer := 0;
  v_item     jsonb;
  v_error    jsonb;
  v_state    text;
  v_message  text;
  v_detail   text;
  v_constraint text;
BEGIN
  -- Lock every non-issuance account the batch touches, in ascending id order.
  PERFORM 1 FROM accounts a
  WHERE a.currency_id = p_currency AND a.kind <> 'issuance' AND a.id IN (
    SELECT (i->>'debit_account_id')::uuid FROM jsonb_array_elements(p_items) i
    UNION SELECT (i->>'credit_account_id')::uuid FROM jsonb_array_elements(p_items) i
    UNION SELECT unnest(ARRAY[r.debit_account_id, r.credit_account_id])
      FROM jsonb_array_elements(p_items) i
      JOIN transfers r ON r.currency_id = p_currency
                      AND r.id = coalesce((i->>'pending_id')::uuid, (i->>'reverses_id')::uuid))
  ORDER BY a.id
  FOR UPDATE;

  IF p_atomic THEN
    BEGIN
      FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        v_results := v_results || jsonb_build_array(
          jsonb_build_object('ok', true, 'transfer', wm_apply(p_currency, v_item)));
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
    RETURN v_results;
  END IF;

  FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    BEGIN
      v_results := v_results || jsonb_build_array(
        jsonb_build_object('ok', true, 'transfer', wm_apply(p_currency, v_item)));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                              v_detail = PG_EXCEPTION_DETAIL, v_constraint = CONSTRAINT_NAME;
      v_error := wm_error_result(v_state, v_message, v_detail, v_constraint);
      IF v_error IS NULL THEN
        RAISE;
      END IF;
      v_results := v_results || jsonb_build_array(v_error || jsonb_build_object('ok', false));
    END;
  END LOOP;
  RETURN v_results;
END $$;
