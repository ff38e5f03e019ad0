-- Till's records. Amounts are integers in minor units; times are Unix seconds.

CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created INTEGER NOT NULL
);

-- API keys are stored only as SHA-256 hashes.
CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    kind TEXT NOT NULL CHECK (kind IN ('secret', 'publishable')),
    created INTEGER NOT NULL
);

CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    client_secret_hash TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    line_items TEXT NOT NULL,
    return_url TEXT,
    merchant_reference TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'processing', 'complete')),
    payment_id TEXT,
    created INTEGER NOT NULL
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    checkout_session_id TEXT NOT NULL REFERENCES checkout_sessions(id),
    idempotency_key TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    card_brand TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    card_exp_month INTEGER NOT NULL,
    card_exp_year INTEGER NOT NULL,
    gateway_reference TEXT,
    failure_code TEXT,
    failure_message TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX payments_by_session ON payments (checkout_session_id);

-- Idempotency records: the row's insertion decides "first or duplicate".
CREATE TABLE idempotency_records (
    merchant_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status INTEGER,
    response_body TEXT,
    created INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, endpoint, idempotency_key)
);
