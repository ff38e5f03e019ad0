//! The gateway dialect the edge's sandbox connector speaks. Every POST needs a Bearer key and an
//! `Idempotency-Key`; the same key always returns the first answer and never acts twice.
//!
//! - `POST /v1/authorizations` `{amount, currency, reference, capture, card}`: authorize, and
//!   capture too when `capture` is true. Challenge cards answer `requires_action`.
//! - `POST /v1/authorizations/{id}/challenge` `{otp}`: `123456` passes; three wrong codes decline.
//! - `POST /v1/authorizations/{id}/capture` `{amount?}`, `POST /v1/authorizations/{id}/void`.
//! - `POST /v1/refunds` `{authorization, amount}`; `GET /v1/refunds?authorization=` lists them.
//! - `GET /v1/authorizations/{id}`, `GET /v1/authorizations/by_idempotency_key/{key}`,
//!   `GET /v1/authorizations?reference=pay_..` (all made for one Till payment).
//! - `POST /v1/control/faults` `{amount, latency_ms?, fail_times?, drop_response?, lookup_fail?, webhook_drop?,
//!   webhook_delay_ms?, webhook_duplicate?, decline_times?, answer_delay_ms?}`: tests make authorizations of one
//!   amount slow, fail with 503, charge and never answer in time, have their webhooks lost, late
//!   or doubled, or be declined (`insufficient_funds`) the next `decline_times` times.
//!
//! Every change is also sent as a signed webhook (`authorization.updated`, `refund.updated`).
//! - `GET /v1/settlements/{date}`: the day's settlement file (CSV); `POST /v1/control/settlement`
//!   injects mismatches into it for reconciliation tests.
//! - `GET /v1/stats`: charges and declines so far.
//! - `/v1/bank_transfers`: the bank that pays Till's payouts (see `bank.rs`).
//! - `/v1/disputes`, `/v1/control/disputes`: chargebacks and how tests decide them (see
//!   `disputes.rs`).

use crate::test_cards::{outcome_for, Outcome};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_core::card::YearMonth;
use till_core::secret::Secret;

/// The one-time code that passes every sandbox challenge.
pub const CHALLENGE_OTP: &str = "123456";
const CHALLENGE_ATTEMPTS: u8 = 3;
/// How long a "dropped" answer is held back: far beyond any client timeout.
const DROPPED_RESPONSE_DELAY: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationRequest {
    pub amount: i64,
    pub currency: String,
    pub reference: String,
    #[serde(default = "yes")]
    pub capture: bool,
    pub card: GatewayCard,
    /// `merchant`: the cardholder is not there (off-session). A card that would ask for a
    /// challenge is then declined `authentication_required`, as issuers do.
    #[serde(default)]
    pub initiator: Initiator,
    /// A card the caller saved earlier (card-on-file): it comes without a CVC.
    #[serde(default)]
    pub stored_credential: bool,
    /// The caller's fraud screening asks the issuer to authenticate the cardholder (3-D Secure
    /// step-up): a card that would be approved is challenged first.
    #[serde(default)]
    pub authenticate: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    #[default]
    Customer,
    Merchant,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayCard {
    pub number: Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    /// Required unless the card is a stored credential.
    #[serde(default)]
    pub cvc: Option<Secret<String>>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Authorization {
    pub id: String,
    pub status: &'static str,
    pub decline_code: Option<&'static str>,
    pub amount: i64,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
    /// `pass` when the card came with its security code (checked), `unchecked` without one (a
    /// stored credential).
    pub cvc_check: &'static str,
    /// The UTC day the money was captured: the settlement file it lands in.
    #[serde(skip)]
    pub settled_on: Option<String>,
    /// Whether to capture once a challenge passes.
    #[serde(skip)]
    capture: bool,
    /// The test-card outcome once a challenge passes.
    #[serde(skip)]
    after_challenge: Option<Outcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Challenge {
    pub attempts_remaining: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct GatewayRefund {
    pub id: String,
    pub status: &'static str,
    pub authorization: String,
    pub amount: i64,
    pub currency: String,
    /// The merchant's id for the refund (Till's `re_...`), echoed in the settlement file.
    pub reference: String,
    #[serde(skip)]
    pub settled_on: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub amount: i64,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub fail_times: u32,
    #[serde(default)]
    pub drop_response: bool,
    /// Webhooks for this amount are never sent.
    #[serde(default)]
    pub webhook_drop: bool,
    /// Webhooks for this amount are sent late (a later event can then arrive first).
    #[serde(default)]
    pub webhook_delay_ms: u64,
    /// The answer to an authorization of this amount waits this long after its webhook went
    /// out, so the event reaches the edge before the answer does.
    #[serde(default)]
    pub answer_delay_ms: u64,
    /// Webhooks for this amount are sent twice.
    #[serde(default)]
    pub webhook_duplicate: bool,
    /// Status lookups of authorizations of this amount fail with 503.
    #[serde(default)]
    pub lookup_fail: bool,
    /// The next authorizations of this amount (after any `fail_times`) are declined
    /// `insufficient_funds`, whatever the card: a saved card that stops paying.
    #[serde(default)]
    pub decline_times: u32,
}

/// Where and how webhooks go: signed with HMAC-SHA256 (`Gateway-Signature: t=..,v1=..`),
/// retried with exponential backoff until acknowledged with a 2xx.
#[derive(Clone)]
pub struct Webhooks {
    pub url: String,
    pub secret: Arc<str>,
    pub http: reqwest::Client,
}

const WEBHOOK_ATTEMPTS: u32 = 8;
/// 250 ms, 500 ms, 1 s, … between webhook attempts.
const WEBHOOK_RETRIES: till_core::backoff::Backoff = till_core::backoff::Backoff {
    first: 250,
    max: 60_000,
};

impl Webhooks {
    async fn deliver(self, event: serde_json::Value, fault: Fault) {
        if fault.webhook_drop {
            println!("gateway: dropping webhook {}", event["id"]);
            return;
        }
        if fault.webhook_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.webhook_delay_ms)).await;
        }
        let copies = if fault.webhook_duplicate { 2 } else { 1 };
        let body = event.to_string();
        for _ in 0..copies {
            for attempt in 0..WEBHOOK_ATTEMPTS {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let signature =
                    till_core::webhook::sign(self.secret.as_bytes(), now, body.as_bytes());
                let sent = self
                    .http
                    .post(&self.url)
                    .header("Content-Type", "application/json")
                    .header("Gateway-Signature", signature)
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => break,
                    Ok(response) => {
                        println!("gateway: webhook {} got {}", event["id"], response.status())
                    }
                    Err(error) => println!("gateway: webhook {} failed: {error}", event["id"]),
                }
                let wait = WEBHOOK_RETRIES.delay(attempt + 1);
                tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
            }
        }
    }
}

