//! `/v1/origins` (full secret key only): the merchant's pages allowed to embed the widget and to
//! call with the publishable key.

use crate::auth::{self, Caller};
use crate::handlers::api_keys::audit;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::merchants::OriginAdded;
use crate::{clock, config, store};
use till_core::api::List;
use till_core::error::{ApiError, ErrorCode};
use till_core::merchant::{checked_origin, AddOrigin, OriginView, MAX_ORIGINS};
use till_core::urls::DevHosts;
use worker::Env;

/// `GET /v1/origins`.
pub async fn list(env: &Env, caller: &Caller) -> ApiResult {
    let origins: Vec<OriginView> = store::merchants::origins(env, &caller.merchant_id)
        .await?
        .into_iter()
        .map(OriginView::new)
        .collect();
    let count = origins.len();
    json(200, &List::page(origins, count))
}

/// `POST /v1/origins`: adding one already there changes nothing and answers the same.
pub async fn add(mut req: worker::Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: AddOrigin = parse(body_value(&mut req).await?)?;
    let dev_hosts = config::dev_http_hosts(env);
    let origin = checked_origin(&request.origin, DevHosts(&dev_hosts))?;
    let entry = audit(caller, "origin.added", &origin, clock::now_seconds())?;
    match store::merchants::add_origin(env, &caller.merchant_id, &origin, &entry).await? {
        OriginAdded::Added | OriginAdded::AlreadyThere => {}
        OriginAdded::Full => {
            return Err(ApiError::new(ErrorCode::OriginInvalid)
                .with_message(format!(
                    "A merchant has at most {MAX_ORIGINS} origins: remove one first."
                ))
                .with_param("origin"))
        }
    }
    auth::forget_origins(&caller.merchant_id, &origin);
    json(200, &OriginView::new(origin))
}

/// `DELETE /v1/origins/:origin`, the origin percent-encoded in the path
/// (`/v1/origins/https%3A%2F%2Fshop.example`).
pub async fn remove(env: &Env, caller: &Caller, encoded: &str) -> ApiResult {
    let missing = || ApiError::not_found("origin");
    let origin = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|_| missing())?
        .into_owned();
    let entry = audit(caller, "origin.removed", &origin, clock::now_seconds())?;
    if !store::merchants::remove_origin(env, &caller.merchant_id, &origin, &entry).await? {
        return Err(missing());
    }
    auth::forget_origins(&caller.merchant_id, &origin);
    json(200, &OriginView::new(origin))
}
