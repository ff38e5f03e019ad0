//! Daily reconciliation against the sandbox's settlement file: a clean day has no findings; a
//! day with one injected mismatch of each kind has exactly those; a payment left `processing`
//! that the file shows settled is fixed; bank payments are reconciled against the bank's file.
//! Uses its own merchant, so its day holds only this.

use serde_json::{json, Value};
use till_e2e::{bank, json_of, new_key, Till};

fn till() -> Till {
    Till::for_merchant(
        "sk_test_till_recon_merchant_secret",
        "pk_test_till_recon_merchant_publishable",
    )
}

async fn paid(till: &Till, amount: i64, capture: &str, number: &str) -> Value {
    let session = till.create_session_with(amount, capture).await;
    let token = till.token(&session, number).await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "{payment}");
    payment
}

async fn with_key(till: &Till, path: &str, body: Value) -> Value {
    let response = till
        .http
        .post(till.url(path))
        .bearer_auth(&till.secret_key)
        .header("Idempotency-Key", new_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn run(till: &Till) -> Value {
    let (status, run) = till
        .post("/v1/reconciliation/runs", &till.secret_key, &json!({}))
        .await;
    assert_eq!(status, 200, "{run}");
    run
}

async fn gateway_id(till: &Till, payment: &Value) -> String {
    let charges = till
        .gateway_authorizations(payment["id"].as_str().unwrap())
        .await;
    charges[0]["id"].as_str().unwrap().to_string()
}

async fn inject(till: &Till, injection: Value) {
    let response = till
        .http
        .post(format!("{}/v1/control/settlement", till.gateway))
        .bearer_auth(till_e2e::GATEWAY_KEY)
        .json(&injection)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test]
async fn reconciliation_finds_every_mismatch_and_nothing_else() {
    let till = till();
    let a = paid(&till, 9_100, "automatic", "4242424242424242").await;
    let b = paid(&till, 9_200, "automatic", "5555555555554444").await;
    let refund = with_key(
        &till,
        "/v1/refunds",
        json!({ "payment": b["id"], "amount": 2_000 }),
    )
    .await;
    let declined = paid(&till, 9_300, "automatic", "4000000000000002").await;
    assert_eq!(declined["status"], "failed");
    let d = paid(&till, 9_400, "manual", "4242424242424242").await;
    with_key(
        &till,
        &format!("/v1/payments/{}/capture", d["id"].as_str().unwrap()),
        json!({ "amount": 5_000 }),
    )
    .await;

    // A payment from a bank account: the bank's own file lists it, not the gateway's.
    let session = bank::bank_session(&till, 9_600, "USD", json!(["bank_redirect"])).await;
    let waiting = bank::pay_from(&till, &session, "sandbox_bank").await;
    let back = bank::approve_at_bank(&bank::redirect_url(&waiting), "ada", "123456").await;
    let returned = bank::customer().get(&back).send().await.unwrap();
    assert_eq!(returned.status(), 200);
    assert_eq!(till.payment_of(&session).await["status"], "succeeded");

    // A clean day: captures, a partial capture, a refund, a bank payment and a decline all
    // agree. Till's side is the money that moved (three card captures, one bank payment, one
    // refund): the decline moved none.
    let clean = run(&till).await;
    assert_eq!(clean["findings"], json!([]), "{clean}");
    assert_eq!(clean["till_records"], 5, "{clean}");

    // A payment whose answer and webhook were lost stays `processing` until the file shows it.
    till.fault(json!({ "amount": 9_500, "drop_response": true, "webhook_drop": true }))
        .await;
    let session = till.create_session_with(9_500, "automatic").await;
    let token = till.token(&session, "4242424242424242").await;
    let (status, _, _) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 502);
    let stuck = till.payment_of(&session).await;
    assert_eq!(stuck["status"], "processing");

    let unknown = "pay_00000000000040008000000000000000";
    inject(
        &till,
        json!({
            "drop": [gateway_id(&till, &a).await],
            "amount_delta": { gateway_id(&till, &b).await: 1 },
            "currency": { gateway_id(&till, &d).await: "EUR" },
            "extra": [
                { "gateway_payment_id": "gwp_injected_unknown", "merchant_reference": unknown, "type": "charge", "gross": 777, "currency": "USD" },
                { "gateway_payment_id": "gwp_injected_declined", "merchant_reference": declined["id"], "type": "charge", "gross": 9_300, "currency": "USD" },
            ],
        }),
    )
    .await;

    let day = run(&till).await;
    let mut found: Vec<(String, String)> = day["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["reference"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        (
            "missing_at_gateway".to_string(),
            a["id"].as_str().unwrap().to_string(),
        ),
        (
            "amount_mismatch".to_string(),
            b["id"].as_str().unwrap().to_string(),
        ),
        (
            "currency_mismatch".to_string(),
            d["id"].as_str().unwrap().to_string(),
        ),
        (
            "status_mismatch".to_string(),
            declined["id"].as_str().unwrap().to_string(),
        ),
        (
            "status_mismatch".to_string(),
            stuck["id"].as_str().unwrap().to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(
        found, expected,
        "every injected mismatch, and nothing else: {day}"
    );
    // A line that belongs to no merchant goes to the operator's report, never to a merchant.
    assert!(!day.to_string().contains(unknown), "{day}");
    assert_ne!(refund["id"], Value::Null);

    // The stuck payment was settled from the gateway's record.
    let fixed = till.payment_of(&session).await;
    assert_eq!(fixed["status"], "succeeded");
    let note = day["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["reference"] == stuck["id"])
        .unwrap();
    assert!(
        note["detail"]
            .as_str()
            .unwrap()
            .contains("fixed: now succeeded"),
        "{note}"
    );

    // Runs are kept and listed.
    let id = day["id"].as_str().unwrap();
    let (status, again) = till
        .get(&format!("/v1/reconciliation/runs/{id}"), &till.secret_key)
        .await;
    assert_eq!((status, &again["findings"]), (200, &day["findings"]));
    let (status, list) = till.get("/v1/reconciliation/runs", &till.secret_key).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
}
