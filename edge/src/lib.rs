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
mod card_keys;
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
mod object_tables;
mod observability;
mod payments;
mod payouts;
mod people;
mod poller;
mod random;
mod rate_limit;
mod receipts;
mod retention;
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
/// told of, and transfer claims that are due, start receipts left unsent, bill subscriptions,
/// and delete events and deliveries past their 30 days; daily, reconcile yesterday and send each merchant
/// yesterday's report (`report.daily`).
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let result = if event.cron() == DAILY_RECONCILIATION {
        let reconciled = handlers::reconciliation::daily(&env).await;
        // Yesterday's figures include the fees the reconciliation just recorded.
        reconciled.and(handlers::reports::daily(&env).await)
    } else {
        let (polled, claimed, receipts, billed, pruned) = futures_util::future::join5(
            poller::poll(&env),
            claims::sweep(&env),
            receipts::sweep(&env),
            bill(&env),
            retention::sweep(&env),
        )
        .await;
        polled.and(claimed).and(receipts).and(billed).and(pruned)
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
            (Method::Get, "/" | "/index.html" | "/pay") => {
                apart(serve(req, env, Page::Checkout)).await
            }
            (Method::Get, page) if page.starts_with("/checkout/") => {
                apart(serve(req, env, Page::Checkout)).await
            }
            (Method::Get, "/wallet" | "/wallet/") => apart(serve(req, env, Page::Wallet)).await,
            (Method::Get, page) if page.starts_with("/bank/return/") => {
                let payment = page.trim_start_matches("/bank/return/").to_string();
                apart(handlers::bank_return::serve(env, &payment)).await
            }
            (Method::Get, "/dashboard" | "/dashboard/") => {
                apart(serve(req, env, Page::Dashboard)).await
            }
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
        Access::Public => return http::reply(apart(public(route.endpoint, req, env)).await),
        Access::Person => return http::reply(apart(person(route.endpoint, req, env)).await),
        Access::GatewaySignature if route.endpoint == Endpoint::BankWebhook => {
            return http::reply(apart(handlers::bank_webhooks::receive(req, env)).await);
        }
        Access::GatewaySignature => {
            let account = (route.endpoint == Endpoint::AccountWebhook).then_some(id);
            let receive = handlers::gateway_webhooks::receive(req, env, account);
            return http::reply(apart(receive).await);
        }
        Access::Platform => {
            return http::reply(match auth::authenticate_platform(&req, env) {
                Ok(()) => apart(handlers::platform::create_merchant(req, env)).await,
                Err(error) => Err(error),
            });
        }
        Access::SecretKey | Access::PublishableKey => {
            apart(auth::authenticate(&req, env, &route)).await
        }
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
    let later = later::Later::after_response(context);
    let answer = handle(route.endpoint, req, env, &later, caller, id).await;
    later.send_off();
    http::reply(answer)
}

/// A future on the heap, polled through a pointer the compiler cannot see through, so that its
/// code stays a function of its own. Awaited in place, every handler's state machine was
/// inlined into the router's: one function of 445 KB (15% of the worker) that V8 spent ~45 ms
/// compiling for the first request after a start and ~0.65 s of a core optimizing once it was
/// hot. Apart, a request compiles only what it runs, and the router's future stays small.
type Apart<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

fn apart<'a, T>(future: impl std::future::Future<Output = T> + 'a) -> Apart<'a, T> {
    Box::pin(future)
}

