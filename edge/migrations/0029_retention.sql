-- Events, finished webhook deliveries and gateway event ids are kept 30 days
-- (till_core::retention); the every-minute cron deletes older ones, oldest first, in batches.
-- It deletes card nonces past their use too (card_nonces_by_age), instead of each tokenization.
CREATE INDEX events_by_age ON events (created);
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (created);
CREATE INDEX gateway_events_by_age ON gateway_events (received);
-- An event is kept while a delivery of it is, and deleting an event checks its deliveries
-- (the foreign key): both look deliveries up by event.
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id);
-- Expired sessions go too: a dashboard session once it expired, a customer session 30 days
-- after (till then the widget is told it expired).
CREATE INDEX customer_sessions_by_expiry ON customer_sessions (expires_at);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions (expires);
