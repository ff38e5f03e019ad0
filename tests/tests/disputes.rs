//! Disputes through the real edge and sandbox: the gateway opens a chargeback (its control
//! API, then a signed webhook), Till withdraws the amount and its fee from the merchant's
//! balance, the merchant answers with evidence or accepts, and the network's decision closes
//! it. Balances are read before and after each step; bad and foreign requests change nothing.

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;
use till_e2e::merchants::onboard;
use till_e2e::{json_of, new_key, send, Till, GATEWAY_KEY};

const CARD: &str = "4242424242424242";
/// Till's dispute fee in USD (`till_core::dispute::dispute_fee`).
const FEE: i64 = 1_500;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A succeeded payment of `amount` USD: Till's id and the sandbox's authorization id.
async fn paid(till: &Till, amount: i64) -> (String, String) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, CARD).await;
    let (status, _, body) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "{body}");
    let payment = till.payment_of(&session).await;
    assert_eq!(payment["status"], "succeeded", "{payment}");
    let id = payment["id"].as_str().unwrap().to_string();
    let authorizations = till.gateway_authorizations(&id).await;
    let authorization = authorizations[0]["id"].as_str().unwrap().to_string();
    (id, authorization)
}

/// The card network opens a dispute at the sandbox: its answer (`gwdp_…`).
async fn open_dispute(till: &Till, request: Value) -> Value {
    let response = send(
        till.http
            .post(format!("{}/v1/control/disputes", till.gateway))
            .bearer_auth(GATEWAY_KEY)
            .json(&request),
    )
    .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// The network decides a dispute under review.
async fn decide(till: &Till, gateway_dispute: &str, outcome: &str) {
    let response = send(
        till.http
            .post(format!(
                "{}/v1/control/disputes/{gateway_dispute}/decide",
                till.gateway
            ))
            .bearer_auth(GATEWAY_KEY)
            .json(&json!({ "outcome": outcome })),
    )
    .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
}

/// The dispute Till recorded for `payment` once the gateway's webhook arrived, in `status`.
async fn dispute_of(till: &Till, payment: &str, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (code, list) = till.get("/v1/disputes?limit=100", &till.secret_key).await;
        assert_eq!(code, 200, "{list}");
        if let Some(found) = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["payment"] == payment)
        {
            last = found.clone();
            if found["status"] == status {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {status} dispute of {payment} at Till: {last}");
}

/// The merchant's available USD balance.
async fn available(till: &Till) -> i64 {
    let (status, balance) = till.get("/v1/balance", &till.secret_key).await;
    assert_eq!(status, 200, "{balance}");
    balance["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == "USD")
        .map_or(0, |b| b["amount"].as_i64().unwrap())
}

async fn evidence(till: &Till, dispute: &str, key: &str, body: &Value) -> (u16, Value) {
    let response = send(
        till.http
            .post(till.url(&format!("/v1/disputes/{dispute}/evidence")))
            .bearer_auth(&till.secret_key)
            .header("Idempotency-Key", key)
            .json(body),
    )
    .await;
    json_of(response).await
}

async fn close(till: &Till, dispute: &str, key: &str) -> (u16, Value) {
    let response = send(
        till.http
            .post(till.url(&format!("/v1/disputes/{dispute}/close")))
            .bearer_auth(&till.secret_key)
            .header("Idempotency-Key", key),
    )
    .await;
    json_of(response).await
}

async fn event_count(till: &Till, kind: &str) -> usize {
    let (status, events) = till.get("/v1/events?limit=100", &till.secret_key).await;
    assert_eq!(status, 200, "{events}");
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .count()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A PNG as far as anyone can tell from its first bytes (all Till checks).
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(b"\0\0\0\rIHDR signed delivery note");
    bytes
}

#[tokio::test]
async fn a_won_dispute_withdraws_the_amount_and_fee_then_gives_both_back() {
    let (merchant, till) = onboard("Dispute Won Shop", &[]).await;
    let (payment, authorization) = paid(&till, 10_000).await;
    assert_eq!(available(&till).await, 10_000);

    open_dispute(
        &till,
        json!({ "authorization": authorization, "reason": "product_not_received", "amount": 4_000 }),
    )
    .await;
    let dispute = dispute_of(&till, &payment, "needs_response").await;
    assert_eq!(dispute["amount"], 4_000);
    assert_eq!(dispute["currency"], "USD");
    assert_eq!(dispute["fee"], FEE);
    assert_eq!(dispute["reason"], "product_not_received");
    assert_eq!(dispute["evidence"], Value::Null);
    assert!(dispute["evidence_due_by"].as_i64().unwrap() > till_e2e::now());
    let id = dispute["id"].as_str().unwrap();
    assert_eq!(available(&till).await, 10_000 - 4_000 - FEE);
    let (_, of_payment) = till
        .get(&format!("/v1/disputes?payment={payment}"), &till.secret_key)
        .await;
    assert_eq!(of_payment["data"][0]["id"], id);
    let unknown = till_core::ids::new_id(till_core::ids::IdKind::Payment, [7; 16]);
    let (_, of_other) = till
        .get(&format!("/v1/disputes?payment={unknown}"), &till.secret_key)
        .await;
    assert_eq!(of_other["data"], json!([]));
    let (status, refused) = till
        .get("/v1/disputes?payment=dp_1", &till.secret_key)
        .await;
    assert_eq!((status, code(&refused)), (400, "parameter_invalid"));
    assert_eq!(event_count(&till, "dispute.created").await, 1);

    // The network took the money back: a refund would pay the cardholder twice.
    let (status, refused) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": payment }),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (409, "payment_disputed"),
        "{refused}"
    );

    let file = png();
    let (status, answered) = evidence(
        &till,
        id,
        &new_key(),
        &json!({
            "text": {
                "shipping_tracking_number": "1Z999AA10123456784",
                "uncategorized_text": "winning_evidence: delivered on 21 November, signed for.",
            },
            "files": [{ "filename": "signature.png", "content_type": "image/png", "data": base64(&file) }],
        }),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(
        answered["status"], "won",
        "the network decided with the evidence"
    );
    let stored = &answered["evidence"]["files"][0];
    assert_eq!(stored["sha256"], hex::encode(Sha256::digest(&file)));
    assert_eq!(stored["size"], file.len());
    assert_eq!(
        answered["evidence"]["text"]["shipping_tracking_number"],
        "1Z999AA10123456784"
    );
    assert_eq!(available(&till).await, 10_000, "amount and fee came back");

    // The file comes back byte for byte, to this merchant only.
    let file_id = stored["id"].as_str().unwrap();
    let response = send(
        till.http
            .get(till.url(&format!("/v1/dispute_files/{file_id}")))
            .bearer_auth(&till.secret_key),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().as_ref(), file.as_slice());
    let (_, other) = onboard("Dispute Snooping Shop", &[]).await;
    let (status, _) = other
        .get(&format!("/v1/dispute_files/{file_id}"), &other.secret_key)
        .await;
    assert_eq!(status, 404);

    // The gateway's own webhooks about the same steps arrive after its answer: no change.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(available(&till).await, 10_000);
    assert_eq!(event_count(&till, "dispute.closed").await, 1);
    let (status, again) = evidence(
        &till,
        id,
        &new_key(),
        &json!({ "text": { "uncategorized_text": "more" } }),
    )
    .await;
    assert_eq!((status, code(&again)), (409, "dispute_closed"), "{again}");

    // The ledger tells the whole story, each step once, under the dispute's id.
    let account = format!("merchant:{merchant}:USD");
    let (status, entries) = till
        .get(
            &format!("/v1/ledger/entries?account={account}&limit=100"),
            &till.secret_key,
        )
        .await;
    assert_eq!(status, 200, "{entries}");
    let mut kinds: Vec<(String, i64)> = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == id)
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("dispute".to_string(), -4_000),
            ("dispute_fee".to_string(), -FEE),
            ("dispute_fee_returned".to_string(), FEE),
            ("dispute_reinstated".to_string(), 4_000),
        ]
    );
}

