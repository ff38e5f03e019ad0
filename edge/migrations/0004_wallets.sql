-- Customers, their wallets and transfers, and the double-entry ledger all money is written to.

-- A merchant's customers. Email and phone are stored normalized (lowercase email, E.164 phone)
-- with their SHA-256, by which contact lookups and transfers find a customer; each is unique
-- within a merchant so "send to this phone" has one receiver.
CREATE TABLE customers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    email TEXT,
    email_hash TEXT,
    phone TEXT,
    phone_hash TEXT,
    name TEXT,
    locale TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    -- Bumped by every update: an update applies only to the version it read.
    version INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (merchant_id, email_hash),
    UNIQUE (merchant_id, phone_hash)
);
CREATE INDEX customers_by_merchant ON customers (merchant_id, seq);

-- A merchant's transfer limits (JSON, see `till_core::transfer::TransferLimits`); NULL: the
-- deployment's TRANSFER_LIMITS.
ALTER TABLE merchants ADD COLUMN transfer_limits TEXT;

-- One row per ledger account: its balance is the sum of its entries, kept in the same batch
-- as every entry. The CHECK is where "never below zero" is decided: a batch that would take an
-- account below zero fails as a whole, so concurrent transfers cannot overdraw a wallet.
CREATE TABLE ledger_accounts (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance INTEGER NOT NULL,
    may_go_negative INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, account),
    CONSTRAINT balance_not_negative CHECK (balance >= 0 OR may_go_negative = 1)
);

-- One row per operation: `source` is what caused it (a payment, refund, transfer...), unique
-- per kind, so an operation written twice (a retry, a webhook and the poller) is written once.
CREATE TABLE ledger_transactions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (merchant_id, kind, source)
);

CREATE TABLE ledger_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions(id),
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount <> 0),
    -- The account's balance right after this entry.
    balance_after INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (merchant_id, account, seq);
CREATE INDEX ledger_entries_by_merchant ON ledger_entries (merchant_id, seq);

-- Entries are facts: a correction is a new transaction, never an edit.
CREATE TRIGGER ledger_entries_are_immutable BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are immutable');
END;
CREATE TRIGGER ledger_entries_are_permanent BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are permanent');
END;

-- Transfers between customers' wallets (or to a claim for someone not yet a customer).
CREATE TABLE transfers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    sender_id TEXT NOT NULL REFERENCES customers(id),
    -- The receiving customer; NULL while the money waits in a claim for `recipient_hash`.
    receiver_id TEXT REFERENCES customers(id),
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('customer', 'phone', 'email')),
    recipient_hash TEXT,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    source TEXT NOT NULL,
    note TEXT,
    status TEXT NOT NULL,
    claim_expires_at INTEGER,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX transfers_by_claim ON transfers (merchant_id, recipient_hash, status);
CREATE INDEX transfers_expiring ON transfers (status, claim_expires_at);

-- What each customer sent per currency and UTC day, and the daily limit in force at the last
-- transfer: the cap is checked in the transfer's own batch, so concurrent transfers cannot
-- pass it together.
CREATE TABLE transfer_usage (
    merchant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    day TEXT NOT NULL,
    sent INTEGER NOT NULL,
    cap INTEGER NOT NULL,
    PRIMARY KEY (customer_id, currency, day),
    CONSTRAINT daily_limit CHECK (sent <= cap)
);

-- Checkout sessions and their payments may pay into a customer's wallet: `purpose` says where
-- the money goes when the payment succeeds (`payment`: the merchant; `wallet_top_up`: the
-- customer's wallet).
ALTER TABLE checkout_sessions ADD COLUMN customer_id TEXT;
ALTER TABLE checkout_sessions ADD COLUMN purpose TEXT NOT NULL DEFAULT 'payment';
ALTER TABLE payments ADD COLUMN customer_id TEXT;
ALTER TABLE payments ADD COLUMN purpose TEXT NOT NULL DEFAULT 'payment';
