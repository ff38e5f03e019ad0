//! The sandbox's bank: transfers to bank accounts (Till's payouts), paid or failed some time
//! after they are taken, as a real bank's are, and told by webhook (`bank_transfer.updated`,
//! to the bank webhook URL).
//!
//! - `POST /v1/bank_transfers` `{amount, currency, reference, account: {holder_name,
//!   routing_number, account_number}}` with `Idempotency-Key`: taken `pending`; the same key
//!   returns the same transfer and never pays twice.
//! - `GET /v1/bank_transfers/{id}`, `GET /v1/bank_transfers/by_idempotency_key/{key}`.
//!
//! Test accounts, by account number: [`NO_ACCOUNT`] fails `no_account`; [`CLOSED_ACCOUNT`] is
//! paid, then returned `account_closed`; any other is paid. Faults set for an amount
//! (`/v1/control/faults`) apply: `fail_times` refuses with 503 before taking the transfer,
//! `drop_response` takes it and loses the answer, `webhook_drop` loses its webhooks.

use crate::gateway::{
    admitted, error, injected_failure, lost_answer, made, new_id, take_fault, value, Gateway, Reply,
};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use till_core::payout::{BankAccount, BankAccountInput};

/// An account number that does not exist: the transfer fails.
pub const NO_ACCOUNT: &str = "000111111116";
/// An account that takes the money, then sends it back closed.
pub const CLOSED_ACCOUNT: &str = "000111111113";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankTransferRequest {
    amount: i64,
    currency: String,
    reference: String,
    account: BankAccountInput,
}

#[derive(Debug, Clone, Serialize)]
pub struct BankTransfer {
    id: String,
    status: &'static str,
    amount: i64,
    currency: String,
    reference: String,
    failure_code: Option<&'static str>,
    #[serde(skip)]
    account_number: String,
}

/// The bank's books: transfers by id, and which idempotency key made which.
#[derive(Default)]
pub struct Transfers {
    by_id: HashMap<String, BankTransfer>,
    by_key: HashMap<String, String>,
}

/// How long the bank takes to pay (and a returned transfer to come back), from
/// `SANDBOX_BANK_DELAY_MS`.
pub fn delay() -> Duration {
    let ms = std::env::var("SANDBOX_BANK_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(ms)
}

/// The account to pay, when the request is one the bank takes.
fn account_of(request: &BankTransferRequest) -> Option<BankAccount> {
    let currency_ok =
        request.currency.len() == 3 && request.currency.chars().all(|c| c.is_ascii_uppercase());
    if request.amount <= 0 || !currency_ok || request.reference.is_empty() {
        return None;
    }
    request.account.validate().ok()
}

pub async fn create(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<BankTransferRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    let (key, request) = match admitted(&gateway, &headers, body) {
        Ok(taken) => taken,
        Err(reply) => return reply,
    };
    let Some(account) = account_of(&request) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "amount, currency, reference or account is not valid",
        );
    };
    let fault = take_fault(&gateway, request.amount);
    if fault.fail_times > 0 {
        println!("bank: injected 503 for a transfer of {}", request.amount);
        return injected_failure();
    }
    let (transfer, new) = {
        let mut ledger = gateway.ledger();
        let books = &mut ledger.bank;
        match books.by_key.get(&key).and_then(|id| books.by_id.get(id)) {
            Some(known) => (known.clone(), false),
            None => {
                let transfer = BankTransfer {
                    id: new_id("gwbt_"),
                    status: "pending",
                    amount: request.amount,
                    currency: request.currency,
                    reference: request.reference,
                    failure_code: None,
                    account_number: account.account_number.expose().clone(),
                };
                books.by_key.insert(key, transfer.id.clone());
                books.by_id.insert(transfer.id.clone(), transfer.clone());
                (transfer, true)
            }
        }
    };
    if new {
        println!(
            "bank: {} pending {} {} ref={}",
            transfer.id, transfer.amount, transfer.currency, transfer.reference
        );
        tokio::spawn(pay(gateway.clone(), transfer.id.clone()));
    }
    if fault.drop_response {
        println!("bank: {} taken, answer dropped", transfer.id);
        return lost_answer();
    }
    made(new, &transfer)
}

