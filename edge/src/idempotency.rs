//! Exactly-once requests. The Durable Object holding a (merchant, endpoint, key)'s record
//! decides who runs: it is single-threaded, so "first or duplicate" has one answer, and a
//! duplicate gets what the first stored from that same answer. The isolate keeps the final
//! answers it wrote or replayed for a minute, so a client's retry that lands on it is answered
//! without a round trip.

use crate::clock;
use crate::http::{raw_json, ApiResult};
use crate::isolate_cache::TtlCache;
use crate::later::Later;
use crate::object_tables::ObjectTables;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::future::Future;
use till_core::error::ApiError;
pub use till_core::idempotency::key_reused;
pub use till_core::idempotency::Begin;
use till_core::idempotency::{self, decide, Decision, Stored};
use worker::wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, SqlStorage, State,
};

/// Final answers this isolate wrote or read stay in its memory this long, so a client's retry
/// that lands on the same isolate needs no round trip. A final answer never changes.
const MEMORY_TTL_SECONDS: i64 = 60;
const MEMORY_ENTRIES: usize = 256;

thread_local! {
    static FINISHED: RefCell<TtlCache<Stored>> =
        RefCell::new(TtlCache::new(MEMORY_TTL_SECONDS, MEMORY_ENTRIES));
}

fn hold_in_memory(name: &str, stored: &Stored) {
    if matches!(stored, Stored::Done { .. }) {
        FINISHED.with(|cache| {
            cache
                .borrow_mut()
                .insert(name.to_string(), stored.clone(), clock::now_seconds())
        });
    }
}
/// A record is kept this long after its key was first used: a retry within two days gets the
/// first answer.
const RECORD_LIFETIME_MS: i64 = 48 * 60 * 60 * 1000;
/// What the handler asks the object to do with the record `name`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Command {
    Begin {
        name: String,
        fingerprint: String,
        now: i64,
        stale_after: i64,
    },
    Complete {
        name: String,
        fingerprint: String,
        status: u16,
        body: String,
    },
    Release {
        name: String,
    },
    /// The record's final answer, if it has one; changes nothing.
    Answer {
        name: String,
    },
}

#[derive(Deserialize)]
struct RecordRow {
    stored: String,
}

#[derive(Deserialize)]
struct FirstToForget {
    forget_at: Option<i64>,
}

/// A record per key, and when it is forgotten.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS records (name TEXT PRIMARY KEY, stored TEXT NOT NULL, \
     forget_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_by_forget_at ON records (forget_at)",
];

/// The idempotency records of one of a merchant's objects
/// ([`idempotency::OBJECTS_PER_MERCHANT`]), one SQL row per key. Single-threaded, so "first or
/// duplicate" has one answer for each key it holds.
#[durable_object(alarm)]
pub struct IdempotencyKeys {
    state: State,
    tables: ObjectTables,
}

impl IdempotencyKeys {
    fn read(sql: &SqlStorage, name: &str) -> worker::Result<Option<Stored>> {
        let rows: Vec<RecordRow> = sql
            .exec(
                "SELECT stored FROM records WHERE name = ?",
                vec![name.into()],
            )?
            .to_array()?;
        match rows.first() {
            Some(row) => serde_json::from_str(&row.stored)
                .map(Some)
                .map_err(|e| worker::Error::RustError(format!("idempotency record: {e}"))),
            None => Ok(None),
        }
    }

    /// Writes `stored` under `name`; a new record is forgotten [`RECORD_LIFETIME_MS`] from now,
    /// a rewritten one keeps its date.
    async fn write(&self, sql: &SqlStorage, name: &str, stored: &Stored) -> worker::Result<()> {
        let json = serde_json::to_string(stored)
            .map_err(|e| worker::Error::RustError(format!("idempotency record: {e}")))?;
        let forget_at = worker::Date::now().as_millis() as i64 + RECORD_LIFETIME_MS;
        sql.exec(
            "INSERT INTO records (name, stored, forget_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET stored = excluded.stored",
            vec![name.into(), json.into(), forget_at.into()],
        )?;
        // Records are forgotten oldest first, so a pending alarm is due no later than this
        // one's date; the alarm sets the next.
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(RECORD_LIFETIME_MS).await?;
        }
        Ok(())
    }
}

