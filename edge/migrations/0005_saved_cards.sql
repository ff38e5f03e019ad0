-- Saved cards (payment methods), customer sessions, and payments made with a saved card or
-- without the customer (off-session).

-- A card a customer agreed to keep. The card itself is sealed in the vault (`pm:<id>`, never
-- with its CVC); this row is what may be shown. It is offered only once the payment that
-- saved it was authorized; one active row per customer and card.
CREATE TABLE payment_methods (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    payment_id TEXT NOT NULL,
    card_brand TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    card_exp_month INTEGER NOT NULL,
    card_exp_year INTEGER NOT NULL,
    card_fingerprint TEXT NOT NULL,
    -- The gateway account the card was first paid through and that gateway's reusable id for
    -- it (Stripe's PaymentMethod), when it has one: charged through that account, the gateway
    -- is sent the id, not the card.
    gateway_account_id TEXT,
    gateway_card_reference TEXT,
    created INTEGER NOT NULL,
    detached_at INTEGER
);
CREATE UNIQUE INDEX payment_methods_one_per_card
    ON payment_methods (customer_id, card_fingerprint) WHERE detached_at IS NULL;
CREATE INDEX payment_methods_by_customer ON payment_methods (customer_id, seq);

-- Short-lived secrets that let the widget list one customer's saved cards.
CREATE TABLE customer_sessions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    client_secret_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created INTEGER NOT NULL
);

-- The saved card a payment was made with, and who started it: `customer` at the checkout, or
-- `merchant` without them (off-session).
ALTER TABLE payments ADD COLUMN payment_method_id TEXT;
ALTER TABLE payments ADD COLUMN initiator TEXT NOT NULL DEFAULT 'customer';