/// Sets a transfer's status (and reason), and tells the edge.
fn update(gateway: &Gateway, id: &str, status: &'static str, failure_code: Option<&'static str>) {
    let updated = {
        let mut ledger = gateway.ledger();
        let Some(transfer) = ledger.bank.by_id.get_mut(id) else {
            return;
        };
        transfer.status = status;
        transfer.failure_code = failure_code;
        transfer.clone()
    };
    println!("bank: {} {status}", updated.id);
    let fault = gateway.fault_for(updated.amount);
    gateway.emit_bank("bank_transfer.updated", &value(&updated), fault);
}

/// After the bank's delay: paid or failed by the test account; a closed account returns the
/// money after another delay.
async fn pay(gateway: Gateway, id: String) {
    tokio::time::sleep(delay()).await;
    let account = {
        let ledger = gateway.ledger();
        match ledger.bank.by_id.get(&id) {
            Some(transfer) => transfer.account_number.clone(),
            None => return,
        }
    };
    match account.as_str() {
        NO_ACCOUNT => update(&gateway, &id, "failed", Some("no_account")),
        CLOSED_ACCOUNT => {
            update(&gateway, &id, "paid", None);
            tokio::time::sleep(delay()).await;
            update(&gateway, &id, "returned", Some("account_closed"));
        }
        _ => update(&gateway, &id, "paid", None),
    }
}

fn found(transfer: Option<&BankTransfer>) -> Reply {
    match transfer {
        Some(transfer) => (StatusCode::OK, Json(value(transfer))),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such bank transfer"),
    }
}

pub async fn find_by_id(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    found(gateway.ledger().bank.by_id.get(&id))
}

pub async fn find_by_idempotency_key(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let ledger = gateway.ledger();
    let books = &ledger.bank;
    found(books.by_key.get(&key).and_then(|id| books.by_id.get(id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::Router;
    use tower::ServiceExt;

    fn transfer(key: &str, account_number: &str) -> Request<Body> {
        let body = serde_json::json!({
            "amount": 2500, "currency": "USD", "reference": "po_1",
            "account": {"holder_name": "Jiwoo Kim", "routing_number": "110000000",
                        "account_number": account_number}
        });
        Request::post("/v1/bank_transfers")
            .header("authorization", "Bearer gw_test")
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn status_of(app: &Router, id: &str) -> serde_json::Value {
        let request = Request::get(format!("/v1/bank_transfers/{id}"))
            .header("authorization", "Bearer gw_test")
            .body(Body::empty())
            .unwrap();
        send(app, request).await.1
    }

    /// The clock is paused: sleeps end as soon as nothing else is left to run.
    #[tokio::test(start_paused = true)]
    async fn transfers_are_taken_once_then_paid_failed_or_returned() {
        let app = Gateway::new("gw_test", None).router();
        let (status, taken) = send(&app, transfer("k1", "000123456789")).await;
        assert_eq!(
            (status, taken["status"].as_str()),
            (StatusCode::CREATED, Some("pending"))
        );
        let (again, same) = send(&app, transfer("k1", "000123456789")).await;
        assert_eq!((again, &same["id"]), (StatusCode::OK, &taken["id"]));
        let (_, no_account) = send(&app, transfer("k2", NO_ACCOUNT)).await;
        let (_, closed) = send(&app, transfer("k3", CLOSED_ACCOUNT)).await;

        tokio::time::sleep(delay() + Duration::from_millis(10)).await;
        let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_string();
        assert_eq!(status_of(&app, &id(&taken)).await["status"], "paid");
        let failed = status_of(&app, &id(&no_account)).await;
        assert_eq!(
            (&failed["status"], &failed["failure_code"]),
            (&"failed".into(), &"no_account".into())
        );
        assert_eq!(status_of(&app, &id(&closed)).await["status"], "paid");

        tokio::time::sleep(delay()).await;
        let returned = status_of(&app, &id(&closed)).await;
        assert_eq!(returned["status"], "returned");
        assert_eq!(returned["failure_code"], "account_closed");
        // The first transfer was paid once, whatever was asked twice.
        assert_eq!(status_of(&app, &id(&taken)).await["amount"], 2500);
    }

    #[tokio::test]
    async fn malformed_transfers_are_refused() {
        let app = Gateway::new("gw_test", None).router();
        for account_number in ["12", "0001x", ""] {
            let (status, body) = send(&app, transfer("bad", account_number)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{account_number}");
            assert_eq!(body["error"]["code"], "invalid_request");
        }
        let unkeyed = Request::post("/v1/bank_transfers")
            .header("authorization", "Bearer gw_test")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        assert_eq!(send(&app, unkeyed).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(
            status_of(&app, "gwbt_none").await["error"]["code"],
            "not_found"
        );
    }
}
