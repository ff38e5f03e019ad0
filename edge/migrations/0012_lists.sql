-- Merchants list and search their records, newest first (by insertion order: `rowid`, or `seq`
-- where the table has one). Each list starts from the merchant's own rows.
CREATE INDEX payments_by_merchant ON payments (merchant_id);
CREATE INDEX refunds_by_merchant ON refunds (merchant_id);
CREATE INDEX checkout_sessions_by_merchant ON checkout_sessions (merchant_id);
CREATE INDEX transfers_by_merchant ON transfers (merchant_id, seq);
CREATE INDEX payouts_by_merchant ON payouts (merchant_id, seq);
CREATE INDEX events_by_merchant ON events (merchant_id);

-- The payment an event is about (a payment's own events and its refunds'), read from the body
-- it was sent with, for the payment's timeline and `GET /v1/events?payment=`.
ALTER TABLE events ADD COLUMN payment_id TEXT GENERATED ALWAYS AS (
    CASE json_extract(body, '$.data.object.object')
        WHEN 'payment' THEN json_extract(body, '$.data.object.id')
        WHEN 'refund' THEN json_extract(body, '$.data.object.payment')
    END
) VIRTUAL;
CREATE INDEX events_by_payment ON events (merchant_id, payment_id);
