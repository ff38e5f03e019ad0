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
mod banks;
mod billing;
mod bins;
mod claims;
mod clock;
mod config;
mod connectors;
mod disputes;
mod encrypted;
mod fx_rates;
mod gateways;
mod handlers;
mod hosted_pages;
mod http;
mod idempotency;
mod isolate_cache;
mod later;
mod log;
mod mail;
mod merchant_webhooks;
mod observability;
mod payments;
mod payouts;
mod people;
mod poller;
mod random;
mod rate_limit;
mod receipts;
mod retried_jobs;
mod risk;
mod server_timing;
mod store;
mod vault;

use till_core::error::{ApiError, ErrorCode};
use till_core::routes::{resolve, Access, Endpoint, Resolved};
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

/// Panics (bugs) are printed to the log with their message before the runtime resets the isolate.
#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Cron: every minute, settle payments the gateway never answered, payouts the bank has not
/// told of, and transfer claims that are due, start receipts left unsent, and bill
/// subscriptions; daily, reconcile yesterday and send each merchant
/// yesterday's report (`report.daily`).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let result = if event.cron() == DAILY_RECONCILIATION {
        let reconciled = handlers::reconciliation::daily(&env).await;
        // Yesterday's figures include the fees the reconciliation just recorded.
        reconciled.and(handlers::reports::daily(&env).await)
    } else {
        let (polled, claimed, receipts, billed) = futures_util::future::join4(
            poller::poll(&env),
            claims::sweep(&env),
            receipts::sweep(&env),
            bill(&env),
        )
        .await;
        polled.and(claimed).and(receipts).and(billed)
    };
    if let Err(error) = result {
        crate::log_error!("cron {}: {error}", event.cron());
    }
}

/// Subscriptions' periods and retries that fell due; test clocks whose advance is finished
/// are ready again.
async fn bill(env: &Env) -> Result<(), ApiError> {
    if !billing::run(env, None).await? {
        store::test_clocks::mark_ready(env, None, clock::now_seconds()).await?;
    }
    Ok(())
}

/// Must match the daily trigger in wrangler.toml.
const DAILY_RECONCILIATION: &str = "30 2 * * *";

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let started = worker::Date::now().as_millis();
    let request_id = observability::request_id();
    let (method, route_label) = (req.method().to_string(), observability::route_label(&req));
    let origin = auth::cross_origin(&req);
    let preflight = req.method() == Method::Options;
    let merchant = std::cell::RefCell::new(None::<String>);
    let steps = server_timing::Steps::start();
    let mut response = if preflight {
        Response::empty()?.with_status(204)
    } else {
        let answer = server_timing::Timed::new(&steps, route(req, &env, &ctx, &merchant));
        log::WithRequestId::new(&request_id, answer).await?
    };
    http::secure(&mut response, origin, &env, preflight).await?;
    response.headers_mut().set("Request-Id", &request_id)?;
    if let Some(timing) = steps.header() {
        response.headers_mut().set("Server-Timing", &timing)?;
    }
    observability::record(
        &env,
        &observability::Record {
            request_id: &request_id,
            merchant: merchant.borrow().as_deref(),
            method: &method,
            route: route_label,
            status: response.status_code(),
            millis: worker::Date::now().as_millis().saturating_sub(started) as f64,
        },
    );
    Ok(response)
}

