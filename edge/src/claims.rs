//! Transfers waiting for a receiver who was not a customer yet: paid to that receiver once a
//! customer with the phone or email exists, or sent back to the sender when the claim expires.
//! A sign-up claims at once; the every-minute cron settles whatever a cut-short sign-up left
//! and returns expired claims.

use crate::clock;
use crate::store::ledger::Posting;
use crate::store::transfers::TransferRow;
use crate::store::{self, customers::CustomerRow};
use till_core::error::ApiError;
use till_core::ledger::Operation;
use till_core::transfer::TransferStatus;
use worker::Env;

/// How many claims one cron run settles (the rest wait for the next minute).
const CLAIMS_PER_RUN: i64 = 100;

/// Pays `customer` every transfer waiting for their email or phone.
pub async fn claim_for(env: &Env, customer: &CustomerRow) -> Result<(), ApiError> {
    let details = customer.details();
    let hashes: Vec<String> = [details.email_hash(), details.phone_hash()]
        .into_iter()
        .flatten()
        .collect();
    if hashes.is_empty() {
        return Ok(());
    }
    for transfer in store::transfers::claims_for(env, &customer.merchant_id, &hashes).await? {
        settle(env, &transfer, Some(&customer.id)).await?;
    }
    Ok(())
}

/// The cron's part: claims whose receiver has signed up, and claims past their expiry.
pub async fn sweep(env: &Env) -> Result<(), ApiError> {
    let now = clock::now_seconds();
    for transfer in store::transfers::claims_to_settle(env, now, CLAIMS_PER_RUN).await? {
        settle(env, &transfer, transfer.receiver_id.as_deref()).await?;
    }
    Ok(())
}

/// Pays a claim to `receiver`, or back to its sender when there is none.
async fn settle(env: &Env, transfer: &TransferRow, receiver: Option<&str>) -> Result<(), ApiError> {
    let (status, to) = match receiver {
        Some(receiver) => (TransferStatus::Succeeded, receiver),
        None => (TransferStatus::Returned, transfer.sender_id.as_str()),
    };
    if !transfer.status.can_move_to(status) {
        return Ok(());
    }
    let posting = Posting::new(
        &transfer.merchant_id,
        Operation::ReleaseClaim {
            claim: &transfer.id,
            to,
        },
        &transfer.id,
        transfer.currency,
        transfer.amount,
        clock::now_seconds(),
    )?;
    let kind = match status {
        TransferStatus::Returned => "transfer.returned",
        _ => "transfer.succeeded",
    };
    let settled = transfer.claimed(status, receiver);
    let event = crate::merchant_webhooks::new_event(&transfer.merchant_id, kind, &settled.view())?;
    let Some(endpoints) =
        store::transfers::settle_claim(env, transfer, status, receiver, &posting, &event).await?
    else {
        return Ok(());
    };
    worker::console_log!("transfer {} {}", transfer.id, status.as_str());
    crate::merchant_webhooks::deliver(env, &event, endpoints).await;
    Ok(())
}
