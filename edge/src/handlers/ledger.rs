//! The merchant's view of the ledger (secret key): its balance and what it holds for its
//! customers (`GET /v1/balance`), and the entries themselves (`GET /v1/ledger/entries`).

use crate::auth::Caller;
use crate::http::{json, page_param, query_param, ApiResult};
use crate::store::{self, ledger::EntryFilter};
use std::collections::BTreeMap;
use till_core::api::{Balance, BalanceAmount, List};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::ledger::Account;
use till_core::money::Currency;
use worker::{Env, Request};

/// Per-currency totals of accounts.
fn totals(balances: Vec<(String, BalanceAmount)>) -> Vec<BalanceAmount> {
    let mut sums: BTreeMap<Currency, i64> = BTreeMap::new();
    for (_, balance) in balances {
        let sum = sums.entry(balance.currency).or_default();
        *sum = sum.saturating_add(balance.amount);
    }
    sums.into_iter()
        .map(|(currency, amount)| BalanceAmount { amount, currency })
        .collect()
}

/// `GET /v1/balance`.
pub async fn balance(env: &Env, caller: &Caller) -> ApiResult {
    let merchant = &caller.merchant_id;
    let (own, wallets, claims) = futures_util::future::join3(
        store::ledger::balances(env, merchant, &format!("merchant:{merchant}:")),
        store::ledger::balances(env, merchant, "wallet:"),
        store::ledger::balances(env, merchant, "pending_claim:"),
    )
    .await;
    json(
        200,
        &Balance {
            object: "balance".into(),
            available: totals(own?),
            customer_wallets: totals(wallets?),
            pending_claims: totals(claims?),
        },
    )
}

fn time_param(req: &Request, name: &str) -> Result<Option<i64>, ApiError> {
    query_param(req, name)
        .map(|text| {
            text.parse::<i64>()
                .ok()
                .filter(|t| (0..=253_402_300_799).contains(t))
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::ParameterInvalid)
                        .with_message(format!("{name} is a time in Unix seconds."))
                        .with_param(name)
                })
        })
        .transpose()
}

/// `GET /v1/ledger/entries?account=&created_gte=&created_lt=&limit=&starting_after=`: newest
/// first.
pub async fn entries(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::LedgerEntry)?;
    let account = query_param(&req, "account");
    if let Some(name) = &account {
        if Account::from_key(name).is_none() {
            return Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message(
                    "account is an account name such as `wallet:cus_…:USD` or `merchant:mer_…:USD`.",
                )
                .with_param("account"));
        }
    }
    let filter = EntryFilter {
        account: account.as_deref(),
        created_gte: time_param(&req, "created_gte")?,
        created_lt: time_param(&req, "created_lt")?,
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let entries = store::ledger::entries(env, &caller.merchant_id, &filter)
        .await?
        .ok_or_else(ApiError::cursor_invalid)?;
    json(200, &List::page(entries, page.limit))
}
