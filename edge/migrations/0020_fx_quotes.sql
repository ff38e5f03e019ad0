-- Locked currency conversions (`fxq_…`): both amounts, the exact reference rate applied
-- (numerator and denominator of the reduced fraction, as decimal text), the markup and what it
-- added, the day of the rates, and until when the quote is honoured.
CREATE TABLE fx_quotes (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    from_currency TEXT NOT NULL,
    from_amount INTEGER NOT NULL CHECK (from_amount > 0),
    to_currency TEXT NOT NULL,
    to_amount INTEGER NOT NULL CHECK (to_amount > 0),
    rate_numerator TEXT NOT NULL,
    rate_denominator TEXT NOT NULL,
    markup_bps INTEGER NOT NULL CHECK (markup_bps >= 0),
    margin INTEGER NOT NULL,
    rates_date TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX fx_quotes_by_merchant ON fx_quotes (merchant_id, created);
