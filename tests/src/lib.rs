//! Helpers for Till's end-to-end tests. `cargo xtask test` starts the stack and passes its
//! addresses in `TILL_*` variables; run alone, the tests stop at once and say so.

pub mod bank;
pub mod billing;
pub mod browser;
pub mod gateways;
pub mod merchants;
pub mod people;
pub mod saved_cards;
pub mod wallet;

use reqwest::{Client, Response};
use serde_json::{json, Value};
use till_core::jwe::Jwks;

/// The demo merchant seeded by `edge/seed/demo.sql` (local only).
pub const SECRET_KEY: &str = "sk_test_till_demo_merchant_secret";
pub const PUBLISHABLE_KEY: &str = "pk_test_till_demo_merchant_publishable";
/// The sandbox gateway's key (sandbox/src/main.rs).
pub const GATEWAY_KEY: &str = "gw_test_till_sandbox_key";

pub fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the end-to-end tests with `cargo xtask test`")
    })
}

pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).expect("OS randomness");
    out
}

pub fn new_key() -> String {
    format!("test-{}", hex(&random::<16>()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Has `cargo xtask test` kill the edge and start it again on the same local state (a new
/// isolate: nothing it held in memory survives), and waits until it is back. Only for a test in
/// a binary of its own, so the restart disturbs no other test.
pub async fn restart_edge() {
    restart(&[]).await;
}

/// [`restart_edge`], the edge then running with the settings (variables or secrets) in
/// `overrides` in place of its own until the next restart. Keep what it returns until the
/// test has restarted the edge with its own settings again: if the test fails first, dropping
/// it restarts the edge, so the test binaries after it do not meet an edge left broken.
pub async fn restart_edge_with(overrides: &[(&str, &str)]) -> OverriddenEdge {
    restart(overrides).await;
    OverriddenEdge
}

async fn restart(overrides: &[(&str, &str)]) {
    let request = ask_for_restart(overrides);
    for _ in 0..RESTART_POLLS {
        if !request.exists() {
            return;
        }
        tokio::time::sleep(RESTART_POLL).await;
    }
    panic!("the edge did not come back within a minute");
}

/// The edge running with a test's settings; see [`restart_edge_with`].
#[must_use = "it gives the edge its own settings back if the test fails"]
pub struct OverriddenEdge;

impl Drop for OverriddenEdge {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        // Unwinding, possibly inside the runtime: wait without it.
        let request = ask_for_restart(&[]);
        for _ in 0..RESTART_POLLS {
            if !request.exists() {
                return;
            }
            std::thread::sleep(RESTART_POLL);
        }
        eprintln!("the edge did not come back with its own settings within a minute");
    }
}

const RESTART_POLL: std::time::Duration = std::time::Duration::from_millis(100);
const RESTART_POLLS: u32 = 600;

/// Writes the request `cargo xtask test` restarts the edge for; the file is gone once the
/// edge is back.
fn ask_for_restart(overrides: &[(&str, &str)]) -> std::path::PathBuf {
    let request = std::path::PathBuf::from(setting("TILL_ARTIFACTS")).join("restart-edge");
    let asked: String = overrides
        .iter()
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect();
    // Written aside and renamed, so the runner never reads half a request.
    let draft = request.with_extension("draft");
    std::fs::write(&draft, asked).expect("the restart request");
    std::fs::rename(&draft, &request).expect("the restart request");
    request
}

/// Runs `sql` on the edge's local D1 database, beside the running edge (`wrangler d1 execute`
/// on the same local state), and returns the rows of each statement: for a record the API
/// cannot make, such as one dated weeks ago, or cannot show.
pub fn local_d1(sql: &str) -> Vec<Vec<Value>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository");
    let artifacts = std::path::PathBuf::from(setting("TILL_ARTIFACTS"));
    let output = std::process::Command::new(root.join("node_modules/.bin/wrangler"))
        .args([
            "d1",
            "execute",
            "DB",
            "--local",
            "--json",
            "-c",
            "edge/wrangler.toml",
        ])
        .arg("--persist-to")
        .arg(artifacts.join("state"))
        .arg("--command")
        .arg(sql)
        .env("WRANGLER_LOG_PATH", artifacts.join("wrangler-debug.log"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CI", "true")
        .current_dir(root)
        .output()
        .expect("wrangler runs");
    assert!(
        output.status.success(),
        "wrangler d1 execute: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).expect("wrangler's JSON");
    results
        .iter()
        .map(|result| result["results"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The JWE plaintext: the card, when it was encrypted, and a fresh nonce.
pub fn payload(card: &Value, iat: i64) -> Value {
    json!({ "card": card, "iat": iat, "nonce": till_core::jwe::b64(&random::<16>()) })
}

/// A card as the widget encrypts it.
pub fn card(number: &str) -> Value {
    let cvc = if number.starts_with("34") || number.starts_with("37") {
        "1234"
    } else {
        "123"
    };
    json!({ "number": number, "exp_month": 12, "exp_year": 2034, "cvc": cvc, "name": "Ada Lovelace" })
}

/// An HTTP client for the edge and the sandbox.
pub struct Till {
    pub http: Client,
    pub edge: String,
    pub gateway: String,
    /// The merchant the helpers act for (the demo merchant by default).
    pub secret_key: String,
    pub publishable_key: String,
}

pub struct Session {
    pub id: String,
    pub client_secret: String,
    pub body: Value,
}

impl Session {
    /// The session `POST /v1/checkout_sessions` answered with.
    pub fn from_created(body: Value) -> Session {
        Session {
            id: body["id"].as_str().expect("id").to_string(),
            client_secret: body["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_string(),
            body,
        }
    }
}

/// A client that calls like a page of Till's own origin (publishable keys need an `Origin`),
/// from its own client address (`CF-Connecting-IP`, an IPv6 documentation address), so tests
/// do not share one rate-limit window.
pub fn browser_like_client(edge: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let [a, b, c, d, e, f] = random::<6>();
    let ip = format!(
        "2001:db8::{}:{}:{}",
        hex(&[a, b]),
        hex(&[c, d]),
        hex(&[e, f])
    );
    for (name, value) in [("Origin", edge), ("CF-Connecting-IP", ip.as_str())] {
        headers.insert(
            name,
            reqwest::header::HeaderValue::from_str(value).expect("header value"),
        );
    }
    Client::builder()
        .default_headers(headers)
        // wrangler's local proxy closes a keep-alive connection idle for 5 s; a client that
        // sends on it at that moment reads a cut answer (`IncompleteMessage`). Idle
        // connections are dropped here first.
        .pool_idle_timeout(std::time::Duration::from_secs(3))
        .build()
        .expect("HTTP client")
}

impl Default for Till {
    fn default() -> Self {
        let edge = setting("TILL_EDGE_URL");
        Till {
            http: browser_like_client(&edge),
            edge,
            gateway: setting("TILL_GATEWAY_URL"),
            secret_key: SECRET_KEY.into(),
            publishable_key: PUBLISHABLE_KEY.into(),
        }
    }
}

/// Sends a request, resending it when `wrangler dev`'s local proxy answers "Your worker restarted
/// mid-request" (a 503 it makes itself, never Till; seen a few times per run on 2 cores). Only
/// used for requests that are safe to repeat.
pub async fn send(request: reqwest::RequestBuilder) -> Response {
    for _ in 0..3 {
        let attempt = request.try_clone().expect("a repeatable request");
        let response = attempt.send().await.expect("edge reachable");
        if response.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE {
            return response;
        }
        let text = response.text().await.unwrap_or_default();
        if !text.starts_with("Your worker restarted mid-request") {
            panic!("503 from Till: {text}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    request.send().await.expect("edge reachable")
}

pub async fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("response body");
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

impl Till {
    /// Helpers acting for another seeded merchant.
    pub fn for_merchant(secret_key: &str, publishable_key: &str) -> Till {
        Till {
            secret_key: secret_key.into(),
            publishable_key: publishable_key.into(),
            ..Till::default()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.edge)
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        json_of(send(self.http.post(self.url(path)).bearer_auth(key).json(body)).await).await
    }

    /// A POST that moves money, with a fresh `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        json_of(
            send(
                self.http
                    .post(self.url(path))
                    .bearer_auth(key)
                    .header("Idempotency-Key", new_key())
                    .json(body),
            )
            .await,
        )
        .await
    }

    /// Runs the edge's every-minute cron (the poller) now, as `wrangler dev --test-scheduled`
    /// allows.
    pub async fn run_poller(&self) {
        let response = self
            .http
            .get(self.url("/__scheduled"))
            .query(&[("cron", "* * * * *")])
            .send()
            .await
            .expect("edge reachable");
        assert!(
            response.status().is_success(),
            "cron trigger: {}",
            response.status()
        );
    }

    /// What the sandbox's mailbox holds for `to`, waiting up to 20 s for `count` messages.
    pub async fn mail_to(&self, to: &str, count: usize) -> Vec<Value> {
        let mut messages = Vec::new();
        for _ in 0..200 {
            let response = self
                .http
                .get(format!("{}/v1/mail/messages", self.gateway))
                .query(&[("to", to)])
                .bearer_auth(GATEWAY_KEY)
                .send()
                .await
                .expect("sandbox reachable");
            let body: Value = response.json().await.expect("JSON");
            messages = body["data"].as_array().cloned().unwrap_or_default();
            if messages.len() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        messages
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        json_of(
            self.http
                .get(self.url(path))
                .bearer_auth(key)
                .send()
                .await
                .expect("edge reachable"),
        )
        .await
    }

    pub async fn create_session(&self, amount: i64) -> Session {
        self.create_session_with(amount, "automatic").await
    }

    pub async fn create_session_with(&self, amount: i64, capture_method: &str) -> Session {
        self.new_session(amount, "capture_method", capture_method)
            .await
    }

    /// A session whose receipt goes to `email`: the customer the risk rules count it for.
    pub async fn create_session_for(&self, amount: i64, email: &str) -> Session {
        self.new_session(amount, "receipt_email", email).await
    }

    /// A session of `amount` USD for one test item, with `field` set to `value`.
    async fn new_session(&self, amount: i64, field: &str, value: &str) -> Session {
        let mut body = json!({
            "amount": amount,
            "currency": "USD",
            "line_items": [{ "name": "Test item", "quantity": 1, "unit_amount": amount }],
        });
        body[field] = json!(value);
        let (status, body) = self
            .post("/v1/checkout_sessions", &self.secret_key, &body)
            .await;
        assert_eq!(status, 200, "create session: {body}");
        Session::from_created(body)
    }

    pub async fn jwks(&self) -> Jwks {
        let (status, body) = json_of(
            self.http
                .get(self.url("/v1/keys"))
                .send()
                .await
                .expect("edge"),
        )
        .await;
        assert_eq!(status, 200);
        serde_json::from_value(body).expect("JWKS")
    }

    /// Encrypts a card to the edge's current key for `session_id`, as the widget does.
    pub async fn encrypt(&self, session_id: &str, card: &Value) -> String {
        self.encrypt_payload(session_id, &payload(card, now()), 0)
            .await
    }

    /// Encrypts any plaintext to the key at `key_index` in the edge's JWKS.
    pub async fn encrypt_payload(
        &self,
        session_id: &str,
        payload: &Value,
        key_index: usize,
    ) -> String {
        let jwks = self.jwks().await;
        let plaintext = serde_json::to_vec(payload).expect("payload JSON");
        loop {
            // Retry in the negligible case the random bytes are not a valid P-256 scalar.
            if let Ok(jwe) = till_core::crypto::encrypt(
                &jwks.keys[key_index],
                session_id,
                &plaintext,
                random(),
                random(),
            ) {
                return jwe;
            }
        }
    }

    /// A saved card's security code typed again, as the widget encrypts it for `session`
    /// (`encrypted_cvc` on the confirm).
    pub async fn encrypt_cvc(&self, session: &Session, cvc: &str) -> String {
        let nonce = till_core::jwe::b64(&random::<16>());
        let payload = json!({ "cvc": cvc, "iat": now(), "nonce": nonce });
        self.encrypt_payload(&session.id, &payload, 0).await
    }

    /// `POST /v1/tokens` with a card already encrypted for `session`: the whole answer.
    pub async fn send_token_request(&self, session: &Session, encrypted_card: &str) -> Response {
        send(
            self.http
                .post(self.url("/v1/tokens"))
                .bearer_auth(&self.publishable_key)
                .json(&json!({
                    "checkout_session": session.id,
                    "client_secret": session.client_secret,
                    "encrypted_card": encrypted_card,
                })),
        )
        .await
    }

    pub async fn tokenize(&self, session: &Session, card: &Value) -> (u16, Value) {
        let encrypted_card = self.encrypt(&session.id, card).await;
        json_of(self.send_token_request(session, &encrypted_card).await).await
    }

    pub async fn token(&self, session: &Session, number: &str) -> String {
        let (status, body) = self.tokenize(session, &card(number)).await;
        assert_eq!(status, 200, "tokenize: {body}");
        body["id"].as_str().expect("token id").to_string()
    }

    /// `POST /v1/checkout_sessions/:id/confirm` with a token, the client secret given (the
    /// session's own, or another to be refused) and an explicit idempotency key: the whole
    /// answer.
    pub async fn send_confirm(
        &self,
        session: &Session,
        client_secret: &str,
        token: &str,
        idempotency_key: &str,
    ) -> Response {
        let body = json!({ "client_secret": client_secret, "token": token });
        self.send_confirm_body(session, &body, idempotency_key)
            .await
    }

    /// `POST /v1/checkout_sessions/:id/confirm` with `body` as the widget sends it (its
    /// `client_secret` included) and an explicit idempotency key: the whole answer.
    pub async fn send_confirm_body(
        &self,
        session: &Session,
        body: &Value,
        idempotency_key: &str,
    ) -> Response {
        send(
            self.http
                .post(self.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
                .bearer_auth(&self.publishable_key)
                .header("Idempotency-Key", idempotency_key)
                .json(body),
        )
        .await
    }

    /// Confirms with an explicit idempotency key; returns status, replay header and body.
    pub async fn confirm(
        &self,
        session: &Session,
        token: &str,
        idempotency_key: &str,
    ) -> (u16, bool, Value) {
        let response = self
            .send_confirm(session, &session.client_secret, token, idempotency_key)
            .await;
        let replayed = response
            .headers()
            .get("Idempotent-Replayed")
            .is_some_and(|v| v == "true");
        let (status, body) = json_of(response).await;
        (status, replayed, body)
    }

    pub async fn session_state(&self, session: &Session) -> Value {
        let (status, body) = self
            .get(
                &format!("/v1/checkout_sessions/{}", session.id),
                &self.secret_key,
            )
            .await;
        assert_eq!(status, 200);
        body
    }

    /// Tells the sandbox to misbehave for authorizations of `amount`.
    pub async fn fault(&self, fault: Value) {
        let response = self
            .http
            .post(format!("{}/v1/control/faults", self.gateway))
            .bearer_auth(GATEWAY_KEY)
            .json(&fault)
            .send()
            .await
            .expect("sandbox reachable");
        assert!(response.status().is_success());
    }

    /// The payment behind a session, read with the secret key.
    pub async fn payment_of(&self, session: &Session) -> Value {
        let state = self.session_state(session).await;
        let id = state["payment"].as_str().expect("session has a payment");
        let (status, payment) = self
            .get(&format!("/v1/payments/{id}"), &self.secret_key)
            .await;
        assert_eq!(status, 200);
        payment
    }

    /// Authorizations the sandbox gateway holds for one Till payment.
    pub async fn gateway_authorizations(&self, payment_id: &str) -> Vec<Value> {
        let response = self
            .http
            .get(format!("{}/v1/authorizations", self.gateway))
            .query(&[("reference", payment_id)])
            .bearer_auth(GATEWAY_KEY)
            .send()
            .await
            .expect("sandbox reachable");
        let (status, body) = json_of(response).await;
        assert_eq!(status, 200);
        body["data"].as_array().cloned().unwrap_or_default()
    }
}
