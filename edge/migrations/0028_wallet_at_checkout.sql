-- A checkout may be paid from the customer's Till wallet: all of it (`method = 'wallet'`, no
-- card), or part of it with a card for the rest (`method = 'card'`, `wallet_amount` > 0).
-- SQLite cannot change a CHECK in place: as in 0027, the rows are set aside, the table made
-- again and the rows put back, with foreign keys to `payments` checked at the end.
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
    method TEXT NOT NULL DEFAULT 'card' CHECK (method IN ('card', 'bank_redirect', 'wallet')),
    bank TEXT,
    bank_name TEXT,
    redirect_url TEXT,
    -- What the customer's wallet paid of the amount (held in `payment_hold:<id>` until the
    -- card's part is known); the rest is the card's.
    wallet_amount INTEGER NOT NULL DEFAULT 0 CHECK (wallet_amount >= 0 AND wallet_amount <= amount),
    CHECK (method <> 'card' OR (token IS NOT NULL AND card_brand IS NOT NULL
        AND card_last4 IS NOT NULL AND card_exp_month IS NOT NULL AND card_exp_year IS NOT NULL)),
    CHECK (method <> 'bank_redirect' OR (bank IS NOT NULL AND bank_name IS NOT NULL AND token IS NULL
        AND card_brand IS NULL)),
    CHECK (method <> 'wallet' OR (wallet_amount = amount AND customer_id IS NOT NULL
        AND token IS NULL AND card_brand IS NULL AND bank IS NULL)),
    CHECK (wallet_amount = 0 OR customer_id IS NOT NULL),
    UNIQUE (merchant_id, idempotency_key)
);

INSERT INTO payments (id, merchant_id, checkout_session_id, idempotency_key, amount,
    currency, capture_method, status, amount_captured, amount_refunded,
    challenge_attempts_remaining, gateway_idempotency_key, token, poll_attempts, next_poll_at,
    requires_review, card_brand, card_last4, card_fingerprint, card_exp_month, card_exp_year,
    gateway_reference, failure_code, failure_message, created, updated, request_fingerprint,
    captured_at, last_poll_error, gateway_account_id, customer_id, purpose, payment_method_id,
    initiator, payee_customer_id, payee_claim, country, risk, screening, review_status,
    conversion, settlement_refunded, fx_margin_refunded, method, bank, bank_name, redirect_url)
SELECT id, merchant_id, checkout_session_id, idempotency_key, amount,
    currency, capture_method, status, amount_captured, amount_refunded,
    challenge_attempts_remaining, gateway_idempotency_key, token, poll_attempts, next_poll_at,
    requires_review, card_brand, card_last4, card_fingerprint, card_exp_month, card_exp_year,
    gateway_reference, failure_code, failure_message, created, updated, request_fingerprint,
    captured_at, last_poll_error, gateway_account_id, customer_id, purpose, payment_method_id,
    initiator, payee_customer_id, payee_claim, country, risk, screening, review_status,
    conversion, settlement_refunded, fx_margin_refunded, method, bank, bank_name, redirect_url
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


-- What a refund gives back to the wallet; the rest goes to the card.
ALTER TABLE refunds ADD COLUMN wallet_amount INTEGER NOT NULL DEFAULT 0 CHECK (wallet_amount >= 0);
