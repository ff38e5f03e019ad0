-- Payments by bank redirect (internet banking) carry no card. Each payment now says what paid
-- it (`method`); the card columns and the vault token are filled for card payments only, and a
-- bank payment keeps its bank (id and name, as the bank listed it when the customer chose) and
-- where the bank waits for the customer (`redirect_url`).
-- SQLite cannot drop NOT NULL in place: the rows are set aside, the table is made again under
-- the same name and the rows put back. Foreign keys that point at `payments` (refunds,
-- disputes, refund requests) are checked at the end of the migration (D1: defer_foreign_keys):
-- each row put back satisfies again the references its drop left open.
PRAGMA defer_foreign_keys = true;

CREATE TABLE payments_set_aside AS SELECT * FROM payments;
DROP TABLE payments;

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    checkout_session_id TEXT NOT NULL REFERENCES checkout_sessions(id),
    idempotency_key TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    capture_method TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_captured INTEGER NOT NULL DEFAULT 0,
    -- Refunds reserve their amount here before the gateway is asked, so two refunds can never
    -- together exceed the capture.
    amount_refunded INTEGER NOT NULL DEFAULT 0 CHECK (amount_refunded <= amount_captured),
    challenge_attempts_remaining INTEGER,
    -- The key the gateway (or the bank) knows this payment by: recovery asks for its status.
    gateway_idempotency_key TEXT NOT NULL,
    -- The vault token paid with (card payments): its records are deleted once the gateway has
    -- answered.
    token TEXT,
    -- Polling of payments left `processing`: attempts so far, when next, and whether a human
    -- must look (the gateway never confirmed either way).
    poll_attempts INTEGER NOT NULL DEFAULT 0,
    next_poll_at INTEGER,
    requires_review INTEGER NOT NULL DEFAULT 0,
    card_brand TEXT,
    card_last4 TEXT,
    card_fingerprint TEXT,
    card_exp_month INTEGER,
    card_exp_year INTEGER,
    gateway_reference TEXT,
    failure_code TEXT,
    failure_message TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    request_fingerprint TEXT NOT NULL DEFAULT '',
    captured_at INTEGER,
    last_poll_error TEXT,
    gateway_account_id TEXT,
    customer_id TEXT,
    purpose TEXT NOT NULL DEFAULT 'payment',
    payment_method_id TEXT,
    initiator TEXT NOT NULL DEFAULT 'customer',
    payee_customer_id TEXT,
    payee_claim TEXT,
    country TEXT,
    risk TEXT,
    screening TEXT,
    review_status TEXT,
    conversion TEXT,
    settlement_refunded INTEGER NOT NULL DEFAULT 0,
    fx_margin_refunded INTEGER NOT NULL DEFAULT 0,
    method TEXT NOT NULL DEFAULT 'card' CHECK (method IN ('card', 'bank_redirect')),
    bank TEXT,
    bank_name TEXT,
    redirect_url TEXT,
    CHECK (method <> 'card' OR (token IS NOT NULL AND card_brand IS NOT NULL
        AND card_last4 IS NOT NULL AND card_exp_month IS NOT NULL AND card_exp_year IS NOT NULL)),
    CHECK (method <> 'bank_redirect' OR (bank IS NOT NULL AND bank_name IS NOT NULL AND token IS NULL
        AND card_brand IS NULL)),
    UNIQUE (merchant_id, idempotency_key)
);

INSERT INTO payments (id, merchant_id, checkout_session_id, idempotency_key, amount,
    currency, capture_method, status, amount_captured, amount_refunded,
    challenge_attempts_remaining, gateway_idempotency_key, token, poll_attempts, next_poll_at,
    requires_review, card_brand, card_last4, card_fingerprint, card_exp_month, card_exp_year,
    gateway_reference, failure_code, failure_message, created, updated, request_fingerprint,
    captured_at, last_poll_error, gateway_account_id, customer_id, purpose, payment_method_id,
    initiator, payee_customer_id, payee_claim, country, risk, screening, review_status,
    conversion, settlement_refunded, fx_margin_refunded)
SELECT id, merchant_id, checkout_session_id, idempotency_key, amount,
    currency, capture_method, status, amount_captured, amount_refunded,
    challenge_attempts_remaining, gateway_idempotency_key, token, poll_attempts, next_poll_at,
    requires_review, card_brand, card_last4, card_fingerprint, card_exp_month, card_exp_year,
    gateway_reference, failure_code, failure_message, created, updated, request_fingerprint,
    captured_at, last_poll_error, gateway_account_id, customer_id, purpose, payment_method_id,
    initiator, payee_customer_id, payee_claim, country, risk, screening, review_status,
    conversion, settlement_refunded, fx_margin_refunded
FROM payments_set_aside;

DROP TABLE payments_set_aside;

CREATE INDEX payments_by_session ON payments (checkout_session_id);
CREATE INDEX payments_to_poll ON payments (status, requires_review, updated);
CREATE INDEX payments_by_capture ON payments (merchant_id, captured_at);
CREATE INDEX payments_by_merchant ON payments (merchant_id);
CREATE INDEX payments_by_customer ON payments (merchant_id, customer_id);
CREATE INDEX payments_by_review ON payments (merchant_id, review_status)
    WHERE review_status IS NOT NULL;
CREATE INDEX payments_by_created ON payments (merchant_id, created);
CREATE INDEX payments_by_gateway_reference ON payments (gateway_reference)
    WHERE gateway_reference IS NOT NULL;

-- The ways a session may be paid, comma-separated in the order offered (`card,bank_redirect`).
ALTER TABLE checkout_sessions ADD COLUMN payment_method_types TEXT NOT NULL DEFAULT 'card';
