-- Hardening: request fingerprints on idempotent rows, failed-attempt locking of sessions,
-- per-merchant rate limits, the day money moved (for reconciliation), and an operator report
-- of settlement lines that belong to no merchant.

-- A checkout session now counts failed payments and is `locked` after too many (card testing).
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
PRAGMA defer_foreign_keys = on;
CREATE TABLE checkout_sessions_v2 (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    client_secret_hash TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    capture_method TEXT NOT NULL CHECK (capture_method IN ('automatic', 'manual')),
    line_items TEXT NOT NULL,
    return_url TEXT,
    merchant_reference TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'processing', 'complete', 'locked')),
    payment_id TEXT,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL
);
INSERT INTO checkout_sessions_v2 (id, merchant_id, client_secret_hash, amount, currency,
    capture_method, line_items, return_url, merchant_reference, status, payment_id, created)
SELECT id, merchant_id, client_secret_hash, amount, currency, capture_method, line_items,
    return_url, merchant_reference, status, payment_id, created FROM checkout_sessions;
DROP TABLE checkout_sessions;
ALTER TABLE checkout_sessions_v2 RENAME TO checkout_sessions;
PRAGMA defer_foreign_keys = off;

-- SHA-256 of the request that made the row: a key reused for another request after its
-- idempotency record is gone is still refused (422).
ALTER TABLE payments ADD COLUMN request_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE refunds ADD COLUMN request_fingerprint TEXT NOT NULL DEFAULT '';

-- When the money moved: reconciliation matches settlement files by these days.
ALTER TABLE payments ADD COLUMN captured_at INTEGER;
ALTER TABLE refunds ADD COLUMN settled_at INTEGER;
CREATE INDEX payments_by_capture ON payments (merchant_id, captured_at);
CREATE INDEX refunds_by_settlement ON refunds (merchant_id, settled_at);
-- Refunds whose gateway answer was lost are polled like payments.
ALTER TABLE refunds ADD COLUMN gateway_idempotency_key TEXT;
ALTER TABLE refunds ADD COLUMN poll_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refunds ADD COLUMN next_poll_at INTEGER;
ALTER TABLE refunds ADD COLUMN requires_review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refunds ADD COLUMN last_poll_error TEXT;
CREATE INDEX refunds_to_poll ON refunds (status, requires_review, updated);
-- The last error the poller met for a payment or refund (it moves on to the others).
ALTER TABLE payments ADD COLUMN last_poll_error TEXT;

-- A merchant's own rate limits (JSON, see till_core::rate_limit), over the deployment's.
ALTER TABLE merchants ADD COLUMN rate_limits TEXT;

-- Reconciliation runs that could not finish for one merchant (the others still run).
ALTER TABLE reconciliation_runs ADD COLUMN error TEXT;

-- Settlement lines that match no Till payment or refund of any merchant: for the operator only.
CREATE TABLE settlement_exceptions (
    date TEXT NOT NULL,
    gateway_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    type TEXT NOT NULL,
    gross INTEGER NOT NULL,
    currency TEXT NOT NULL,
    detected INTEGER NOT NULL,
    PRIMARY KEY (date, gateway_id, type)
);
