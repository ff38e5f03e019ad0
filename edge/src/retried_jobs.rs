//! Work a Durable Object keeps until it is done: handed over by `start`, stored under `job`,
//! run by the object's alarm, and tried again with backoff. Webhook deliveries and receipt
//! e-mails are such jobs.

use serde::de::DeserializeOwned;
use serde::Serialize;
use till_core::backoff::Backoff;
use till_core::error::ApiError;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit, Response, State};

/// Hands `job` to the object `name` of the Durable Object `binding`; it runs at once.
pub async fn start<T: Serialize>(
    env: &Env,
    binding: &str,
    name: &str,
    job: &T,
) -> Result<(), ApiError> {
    let failed = |what: &str, error: String| {
        crate::log_error!("{binding} {name}: {what}: {error}");
        ApiError::internal()
    };
    let stub = env
        .durable_object(binding)
        .and_then(|ns| ns.id_from_name(name)?.get_stub())
        .map_err(|e| failed("stub", e.to_string()))?;
    let body = serde_json::to_string(job).map_err(|e| failed("encode", e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let request = Request::new_with_init("https://job.till/", &init)
        .map_err(|e| failed("request", e.to_string()))?;
    stub.fetch_with_request(request)
        .await
        .map_err(|e| failed("start", e.to_string()))?;
    Ok(())
}

/// The object's `fetch`: keeps the job and wakes at once. A job already waiting (started again,
/// by the cron say) is kept, with the attempts it has counted.
pub async fn accept<T: Serialize + DeserializeOwned>(
    state: &State,
    mut req: Request,
) -> worker::Result<Response> {
    let job: T = req.json().await?;
    let storage = state.storage();
    if storage.get::<T>("job").await?.is_none() {
        storage.put("job", job).await?;
        storage.set_alarm(0).await?;
    }
    Response::ok("")
}

/// The job waiting for the alarm, if any.
pub async fn waiting<T: DeserializeOwned>(state: &State) -> worker::Result<Option<T>> {
    state.storage().get::<T>("job").await
}

/// After an attempt: wake again after the backoff for `attempts` (keeping `job`), or forget it.
pub async fn after_attempt<T: Serialize>(
    state: &State,
    job: &T,
    attempts: i64,
    again: bool,
    backoff: Backoff,
) -> worker::Result<Response> {
    let storage = state.storage();
    if again {
        storage.put("job", job).await?;
        storage
            .set_alarm(backoff.delay(u32::try_from(attempts).unwrap_or(u32::MAX)))
            .await?;
    } else {
        storage.delete_all().await?;
    }
    Response::ok("")
}
