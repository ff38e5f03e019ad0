//! `POST /v1/transfers` (secret key, `Idempotency-Key`): money from one customer's wallet to
//! another's, or to a claim for a phone or email that is not a customer yet. The transfer, the
//! sender's daily total and the ledger transaction are one D1 transaction: the balance and the
//! daily limit are decided there, so concurrent transfers cannot overdraw or pass the limit.

use crate::auth::Caller;
use crate::connectors::Initiator;
use crate::http::{body_value, json, parse, ApiResult};
use crate::idempotency::{self, Ended, Scope};
use crate::payments::saved_cards::{self, Charge, Charged, Charging, Context};
use crate::store::charge_reads::Earlier;
use crate::store::ledger::Posting;
use crate::store::transfers::{Sent, TransferRow};
use crate::{clock, random, store};
use till_core::api::{CaptureMethod, Purpose};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::ledger::Operation;
use till_core::reconciliation::date_of;
use till_core::transfer::{
    CreateTransfer, Recipient, Source, TransferLimits, TransferRequest, TransferStatus,
    CLAIM_SECONDS,
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
    idempotency::once(env, &scope, || {
        send(env, &caller.merchant_id, &transfer, &scope)
    })
    .await
}

/// Makes a transfer once per idempotency key (the merchant's API and the wallet page both).
pub async fn send(
    env: &Env,
    merchant_id: &str,
    transfer: &TransferRequest,
    scope: &Scope,
) -> Result<Ended, ApiError> {
    // The idempotency record may be gone: the row still knows which request made it.
    match store::transfers::by_idempotency_key(env, merchant_id, &scope.key).await? {
        Some(found) if found.request_fingerprint != scope.fingerprint => {
            return Ok(Ended::Retryable(idempotency::key_reused()))
        }
        // A card's charge an earlier attempt did not see to its end.
        Some(found) if found.status == TransferStatus::Pending => {
            return charge_card(env, found, transfer, scope).await
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
    let limits = limits(env, merchant_id).await?;
    if let Err(error) = limits.check(transfer.money.amount) {
        return Ok(Ended::Retryable(error));
    }
    let receiver = match receiver(env, merchant_id, &transfer.sender, &transfer.recipient).await {
        Ok(receiver) => receiver,
        Err(error) => return Ok(Ended::Retryable(error)),
    };
    let now = clock::now_seconds();
    let mut row = TransferRow {
        id: random::id(IdKind::Transfer)?,
        merchant_id: merchant_id.to_string(),
        idempotency_key: scope.key.clone(),
        request_fingerprint: scope.fingerprint.clone(),
        sender_id: transfer.sender.clone(),
        receiver_id: None,
        recipient_kind: transfer.recipient.kind().to_string(),
        recipient_hash: None,
        amount: transfer.money.amount,
        currency: transfer.money.currency,
        source: transfer.source.as_str().to_string(),
        note: transfer.note.clone(),
        status: TransferStatus::Succeeded,
        claim_expires_at: None,
        payment_id: None,
        created: now,
    };
    match (&transfer.source, receiver) {
        (Source::Wallet, Receiver::Customer(id)) => row.receiver_id = Some(id),
        (Source::Wallet, Receiver::Claim { contact_hash }) => {
            row.recipient_hash = Some(contact_hash);
            row.status = TransferStatus::AwaitingClaim;
            row.claim_expires_at = Some(now + claim_seconds(env));
        }
        (Source::PaymentMethod(method), Receiver::Customer(id)) => {
            let usable =
                store::payment_methods::usable(env, merchant_id, &transfer.sender, method).await?;
            if usable.is_none() {
                return Ok(Ended::Retryable(no_such_card()));
            }
            row.receiver_id = Some(id);
            row.status = TransferStatus::Pending;
            row.payment_id = Some(random::id(IdKind::Payment)?);
        }
        // The card is charged now; the money waits in the claim, as from a wallet.
        (Source::PaymentMethod(method), Receiver::Claim { contact_hash }) => {
            let usable =
                store::payment_methods::usable(env, merchant_id, &transfer.sender, method).await?;
            if usable.is_none() {
                return Ok(Ended::Retryable(no_such_card()));
            }
            row.recipient_hash = Some(contact_hash);
            row.claim_expires_at = Some(now + claim_seconds(env));
            row.status = TransferStatus::Pending;
            row.payment_id = Some(random::id(IdKind::Payment)?);
        }
    }
    // From a wallet the money moves now; from a card, when the card is charged.
    let operation = match (&row.receiver_id, row.status) {
        (_, TransferStatus::Pending) => None,
        (Some(receiver), _) => Some(Operation::Transfer {
            sender: &row.sender_id,
            receiver,
        }),
        (None, _) => Some(Operation::HoldForClaim {
            sender: &row.sender_id,
            claim: &row.id,
        }),
    };
    let posting = operation
        .map(|operation| {
            Posting::new(
                merchant_id,
                operation,
                &row.id,
                row.currency,
                row.amount,
                now,
            )
        })
        .transpose()?;
    let kind = match row.status {
        TransferStatus::AwaitingClaim => "transfer.awaiting_claim",
        _ => "transfer.succeeded",
    };
    let event = match posting {
        Some(_) => Some(crate::merchant_webhooks::new_event(
            merchant_id,
            kind,
            &row.view(),
        )?),
        None => None,
    };
    let day = date_of(now);
    let sent = store::transfers::send(
        env,
        &row,
        posting.as_ref(),
        event.as_ref(),
        &day,
        limits.per_day,
    )
    .await?;
    let endpoints = match sent {
        Sent::Done { endpoints } => endpoints,
        Sent::Overdrawn => {
            return Ok(Ended::Retryable(
                ApiError::new(ErrorCode::BalanceInsufficient).with_param("amount"),
            ))
        }
        Sent::OverDailyLimit => return Ok(Ended::Retryable(limits.daily_exceeded())),
    };
    worker::console_log!("transfer {} {}", row.id, row.status.as_str());
    if let Some(event) = &event {
        crate::merchant_webhooks::deliver(env, event, endpoints).await;
    }
    if row.status == TransferStatus::Pending {
        return charge_card(env, row, transfer, scope).await;
    }
    stored(&row)
}

fn no_such_card() -> ApiError {
    ApiError::not_found("payment method").with_param("source")
}

/// Charges the sender's saved card for a `pending` transfer (recorded first, with the payment
/// id it will have). The payment's success writes the money into the receiver's wallet and
/// settles the transfer in one batch; a decline fails it. A retry resumes here: the gateway is
/// asked before it is charged again.
async fn charge_card(
    env: &Env,
    mut row: TransferRow,
    transfer: &TransferRequest,
    scope: &Scope,
) -> Result<Ended, ApiError> {
    let (Source::PaymentMethod(method), Some(payment_id)) =
        (&transfer.source, row.payment_id.clone())
    else {
        return stored(&row);
    };
    let earlier = Earlier::Id(&payment_id);
    let (reads, card) =
        saved_cards::read(env, &row.merchant_id, &row.sender_id, method, earlier).await?;
    let Some(card) = card else {
        return Ok(Ended::Retryable(no_such_card()));
    };
    let (mut payment, charging) = match reads.earlier {
        Some(payment) if !saved_cards::unfinished(payment.status) => {
            let current = store::transfers::find(env, &row.merchant_id, &row.id).await?;
            return stored(&current.unwrap_or(row));
        }
        Some(payment) => (payment, Charging::Resumed),
        None => {
            let Some(context) = Context::of(reads) else {
                return Ok(Ended::Retryable(no_such_card()));
            };
            let charge = Charge {
                merchant_id: &row.merchant_id,
                customer: &row.sender_id,
                payment_method: method,
                money: transfer.money,
                capture_method: CaptureMethod::Automatic,
                merchant_reference: Some(row.id.clone()),
                purpose: Purpose::Transfer,
                payee: row.receiver_id.clone(),
                // A receiver who is not a customer yet gets the transfer's claim.
                payee_claim: row.receiver_id.is_none().then(|| row.id.clone()),
                initiator: Initiator::Customer,
                // Payments' keys are unique per merchant across endpoints.
                idempotency_key: format!("transfer:{}", scope.key),
                fingerprint: scope.fingerprint.clone(),
                gateway_key: scope.gateway_key(),
            };
            let recorded = saved_cards::start(env, &charge, payment_id, &card, context).await?;
            (recorded.payment, Charging::Started(recorded.route))
        }
    };
    if let Charged::Unanswered = saved_cards::charge(env, &mut payment, card, charging).await? {
        // The transfer stays pending: a retry with the same key finishes it.
        return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
    }
    if let Some(current) = store::transfers::find(env, &row.merchant_id, &row.id).await? {
        row = current;
    }
    if let Some(kind) = match row.status {
        TransferStatus::Succeeded => Some("transfer.succeeded"),
        TransferStatus::AwaitingClaim => Some("transfer.awaiting_claim"),
        TransferStatus::Failed => Some("transfer.failed"),
        _ => None,
    } {
        worker::console_log!("transfer {} {}", row.id, row.status.as_str());
        crate::merchant_webhooks::emit(env, &row.merchant_id, kind, &row.view()).await;
    }
    stored(&row)
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
