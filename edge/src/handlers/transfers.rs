//! `POST /v1/transfers` (secret key, `Idempotency-Key`): money from one customer's wallet to
//! another's, or to a claim for a phone or email that is not a customer yet. The transfer, the
//! sender's daily total and the ledger transaction are one D1 transaction: the balance and the
//! daily limit are decided there, so concurrent transfers cannot overdraw or pass the limit.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::idempotency::{self, Ended};
use crate::store::ledger::Posting;
use crate::store::transfers::{Sent, TransferRow};
use crate::{clock, random, store};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::ledger::Operation;
use till_core::reconciliation::date_of;
use till_core::transfer::{
    CreateTransfer, Recipient, Source, TransferLimits, TransferStatus, CLAIM_SECONDS,
};
use worker::{Env, Request};

/// Used when neither the merchant nor the deployment (`TRANSFER_LIMITS`) sets limits.
const DEFAULT_LIMITS: TransferLimits = TransferLimits {
    per_transfer: 100_000,
    per_day: 500_000,
};

async fn limits(env: &Env, merchant_id: &str) -> Result<TransferLimits, ApiError> {
    let merchant = store::merchants::transfer_limits(env, merchant_id).await?;
    let deployment = env.var("TRANSFER_LIMITS").ok().map(|v| v.to_string());
    Ok(merchant
        .or(deployment)
        .as_deref()
        .and_then(TransferLimits::parse)
        .unwrap_or(DEFAULT_LIMITS))
}

fn claim_seconds(env: &Env) -> i64 {
    env.var("TRANSFER_CLAIM_SECONDS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .filter(|seconds: &i64| *seconds > 0)
        .unwrap_or(CLAIM_SECONDS)
}

fn stored(row: &TransferRow) -> Result<Ended, ApiError> {
    let body = serde_json::to_string(&row.view()).map_err(|_| ApiError::internal())?;
    Ok(Ended::Stored { status: 200, body })
}

/// Who receives: a customer (id, or found by phone or email), or a claim for the contact.
enum Receiver {
    Customer(String),
    Claim { contact_hash: String },
}

async fn receiver(
    env: &Env,
    merchant_id: &str,
    sender: &str,
    recipient: &Recipient,
) -> Result<Receiver, ApiError> {
    let found = match (recipient, recipient.contact_hash()) {
        (Recipient::Customer(id), _) => store::customers::find(env, merchant_id, id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::RecipientUnknown).with_param("to"))?,
        (_, Some(hash)) => {
            match store::customers::by_contact_hash(env, merchant_id, &hash).await? {
                Some(customer) => customer,
                None => return Ok(Receiver::Claim { contact_hash: hash }),
            }
        }
        (_, None) => return Err(ApiError::new(ErrorCode::RecipientInvalid).with_param("to")),
    };
    if found.id == sender {
        return Err(ApiError::new(ErrorCode::TransferToSelf).with_param("to"));
    }
    Ok(Receiver::Customer(found.id))
}

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "transfers.create", &body)?;
    let request: CreateTransfer = parse(body)?;
    let transfer = request.validate()?;
    let merchant_id = caller.merchant_id.as_str();

    idempotency::once(env, &scope, || async {
        // The idempotency record may be gone: the row still knows which request made it.
        match store::transfers::by_idempotency_key(env, merchant_id, &scope.key).await? {
            Some(found) if found.request_fingerprint != scope.fingerprint => {
                return Ok(Ended::Retryable(idempotency::key_reused()))
            }
            Some(found) => return stored(&found),
            None => {}
        }
        if store::customers::find(env, merchant_id, &transfer.sender)
            .await?
            .is_none()
        {
            return Ok(Ended::Retryable(
                ApiError::not_found("customer").with_param("from_customer"),
            ));
        }
        if let Source::PaymentMethod(_) = transfer.source {
            // No saved payment method belongs to the sender (saved cards are not stored yet).
            return Ok(Ended::Retryable(
                ApiError::not_found("payment method").with_param("source"),
            ));
        }
        let limits = limits(env, merchant_id).await?;
        if let Err(error) = limits.check(transfer.money.amount) {
            return Ok(Ended::Retryable(error));
        }
        let receiver = match receiver(env, merchant_id, &transfer.sender, &transfer.recipient).await
        {
            Ok(receiver) => receiver,
            Err(error) => return Ok(Ended::Retryable(error)),
        };
        let now = clock::now_seconds();
        let (receiver_id, recipient_hash, status, claim_expires_at) = match receiver {
            Receiver::Customer(id) => (Some(id), None, TransferStatus::Succeeded, None),
            Receiver::Claim { contact_hash } => (
                None,
                Some(contact_hash),
                TransferStatus::AwaitingClaim,
                Some(now + claim_seconds(env)),
            ),
        };
        let row = TransferRow {
            id: random::id(IdKind::Transfer)?,
            merchant_id: merchant_id.to_string(),
            idempotency_key: scope.key.clone(),
            request_fingerprint: scope.fingerprint.clone(),
            sender_id: transfer.sender.clone(),
            receiver_id,
            recipient_kind: transfer.recipient.kind().to_string(),
            recipient_hash,
            amount: transfer.money.amount,
            currency: transfer.money.currency,
            source: transfer.source.as_str().to_string(),
            note: transfer.note.clone(),
            status,
            claim_expires_at,
            created: now,
        };
        let operation = match &row.receiver_id {
            Some(receiver) => Operation::Transfer {
                sender: &row.sender_id,
                receiver,
            },
            None => Operation::HoldForClaim {
                sender: &row.sender_id,
                claim: &row.id,
            },
        };
        let posting = Posting::new(
            merchant_id,
            operation,
            &row.id,
            row.currency,
            row.amount,
            now,
        )?;
        let kind = match row.status {
            TransferStatus::AwaitingClaim => "transfer.awaiting_claim",
            _ => "transfer.succeeded",
        };
        let event = crate::merchant_webhooks::new_event(merchant_id, kind, &row.view())?;
        let day = date_of(now);
        let endpoints = match store::transfers::send(
            env,
            &row,
            &posting,
            &event,
            &day,
            limits.per_day,
        )
        .await?
        {
            Sent::Done { endpoints } => endpoints,
            Sent::Overdrawn => {
                return Ok(Ended::Retryable(
                    ApiError::new(ErrorCode::BalanceInsufficient).with_param("amount"),
                ))
            }
            Sent::OverDailyLimit => return Ok(Ended::Retryable(limits.daily_exceeded())),
        };
        worker::console_log!("transfer {} {}", row.id, row.status.as_str());
        crate::merchant_webhooks::deliver(env, &event, endpoints).await;
        stored(&row)
    })
    .await
}

/// `GET /v1/transfers/:id`.
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("transfer");
    if !ids::is_valid(IdKind::Transfer, id) {
        return Err(missing());
    }
    let transfer = store::transfers::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    json(200, &transfer.view())
}
