-- Access that holds against a patient guesser and never locks the owner out for good.
--
-- A card's PIN lockout escalates and is remembered: lock_count counts the locks since the
-- last coordinator unlock or PIN change. Each lock lasts longer (PIN_LOCK_S × 4^(n−1)), and
-- after PIN_TIMED_LOCKS_MAX timed locks the next one holds (locked_until NULL with
-- pin_failures at the maximum) until a coordinator unlocks the card or sets a new PIN.
-- A lock no longer ends the wallet's sessions: only a block or a replacement does.
ALTER TABLE cards ADD COLUMN lock_count integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT cards_lock_count_check CHECK (lock_count >= 0);

-- When a staff member's password last changed (by themselves or an admin), for the audit and
-- the console.
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
