-- What the gateway settled of each payment and refund, as the reconciliation read it from the
-- settlement file: its fee and net, the day, and the run that saw it. Reports and the
-- balance-transactions export take fees and settlement references from here, so they agree
-- with the reconciliation runs.
CREATE TABLE settlements (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    -- The payment (`pay_…`) or refund (`re_…`) settled.
    reference TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('charge', 'refund')),
    settled_on TEXT NOT NULL,
    gateway_id TEXT NOT NULL,
    gross INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    net INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reconciliation_run TEXT NOT NULL,
    PRIMARY KEY (merchant_id, reference, type)
);
