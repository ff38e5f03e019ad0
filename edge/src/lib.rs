//! Till's edge: the payment API as a Cloudflare Worker. Handlers are thin; the rules live in
//! `till-core`, storage and the gateway sit behind the small modules below.
//!
//! Nothing may panic on a request: no indexing, slicing, `unwrap` or `expect` outside tests.
#![deny(
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::unwrap_used,
    clippy::expect_used
)]

mod auth;
mod clock;
mod config;
mod connectors;
mod gateways;
mod handlers;
mod http;
mod idempotency;
mod merchant_webhooks;
mod poller;
mod random;
mod rate_limit;
mod store;
mod vault;

use till_core::error::ApiError;
use till_core::routes::{resolve, Endpoint, Resolved};
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

/// Panics (bugs) are printed to the log with their message before the runtime resets the isolate.
#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Cron: every minute, settle payments the gateway never answered; daily, reconcile yesterday.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let result = if event.cron() == DAILY_RECONCILIATION {
        handlers::reconciliation::daily(&env).await
    } else {
        poller::poll(&env).await
    };
    if let Err(error) = result {
        worker::console_error!("cron {}: {error}", event.cron());
    }
}

/// Must match the daily trigger in wrangler.toml.
const DAILY_RECONCILIATION: &str = "30 2 * * *";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let origin = auth::cross_origin(&req);
    let preflight = req.method() == Method::Options;
    let mut response = if preflight {
        Response::empty()?.with_status(204)
    } else {
        route(req, &env).await?
    };
    http::secure(&mut response, origin, &env, preflight).await?;
    Ok(response)
}

/// The API's description, served at `GET /v1/openapi.json` (held to the route table by a test
/// in `till_core::routes`).
const OPENAPI: &str = include_str!("../../api/openapi.json");

async fn route(req: Request, env: &Env) -> worker::Result<Response> {
    let path = req.path();
    if !path.starts_with("/v1/") {
        // The widget's pages: their HTML gets a CSP nonce and the merchant's frame-ancestors.
        return match (req.method(), path.as_str()) {
            (Method::Get, "/" | "/index.html" | "/pay") => {
                handlers::widget_page::serve(req, env).await
            }
            (Method::Get, page) if page.starts_with("/checkout/") => {
                handlers::widget_page::serve(req, env).await
            }
            _ => http::reply(Err(ApiError::not_found("page"))),
        };
    }
    let (endpoint, id) = match resolve(req.method().as_ref(), &path) {
        Resolved::Found { route, id } => (route.endpoint, id),
        Resolved::MethodNotAllowed => return http::reply(Err(ApiError::method_not_allowed())),
        Resolved::NotFound => return http::reply(Err(ApiError::not_found("endpoint"))),
    };
    let env = env.clone();
    let env = &env;
    let id = id.as_str();
    http::reply(match endpoint {
        Endpoint::OpenApi => http::raw_json(200, OPENAPI),
        Endpoint::Keys => handlers::keys::list(env),
        Endpoint::CreateSession => handlers::sessions::create(req, env).await,
        Endpoint::RetrieveSession => handlers::sessions::retrieve(req, env, id).await,
        Endpoint::ConfirmSession => handlers::confirm::confirm(req, env, id).await,
        Endpoint::CreateToken => handlers::tokens::create(req, env).await,
        Endpoint::RetrievePayment => handlers::payments::retrieve(req, env, id).await,
        Endpoint::ChallengePayment => handlers::payments::challenge(req, env, id).await,
        Endpoint::CapturePayment => handlers::payments::capture(req, env, id).await,
        Endpoint::CancelPayment => handlers::payments::cancel(req, env, id).await,
        Endpoint::CreateRefund => handlers::refunds::create(req, env).await,
        Endpoint::RetrieveRefund => handlers::refunds::retrieve(req, env, id).await,
        Endpoint::GatewayWebhook => handlers::gateway_webhooks::receive(req, env, None).await,
        Endpoint::AccountWebhook => handlers::gateway_webhooks::receive(req, env, Some(id)).await,
        Endpoint::CreateGatewayAccount => handlers::gateway_accounts::save(req, env).await,
        Endpoint::CreateWebhookEndpoint => handlers::webhook_endpoints::create(req, env).await,
        Endpoint::ListDeliveries => handlers::webhook_endpoints::deliveries(req, env, id).await,
        Endpoint::StartReconciliation => handlers::reconciliation::start(req, env).await,
        Endpoint::ListReconciliations => handlers::reconciliation::list(req, env).await,
        Endpoint::RetrieveReconciliation => handlers::reconciliation::retrieve(req, env, id).await,
    })
}
