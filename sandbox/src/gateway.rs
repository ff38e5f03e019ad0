//! The gateway dialect the edge's sandbox connector speaks.
//!
//! `POST /v1/authorizations` (Bearer key, `Idempotency-Key` required) authorizes and captures;
//! the same key always returns the first answer and never charges twice.
//! `GET /v1/authorizations/{id}` and `GET /v1/authorizations/by_idempotency_key/{key}` look one
//! up; `GET /v1/authorizations?reference=pay_..` lists those made for one Till payment (tests
//! count charges with it); `GET /v1/stats` counts all charges and declines.

use crate::test_cards::{outcome_for, Outcome};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use till_core::card::YearMonth;
use till_core::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationRequest {
    pub amount: i64,
    pub currency: String,
    pub reference: String,
    pub card: GatewayCard,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayCard {
    pub number: Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: Secret<String>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Authorization {
    pub id: String,
    pub status: &'static str,
    pub decline_code: Option<&'static str>,
    pub amount: i64,
    pub currency: String,
    pub reference: String,
}

#[derive(Default)]
struct Ledger {
    by_id: HashMap<String, Authorization>,
    by_idempotency_key: HashMap<String, String>,
    charges: u64,
    declines: u64,
}

#[derive(Clone)]
pub struct Gateway {
    api_key: Arc<str>,
    ledger: Arc<Mutex<Ledger>>,
}

type Reply = (StatusCode, Json<serde_json::Value>);

fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
}

impl Gateway {
    pub fn new(api_key: &str) -> Self {
        Gateway {
            api_key: api_key.into(),
            ledger: Arc::default(),
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/v1/authorizations", post(authorize).get(list_by_reference))
            .route("/v1/authorizations/{id}", get(find_by_id))
            .route(
                "/v1/authorizations/by_idempotency_key/{key}",
                get(find_by_idempotency_key),
            )
            .route("/v1/stats", get(stats))
            .with_state(self)
    }

    fn authenticated(&self, headers: &HeaderMap) -> Result<(), Reply> {
        let key = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(till_core::api_keys::bearer_key);
        if key == Some(&*self.api_key) {
            Ok(())
        } else {
            Err(error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "invalid gateway key",
            ))
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A poisoned lock only means another request panicked; the ledger itself is still whole.
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// This month in UTC, from the system clock.
fn current_month() -> YearMonth {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    YearMonth::from_unix_seconds(seconds)
}

fn to_reply(status: StatusCode, authorization: &Authorization) -> Reply {
    (
        status,
        Json(serde_json::to_value(authorization).unwrap_or_default()),
    )
}

async fn authorize(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<AuthorizationRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 255)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "idempotency_key_missing",
            "Idempotency-Key header required",
        );
    };
    let Ok(Json(request)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    let mut ledger = gateway.ledger();
    if let Some(existing) = ledger
        .by_idempotency_key
        .get(key)
        .and_then(|id| ledger.by_id.get(id))
    {
        return to_reply(StatusCode::OK, existing);
    }
    let outcome = outcome_for(&request.card, current_month());
    let authorization = Authorization {
        id: format!("gwp_{}", uuid::Uuid::new_v4().simple()),
        status: match outcome {
            Outcome::Approve => "captured",
            Outcome::Decline(_) => "declined",
        },
        decline_code: match outcome {
            Outcome::Approve => None,
            Outcome::Decline(code) => Some(code),
        },
        amount: request.amount,
        currency: request.currency,
        reference: request.reference,
    };
    match outcome {
        Outcome::Approve => ledger.charges += 1,
        Outcome::Decline(_) => ledger.declines += 1,
    }
    println!(
        "gateway: {} {} {} {} ref={}",
        authorization.id,
        authorization.status,
        authorization.amount,
        authorization.currency,
        authorization.reference
    );
    ledger
        .by_idempotency_key
        .insert(key.to_string(), authorization.id.clone());
    ledger
        .by_id
        .insert(authorization.id.clone(), authorization.clone());
    to_reply(StatusCode::CREATED, &authorization)
}

async fn find_by_id(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    match gateway.ledger().by_id.get(&id) {
        Some(found) => to_reply(StatusCode::OK, found),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such authorization"),
    }
}

#[derive(Deserialize)]
struct ByReference {
    reference: String,
}

async fn list_by_reference(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Query(query): Query<ByReference>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let ledger = gateway.ledger();
    let data: Vec<&Authorization> = ledger
        .by_id
        .values()
        .filter(|a| a.reference == query.reference)
        .collect();
    (StatusCode::OK, Json(serde_json::json!({ "data": data })))
}

async fn find_by_idempotency_key(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let ledger = gateway.ledger();
    match ledger
        .by_idempotency_key
        .get(&key)
        .and_then(|id| ledger.by_id.get(id))
    {
        Some(found) => to_reply(StatusCode::OK, found),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such authorization"),
    }
}

async fn stats(State(gateway): State<Gateway>) -> Reply {
    let ledger = gateway.ledger();
    (
        StatusCode::OK,
        Json(serde_json::json!({ "charges": ledger.charges, "declines": ledger.declines })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn charge(key: &str, number: &str) -> Request<Body> {
        let body = serde_json::json!({
            "amount": 1000, "currency": "USD", "reference": "pay_1",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123", "name": "A"}
        });
        Request::post("/v1/authorizations")
            .header("authorization", "Bearer gw_test")
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    async fn json(response: axum::response::Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn same_idempotency_key_charges_once() {
        let gateway = Gateway::new("gw_test");
        let app = gateway.clone().router();
        let first = json(
            app.clone()
                .oneshot(charge("k1", "4242424242424242"))
                .await
                .unwrap(),
        )
        .await;
        let again = json(
            app.clone()
                .oneshot(charge("k1", "4242424242424242"))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(first, again);
        assert_eq!(first["status"], "captured");
        assert_eq!(gateway.ledger().charges, 1);
        let declined = json(app.oneshot(charge("k2", "4000000000000002")).await.unwrap()).await;
        assert_eq!(declined["decline_code"], "card_declined");
        assert_eq!(gateway.ledger().charges, 1);
    }

    #[tokio::test]
    async fn wrong_key_is_refused() {
        let app = Gateway::new("other").router();
        let response = app.oneshot(charge("k1", "4242424242424242")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}