#[derive(Default)]
pub struct Ledger {
    pub authorizations: HashMap<String, Authorization>,
    pub refunds: HashMap<String, GatewayRefund>,
    pub settlement_faults: crate::settlement::Injections,
    pub bank: crate::bank::Transfers,
    pub bank_payments: crate::bank_redirect::BankPayments,
    pub mail: crate::mail::Mailbox,
    pub disputes: crate::disputes::Disputes,
    /// The day the FX rates are published as (`None`: today).
    pub rates_date: Option<time::Date>,
    /// How far intraday rates stand from the day's reference rates, in basis points (`None`:
    /// moving with the hour), and whether they are published at all.
    pub intraday_drift_bps: Option<i64>,
    pub intraday_down: bool,
    /// (endpoint, idempotency key) -> the first answer.
    answers: HashMap<(String, String), (StatusCode, serde_json::Value)>,
    /// Authorization id by the idempotency key that created it.
    by_key: HashMap<String, String>,
    faults: HashMap<i64, Fault>,
    charges: u64,
    declines: u64,
}

impl Ledger {
    /// The fault a test set for the amount of `object` (an authorization, refund or dispute),
    /// for its webhooks.
    pub fn fault_of(&self, object: &serde_json::Value) -> Fault {
        object["amount"]
            .as_i64()
            .and_then(|amount| self.faults.get(&amount).cloned())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
pub struct Gateway {
    api_key: Arc<str>,
    ledger: Arc<Mutex<Ledger>>,
    webhooks: Option<Webhooks>,
    /// Where the bank's events go (the edge's bank webhook).
    bank_webhooks: Option<Webhooks>,
}

pub type Reply = (StatusCode, Json<serde_json::Value>);

pub fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
}

/// The request as taken: its idempotency key and body, once authenticated and parsed.
pub fn admitted<T>(
    gateway: &Gateway,
    headers: &HeaderMap,
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<(String, T), Reply> {
    let key = admit(gateway, headers)?;
    match body {
        Ok(Json(request)) => Ok((key, request)),
        Err(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "malformed body",
        )),
    }
}

/// The 503 of a fault's `fail_times`: nothing was taken.
pub fn injected_failure() -> Reply {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "injected failure",
    )
}

/// The 503 of a fault's `drop_response`: the request was taken, its answer lost.
pub fn lost_answer() -> Reply {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "injected lost answer",
    )
}

