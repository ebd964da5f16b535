-- A refund taken back gives its amount back to be refunded again (noticed while working on
-- #22): reversing a refund lowers its payment's refunded total in refund_totals, so a later
-- refund or reversal of that payment sees what is really left. wm_batch_lock, below as in 0008
-- but for the transfers it reads, reads the payment of every refund named with it; the service
-- decides (src/ledger/batch.ts, `recordLinks`) and passes a negative amount; wm_batch_write, as
-- in 0008 but for its refund_totals step, lowers the row instead of upserting it.

CREATE OR REPLACE FUNCTION wm_batch_lock(p_currency integer, p_requests uuid[], p_accounts uuid[], p_scopes text[], p_keys text[],
                              p_sessions uuid[], p_claim_sessions uuid[], p_claim_accounts uuid[],
                              p_earning_accounts uuid[], p_earning_periods text[],
                              p_transfers uuid[], p_new_ids uuid[])
RETURNS json LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  v_locked    boolean[];
  v_keys      json;
  v_requests  json;
  v_sessions  json;
  v_claimed   json;
  v_earnings  json;
  v_accounts  json;
  v_transfers json;
  v_taken     json;
  v_ids       uuid[];
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
           'id', s.id, 'claims_count', s.claims_count, 'max_claims', s.max_claims, 'expires_at', s.expires_at,
           'closed_at', s.closed_at, 'activity_active', a.active)), '[]'::json)
  INTO v_sessions
  FROM (SELECT * FROM activity_sessions WHERE currency_id = p_currency AND id = ANY(p_sessions)
        ORDER BY id FOR UPDATE) s
  JOIN activities a ON a.currency_id = p_currency AND a.id = s.activity_id;

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

  v_ids := v_ids || p_accounts || coalesce((
    SELECT array_agg(x) FROM transfers t, unnest(ARRAY[t.debit_account_id, t.credit_account_id]) x
    WHERE t.currency_id = p_currency AND t.id = ANY(p_transfers)), '{}');
  -- Non-issuance accounts in ascending id order, the issuance account last. Each account as an
  -- array: id, kind, name, status, debits_pending, debits_posted, credits_pending,
  -- credits_posted, balance_max, version (the amounts as text; arrays cost a fifth of objects).
  SELECT coalesce(json_agg(json_build_array(a.id, a.kind, a.name, a.status, a.debits_pending::text,
           a.debits_posted::text, a.credits_pending::text, a.credits_posted::text, a.balance_max::text,
           a.version::text)), '[]'::json)
  INTO v_accounts
  FROM (SELECT * FROM accounts WHERE currency_id = p_currency AND id = ANY(v_ids)
        ORDER BY kind = 'issuance', id FOR UPDATE) a;

  -- A refund named (to be reversed) brings its payment along: taking a refund back lowers what
  -- the payment gave back. Both move the same two accounts, locked above.
  v_ids := p_transfers;
  IF cardinality(p_transfers) > 0 THEN
    SELECT p_transfers || coalesce(array_agg((r.metadata->>'refund_of')::uuid), '{}') INTO v_ids
    FROM transfers r
    WHERE r.currency_id = p_currency AND r.id = ANY(p_transfers) AND r.code = 'refund' AND r.metadata ? 'refund_of';
  END IF;

  -- Every transfer that resolves, reverses or refunds one of them moves these accounts, whose
  -- locks this transaction now holds: what is read below cannot change before it commits.
  SELECT coalesce(json_agg(json_build_object(
           'id', t.id, 'debit_account_id', t.debit_account_id, 'credit_account_id', t.credit_account_id,
           'amount', t.amount::text, 'code', t.code, 'phase', t.phase, 'metadata', t.metadata,
           'resolved_phase', r.phase, 'reversed', v.id IS NOT NULL, 'refunded', coalesce(f.refunded, 0)::text)), '[]'::json)
  INTO v_transfers
  FROM transfers t
  LEFT JOIN LATERAL (SELECT phase FROM transfers WHERE currency_id = p_currency AND pending_id = t.id LIMIT 1) r ON true
  LEFT JOIN LATERAL (SELECT id FROM transfers WHERE currency_id = p_currency AND reverses_id = t.id LIMIT 1) v ON true
  LEFT JOIN refund_totals f ON f.currency_id = p_currency AND f.transfer_id = t.id
  WHERE t.currency_id = p_currency AND t.id = ANY(v_ids);

  -- Paths name a transfer by its id alone, so a client's id must be new in every currency.
  SELECT coalesce(json_agg(t.id), '[]'::json) INTO v_taken FROM transfers t WHERE t.id = ANY(p_new_ids);

  RETURN json_build_object('now', now(), 'keys', v_keys, 'requests', v_requests, 'sessions', v_sessions,
                           'claimed', v_claimed, 'earnings', v_earnings, 'accounts', v_accounts,
                           'transfers', v_transfers, 'taken', v_taken);
END $$;

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
