-- Why a coordinator froze (or closed) an account, as they typed it: shown with the account, and
-- recorded in the audit log with the change. Cleared when the account is active again.
ALTER TABLE accounts ADD COLUMN status_reason text
  CONSTRAINT accounts_status_reason_check CHECK (length(status_reason) BETWEEN 1 AND 500);
