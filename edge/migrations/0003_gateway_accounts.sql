-- Gateway accounts: a merchant's own account at a gateway (which connector, and its
-- credentials sealed with the vault key, bound to the account id). Merchants without one use
-- the platform's account (GATEWAY_* settings).
CREATE TABLE gateway_accounts (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL UNIQUE REFERENCES merchants(id),
    connector TEXT NOT NULL,
    sealed_credentials TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

-- The account a payment was made through: its capture, refunds and recovery go to the same
-- gateway (NULL: the platform's account).
ALTER TABLE payments ADD COLUMN gateway_account_id TEXT;
