//! Events to merchants. A state change records an event; every endpoint subscribed to its type
//! gets a delivery, driven by a Durable Object whose alarm posts the signed event
//! (`Till-Signature: t=..,v1=..`) and retries with exponential backoff until a 2xx or the last
//! attempt. Every attempt is written to the delivery log in D1.

use crate::store::webhooks::{EndpointRow, EventRow};
use crate::vault::Vault;
use crate::{clock, random, retried_jobs, store};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use till_core::api::DeliveryStatus;
use till_core::backoff::Backoff;
use till_core::error::ApiError;
use till_core::ids::IdKind;
use worker::wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Fetch, Headers, Method, Request, RequestInit, Response,
    State,
};

const MAX_ATTEMPTS: i64 = 8;
/// 1 s, 2 s, 4 s, … between attempts (in ms).
const RETRIES: Backoff = Backoff {
    first: 1000,
    max: 10 * 60 * 1000,
};

/// One delivery as its Durable Object stores it. The signing secret stays sealed with the vault
/// key (as in D1) and is opened only to sign each attempt.
#[derive(Serialize, Deserialize)]
struct Job {
    delivery: String,
    url: String,
    endpoint: String,
    sealed_secret: String,
    body: String,
    attempts: i64,
}

#[durable_object(alarm)]
pub struct WebhookDelivery {
    state: State,
    env: Env,
}

impl DurableObject for WebhookDelivery {
    fn new(state: State, env: Env) -> Self {
        WebhookDelivery { state, env }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        retried_jobs::accept::<Job>(&self.state, req).await
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let Some(mut job) = retried_jobs::waiting::<Job>(&self.state).await? else {
            return Response::ok("");
        };
        job.attempts += 1;
        let code = match Vault::open(&self.env)
            .and_then(|vault| vault.open_text(&job.endpoint, &job.sealed_secret))
        {
            Ok(secret) => post(&job, secret.expose()).await,
            Err(error) => {
                crate::log_error!("delivery {}: secret not opened: {error}", job.delivery);
                None
            }
        };
        let delivered = code.is_some_and(|c| (200..300).contains(&c));
        let status = if delivered {
            DeliveryStatus::Succeeded
        } else if job.attempts >= MAX_ATTEMPTS {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Pending
        };
        let now = clock::now_seconds();
        if let Err(error) = store::webhooks::record_attempt(
            &self.env,
            &job.delivery,
            status,
            job.attempts,
            code.map(i64::from),
            now,
        )
        .await
        {
            crate::log_error!("delivery {}: log not written: {error}", job.delivery);
        }
        let again = status == DeliveryStatus::Pending;
        retried_jobs::after_attempt(&self.state, &job, job.attempts, again, RETRIES).await
    }
}

/// One signed POST; the HTTP status, or `None` when there was no answer in 10 s. Redirects are
/// not followed (a 3xx is a failed attempt): a public endpoint must not bounce Till's request
/// to an internal address. The response body is never read.
async fn post(job: &Job, secret: &str) -> Option<u16> {
    let signature =
        till_core::webhook::sign(secret.as_bytes(), clock::now_seconds(), job.body.as_bytes());
    let headers = Headers::new();
    headers.set("Content-Type", "application/json").ok()?;
    headers.set("Till-Signature", &signature).ok()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(worker::RequestRedirect::Manual)
        .with_body(Some(JsValue::from_str(&job.body)));
    let request = Request::new_with_init(&job.url, &init).ok()?;
    let fetch = Fetch::Request(request);
    let sent = Box::pin(fetch.send());
    let deadline = worker::Delay::from(Duration::from_secs(10));
    let answered = match futures_util::future::select(sent, deadline).await {
        futures_util::future::Either::Left((Ok(response), _)) => Some(response.status_code()),
        _ => None,
    };
    answered
}

