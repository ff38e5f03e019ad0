//! The merchant's searchable lists and a payment's timeline, on a merchant made for each test
//! (so the lists hold exactly what the test made).

use axum::http::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use till_e2e::merchants::onboard;
use till_e2e::{new_key, Session, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

/// A session in `currency` with the merchant's own reference, paid (or not) with `number`.
async fn pay(till: &Till, amount: i64, currency: &str, reference: &str, number: &str) -> Value {
    let (status, created) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({ "amount": amount, "currency": currency, "merchant_reference": reference }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let session = Session::from_created(created);
    let token = till.token(&session, number).await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "{payment}");
    payment
}

async fn list(till: &Till, query: &str) -> Value {
    let (status, body) = till.get(query, &till.secret_key).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

#[tokio::test]
async fn payments_are_found_by_card_amount_status_reference_and_currency() {
    let (_, till) = onboard("List Shop", &[]).await;
    let visa = pay(&till, 2_500, "USD", "order-visa", "4242424242424242").await;
    let mastercard = pay(&till, 1_000, "USD", "order-mc", "5555555555554444").await;
    let declined = pay(&till, 3_000, "USD", "order-declined", "4000000000000002").await;
    let won = pay(&till, 45_000, "KRW", "주문-원", "4242424242424242").await;
    assert_eq!(declined["status"], "failed");
    let id = |p: &Value| p["id"].as_str().unwrap().to_string();

    let all = list(&till, "/v1/payments").await;
    assert_eq!(
        ids(&all),
        [id(&won), id(&declined), id(&mastercard), id(&visa)],
        "newest first"
    );
    assert_eq!(all["has_more"], false);
    for (query, expected) in [
        ("/v1/payments?last4=4444", vec![id(&mastercard)]),
        ("/v1/payments?brand=mastercard", vec![id(&mastercard)]),
        ("/v1/payments?last4=4242&currency=usd", vec![id(&visa)]),
        ("/v1/payments?status=failed", vec![id(&declined)]),
        (
            "/v1/payments?status=succeeded&amount_gte=2000&amount_lte=3000",
            vec![id(&visa)],
        ),
        (
            "/v1/payments?merchant_reference=order-mc",
            vec![id(&mastercard)],
        ),
        (
            "/v1/payments?merchant_reference=%EC%A3%BC%EB%AC%B8-%EC%9B%90",
            vec![id(&won)],
        ),
        ("/v1/payments?currency=KRW", vec![id(&won)]),
        ("/v1/payments?currency=EUR", vec![]),
        ("/v1/payments?created_lte=0", vec![]),
    ] {
        assert_eq!(ids(&list(&till, query).await), expected, "{query}");
    }

    // Pages of one, walked with the cursor, give the whole list once.
    let mut walked = Vec::new();
    let mut query = "/v1/payments?limit=1".to_string();
    loop {
        let page = list(&till, &query).await;
        walked.extend(ids(&page));
        if page["has_more"] == false {
            break;
        }
        query = format!(
            "/v1/payments?limit=1&starting_after={}",
            walked.last().unwrap()
        );
    }
    assert_eq!(walked, ids(&all));

    // Another merchant sees none of them, and cannot page from one of them.
    let demo = Till::default();
    let (_, theirs) = demo
        .get(
            "/v1/payments?merchant_reference=order-visa",
            &demo.secret_key,
        )
        .await;
    assert!(!ids(&theirs).contains(&id(&visa)), "{theirs}");
    let (status, body) = demo
        .get(
            &format!("/v1/payments?starting_after={}", id(&visa)),
            &demo.secret_key,
        )
        .await;
    assert_eq!((status, code(&body)), (400, "cursor_invalid"), "{body}");

    for (query, param) in [
        ("/v1/payments?stauts=failed", "stauts"),
        ("/v1/payments?status=paid", "status"),
        ("/v1/payments?last4=42", "last4"),
        ("/v1/payments?amount_gte=-5", "amount_gte"),
        ("/v1/payments?amount_gte=10&amount_lte=5", "amount_gte"),
        ("/v1/payments?currency=%00", "currency"),
        ("/v1/payments?status=failed&status=succeeded", "status"),
        ("/v1/payments?customer=cus_%27%20OR%201%3D1", "customer"),
        ("/v1/payments?limit=1000", "limit"),
    ] {
        let (status, body) = till.get(query, &till.secret_key).await;
        assert_eq!(
            (status, code(&body)),
            (400, "parameter_invalid"),
            "{query}: {body}"
        );
        assert_eq!(body["error"]["param"], param, "{query}");
    }

    // The other lists, filtered the same way.
    let (status, refund) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": id(&visa), "amount": 500 }),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    let refunds = list(&till, &format!("/v1/refunds?payment={}", id(&visa))).await;
    assert_eq!(ids(&refunds), [refund["id"].as_str().unwrap()]);
    assert_eq!(
        ids(&list(&till, &format!("/v1/refunds?payment={}", id(&won))).await),
        Vec::<String>::new()
    );
    let (_, open) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({ "amount": 700, "currency": "USD" }),
        )
        .await;
    // A declined payment leaves its session open for another card.
    let sessions = list(&till, "/v1/checkout_sessions?status=open").await;
    assert_eq!(
        ids(&sessions),
        [
            open["id"].as_str().unwrap(),
            declined["checkout_session"].as_str().unwrap()
        ],
        "{declined}"
    );
    assert!(
        sessions["data"][0]
            .get("client_secret")
            .is_none_or(Value::is_null),
        "{sessions}"
    );
    assert_eq!(
        ids(&list(&till, "/v1/checkout_sessions?status=complete").await).len(),
        3
    );
    let events = list(&till, &format!("/v1/events?payment={}", id(&visa))).await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund.succeeded", "payment.succeeded"], "{events}");
    assert_eq!(
        events["data"][1]["data"]["object"]["id"],
        id(&visa).as_str()
    );
    let failed = list(&till, "/v1/events?type=payment.failed").await;
    assert_eq!(
        failed["data"][0]["data"]["object"]["id"],
        id(&declined).as_str()
    );

    // A restricted key reads only the lists its scopes name.
    let (_, reader) = till
        .post(
            "/v1/api_keys",
            &till.secret_key,
            &json!({ "kind": "restricted", "scopes": ["payments:read"] }),
        )
        .await;
    let reader = reader["secret"].as_str().unwrap();
    assert_eq!(till.get("/v1/payments?last4=4242", reader).await.0, 200);
    let (status, body) = till.get("/v1/refunds", reader).await;
    assert_eq!((status, code(&body)), (403, "permission_denied"));
}

#[tokio::test]
async fn transfers_and_payouts_are_listed_by_customer_and_status() {
    let (_, till) = onboard("Wallet List Shop", &[]).await;
    let sender = till.new_customer().await;
    let receiver = till.new_customer().await;
    till.top_up(&sender, 10_000).await;
    let (status, transfer) = till
        .post_with_key(
            "/v1/transfers",
            &till.secret_key,
            &json!({ "from_customer": sender, "to": receiver, "amount": 1_500, "currency": "USD", "source": "wallet" }),
        )
        .await;
    assert_eq!(status, 200, "{transfer}");
    let (status, payout) = till
        .post_with_key(
            "/v1/payouts",
            &till.secret_key,
            &till_e2e::wallet::payout_body(&sender, 2_000, till_e2e::wallet::PAID_ACCOUNT),
        )
        .await;
    assert_eq!(status, 200, "{payout}");
    let tid = transfer["id"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&list(&till, &format!("/v1/transfers?customer={receiver}")).await),
        vec![tid.clone()]
    );
    assert_eq!(
        ids(&list(
            &till,
            &format!("/v1/transfers?customer={sender}&status=succeeded")
        )
        .await),
        [tid]
    );
    assert_eq!(
        ids(&list(&till, "/v1/transfers?status=returned").await),
        Vec::<String>::new()
    );
    let pid = payout["id"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&list(&till, &format!("/v1/payouts?customer={sender}")).await),
        [pid]
    );
    assert_eq!(
        ids(&list(&till, &format!("/v1/payouts?customer={receiver}")).await),
        Vec::<String>::new()
    );
}

