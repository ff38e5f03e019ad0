//! Payouts from a customer's wallet to a bank account.
//!
//! 1. Requested: the payout, its `payout.created` event and the reservation of its money (wallet
//!    → payout clearing) are one D1 batch; a wallet too low for it refuses the whole batch.
//! 2. Sent to the bank with the payout id as idempotency key: the bank pays it once however often
//!    it is asked. No answer leaves it `pending`, and the poller asks again.
//! 3. Followed: each step the bank reports (by webhook, or by the poller for a lost one) moves
//!    the status and writes its ledger transaction in one batch: paid (clearing → paid out),
//!    failed (clearing → wallet), returned (paid out → wallet).

use crate::banks::{self, BankTransfer, BankTransferRequest};
use crate::connectors::GatewayError;
use crate::idempotency::{self, Ended, Scope};
use crate::store::ledger::Posting;
use crate::store::payouts::{PayoutRow, Requested, Step};
use crate::vault::Vault;
use crate::{clock, merchant_webhooks, random, store};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::payout::{BankAccount, BankState, PayoutRequest, PayoutStatus};
use worker::Env;

fn stored(row: &PayoutRow) -> Result<Ended, ApiError> {
    let body = serde_json::to_string(&row.view()).map_err(|_| ApiError::internal())?;
    Ok(Ended::Stored { status: 200, body })
}

/// Requests a payout (once per idempotency key) and sends it to the bank.
pub async fn request(
    env: &Env,
    merchant_id: &str,
    payout: &PayoutRequest,
    scope: &Scope,
) -> Result<Ended, ApiError> {
    // The idempotency record may be gone: the row still knows which request made it.
    match store::payouts::by_idempotency_key(env, merchant_id, &scope.key).await? {
        Some(found) if found.request_fingerprint != scope.fingerprint => {
            return Ok(Ended::Retryable(idempotency::key_reused()))
        }
        Some(mut found) => {
            if found.status == PayoutStatus::Pending {
                submit(env, &mut found).await?;
            }
            return stored(&found);
        }
        None => {}
    }
    if store::customers::find(env, merchant_id, &payout.customer)
        .await?
        .is_none()
    {
        return Ok(Ended::Retryable(
            ApiError::not_found("customer").with_param("customer"),
        ));
    }
    let id = random::id(IdKind::Payout)?;
    let account = &payout.bank_account;
    let sealed = serde_json::to_string(account).map_err(|_| ApiError::internal())?;
    let now = clock::now_seconds();
    let mut row = PayoutRow {
        sealed_account: Vault::open(env)?.seal_text(&id, &sealed)?,
        id,
        merchant_id: merchant_id.to_string(),
        customer_id: payout.customer.clone(),
        idempotency_key: scope.key.clone(),
        request_fingerprint: scope.fingerprint.clone(),
        amount: payout.money.amount,
        currency: payout.money.currency,
        status: PayoutStatus::Pending,
        holder_name: account.holder_name.clone(),
        routing_number: account.routing_number.clone(),
        account_last4: account.last4().to_string(),
        bank_transfer_id: None,
        failure_code: None,
        created: now,
        poll_attempts: 0,
    };
    let reservation = Posting::new(
        merchant_id,
        till_core::ledger::Operation::PayoutRequested {
            customer: &row.customer_id,
        },
        &row.id,
        row.currency,
        row.amount,
        now,
    )?;
    let event = merchant_webhooks::new_event(merchant_id, "payout.created", &row.view())?;
    let endpoints = match store::payouts::request(env, &row, &reservation, &event).await? {
        Requested::Done { endpoints } => endpoints,
        Requested::Overdrawn => {
            return Ok(Ended::Retryable(
                ApiError::new(ErrorCode::BalanceInsufficient).with_param("amount"),
            ))
        }
    };
    worker::console_log!("payout {} requested", row.id);
    merchant_webhooks::deliver(env, &event, endpoints).await;
    submit(env, &mut row).await?;
    stored(&row)
}

