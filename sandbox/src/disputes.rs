//! Disputes (chargebacks) in the gateway dialect: the card network takes a captured payment
//! back, the merchant answers with evidence or accepts, and the network decides. Tests open
//! disputes and steer their outcome; every change is a signed webhook like the gateway's others.
//!
//! - `POST /v1/control/disputes` `{authorization, reason, amount?}` (tests): opens a dispute on
//!   a captured authorization for `amount` (default: all that is captured and not refunded),
//!   `needs_response`, evidence due in [`EVIDENCE_WINDOW_SECONDS`]. `reason` is passed on as the
//!   network says it (any `a-z_` word, so tests can send one Till does not know). 404 unknown
//!   authorization; 409 not captured, fully refunded or already disputed (one dispute per
//!   authorization, as networks allow); 400 an amount beyond what is captured less refunded.
//!   Sends `dispute.created`.
//! - `GET /v1/disputes/{id}`, `GET /v1/disputes?authorization=gwp_..`.
//! - `POST /v1/disputes/{id}/evidence` `{text: {product_description?, customer_communication?,
//!   shipping_tracking_number?, refund_policy?, cancellation_rebuttal?, uncategorized_text?},
//!   files: [{content_type, size, sha256}]}` (what Till forwards: the text and its files'
//!   digests): `needs_response` -> `under_review`, sends `dispute.updated`; once only (409 after).
//! - `POST /v1/disputes/{id}/close`: the merchant accepts, `needs_response` -> `lost`, sends
//!   `dispute.closed`; 409 once evidence is in or the dispute is decided.
//! - `POST /v1/control/disputes/{id}/decide` `{outcome: won|lost}` (tests): the network decides
//!   a dispute under review, or one still waiting for a response (`lost`: no answer in time;
//!   `won`: the cardholder withdrew). Sends `dispute.closed`. 409 once decided.
//!
//! **The outcome rule tests control** (Stripe's own test convention): when evidence is
//! submitted, its `uncategorized_text` decides at once. Containing `winning_evidence`, the
//! dispute is `won`; else containing `losing_evidence`, it is `lost`; otherwise it stays
//! `under_review` until `/decide`. A decision made with the evidence is sent as
//! `dispute.updated` (under review) then `dispute.closed` (decided), in that order, and the
//! answer shows the decided dispute.
//!
//! The API's POSTs take an `Idempotency-Key` (scoped to the dispute): the same key answers the
//! first answer again and sends nothing. Webhook faults set for an amount
//! (`/v1/control/faults`) apply to the disputes of that amount. A disputed authorization can no
//! longer be refunded (409 `charge_disputed`, as Stripe answers).

use crate::gateway::{admit, error, new_id, once_telling, value, Gateway, Reply};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use till_core::dispute::{
    DisputeStatus, EvidenceText, FileType, MAX_FILES, MAX_FILE_BYTES, MAX_TOTAL_FILE_BYTES,
};
use till_core::error::ApiError;

/// How long the merchant has to answer: 7 days, within the 7 to 21 days networks give.
pub const EVIDENCE_WINDOW_SECONDS: i64 = 7 * 24 * 60 * 60;
/// Evidence containing this in `uncategorized_text` wins at once.
pub const WINNING_EVIDENCE: &str = "winning_evidence";
/// Evidence containing this in `uncategorized_text` (and not the winning text) loses at once.
pub const LOSING_EVIDENCE: &str = "losing_evidence";

#[derive(Debug, Clone, Serialize)]
pub struct GatewayDispute {
    pub id: String,
    pub status: DisputeStatus,
    pub authorization: String,
    /// The authorization's reference: Till's payment id.
    pub reference: String,
    pub amount: i64,
    pub currency: String,
    /// As the network says it.
    pub reason: String,
    /// Unix seconds.
    pub evidence_due_by: i64,
    pub evidence: Option<SubmittedEvidence>,
    pub created: i64,
}

/// The evidence the gateway got: the text, and the files by digest.
#[derive(Debug, Clone, Serialize)]
pub struct SubmittedEvidence {
    pub text: EvidenceText,
    pub files: Vec<FileDigest>,
    /// Unix seconds.
    pub submitted: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    pub content_type: FileType,
    pub size: u64,
    /// Hex SHA-256 of the file.
    pub sha256: String,
}

/// The network's disputes, by id.
#[derive(Default)]
pub struct Disputes {
    by_id: HashMap<String, GatewayDispute>,
}

