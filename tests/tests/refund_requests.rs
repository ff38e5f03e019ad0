//! Orders and refund requests: the customer sees their orders through a customer session and
//! asks for a refund or a return; the merchant approves (the refund is made once, however often
//! it approves) or declines (the customer sees why). Decided once; one open request per order.

use serde_json::{json, Value};
use till_e2e::merchants::onboard;
use till_e2e::{new_key, Session, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A customer, a customer session for them, and two paid orders of theirs.
async fn customer_with_orders(till: &Till) -> (Value, Vec<Value>) {
    let (_, customer) = till
        .post(
            "/v1/customers",
            &till.secret_key,
            &json!({ "name": "Jiwoo", "locale": "ko-KR" }),
        )
        .await;
    let mut orders = Vec::new();
    for (amount, reference) in [(45_000, "주문-1"), (12_000, "주문-2")] {
        let (status, created) = till
            .post(
                "/v1/checkout_sessions",
                &till.secret_key,
                &json!({
                    "amount": amount, "currency": "KRW", "customer": customer["id"],
                    "merchant_reference": reference,
                    "line_items": [{ "name": "운동화", "quantity": 1, "unit_amount": amount }],
                }),
            )
            .await;
        assert_eq!(status, 200, "{created}");
        let session = Session::from_created(created);
        let token = till.token(&session, "4242424242424242").await;
        let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
        assert_eq!(status, 200, "{payment}");
        orders.push(payment);
    }
    let (status, session) = till
        .post(
            "/v1/customer_sessions",
            &till.secret_key,
            &json!({ "customer": customer["id"] }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    (session, orders)
}

async fn orders_of(till: &Till, session: &Value) -> Value {
    let (status, orders) = till
        .get(
            &format!(
                "/v1/customer_sessions/{}/orders?client_secret={}",
                session["id"].as_str().unwrap(),
                session["client_secret"].as_str().unwrap()
            ),
            &till.publishable_key,
        )
        .await;
    assert_eq!(status, 200, "{orders}");
    orders
}

async fn ask(
    till: &Till,
    session: &Value,
    payment: &Value,
    kind: &str,
    amount: Option<i64>,
) -> (u16, Value) {
    let mut body = json!({
        "client_secret": session["client_secret"], "payment": payment["id"], "kind": kind,
        "reason": "사이즈가 맞지 않아요",
    });
    if let Some(amount) = amount {
        body["amount"] = json!(amount);
    }
    till.post(
        &format!(
            "/v1/customer_sessions/{}/refund_requests",
            session["id"].as_str().unwrap()
        ),
        &till.publishable_key,
        &body,
    )
    .await
}

#[tokio::test]
async fn a_customer_asks_and_the_merchant_approves_once_or_declines() {
    let (_, till) = onboard("Shoe Shop", &[]).await;
    let (session, orders) = customer_with_orders(&till).await;
    let listed = orders_of(&till, &session).await;
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            orders[1]["id"].as_str().unwrap(),
            orders[0]["id"].as_str().unwrap()
        ],
        "newest first"
    );
    assert_eq!(listed["data"][1]["refundable"], 45_000);
    assert_eq!(listed["data"][1]["merchant_reference"], "주문-1");
    assert_eq!(listed["data"][1]["request"], Value::Null);

    // Return the first order; a second request about it waits for the first.
    let (status, returning) = ask(&till, &session, &orders[0], "return", None).await;
    assert_eq!(status, 200, "{returning}");
    assert_eq!(
        (&returning["status"], &returning["amount"]),
        (&json!("open"), &json!(45_000))
    );
    let (status, again) = ask(&till, &session, &orders[0], "refund", None).await;
    assert_eq!(
        (status, code(&again)),
        (409, "refund_request_open"),
        "{again}"
    );
    let (_, open) = till
        .get("/v1/refund_requests?status=open", &till.secret_key)
        .await;
    assert_eq!(open["data"][0]["id"], returning["id"]);
    assert_eq!(open["data"][0]["reason"], "사이즈가 맞지 않아요");

    // Approved twice (a double click), concurrently: one refund of the whole amount.
    let path = format!(
        "/v1/refund_requests/{}/approve",
        returning["id"].as_str().unwrap()
    );
    let empty = json!({});
    let (first, second) = futures_util::future::join(
        till.post(&path, &till.secret_key, &empty),
        till.post(&path, &till.secret_key, &empty),
    )
    .await;
    let approved = [first, second]
        .into_iter()
        .find(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .expect("one approval answered");
    let (status, again) = till.post(&path, &till.secret_key, &empty).await;
    assert_eq!(status, 200, "approving again finishes nothing new: {again}");
    assert_eq!(again["refund"], approved["refund"]);
    let (_, payment) = till
        .get(
            &format!("/v1/payments/{}", orders[0]["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(
        payment["amount_refunded"], 45_000,
        "refunded once: {payment}"
    );
    let (_, refunds) = till
        .get(
            &format!("/v1/refunds?payment={}", orders[0]["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 1);
    assert_eq!(refunds["data"][0]["id"], approved["refund"]);
    let (status, late) = till
        .post(
            &format!(
                "/v1/refund_requests/{}/decline",
                returning["id"].as_str().unwrap()
            ),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!((status, code(&late)), (409, "refund_request_decided"));
    let (_, events) = till
        .get("/v1/events?type=refund_request.approved", &till.secret_key)
        .await;
    assert_eq!(
        events["data"].as_array().unwrap().len(),
        1,
        "one event: {events}"
    );

    // The second order: part of it asked, declined with a reason the customer sees.
    let (status, partial) = ask(&till, &session, &orders[1], "refund", Some(2_000)).await;
    assert_eq!(status, 200, "{partial}");
    let (status, declined) = till
        .post(
            &format!(
                "/v1/refund_requests/{}/decline",
                partial["id"].as_str().unwrap()
            ),
            &till.secret_key,
            &json!({ "reason": "Sale items are final." }),
        )
        .await;
    assert_eq!(
        (status, &declined["status"]),
        (200, &json!("declined")),
        "{declined}"
    );
    let (status, approve_late) = till
        .post(
            &format!(
                "/v1/refund_requests/{}/approve",
                partial["id"].as_str().unwrap()
            ),
            &till.secret_key,
            &empty,
        )
        .await;
    assert_eq!(
        (status, code(&approve_late)),
        (409, "refund_request_decided")
    );
    let listed = orders_of(&till, &session).await;
    assert_eq!(listed["data"][0]["request"]["status"], "declined");
    assert_eq!(
        listed["data"][0]["request"]["decline_reason"],
        "Sale items are final."
    );
    assert_eq!(listed["data"][1]["amount_refunded"], 45_000);
    assert_eq!(listed["data"][1]["refundable"], 0);
    // Nothing left to refund on the first: no new request.
    let (status, nothing) = ask(&till, &session, &orders[0], "refund", None).await;
    assert_eq!(
        (status, code(&nothing)),
        (409, "charge_already_refunded"),
        "{nothing}"
    );
}

#[tokio::test]
async fn requests_are_only_for_the_customers_own_orders_and_are_checked() {
    let (_, till) = onboard("Strict Shop", &[]).await;
    let (session, orders) = customer_with_orders(&till).await;
    let (other_session, other_orders) = customer_with_orders(&till).await;
    // Another customer's order, another merchant's customer session, a made-up payment.
    let (status, body) = ask(&till, &session, &other_orders[0], "refund", None).await;
    assert_eq!((status, code(&body)), (404, "resource_missing"), "{body}");
    let demo = Till::default();
    let (status, _) = demo
        .post(
            &format!("/v1/customer_sessions/{}/refund_requests", other_session["id"].as_str().unwrap()),
            &demo.publishable_key,
            &json!({ "client_secret": other_session["client_secret"], "payment": other_orders[0]["id"], "kind": "refund", "reason": "x" }),
        )
        .await;
    assert_eq!(status, 404);
    for (body, expected) in [
        (json!({ "kind": "refund", "reason": "" }), "reason_invalid"),
        (
            json!({ "kind": "refund", "reason": "a\u{0}b" }),
            "reason_invalid",
        ),
        (
            json!({ "kind": "refund", "reason": "x".repeat(501) }),
            "reason_invalid",
        ),
        (
            json!({ "kind": "refund", "reason": "x", "amount": 45_001 }),
            "amount_invalid",
        ),
        (
            json!({ "kind": "exchange", "reason": "x" }),
            "parameter_invalid",
        ),
        (
            json!({ "kind": "refund", "reason": "x", "client_secret": "wrong" }),
            "client_secret_invalid",
        ),
    ] {
        let mut body = body;
        body["payment"] = orders[0]["id"].clone();
        if body.get("client_secret").is_none() {
            body["client_secret"] = session["client_secret"].clone();
        }
        let (status, answer) = till
            .post(
                &format!(
                    "/v1/customer_sessions/{}/refund_requests",
                    session["id"].as_str().unwrap()
                ),
                &till.publishable_key,
                &body,
            )
            .await;
        assert_eq!((status, code(&answer)), (400, expected), "{body}: {answer}");
    }
    let (_, open) = till.get("/v1/refund_requests", &till.secret_key).await;
    assert_eq!(open["data"], json!([]), "nothing was recorded");
    let (status, bad) = till
        .get("/v1/refund_requests?status=pending", &till.secret_key)
        .await;
    assert_eq!((status, code(&bad)), (400, "parameter_invalid"));
}