/// 201 with what this request made, or 200 with what an earlier one with its key made.
pub fn made<T: Serialize>(new: bool, item: &T) -> Reply {
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(value(item)))
}

pub fn value<T: Serialize>(item: &T) -> serde_json::Value {
    serde_json::to_value(item).unwrap_or_default()
}

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// This month in UTC, from the system clock.
fn current_month() -> YearMonth {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    YearMonth::from_unix_seconds(seconds)
}

/// An event to send: its type, the object it is about, and the fault set for that object's
/// amount.
pub type Told = (&'static str, serde_json::Value, Fault);

/// Sends `events` in the background, one after the other: a change told by several events
/// (a dispute reviewed, then decided) reaches the receiver in the order it happened, unless a
/// test's fault delays one.
fn send_events(webhooks: Option<Webhooks>, events: Vec<Told>) {
    let Some(webhooks) = webhooks else {
        return;
    };
    if events.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for (kind, object, fault) in events {
            let event = serde_json::json!({
                "id": new_id("evt_gw_"),
                "type": kind,
                "data": { "object": object },
            });
            webhooks.clone().deliver(event, fault).await;
        }
    });
}

impl Gateway {
    pub fn new(api_key: &str, webhooks: Option<Webhooks>) -> Self {
        Gateway {
            api_key: api_key.into(),
            ledger: Arc::default(),
            webhooks,
            bank_webhooks: None,
        }
    }

    /// The bank sends its events to `webhooks`.
    pub fn with_bank_webhooks(self, webhooks: Webhooks) -> Self {
        Gateway {
            bank_webhooks: Some(webhooks),
            ..self
        }
    }

    /// Sends events in the background, in order.
    pub fn emit(&self, events: Vec<Told>) {
        send_events(self.webhooks.clone(), events);
    }

    /// Sends a bank event about `object` in the background.
    pub fn emit_bank(&self, kind: &'static str, object: &serde_json::Value, fault: Fault) {
        send_events(
            self.bank_webhooks.clone(),
            vec![(kind, object.clone(), fault)],
        );
    }

    /// The fault a test set for `amount`, without using it up.
    pub fn fault_for(&self, amount: i64) -> Fault {
        self.ledger()
            .faults
            .get(&amount)
            .cloned()
            .unwrap_or_default()
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/v1/authorizations", post(authorize).get(list_by_reference))
            .route("/v1/authorizations/{id}", get(find_by_id))
            .route("/v1/authorizations/{id}/challenge", post(challenge))
            .route("/v1/authorizations/{id}/capture", post(capture))
            .route("/v1/authorizations/{id}/void", post(void))
            .route(
                "/v1/authorizations/by_idempotency_key/{key}",
                get(find_by_idempotency_key),
            )
            .route("/v1/refunds", post(refund).get(refunds_of))
            .route("/v1/bank_transfers", post(crate::bank::create))
            .route("/v1/bank_transfers/{id}", get(crate::bank::find_by_id))
            .route(
                "/v1/bank_transfers/by_idempotency_key/{key}",
                get(crate::bank::find_by_idempotency_key),
            )
            .route("/v1/banks", get(crate::bank_redirect::banks))
            .route("/v1/bank_payments", post(crate::bank_redirect::create))
            .route(
                "/v1/bank_payments/{id}",
                get(crate::bank_redirect::find_by_id),
            )
            .route(
                "/v1/bank_payments/by_idempotency_key/{key}",
                get(crate::bank_redirect::find_by_idempotency_key),
            )
            .route("/v1/bank_refunds", post(crate::bank_redirect::refund))
            .route(
                "/v1/bank_refunds/{id}",
                get(crate::bank_redirect::find_refund),
            )
            .route(
                "/v1/bank_payments/{id}/cancel",
                post(crate::bank_redirect::cancel_by_api),
            )
            .route(
                "/v1/bank_settlements/{date}",
                get(crate::bank_redirect::settlements),
            )
            .route("/bank/pay/{id}", get(crate::bank_redirect::start_page))
            .route("/bank/pay/{id}/login", post(crate::bank_redirect::login))
            .route("/bank/pay/{id}/otp", post(crate::bank_redirect::approve))
            .route("/bank/pay/{id}/cancel", post(crate::bank_redirect::cancel))
            .route("/v1/disputes", get(crate::disputes::list))
            .route("/v1/disputes/{id}", get(crate::disputes::find_by_id))
            .route(
                "/v1/disputes/{id}/evidence",
                post(crate::disputes::submit_evidence),
            )
            .route("/v1/disputes/{id}/close", post(crate::disputes::close))
            .route("/v1/control/disputes", post(crate::disputes::open))
            .route(
                "/v1/control/disputes/{id}/decide",
                post(crate::disputes::decide),
            )
            .route("/v1/control/faults", post(add_fault))
            .route("/v1/control/settlement", post(inject_settlement))
            .route("/v1/settlements/{date}", get(settlement_file))
            .route("/v1/stats", get(stats))
            .route("/emails", post(crate::mail::send))
            .route("/v1/mail/messages", get(crate::mail::messages))
            .route("/v1/control/mail", post(crate::mail::control))
            .route("/mailbox", get(crate::mail::page))
            .route("/v1/analytics/sql", post(crate::analytics::sql))
            .route("/v1/bins/{bin}", get(crate::bins::lookup))
            .route("/v1/bins/{bin}/lookups", get(crate::bins::lookup_count))
            .route("/v1/rates/eurofxref-daily.xml", get(crate::rates::daily))
            .route("/v1/control/rates", post(crate::rates::control))
            .route("/v1/rates/intraday", get(crate::rates::intraday))
            .route("/v1/control/intraday", post(crate::rates::control_intraday))
            .with_state(self)
    }

