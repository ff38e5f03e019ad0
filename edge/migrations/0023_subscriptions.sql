-- Subscriptions (`sub_…`), their invoices (`in_…`, one per billed period) and test clocks
-- (`clock_…`). Times of a subscription on a test clock are the clock's, not the wall's.

CREATE TABLE test_clocks (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    name TEXT,
    frozen_time INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ready', 'advancing')),
    created INTEGER NOT NULL
);
CREATE INDEX test_clocks_advancing ON test_clocks (status) WHERE status = 'advancing';

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    customer_id TEXT NOT NULL REFERENCES customers(id),
    price_id TEXT NOT NULL REFERENCES prices(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    payment_method_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    unit_amount INTEGER NOT NULL CHECK (unit_amount > 0),
    currency TEXT NOT NULL,
    interval TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
    interval_count INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('incomplete', 'incomplete_expired', 'trialing',
        'active', 'past_due', 'unpaid', 'paused', 'canceled')),
    -- When the first paid period begins; every period is computed from it.
    anchor INTEGER NOT NULL,
    current_period_start INTEGER NOT NULL,
    current_period_end INTEGER NOT NULL,
    trial_end INTEGER,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    canceled_at INTEGER,
    ended_at INTEGER,
    latest_invoice_id TEXT,
    -- Proration lines and carried credit (JSON array of till_core::invoice::InvoiceLine) the
    -- next period's invoice takes.
    pending_lines TEXT NOT NULL DEFAULT '[]',
    -- The retry schedule (till_core::subscription::Dunning) as JSON.
    dunning TEXT NOT NULL,
    test_clock_id TEXT REFERENCES test_clocks(id),
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX subscriptions_by_merchant ON subscriptions (merchant_id);
CREATE INDEX subscriptions_by_customer ON subscriptions (customer_id);
-- What the billing run looks at: periods ending, trials ending, first charges expiring.
CREATE INDEX subscriptions_due ON subscriptions (current_period_end)
    WHERE status IN ('trialing', 'active', 'incomplete');
CREATE INDEX subscriptions_by_clock ON subscriptions (test_clock_id)
    WHERE test_clock_id IS NOT NULL;

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'void')),
    currency TEXT NOT NULL,
    -- JSON array of till_core::invoice::InvoiceLine.
    lines TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    tax INTEGER NOT NULL DEFAULT 0,
    -- Zero when credits outweigh the period (the rest is carried to the next invoice).
    total INTEGER NOT NULL CHECK (total >= 0),
    attempt_count INTEGER NOT NULL DEFAULT 0,
    -- Charges whose outcome the invoice and its subscription have taken in; fewer than
    -- attempt_count while a charge is under way (or was cut short: the billing run resumes it).
    attempts_settled INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    -- The payment of the latest charge; set (with attempt_count) before the charge is made.
    payment_id TEXT,
    period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL,
    paid_at INTEGER,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    -- One invoice per period: a billing run that repeats opens nothing new.
    UNIQUE (subscription_id, period_start)
);
CREATE INDEX invoices_by_merchant ON invoices (merchant_id);
CREATE INDEX invoices_by_subscription ON invoices (subscription_id);
CREATE INDEX invoices_open ON invoices (next_attempt_at) WHERE status = 'open';
CREATE INDEX invoices_by_payment ON invoices (payment_id);

-- A customer session made with `subscriptions: true` opens the customer's self-service
-- subscriptions (see, change the card, cancel at the period's end).
ALTER TABLE customer_sessions ADD COLUMN subscriptions INTEGER NOT NULL DEFAULT 0;
