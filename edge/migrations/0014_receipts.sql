-- Receipt e-mails. A checkout session may name where its receipt goes and in which language
-- (else its customer's email and locale).
ALTER TABLE checkout_sessions ADD COLUMN receipt_email TEXT;
ALTER TABLE checkout_sessions ADD COLUMN locale TEXT;

-- One row per event that calls for a receipt (`payment.succeeded`, `refund.succeeded`),
-- written by the sender before anything is sent, so an event handled twice sends one receipt;
-- the mail provider is given the receipt id as its idempotency key. `skipped`: no address to
-- send to. The cron starts again the sender of any such event without a row, or with a row
-- left `pending`, after ten minutes.
CREATE TABLE receipts (
    id TEXT NOT NULL PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    event_id TEXT NOT NULL UNIQUE,
    payment_id TEXT,
    recipient TEXT,
    locale TEXT,
    subject TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    provider_id TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX events_by_type ON events (type, created);
CREATE INDEX receipts_by_payment ON receipts (merchant_id, payment_id);
