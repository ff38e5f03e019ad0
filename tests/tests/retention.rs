//! Events, finished webhook deliveries and gateway event ids are kept 30 days, and encrypted
//! cards' nonces while a replay could be accepted (`till_core::retention`): the every-minute
//! cron deletes older ones, keeps an event while a delivery of it is still being retried, and
//! leaves newer ones alone. The API cannot make a record dated weeks ago, so the test writes
//! them into the local database itself.

use serde_json::Value;
use till_e2e::{local_d1, now, random, Till, SECRET_KEY};

const DAY: i64 = 86_400;

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .filter_map(|row| row["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_cron_deletes_what_is_past_thirty_days_and_keeps_what_is_still_needed() {
    let till = Till::default();
    let run = hex::encode(random::<6>());
    let (old, recent) = (now() - 31 * DAY, now() - 29 * DAY);
    // An encrypted card is refused 15 minutes after it was made, with 5 minutes for clocks:
    // its nonce is needed 20 minutes after it was first seen, not 21.
    let (spent, live) = (now() - 21 * 60, now() - 19 * 60);
    // An endpoint subscribed to nothing, so none of today's events is sent to it.
    local_d1(&format!(
        "INSERT INTO webhook_endpoints (id, merchant_id, url, events, sealed_secret, created) \
         VALUES ('we_ret_{run}', 'mer_demo', 'http://127.0.0.1:9/retention', '[]', 'unused', {old}); \
         INSERT INTO events (id, merchant_id, type, body, created) VALUES \
         ('evt_ret_delivered_{run}', 'mer_demo', 'payment.succeeded', '{{}}', {old}), \
         ('evt_ret_retrying_{run}', 'mer_demo', 'payment.succeeded', '{{}}', {old}), \
         ('evt_ret_undelivered_{run}', 'mer_demo', 'payment.succeeded', '{{}}', {old}), \
         ('evt_ret_recent_{run}', 'mer_demo', 'payment.succeeded', '{{}}', {recent}); \
         INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, status, attempts, \
         created, updated) VALUES \
         ('whd_ret_delivered_{run}', 'we_ret_{run}', 'evt_ret_delivered_{run}', 'payment.succeeded', 'succeeded', 1, {old}, {old}), \
         ('whd_ret_retrying_{run}', 'we_ret_{run}', 'evt_ret_retrying_{run}', 'payment.succeeded', 'pending', 3, {old}, {old}), \
         ('whd_ret_recent_{run}', 'we_ret_{run}', 'evt_ret_recent_{run}', 'payment.succeeded', 'failed', 8, {recent}, {recent}); \
         INSERT INTO gateway_events (id, received) VALUES \
         ('gev_ret_old_{run}', {old}), ('gev_ret_recent_{run}', {recent}); \
         INSERT INTO card_nonces (nonce, seen) VALUES \
         ('ret_spent_{run}', {spent}), ('ret_live_{run}', {live});"
    ));

    till.run_poller().await;

    // What the merchant sees of the endpoint: the delivery that finished 31 days ago is gone;
    // the one still being retried and the recent one are there.
    let (status, deliveries) = till
        .get(
            &format!("/v1/webhook_endpoints/we_ret_{run}/deliveries"),
            SECRET_KEY,
        )
        .await;
    assert_eq!(status, 200, "{deliveries}");
    let mut listed = ids(deliveries["data"].as_array().expect("a list"));
    listed.sort();
    assert_eq!(
        listed,
        [
            format!("whd_ret_recent_{run}"),
            format!("whd_ret_retrying_{run}")
        ]
    );
    // The events: those past 30 days went, except the one a delivery still retries.
    let kept = local_d1(&format!(
        "SELECT id FROM events WHERE id LIKE 'evt_ret_%_{run}' ORDER BY id; \
         SELECT id FROM gateway_events WHERE id LIKE 'gev_ret_%_{run}' ORDER BY id; \
         SELECT nonce AS id FROM card_nonces WHERE nonce LIKE 'ret_%_{run}';"
    ));
    assert_eq!(
        ids(&kept[0]),
        [
            format!("evt_ret_recent_{run}"),
            format!("evt_ret_retrying_{run}")
        ]
    );
    assert_eq!(ids(&kept[1]), [format!("gev_ret_recent_{run}")]);
    assert_eq!(ids(&kept[2]), [format!("ret_live_{run}")]);
}