#[tokio::test]
async fn a_lost_or_accepted_dispute_keeps_the_money_and_a_merchant_may_owe() {
    let (_, till) = onboard("Dispute Lost Shop", &[]).await;
    let (payment, authorization) = paid(&till, 3_000).await;
    open_dispute(
        &till,
        json!({ "authorization": authorization, "reason": "fraudulent" }),
    )
    .await;
    let dispute = dispute_of(&till, &payment, "needs_response").await;
    assert_eq!(dispute["amount"], 3_000, "all that was captured");
    // The network took it already: the merchant owes the fee.
    assert_eq!(available(&till).await, -FEE);

    let (status, answered) = evidence(
        &till,
        dispute["id"].as_str().unwrap(),
        &new_key(),
        &json!({ "text": { "uncategorized_text": "losing_evidence" } }),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["status"], "lost");
    assert_eq!(available(&till).await, -FEE, "nothing comes back");

    // The next payment pays the debt back; a refund beyond what is left is refused.
    let (next, next_authorization) = paid(&till, 2_000).await;
    assert_eq!(available(&till).await, 2_000 - FEE);
    let (status, refused) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": next, "amount": 1_000 }),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (402, "balance_insufficient"),
        "{refused}"
    );
    assert_eq!(available(&till).await, 2_000 - FEE);

    // Accepting loses at once; the same request again is the same answer, another is refused.
    open_dispute(
        &till,
        json!({ "authorization": next_authorization, "reason": "duplicate", "amount": 500 }),
    )
    .await;
    let accepted = dispute_of(&till, &next, "needs_response").await;
    let id = accepted["id"].as_str().unwrap();
    assert_eq!(available(&till).await, 2_000 - FEE - 500 - FEE);
    let key = new_key();
    let (status, lost) = close(&till, id, &key).await;
    assert_eq!(status, 200, "{lost}");
    assert_eq!(lost["status"], "lost");
    let (status, replayed) = close(&till, id, &key).await;
    assert_eq!((status, &replayed), (200, &lost));
    let (status, again) = close(&till, id, &new_key()).await;
    assert_eq!((status, code(&again)), (409, "dispute_closed"), "{again}");
    let (status, late) = evidence(
        &till,
        id,
        &new_key(),
        &json!({ "text": { "uncategorized_text": "winning_evidence" } }),
    )
    .await;
    assert_eq!((status, code(&late)), (409, "dispute_closed"), "{late}");
    assert_eq!(available(&till).await, 2_000 - FEE - 500 - FEE);
    assert_eq!(event_count(&till, "dispute.closed").await, 2);
}