/// Sends a `pending` payout to the bank and follows its answer. No answer leaves it pending
/// for the poller; a refusal fails it (its money goes back to the wallet).
pub async fn submit(env: &Env, row: &mut PayoutRow) -> Result<(), ApiError> {
    let text = Vault::open(env)?.open_text(&row.id, &row.sealed_account)?;
    let account: BankAccount = serde_json::from_str(text.expose()).map_err(|_| {
        crate::log_error!("payout {}: sealed account unreadable", row.id);
        ApiError::internal()
    })?;
    let request = BankTransferRequest {
        amount: row.amount,
        currency: row.currency,
        reference: &row.id,
        account: &account,
    };
    let bank = banks::platform(env)?;
    let key = row.id.clone();
    match bank.send(&request, &key).await {
        Ok(transfer) => follow(env, row, Some(&transfer.id), &transfer.state).await?,
        Err(GatewayError::Unavailable(reason)) => {
            crate::log_warn!("payout {}: bank unavailable: {reason}", row.id);
            return Ok(());
        }
        // The bank will never pay this: it fails, and the money goes back.
        Err(GatewayError::Rejected { code, .. }) => {
            follow(env, row, None, &BankState::Failed(code)).await?
        }
    };
    Ok(())
}

/// Brings a payout to what the bank says of it, one step at a time (each step one batch with
/// its ledger transaction and event). Returns whether anything changed; a step another
/// request took first ends the walk with the row as stored.
pub async fn follow(
    env: &Env,
    row: &mut PayoutRow,
    bank_transfer_id: Option<&str>,
    state: &BankState,
) -> Result<bool, ApiError> {
    let mut changed = false;
    for to in state.steps_from(row.status) {
        let now = clock::now_seconds();
        let failure_code = match to {
            PayoutStatus::Failed | PayoutStatus::Returned => state.failure_code(),
            _ => None,
        };
        let mut after = row.clone();
        after.status = to;
        if let Some(id) = bank_transfer_id {
            after.bank_transfer_id = Some(id.to_string());
        }
        if let Some(code) = failure_code {
            after.failure_code = Some(code.to_string());
        }
        let event = to
            .event()
            .map(|kind| merchant_webhooks::new_event(&row.merchant_id, kind, &after.view()))
            .transpose()?;
        let advanced = {
            let posting = to
                .operation(&row.customer_id)
                .map(|operation| {
                    Posting::new(
                        &row.merchant_id,
                        operation,
                        &row.id,
                        row.currency,
                        row.amount,
                        now,
                    )
                })
                .transpose()?;
            let step = Step {
                from: row.status,
                to,
                bank_transfer_id,
                failure_code,
                posting,
                event: event.as_ref(),
                now,
            };
            store::payouts::advance(env, &row.id, &step).await?
        };
        if !advanced {
            if let Some(current) = store::payouts::by_id(env, &row.id).await? {
                *row = current;
            }
            return Ok(changed);
        }
        worker::console_log!("payout {} {}", row.id, to.as_str());
        if let Some(event) = &event {
            let endpoints = store::webhooks::endpoints_of(env, &row.merchant_id).await?;
            merchant_webhooks::deliver(env, event, endpoints).await;
        }
        *row = after;
        changed = true;
    }
    Ok(changed)
}

/// What a bank event did to its payout.
pub async fn on_bank_event(env: &Env, transfer: &BankTransfer) -> Result<&'static str, ApiError> {
    if !till_core::ids::is_valid(IdKind::Payout, &transfer.reference) {
        return Ok("unknown_payout");
    }
    let Some(mut row) = store::payouts::by_id(env, &transfer.reference).await? else {
        return Ok("unknown_payout");
    };
    if row
        .bank_transfer_id
        .as_ref()
        .is_some_and(|known| *known != transfer.id)
    {
        return Ok("other_transfer");
    }
    Ok(
        if follow(env, &mut row, Some(&transfer.id), &transfer.state).await? {
            "applied"
        } else {
            "unchanged"
        },
    )
}

/// One poll of a payout the bank has not finished: a pending one is sent again (the bank pays
/// it once), a processing one is looked up. `Err` carries why it stays unanswered.
pub async fn poll(env: &Env, row: &mut PayoutRow) -> Result<(), String> {
    let before = row.status;
    if row.status == PayoutStatus::Pending {
        submit(env, row).await.map_err(|e| e.to_string())?;
        return if row.status == before {
            Err("the bank did not answer".into())
        } else {
            Ok(())
        };
    }
    let Some(id) = row.bank_transfer_id.clone() else {
        return Err("processing without a bank transfer".into());
    };
    let bank = banks::platform(env).map_err(|e| e.to_string())?;
    match bank.find(&id).await {
        Ok(Some(transfer)) => {
            follow(env, row, Some(&transfer.id), &transfer.state)
                .await
                .map_err(|e| e.to_string())?;
            if row.status == before {
                Err("the bank has not paid it yet".into())
            } else {
                Ok(())
            }
        }
        Ok(None) => Err(format!("the bank does not know {id}")),
        Err(error) => Err(error.to_string()),
    }
}
