-- A refund taken back gives its amount back to be refunded again (noticed while working on
-- #22): reversing a refund lowers its payment's refunded total in refund_totals, so a later
-- refund or reversal of that payment sees what is really left. The service decides it
-- (src/ledger/batch.ts, `unrefunds`) and passes a negative amount; wm_batch_write, below as in
-- 0008 but for its refund_totals step, lowers the row instead of upserting it.

CREATE OR REPLACE FUNCTION wm_batch_write(p_currency integer, p_transfers jsonb, p_entries jsonb, p_accounts jsonb,
                               p_paid jsonb, p_keys jsonb, p_audit jsonb,
                               p_claims jsonb, p_sessions jsonb, p_earnings jsonb, p_refunds jsonb)
RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_count integer;
  v_ids   uuid[];
BEGIN
  INSERT INTO transfers (currency_id, id, debit_account_id, credit_account_id, amount, code, phase,
                         pending_id, reverses_id, memo, metadata, created_by)
  SELECT p_currency, t.id, t.debit_account_id, t.credit_account_id, t.amount, t.code, t.phase,
         t.pending_id, t.reverses_id, t.memo, coalesce(t.metadata, '{}'::jsonb), t.created_by
  FROM jsonb_to_recordset(p_transfers)
    AS t(id uuid, debit_account_id uuid, credit_account_id uuid, amount bigint, code text, phase text,
         pending_id uuid, reverses_id uuid, memo text, metadata jsonb, created_by text);

  -- One UPDATE per account for the whole batch; the versions must come out as computed. The
  -- rows are found by their ids (id = ANY), never by joining the whole table to the batch.
  SELECT coalesce(array_agg(d.id), '{}') INTO v_ids FROM jsonb_to_recordset(p_accounts) AS d(id uuid);
  WITH changed AS (
    UPDATE accounts a SET debits_posted = a.debits_posted + d.debits,
                          credits_posted = a.credits_posted + d.credits,
                          debits_pending = a.debits_pending + d.debits_pending,
                          credits_pending = a.credits_pending + d.credits_pending,
                          version = a.version + d.entries
    FROM jsonb_to_recordset(p_accounts) AS d(id uuid, debits bigint, credits bigint, debits_pending bigint,
                                             credits_pending bigint, entries bigint, version_after bigint)
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

  -- What refunds and reversals gave back per payment, less the refunds taken back (negative
  -- amounts); refund_totals' CHECKs keep it within 0 and the payment. One row per payment,
  -- summed first (a batch may refund one payment twice). A sum below zero lowers a row that a
  -- refund made: an UPDATE, as an INSERT's proposed row would fail the CHECK before its conflict.
  -- Most batches (payments, rewards) give nothing back and skip both statements.
  IF jsonb_array_length(p_refunds) > 0 THEN
    INSERT INTO refund_totals AS t (currency_id, transfer_id, paid, refunded)
    SELECT p_currency, r.transfer_id, max(r.paid), sum(r.amount)
    FROM jsonb_to_recordset(p_refunds) AS r(transfer_id uuid, paid bigint, amount bigint)
    GROUP BY r.transfer_id HAVING sum(r.amount) >= 0
    ON CONFLICT (currency_id, transfer_id) DO UPDATE SET refunded = t.refunded + EXCLUDED.refunded;
    WITH taken_back AS (
      SELECT r.transfer_id, sum(r.amount) AS amount
      FROM jsonb_to_recordset(p_refunds) AS r(transfer_id uuid, amount bigint)
      GROUP BY r.transfer_id HAVING sum(r.amount) < 0
    ), lowered AS (
      UPDATE refund_totals t SET refunded = t.refunded + b.amount
      FROM taken_back b WHERE t.currency_id = p_currency AND t.transfer_id = b.transfer_id
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM lowered) - (SELECT count(*) FROM taken_back) INTO v_count;
    IF v_count <> 0 THEN
      RAISE EXCEPTION 'batch: a refund taken back from a payment without refunds' USING ERRCODE = 'WM002';
    END IF;
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