/// The handler of `endpoint`, for a caller with a key.
fn handle<'a>(
    endpoint: Endpoint,
    req: Request,
    env: &'a Env,
    later: &'a later::Later<'a>,
    caller: &'a auth::Caller,
    id: &'a str,
) -> Apart<'a, http::ApiResult> {
    match endpoint {
        Endpoint::CreateSession => apart(handlers::sessions::create(req, env, caller)),
        Endpoint::RetrieveSession => apart(handlers::sessions::retrieve(req, env, caller, id)),
        Endpoint::ConfirmSession => apart(handlers::confirm::confirm(req, env, later, caller, id)),
        Endpoint::SessionBanks => apart(handlers::bank_payments::banks(req, env, caller, id)),
        Endpoint::SessionPayment => apart(handlers::bank_payments::payment(req, env, caller, id)),
        Endpoint::ReopenSession => apart(handlers::bank_payments::reopen(req, env, caller, id)),
        Endpoint::CreateToken => apart(handlers::tokens::create(req, env, caller)),
        Endpoint::RetrievePayment => apart(handlers::payments::retrieve(env, caller, id)),
        Endpoint::ChallengePayment => apart(handlers::payments::challenge(req, env, caller, id)),
        Endpoint::CapturePayment => apart(handlers::payments::capture(req, env, caller, id)),
        Endpoint::CancelPayment => apart(handlers::payments::cancel(req, env, caller, id)),
        Endpoint::CreateRefund => apart(handlers::refunds::create(req, env, caller)),
        Endpoint::RetrieveRefund => apart(handlers::refunds::retrieve(env, caller, id)),
        Endpoint::CreateGatewayAccount => apart(handlers::gateway_accounts::save(req, env, caller)),
        Endpoint::CreateWebhookEndpoint => {
            apart(handlers::webhook_endpoints::create(req, env, caller))
        }
        Endpoint::ListWebhookEndpoints => apart(handlers::webhook_endpoints::list(env, caller)),
        Endpoint::ListDeliveries => apart(handlers::webhook_endpoints::deliveries(env, caller, id)),
        Endpoint::ResendDelivery => apart(handlers::webhook_endpoints::resend(env, caller, id)),
        Endpoint::StartReconciliation => apart(handlers::reconciliation::start(req, env, caller)),
        Endpoint::ListReconciliations => apart(handlers::reconciliation::list(env, caller)),
        Endpoint::RetrieveReconciliation => {
            apart(handlers::reconciliation::retrieve(env, caller, id))
        }
        Endpoint::CreateCustomer => apart(handlers::customers::create(req, env, caller)),
        Endpoint::ListCustomers => apart(handlers::customers::list(req, env, caller)),
        Endpoint::LookupCustomers => apart(handlers::customers::lookup(req, env, caller)),
        Endpoint::RetrieveCustomer => apart(handlers::customers::retrieve(env, caller, id)),
        Endpoint::UpdateCustomer => apart(handlers::customers::update(req, env, caller, id)),
        Endpoint::RetrieveCustomerBalance => apart(handlers::customers::balance(env, caller, id)),
        Endpoint::CreateTransfer => apart(handlers::transfers::create(req, env, caller)),
        Endpoint::RetrieveTransfer => apart(handlers::transfers::retrieve(env, caller, id)),
        Endpoint::RetrieveBalance => apart(handlers::ledger::balance(env, caller)),
        Endpoint::ListLedgerEntries => apart(handlers::ledger::entries(req, env, caller)),
        Endpoint::CreatePayment => apart(handlers::off_session::create(req, env, caller)),
        Endpoint::ListPaymentMethods => {
            apart(handlers::payment_methods::of_customer(env, caller, id))
        }
        Endpoint::DetachPaymentMethod => apart(handlers::payment_methods::detach(env, caller, id)),
        Endpoint::CreateCustomerSession => {
            apart(handlers::customer_sessions::create(req, env, caller))
        }
        Endpoint::ListSessionPaymentMethods => apart(
            handlers::payment_methods::for_customer_session(req, env, caller, id),
        ),
        Endpoint::CreatePayout => apart(handlers::payouts::create(req, env, caller)),
        Endpoint::RetrievePayout => apart(handlers::payouts::retrieve(env, caller, id)),
        Endpoint::RetrieveWallet => apart(handlers::wallet::retrieve(req, env, caller, id)),
        Endpoint::CreateWalletTopUp => apart(handlers::wallet::top_up(req, env, caller, id)),
        Endpoint::CreateWalletTransfer => apart(handlers::wallet::transfer(req, env, caller, id)),
        Endpoint::CreateWalletPayout => apart(handlers::wallet::payout(req, env, caller, id)),
        Endpoint::ListApiKeys => apart(handlers::api_keys::list(env, caller)),
        Endpoint::CreateApiKey => apart(handlers::api_keys::create(req, env, caller)),
        Endpoint::RollApiKey => apart(handlers::api_keys::roll(req, env, caller, id)),
        Endpoint::RevokeApiKey => apart(handlers::api_keys::revoke(env, caller, id)),
        Endpoint::ListOrigins => apart(handlers::origins::list(env, caller)),
        Endpoint::AddOrigin => apart(handlers::origins::add(req, env, caller)),
        Endpoint::RemoveOrigin => apart(handlers::origins::remove(env, caller, id)),
        Endpoint::ListAuditLog => apart(handlers::api_keys::audit_log(req, env, caller)),
        Endpoint::ListPayments => apart(handlers::lists::payments(req, env, caller)),
        Endpoint::PaymentTimeline => apart(handlers::lists::timeline(env, caller, id)),
        Endpoint::ListRefunds => apart(handlers::lists::refunds(req, env, caller)),
        Endpoint::ListSessions => apart(handlers::lists::sessions(req, env, caller)),
        Endpoint::ListTransfers => apart(handlers::lists::transfers(req, env, caller)),
        Endpoint::ListPayouts => apart(handlers::lists::payouts(req, env, caller)),
        Endpoint::ListEvents => apart(handlers::lists::events(req, env, caller)),
        Endpoint::ReportSummary => apart(handlers::reports::summary(req, env, caller)),
        Endpoint::ExportBalanceTransactions => {
            apart(handlers::reports::balance_transactions(req, env, caller))
        }
        Endpoint::SendDailyReport => apart(handlers::reports::send_daily(req, env, caller)),
        Endpoint::RouteMetrics => apart(handlers::metrics::routes(req, env, caller)),
        Endpoint::ListRiskRules => apart(handlers::risk::list(env, caller)),
        Endpoint::CreateRiskRule => apart(handlers::risk::create(req, env, caller)),
        Endpoint::UpdateRiskRule => apart(handlers::risk::update(req, env, caller, id)),
        Endpoint::DeleteRiskRule => apart(handlers::risk::delete(env, caller, id)),
        Endpoint::DryRunRiskRule => apart(handlers::risk::dry_run(req, env, caller)),
        Endpoint::ListReviews => apart(handlers::reviews::list(req, env, caller)),
        Endpoint::ApproveReview => apart(handlers::reviews::approve(env, caller, id)),
        Endpoint::RejectReview => apart(handlers::reviews::reject(env, caller, id)),
        Endpoint::ListDisputes => apart(handlers::disputes::list(req, env, caller)),
        Endpoint::RetrieveDispute => apart(handlers::disputes::retrieve(env, caller, id)),
        Endpoint::SubmitDisputeEvidence => {
            apart(handlers::disputes::submit_evidence(req, env, caller, id))
        }
        Endpoint::CloseDispute => apart(handlers::disputes::close(req, env, caller, id)),
        Endpoint::RetrieveDisputeFile => apart(handlers::disputes::file(env, caller, id)),
        Endpoint::CreateFxQuote => apart(handlers::fx_quotes::create(req, env, caller)),
        Endpoint::RetrieveFxQuote => apart(handlers::fx_quotes::retrieve(env, caller, id)),
        Endpoint::CreateProduct => apart(handlers::catalogue::create_product(req, env, caller)),
        Endpoint::ListProducts => apart(handlers::catalogue::list_products(req, env, caller)),
        Endpoint::RetrieveProduct => apart(handlers::catalogue::retrieve_product(env, caller, id)),
        Endpoint::UpdateProduct => apart(handlers::catalogue::update_product(req, env, caller, id)),
        Endpoint::CreatePrice => apart(handlers::catalogue::create_price(req, env, caller)),
        Endpoint::ListPrices => apart(handlers::catalogue::list_prices(req, env, caller)),
        Endpoint::RetrievePrice => apart(handlers::catalogue::retrieve_price(env, caller, id)),
        Endpoint::UpdatePrice => apart(handlers::catalogue::update_price(req, env, caller, id)),
        Endpoint::CreateSubscription => apart(handlers::subscriptions::create(req, env, caller)),
        Endpoint::ListSubscriptions => apart(handlers::subscriptions::list(req, env, caller)),
        Endpoint::RetrieveSubscription => apart(handlers::subscriptions::retrieve(env, caller, id)),
        Endpoint::UpdateSubscription => {
            apart(handlers::subscriptions::update(req, env, caller, id))
        }
        Endpoint::CancelSubscription => {
            apart(handlers::subscriptions::cancel(req, env, caller, id))
        }
        Endpoint::PauseSubscription => apart(handlers::subscriptions::pause(env, caller, id)),
        Endpoint::ResumeSubscription => apart(handlers::subscriptions::resume(env, caller, id)),
        Endpoint::ListSessionSubscriptions => apart(handlers::subscriptions::for_customer_session(
            req, env, caller, id,
        )),
        Endpoint::ChangeSessionSubscription => apart(
            handlers::subscriptions::change_for_customer_session(req, env, caller, id),
        ),
        Endpoint::PayInvoiceInSession => apart(handlers::subscriptions::pay_in_session(
            req, env, caller, id,
        )),
        Endpoint::ListInvoices => apart(handlers::subscriptions::list_invoices(req, env, caller)),
        Endpoint::RetrieveInvoice => {
            apart(handlers::subscriptions::retrieve_invoice(env, caller, id))
        }
        Endpoint::RetrieveBillingSettings => {
            apart(handlers::billing_settings::retrieve(env, caller))
        }
        Endpoint::UpdateBillingSettings => {
            apart(handlers::billing_settings::update(req, env, caller))
        }
        Endpoint::CreateTestClock => apart(handlers::test_clocks::create(req, env, caller)),
        Endpoint::RetrieveTestClock => apart(handlers::test_clocks::retrieve(env, caller, id)),
        Endpoint::AdvanceTestClock => apart(handlers::test_clocks::advance(req, env, caller, id)),
        Endpoint::ListOrders => apart(handlers::refund_requests::orders(req, env, caller, id)),
        Endpoint::CreateRefundRequest => {
            apart(handlers::refund_requests::create(req, env, caller, id))
        }
        Endpoint::ListRefundRequests => apart(handlers::refund_requests::list(req, env, caller)),
        Endpoint::ApproveRefundRequest => {
            apart(handlers::refund_requests::approve(env, caller, id))
        }
        Endpoint::DeclineRefundRequest => {
            apart(handlers::refund_requests::decline(req, env, caller, id))
        }
        Endpoint::ListMembers => apart(handlers::team::members(env, caller)),
        Endpoint::ChangeMemberRole => apart(handlers::team::change_role(req, env, caller, id)),
        Endpoint::RemoveMember => apart(handlers::team::remove(env, caller, id)),
        Endpoint::ListInvitations => apart(handlers::team::invitations(env, caller)),
        Endpoint::CreateInvitation => apart(handlers::team::invite(req, env, caller)),
        Endpoint::RevokeInvitation => apart(handlers::team::revoke_invitation(env, caller, id)),
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
            crate::log_error!("route table: {endpoint:?} dispatched with a key");
            apart(std::future::ready(Err(ApiError::internal())))
        }
    }
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
        Endpoint::Keys => handlers::keys::list(env).await,
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