    pub fn authenticated(&self, headers: &HeaderMap) -> Result<(), Reply> {
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

    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A poisoned lock only means another request panicked; the ledger itself is still whole.
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, Reply> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .map(String::from)
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "idempotency_key_missing",
                "Idempotency-Key header required",
            )
        })
}

/// Amounts ending in `0408` (e.g. 104.08) time out without any control call: the gateway charges
/// and answers only after [`DROPPED_RESPONSE_DELAY`], long after any client gave up.
pub const TIMEOUT_AMOUNT_SUFFIX: i64 = 408;

fn amount_triggered(amount: i64) -> Fault {
    Fault {
        amount,
        drop_response: amount % 10_000 == TIMEOUT_AMOUNT_SUFFIX,
        ..Fault::default()
    }
}

/// The fault a test set for `amount` (one of its `fail_times`, else of its `decline_times`,
/// used up), or the built-in one.
pub fn take_fault(gateway: &Gateway, amount: i64) -> Fault {
    let mut ledger = gateway.ledger();
    let fault = ledger.faults.get(&amount).cloned();
    if let Some(f) = ledger.faults.get_mut(&amount) {
        if f.fail_times > 0 {
            f.fail_times -= 1;
        } else {
            f.decline_times = f.decline_times.saturating_sub(1);
        }
    }
    fault.unwrap_or_else(|| amount_triggered(amount))
}

/// Checks the caller's key and the request's `Idempotency-Key`: the key, or the reply to send.
pub fn admit(gateway: &Gateway, headers: &HeaderMap) -> Result<String, Reply> {
    gateway.authenticated(headers)?;
    idempotency_key(headers)
}

/// Runs `act` once per (endpoint, key); repeats get the stored answer. A success is told by
/// `authorization.updated` (`refund.updated` for refunds) about the answer's object.
fn once(
    gateway: &Gateway,
    endpoint: &str,
    key: String,
    act: impl FnOnce(&mut Ledger) -> Reply,
) -> Reply {
    let kind = if endpoint == "refund" {
        "refund.updated"
    } else {
        "authorization.updated"
    };
    once_telling(gateway, endpoint, key, |ledger| {
        let reply = act(ledger);
        let told = if reply.0.is_success() {
            vec![(kind, reply.1 .0.clone())]
        } else {
            Vec::new()
        };
        (reply, told)
    })
}

