-- The merchant's dunning schedule (JSON; none: Till's default), which subscriptions created
-- without their own follow, now and when it changes. `own_dunning`: 1 for a subscription given
-- its own schedule (at creation or later), which the merchant's changes leave alone.
ALTER TABLE merchants ADD COLUMN dunning TEXT;
ALTER TABLE subscriptions ADD COLUMN own_dunning INTEGER NOT NULL DEFAULT 1;
