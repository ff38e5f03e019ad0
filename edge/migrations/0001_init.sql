-- Till's records. Amounts are integers in minor units; times are Unix seconds.

CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created INTEGER NOT NULL
);

-- Origins allowed to frame the widget and call publishable-key endpoints from a browser.
CREATE TABLE merchant_origins (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    origin TEXT NOT NULL,
    PRIMARY KEY (merchant_id, origin)
);
CREATE INDEX merchant_origins_by_origin ON merchant_origins (origin);

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
    capture_method TEXT NOT NULL CHECK (capture_method IN ('automatic', 'manual')),
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
    capture_method TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_captured INTEGER NOT NULL DEFAULT 0,
    -- Refunds reserve their amount here before the gateway is asked, so two refunds can never
    -- together exceed the capture.
    amount_refunded INTEGER NOT NULL DEFAULT 0 CHECK (amount_refunded <= amount_captured),
    challenge_attempts_remaining INTEGER,
    -- The key the gateway knows this authorization by: recovery asks for its status.
    gateway_idempotency_key TEXT NOT NULL,
    -- The vault token paid with: its records are deleted once the gateway has answered.
    token TEXT NOT NULL,
    -- Polling of payments left `processing`: attempts so far, when next, and whether a human
    -- must look (the gateway never confirmed either way).
    poll_attempts INTEGER NOT NULL DEFAULT 0,
    next_poll_at INTEGER,
    requires_review INTEGER NOT NULL DEFAULT 0,
    card_brand TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    card_fingerprint TEXT,
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
CREATE INDEX payments_to_poll ON payments (status, requires_review, updated);

-- Gateway webhook events already applied (deduplication by event id).
CREATE TABLE gateway_events (
    id TEXT PRIMARY KEY,
    received INTEGER NOT NULL
);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    idempotency_key TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason TEXT,
    gateway_reference TEXT,
    failure_code TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX refunds_by_payment ON refunds (payment_id);

-- Nonces of encrypted cards already turned into tokens: a replayed ciphertext is refused.
-- Rows older than the payload lifetime (15 minutes) are pruned as new ones arrive.
CREATE TABLE card_nonces (
    nonce TEXT PRIMARY KEY,
    seen INTEGER NOT NULL
);
CREATE INDEX card_nonces_by_age ON card_nonces (seen);

-- Merchant webhooks: endpoints (signing secret sealed with the vault key), events, deliveries.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_merchant ON webhook_endpoints (merchant_id);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    created INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_id TEXT NOT NULL REFERENCES events(id),
    event_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created);

-- Reconciliation runs: one merchant's records of a day against the gateway's settlement file.
CREATE TABLE reconciliation_runs (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    date TEXT NOT NULL,
    lines INTEGER NOT NULL,
    records INTEGER NOT NULL,
    findings TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX reconciliation_runs_by_merchant ON reconciliation_runs (merchant_id, created);