/// Answers the request; `merchant` learns whose request it was once it is authenticated.
async fn route(
    req: Request,
    env: &Env,
    context: &Context,
    merchant: &std::cell::RefCell<Option<String>>,
) -> worker::Result<Response> {
    let path = req.path();
    if !path.starts_with("/v1/") {
        // Till's pages: their HTML gets a CSP nonce (and the checkout the merchant's
        // frame-ancestors).
        use handlers::widget_page::{serve, Page};
        return match (req.method(), path.as_str()) {
            (Method::Get, "/" | "/index.html" | "/pay") => serve(req, env, Page::Checkout).await,
            (Method::Get, page) if page.starts_with("/checkout/") => {
                serve(req, env, Page::Checkout).await
            }
            (Method::Get, "/wallet" | "/wallet/") => serve(req, env, Page::Wallet).await,
            (Method::Get, page) if page.starts_with("/bank/return/") => {
                let payment = page.trim_start_matches("/bank/return/").to_string();
                handlers::bank_return::serve(env, &payment).await
            }
            (Method::Get, "/dashboard" | "/dashboard/") => serve(req, env, Page::Dashboard).await,
            _ => http::reply(Err(ApiError::not_found("page"))),
        };
    }
    let (route, id) = match resolve(req.method().as_ref(), &path) {
        Resolved::Found { route, id } => (route, id),
        Resolved::MethodNotAllowed => {
            return http::reply(Err(ApiError::new(ErrorCode::MethodNotAllowed)))
        }
        Resolved::NotFound => return http::reply(Err(ApiError::not_found("endpoint"))),
    };
    let id = id.as_str();
    // Who may call is declared in the route table; handlers receive the authenticated caller.
    let caller = match route.access {
        Access::Public => return http::reply(public(route.endpoint, req, env).await),
        Access::Person => return http::reply(person(route.endpoint, req, env).await),
        Access::GatewaySignature if route.endpoint == Endpoint::BankWebhook => {
            return http::reply(handlers::bank_webhooks::receive(req, env).await);
        }
        Access::GatewaySignature => {
            let account = (route.endpoint == Endpoint::AccountWebhook).then_some(id);
            return http::reply(handlers::gateway_webhooks::receive(req, env, account).await);
        }
        Access::Platform => {
            return http::reply(match auth::authenticate_platform(&req, env) {
                Ok(()) => handlers::platform::create_merchant(req, env).await,
                Err(error) => Err(error),
            });
        }
        Access::SecretKey | Access::PublishableKey => auth::authenticate(&req, env, &route).await,
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(error) => return http::reply(Err(error)),
    };
    let caller = &caller;
    merchant.replace(Some(caller.merchant_id.clone()));
    if let Err(error) = audit_person_change(&req, env, caller, &route).await {
        return http::reply(Err(error));
    }
    http::reply(match route.endpoint {
        Endpoint::CreateSession => handlers::sessions::create(req, env, caller).await,
        Endpoint::RetrieveSession => handlers::sessions::retrieve(req, env, caller, id).await,
        Endpoint::ConfirmSession => {
            let later = later::Later::AfterResponse(context);
            handlers::confirm::confirm(req, env, &later, caller, id).await
        }
        Endpoint::SessionBanks => handlers::bank_payments::banks(req, env, caller, id).await,
        Endpoint::SessionPayment => handlers::bank_payments::payment(req, env, caller, id).await,
        Endpoint::ReopenSession => handlers::bank_payments::reopen(req, env, caller, id).await,
        Endpoint::CreateToken => handlers::tokens::create(req, env, caller).await,
        Endpoint::RetrievePayment => handlers::payments::retrieve(env, caller, id).await,
        Endpoint::ChallengePayment => handlers::payments::challenge(req, env, caller, id).await,
        Endpoint::CapturePayment => handlers::payments::capture(req, env, caller, id).await,
        Endpoint::CancelPayment => handlers::payments::cancel(req, env, caller, id).await,
        Endpoint::CreateRefund => handlers::refunds::create(req, env, caller).await,
        Endpoint::RetrieveRefund => handlers::refunds::retrieve(env, caller, id).await,
        Endpoint::CreateGatewayAccount => handlers::gateway_accounts::save(req, env, caller).await,
        Endpoint::CreateWebhookEndpoint => {
            handlers::webhook_endpoints::create(req, env, caller).await
        }
        Endpoint::ListWebhookEndpoints => handlers::webhook_endpoints::list(env, caller).await,
        Endpoint::ListDeliveries => handlers::webhook_endpoints::deliveries(env, caller, id).await,
        Endpoint::ResendDelivery => handlers::webhook_endpoints::resend(env, caller, id).await,
        Endpoint::StartReconciliation => handlers::reconciliation::start(req, env, caller).await,
        Endpoint::ListReconciliations => handlers::reconciliation::list(env, caller).await,
        Endpoint::RetrieveReconciliation => {
            handlers::reconciliation::retrieve(env, caller, id).await
        }
        Endpoint::CreateCustomer => handlers::customers::create(req, env, caller).await,
        Endpoint::ListCustomers => handlers::customers::list(req, env, caller).await,
        Endpoint::LookupCustomers => handlers::customers::lookup(req, env, caller).await,
        Endpoint::RetrieveCustomer => handlers::customers::retrieve(env, caller, id).await,
        Endpoint::UpdateCustomer => handlers::customers::update(req, env, caller, id).await,
        Endpoint::RetrieveCustomerBalance => handlers::customers::balance(env, caller, id).await,
        Endpoint::CreateTransfer => handlers::transfers::create(req, env, caller).await,
        Endpoint::RetrieveTransfer => handlers::transfers::retrieve(env, caller, id).await,
        Endpoint::RetrieveBalance => handlers::ledger::balance(env, caller).await,
        Endpoint::ListLedgerEntries => handlers::ledger::entries(req, env, caller).await,
        Endpoint::CreatePayment => handlers::off_session::create(req, env, caller).await,
        Endpoint::ListPaymentMethods => {
            handlers::payment_methods::of_customer(env, caller, id).await
        }
        Endpoint::DetachPaymentMethod => handlers::payment_methods::detach(env, caller, id).await,
        Endpoint::CreateCustomerSession => {
            handlers::customer_sessions::create(req, env, caller).await
        }
        Endpoint::ListSessionPaymentMethods => {
            handlers::payment_methods::for_customer_session(req, env, caller, id).await
        }
        Endpoint::CreatePayout => handlers::payouts::create(req, env, caller).await,
        Endpoint::RetrievePayout => handlers::payouts::retrieve(env, caller, id).await,
        Endpoint::RetrieveWallet => handlers::wallet::retrieve(req, env, caller, id).await,
        Endpoint::CreateWalletTopUp => handlers::wallet::top_up(req, env, caller, id).await,
        Endpoint::CreateWalletTransfer => handlers::wallet::transfer(req, env, caller, id).await,
        Endpoint::CreateWalletPayout => handlers::wallet::payout(req, env, caller, id).await,
        Endpoint::ListApiKeys => handlers::api_keys::list(env, caller).await,
        Endpoint::CreateApiKey => handlers::api_keys::create(req, env, caller).await,
        Endpoint::RollApiKey => handlers::api_keys::roll(req, env, caller, id).await,
        Endpoint::RevokeApiKey => handlers::api_keys::revoke(env, caller, id).await,
        Endpoint::ListOrigins => handlers::origins::list(env, caller).await,
        Endpoint::AddOrigin => handlers::origins::add(req, env, caller).await,
        Endpoint::RemoveOrigin => handlers::origins::remove(env, caller, id).await,
        Endpoint::ListAuditLog => handlers::api_keys::audit_log(req, env, caller).await,
        Endpoint::ListPayments => handlers::lists::payments(req, env, caller).await,
        Endpoint::PaymentTimeline => handlers::lists::timeline(env, caller, id).await,
        Endpoint::ListRefunds => handlers::lists::refunds(req, env, caller).await,
        Endpoint::ListSessions => handlers::lists::sessions(req, env, caller).await,
        Endpoint::ListTransfers => handlers::lists::transfers(req, env, caller).await,
        Endpoint::ListPayouts => handlers::lists::payouts(req, env, caller).await,
        Endpoint::ListEvents => handlers::lists::events(req, env, caller).await,
        Endpoint::ReportSummary => handlers::reports::summary(req, env, caller).await,
        Endpoint::ExportBalanceTransactions => {
            handlers::reports::balance_transactions(req, env, caller).await
        }
        Endpoint::SendDailyReport => handlers::reports::send_daily(req, env, caller).await,
        Endpoint::RouteMetrics => handlers::metrics::routes(req, env, caller).await,
        Endpoint::ListRiskRules => handlers::risk::list(env, caller).await,
        Endpoint::CreateRiskRule => handlers::risk::create(req, env, caller).await,
        Endpoint::UpdateRiskRule => handlers::risk::update(req, env, caller, id).await,
        Endpoint::DeleteRiskRule => handlers::risk::delete(env, caller, id).await,
        Endpoint::DryRunRiskRule => handlers::risk::dry_run(req, env, caller).await,
        Endpoint::ListReviews => handlers::reviews::list(req, env, caller).await,
        Endpoint::ApproveReview => handlers::reviews::approve(env, caller, id).await,
        Endpoint::RejectReview => handlers::reviews::reject(env, caller, id).await,
        Endpoint::ListDisputes => handlers::disputes::list(req, env, caller).await,
        Endpoint::RetrieveDispute => handlers::disputes::retrieve(env, caller, id).await,
        Endpoint::SubmitDisputeEvidence => {
            handlers::disputes::submit_evidence(req, env, caller, id).await
        }
        Endpoint::CloseDispute => handlers::disputes::close(req, env, caller, id).await,
        Endpoint::RetrieveDisputeFile => handlers::disputes::file(env, caller, id).await,
        Endpoint::CreateFxQuote => handlers::fx_quotes::create(req, env, caller).await,
        Endpoint::RetrieveFxQuote => handlers::fx_quotes::retrieve(env, caller, id).await,
        Endpoint::CreateProduct => handlers::catalogue::create_product(req, env, caller).await,
        Endpoint::ListProducts => handlers::catalogue::list_products(req, env, caller).await,
        Endpoint::RetrieveProduct => handlers::catalogue::retrieve_product(env, caller, id).await,
        Endpoint::UpdateProduct => handlers::catalogue::update_product(req, env, caller, id).await,
        Endpoint::CreatePrice => handlers::catalogue::create_price(req, env, caller).await,
        Endpoint::ListPrices => handlers::catalogue::list_prices(req, env, caller).await,
        Endpoint::RetrievePrice => handlers::catalogue::retrieve_price(env, caller, id).await,
        Endpoint::UpdatePrice => handlers::catalogue::update_price(req, env, caller, id).await,
        Endpoint::CreateSubscription => handlers::subscriptions::create(req, env, caller).await,
        Endpoint::ListSubscriptions => handlers::subscriptions::list(req, env, caller).await,
        Endpoint::RetrieveSubscription => handlers::subscriptions::retrieve(env, caller, id).await,
        Endpoint::UpdateSubscription => handlers::subscriptions::update(req, env, caller, id).await,
        Endpoint::CancelSubscription => handlers::subscriptions::cancel(req, env, caller, id).await,
        Endpoint::PauseSubscription => handlers::subscriptions::pause(env, caller, id).await,
        Endpoint::ResumeSubscription => handlers::subscriptions::resume(env, caller, id).await,
        Endpoint::ListSessionSubscriptions => {
            handlers::subscriptions::for_customer_session(req, env, caller, id).await
        }
        Endpoint::ChangeSessionSubscription => {
            handlers::subscriptions::change_for_customer_session(req, env, caller, id).await
        }
        Endpoint::PayInvoiceInSession => {
            handlers::subscriptions::pay_in_session(req, env, caller, id).await
        }
        Endpoint::ListInvoices => handlers::subscriptions::list_invoices(req, env, caller).await,
        Endpoint::RetrieveInvoice => {
            handlers::subscriptions::retrieve_invoice(env, caller, id).await
        }
        Endpoint::RetrieveBillingSettings => {
            handlers::billing_settings::retrieve(env, caller).await
        }
        Endpoint::UpdateBillingSettings => {
            handlers::billing_settings::update(req, env, caller).await
        }
        Endpoint::CreateTestClock => handlers::test_clocks::create(req, env, caller).await,
        Endpoint::RetrieveTestClock => handlers::test_clocks::retrieve(env, caller, id).await,
        Endpoint::AdvanceTestClock => handlers::test_clocks::advance(req, env, caller, id).await,
        Endpoint::ListOrders => handlers::refund_requests::orders(req, env, caller, id).await,
        Endpoint::CreateRefundRequest => {
            handlers::refund_requests::create(req, env, caller, id).await
        }
        Endpoint::ListRefundRequests => handlers::refund_requests::list(req, env, caller).await,
        Endpoint::ApproveRefundRequest => handlers::refund_requests::approve(env, caller, id).await,
        Endpoint::DeclineRefundRequest => {
            handlers::refund_requests::decline(req, env, caller, id).await
        }
        Endpoint::ListMembers => handlers::team::members(env, caller).await,
        Endpoint::ChangeMemberRole => handlers::team::change_role(req, env, caller, id).await,
        Endpoint::RemoveMember => handlers::team::remove(env, caller, id).await,
        Endpoint::ListInvitations => handlers::team::invitations(env, caller).await,
        Endpoint::CreateInvitation => handlers::team::invite(req, env, caller).await,
        Endpoint::RevokeInvitation => handlers::team::revoke_invitation(env, caller, id).await,
        Endpoint::OpenApi
        | Endpoint::CreateMerchant
        | Endpoint::SignIn
        | Endpoint::SignUp
        | Endpoint::CurrentSession
        | Endpoint::SignOut
        | Endpoint::StartTotp
        | Endpoint::EnableTotp
        | Endpoint::DisableTotp
        | Endpoint::Keys
        | Endpoint::GatewayWebhook
        | Endpoint::AccountWebhook
        | Endpoint::BankWebhook => {
            crate::log_error!("route table: {:?} dispatched with a key", route.endpoint);
            Err(ApiError::internal())
        }
    })
}

