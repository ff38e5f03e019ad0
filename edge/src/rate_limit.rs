//! Rate limits against card testing. One Durable Object per (merchant, dimension, value) holds
//! the sliding window of that key, client IP or card; being single-threaded, it counts exactly
//! however many requests arrive at once. A browser call's two windows, its publishable key's and
//! its client address's, are kept in the key's object and checked in one call: a request either
//! window refuses counts in neither. The rules are in `till_core::rate_limit`.

use crate::auth::Caller;
use serde::{Deserialize, Serialize};
use till_core::error::ApiError;
use till_core::rate_limit::{admit_all, Dimension, Limit, Limits, Window};
use worker::js_sys;
use worker::wasm_bindgen::JsValue;
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State};

/// A window to count a request in: where the object keeps it, and its limit.
#[derive(Serialize, Deserialize)]
struct Counted {
    slot: String,
    limit: Limit,
}

#[derive(Serialize, Deserialize)]
struct Check {
    windows: Vec<Counted>,
}

#[derive(Serialize, Deserialize)]
struct Verdict {
    /// The window that refused the request, and the seconds until it has room; `None` when
    /// the request was admitted.
    refused: Option<(usize, u64)>,
}

/// A window as the object keeps it: its hits (ms, oldest first), and when the last of them
/// leaves it.
#[derive(Serialize, Deserialize)]
struct Kept {
    hits: Vec<i64>,
    forget_at: i64,
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
        let Check { windows: asked } = req.json().await?;
        let storage = self.state.storage();
        let mut windows = Vec::with_capacity(asked.len());
        for counted in &asked {
            let kept: Option<Kept> = storage.get(&counted.slot).await?;
            windows.push(Window {
                hits: kept.map(|kept| kept.hits).unwrap_or_default(),
                limit: counted.limit,
            });
        }
        let now_ms = worker::Date::now().as_millis() as i64;
        if let Err(refused) = admit_all(&mut windows, now_ms) {
            return Response::from_json(&Verdict {
                refused: Some((refused.window, refused.retry_after)),
            });
        }
        let mut first_to_forget = None::<i64>;
        for (counted, window) in asked.iter().zip(windows) {
            let forget_at = now_ms + counted.limit.window_ms();
            first_to_forget = Some(first_to_forget.map_or(forget_at, |at| at.min(forget_at)));
            let kept = Kept {
                hits: window.hits,
                forget_at,
            };
            storage.put(&counted.slot, &kept).await?;
        }
        // A window is forgotten once it has passed, so an idle key, address or card costs
        // nothing; the sweep is scheduled when none is.
        if let (Some(at), None) = (first_to_forget, storage.get_alarm().await?) {
            storage.set_alarm(at - now_ms).await?;
        }
        Response::from_json(&Verdict { refused: None })
    }

    /// Forgets the windows that have passed (and anything not a window), then sleeps until the
    /// next one passes.
    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        let now_ms = worker::Date::now().as_millis() as i64;
        let mut passed = Vec::new();
        let mut next = None::<i64>;
        for entry in storage.list().await?.entries() {
            let entry = js_sys::Array::from(&entry?);
            let slot = entry.get(0).as_string().unwrap_or_default();
            let forget_at = js_sys::Reflect::get(&entry.get(1), &JsValue::from_str("forget_at"))
                .ok()
                .and_then(|at| at.as_f64())
                .map(|at| at as i64);
            match forget_at {
                Some(at) if at > now_ms => next = Some(next.map_or(at, |next| next.min(at))),
                _ => passed.push(slot),
            }
        }
        if !passed.is_empty() {
            storage.delete_multiple(passed).await?;
        }
        if let Some(at) = next {
            storage.set_alarm(at - now_ms).await?;
        }
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
    count(env, &limits, &caller.merchant_id, &[(dimension, value)]).await
}

/// Counts a dashboard sign-in or sign-up from the request's client address, across merchants.
pub async fn check_sign_in(env: &Env, req: &Request) -> Result<(), ApiError> {
    let ip = crate::auth::client_ip(req);
    count(
        env,
        &deployment_limits(env),
        "",
        &[(Dimension::SignIn, &ip)],
    )
    .await
}

/// The limits every card-testing surface (tokens, confirm, challenge) checks for a browser
/// caller: the publishable key's and the client address's, in one call to the key's object.
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
    let limits = deployment_limits(env).with(&caller.rate_limits);
    let windows = [(Dimension::PublishableKey, ""), (Dimension::ClientIp, &ip)];
    count(env, &limits, &caller.merchant_id, &windows).await
}

/// Where the window of (`merchant_id`, `dimension`, `value`) is kept: hashed, so no address or
/// card is stored in clear.
fn slot(merchant_id: &str, dimension: Dimension, value: &str) -> String {
    till_core::api_keys::hash_secret(&format!("{merchant_id}\n{}\n{value}", dimension.as_str()))
}

/// Counts one request in `windows` (those `limits` has a limit for), all kept in the object of
/// the first: 429 with `Retry-After` when one of them is full, and then none counts it.
async fn count(
    env: &Env,
    limits: &Limits,
    merchant_id: &str,
    windows: &[(Dimension, &str)],
) -> Result<(), ApiError> {
    let (dimensions, windows): (Vec<Dimension>, Vec<Counted>) = windows
        .iter()
        .filter_map(|&(dimension, value)| {
            let limit = limits.get(dimension)?;
            let slot = slot(merchant_id, dimension, value);
            Some((dimension, Counted { slot, limit }))
        })
        .unzip();
    let Some(object) = windows.first().map(|first| first.slot.clone()) else {
        return Ok(());
    };
    let stub = env
        .durable_object("RATE_LIMITER")
        .and_then(|ns| ns.id_from_name(&object)?.get_stub())
        .map_err(|e| limiter_error("stub", e))?;
    let body = serde_json::to_string(&Check { windows }).map_err(|e| limiter_error("encode", e))?;
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
    match verdict.refused {
        None => Ok(()),
        Some((window, seconds)) => {
            let dimension = dimensions
                .get(window)
                .copied()
                .ok_or_else(|| limiter_error("verdict", "no such window"))?;
            crate::log_warn!(
                "rate limit: merchant {merchant_id} {} refused for {seconds} s",
                dimension.as_str()
            );
            Err(ApiError::rate_limited(dimension.description(), seconds))
        }
    }
}
