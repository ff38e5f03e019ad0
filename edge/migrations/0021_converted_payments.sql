-- Checkouts in the customer's currency settled in the merchant's. The session and its payment
-- keep what the FX quote locked (`till_core::fx::Converted` as JSON: quote, settlement amount
-- and currency, rate, markup, margin, expiry); the payment counts what its refunds took in
-- the settlement currency and of the margin, and each refund keeps its own shares, so a
-- failed refund gives back exactly what it took.
ALTER TABLE checkout_sessions ADD COLUMN conversion TEXT;
ALTER TABLE payments ADD COLUMN conversion TEXT;
ALTER TABLE payments ADD COLUMN settlement_refunded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN fx_margin_refunded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refunds ADD COLUMN settlement_amount INTEGER;
ALTER TABLE refunds ADD COLUMN settlement_currency TEXT;
ALTER TABLE refunds ADD COLUMN fx_margin INTEGER;
-- A converted payment's dispute fee is taken in the merchant's settlement currency (NULL: the
-- dispute's own currency).
ALTER TABLE disputes ADD COLUMN fee_currency TEXT;
-- Whether a quote's rate was a live intraday one or the day's reference rate.
ALTER TABLE fx_quotes ADD COLUMN rate_source TEXT NOT NULL DEFAULT 'reference'
    CHECK (rate_source IN ('intraday', 'reference'));
