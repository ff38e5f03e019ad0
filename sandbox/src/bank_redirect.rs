//! The sandbox bank's internet banking: a payment the customer approves at their own bank, as
//! with iDEAL, Korean account transfer or Indian net banking. Till creates it and sends the
//! customer to its `redirect_url`; the customer signs in and enters a one-time code (or
//! cancels) and is sent back to the `return_url` with `?bank_payment={id}` (never the outcome:
//! Till reads it from the bank). The result is also told by webhook (`bank_payment.updated`,
//! to the bank webhook URL).
//!
//! - `GET /v1/banks`: the banks a customer chooses from.
//! - `POST /v1/bank_payments {amount, currency, bank, reference, return_url}` with
//!   `Idempotency-Key`: `requires_action` with its `redirect_url`; the same key answers the
//!   same payment. `GET /v1/bank_payments/{id}`, `.../by_idempotency_key/{key}`.
//! - The customer's pages: `GET /bank/pay/{id}` (sign in, or cancel), `POST .../login`,
//!   `POST .../otp`, `POST .../cancel`.
//! - `GET /v1/bank_settlements/{date}`: the day's payments taken and refunds paid back, in the
//!   settlement file's format.
//! - `POST /v1/bank_refunds {payment, amount, reference}` with `Idempotency-Key`: `pending`, then
//!   `succeeded` or `failed` after the bank's delay (`bank_refund.updated`);
//!   `GET /v1/bank_refunds/{id}`.
//!
//! Test customers, by user name: [`FAILING_USER`] has no money (`failed`,
//! `insufficient_funds`); [`LATE_USER`]'s bank answers late: the customer comes back while the
//! payment is `processing`, and `succeeded` arrives by webhook after the bank's delay;
//! [`CLOSED_USER`] pays, but refunds to the account fail (`account_closed`). Anyone else pays.
//! The code is always [`OTP`]; a third wrong code fails the payment (`authentication_failed`).
//! Faults set for an amount (`/v1/control/faults`) apply to creating payments and refunds:
//! `fail_times` (503 before anything is taken), `drop_response` (taken, answer lost),
//! `webhook_drop`.

use crate::bank::delay;
use crate::gateway::{
    admitted, error, injected_failure, lost_answer, made, new_id, take_fault, value, Gateway, Reply,
};
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use till_core::receipt::escape_html;

pub const FAILING_USER: &str = "no_money";
pub const LATE_USER: &str = "slow_bank";
pub const CLOSED_USER: &str = "closed_account";
pub const OTP: &str = "123456";
const OTP_ATTEMPTS: u8 = 3;

/// How long [`LATE_USER`]'s bank takes to pay after the customer approved:
/// `SANDBOX_BANK_LATE_MS`, 5000 (long enough for the customer to be back and waiting).
fn late_delay() -> std::time::Duration {
    let ms = std::env::var("SANDBOX_BANK_LATE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    std::time::Duration::from_millis(ms)
}

/// A bank customers pay from: the currencies it takes (`None`: any).
struct Bank {
    id: &'static str,
    name: &'static str,
    country: &'static str,
    currencies: Option<&'static [&'static str]>,
}

const BANKS: [Bank; 4] = [
    Bank {
        id: "sandbox_bank",
        name: "Sandbox Bank",
        country: "US",
        currencies: None,
    },
    Bank {
        id: "hana_test",
        name: "Hana Test Bank",
        country: "KR",
        currencies: Some(&["KRW"]),
    },
    Bank {
        id: "ideal_test",
        name: "iDEAL Test Bank",
        country: "NL",
        currencies: Some(&["EUR"]),
    },
    Bank {
        id: "netbanking_test",
        name: "NetBanking Test",
        country: "IN",
        currencies: Some(&["INR"]),
    },
];

