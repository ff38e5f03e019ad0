-- Fraud screening. Each payment keeps how the merchant's rules saw it (`risk`: score, level,
-- rules, as the API shows it), what a later dry run needs to replay it (`screening`: BIN
-- country and funding, email domain, customer age, and the keys it was counted under, hashed),
-- and, when a `review` rule held it, where its review stands.
ALTER TABLE payments ADD COLUMN risk TEXT;
ALTER TABLE payments ADD COLUMN screening TEXT;
ALTER TABLE payments ADD COLUMN review_status TEXT;
CREATE INDEX payments_by_review ON payments (merchant_id, review_status)
    WHERE review_status IS NOT NULL;
CREATE INDEX payments_by_created ON payments (merchant_id, created);

-- A merchant's own rules (`rule_…`, with their text) and its settings for Till's defaults
-- (`rule_default_…`, without text: the default's text is Till's).
CREATE TABLE risk_rules (
    merchant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    rule TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
