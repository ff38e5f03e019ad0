-- Disputes (chargebacks), one per disputed payment as card networks allow, recorded from the
-- gateway's events. `gateway_reference` is the gateway's id of the dispute, unique per gateway
-- account, so a dispute is recorded once however often and in whatever order its events come.
-- `evidence` is what the merchant submitted (text and file summaries, as the API shows it); the
-- files themselves are sealed in the vault.
CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),
    gateway_account_id TEXT,
    gateway_reference TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    fee INTEGER NOT NULL CHECK (fee >= 0),
    reason TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('needs_response', 'under_review', 'won', 'lost')),
    evidence_due_by INTEGER NOT NULL,
    evidence TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE UNIQUE INDEX disputes_by_gateway_reference
    ON disputes (COALESCE(gateway_account_id, ''), gateway_reference);
CREATE INDEX disputes_by_merchant ON disputes (merchant_id, created, id);

-- Stripe's dispute events name the payment intent, not Till's payment: found by its reference.
CREATE INDEX payments_by_gateway_reference ON payments (gateway_reference)
    WHERE gateway_reference IS NOT NULL;

-- From here on `ledger_accounts.may_go_negative` is set by every write to the account: whether
-- that write may leave the balance below zero (the outside world's account, any credit, and a
-- dispute's withdrawal from a merchant, which the card network has already made). The
-- `balance_not_negative` CHECK then refuses exactly the debits that may not overdraw.
