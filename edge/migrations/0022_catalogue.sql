-- The subscription catalogue: products (`prod_…`) and their recurring prices (`price_…`).
-- Never deleted: `active = 0` archives (subscriptions and invoices keep naming them). Lists
-- are newest first by rowid: the indexes hold (merchant or product, rowid) in that order.
CREATE TABLE products (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    name TEXT NOT NULL,
    description TEXT,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    created INTEGER NOT NULL
);
CREATE INDEX products_by_merchant ON products (merchant_id);

CREATE TABLE prices (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    unit_amount INTEGER NOT NULL CHECK (unit_amount > 0),
    currency TEXT NOT NULL,
    interval TEXT NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
    interval_count INTEGER NOT NULL CHECK (interval_count BETWEEN 1 AND 365),
    trial_days INTEGER CHECK (trial_days BETWEEN 0 AND 730),
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    created INTEGER NOT NULL
);
CREATE INDEX prices_by_merchant ON prices (merchant_id);
CREATE INDEX prices_by_product ON prices (product_id);