impl DurableObject for IdempotencyKeys {
    fn new(state: State, _env: Env) -> Self {
        IdempotencyKeys {
            state,
            tables: ObjectTables::new(SCHEMA),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let command: Command = req.json().await?;
        let sql = self.tables.open(&self.state)?;
        match command {
            Command::Begin {
                name,
                fingerprint,
                now,
                stale_after,
            } => {
                let stored = Self::read(&sql, &name)?;
                let (answer, write) = idempotency::begin(stored, &fingerprint, now, stale_after);
                if let Some(record) = write {
                    self.write(&sql, &name, &record).await?;
                }
                Response::from_json(&answer)
            }
            Command::Complete {
                name,
                fingerprint,
                status,
                body,
            } => {
                let done = Stored::Done {
                    fingerprint,
                    status,
                    body,
                };
                self.write(&sql, &name, &done).await?;
                Response::ok("")
            }
            Command::Release { name } => {
                if let Some(Stored::InFlight { .. }) = Self::read(&sql, &name)? {
                    sql.exec("DELETE FROM records WHERE name = ?", vec![name.into()])?;
                }
                Response::ok("")
            }
            Command::Answer { name } => {
                let done = Self::read(&sql, &name)?.filter(|s| matches!(s, Stored::Done { .. }));
                Response::from_json(&done)
            }
        }
    }

    /// Forgets the records whose time has come, then sleeps until the next one's; an object
    /// left with none is deleted.
    async fn alarm(&self) -> worker::Result<Response> {
        let sql = self.tables.open(&self.state)?;
        let now_ms = worker::Date::now().as_millis() as i64;
        sql.exec(
            "DELETE FROM records WHERE forget_at <= ?",
            vec![now_ms.into()],
        )?;
        let next: FirstToForget = sql
            .exec("SELECT min(forget_at) AS forget_at FROM records", None)?
            .one()?;
        let storage = self.state.storage();
        match next.forget_at {
            Some(at) => storage.set_alarm(at - now_ms).await?,
            None => {
                storage.delete_all().await?;
                self.tables.deleted();
            }
        }
        Response::ok("")
    }
}

/// One idempotent request: its scope and fingerprint.
#[derive(Clone)]
pub struct Scope {
    pub merchant_id: String,
    pub endpoint: &'static str,
    pub key: String,
    pub fingerprint: String,
}

/// How the work ended.
pub enum Ended {
    /// An outcome every retry must see again (the gateway answered, whatever it said).
    Stored { status: u16, body: String },
    /// Nothing to replay: nothing happened, or we cannot know yet. The key is released and a
    /// retry runs again (and recovers what the first attempt did).
    Retryable(ApiError),
}

fn storage_error(what: &str, error: impl std::fmt::Display) -> ApiError {
    crate::log_error!("idempotency {what}: {error}");
    ApiError::internal()
}

impl Scope {
    fn name(&self) -> String {
        idempotency::record_name(&self.merchant_id, self.endpoint, &self.key)
    }

    /// The key the gateway sees for this request.
    pub fn gateway_key(&self) -> String {
        idempotency::gateway_key(&self.merchant_id, self.endpoint, &self.key)
    }

    async fn call(&self, env: &Env, command: &Command) -> Result<Response, ApiError> {
        let stub = env
            .durable_object("IDEMPOTENCY")
            .and_then(|ns| {
                ns.id_from_name(&idempotency::object_name(&self.merchant_id, &self.name()))?
                    .get_stub()
            })
            .map_err(|e| storage_error("stub", e))?;
        let body = serde_json::to_string(command).map_err(|e| storage_error("encode", e))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let request = Request::new_with_init("https://idempotency.till/", &init)
            .map_err(|e| storage_error("request", e))?;
        stub.fetch_with_request(request)
            .await
            .map_err(|e| storage_error("call", e))
    }