/// An event about `object`, to be recorded (and then delivered).
pub fn new_event<T: Serialize>(
    merchant_id: &str,
    kind: &str,
    object: &T,
) -> Result<EventRow, ApiError> {
    let id = random::id(IdKind::Event)?;
    let created = clock::now_seconds();
    let body = serde_json::json!({
        "id": id,
        "type": kind,
        "created": created,
        "data": { "object": object },
    })
    .to_string();
    Ok(EventRow {
        id,
        merchant_id: merchant_id.to_string(),
        kind: kind.to_string(),
        body,
        created,
    })
}

/// Records an event, sends the receipt it calls for, and starts a delivery to each subscribed
/// endpoint. Failures are logged, not
/// returned: a payment must not fail because a merchant's webhook could not be queued.
pub async fn emit<T: Serialize>(env: &Env, merchant_id: &str, kind: &str, object: &T) {
    if let Err(error) = try_emit(env, merchant_id, kind, object).await {
        crate::log_error!("event {kind} for {merchant_id} not delivered: {error}");
    }
}

async fn try_emit<T: Serialize>(
    env: &Env,
    merchant_id: &str,
    kind: &str,
    object: &T,
) -> Result<(), ApiError> {
    let event = new_event(merchant_id, kind, object)?;
    // The event is recorded while the endpoints are read: neither waits for the other.
    let (endpoints, recorded) = futures_util::future::join(
        store::webhooks::endpoints_of(env, merchant_id),
        store::webhooks::insert_event(env, &event),
    )
    .await;
    recorded?;
    crate::receipts::on_event(env, &event).await;
    start_deliveries(env, &event, endpoints?).await
}

/// Starts a delivery of an event already recorded (in the same transaction as the change it
/// tells of) to each of `endpoints` subscribed to it. Failures are logged, not returned.
pub async fn deliver(env: &Env, event: &EventRow, endpoints: Vec<EndpointRow>) {
    crate::receipts::on_event(env, event).await;
    deliver_webhooks(env, event, endpoints).await;
}

/// [`deliver`] for an event whose receipt is settled already: the webhooks only.
pub async fn deliver_webhooks(env: &Env, event: &EventRow, endpoints: Vec<EndpointRow>) {
    if let Err(error) = start_deliveries(env, event, endpoints).await {
        crate::log_error!(
            "event {} for {} not delivered: {error}",
            event.kind,
            event.merchant_id
        );
    }
}

async fn start_deliveries(
    env: &Env,
    event: &EventRow,
    endpoints: Vec<EndpointRow>,
) -> Result<(), ApiError> {
    let (kind, now) = (event.kind.as_str(), event.created);
    let subscribed: Vec<_> = endpoints
        .into_iter()
        .filter(|e| {
            serde_json::from_str::<Vec<String>>(&e.events)
                .is_ok_and(|events| events.iter().any(|t| t == kind))
        })
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    for endpoint in subscribed {
        deliver_to(env, event, &endpoint, now).await?;
    }
    Ok(())
}

/// Starts one delivery of a recorded event to `endpoint`: a row in the delivery log, and the
/// object that sends and retries it. Also how a merchant resends an event.
pub async fn deliver_to(
    env: &Env,
    event: &EventRow,
    endpoint: &EndpointRow,
    now: i64,
) -> Result<store::webhooks::DeliveryRow, ApiError> {
    let delivery = store::webhooks::DeliveryRow {
        id: random::id(IdKind::Delivery)?,
        endpoint_id: endpoint.id.clone(),
        event_id: event.id.clone(),
        event_type: event.kind.clone(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        last_status_code: None,
        created: now,
        updated: now,
    };
    store::webhooks::insert_delivery(env, &delivery).await?;
    let job = Job {
        delivery: delivery.id.clone(),
        url: endpoint.url.clone(),
        endpoint: endpoint.id.clone(),
        sealed_secret: endpoint.sealed_secret.clone(),
        body: event.body.clone(),
        attempts: 0,
    };
    retried_jobs::start(env, "WEBHOOK_DELIVERY", &delivery.id, &job).await?;
    Ok(delivery)
}