/// Runs `act` once per (endpoint, key); repeats get the stored answer and send nothing. `act`
/// answers and names the events (type, object) its change is told by, sent in order with the
/// fault set for each object's amount.
pub fn once_telling(
    gateway: &Gateway,
    endpoint: &str,
    key: String,
    act: impl FnOnce(&mut Ledger) -> (Reply, Vec<(&'static str, serde_json::Value)>),
) -> Reply {
    let mut ledger = gateway.ledger();
    let slot = (endpoint.to_string(), key);
    if let Some((status, body)) = ledger.answers.get(&slot) {
        return (*status, Json(body.clone()));
    }
    let ((status, Json(body)), told) = act(&mut ledger);
    if status.is_success() || status.is_client_error() {
        ledger.answers.insert(slot, (status, body.clone()));
    }
    let events = told
        .into_iter()
        .map(|(kind, object)| {
            let fault = ledger.fault_of(&object);
            (kind, object, fault)
        })
        .collect();
    gateway.emit(events);
    (status, Json(body))
}

/// Settles an authorization by its test-card outcome (after any challenge).
fn settle(ledger: &mut Ledger, authorization: &mut Authorization, outcome: Outcome) {
    match outcome {
        Outcome::Approve => {
            ledger.charges += 1;
            if authorization.capture {
                authorization.status = "captured";
                authorization.amount_captured = authorization.amount;
                authorization.settled_on = Some(crate::settlement::today());
            } else {
                authorization.status = "authorized";
            }
        }
        Outcome::Decline(code) => {
            ledger.declines += 1;
            authorization.status = "declined";
            authorization.decline_code = Some(code);
        }
        Outcome::Challenge(_) => {
            authorization.status = "requires_action";
            authorization.challenge = Some(Challenge {
                attempts_remaining: CHALLENGE_ATTEMPTS,
            });
        }
    }
    authorization.after_challenge = match outcome {
        Outcome::Challenge(after) => Some(*after),
        _ => None,
    };
}

async fn authorize(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<AuthorizationRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let key = match admit(&gateway, &headers) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let Ok(Json(request)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    if request.card.cvc.is_none() && !request.stored_credential {
        return error(
            StatusCode::BAD_REQUEST,
            "cvc_required",
            "a card entered now needs its cvc",
        );
    }
    // Like a real gateway, finish what was asked even if the caller hangs up.
    let work = tokio::spawn(process_authorization(gateway, key, request));
    work.await.unwrap_or_else(|_| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "authorization task failed",
        )
    })
}

async fn process_authorization(
    gateway: Gateway,
    key: String,
    request: AuthorizationRequest,
) -> Reply {
    let fault = take_fault(&gateway, request.amount);
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    if fault.fail_times > 0 {
        println!("gateway: injected 503 for amount {}", request.amount);
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected failure",
        );
    }
    let reply = once(&gateway, "authorize", key.clone(), |ledger| {
        let mut authorization = Authorization {
            id: new_id("gwp_"),
            status: "declined",
            decline_code: None,
            amount: request.amount,
            amount_captured: 0,
            amount_refunded: 0,
            currency: request.currency,
            reference: request.reference,
            challenge: None,
            cvc_check: if request.card.cvc.is_some() {
                "pass"
            } else {
                "unchecked"
            },
            settled_on: None,
            capture: request.capture,
            after_challenge: None,
        };
        let outcome = match (
            outcome_for(&request.card, current_month()),
            request.initiator,
        ) {
            (Outcome::Challenge(_), Initiator::Merchant) => {
                Outcome::Decline("authentication_required")
            }
            (Outcome::Approve, Initiator::Customer) if request.authenticate => {
                Outcome::Challenge(&Outcome::Approve)
            }
            (outcome, _) => outcome,
        };
        let outcome = match outcome {
            Outcome::Approve if fault.decline_times > 0 => Outcome::Decline("insufficient_funds"),
            outcome => outcome,
        };
        settle(ledger, &mut authorization, outcome);
        println!(
            "gateway: {} {} {} {} ref={}",
            authorization.id,
            authorization.status,
            authorization.amount,
            authorization.currency,
            authorization.reference
        );
        ledger.by_key.insert(key, authorization.id.clone());
        let reply = (StatusCode::CREATED, Json(value(&authorization)));
        ledger
            .authorizations
            .insert(authorization.id.clone(), authorization);
        reply
    });
    if fault.drop_response {
        println!(
            "gateway: holding back the answer for amount {}",
            request.amount
        );
        tokio::time::sleep(DROPPED_RESPONSE_DELAY).await;
    }
    if fault.answer_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.answer_delay_ms)).await;
    }
    reply
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeAnswer {
    otp: String,
}

