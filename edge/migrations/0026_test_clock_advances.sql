-- When a test clock's latest advance started (wall time). The cron bills a test clock's
-- subscriptions only when an advance was left unfinished (still `advancing` a minute after it
-- started), never while the advance's own request is billing them.
ALTER TABLE test_clocks ADD COLUMN advanced_at INTEGER;
