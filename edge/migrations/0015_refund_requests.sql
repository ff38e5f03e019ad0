-- Customers ask for refunds and returns from the hosted page; the merchant approves (which
-- issues the refund, `refund_id`) or declines. One open request per payment.
CREATE TABLE refund_requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    kind TEXT NOT NULL CHECK (kind IN ('refund', 'return')),
    reason TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'approved', 'declined')),
    refund_id TEXT,
    decline_reason TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE UNIQUE INDEX refund_requests_one_open ON refund_requests (payment_id) WHERE status = 'open';
CREATE INDEX refund_requests_by_merchant ON refund_requests (merchant_id, status, seq);
CREATE INDEX refund_requests_by_customer ON refund_requests (merchant_id, customer_id, seq);
-- A customer's orders (the hosted page's history).
CREATE INDEX payments_by_customer ON payments (merchant_id, customer_id);