async fn challenge(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ChallengeAnswer>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let key = match admit(&gateway, &headers) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let Ok(Json(answer)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    once(&gateway, "challenge", key, |ledger| {
        let Some(mut authorization) = ledger.authorizations.get(&id).cloned() else {
            return error(StatusCode::NOT_FOUND, "not_found", "no such authorization");
        };
        let Some(pending) = authorization.challenge.clone() else {
            return error(StatusCode::CONFLICT, "no_challenge", "no challenge pending");
        };
        if answer.otp == CHALLENGE_OTP {
            authorization.challenge = None;
            let after = authorization.after_challenge.unwrap_or(Outcome::Approve);
            settle(ledger, &mut authorization, after);
        } else if pending.attempts_remaining > 1 {
            authorization.challenge = Some(Challenge {
                attempts_remaining: pending.attempts_remaining - 1,
            });
        } else {
            authorization.challenge = None;
            settle(
                ledger,
                &mut authorization,
                Outcome::Decline("authentication_failed"),
            );
        }
        let reply = (StatusCode::OK, Json(value(&authorization)));
        ledger.authorizations.insert(id.clone(), authorization);
        reply
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaptureRequest {
    #[serde(default)]
    amount: Option<i64>,
}

async fn capture(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<CaptureRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let key = match admit(&gateway, &headers) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let Ok(Json(request)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    once(&gateway, "capture", key, |ledger| {
        let Some(authorization) = ledger.authorizations.get_mut(&id) else {
            return error(StatusCode::NOT_FOUND, "not_found", "no such authorization");
        };
        if authorization.status != "authorized" {
            return error(StatusCode::CONFLICT, "invalid_state", "not capturable");
        }
        let amount = request.amount.unwrap_or(authorization.amount);
        if amount <= 0 || amount > authorization.amount {
            return error(
                StatusCode::BAD_REQUEST,
                "amount_invalid",
                "bad capture amount",
            );
        }
        authorization.status = "captured";
        authorization.amount_captured = amount;
        authorization.settled_on = Some(crate::settlement::today());
        (StatusCode::OK, Json(value(&*authorization)))
    })
}

async fn void(State(gateway): State<Gateway>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let key = match admit(&gateway, &headers) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    once(&gateway, "void", key, |ledger| {
        let Some(authorization) = ledger.authorizations.get_mut(&id) else {
            return error(StatusCode::NOT_FOUND, "not_found", "no such authorization");
        };
        if !matches!(authorization.status, "authorized" | "requires_action") {
            return error(StatusCode::CONFLICT, "invalid_state", "not voidable");
        }
        authorization.status = "voided";
        authorization.challenge = None;
        (StatusCode::OK, Json(value(&*authorization)))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundRequest {
    authorization: String,
    amount: i64,
    #[serde(default)]
    reference: String,
}

async fn refund(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<RefundRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let key = match admit(&gateway, &headers) {
        Ok(key) => key,
        Err(reply) => return reply,
    };
    let Ok(Json(request)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    // Faults by refund amount: `fail_times` refuses before refunding; `drop_response` refunds
    // (and sends the webhook) but loses the answer.
    let fault = take_fault(&gateway, request.amount);
    if fault.fail_times > 0 {
        println!("gateway: injected 503 for refund of {}", request.amount);
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected failure",
        );
    }
    let reply = refund_once(&gateway, key, &request);
    if fault.drop_response {
        println!("gateway: refund of {} done, answer dropped", request.amount);
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected lost answer",
        );
    }
    reply
}

fn refund_once(gateway: &Gateway, key: String, request: &RefundRequest) -> Reply {
    once(gateway, "refund", key, |ledger| {
        if ledger.disputes.disputed(&request.authorization) {
            return error(
                StatusCode::CONFLICT,
                "charge_disputed",
                "a disputed authorization cannot be refunded",
            );
        }
        let Some(authorization) = ledger.authorizations.get_mut(&request.authorization) else {
            return error(StatusCode::NOT_FOUND, "not_found", "no such authorization");
        };
        let remaining = authorization.amount_captured - authorization.amount_refunded;
        if request.amount <= 0 || request.amount > remaining {
            return error(
                StatusCode::BAD_REQUEST,
                "amount_invalid",
                "refund exceeds what remains captured",
            );
        }
        authorization.amount_refunded += request.amount;
        let refund = GatewayRefund {
            id: new_id("gwr_"),
            status: "succeeded",
            authorization: authorization.id.clone(),
            amount: request.amount,
            currency: authorization.currency.clone(),
            reference: request.reference.clone(),
            settled_on: crate::settlement::today(),
        };
        println!(
            "gateway: refund {} {} of {}",
            refund.id, refund.amount, refund.authorization
        );
        let reply = (StatusCode::CREATED, Json(value(&refund)));
        ledger.refunds.insert(refund.id.clone(), refund);
        reply
    })
}

async fn find_by_id(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    match gateway.ledger().authorizations.get(&id) {
        Some(found) => (StatusCode::OK, Json(value(found))),
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
        .authorizations
        .values()
        .filter(|a| a.reference == query.reference)
        .collect();
    (StatusCode::OK, Json(serde_json::json!({ "data": data })))
}

#[derive(Deserialize)]
struct ByAuthorization {
    authorization: String,
}

/// `GET /v1/refunds?authorization=gwp_...`: the refunds of one authorization.
async fn refunds_of(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Query(query): Query<ByAuthorization>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let ledger = gateway.ledger();
    let data: Vec<&GatewayRefund> = ledger
        .refunds
        .values()
        .filter(|r| r.authorization == query.authorization)
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
        .by_key
        .get(&key)
        .and_then(|id| ledger.authorizations.get(id))
    {
        Some(found)
            if ledger
                .faults
                .get(&found.amount)
                .is_some_and(|f| f.lookup_fail) =>
        {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "injected lookup failure",
            )
        }
        Some(found) => (StatusCode::OK, Json(value(found))),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such authorization"),
    }
}

async fn add_fault(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<Fault>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let Ok(Json(fault)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    println!("gateway: fault for amount {}: {fault:?}", fault.amount);
    gateway.ledger().faults.insert(fault.amount, fault);
    (StatusCode::OK, Json(serde_json::json!({ "ok": true })))
}

async fn inject_settlement(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<crate::settlement::Injections>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let Ok(Json(more)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    gateway.ledger().settlement_faults.merge(more);
    (StatusCode::OK, Json(serde_json::json!({ "ok": true })))
}

async fn settlement_file(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(date): Path<String>,
) -> Result<String, Reply> {
    gateway.authenticated(&headers)?;
    Ok(crate::settlement::render(&gateway.ledger(), &date))
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

    fn post(path: &str, key: &str, body: serde_json::Value) -> Request<Body> {
        Request::post(path)
            .header("authorization", "Bearer gw_test")
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    fn charge(key: &str, number: &str, capture: bool) -> Request<Body> {
        post(
            "/v1/authorizations",
            key,
            serde_json::json!({
                "amount": 1000, "currency": "USD", "reference": "pay_1", "capture": capture,
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123", "name": "A"}
            }),
        )
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn same_idempotency_key_charges_once() {
        let gateway = Gateway::new("gw_test", None);
        let app = gateway.clone().router();
        let (_, first) = send(&app, charge("k1", "4242424242424242", true)).await;
        let (_, again) = send(&app, charge("k1", "4242424242424242", true)).await;
        assert_eq!(first, again);
        assert_eq!(first["status"], "captured");
        assert_eq!(gateway.ledger().charges, 1);
        let (_, declined) = send(&app, charge("k2", "4000000000000002", true)).await;
        assert_eq!(declined["decline_code"], "card_declined");
        assert_eq!(gateway.ledger().charges, 1);
    }

    #[tokio::test]
    async fn a_decline_fault_declines_that_many_charges_of_its_amount_then_lets_them_pass() {
        let gateway = Gateway::new("gw_test", None);
        let app = gateway.clone().router();
        let (status, _) = send(
            &app,
            post(
                "/v1/control/faults",
                "f1",
                serde_json::json!({"amount": 1000, "decline_times": 2}),
            ),
        )
        .await;
        assert!(status.is_success());
        for key in ["d1", "d2"] {
            let (_, declined) = send(&app, charge(key, "4242424242424242", true)).await;
            assert_eq!(declined["decline_code"], "insufficient_funds");
        }
        let (_, paid) = send(&app, charge("d3", "4242424242424242", true)).await;
        assert_eq!(paid["status"], "captured");
        assert_eq!(gateway.ledger().charges, 1);
    }

    fn saved_card_charge(key: &str, number: &str, initiator: &str) -> Request<Body> {
        post(
            "/v1/authorizations",
            key,
            serde_json::json!({
                "amount": 1000, "currency": "USD", "reference": "pay_1",
                "initiator": initiator, "stored_credential": true,
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "name": "A"}
            }),
        )
    }

    #[tokio::test]
    async fn saved_cards_go_without_cvc_and_off_session_challenges_are_declined() {
        let app = Gateway::new("gw_test", None).router();
        let (status, paid) = send(
            &app,
            saved_card_charge("s1", "4242424242424242", "merchant"),
        )
        .await;
        assert_eq!(
            (status, paid["status"].as_str()),
            (StatusCode::CREATED, Some("captured"))
        );
        // The customer is there: the challenge is theirs to pass.
        let (_, present) = send(
            &app,
            saved_card_charge("s2", "4000002760003184", "customer"),
        )
        .await;
        assert_eq!(present["status"], "requires_action");
        // The merchant charges alone: the issuer's challenge becomes a decline.
        let (_, absent) = send(
            &app,
            saved_card_charge("s3", "4000002760003184", "merchant"),
        )
        .await;
        assert_eq!(absent["status"], "declined");
        assert_eq!(absent["decline_code"], "authentication_required");
        // A card entered now still needs its CVC.
        let no_cvc = post(
            "/v1/authorizations",
            "s4",
            serde_json::json!({
                "amount": 1000, "currency": "USD", "reference": "pay_1",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "name": "A"}
            }),
        );
        let (status, refused) = send(&app, no_cvc).await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("cvc_required"))
        );
    }

    #[tokio::test]
    async fn a_requested_authentication_challenges_a_card_that_would_pass() {
        let app = Gateway::new("gw_test", None).router();
        let charge = |key: &str, number: &str| {
            post(
                "/v1/authorizations",
                key,
                serde_json::json!({
                    "amount": 1000, "currency": "USD", "reference": "pay_1", "authenticate": true,
                    "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123",
                             "name": "A"}
                }),
            )
        };
        let (_, challenged) = send(&app, charge("a1", "4242424242424242")).await;
        assert_eq!(challenged["status"], "requires_action");
        let (_, declined) = send(&app, charge("a2", "4000000000000002")).await;
        assert_eq!(declined["status"], "declined", "a decline stays a decline");
    }

    #[tokio::test]
    async fn challenge_passes_with_the_code_and_fails_after_three_wrong_ones() {
        let app = Gateway::new("gw_test", None).router();
        let (_, pending) = send(&app, charge("c1", "4000002760003184", true)).await;
        assert_eq!(pending["status"], "requires_action");
        let path = format!(
            "/v1/authorizations/{}/challenge",
            pending["id"].as_str().unwrap()
        );
        let (_, wrong) = send(
            &app,
            post(&path, "o1", serde_json::json!({"otp": "000000"})),
        )
        .await;
        assert_eq!(wrong["challenge"]["attempts_remaining"], 2);
        let (_, passed) = send(
            &app,
            post(&path, "o2", serde_json::json!({"otp": CHALLENGE_OTP})),
        )
        .await;
        assert_eq!(passed["status"], "captured");

        let (_, pending) = send(&app, charge("c2", "4000000000003220", true)).await;
        let path = format!(
            "/v1/authorizations/{}/challenge",
            pending["id"].as_str().unwrap()
        );
        for n in 0..3 {
            send(
                &app,
                post(
                    &path,
                    &format!("w{n}"),
                    serde_json::json!({"otp": "999999"}),
                ),
            )
            .await;
        }
        let (_, after) = send(
            &app,
            post(&path, "w9", serde_json::json!({"otp": CHALLENGE_OTP})),
        )
        .await;
        assert_eq!(after["error"]["code"], "no_challenge");

        let (_, pending) = send(&app, charge("c3", "4000008400001629", true)).await;
        let path = format!(
            "/v1/authorizations/{}/challenge",
            pending["id"].as_str().unwrap()
        );
        let (_, declined) = send(
            &app,
            post(&path, "o3", serde_json::json!({"otp": CHALLENGE_OTP})),
        )
        .await;
        assert_eq!(declined["decline_code"], "card_declined");
    }

    #[tokio::test]
    async fn capture_refund_and_void_keep_amounts_in_bounds() {
        let app = Gateway::new("gw_test", None).router();
        let (_, auth) = send(&app, charge("m1", "4242424242424242", false)).await;
        assert_eq!(auth["status"], "authorized");
        let id = auth["id"].as_str().unwrap();
        let (_, captured) = send(
            &app,
            post(
                &format!("/v1/authorizations/{id}/capture"),
                "cap",
                serde_json::json!({"amount": 600}),
            ),
        )
        .await;
        assert_eq!(captured["amount_captured"], 600);
        let refund = |key: &str, amount: i64| {
            post(
                "/v1/refunds",
                key,
                serde_json::json!({"authorization": id, "amount": amount}),
            )
        };
        let (status, _) = send(&app, refund("r1", 500)).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = send(&app, refund("r2", 101)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (_, auth2) = send(&app, charge("m2", "4242424242424242", false)).await;
        let id2 = auth2["id"].as_str().unwrap();
        let (_, voided) = send(
            &app,
            post(
                &format!("/v1/authorizations/{id2}/void"),
                "v",
                serde_json::json!({}),
            ),
        )
        .await;
        assert_eq!(voided["status"], "voided");
    }

    #[test]
    fn amounts_ending_in_0408_time_out() {
        assert!(amount_triggered(10_408).drop_response);
        assert!(amount_triggered(408).drop_response);
        assert!(!amount_triggered(10_409).drop_response);
        assert!(!amount_triggered(4_080).drop_response);
    }

    #[tokio::test]
    async fn wrong_key_is_refused() {
        let app = Gateway::new("other", None).router();
        let (status, _) = send(&app, charge("k1", "4242424242424242", true)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
