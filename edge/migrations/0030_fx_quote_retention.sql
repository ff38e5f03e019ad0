-- FX quotes are kept 30 days after they expired (till_core::retention): a payment keeps what
-- its quote locked (its `conversion`), so an old quote is only ever looked at again by id.
-- The every-minute cron deletes them by expiry.
CREATE INDEX fx_quotes_by_expiry ON fx_quotes (expires_at);
