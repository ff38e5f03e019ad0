//! Rate limits against card testing. One Durable Object per (merchant, dimension, value) holds
//! the sliding window of that key, client IP or card; being single-threaded, it counts exactly
//! however many requests arrive at once. The rules are in `till_core::rate_limit`.

use crate::auth::Caller;
use serde::{Deserialize, Serialize};
use till_core::error::ApiError;
use till_core::rate_limit::{admit, Dimension, Limit, Limits};
use worker::wasm_bindgen::JsValue;
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State};

const HITS: &str = "hits";

#[derive(Serialize, Deserialize)]
struct Check {
    limit: Limit,
}

#[derive(Serialize, Deserialize)]
struct Verdict {
    /// Seconds until a request is allowed again; `None` when this one was admitted.
    retry_after: Option<u64>,
}

#[durable_object(alarm)]
pub struct RateLimiter {
    state: State,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        RateLimiter { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let Check { limit } = req.json().await?;
        let storage = self.state.storage();
        let mut hits: Vec<i64> = storage.get(HITS).await?.unwrap_or_default();
        let now_ms = worker::Date::now().as_millis() as i64;
        let retry_after = admit(&mut hits, now_ms, limit).err();
        if retry_after.is_none() {
            storage.put(HITS, &hits).await?;
            // Forget the window once it has passed: an idle key, IP or card costs nothing.
            storage
                .set_alarm(i64::from(limit.window_seconds) * 1000)
                .await?;
        }
        Response::from_json(&Verdict { retry_after })
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.state.storage().delete_all().await?;
        Response::ok("")
    }
}

fn limiter_error(what: &str, error: impl std::fmt::Display) -> ApiError {
    crate::log_error!("rate limit {what}: {error}");
    ApiError::internal()
}

/// The deployment's limits (`RATE_LIMITS`, JSON) over the built-in defaults.
fn deployment_limits(env: &Env) -> Limits {
    let configured = env
        .var("RATE_LIMITS")
        .ok()
        .and_then(|v| serde_json::from_str::<Limits>(&v.to_string()).ok());
    Limits::defaults().with(&configured.unwrap_or_default())
}

/// Counts one request against the window of (`caller`'s merchant, `dimension`, `value`);
/// 429 with `Retry-After` when the window is full.
pub async fn check(
    env: &Env,
    caller: &Caller,
    dimension: Dimension,
    value: &str,
) -> Result<(), ApiError> {
    let limits = deployment_limits(env).with(&caller.rate_limits);
    count(env, &limits, &caller.merchant_id, dimension, value).await
}

/// Counts a dashboard sign-in or sign-up from the request's client address, across merchants.
pub async fn check_sign_in(env: &Env, req: &Request) -> Result<(), ApiError> {
    let ip = crate::auth::client_ip(req);
    count(env, &deployment_limits(env), "", Dimension::SignIn, &ip).await
}

async fn count(
    env: &Env,
    limits: &Limits,
    merchant_id: &str,
    dimension: Dimension,
    value: &str,
) -> Result<(), ApiError> {
    let Some(limit) = limits.get(dimension) else {
        return Ok(());
    };
    let name = till_core::api_keys::hash_secret(&format!(
        "{merchant_id}\n{}\n{value}",
        dimension.as_str()
    ));
    let stub = env
        .durable_object("RATE_LIMITER")
        .and_then(|ns| ns.id_from_name(&name)?.get_stub())
        .map_err(|e| limiter_error("stub", e))?;
    let body = serde_json::to_string(&Check { limit }).map_err(|e| limiter_error("encode", e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let request = Request::new_with_init("https://rate-limit.till/", &init)
        .map_err(|e| limiter_error("request", e))?;
    let verdict: Verdict = stub
        .fetch_with_request(request)
        .await
        .map_err(|e| limiter_error("call", e))?
        .json()
        .await
        .map_err(|e| limiter_error("decode", e))?;
    match verdict.retry_after {
        None => Ok(()),
        Some(seconds) => {
            crate::log_warn!(
                "rate limit: merchant {merchant_id} {} refused for {seconds} s",
                dimension.as_str()
            );
            Err(ApiError::rate_limited(dimension.description(), seconds))
        }
    }
}

/// The limits every card-testing surface (tokens, confirm, challenge) checks for a browser
/// caller: the publishable key and the client IP, concurrently.
pub async fn check_browser_caller(
    env: &Env,
    req: &Request,
    caller: &Caller,
) -> Result<(), ApiError> {
    if caller.key_kind != till_core::api_keys::KeyKind::Publishable {
        // Secret-key calls come from the merchant's own server, for all its customers.
        return Ok(());
    }
    let ip = crate::auth::client_ip(req);
    let (by_key, by_ip) = futures_util::future::join(
        check(env, caller, Dimension::PublishableKey, ""),
        check(env, caller, Dimension::ClientIp, &ip),
    )
    .await;
    by_key.and(by_ip)
}