#[tokio::test]
async fn bad_or_foreign_dispute_requests_change_nothing_and_evidence_is_taken_once() {
    let (_, till) = onboard("Dispute Checks Shop", &[]).await;
    let (_, stranger) = onboard("Dispute Stranger Shop", &[]).await;
    let (payment, authorization) = paid(&till, 5_000).await;
    let opened = open_dispute(
        &till,
        json!({ "authorization": authorization, "reason": "a_reason_till_does_not_know" }),
    )
    .await;
    let dispute = dispute_of(&till, &payment, "needs_response").await;
    assert_eq!(dispute["reason"], "general");
    let id = dispute["id"].as_str().unwrap().to_string();
    let before = available(&till).await;
    assert_eq!(before, -FEE);

    // Another merchant's dispute does not exist for them.
    for path in [format!("/v1/disputes/{id}"), "/v1/disputes/dp_nope".into()] {
        let (status, body) = stranger.get(&path, &stranger.secret_key).await;
        assert_eq!((status, code(&body)), (404, "resource_missing"), "{path}");
    }
    let (status, _) = evidence(
        &stranger,
        &id,
        &new_key(),
        &json!({ "text": { "uncategorized_text": "winning_evidence" } }),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(close(&stranger, &id, &new_key()).await.0, 404);
    let (_, listed) = stranger.get("/v1/disputes", &stranger.secret_key).await;
    assert_eq!(listed["data"], json!([]));
    let (status, body) = till.get("/v1/disputes?status=open", &till.secret_key).await;
    assert_eq!((status, code(&body)), (400, "parameter_invalid"));

    let file = |name: &str, content_type: &str, data: String| json!({ "filename": name, "content_type": content_type, "data": data });
    let png64 = base64(&png());
    let refusals = [
        (json!({}), "evidence_invalid", None),
        (
            json!({ "text": { "uncategorized_text": "   " } }),
            "evidence_invalid",
            None,
        ),
        (
            json!({ "text": { "shipping_tracking_number": "1Z\n999" } }),
            "evidence_invalid",
            Some("text.shipping_tracking_number"),
        ),
        (
            json!({ "text": { "product_description": "운".repeat(5_001) } }),
            "evidence_invalid",
            Some("text.product_description"),
        ),
        (
            json!({ "text": { "uncategorized_text": "ok\u{1b}[2J" } }),
            "evidence_invalid",
            Some("text.uncategorized_text"),
        ),
        (
            json!({ "text": { "verdict": "won" } }),
            "parameter_invalid",
            None,
        ),
        (
            json!({ "files": [file("note.pdf", "application/pdf", png64.clone())] }),
            "evidence_file_invalid",
            Some("files[0].content_type"),
        ),
        (
            json!({ "files": [file("note.html", "text/html", png64.clone())] }),
            "evidence_file_invalid",
            Some("files[0].content_type"),
        ),
        (
            json!({ "files": [file("note.png", "image/png", "@@not base64@@".into())] }),
            "evidence_file_invalid",
            Some("files[0].data"),
        ),
        (
            json!({ "files": [file("note.png", "image/png", base64(b"<script>alert(1)</script>"))] }),
            "evidence_file_invalid",
            Some("files[0].data"),
        ),
        (
            json!({ "files": [file("../../etc/passwd", "image/png", png64.clone())] }),
            "evidence_file_invalid",
            Some("files[0].filename"),
        ),
        (
            json!({ "files": [file("big.png", "image/png", base64(&[png(), vec![0; 600 * 1024]].concat()))] }),
            "evidence_file_invalid",
            Some("files[0].data"),
        ),
        (
            json!({ "files": vec![file("a.png", "image/png", png64.clone()); 4] }),
            "evidence_file_invalid",
            Some("files"),
        ),
    ];
    for (body, expected, param) in refusals {
        let (status, refused) = evidence(&till, &id, &new_key(), &body).await;
        assert_eq!((status, code(&refused)), (400, expected), "{refused}");
        if let Some(param) = param {
            assert_eq!(refused["error"]["param"], param, "{refused}");
        }
    }
    let response = send(
        till.http
            .post(till.url(&format!("/v1/disputes/{id}/evidence")))
            .bearer_auth(&till.secret_key)
            .json(&json!({ "text": { "uncategorized_text": "no key" } })),
    )
    .await;
    let (status, missing) = json_of(response).await;
    assert_eq!((status, code(&missing)), (400, "idempotency_key_missing"));

    let (_, unchanged) = till
        .get(&format!("/v1/disputes/{id}"), &till.secret_key)
        .await;
    assert_eq!(unchanged["status"], "needs_response");
    assert_eq!(unchanged["evidence"], Value::Null);
    assert_eq!(available(&till).await, before);

    // Two different submissions at once: one is taken, the other refused.
    let first = json!({ "text": { "uncategorized_text": "Delivered; photo on file." } });
    let second = json!({ "text": { "refund_policy": "30 days, shown at checkout." } });
    let (key_a, key_b) = (new_key(), new_key());
    let (a, b) = tokio::join!(
        evidence(&till, &id, &key_a, &first),
        evidence(&till, &id, &key_b, &second),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.1, b.1);
    let taken = if a.0 == 200 { &a.1 } else { &b.1 };
    let refused = if a.0 == 200 { &b.1 } else { &a.1 };
    assert_eq!(taken["status"], "under_review");
    assert_eq!(code(refused), "dispute_under_review");
    let (_, reviewing) = till
        .get("/v1/disputes?status=under_review", &till.secret_key)
        .await;
    assert_eq!(reviewing["data"][0]["id"], id);
    assert_eq!(reviewing["data"][0]["evidence"], taken["evidence"]);
    let (_, waiting) = till
        .get("/v1/disputes?status=needs_response", &till.secret_key)
        .await;
    assert_eq!(waiting["data"], json!([]));

    // The network decides later: Till hears it by webhook and gives the money back.
    decide(&till, opened["id"].as_str().unwrap(), "won").await;
    dispute_of(&till, &payment, "won").await;
    assert_eq!(available(&till).await, 5_000);
    assert_eq!(event_count(&till, "dispute.updated").await, 1);
}

/// The sandbox's local webhook secret (sandbox/src/main.rs, edge/.dev.vars).
const WEBHOOK_SECRET: &[u8] = b"gwhsec_till_sandbox_local";

/// A signed `dispute.*` event as the sandbox would send it: the edge's outcome.
async fn dispute_event(till: &Till, event_id: &str, dispute: Value) -> String {
    let body = json!({
        "id": event_id,
        "type": "dispute.updated",
        "created": till_e2e::now(),
        "data": { "object": dispute },
    })
    .to_string();
    let signature = till_core::webhook::sign(WEBHOOK_SECRET, till_e2e::now(), body.as_bytes());
    let response = send(
        till.http
            .post(till.url("/v1/webhooks/gateway"))
            .header("Gateway-Signature", signature)
            .header("Content-Type", "application/json")
            .body(body),
    )
    .await;
    let (status, answer) = json_of(response).await;
    assert_eq!(status, 200, "{answer}");
    answer["outcome"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn gateway_dispute_events_that_do_not_fit_change_nothing_and_each_counts_once() {
    let (_, till) = onboard("Dispute Events Shop", &[]).await;
    let (payment, authorization) = paid(&till, 2_000).await;
    let object =
        |reference: &str, authorization: &str, amount: i64, currency: &str, status: &str| {
            json!({
                "id": reference, "status": status, "authorization": authorization,
                "reference": payment, "amount": amount, "currency": currency,
                "reason": "fraudulent", "evidence_due_by": till_e2e::now() + 86_400,
                "created": till_e2e::now(), "evidence": null,
            })
        };
    let gateway_id = format!("gwdp_{}", new_key());
    for (dispute, expected) in [
        (
            object(&gateway_id, &authorization, 2_001, "USD", "needs_response"),
            "implausible",
        ),
        (
            object(&gateway_id, &authorization, 1_000, "EUR", "needs_response"),
            "implausible",
        ),
        (
            object(&gateway_id, &authorization, 0, "USD", "needs_response"),
            "implausible",
        ),
        (
            object(
                &gateway_id,
                "gwp_someone_elses",
                1_000,
                "USD",
                "needs_response",
            ),
            "other_authorization",
        ),
    ] {
        assert_eq!(dispute_event(&till, &new_key(), dispute).await, expected);
    }
    let mut unknown = object(&gateway_id, "gwp_unknown", 1_000, "USD", "needs_response");
    unknown["reference"] = json!("pay_00000000000000000000000000000000");
    assert_eq!(
        dispute_event(&till, &new_key(), unknown).await,
        "unknown_payment"
    );
    let (_, listed) = till.get("/v1/disputes", &till.secret_key).await;
    assert_eq!(listed["data"], json!([]));
    assert_eq!(available(&till).await, 2_000);

    // Recorded once; a redelivery, a repeat and a late step change nothing.
    let first = new_key();
    let open = object(&gateway_id, &authorization, 1_000, "USD", "needs_response");
    assert_eq!(dispute_event(&till, &first, open.clone()).await, "recorded");
    assert_eq!(
        dispute_event(&till, &first, open.clone()).await,
        "duplicate"
    );
    assert_eq!(dispute_event(&till, &new_key(), open).await, "unchanged");
    assert_eq!(available(&till).await, 2_000 - 1_000 - FEE);
    let won = object(&gateway_id, &authorization, 1_000, "USD", "won");
    assert_eq!(dispute_event(&till, &new_key(), won).await, "applied");
    let late = object(&gateway_id, &authorization, 1_000, "USD", "under_review");
    assert_eq!(dispute_event(&till, &new_key(), late).await, "stale");
    assert_eq!(available(&till).await, 2_000);
    assert_eq!(dispute_of(&till, &payment, "won").await["amount"], 1_000);

    // Two events about a new dispute at once: one records it, the other changes nothing.
    let (second, second_authorization) = paid(&till, 3_000).await;
    let other_id = format!("gwdp_{}", new_key());
    let mut both = object(
        &other_id,
        &second_authorization,
        3_000,
        "USD",
        "needs_response",
    );
    both["reference"] = json!(second);
    let (event_a, event_b) = (new_key(), new_key());
    let (a, b) = tokio::join!(
        dispute_event(&till, &event_a, both.clone()),
        dispute_event(&till, &event_b, both),
    );
    let mut outcomes = [a, b];
    outcomes.sort();
    assert_eq!(outcomes, ["recorded", "unchanged"]);
    assert_eq!(available(&till).await, 2_000 + 3_000 - 3_000 - FEE);
}