    /// The final answer this isolate holds for the scope.
    fn held(&self) -> Option<Stored> {
        FINISHED.with(|cache| cache.borrow().get(&self.name(), clock::now_seconds()))
    }
}

fn stale_after(env: &Env) -> i64 {
    env.var("IDEMPOTENCY_STALE_SECONDS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(30)
}

fn replay(status: u16, body: &str) -> ApiResult {
    let mut response = raw_json(status, body)?;
    response
        .headers_mut()
        .set("Idempotent-Replayed", "true")
        .map_err(|_| ApiError::internal())?;
    Ok(response)
}

fn answer(decision: Decision) -> ApiResult {
    match decision {
        Decision::Replay { status, body } => replay(status, &body),
        Decision::Reject(error) => Err(error),
    }
}

/// Runs `work` at most once per scope: duplicates get the stored response (or 409 while the
/// first is in flight, or 422 when the request differs).
pub async fn once<F, Fut>(env: &Env, scope: &Scope, work: F) -> ApiResult
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Ended, ApiError>>,
{
    if let Some(answer) = held_answer(scope) {
        return answer;
    }
    let claimed = claim(env, scope).await?;
    run_claimed(env, &Later::InPlace, scope, claimed, work).await
}

/// The answer this isolate holds for a finished request: a replay needs nothing else (its
/// fingerprint covers everything the first request was checked for).
pub fn held_answer(scope: &Scope) -> Option<ApiResult> {
    scope
        .held()
        .map(|stored| answer(decide(stored, &scope.fingerprint)))
}

/// The answer a finished request stored, from the scope's object, changing nothing: for a
/// request that cannot run (its body is malformed) but may be a replay. The caller asks
/// [`held_answer`] first, then rate-limits the request: each one asked about here is a call to
/// the merchant's objects.
pub async fn stored_answer(env: &Env, scope: &Scope) -> Result<Option<ApiResult>, ApiError> {
    let look = Command::Answer { name: scope.name() };
    let stored: Option<Stored> = scope
        .call(env, &look)
        .await?
        .json()
        .await
        .map_err(|e| storage_error("decode", e))?;
    Ok(stored.map(|stored| {
        hold_in_memory(&scope.name(), &stored);
        answer(decide(stored, &scope.fingerprint))
    }))
}

/// Asks the scope's object whether this request runs: first, recovering a request that died,
/// or a duplicate (with what the first left). A caller may ask alongside its own reads, then
/// hands the answer to [`run_claimed`], which must follow whatever happens in between.
pub async fn claim(env: &Env, scope: &Scope) -> Result<Begin, ApiError> {
    let begin = Command::Begin {
        name: scope.name(),
        fingerprint: scope.fingerprint.clone(),
        now: clock::now_seconds(),
        stale_after: stale_after(env),
    };
    scope
        .call(env, &begin)
        .await?
        .json()
        .await
        .map_err(|e| storage_error("decode", e))
}

/// Gives back a key [`claim`] took for a request that will not run, so a retry runs again.
pub async fn release(env: &Env, scope: &Scope) -> Result<(), ApiError> {
    let release = Command::Release { name: scope.name() };
    scope.call(env, &release).await.map(|_| ())
}

/// Runs `work` when [`claim`] said this request runs, and records how it ended: a final
/// answer is stored for every retry; an error releases the key, so a retry runs again.
pub async fn run_claimed<F, Fut>(
    env: &Env,
    later: &Later<'_>,
    scope: &Scope,
    claimed: Begin,
    work: F,
) -> ApiResult
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Ended, ApiError>>,
{
    match claimed {
        Begin::First | Begin::Recover => {}
        Begin::Existing { stored } => return replay_existing(scope, stored),
    }
    let ended = work().await;
    record_end(env, later, scope, ended).await
}

/// What a duplicate gets: the first request's answer (held in this isolate from now on), or
/// why it gets none yet.
fn replay_existing(scope: &Scope, stored: Stored) -> ApiResult {
    hold_in_memory(&scope.name(), &stored);
    answer(decide(stored, &scope.fingerprint))
}

/// A claim that found its request finished ends the request here, whatever else it started:
/// the first answer (or 422 for another body). A claim of a key in flight goes on like a first
/// one, so the request's own faults are still told before the 409.
pub fn unless_finished(scope: &Scope, claimed: Begin) -> Result<Begin, ApiResult> {
    match claimed {
        Begin::Existing {
            stored: stored @ Stored::Done { .. },
        } => Err(replay_existing(scope, stored)),
        claimed => Ok(claimed),
    }
}

/// Keeps how a claimed request ended. Not generic: every endpoint's [`run_claimed`] shares one
/// copy of it in the worker's code.
async fn record_end(
    env: &Env,
    later: &Later<'_>,
    scope: &Scope,
    ended: Result<Ended, ApiError>,
) -> ApiResult {
    match ended {
        Ok(Ended::Stored { status, body }) => {
            let stored = Stored::Done {
                fingerprint: scope.fingerprint.clone(),
                status,
                body: body.clone(),
            };
            // This isolate replays it from now on; the object may follow the answer: until it
            // has it, a retry elsewhere finds the key in flight, and one that finds it stale
            // recovers the same answer from what the work stored.
            hold_in_memory(&scope.name(), &stored);
            let complete = Command::Complete {
                name: scope.name(),
                fingerprint: scope.fingerprint.clone(),
                status,
                body: body.clone(),
            };
            let (env_later, scope_later) = (env.clone(), scope.clone());
            later
                .run(async move {
                    if let Err(error) = scope_later.call(&env_later, &complete).await {
                        crate::log_error!("idempotency: answer not recorded: {error}");
                    }
                })
                .await;
            raw_json(status, &body)
        }
        Ok(Ended::Retryable(error)) | Err(error) => {
            release(env, scope).await?;
            Err(error)
        }
    }
}

/// Reads and checks the `Idempotency-Key` header and fingerprints the request.
pub fn scope_for(
    req: &Request,
    merchant_id: &str,
    endpoint: &'static str,
    body: &serde_json::Value,
) -> Result<Scope, ApiError> {
    let header = crate::http::header(req, idempotency::HEADER);
    let key = idempotency::validate_key(header.as_deref())?.to_string();
    Ok(Scope {
        merchant_id: merchant_id.to_string(),
        endpoint,
        key,
        fingerprint: idempotency::fingerprint("POST", &req.path(), body),
    })
}