impl Disputes {
    /// Whether `authorization` has a dispute (it has at most one).
    pub fn disputed(&self, authorization: &str) -> bool {
        self.by_id
            .values()
            .any(|d| d.authorization == authorization)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn no_such_dispute() -> Reply {
    error(StatusCode::NOT_FOUND, "not_found", "no such dispute")
}

/// A reason as networks write them: a short lower-case word with underscores.
fn reason_ok(reason: &str) -> bool {
    (1..=64).contains(&reason.len()) && reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenDispute {
    authorization: String,
    reason: String,
    #[serde(default)]
    amount: Option<i64>,
}

pub async fn open(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<OpenDispute>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let Ok(Json(request)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    if !reason_ok(&request.reason) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "reason is 1 to 64 of a-z and _",
        );
    }
    let opened = {
        let mut ledger = gateway.ledger();
        let Some(authorization) = ledger.authorizations.get(&request.authorization).cloned() else {
            return error(StatusCode::NOT_FOUND, "not_found", "no such authorization");
        };
        if authorization.status != "captured" {
            return error(
                StatusCode::CONFLICT,
                "invalid_state",
                "only a captured authorization can be disputed",
            );
        }
        if ledger.disputes.disputed(&authorization.id) {
            return error(
                StatusCode::CONFLICT,
                "already_disputed",
                "this authorization is already disputed",
            );
        }
        let disputable = authorization.amount_captured - authorization.amount_refunded;
        if disputable <= 0 {
            return error(
                StatusCode::CONFLICT,
                "invalid_state",
                "nothing left to dispute: refunded in full",
            );
        }
        let amount = request.amount.unwrap_or(disputable);
        if amount <= 0 || amount > disputable {
            return error(
                StatusCode::BAD_REQUEST,
                "amount_invalid",
                "a dispute is for at most what is captured less refunds",
            );
        }
        let created = now();
        let dispute = GatewayDispute {
            id: new_id("gwdp_"),
            status: DisputeStatus::NeedsResponse,
            authorization: authorization.id,
            reference: authorization.reference,
            amount,
            currency: authorization.currency,
            reason: request.reason,
            evidence_due_by: created + EVIDENCE_WINDOW_SECONDS,
            evidence: None,
            created,
        };
        println!(
            "gateway: dispute {} of {} {} {}",
            dispute.id, dispute.authorization, dispute.amount, dispute.reason
        );
        ledger
            .disputes
            .by_id
            .insert(dispute.id.clone(), dispute.clone());
        value(&dispute)
    };
    let fault = gateway.ledger().fault_of(&opened);
    gateway.emit(vec![("dispute.created", opened.clone(), fault)]);
    (StatusCode::CREATED, Json(opened))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRequest {
    #[serde(default)]
    text: EvidenceText,
    #[serde(default)]
    files: Vec<FileDigest>,
}

/// The evidence as the gateway keeps it, checked by Till's own rules for the text and by what a
/// digest can say for the files.
fn checked(request: EvidenceRequest) -> Result<(EvidenceText, Vec<FileDigest>), Reply> {
    let invalid = |message: &str| error(StatusCode::BAD_REQUEST, "invalid_request", message);
    let text = request
        .text
        .validate()
        .map_err(|e| invalid(&ApiError::from(e).error.message))?;
    if request.files.len() > MAX_FILES {
        return Err(invalid("too many files"));
    }
    let sized = |f: &FileDigest| (1..=MAX_FILE_BYTES as u64).contains(&f.size);
    let digest = |f: &FileDigest| {
        f.sha256.len() == 64
            && f.sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !request.files.iter().all(|f| sized(f) && digest(f)) {
        return Err(invalid(
            "each file needs its size and lower-case hex sha256",
        ));
    }
    if request.files.iter().map(|f| f.size).sum::<u64>() > MAX_TOTAL_FILE_BYTES as u64 {
        return Err(invalid("the files are too large together"));
    }
    if text.is_empty() && request.files.is_empty() {
        return Err(invalid("evidence needs some text or a file"));
    }
    Ok((text, request.files))
}

/// The test rule: what the evidence's `uncategorized_text` decides at once, if anything.
fn outcome_of(text: &EvidenceText) -> Option<DisputeStatus> {
    let said = text.uncategorized_text.as_deref().unwrap_or_default();
    if said.contains(WINNING_EVIDENCE) {
        Some(DisputeStatus::Won)
    } else if said.contains(LOSING_EVIDENCE) {
        Some(DisputeStatus::Lost)
    } else {
        None
    }
}

/// Why a dispute in `status` cannot take what was asked.
fn refused(status: DisputeStatus) -> Reply {
    let message = if status.is_final() {
        "the dispute is already decided"
    } else {
        "evidence was already submitted"
    };
    error(StatusCode::CONFLICT, "invalid_state", message)
}

pub async fn submit_evidence(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<EvidenceRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let key = match admit(&gateway, &headers) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let Ok(Json(request)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    let (text, files) = match checked(request) {
        Ok(evidence) => evidence,
        Err(reply) => return reply,
    };
    once_telling(&gateway, &format!("dispute_evidence/{id}"), key, |ledger| {
        let Some(dispute) = ledger.disputes.by_id.get_mut(&id) else {
            return (no_such_dispute(), Vec::new());
        };
        let Ok(review) = dispute.status.move_to(DisputeStatus::UnderReview) else {
            return (refused(dispute.status), Vec::new());
        };
        let outcome = outcome_of(&text);
        dispute.status = review;
        dispute.evidence = Some(SubmittedEvidence {
            text,
            files,
            submitted: now(),
        });
        let mut told = vec![("dispute.updated", value(&*dispute))];
        if let Some(decided) = outcome.and_then(|o| review.move_to(o).ok()) {
            dispute.status = decided;
            told.push(("dispute.closed", value(&*dispute)));
        }
        println!("gateway: dispute {} {}", dispute.id, dispute.status);
        ((StatusCode::OK, Json(value(&*dispute))), told)
    })
}

pub async fn close(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let key = match admit(&gateway, &headers) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    once_telling(&gateway, &format!("dispute_close/{id}"), key, |ledger| {
        let Some(dispute) = ledger.disputes.by_id.get_mut(&id) else {
            return (no_such_dispute(), Vec::new());
        };
        if dispute.status != DisputeStatus::NeedsResponse {
            return (refused(dispute.status), Vec::new());
        }
        dispute.status = DisputeStatus::Lost;
        println!("gateway: dispute {} accepted", dispute.id);
        let body = value(&*dispute);
        (
            (StatusCode::OK, Json(body.clone())),
            vec![("dispute.closed", body)],
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    outcome: Outcome,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Won,
    Lost,
}

pub async fn decide(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<Decision>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let Ok(Json(decision)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "outcome is won or lost",
        );
    };
    let outcome = match decision.outcome {
        Outcome::Won => DisputeStatus::Won,
        Outcome::Lost => DisputeStatus::Lost,
    };
    let decided = {
        let mut ledger = gateway.ledger();
        let Some(dispute) = ledger.disputes.by_id.get_mut(&id) else {
            return no_such_dispute();
        };
        let Ok(status) = dispute.status.settle_to(outcome) else {
            return refused(dispute.status);
        };
        dispute.status = status;
        println!("gateway: dispute {} decided {status}", dispute.id);
        value(&*dispute)
    };
    let fault = gateway.ledger().fault_of(&decided);
    gateway.emit(vec![("dispute.closed", decided.clone(), fault)]);
    (StatusCode::OK, Json(decided))
}

pub async fn find_by_id(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    match gateway.ledger().disputes.by_id.get(&id) {
        Some(found) => (StatusCode::OK, Json(value(found))),
        None => no_such_dispute(),
    }
}

#[derive(Deserialize)]
pub struct ByAuthorization {
    authorization: String,
}

/// `GET /v1/disputes?authorization=gwp_...`: the disputes of one authorization.
pub async fn list(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Query(query): Query<ByAuthorization>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let ledger = gateway.ledger();
    let data: Vec<&GatewayDispute> = ledger
        .disputes
        .by_id
        .values()
        .filter(|d| d.authorization == query.authorization)
        .collect();
    (StatusCode::OK, Json(serde_json::json!({ "data": data })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Webhooks;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::post;
    use axum::Router;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tower::ServiceExt;

    const SECRET: &str = "gwhsec_test";

    type Seen = Arc<Mutex<Vec<serde_json::Value>>>;

    /// A webhook receiver on a local port that keeps the events whose signature verifies.
    async fn receiver() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let kept = seen.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: String| {
                let kept = kept.clone();
                async move {
                    let header = headers
                        .get("gateway-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    if till_core::webhook::verify(SECRET.as_bytes(), header, body.as_bytes(), now())
                        .is_err()
                    {
                        return StatusCode::BAD_REQUEST;
                    }
                    kept.lock()
                        .unwrap()
                        .push(serde_json::from_str(&body).unwrap());
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, seen)
    }

    /// The gateway's router, sending its webhooks to a fresh receiver.
    async fn gateway() -> (Router, Seen) {
        let (url, seen) = receiver().await;
        let webhooks = Webhooks {
            url,
            secret: SECRET.into(),
            http: reqwest::Client::new(),
        };
        (Gateway::new("gw_test", Some(webhooks)).router(), seen)
    }

    /// The `(type, status)` of the dispute events received, once there are `n` (or after 5 s).
    /// Events sent by one request arrive in order; those of different requests may not.
    async fn received(seen: &Seen, n: usize) -> Vec<(String, String)> {
        let disputes = || -> Vec<(String, String)> {
            seen.lock()
                .unwrap()
                .iter()
                .filter(|e| e["type"].as_str().unwrap().starts_with("dispute."))
                .map(|e| {
                    (
                        e["type"].as_str().unwrap().to_string(),
                        e["data"]["object"]["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        for _ in 0..500 {
            if disputes().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        disputes()
    }

    fn told(kind: &str, status: &str) -> (String, String) {
        (kind.to_string(), status.to_string())
    }

    fn request(
        method: &str,
        path: &str,
        key: Option<&str>,
        body: serde_json::Value,
    ) -> Request<Body> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", "Bearer gw_test")
            .header("content-type", "application/json");
        if let Some(key) = key {
            builder = builder.header("idempotency-key", key);
        }
        builder.body(Body::from(body.to_string())).unwrap()
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// A new authorization of 1000 USD for `pay_1`, captured or not; its id.
    async fn authorization(app: &Router, key: &str, capture: bool) -> String {
        let body = serde_json::json!({
            "amount": 1000, "currency": "USD", "reference": "pay_1", "capture": capture,
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030,
                     "cvc": "123", "name": "A"}
        });
        let (_, auth) = send(app, request("POST", "/v1/authorizations", Some(key), body)).await;
        auth["id"].as_str().unwrap().to_string()
    }

    async fn open(app: &Router, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
        send(app, request("POST", "/v1/control/disputes", None, body)).await
    }

    /// A captured authorization with a fraudulent dispute on it: the dispute's id.
    async fn disputed(app: &Router, key: &str) -> String {
        let authorization = authorization(app, key, true).await;
        let (status, dispute) = open(
            app,
            serde_json::json!({"authorization": authorization, "reason": "fraudulent"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{dispute}");
        dispute["id"].as_str().unwrap().to_string()
    }

    fn evidence(id: &str, key: &str, uncategorized: &str) -> Request<Body> {
        request(
            "POST",
            &format!("/v1/disputes/{id}/evidence"),
            Some(key),
            serde_json::json!({
                "text": {"uncategorized_text": uncategorized},
                "files": [{"content_type": "application/pdf", "size": 1200,
                           "sha256": "ab".repeat(32)}]
            }),
        )
    }

    #[tokio::test]
    async fn winning_evidence_wins_and_every_step_is_told_in_order() {
        let (app, seen) = gateway().await;
        let authorization = authorization(&app, "a1", true).await;
        let (status, dispute) = open(
            &app,
            serde_json::json!({"authorization": authorization, "reason": "product_not_received", "amount": 400}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(dispute["status"], "needs_response");
        assert_eq!(dispute["reference"], "pay_1");
        assert_eq!(dispute["amount"], 400);
        assert_eq!(dispute["currency"], "USD");
        assert_eq!(dispute["reason"], "product_not_received");
        assert_eq!(
            dispute["evidence_due_by"].as_i64().unwrap() - dispute["created"].as_i64().unwrap(),
            EVIDENCE_WINDOW_SECONDS
        );
        let id = dispute["id"].as_str().unwrap();
        assert_eq!(
            received(&seen, 1).await,
            [told("dispute.created", "needs_response")]
        );

        let (status, won) = send(&app, evidence(id, "e1", "Signed for: winning_evidence")).await;
        assert_eq!(
            (status, won["status"].as_str()),
            (StatusCode::OK, Some("won"))
        );
        assert_eq!(won["evidence"]["files"][0]["size"], 1200);
        assert_eq!(
            won["evidence"]["text"]["uncategorized_text"],
            "Signed for: winning_evidence"
        );
        // The same key: the same answer, nothing done or sent again.
        let (_, again) = send(&app, evidence(id, "e1", "Signed for: winning_evidence")).await;
        assert_eq!(again, won);

        assert_eq!(
            received(&seen, 3).await,
            [
                told("dispute.created", "needs_response"),
                told("dispute.updated", "under_review"),
                told("dispute.closed", "won"),
            ]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(received(&seen, 3).await.len(), 3);
        let last = seen.lock().unwrap().last().unwrap().clone();
        assert_eq!(last["data"]["object"]["id"], id);
        assert!(last["id"].as_str().unwrap().starts_with("evt_gw_"));

        // Decided is decided.
        let (status, refused) = send(&app, evidence(id, "e2", "more")).await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_state"))
        );
    }

    #[tokio::test]
    async fn losing_evidence_loses() {
        let (app, seen) = gateway().await;
        let id = disputed(&app, "a1").await;
        received(&seen, 1).await;
        let (status, lost) = send(&app, evidence(&id, "e1", "losing_evidence")).await;
        assert_eq!(
            (status, lost["status"].as_str()),
            (StatusCode::OK, Some("lost"))
        );
        assert_eq!(
            received(&seen, 3).await[1..],
            [
                told("dispute.updated", "under_review"),
                told("dispute.closed", "lost")
            ]
        );
    }

    #[tokio::test]
    async fn other_evidence_waits_for_the_networks_decision() {
        let (app, seen) = gateway().await;
        let id = disputed(&app, "a1").await;
        let (_, review) = send(&app, evidence(&id, "e1", "Delivered on 3 May")).await;
        assert_eq!(review["status"], "under_review");
        // Evidence goes in once; accepting is too late.
        let (status, _) = send(&app, evidence(&id, "e2", "winning_evidence")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let close = request(
            "POST",
            &format!("/v1/disputes/{id}/close"),
            Some("c1"),
            serde_json::json!({}),
        );
        assert_eq!(send(&app, close).await.0, StatusCode::CONFLICT);

        let decide = |outcome: &str| {
            request(
                "POST",
                &format!("/v1/control/disputes/{id}/decide"),
                None,
                serde_json::json!({ "outcome": outcome }),
            )
        };
        assert_eq!(send(&app, decide("maybe")).await.0, StatusCode::BAD_REQUEST);
        let (status, won) = send(&app, decide("won")).await;
        assert_eq!(
            (status, won["status"].as_str()),
            (StatusCode::OK, Some("won"))
        );
        assert_eq!(send(&app, decide("lost")).await.0, StatusCode::CONFLICT);
        assert!(received(&seen, 3)
            .await
            .contains(&told("dispute.closed", "won")));

        let (_, found) = send(
            &app,
            request(
                "GET",
                &format!("/v1/disputes/{id}"),
                None,
                serde_json::json!({}),
            ),
        )
        .await;
        assert_eq!(found["status"], "won");
    }

    #[tokio::test]
    async fn accepting_loses_and_a_dispute_without_answer_can_be_decided() {
        let (app, seen) = gateway().await;
        let id = disputed(&app, "a1").await;
        let close = |key: &str| {
            request(
                "POST",
                &format!("/v1/disputes/{id}/close"),
                Some(key),
                serde_json::json!({}),
            )
        };
        let (status, lost) = send(&app, close("c1")).await;
        assert_eq!(
            (status, lost["status"].as_str()),
            (StatusCode::OK, Some("lost"))
        );
        assert_eq!(send(&app, close("c1")).await.1, lost);
        assert_eq!(send(&app, close("c2")).await.0, StatusCode::CONFLICT);
        assert_eq!(
            send(&app, evidence(&id, "e1", "late")).await.0,
            StatusCode::CONFLICT
        );
        let mut events = received(&seen, 2).await;
        events.sort();
        assert_eq!(
            events,
            [
                told("dispute.closed", "lost"),
                told("dispute.created", "needs_response")
            ]
        );

        // The cardholder withdrew before any evidence.
        let other = disputed(&app, "a2").await;
        let (status, won) = send(
            &app,
            request(
                "POST",
                &format!("/v1/control/disputes/{other}/decide"),
                None,
                serde_json::json!({"outcome": "won"}),
            ),
        )
        .await;
        assert_eq!(
            (status, won["status"].as_str()),
            (StatusCode::OK, Some("won"))
        );
    }

    #[tokio::test]
    async fn only_what_is_captured_and_not_refunded_can_be_disputed_once() {
        let (app, _) = gateway().await;
        let (status, _) = open(
            &app,
            serde_json::json!({"authorization": "gwp_none", "reason": "fraudulent"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let authorized = authorization(&app, "a1", false).await;
        let (status, body) = open(
            &app,
            serde_json::json!({"authorization": authorized, "reason": "fraudulent"}),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_state"))
        );

        let captured = authorization(&app, "a2", true).await;
        let refund = request(
            "POST",
            "/v1/refunds",
            Some("r1"),
            serde_json::json!({"authorization": captured, "amount": 300}),
        );
        assert_eq!(send(&app, refund).await.0, StatusCode::CREATED);
        let ask = |amount: i64, reason: &str| serde_json::json!({"authorization": captured, "reason": reason, "amount": amount});
        for (amount, reason) in [
            (701, "fraudulent"),
            (0, "fraudulent"),
            (700, "Fraud!"),
            (700, ""),
        ] {
            let (status, body) = open(&app, ask(amount, reason)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{amount} {reason}: {body}");
        }
        // A reason Till does not know is passed on as the network says it.
        let (status, dispute) = open(&app, ask(700, "bank_cannot_process")).await;
        assert_eq!(
            (status, dispute["amount"].as_i64()),
            (StatusCode::CREATED, Some(700))
        );
        assert_eq!(dispute["reason"], "bank_cannot_process");
        let (status, body) = open(&app, ask(100, "duplicate")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_disputed"))
        );
        // A disputed authorization is not refunded as well.
        let refund = request(
            "POST",
            "/v1/refunds",
            Some("r2"),
            serde_json::json!({"authorization": captured, "amount": 100}),
        );
        let (status, body) = send(&app, refund).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("charge_disputed"))
        );

        let (_, list) = send(
            &app,
            request(
                "GET",
                &format!("/v1/disputes?authorization={captured}"),
                None,
                serde_json::json!({}),
            ),
        )
        .await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
        assert_eq!(list["data"][0]["id"], dispute["id"]);
    }

    #[tokio::test]
    async fn malformed_or_unknown_requests_are_refused() {
        let (app, seen) = gateway().await;
        let id = disputed(&app, "a1").await;
        let post_evidence = |key: Option<&str>, body: serde_json::Value| {
            request("POST", &format!("/v1/disputes/{id}/evidence"), key, body)
        };
        let bad_bodies = [
            serde_json::json!({}),
            serde_json::json!({"text": {"uncategorized_text": "  "}}),
            serde_json::json!({"text": {"uncategorized_text": "a\u{1b}[31m"}}),
            serde_json::json!({"text": {"notes": "x"}}),
            serde_json::json!({"files": [{"content_type": "image/gif", "size": 10, "sha256": "ab".repeat(32)}]}),
            serde_json::json!({"files": [{"content_type": "image/png", "size": 10, "sha256": "xyz"}]}),
            serde_json::json!({"files": [{"content_type": "image/png", "size": 0, "sha256": "ab".repeat(32)}]}),
            serde_json::json!({"files": vec![serde_json::json!({"content_type": "image/png", "size": 10, "sha256": "ab".repeat(32)}); 4]}),
        ];
        for body in bad_bodies {
            let (status, answer) = send(&app, post_evidence(Some("bad"), body.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        }
        let (status, answer) = send(
            &app,
            post_evidence(
                None,
                serde_json::json!({"text": {"uncategorized_text": "x"}}),
            ),
        )
        .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("idempotency_key_missing"))
        );
        // Still waiting for a response: nothing above counted.
        let (_, found) = send(
            &app,
            request(
                "GET",
                &format!("/v1/disputes/{id}"),
                None,
                serde_json::json!({}),
            ),
        )
        .await;
        assert_eq!(found["status"], "needs_response");

        for (path, body) in [
            (
                "/v1/disputes/gwdp_none/evidence",
                serde_json::json!({"text": {"uncategorized_text": "x"}}),
            ),
            ("/v1/disputes/gwdp_none/close", serde_json::json!({})),
            (
                "/v1/control/disputes/gwdp_none/decide",
                serde_json::json!({"outcome": "won"}),
            ),
        ] {
            let (status, _) = send(&app, request("POST", path, Some("k"), body)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (status, _) = send(
            &app,
            request("GET", "/v1/disputes/gwdp_none", None, serde_json::json!({})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let wrong_key = Request::post("/v1/control/disputes")
            .header("authorization", "Bearer other")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        assert_eq!(send(&app, wrong_key).await.0, StatusCode::UNAUTHORIZED);
        // Only the authorization and the dispute were told.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            received(&seen, 1).await,
            [told("dispute.created", "needs_response")]
        );
    }
}
