//! Velocity counters, exact under concurrency. A merchant's subjects' histories (a card's, an
//! address's, …) are spread over its velocity Durable Objects
//! ([`till_core::velocity::OBJECTS_PER_MERCHANT`], picked by `object_name`), one SQL row per
//! attempt, counted with the windows of `till_core::velocity`. A history lives in one object and
//! an object handles one request at a time, so of 200 attempts arriving at once each is
//! recorded and counted in turn: a limit of 50 lets exactly 50 through. An attempt asks each
//! object holding one of its histories once, whatever the rules, and costs a row written and
//! an indexed count per window, however long the history. The objects stay warm: a new card or
//! address is a new row, not a new object.

use crate::object_tables::ObjectTables;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use till_core::error::ApiError;
use till_core::risk_rules::{Counter, Subject, MAX_WINDOW_SECONDS};
use till_core::velocity::{history_name, horizon, object_name, window_start, MAX_ENTRIES};
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

/// One subject's part of a call: its history, and what to count in it.
#[derive(Serialize, Deserialize)]
struct Asked {
    history: String,
    windows: Vec<Window>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Call {
    /// Records the attempt in each history (once: a retry of the same attempt is not counted
    /// again), then answers each one's counters, the attempt included.
    Count {
        attempt: String,
        at: i64,
        card: String,
        histories: Vec<Asked>,
    },
    /// The attempt was refused (by the gateway or a rule): it counts as a decline.
    Decline {
        attempt: String,
        histories: Vec<String>,
    },
}

/// Each history's counts, in the order asked.
#[derive(Serialize, Deserialize)]
struct Counts {
    counts: Vec<Vec<i64>>,
}

#[derive(Deserialize)]
struct Number {
    n: Option<i64>,
}

/// A history's attempts, one row each.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS history_attempts (history TEXT NOT NULL, attempt TEXT NOT NULL, \
     at INTEGER NOT NULL, card TEXT NOT NULL, declined INTEGER NOT NULL DEFAULT 0, \
     PRIMARY KEY (history, attempt))",
    "CREATE INDEX IF NOT EXISTS history_attempts_by_time ON history_attempts (history, at)",
    "CREATE INDEX IF NOT EXISTS history_attempts_by_at ON history_attempts (at)",
];

/// One of a merchant's velocity objects: the attempts of the histories it holds.
#[durable_object(alarm)]
pub struct RiskVelocity {
    state: State,
    tables: ObjectTables,
}

/// Forgets the attempts no window reaches at `now`.
fn forget_old(sql: &SqlStorage, now: i64) -> worker::Result<()> {
    sql.exec(
        "DELETE FROM history_attempts WHERE at <= ?",
        vec![horizon(now).into()],
    )?;
    Ok(())
}

/// Forgets `history`'s oldest attempts beyond [`MAX_ENTRIES`].
fn cap(sql: &SqlStorage, history: &str) -> worker::Result<()> {
    let kept = i64::try_from(MAX_ENTRIES).unwrap_or(i64::MAX);
    sql.exec(
        "DELETE FROM history_attempts WHERE rowid IN (SELECT rowid FROM history_attempts \
         WHERE history = ? ORDER BY at DESC, rowid DESC LIMIT -1 OFFSET ?)",
        vec![history.into(), kept.into()],
    )?;
    Ok(())
}

/// `window`'s counter in `history` at `now`.
fn counter_value(sql: &SqlStorage, history: &str, window: Window, now: i64) -> worker::Result<i64> {
    let query = match window.counter {
        Counter::Attempts => {
            "SELECT count(*) AS n FROM history_attempts \
             WHERE history = ? AND at > ? AND at <= ?"
        }
        Counter::Declines => {
            "SELECT count(*) AS n FROM history_attempts \
             WHERE history = ? AND at > ? AND at <= ? AND declined = 1"
        }
        Counter::DistinctCards => {
            "SELECT count(DISTINCT card) AS n FROM history_attempts \
             WHERE history = ? AND at > ? AND at <= ?"
        }
    };
    let since = window_start(window.seconds, now);
    let counted: Number = sql
        .exec(query, vec![history.into(), since.into(), now.into()])?
        .one()?;
    Ok(counted.n.unwrap_or_default())
}

