-- Customer sessions for the hosted wallet page: `wallet = 1` lets the session's holder read the
-- customer's wallet and move its money (top up, send, withdraw); `return_url` is where the
-- page's Done goes.
ALTER TABLE customer_sessions ADD COLUMN wallet INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_sessions ADD COLUMN return_url TEXT;
