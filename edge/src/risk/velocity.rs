//! Velocity counters, exact under concurrency: one Durable Object per (merchant, subject, key)
//! keeps that subject's recent attempts, one SQL row each, and counts them with the windows of
//! `till_core::velocity`. An object handles one request at a time, so of 200 attempts arriving
//! at once each is recorded and counted in turn: a limit of 50 lets exactly 50 through. An
//! attempt costs one row written and one indexed count per window, however long the history.

use serde::{Deserialize, Serialize};
use till_core::error::ApiError;
use till_core::risk_rules::{Counter, Subject, MAX_WINDOW_SECONDS};
use till_core::velocity::{horizon, window_start, MAX_ENTRIES};
use worker::wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, SqlStorage, State,
};

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

#[derive(Deserialize)]
struct Number {
    n: Option<i64>,
}

#[durable_object(alarm)]
pub struct RiskVelocity {
    state: State,
}

impl RiskVelocity {
    fn attempts(&self) -> worker::Result<SqlStorage> {
        let sql = self.state.storage().sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS attempts (attempt TEXT PRIMARY KEY, at INTEGER NOT NULL, \
             card TEXT NOT NULL, declined INTEGER NOT NULL DEFAULT 0)",
            None,
        )?;
        sql.exec(
            "CREATE INDEX IF NOT EXISTS attempts_by_at ON attempts (at)",
            None,
        )?;
        Ok(sql)
    }
}

/// Forgets the attempts no window reaches at `now`, and the oldest beyond [`MAX_ENTRIES`].
fn forget(sql: &SqlStorage, now: i64) -> worker::Result<()> {
    sql.exec(
        "DELETE FROM attempts WHERE at <= ?",
        vec![horizon(now).into()],
    )?;
    let kept = i64::try_from(MAX_ENTRIES).unwrap_or(i64::MAX);
    sql.exec(
        "DELETE FROM attempts WHERE rowid IN \
         (SELECT rowid FROM attempts ORDER BY at DESC, rowid DESC LIMIT -1 OFFSET ?)",
        vec![kept.into()],
    )?;
    Ok(())
}

/// `window`'s counter at `now`.
fn counter_value(sql: &SqlStorage, window: Window, now: i64) -> worker::Result<i64> {
    let query = match window.counter {
        Counter::Attempts => "SELECT count(*) AS n FROM attempts WHERE at > ? AND at <= ?",
        Counter::Declines => {
            "SELECT count(*) AS n FROM attempts WHERE at > ? AND at <= ? AND declined = 1"
        }
        Counter::DistinctCards => {
            "SELECT count(DISTINCT card) AS n FROM attempts WHERE at > ? AND at <= ?"
        }
    };
    let since = window_start(window.seconds, now);
    let counted: Number = sql.exec(query, vec![since.into(), now.into()])?.one()?;
    Ok(counted.n.unwrap_or_default())
}

impl DurableObject for RiskVelocity {
    fn new(state: State, _env: Env) -> Self {
        RiskVelocity { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: Call = req.json().await?;
        let sql = self.attempts()?;
        match call {
            Call::Count {
                attempt,
                at,
                card,
                windows,
            } => {
                sql.exec(
                    "INSERT OR IGNORE INTO attempts (attempt, at, card) VALUES (?, ?, ?)",
                    vec![attempt.into(), at.into(), card.into()],
                )?;
                forget(&sql, at)?;
                // The alarm forgets what has left every window, so an idle subject costs
                // nothing. One pending alarm is enough: it comes no later than this attempt
                // leaves, and sets the next.
                let storage = self.state.storage();
                if storage.get_alarm().await?.is_none() {
                    storage
                        .set_alarm(i64::from(MAX_WINDOW_SECONDS) * 1000)
                        .await?;
                }
                let counts = windows
                    .iter()
                    .map(|&window| counter_value(&sql, window, at))
                    .collect::<worker::Result<_>>()?;
                Response::from_json(&Counts { counts })
            }
            Call::Decline { attempt } => {
                sql.exec(
                    "UPDATE attempts SET declined = 1 WHERE attempt = ?",
                    vec![attempt.into()],
                )?;
                Response::from_json(&Counts { counts: Vec::new() })
            }
        }
    }

    /// Forgets the attempts that have left every window, then sleeps until the next one
    /// leaves; a subject with none left is deleted.
    async fn alarm(&self) -> worker::Result<Response> {
        let sql = self.attempts()?;
        let now = worker::Date::now().as_millis() as i64 / 1000;
        forget(&sql, now)?;
        let oldest: Number = sql.exec("SELECT min(at) AS n FROM attempts", None)?.one()?;
        let storage = self.state.storage();
        match oldest.n {
            Some(at) => {
                let leaves = at + i64::from(MAX_WINDOW_SECONDS);
                storage.set_alarm((leaves - now).max(1) * 1000).await?;
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