impl DurableObject for RiskVelocity {
    fn new(state: State, _env: Env) -> Self {
        RiskVelocity {
            state,
            tables: ObjectTables::new(SCHEMA),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: Call = req.json().await?;
        let sql = self.tables.open(&self.state)?;
        match call {
            Call::Count {
                attempt,
                at,
                card,
                histories,
            } => {
                forget_old(&sql, at)?;
                for asked in &histories {
                    sql.exec(
                        "INSERT OR IGNORE INTO history_attempts (history, attempt, at, card) \
                         VALUES (?, ?, ?, ?)",
                        vec![
                            asked.history.as_str().into(),
                            attempt.as_str().into(),
                            at.into(),
                            card.as_str().into(),
                        ],
                    )?;
                    cap(&sql, &asked.history)?;
                }
                // The alarm forgets what has left every window, so idle histories cost
                // nothing. One pending alarm is enough: it comes no later than this attempt
                // leaves, and sets the next.
                let storage = self.state.storage();
                if storage.get_alarm().await?.is_none() {
                    storage
                        .set_alarm(i64::from(MAX_WINDOW_SECONDS) * 1000)
                        .await?;
                }
                let counts = histories
                    .iter()
                    .map(|asked| {
                        asked
                            .windows
                            .iter()
                            .map(|&window| counter_value(&sql, &asked.history, window, at))
                            .collect::<worker::Result<Vec<_>>>()
                    })
                    .collect::<worker::Result<_>>()?;
                Response::from_json(&Counts { counts })
            }
            Call::Decline { attempt, histories } => {
                for history in histories {
                    sql.exec(
                        "UPDATE history_attempts SET declined = 1 \
                         WHERE history = ? AND attempt = ?",
                        vec![history.into(), attempt.as_str().into()],
                    )?;
                }
                Response::from_json(&Counts { counts: Vec::new() })
            }
        }
    }

    /// Forgets the attempts that have left every window, then sleeps until the next one
    /// leaves; an object with none left is deleted.
    async fn alarm(&self) -> worker::Result<Response> {
        let sql = self.tables.open(&self.state)?;
        let now = worker::Date::now().as_millis() as i64 / 1000;
        forget_old(&sql, now)?;
        let oldest: Number = sql
            .exec("SELECT min(at) AS n FROM history_attempts", None)?
            .one()?;
        let storage = self.state.storage();
        match oldest.n {
            Some(at) => {
                let leaves = at + i64::from(MAX_WINDOW_SECONDS);
                storage.set_alarm((leaves - now).max(1) * 1000).await?;
            }
            None => {
                storage.delete_all().await?;
                self.tables.deleted();
            }
        }
        Response::ok("")
    }
}

fn velocity_error(what: &str, error: impl std::fmt::Display) -> ApiError {
    crate::log_error!("risk velocity {what}: {error}");
    ApiError::internal()
}

async fn call(env: &Env, object: &str, body: &Call) -> Result<Counts, ApiError> {
    let stub = env
        .durable_object("RISK_VELOCITY")
        .and_then(|ns| ns.id_from_name(object)?.get_stub())
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

/// The subjects' histories grouped by the object holding them: each object's histories with
/// their places in `subjects`.
fn by_object(
    merchant_id: &str,
    subjects: &[(Subject, &str)],
) -> BTreeMap<String, Vec<(usize, String)>> {
    let mut objects = BTreeMap::<String, Vec<_>>::new();
    for (place, &(subject, key)) in subjects.iter().enumerate() {
        let history = history_name(merchant_id, subject, key);
        objects
            .entry(object_name(merchant_id, &history))
            .or_default()
            .push((place, history));
    }
    objects
}

/// Records `attempt` in each subject's history and answers the `windows` asked of each (in
/// the same order), in order: one call per object holding any of them, all at once.
pub async fn count(
    env: &Env,
    merchant_id: &str,
    subjects: &[(Subject, &str)],
    windows: &[Vec<Window>],
    attempt: &str,
    at: i64,
    card: &str,
) -> Result<Vec<Vec<i64>>, ApiError> {
    let calls =
        by_object(merchant_id, subjects)
            .into_iter()
            .map(|(object, histories)| async move {
                let (places, asked): (Vec<_>, Vec<_>) = histories
                    .into_iter()
                    .map(|(place, history)| {
                        let windows = windows.get(place).cloned().unwrap_or_default();
                        (place, Asked { history, windows })
                    })
                    .unzip();
                let body = Call::Count {
                    attempt: attempt.to_string(),
                    at,
                    card: card.to_string(),
                    histories: asked,
                };
                let counts = call(env, &object, &body).await?.counts;
                if counts.len() != places.len() {
                    return Err(velocity_error(
                        "answer",
                        "one count list per history expected",
                    ));
                }
                Ok(places.into_iter().zip(counts).collect::<Vec<_>>())
            });
    let mut answered = vec![Vec::new(); subjects.len()];
    for object in futures_util::future::join_all(calls).await {
        for (place, counts) in object? {
            if let Some(slot) = answered.get_mut(place) {
                *slot = counts;
            }
        }
    }
    Ok(answered)
}

/// Counts `attempt` as declined in each subject's history.
pub async fn decline(
    env: &Env,
    merchant_id: &str,
    subjects: &[(Subject, &str)],
    attempt: &str,
) -> Vec<Result<(), ApiError>> {
    let calls =
        by_object(merchant_id, subjects)
            .into_iter()
            .map(|(object, histories)| async move {
                let body = Call::Decline {
                    attempt: attempt.to_string(),
                    histories: histories.into_iter().map(|(_, history)| history).collect(),
                };
                call(env, &object, &body).await.map(|_| ())
            });
    futures_util::future::join_all(calls).await
}
