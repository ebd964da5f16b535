-- What can I do this week? (#20, point 5). A claim session may say when and where it takes
-- place, and whether it is on the currency's public agenda (GET /currencies/{code}/agenda, no
-- login), which lists the upcoming public sessions with their activity, place, times and reward,
-- never their claim token. Sessions made before, or without these, are not on the agenda.
ALTER TABLE activity_sessions
  ADD COLUMN starts_at timestamptz,
  ADD COLUMN ends_at   timestamptz,
  ADD COLUMN place     text CONSTRAINT activity_sessions_place_check CHECK (length(place) BETWEEN 1 AND 200),
  ADD COLUMN public    boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT activity_sessions_times_check CHECK (ends_at IS NULL OR (starts_at IS NOT NULL AND ends_at > starts_at)),
  ADD CONSTRAINT activity_sessions_public_check CHECK (NOT public OR starts_at IS NOT NULL);

-- The agenda reads a currency's public sessions by their start.
CREATE INDEX activity_sessions_agenda ON activity_sessions (currency_id, starts_at) WHERE public;

-- Earning room (#20, point 6): the earnings counters of the legal caps are now kept for every
-- reward, also while a currency sets no cap, so that a cap an admin sets or changes later
-- counts what was earned before it in its day and year. The counters of rewards made before
-- are rebuilt from the claims (each claim names its reward); a counter that only started when a
-- cap was set is raised to the whole of its period.
INSERT INTO volunteer_earnings (currency_id, account_id, period, amount)
SELECT c.currency_id, c.account_id, p.period, sum(t.amount)
FROM claims c
JOIN transfers t ON t.currency_id = c.currency_id AND t.id = c.transfer_id
CROSS JOIN LATERAL (VALUES ('d' || to_char(t.created_at AT TIME ZONE 'Europe/Brussels', 'YYYY-MM-DD')),
                           ('y' || to_char(t.created_at AT TIME ZONE 'Europe/Brussels', 'YYYY'))) AS p(period)
GROUP BY c.currency_id, c.account_id, p.period
ON CONFLICT (currency_id, account_id, period) DO UPDATE SET amount = greatest(volunteer_earnings.amount, excluded.amount);
