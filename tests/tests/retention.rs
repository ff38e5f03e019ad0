//! Events, finished webhook deliveries and gateway event ids are kept 30 days, customer
//! sessions and FX quotes 30 days after they expired, dashboard sessions until they expired,
//! and encrypted cards' nonces while a replay could be accepted (`till_core::retention`): the
//! every-minute cron deletes older ones, keeps an event while a delivery of it is still being
//! retried, and leaves newer ones alone. The API cannot make a record dated weeks ago, so the
//! test writes them into the local database itself, for a merchant of its own (no other test
//! sees them), and reads back what is left.

use serde_json::Value;
use till_e2e::{local_d1, now, random, Till};

const DAY: i64 = 86_400;

/// An id of the API's format: the prefix and 32 hex digits.
fn id(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(random::<16>()))
}

fn ids(rows: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|row| row["id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

fn sorted<const N: usize>(ids: [&String; N]) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().cloned().collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_cron_deletes_what_is_past_thirty_days_and_keeps_what_is_still_needed() {
    let till = Till::default();
    let (old, recent) = (now() - 31 * DAY, now() - 29 * DAY);
    // An encrypted card is refused 15 minutes after it was made, with 5 minutes for clocks:
    // its nonce is needed 20 minutes after it was first seen, not 21.
    let (spent, live) = (now() - 21 * 60, now() - 19 * 60);
    let (expired_a_minute_ago, expires_in_an_hour) = (now() - 60, now() + 3_600);
    let merchant = id("mer");
    let endpoint = id("we");
    let [delivered, retrying, undelivered, fresh] = [id("evt"), id("evt"), id("evt"), id("evt")];
    let [delivered_delivery, retrying_delivery, fresh_delivery] = [id("whd"), id("whd"), id("whd")];
    let [old_gateway_event, recent_gateway_event] = [id("gev"), id("gev")];
    let [spent_nonce, live_nonce] = [hex::encode(random::<16>()), hex::encode(random::<16>())];
    let (customer, user) = (id("cus"), id("usr"));
    let [long_expired, lately_expired] = [id("cuss"), id("cuss")];
    let [signed_out, signed_in] = [hex::encode(random::<32>()), hex::encode(random::<32>())];
    let [long_expired_quote, lately_expired_quote] = [id("fxq"), id("fxq")];
    local_d1(&format!(
        "INSERT INTO merchants (id, name, created) VALUES ('{merchant}', 'Retention', {old}); \
         INSERT INTO webhook_endpoints (id, merchant_id, url, events, sealed_secret, created) \
         VALUES ('{endpoint}', '{merchant}', 'http://127.0.0.1:9/retention', '[]', 'unused', {old}); \
         INSERT INTO events (id, merchant_id, type, body, created) VALUES \
         ('{delivered}', '{merchant}', 'payment.succeeded', '{{}}', {old}), \
         ('{retrying}', '{merchant}', 'payment.succeeded', '{{}}', {old}), \
         ('{undelivered}', '{merchant}', 'payment.succeeded', '{{}}', {old}), \
         ('{fresh}', '{merchant}', 'payment.succeeded', '{{}}', {recent}); \
         INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, status, attempts, \
         created, updated) VALUES \
         ('{delivered_delivery}', '{endpoint}', '{delivered}', 'payment.succeeded', 'succeeded', 1, {old}, {old}), \
         ('{retrying_delivery}', '{endpoint}', '{retrying}', 'payment.succeeded', 'pending', 3, {old}, {old}), \
         ('{fresh_delivery}', '{endpoint}', '{fresh}', 'payment.succeeded', 'failed', 8, {recent}, {recent}); \
         INSERT INTO gateway_events (id, received) VALUES \
         ('{old_gateway_event}', {old}), ('{recent_gateway_event}', {recent}); \
         INSERT INTO card_nonces (nonce, seen) VALUES ('{spent_nonce}', {spent}), ('{live_nonce}', {live}); \
         INSERT INTO customers (id, merchant_id, created, updated) \
         VALUES ('{customer}', '{merchant}', {old}, {old}); \
         INSERT INTO customer_sessions (id, merchant_id, customer_id, client_secret_hash, \
         expires_at, created) VALUES \
         ('{long_expired}', '{merchant}', '{customer}', 'unused', {old}, {old}), \
         ('{lately_expired}', '{merchant}', '{customer}', 'unused', {recent}, {recent}); \
         INSERT INTO users (id, merchant_id, email, name, role, password_hash, created) \
         VALUES ('{user}', '{merchant}', '{user}@retention.test', 'Retention', 'owner', 'unused', {old}); \
         INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created, expires, \
         last_seen) VALUES \
         ('{signed_out}', '{user}', 'unused', {spent}, {expired_a_minute_ago}, {spent}), \
         ('{signed_in}', '{user}', 'unused', {live}, {expires_in_an_hour}, {live}); \
         INSERT INTO fx_quotes (id, merchant_id, from_currency, from_amount, to_currency, \
         to_amount, rate_numerator, rate_denominator, markup_bps, margin, rates_date, \
         expires_at, created) VALUES \
         ('{long_expired_quote}', '{merchant}', 'USD', 1000, 'EUR', 920, '23', '25', 150, 14, \
         '2026-01-01', {old}, {old}), \
         ('{lately_expired_quote}', '{merchant}', 'USD', 1000, 'EUR', 920, '23', '25', 150, 14, \
         '2026-01-01', {recent}, {recent});"
    ));

    till.run_poller().await;

    // The delivery that finished 31 days ago went; the one still being retried and the recent
    // one stay. The events past 30 days went, except the one a delivery still retries.
    let kept = local_d1(&format!(
        "SELECT id FROM webhook_deliveries WHERE endpoint_id = '{endpoint}'; \
         SELECT id FROM events WHERE merchant_id = '{merchant}'; \
         SELECT id FROM gateway_events WHERE id IN ('{old_gateway_event}', '{recent_gateway_event}'); \
         SELECT nonce AS id FROM card_nonces WHERE nonce IN ('{spent_nonce}', '{live_nonce}'); \
         SELECT id FROM customer_sessions WHERE customer_id = '{customer}'; \
         SELECT token_hash AS id FROM dashboard_sessions WHERE user_id = '{user}'; \
         SELECT id FROM fx_quotes WHERE merchant_id = '{merchant}';"
    ));
    assert_eq!(ids(&kept[0]), sorted([&fresh_delivery, &retrying_delivery]));
    assert_eq!(ids(&kept[1]), sorted([&fresh, &retrying]));
    assert_eq!(ids(&kept[2]), [recent_gateway_event]);
    assert_eq!(ids(&kept[3]), [live_nonce]);
    // A customer session that expired 29 days ago is still there to say it expired.
    assert_eq!(ids(&kept[4]), [lately_expired]);
    assert_eq!(ids(&kept[5]), [signed_in]);
    // So is a quote that expired 29 days ago; one that expired 31 days ago went.
    assert_eq!(ids(&kept[6]), [lately_expired_quote]);
}