fn bank(id: &str) -> Option<&'static Bank> {
    BANKS.iter().find(|bank| bank.id == id)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankPaymentRequest {
    amount: i64,
    currency: String,
    bank: String,
    reference: String,
    return_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BankPayment {
    id: String,
    status: &'static str,
    amount: i64,
    currency: String,
    bank: String,
    reference: String,
    redirect_url: String,
    return_url: String,
    failure_code: Option<&'static str>,
    amount_refunded: i64,
    /// Who signed in at the bank (decides the test outcomes).
    #[serde(skip)]
    user: Option<String>,
    /// The UTC day the money was taken: the settlement file it lands in.
    #[serde(skip)]
    settled_on: Option<String>,
    #[serde(skip)]
    otp_attempts_left: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankRefundRequest {
    payment: String,
    amount: i64,
    /// The caller's id for the refund, echoed in answers and events.
    reference: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BankRefund {
    id: String,
    payment: String,
    reference: String,
    status: &'static str,
    amount: i64,
    currency: String,
    failure_code: Option<&'static str>,
    #[serde(skip)]
    settled_on: Option<String>,
}

/// The bank's internet-banking books.
#[derive(Default)]
pub struct BankPayments {
    by_id: HashMap<String, BankPayment>,
    by_key: HashMap<String, String>,
    refunds: HashMap<String, BankRefund>,
    refunds_by_key: HashMap<String, String>,
}

/// `GET /v1/banks`.
pub async fn banks(State(gateway): State<Gateway>, headers: HeaderMap) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let data: Vec<serde_json::Value> = BANKS
        .iter()
        .map(|bank| {
            serde_json::json!({
                "id": bank.id, "name": bank.name, "country": bank.country,
                "currencies": bank.currencies,
            })
        })
        .collect();
    (StatusCode::OK, Json(serde_json::json!({ "data": data })))
}

/// Why a payment request is not one the bank takes.
fn refusal(request: &BankPaymentRequest) -> Option<&'static str> {
    let currency_ok =
        request.currency.len() == 3 && request.currency.chars().all(|c| c.is_ascii_uppercase());
    if request.amount <= 0 || !currency_ok {
        return Some("amount or currency is not valid");
    }
    if request.reference.is_empty() || request.reference.len() > 200 {
        return Some("reference is not valid");
    }
    let return_ok = (request.return_url.starts_with("https://")
        || request.return_url.starts_with("http://"))
        && request.return_url.len() <= 2000
        && !request.return_url.chars().any(char::is_control);
    if !return_ok {
        return Some("return_url is not valid");
    }
    match bank(&request.bank) {
        None => Some("no such bank"),
        Some(Bank {
            currencies: Some(taken),
            ..
        }) if !taken.contains(&request.currency.as_str()) => {
            Some("the bank does not take this currency")
        }
        Some(_) => None,
    }
}

/// `POST /v1/bank_payments`.
pub async fn create(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<BankPaymentRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let (key, request) = match admitted(&gateway, &headers, body) {
        Ok(taken) => taken,
        Err(reply) => return reply,
    };
    if let Some(why) = refusal(&request) {
        return error(StatusCode::BAD_REQUEST, "invalid_request", why);
    }
    let fault = take_fault(&gateway, request.amount);
    if fault.fail_times > 0 {
        println!(
            "bank: injected 503 for a bank payment of {}",
            request.amount
        );
        return injected_failure();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let (payment, new) = {
        let mut ledger = gateway.ledger();
        let books = &mut ledger.bank_payments;
        match books.by_key.get(&key).and_then(|id| books.by_id.get(id)) {
            Some(known) => (known.clone(), false),
            None => {
                let id = new_id("gwbp_");
                let payment = BankPayment {
                    redirect_url: format!("http://{host}/bank/pay/{id}"),
                    id,
                    status: "requires_action",
                    amount: request.amount,
                    currency: request.currency,
                    bank: request.bank,
                    reference: request.reference,
                    return_url: request.return_url,
                    failure_code: None,
                    amount_refunded: 0,
                    user: None,
                    settled_on: None,
                    otp_attempts_left: OTP_ATTEMPTS,
                };
                books.by_key.insert(key, payment.id.clone());
                books.by_id.insert(payment.id.clone(), payment.clone());
                (payment, true)
            }
        }
    };
    if new {
        println!(
            "bank: {} requires_action {} {} at {} ref={}",
            payment.id, payment.amount, payment.currency, payment.bank, payment.reference
        );
    }
    if fault.drop_response {
        println!("bank: {} taken, answer dropped", payment.id);
        return lost_answer();
    }
    made(new, &payment)
}

fn found<T: Serialize>(item: Option<&T>, what: &str) -> Reply {
    match item {
        Some(item) => (StatusCode::OK, Json(value(item))),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no such {what}"),
        ),
    }
}

/// `GET /v1/bank_payments/{id}`.
pub async fn find_by_id(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    found(
        gateway.ledger().bank_payments.by_id.get(&id),
        "bank payment",
    )
}

/// `GET /v1/bank_payments/by_idempotency_key/{key}`.
pub async fn find_by_idempotency_key(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let ledger = gateway.ledger();
    let books = &ledger.bank_payments;
    found(
        books.by_key.get(&key).and_then(|id| books.by_id.get(id)),
        "bank payment",
    )
}

/// Moves a payment on and tells Till; the payment as it is after, when there is one.
fn update(
    gateway: &Gateway,
    id: &str,
    status: &'static str,
    failure_code: Option<&'static str>,
) -> Option<BankPayment> {
    let updated = {
        let mut ledger = gateway.ledger();
        let payment = ledger.bank_payments.by_id.get_mut(id)?;
        payment.status = status;
        payment.failure_code = failure_code;
        if status == "succeeded" {
            payment.settled_on = Some(crate::settlement::today());
        }
        payment.clone()
    };
    println!("bank: {} {status}", updated.id);
    let fault = gateway.fault_for(updated.amount);
    gateway.emit_bank("bank_payment.updated", &value(&updated), fault);
    Some(updated)
}

/// The customer's way back to the merchant: the payment's id, never its outcome.
fn back_to(payment: &BankPayment) -> Response {
    let separator = if payment.return_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!(
        "{}{separator}bank_payment={}",
        payment.return_url, payment.id
    );
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:sans-serif;margin:0;background:#f4f6f8;color:#1a1a1a}}\
         main{{max-width:24rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem;\
         box-shadow:0 1px 4px rgba(0,0,0,.1)}}\
         label{{display:block;margin:.75rem 0 .25rem;font-weight:600}}\
         input{{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #889;\
         border-radius:6px}}\
         button{{margin-top:1rem;width:100%;padding:.7rem;font-size:1rem;border-radius:6px;\
         border:0;background:#0b5cad;color:#fff}}\
         button.cancel{{background:none;color:#0b5cad;border:1px solid #0b5cad}}\
         .error{{color:#b00020}} .amount{{font-size:1.5rem;font-weight:700}}\
         </style></head><body><main>{body}</main></body></html>",
        title = escape_html(title),
    );
    Html(html).into_response()
}

fn summary(payment: &BankPayment) -> String {
    let name = bank(&payment.bank).map_or("Sandbox Bank", |b| b.name);
    format!(
        "<h1>{}</h1><p class=\"amount\">{} {}</p><p>Reference: {}</p>",
        escape_html(name),
        payment.amount,
        escape_html(&payment.currency),
        escape_html(&payment.reference)
    )
}

fn cancel_form(payment: &BankPayment) -> String {
    format!(
        "<form method=\"post\" action=\"/bank/pay/{}/cancel\">\
         <button class=\"cancel\" type=\"submit\">Cancel payment</button></form>",
        payment.id
    )
}

fn login_page(payment: &BankPayment, problem: Option<&str>) -> Response {
    let problem = problem
        .map(|p| format!("<p class=\"error\" role=\"alert\">{}</p>", escape_html(p)))
        .unwrap_or_default();
    page(
        "Sign in to pay",
        &format!(
            "{}{problem}<form method=\"post\" action=\"/bank/pay/{}/login\">\
             <label for=\"username\">User name</label>\
             <input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" required>\
             <button type=\"submit\">Sign in</button></form>{}",
            summary(payment),
            payment.id,
            cancel_form(payment)
        ),
    )
}

fn otp_page(payment: &BankPayment, problem: Option<&str>) -> Response {
    let problem = problem
        .map(|p| format!("<p class=\"error\" role=\"alert\">{}</p>", escape_html(p)))
        .unwrap_or_default();
    page(
        "Confirm the payment",
        &format!(
            "{}{problem}<form method=\"post\" action=\"/bank/pay/{}/otp\">\
             <label for=\"otp\">One-time code</label>\
             <input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
             required><p>Test code: {OTP}</p>\
             <button type=\"submit\">Approve payment</button></form>{}",
            summary(payment),
            payment.id,
            cancel_form(payment)
        ),
    )
}

fn ended_page(payment: &BankPayment) -> Response {
    page(
        "Payment",
        &format!(
            "{}<p id=\"status\">This payment is {}.</p>",
            summary(payment),
            payment.status
        ),
    )
}

fn payment_of(gateway: &Gateway, id: &str) -> Option<BankPayment> {
    gateway.ledger().bank_payments.by_id.get(id).cloned()
}

/// The payment while it waits for the customer, else the page that says it does not.
fn awaiting(gateway: &Gateway, id: &str) -> Result<BankPayment, Box<Response>> {
    match payment_of(gateway, id) {
        None => Err(Box::new(no_such_payment())),
        Some(payment) if payment.status != "requires_action" => Err(Box::new(ended_page(&payment))),
        Some(payment) => Ok(payment),
    }
}

fn no_such_payment() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><p>No such payment.</p>".to_string()),
    )
        .into_response()
}

/// `GET /bank/pay/{id}`: where the customer signs in (or sees how the payment ended).
pub async fn start_page(State(gateway): State<Gateway>, Path(id): Path<String>) -> Response {
    match payment_of(&gateway, &id) {
        None => no_such_payment(),
        Some(payment) if payment.status != "requires_action" => ended_page(&payment),
        Some(payment) if payment.user.is_some() => otp_page(&payment, None),
        Some(payment) => login_page(&payment, None),
    }
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

/// `POST /bank/pay/{id}/login`.
pub async fn login(
    State(gateway): State<Gateway>,
    Path(id): Path<String>,
    Form(login): Form<Login>,
) -> Response {
    let payment = match awaiting(&gateway, &id) {
        Ok(payment) => payment,
        Err(page) => return *page,
    };
    let user = login.username.trim().to_string();
    if user.is_empty() || user.len() > 64 || login.password.is_empty() {
        return login_page(&payment, Some("Enter your user name and password."));
    }
    let signed_in = {
        let mut ledger = gateway.ledger();
        let Some(payment) = ledger.bank_payments.by_id.get_mut(&id) else {
            return no_such_payment();
        };
        payment.user = Some(user);
        payment.clone()
    };
    otp_page(&signed_in, None)
}

#[derive(Deserialize)]
pub struct Otp {
    otp: String,
}

/// `POST /bank/pay/{id}/otp`: approved with the right code, then back to the merchant.
pub async fn approve(
    State(gateway): State<Gateway>,
    Path(id): Path<String>,
    Form(otp): Form<Otp>,
) -> Response {
    let payment = match awaiting(&gateway, &id) {
        Ok(payment) => payment,
        Err(page) => return *page,
    };
    let Some(user) = payment.user.clone() else {
        return login_page(&payment, None);
    };
    if otp.otp.trim() != OTP {
        let left = {
            let mut ledger = gateway.ledger();
            let Some(payment) = ledger.bank_payments.by_id.get_mut(&id) else {
                return no_such_payment();
            };
            payment.otp_attempts_left = payment.otp_attempts_left.saturating_sub(1);
            payment.otp_attempts_left
        };
        if left > 0 {
            return otp_page(&payment, Some("That code is not right. Try again."));
        }
        return match update(&gateway, &id, "failed", Some("authentication_failed")) {
            Some(failed) => back_to(&failed),
            None => no_such_payment(),
        };
    }
    let after = match user.as_str() {
        FAILING_USER => update(&gateway, &id, "failed", Some("insufficient_funds")),
        LATE_USER => {
            let processing = update(&gateway, &id, "processing", None);
            let (gateway, id) = (gateway.clone(), id.clone());
            tokio::spawn(async move {
                tokio::time::sleep(late_delay()).await;
                update(&gateway, &id, "succeeded", None);
            });
            processing
        }
        _ => update(&gateway, &id, "succeeded", None),
    };
    match after {
        Some(payment) => back_to(&payment),
        None => no_such_payment(),
    }
}

/// `POST /bank/pay/{id}/cancel`: the customer gives up at the bank.
pub async fn cancel(State(gateway): State<Gateway>, Path(id): Path<String>) -> Response {
    if let Err(page) = awaiting(&gateway, &id) {
        return *page;
    }
    match update(&gateway, &id, "canceled", None) {
        Some(canceled) => back_to(&canceled),
        None => no_such_payment(),
    }
}

/// `POST /v1/bank_payments/{id}/cancel`: the merchant's side gives up on a payment the
/// customer has not approved. Only a waiting payment is canceled; any other is answered as it
/// is, so the caller learns what happened instead.
pub async fn cancel_by_api(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let waiting = {
        let ledger = gateway.ledger();
        match ledger.bank_payments.by_id.get(&id) {
            None => return found::<BankPayment>(None, "bank payment"),
            Some(payment) => payment.status == "requires_action",
        }
    };
    let payment = if waiting {
        update(&gateway, &id, "canceled", None)
    } else {
        payment_of(&gateway, &id)
    };
    found(payment.as_ref(), "bank payment")
}

/// `POST /v1/bank_refunds`: back to the account the payment came from, at most what is left.
pub async fn refund(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<BankRefundRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let (key, request) = match admitted(&gateway, &headers, body) {
        Ok(taken) => taken,
        Err(reply) => return reply,
    };
    let fault = take_fault(&gateway, request.amount);
    if fault.fail_times > 0 {
        return injected_failure();
    }
    let taken = {
        let mut ledger = gateway.ledger();
        let books = &mut ledger.bank_payments;
        if let Some(known) = books
            .refunds_by_key
            .get(&key)
            .and_then(|id| books.refunds.get(id))
        {
            Ok((known.clone(), false))
        } else {
            match books.by_id.get_mut(&request.payment) {
                None => Err(error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such bank payment",
                )),
                Some(payment) if payment.status != "succeeded" => Err(error(
                    StatusCode::CONFLICT,
                    "payment_not_refundable",
                    "only a succeeded payment is refunded",
                )),
                Some(payment)
                    if request.amount <= 0
                        || request.amount > payment.amount - payment.amount_refunded
                        || request.reference.is_empty()
                        || request.reference.len() > 200 =>
                {
                    Err(error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "amount must be positive and at most what is left, with a reference",
                    ))
                }
                Some(payment) => {
                    payment.amount_refunded += request.amount;
                    let refund = BankRefund {
                        id: new_id("gwbr_"),
                        payment: payment.id.clone(),
                        reference: request.reference,
                        status: "pending",
                        amount: request.amount,
                        currency: payment.currency.clone(),
                        failure_code: None,
                        settled_on: None,
                    };
                    books.refunds_by_key.insert(key, refund.id.clone());
                    books.refunds.insert(refund.id.clone(), refund.clone());
                    Ok((refund, true))
                }
            }
        }
    };
    let (refund, new) = match taken {
        Ok(taken) => taken,
        Err(reply) => return reply,
    };
    if new {
        println!(
            "bank: {} pending {} for {}",
            refund.id, refund.amount, refund.payment
        );
        tokio::spawn(settle_refund(gateway.clone(), refund.id.clone()));
    }
    if fault.drop_response {
        return lost_answer();
    }
    made(new, &refund)
}

/// After the bank's delay: paid back, or failed (the money returns to what can be refunded).
async fn settle_refund(gateway: Gateway, id: String) {
    tokio::time::sleep(delay()).await;
    let settled = {
        let mut ledger = gateway.ledger();
        let books = &mut ledger.bank_payments;
        let Some(refund) = books.refunds.get(&id).cloned() else {
            return;
        };
        let Some(payment) = books.by_id.get_mut(&refund.payment) else {
            return;
        };
        let closed = payment.user.as_deref() == Some(CLOSED_USER);
        if closed {
            payment.amount_refunded -= refund.amount;
        }
        let Some(refund) = books.refunds.get_mut(&id) else {
            return;
        };
        (refund.status, refund.failure_code) = if closed {
            ("failed", Some("account_closed"))
        } else {
            refund.settled_on = Some(crate::settlement::today());
            ("succeeded", None)
        };
        refund.clone()
    };
    println!("bank: {} {}", settled.id, settled.status);
    let fault = gateway.fault_for(settled.amount);
    gateway.emit_bank("bank_refund.updated", &value(&settled), fault);
}

/// The bank's price for taking a payment: a flat 25 minor units; refunds are free.
const BANK_FEE: i64 = 25;

/// The day's internet-banking money (payments taken, refunds paid back) in the settlement
/// file's CSV format (`till_core::reconciliation`), so Till reconciles bank payments as it
/// does card captures.
pub fn settlement_file(books: &BankPayments, date: &str) -> String {
    let mut rows = vec![till_core::reconciliation::HEADER.to_string()];
    let mut payments: Vec<_> = books
        .by_id
        .values()
        .filter(|p| p.settled_on.as_deref() == Some(date))
        .collect();
    payments.sort_by(|a, b| a.id.cmp(&b.id));
    for p in payments {
        let net = p.amount - BANK_FEE;
        rows.push(format!(
            "{date},{},{},charge,{},{BANK_FEE},{net},{}",
            p.id, p.reference, p.amount, p.currency
        ));
    }
    let mut refunds: Vec<_> = books
        .refunds
        .values()
        .filter(|r| r.settled_on.as_deref() == Some(date))
        .collect();
    refunds.sort_by(|a, b| a.id.cmp(&b.id));
    for r in refunds {
        rows.push(format!(
            "{date},{},{},refund,{},0,{},{}",
            r.id, r.reference, r.amount, -r.amount, r.currency
        ));
    }
    rows.join("\n") + "\n"
}

/// `GET /v1/bank_settlements/{date}`.
pub async fn settlements(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(date): Path<String>,
) -> Result<String, Reply> {
    gateway.authenticated(&headers)?;
    Ok(settlement_file(&gateway.ledger().bank_payments, &date))
}

/// `GET /v1/bank_refunds/{id}`.
pub async fn find_refund(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    found(
        gateway.ledger().bank_payments.refunds.get(&id),
        "bank refund",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::Router;
    use std::time::Duration;
    use tower::ServiceExt;

    const RETURN: &str = "http://127.0.0.1:18791/return?order=7";

    fn app() -> Router {
        Gateway::new("gw_test", None).router()
    }

    fn json_post(path: &str, key: Option<&str>, body: serde_json::Value) -> Request<Body> {
        let mut request = Request::post(path)
            .header("authorization", "Bearer gw_test")
            .header("content-type", "application/json")
            .header("host", "127.0.0.1:18790");
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.body(Body::from(body.to_string())).unwrap()
    }

    fn form_post(path: &str, form: &str) -> Request<Body> {
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.to_string()))
            .unwrap()
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let response = app.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn api(app: &Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let (status, _, body) = send(app, request).await;
        (status, serde_json::from_str(&body).unwrap())
    }

    async fn new_payment(app: &Router, key: &str, amount: i64) -> serde_json::Value {
        let body = serde_json::json!({ "amount": amount, "currency": "KRW", "bank": "hana_test",
                                       "reference": "pay_1 <b>", "return_url": RETURN });
        let (status, payment) = api(app, json_post("/v1/bank_payments", Some(key), body)).await;
        assert_eq!(status, StatusCode::CREATED, "{payment}");
        payment
    }

    async fn status_of(app: &Router, id: &str) -> serde_json::Value {
        let request = Request::get(format!("/v1/bank_payments/{id}"))
            .header("authorization", "Bearer gw_test")
            .body(Body::empty())
            .unwrap();
        api(app, request).await.1
    }

    /// Signs in as `user` and enters `code`: the answer to the code.
    async fn pay_as(
        app: &Router,
        id: &str,
        user: &str,
        code: &str,
    ) -> (StatusCode, HeaderMap, String) {
        let (status, _, page) = send(
            app,
            form_post(
                &format!("/bank/pay/{id}/login"),
                &format!("username={user}&password=pw"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("One-time code"), "{page}");
        send(
            app,
            form_post(&format!("/bank/pay/{id}/otp"), &format!("otp={code}")),
        )
        .await
    }

    fn location(headers: &HeaderMap) -> &str {
        headers.get("location").unwrap().to_str().unwrap()
    }

    #[tokio::test]
    async fn a_customer_signs_in_approves_and_is_sent_back_without_the_outcome() {
        let app = app();
        let payment = new_payment(&app, "k1", 45_000).await;
        let id = payment["id"].as_str().unwrap();
        assert_eq!(payment["status"], "requires_action");
        assert_eq!(
            payment["redirect_url"],
            format!("http://127.0.0.1:18790/bank/pay/{id}")
        );
        let again = new_payment_again(&app, "k1").await;
        assert_eq!(again["id"], payment["id"], "the same key, the same payment");

        let (status, _, page) = send(
            &app,
            Request::get(format!("/bank/pay/{id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Hana Test Bank") && page.contains("45000 KRW"));
        assert!(page.contains("pay_1 &lt;b&gt;"), "the reference is escaped");
        let (status, headers, _) = pay_as(&app, id, "jiwoo", OTP).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location(&headers), format!("{RETURN}&bank_payment={id}"));
        assert_eq!(status_of(&app, id).await["status"], "succeeded");
        // Ended: the pages say so, and canceling changes nothing.
        let (_, _, ended) = send(&app, form_post(&format!("/bank/pay/{id}/cancel"), "")).await;
        assert!(ended.contains("This payment is succeeded."), "{ended}");
        assert_eq!(status_of(&app, id).await["status"], "succeeded");
    }

    async fn new_payment_again(app: &Router, key: &str) -> serde_json::Value {
        let body = serde_json::json!({ "amount": 45_000, "currency": "KRW", "bank": "hana_test",
                                       "reference": "pay_1 <b>", "return_url": RETURN });
        let (status, payment) = api(app, json_post("/v1/bank_payments", Some(key), body)).await;
        assert_eq!(status, StatusCode::OK);
        payment
    }

    #[tokio::test]
    async fn wrong_codes_no_money_and_a_cancel_each_end_the_payment() {
        let app = app();
        let wrong = new_payment(&app, "w", 1_000).await;
        let id = wrong["id"].as_str().unwrap();
        let (status, _, page) = pay_as(&app, id, "jiwoo", "000000").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("not right"));
        for _ in 0..OTP_ATTEMPTS - 2 {
            send(&app, form_post(&format!("/bank/pay/{id}/otp"), "otp=1")).await;
        }
        let (status, _, _) = send(&app, form_post(&format!("/bank/pay/{id}/otp"), "otp=1")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let failed = status_of(&app, id).await;
        assert_eq!(
            (&failed["status"], &failed["failure_code"]),
            (&"failed".into(), &"authentication_failed".into())
        );

        let poor = new_payment(&app, "p", 1_001).await;
        let id = poor["id"].as_str().unwrap();
        pay_as(&app, id, FAILING_USER, OTP).await;
        assert_eq!(
            status_of(&app, id).await["failure_code"],
            "insufficient_funds"
        );

        let canceled = new_payment(&app, "c", 1_002).await;
        let id = canceled["id"].as_str().unwrap();
        let (status, headers, _) =
            send(&app, form_post(&format!("/bank/pay/{id}/cancel"), "")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location(&headers).ends_with(&format!("bank_payment={id}")));
        assert_eq!(status_of(&app, id).await["status"], "canceled");
        // A code sent after the cancel does not pay it.
        send(
            &app,
            form_post(&format!("/bank/pay/{id}/otp"), &format!("otp={OTP}")),
        )
        .await;
        assert_eq!(status_of(&app, id).await["status"], "canceled");

        // Till cancels a payment nobody approved; an approved one stays paid.
        let abandoned = new_payment(&app, "a", 1_003).await;
        let id = abandoned["id"].as_str().unwrap();
        let cancel = |id: &str| {
            Request::post(format!("/v1/bank_payments/{id}/cancel"))
                .header("authorization", "Bearer gw_test")
                .body(Body::empty())
                .unwrap()
        };
        let (status, canceled) = api(&app, cancel(id)).await;
        assert_eq!(
            (status, &canceled["status"]),
            (StatusCode::OK, &"canceled".into())
        );
        let paid = new_payment(&app, "d", 1_004).await;
        let id = paid["id"].as_str().unwrap();
        pay_as(&app, id, "anyone", OTP).await;
        let (status, kept) = api(&app, cancel(id)).await;
        assert_eq!(
            (status, &kept["status"]),
            (StatusCode::OK, &"succeeded".into())
        );
        let (status, _) = api(&app, cancel("gwbp_none")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    /// The clock is paused: sleeps end as soon as nothing else is left to run.
    #[tokio::test(start_paused = true)]
    async fn a_slow_bank_succeeds_after_the_customer_came_back() {
        let app = app();
        let payment = new_payment(&app, "late", 2_000).await;
        let id = payment["id"].as_str().unwrap();
        let (status, _, _) = pay_as(&app, id, LATE_USER, OTP).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(status_of(&app, id).await["status"], "processing");
        tokio::time::sleep(late_delay() + Duration::from_millis(10)).await;
        assert_eq!(status_of(&app, id).await["status"], "succeeded");
    }

    #[tokio::test(start_paused = true)]
    async fn the_days_bank_money_reads_as_a_settlement_file() {
        let app = app();
        let paid = new_payment(&app, "s1", 3_000).await;
        let id = paid["id"].as_str().unwrap();
        pay_as(&app, id, "anyone", OTP).await;
        let waiting = new_payment(&app, "s2", 4_000).await;
        let request = Request::get(format!(
            "/v1/bank_settlements/{}",
            crate::settlement::today()
        ))
        .header("authorization", "Bearer gw_test")
        .body(Body::empty())
        .unwrap();
        let (status, _, file) = send(&app, request).await;
        assert_eq!(status, StatusCode::OK);
        let lines = till_core::reconciliation::parse(&file).unwrap();
        assert_eq!(lines.len(), 1, "only money taken: {file}");
        assert_eq!(lines[0].reference, "pay_1 <b>");
        assert_eq!((lines[0].gross, lines[0].fee), (3_000, BANK_FEE));
        assert!(!file.contains(waiting["id"].as_str().unwrap()));
    }

    #[tokio::test(start_paused = true)]
    async fn refunds_go_back_once_and_fail_to_a_closed_account() {
        let app = app();
        let paid = new_payment(&app, "r1", 10_000).await;
        let id = paid["id"].as_str().unwrap();
        let early = json_post(
            "/v1/bank_refunds",
            Some("early"),
            serde_json::json!({ "payment": id, "amount": 100, "reference": "re_1" }),
        );
        assert_eq!(api(&app, early).await.0, StatusCode::CONFLICT);
        pay_as(&app, id, "jiwoo", OTP).await;
        let refund = |key: &str, amount: i64| {
            json_post(
                "/v1/bank_refunds",
                Some(key),
                serde_json::json!({ "payment": id, "amount": amount, "reference": "re_2" }),
            )
        };
        let (status, first) = api(&app, refund("a", 6_000)).await;
        assert_eq!(
            (status, first["status"].as_str()),
            (StatusCode::CREATED, Some("pending"))
        );
        let (status, same) = api(&app, refund("a", 6_000)).await;
        assert_eq!((status, &same["id"]), (StatusCode::OK, &first["id"]));
        assert_eq!(
            api(&app, refund("b", 4_001)).await.0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(api(&app, refund("c", 0)).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(api(&app, refund("d", 4_000)).await.0, StatusCode::CREATED);
        tokio::time::sleep(delay() + Duration::from_millis(10)).await;
        let request = Request::get(format!(
            "/v1/bank_refunds/{}",
            first["id"].as_str().unwrap()
        ))
        .header("authorization", "Bearer gw_test")
        .body(Body::empty())
        .unwrap();
        assert_eq!(api(&app, request).await.1["status"], "succeeded");
        assert_eq!(status_of(&app, id).await["amount_refunded"], 10_000);

        let closed = new_payment(&app, "r2", 5_000).await;
        let closed_id = closed["id"].as_str().unwrap();
        pay_as(&app, closed_id, CLOSED_USER, OTP).await;
        let request = json_post(
            "/v1/bank_refunds",
            Some("e"),
            serde_json::json!({ "payment": closed_id, "amount": 5_000, "reference": "re_3" }),
        );
        let (_, back) = api(&app, request).await;
        tokio::time::sleep(delay() + Duration::from_millis(10)).await;
        let request = Request::get(format!("/v1/bank_refunds/{}", back["id"].as_str().unwrap()))
            .header("authorization", "Bearer gw_test")
            .body(Body::empty())
            .unwrap();
        let failed = api(&app, request).await.1;
        assert_eq!(
            (&failed["status"], &failed["failure_code"]),
            (&"failed".into(), &"account_closed".into())
        );
        assert_eq!(
            status_of(&app, closed_id).await["amount_refunded"],
            0,
            "a failed refund can be tried again"
        );
    }

    #[tokio::test]
    async fn requests_the_bank_does_not_take_are_refused() {
        let app = app();
        let base = serde_json::json!({ "amount": 100, "currency": "KRW", "bank": "hana_test",
                                       "reference": "r", "return_url": RETURN });
        let with = |field: &str, value: serde_json::Value| {
            let mut body = base.clone();
            body[field] = value;
            body
        };
        for body in [
            with("amount", serde_json::json!(0)),
            with("currency", serde_json::json!("krw")),
            with("currency", serde_json::json!("EUR")),
            with("bank", serde_json::json!("nope")),
            with("return_url", serde_json::json!("javascript:alert(1)")),
            with("return_url", serde_json::json!("http://x/\nLocation: y")),
            with("reference", serde_json::json!("")),
            with("colour", serde_json::json!("red")),
        ] {
            let (status, answer) = api(
                &app,
                json_post("/v1/bank_payments", Some("bad"), body.clone()),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        }
        assert_eq!(
            api(&app, json_post("/v1/bank_payments", None, base.clone()))
                .await
                .0,
            StatusCode::BAD_REQUEST,
            "an Idempotency-Key is required"
        );
        let unauthenticated = Request::post("/v1/bank_payments")
            .header("idempotency-key", "k")
            .header("content-type", "application/json")
            .body(Body::from(base.to_string()))
            .unwrap();
        assert_eq!(api(&app, unauthenticated).await.0, StatusCode::UNAUTHORIZED);
        let (status, _, _) = send(
            &app,
            Request::get("/bank/pay/gwbp_none")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let request = Request::get("/v1/banks")
            .header("authorization", "Bearer gw_test")
            .body(Body::empty())
            .unwrap();
        let (_, banks) = api(&app, request).await;
        assert_eq!(banks["data"].as_array().unwrap().len(), BANKS.len());
    }
}