/// A webhook receiver on loopback that accepts everything.
async fn receiver() -> String {
    let app = axum::Router::new().route("/hooks", axum::routing::post(|| async { StatusCode::OK }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_payments_timeline_shows_each_step_and_each_webhook_in_order() {
    let (_, till) = onboard("Timeline Shop", &[]).await;
    let (status, endpoint) = till
        .post(
            "/v1/webhook_endpoints",
            &till.secret_key,
            &json!({ "url": receiver().await, "events": ["payment.succeeded", "refund.succeeded"] }),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let session = till.create_session(4_000).await;
    let token = till.token(&session, "4000002760003184").await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("requires_action")),
        "{payment}"
    );
    let id = payment["id"].as_str().unwrap().to_string();
    let (status, passed) = till
        .post(
            &format!("/v1/payments/{id}/challenge"),
            &till.publishable_key,
            &json!({ "client_secret": session.client_secret, "otp": "123456" }),
        )
        .await;
    assert_eq!(
        (status, passed["status"].as_str()),
        (200, Some("succeeded")),
        "{passed}"
    );
    let (status, refund) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": id, "amount": 1_500 }),
        )
        .await;
    assert_eq!(status, 200, "{refund}");

    let path = format!("/v1/payments/{id}/timeline");
    let mut timeline = Value::Null;
    for _ in 0..80 {
        timeline = list(&till, &path).await;
        let delivered = timeline["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "webhook.delivery" && e["delivery_status"] == "succeeded")
            .count();
        if delivered == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entries = timeline["data"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "payment.created",
            "payment.requires_action",
            "payment.succeeded",
            "webhook.delivery",
            "payment.captured",
            "refund.created",
            "refund.succeeded",
            "webhook.delivery",
        ],
        "{timeline}"
    );
    assert_eq!(entries[0]["amount"], 4_000);
    assert_eq!(entries[3]["endpoint"], endpoint["id"]);
    assert_eq!(entries[3]["status_code"], 200);
    assert_eq!(entries[3]["attempts"], 1);
    assert_eq!(entries[5]["refund"], refund["id"]);
    assert_eq!(entries[5]["amount"], 1_500);
    let times: Vec<i64> = entries
        .iter()
        .filter(|e| e["kind"] != "webhook.delivery")
        .map(|e| e["at"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // Not another merchant's, and not a made-up id.
    let demo = Till::default();
    assert_eq!(demo.get(&path, &demo.secret_key).await.0, 404);
    assert_eq!(
        till.get("/v1/payments/pay_x/timeline", &till.secret_key)
            .await
            .0,
        404
    );

    // The merchant resends the payment's webhook: a second delivery of the same event.
    let delivery = entries[3]["event"].as_str().unwrap().to_string();
    let (_, deliveries) = till
        .get(
            &format!(
                "/v1/webhook_endpoints/{}/deliveries",
                endpoint["id"].as_str().unwrap()
            ),
            &till.secret_key,
        )
        .await;
    let first = deliveries["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event"] == delivery.as_str())
        .cloned()
        .expect("the payment's delivery");
    let resend = format!(
        "/v1/webhook_deliveries/{}/resend",
        first["id"].as_str().unwrap()
    );
    let (status, again) = till.post(&resend, &till.secret_key, &json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (&again["event"], &again["status"]),
        (&first["event"], &json!("pending"))
    );
    assert_ne!(again["id"], first["id"]);
    let mut resent = 0;
    for _ in 0..80 {
        let timeline = list(&till, &path).await;
        resent = timeline["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["kind"] == "webhook.delivery"
                    && e["event"] == delivery.as_str()
                    && e["delivery_status"] == "succeeded"
            })
            .count();
        if resent == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        resent, 2,
        "both deliveries of the event reached the endpoint"
    );
    let (status, _) = demo.post(&resend, &demo.secret_key, &json!({})).await;
    assert_eq!(status, 404, "not another merchant's delivery");
    let (status, _) = till
        .post(
            "/v1/webhook_deliveries/whd_x/resend",
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);
}
