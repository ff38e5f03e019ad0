//! `POST /v1/webhook_endpoints`, `GET /v1/webhook_endpoints` and
//! `GET /v1/webhook_endpoints/:id/deliveries` (secret key).

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::{self, webhooks::EndpointRow};
use crate::vault::Vault;
use crate::{clock, random};
use till_core::api::{CreateWebhookEndpoint, WebhookDelivery, WebhookEndpoint};
use till_core::error::ApiError;
use till_core::ids::IdKind;
use worker::{Env, Request};

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateWebhookEndpoint = parse(body_value(&mut req).await?)?;
    let dev_hosts = crate::config::dev_http_hosts(env);
    let url = request.validate(till_core::urls::DevHosts(&dev_hosts))?;
    crate::config::check_outbound(env, &url)?;
    let id = random::id(IdKind::WebhookEndpoint)?;
    let secret = random::id(IdKind::WebhookSecret)?;
    let row = EndpointRow {
        sealed_secret: Vault::open(env)?.seal_text(&id, &secret)?,
        id,
        merchant_id: caller.merchant_id.clone(),
        url: url.clone(),
        events: serde_json::to_string(&request.events).map_err(|_| ApiError::internal())?,
        created: clock::now_seconds(),
    };
    store::webhooks::insert_endpoint(env, &row).await?;
    json(
        200,
        &WebhookEndpoint {
            id: row.id,
            object: "webhook_endpoint".into(),
            url,
            events: request.events,
            secret: Some(secret),
            created: row.created,
        },
    )
}

/// `GET /v1/webhook_endpoints`: the merchant's endpoints (never their signing secrets).
pub async fn list(env: &Env, caller: &Caller) -> ApiResult {
    let data = store::webhooks::endpoints_of(env, &caller.merchant_id)
        .await?
        .into_iter()
        .map(|row| {
            Ok(WebhookEndpoint {
                events: serde_json::from_str(&row.events).map_err(|_| ApiError::internal())?,
                id: row.id,
                object: "webhook_endpoint".into(),
                url: row.url,
                secret: None,
                created: row.created,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    json(200, &serde_json::json!({ "object": "list", "data": data }))
}

pub async fn deliveries(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    store::webhooks::endpoint(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))?;
    let data: Vec<WebhookDelivery> = store::webhooks::deliveries_of(env, id)
        .await?
        .into_iter()
        .map(|d| WebhookDelivery {
            id: d.id,
            event: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            created: d.created,
            updated: d.updated,
        })
        .collect();
    json(200, &serde_json::json!({ "object": "list", "data": data }))
}

/// `POST /v1/webhook_deliveries/:id/resend`: the delivery's event to its endpoint again, as a new
/// delivery (same event id: receivers that deduplicate by it see it once).
pub async fn resend(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("webhook delivery");
    if !till_core::ids::is_valid(till_core::ids::IdKind::Delivery, id) {
        return Err(missing());
    }
    let delivery = store::webhooks::delivery_of(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    let endpoint = store::webhooks::endpoint(env, &caller.merchant_id, &delivery.endpoint_id)
        .await?
        .ok_or_else(missing)?;
    let event = store::webhooks::event(env, &caller.merchant_id, &delivery.event_id)
        .await?
        .ok_or_else(missing)?;
    let sent =
        crate::merchant_webhooks::deliver_to(env, &event, &endpoint, crate::clock::now_seconds())
            .await?;
    json(
        200,
        &WebhookDelivery {
            id: sent.id,
            event: sent.event_id,
            event_type: sent.event_type,
            status: sent.status,
            attempts: sent.attempts,
            last_status_code: sent.last_status_code,
            created: sent.created,
            updated: sent.updated,
        },
    )
}
