//! Till's edge: the payment API as a Cloudflare Worker. Handlers are thin; the rules live in
//! `till-core`, storage and the gateway sit behind the small modules below.

mod auth;
mod clock;
mod config;
mod gateway;
mod handlers;
mod http;
mod idempotency;
mod merchant_webhooks;
mod poller;
mod random;
mod store;
mod vault;

use worker::{
    event, Context, Env, Method, Request, Response, Router, ScheduleContext, ScheduledEvent,
};

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

async fn route(req: Request, env: &Env) -> worker::Result<Response> {
    Router::new()
        .get_async("/", |req, ctx| async move {
            handlers::widget_page::serve(req, &ctx.env).await
        })
        .get_async("/index.html", |req, ctx| async move {
            handlers::widget_page::serve(req, &ctx.env).await
        })
        .get_async("/pay", |req, ctx| async move {
            handlers::widget_page::serve(req, &ctx.env).await
        })
        .get_async("/checkout/:id", |req, ctx| async move {
            handlers::widget_page::serve(req, &ctx.env).await
        })
        .get("/v1/keys", |_, ctx| {
            http::reply(handlers::keys::list(&ctx.env))
        })
        .post_async("/v1/checkout_sessions", |req, ctx| async move {
            http::reply(handlers::sessions::create(req, &ctx.env).await)
        })
        .get_async("/v1/checkout_sessions/:id", |req, ctx| async move {
            let id = ctx.param("id").cloned().unwrap_or_default();
            http::reply(handlers::sessions::retrieve(req, &ctx.env, &id).await)
        })
        .post_async("/v1/checkout_sessions/:id/confirm", |req, ctx| async move {
            let id = ctx.param("id").cloned().unwrap_or_default();
            http::reply(handlers::confirm::confirm(req, &ctx.env, &id).await)
        })
        .post_async("/v1/tokens", |req, ctx| async move {
            http::reply(handlers::tokens::create(req, &ctx.env).await)
        })
        .get_async("/v1/payments/:id", |req, ctx| async move {
            let id = ctx.param("id").cloned().unwrap_or_default();
            http::reply(handlers::payments::retrieve(req, &ctx.env, &id).await)
        })
        .post_async("/v1/payments/:id/challenge", |req, ctx| async move {
            let id = ctx.param("id").cloned().unwrap_or_default();
            http::reply(handlers::payments::challenge(req, &ctx.env, &id).await)
        })
        .post_async("/v1/payments/:id/capture", |req, ctx| async move {
            let id = ctx.param("id").cloned().unwrap_or_default();
            http::reply(handlers::payments::capture(req, &ctx.env, &id).await)
        })
        .post_async("/v1/payments/:id/cancel", |req, ctx| async move {
            let id = ctx.param("id").cloned().unwrap_or_default();
            http::reply(handlers::payments::cancel(req, &ctx.env, &id).await)
        })
        .post_async("/v1/webhooks/gateway", |req, ctx| async move {
            http::reply(handlers::gateway_webhooks::receive(req, &ctx.env).await)
        })
        .post_async("/v1/webhook_endpoints", |req, ctx| async move {
            http::reply(handlers::webhook_endpoints::create(req, &ctx.env).await)
        })
        .get_async(
            "/v1/webhook_endpoints/:id/deliveries",
            |req, ctx| async move {
                let id = ctx.param("id").cloned().unwrap_or_default();
                http::reply(handlers::webhook_endpoints::deliveries(req, &ctx.env, &id).await)
            },
        )
        .post_async("/v1/reconciliation/runs", |req, ctx| async move {
            http::reply(handlers::reconciliation::start(req, &ctx.env).await)
        })
        .get_async("/v1/reconciliation/runs", |req, ctx| async move {
            http::reply(handlers::reconciliation::list(req, &ctx.env).await)
        })
        .get_async("/v1/reconciliation/runs/:id", |req, ctx| async move {
            let id = ctx.param("id").cloned().unwrap_or_default();
            http::reply(handlers::reconciliation::retrieve(req, &ctx.env, &id).await)
        })
        .post_async("/v1/refunds", |req, ctx| async move {
            http::reply(handlers::refunds::create(req, &ctx.env).await)
        })
        .or_else_any_method("/v1/*rest", |_, _| {
            http::reply(Err(till_core::error::ApiError::not_found("endpoint")))
        })
        .run(req, env.clone())
        .await
}