/// Every change a person makes through the dashboard is in the audit log: the request (method
/// and path) is recorded before it runs, so a crash between the change and the entry cannot
/// leave the change unrecorded. Changes with an entry of their own (keys, origins, the team)
/// are recorded again here only as the request that asked for them.
async fn audit_person_change(
    req: &Request,
    env: &Env,
    caller: &auth::Caller,
    route: &till_core::routes::Route,
) -> Result<(), ApiError> {
    if caller.key_id().is_some() || route.method == "GET" {
        return Ok(());
    }
    let entry = store::audit::AuditRow {
        id: random::id(till_core::ids::IdKind::AuditEntry)?,
        actor: caller.audit_actor(),
        action: "request",
        target: format!("{} {}", route.method, req.path()),
        created: clock::now_seconds(),
    };
    let statement = store::audit::insert_statement(env, &caller.merchant_id, &entry)?;
    store::run(statement).await?;
    Ok(())
}

/// Endpoints anyone may call.
async fn public(endpoint: Endpoint, req: Request, env: &Env) -> http::ApiResult {
    match endpoint {
        Endpoint::Keys => handlers::keys::list(env),
        Endpoint::SignIn => handlers::dashboard::sign_in(req, env).await,
        Endpoint::SignUp => handlers::dashboard::sign_up(req, env).await,
        _ => openapi(env).await,
    }
}

/// A signed-in person's own session and second factor.
async fn person(endpoint: Endpoint, req: Request, env: &Env) -> http::ApiResult {
    match endpoint {
        Endpoint::SignOut => handlers::dashboard::sign_out(req, env).await,
        Endpoint::StartTotp => handlers::dashboard::start_totp(req, env).await,
        Endpoint::EnableTotp => handlers::dashboard::enable_totp(req, env).await,
        Endpoint::DisableTotp => handlers::dashboard::disable_totp(req, env).await,
        _ => handlers::dashboard::current(req, env).await,
    }
}

/// The API's description (`api/openapi.json`, held to the route table by a test in
/// `till_core::routes`). Trunk copies it among the static files, so its 144 KB are not compiled
/// into the worker.
async fn openapi(env: &Env) -> http::ApiResult {
    let document = async {
        let mut file = env
            .assets("ASSETS")?
            .fetch("https://assets.invalid/openapi.json", None)
            .await?;
        file.text().await
    };
    match document.await {
        Ok(text) => http::raw_json(200, &text),
        Err(error) => {
            crate::log_error!("the API description is not among the static files: {error}");
            Err(ApiError::internal())
        }
    }
}
