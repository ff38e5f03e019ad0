//! Velocity counters, exact under concurrency: one Durable Object per (merchant, subject, key)
//! keeps that subject's attempt history (`till_core::velocity`). An object handles one request
//! at a time, so of 200 attempts arriving at once each is recorded and counted in turn: a limit
//! of 50 lets exactly 50 through.

use serde::{Deserialize, Serialize};
use till_core::error::ApiError;
use till_core::risk_rules::{Counter, Subject, MAX_WINDOW_SECONDS};
use till_core::velocity::{Entry, History};
use worker::wasm_bindgen::JsValue;
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State};

const HISTORY: &str = "history";

/// A counter over a window, as a rule reads it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Window {
    pub counter: Counter,
    pub seconds: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Call {
    /// Records the attempt (once: a retry of the same attempt is not counted again), then
    /// answers the counters, the attempt included.
    Count {
        attempt: String,
        at: i64,
        card: String,
        windows: Vec<Window>,
    },
    /// The attempt was refused (by the gateway or a rule): it counts as a decline.
    Decline { attempt: String },
}

#[derive(Serialize, Deserialize)]
struct Counts {
    counts: Vec<i64>,
}

#[durable_object(alarm)]
pub struct RiskVelocity {
    state: State,
}

impl DurableObject for RiskVelocity {
    fn new(state: State, _env: Env) -> Self {
        RiskVelocity { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: Call = req.json().await?;
        let storage = self.state.storage();
        let mut history: History = storage.get(HISTORY).await?.unwrap_or_default();
        match call {
            Call::Count {
                attempt,
                at,
                card,
                windows,
            } => {
                history.record(
                    Entry {
                        attempt,
                        at,
                        card,
                        declined: false,
                    },
                    at,
                );
                storage.put(HISTORY, &history).await?;
                // Nothing is counted past the longest window: the alarm forgets what has left
                // it, so an idle subject costs nothing. One pending alarm is enough: it comes
                // no later than this attempt leaves, and sets the next.
                if storage.get_alarm().await?.is_none() {
                    storage
                        .set_alarm(i64::from(MAX_WINDOW_SECONDS) * 1000)
                        .await?;
                }
                let counts = windows
                    .iter()
                    .map(|w| history.count(w.counter, w.seconds, at))
                    .collect();
                Response::from_json(&Counts { counts })
            }
            Call::Decline { attempt } => {
                if history.mark_declined(&attempt) {
                    storage.put(HISTORY, &history).await?;
                }
                Response::from_json(&Counts { counts: Vec::new() })
            }
        }
    }

    /// Forgets the attempts that have left every window, then sleeps until the next one
    /// leaves; a subject with none left is deleted.
    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        let mut history: History = storage.get(HISTORY).await?.unwrap_or_default();
        let now = worker::Date::now().as_millis() as i64 / 1000;
        match history.forget_past(now) {
            Some(next) => {
                storage.put(HISTORY, &history).await?;
                storage.set_alarm((next - now).max(1) * 1000).await?;
            }
            None => storage.delete_all().await?,
        }
        Response::ok("")
    }
}

fn velocity_error(what: &str, error: impl std::fmt::Display) -> ApiError {
    crate::log_error!("risk velocity {what}: {error}");
    ApiError::internal()
}

async fn call(
    env: &Env,
    merchant_id: &str,
    subject: Subject,
    key: &str,
    body: &Call,
) -> Result<Counts, ApiError> {
    let name = till_core::api_keys::hash_secret(&format!(
        "{merchant_id}\nrisk\n{}\n{key}",
        subject.as_str()
    ));
    let stub = env
        .durable_object("RISK_VELOCITY")
        .and_then(|ns| ns.id_from_name(&name)?.get_stub())
        .map_err(|e| velocity_error("stub", e))?;
    let body = serde_json::to_string(body).map_err(|e| velocity_error("encode", e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let request = Request::new_with_init("https://risk-velocity.till/", &init)
        .map_err(|e| velocity_error("request", e))?;
    stub.fetch_with_request(request)
        .await
        .map_err(|e| velocity_error("call", e))?
        .json()
        .await
        .map_err(|e| velocity_error("decode", e))
}

/// Records `attempt` in the subject's history and answers `windows`, in order.
pub async fn count(
    env: &Env,
    merchant_id: &str,
    (subject, key): (Subject, &str),
    attempt: &str,
    at: i64,
    card: &str,
    windows: Vec<Window>,
) -> Result<Vec<i64>, ApiError> {
    let body = Call::Count {
        attempt: attempt.to_string(),
        at,
        card: card.to_string(),
        windows,
    };
    Ok(call(env, merchant_id, subject, key, &body).await?.counts)
}

/// Counts `attempt` as declined in the subject's history.
pub async fn decline(
    env: &Env,
    merchant_id: &str,
    (subject, key): (Subject, &str),
    attempt: &str,
) -> Result<(), ApiError> {
    let body = Call::Decline {
        attempt: attempt.to_string(),
    };
    call(env, merchant_id, subject, key, &body)
        .await
        .map(|_| ())
}
