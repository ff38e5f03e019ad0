//! Every answer carries a `Request-Id`, and the edge logs one structured line per request under
//! it, with the route's pattern (never its ids or query), the status and the time taken. The
//! answers of a customer's press of Pay (the token, the confirm) say in `Server-Timing` what
//! they waited on.

use std::collections::HashSet;
use std::time::Instant;
use till_e2e::{card, json_of, new_key, send, setting, Till};

fn request_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("Request-Id")
        .and_then(|v| v.to_str().ok())
        .expect("a Request-Id")
        .to_string()
}

/// The edge's log line for `id`, waiting a moment for the log to be written.
async fn log_line(id: &str) -> serde_json::Value {
    let path = format!("{}/edge.log", setting("TILL_ARTIFACTS"));
    for _ in 0..50 {
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(line) = log
            .lines()
            .find(|l| l.contains(id) && l.contains("\"route\""))
        {
            let json = &line[line.find('{').expect("a JSON line")..];
            return serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {line}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no log line for {id} in {path}");
}

#[tokio::test]
async fn each_request_gets_an_id_and_one_structured_log_line_without_secrets() {
    let till = Till::default();
    let session = till.create_session(1_000).await;
    let secret_path = format!(
        "/v1/checkout_sessions/{}?client_secret={}",
        session.id, session.client_secret
    );
    let mut seen = HashSet::new();
    for (path, route, status) in [
        ("/v1/keys".to_string(), "/v1/keys", 200),
        (
            "/v1/payments/pay_00000000000040008000000000000000".to_string(),
            "/v1/payments/{id}",
            404,
        ),
        (secret_path, "/v1/checkout_sessions/{id}", 200),
        ("/v1/nowhere".to_string(), "unknown", 404),
    ] {
        let response = send(till.http.get(till.url(&path)).bearer_auth(&till.secret_key)).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        let id = request_id(&response);
        assert!(
            id.len() == 36
                && id.starts_with("req_")
                && id[4..].bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
        assert!(seen.insert(id.clone()), "ids are unique");
        let line = log_line(&id).await;
        assert_eq!(
            (
                line["route"].as_str(),
                line["status"].as_u64(),
                line["method"].as_str()
            ),
            (Some(route), Some(u64::from(status)), Some("GET")),
            "{line}"
        );
        assert!(line["ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
        let text = line.to_string();
        assert!(
            !text.contains(&session.client_secret) && !text.contains("pay_0000"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_merchant_reads_p50_p99_and_error_rates_of_its_own_routes() {
    let (_, till) = till_e2e::merchants::onboard("Metrics Shop", &[]).await;
    let (_, other) = till_e2e::merchants::onboard("Other Metrics Shop", &[]).await;
    for _ in 0..6 {
        let (status, _) = till.get("/v1/payments?limit=1", &till.secret_key).await;
        assert_eq!(status, 200);
    }
    let (status, _) = till
        .get(
            "/v1/refunds/re_00000000000000000000000000000000",
            &till.secret_key,
        )
        .await;
    assert_eq!(status, 404);
    let (status, refused) = till
        .get("/v1/metrics/routes?minutes=0", &till.secret_key)
        .await;
    assert_eq!(
        (status, refused["error"]["param"].as_str()),
        (400, Some("minutes"))
    );
    // The log is the local record: wait until the requests are in it.
    let mut payments = serde_json::Value::Null;
    for _ in 0..50 {
        let (status, metrics) = till
            .get("/v1/metrics/routes?minutes=5", &till.secret_key)
            .await;
        assert_eq!(status, 200, "{metrics}");
        payments = metrics["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["route"] == "/v1/payments")
            .cloned()
            .unwrap_or_default();
        if payments["requests"].as_i64() == Some(6) {
            let refunds = metrics["routes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["route"] == "/v1/refunds/{id}")
                .cloned()
                .expect("the refund lookup");
            assert_eq!(
                (refunds["requests"].as_i64(), refunds["errors"].as_i64()),
                (Some(1), Some(0))
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(payments["requests"], 6, "{payments}");
    assert_eq!(payments["errors"], 0);
    assert!(payments["p50_ms"].as_i64().unwrap() <= payments["p99_ms"].as_i64().unwrap());
    // Another merchant's figures hold none of these requests.
    let (_, theirs) = other
        .get("/v1/metrics/routes?minutes=5", &other.secret_key)
        .await;
    assert!(
        theirs["routes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["route"] != "/v1/payments" && r["route"] != "/v1/refunds/{id}"),
        "{theirs}"
    );
}

#[tokio::test]
async fn a_warning_logged_inside_a_request_names_that_request() {
    let till = Till::default();
    let response = send(
        till.http
            .post(till.url("/v1/webhooks/gateway"))
            .header("Gateway-Signature", "t=1,v1=00")
            .body("{}"),
    )
    .await;
    assert_eq!(response.status(), 400);
    let id = request_id(&response);
    let path = format!("{}/edge.log", setting("TILL_ARTIFACTS"));
    let mut found = None;
    for _ in 0..50 {
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        found = log
            .lines()
            .find(|l| l.contains("gateway webhook refused") && l.contains(&id))
            .map(str::to_string);
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let line = found.unwrap_or_else(|| panic!("no warning with {id} in {path}"));
    // Wrangler colours warnings: terminal codes follow the JSON.
    let json: serde_json::Value =
        serde_json::Deserializer::from_str(&line[line.find('{').unwrap()..])
            .into_iter()
            .next()
            .unwrap()
            .unwrap();
    assert_eq!(
        (json["level"].as_str(), json["request_id"].as_str()),
        (Some("warn"), Some(id.as_str()))
    );
}

/// The steps an answer reports in `Server-Timing`, with their milliseconds.
fn steps(response: &reqwest::Response) -> Vec<(String, f64)> {
    response
        .headers()
        .get("Server-Timing")
        .and_then(|v| v.to_str().ok())
        .map(till_core::server_timing::parse)
        .unwrap_or_default()
}

/// The steps' names, each checked to be a real duration that fits in what the client waited
/// (they are consecutive intervals of one request, so they add up to at most its whole time;
/// the edge's clock has whole milliseconds).
fn checked_names(steps: &[(String, f64)], waited_ms: f64) -> Vec<&str> {
    let total: f64 = steps.iter().map(|(_, ms)| ms).sum();
    assert!(
        steps.iter().all(|(_, ms)| *ms >= 0.0) && total <= waited_ms + 1.0,
        "{steps:?} in {waited_ms} ms"
    );
    steps.iter().map(|(name, _)| name.as_str()).collect()
}

#[tokio::test]
async fn paying_says_what_each_answer_waited_on() {
    let till = Till::default();
    let session = till.create_session(1_000).await;
    let encrypted_card = till.encrypt(&session.id, &card("4242424242424242")).await;
    let started = Instant::now();
    let response = till.send_token_request(&session, &encrypted_card).await;
    let waited = started.elapsed().as_secs_f64() * 1000.0;
    let token_steps = steps(&response);
    let (status, token) = json_of(response).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(
        checked_names(&token_steps, waited),
        ["reads", "bin", "vault"]
    );

    let token = token["id"].as_str().expect("token id");
    // A refusal shows where it stopped: after the reads, before any payment started.
    let started = Instant::now();
    let response = till
        .send_confirm(&session, "cs_secret_wrong", token, &new_key())
        .await;
    let waited = started.elapsed().as_secs_f64() * 1000.0;
    let refused_steps = steps(&response);
    let (status, refusal) = json_of(response).await;
    assert_eq!(
        (status, refusal["error"]["code"].as_str()),
        (400, Some("client_secret_invalid")),
        "{refusal}"
    );
    assert_eq!(checked_names(&refused_steps, waited), ["claim", "reads"]);

    let key = new_key();
    let started = Instant::now();
    let response = till
        .send_confirm(&session, &session.client_secret, token, &key)
        .await;
    let waited = started.elapsed().as_secs_f64() * 1000.0;
    let paid_steps = steps(&response);
    let (status, payment) = json_of(response).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded")),
        "{payment}"
    );
    assert_eq!(
        checked_names(&paid_steps, waited),
        ["claim", "reads", "start", "gateway", "record"]
    );

    // A replay is the stored answer, found before anything is waited on.
    let response = till
        .send_confirm(&session, &session.client_secret, token, &key)
        .await;
    assert_eq!(response.headers()["Idempotent-Replayed"], "true");
    assert!(steps(&response).is_empty(), "{:?}", steps(&response));
}
