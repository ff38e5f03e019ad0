-- Withdrawals from a customer's wallet to a bank account. The money is reserved (wallet ->
-- payout clearing) in the batch that writes the payout; each step the bank reports moves the
-- status and writes its ledger transaction in one batch.
CREATE TABLE payouts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'returned')),
    holder_name TEXT NOT NULL,
    routing_number TEXT NOT NULL,
    account_last4 TEXT NOT NULL,
    -- The full account, sealed with the vault key (AES-256-GCM, the payout id as associated
    -- data): what the bank is sent, never shown again.
    sealed_account TEXT NOT NULL,
    -- The bank's id once it has taken the payout.
    bank_transfer_id TEXT,
    failure_code TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    -- Payouts the bank has not finished are asked about by the poller, as payments are.
    poll_attempts INTEGER NOT NULL DEFAULT 0,
    next_poll_at INTEGER,
    last_poll_error TEXT,
    requires_review INTEGER NOT NULL DEFAULT 0,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX payouts_of_customer ON payouts (merchant_id, customer_id, seq);
CREATE INDEX payouts_to_poll ON payouts (status, requires_review, updated);
