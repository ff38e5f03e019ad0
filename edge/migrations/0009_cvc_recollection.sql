-- Sessions whose saved cards pay only with their security code typed again (`require_cvc`).
ALTER TABLE checkout_sessions ADD COLUMN require_cvc INTEGER NOT NULL DEFAULT 0;
