//! The payments core: the moves of a payment that every entry point shares. The API handlers,
//! gateway webhooks, the poller and reconciliation all apply gateway answers, recover lost ones
//! and settle refunds through here, never through each other.

pub mod bank_redirect;
pub mod conversion;
pub mod refunds;
pub mod saved_cards;
pub mod wallet_checkout;

use crate::clock;
use crate::connectors::{GatewayPayment, PaymentLookup};
use crate::gateways;
use crate::store::ledger::Posting;
use crate::store::payments::{PaymentRow, Updated};
use crate::store::sessions::SessionRow;
use crate::store::webhooks::{EndpointRow, EventRow};
use crate::store::{self, sessions::SessionOutcome};
use till_core::api::{BankSummary, NextAction, Payment, Purpose, SessionStatus};
use till_core::card::CardSummary;
use till_core::error::{ApiError, ErrorCode};
use till_core::ledger::{Operation, Payee};
use till_core::money::Money;
use till_core::payment::{DeclineCode, GatewayState, PaymentStatus};
use till_core::payment_method_type::PaymentMethodType;
use till_core::risk::{ReviewStatus, RiskAssessment};
use till_core::risk_rules::Action;
use worker::Env;

pub fn corrupt(row: &PaymentRow, what: &str) -> ApiError {
    crate::log_error!("payment {}: stored {what} is invalid", row.id);
    ApiError::internal()
}

pub fn view(row: &PaymentRow) -> Result<Payment, ApiError> {
    let status = row.status;
    Ok(Payment {
        id: row.id.clone(),
        object: "payment".into(),
        amount: row.amount,
        currency: row.currency,
        status,
        capture_method: row.capture_method,
        amount_captured: row.amount_captured,
        amount_refunded: row.amount_refunded,
        requires_review: row.requires_review != 0,
        next_action: next_action(row),
        checkout_session: row.checkout_session_id.clone(),
        customer: row.customer_id.clone(),
        purpose: row.purpose,
        payment_method: row.payment_method_id.clone(),
        customer_action: None,
        payment_method_type: row.method,
        wallet_amount: row.wallet_amount,
        card: card_of(row)?,
        bank: match (&row.bank, &row.bank_name) {
            (Some(id), Some(name)) => Some(BankSummary {
                id: id.clone(),
                name: name.clone(),
            }),
            _ => None,
        },
        failure_code: row.failure_code,
        failure_message: row.failure_message.clone(),
        risk: row
            .risk
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| corrupt(row, "risk"))?,
        review: row
            .review_status
            .as_deref()
            .map(|s| ReviewStatus::parse(s).ok_or_else(|| corrupt(row, "review_status")))
            .transpose()?,
        conversion: conversion::of(row)?,
        settlement_refunded: row.conversion.as_ref().map(|_| row.settlement_refunded),
        created: row.created,
    })
}

/// What the customer must do next: a code for the card's issuer, or approve at their bank.
fn next_action(row: &PaymentRow) -> Option<NextAction> {
    if row.status != PaymentStatus::RequiresAction {
        return None;
    }
    match (row.method, &row.redirect_url) {
        (PaymentMethodType::BankRedirect, Some(url)) => {
            Some(NextAction::RedirectToUrl { url: url.clone() })
        }
        (PaymentMethodType::BankRedirect, None) | (PaymentMethodType::Wallet, _) => None,
        (PaymentMethodType::Card, _) => Some(NextAction::OtpChallenge {
            attempts_remaining: row
                .challenge_attempts_remaining
                .and_then(|n| u8::try_from(n).ok())
                .unwrap_or(0),
        }),
    }
}

/// The card a card payment was made with (a bank or wallet payment has none).
fn card_of(row: &PaymentRow) -> Result<Option<CardSummary>, ApiError> {
    if row.method != PaymentMethodType::Card {
        return Ok(None);
    }
    let (Some(brand), Some(last4), Some(month), Some(year)) = (
        row.card_brand,
        &row.card_last4,
        row.card_exp_month,
        row.card_exp_year,
    ) else {
        return Err(corrupt(row, "card"));
    };
    Ok(Some(CardSummary {
        brand,
        last4: last4.clone(),
        fingerprint: row.card_fingerprint.clone(),
        exp_month: u8::try_from(month).map_err(|_| corrupt(row, "exp_month"))?,
        exp_year: u16::try_from(year).map_err(|_| corrupt(row, "exp_year"))?,
    }))
}

/// Who reads a payment: the merchant's server sees the card fingerprint, the browser does not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Server,
    Browser,
}

/// The payment as `audience` may see it.
pub fn view_for(row: &PaymentRow, audience: Audience) -> Result<Payment, ApiError> {
    let mut payment = view(row)?;
    if audience == Audience::Browser {
        if let Some(card) = &mut payment.card {
            card.fingerprint = None;
        }
        // The customer never learns which rules looked at them.
        payment.risk = None;
        payment.review = None;
    }
    Ok(payment)
}

/// Whether two versions of a payment say the same about it (what `apply` may change).
fn same_state(a: &PaymentRow, b: &PaymentRow) -> bool {
    a.status == b.status
        && a.gateway_reference == b.gateway_reference
        && a.challenge_attempts_remaining == b.challenge_attempts_remaining
        && a.amount_captured == b.amount_captured
        && a.failure_code == b.failure_code
        && a.redirect_url == b.redirect_url
}

/// Moves the payment to what the gateway says, through the state machine, and settles its
/// session; then starts what the change tells the merchant. A repeat of an answer already
/// applied changes nothing.
pub async fn apply(
    env: &Env,
    payment: &mut PaymentRow,
    answer: GatewayPayment,
) -> Result<(), ApiError> {
    record_answer(env, payment, answer).await?.run(env).await;
    Ok(())
}

/// What a stored change of a payment starts: its event's deliveries and receipt, and the
/// session's `locked` event. A caller that answers a customer may run it after the response:
/// the change and its event are already stored, the cron starts receipts left unstarted.
#[derive(Default)]
pub struct FollowUp {
    delivery: Option<(EventRow, Vec<EndpointRow>)>,
    /// The event's receipt was recorded with the change (no one to send it to).
    receipt_settled: bool,
    /// The merchant and the checkout session that many failures locked.
    locked: Option<(String, String)>,
}

impl FollowUp {
    pub async fn run(self, env: &Env) {
        match self.delivery {
            Some((event, endpoints)) if self.receipt_settled => {
                crate::merchant_webhooks::deliver_webhooks(env, &event, endpoints).await
            }
            Some((event, endpoints)) => {
                crate::merchant_webhooks::deliver(env, &event, endpoints).await
            }
            None => {}
        }
        if let Some((merchant_id, session_id)) = self.locked {
            crate::log_warn!("checkout session {session_id} locked after repeated failed payments");
            let session = serde_json::json!({
                "id": session_id,
                "object": "checkout_session",
                "status": "locked",
                "failed_attempts": till_core::api::MAX_FAILED_PAYMENTS_PER_SESSION,
            });
            crate::merchant_webhooks::emit(env, &merchant_id, "checkout_session.locked", &session)
                .await;
        }
    }
}

/// [`apply`] without its follow-up, which the caller runs.
pub async fn record_answer(
    env: &Env,
    payment: &mut PaymentRow,
    answer: GatewayPayment,
) -> Result<FollowUp, ApiError> {
    let answer = if saved_cards::without_its_holder(payment) {
        saved_cards::as_taken(answer)
    } else {
        answer
    };
    let from = payment.status;
    let next = answer.state.status();
    if from != next {
        from.settle_to(next).map_err(|e| {
            crate::log_error!("payment {}: gateway answer refused: {e}", payment.id);
            ApiError::payment_invalid_state(from, next.as_str())
        })?;
    }
    if let GatewayState::RequiresAction { attempts_remaining } = answer.state {
        // A challenge's attempts only go down: more than Till holds is an older event.
        let held = payment
            .challenge_attempts_remaining
            .filter(|_| from == next);
        if held.is_some_and(|held| i64::from(attempts_remaining) > held) {
            return Err(ApiError::payment_invalid_state(from, "given attempts back"));
        }
    }
    let unchanged = payment.clone();
    payment.status = next;
    if !answer.reference.is_empty() {
        payment.gateway_reference = Some(answer.reference);
    }
    payment.challenge_attempts_remaining = None;
    if answer.state != GatewayState::AwaitingCustomer {
        payment.redirect_url = None;
    }
    match answer.state {
        GatewayState::RequiresAction { attempts_remaining } => {
            payment.challenge_attempts_remaining = Some(i64::from(attempts_remaining));
        }
        // The wallet's part was held from the start: it is captured with the card's.
        GatewayState::Captured { amount } => {
            payment.amount_captured = amount.saturating_add(payment.wallet_amount)
        }
        GatewayState::Declined { code } => {
            let message = match payment.method {
                PaymentMethodType::BankRedirect => code.bank_message(),
                PaymentMethodType::Card | PaymentMethodType::Wallet => code.message(),
            };
            payment.failure_message = Some(message.to_string());
            payment.failure_code = Some(code);
        }
        GatewayState::Authorized
        | GatewayState::Voided
        | GatewayState::AwaitingCustomer
        | GatewayState::Pending => {}
    }
    // A repeat (a retry's answer, the gateway's echo of what Till already applied) writes
    // nothing.
    if same_state(&unchanged, payment) {
        return Ok(FollowUp::default());
    }
    payment.updated = clock::now_seconds();
    let outcome = match next {
        PaymentStatus::Succeeded | PaymentStatus::RequiresCapture => SessionOutcome::Paid,
        PaymentStatus::Failed => SessionOutcome::Failed,
        PaymentStatus::Canceled => SessionOutcome::Reopen,
        _ => SessionOutcome::Keep,
    };
    let kind = match next {
        // Held by a review rule: the authorization is what the merchant now decides on.
        PaymentStatus::RequiresCapture if payment.review_status.as_deref() == Some("open") => {
            Some("review.opened")
        }
        PaymentStatus::Succeeded => Some("payment.succeeded"),
        PaymentStatus::Failed => Some("payment.failed"),
        PaymentStatus::RequiresAction => Some("payment.requires_action"),
        _ => None,
    };
    let event = match kind.filter(|_| from != next) {
        Some(kind) => Some(crate::merchant_webhooks::new_event(
            &payment.merchant_id,
            kind,
            &view(payment)?,
        )?),
        None => None,
    };
    let posting = posting(payment)?;
    // A success's receipt is settled in the same batch when there is no one to send it to.
    let receipt_id = match &event {
        Some(event) if event.kind == "payment.succeeded" => {
            Some(crate::random::id(till_core::ids::IdKind::Receipt)?)
        }
        _ => None,
    };
    let written = store::payments::update(
        env,
        payment,
        from,
        outcome,
        event.as_ref(),
        posting.as_ref(),
        receipt_id.as_deref(),
    )
    .await?;
    let (locked, endpoints, receipt_settled) = match written {
        Updated::Written {
            locked,
            endpoints,
            receipt_settled,
        } => (locked, endpoints, receipt_settled),
        Updated::Lost => {
            // Another request (a retry, a webhook) moved it first: report what is stored now.
            if let Some(current) =
                store::payments::find(env, &payment.merchant_id, &payment.id).await?
            {
                *payment = current;
            }
            return Ok(FollowUp::default());
        }
    };
    worker::console_log!(
        "payment {} {} -> {}",
        payment.id,
        from.as_str(),
        next.as_str()
    );
    Ok(FollowUp {
        delivery: event.map(|event| (event, endpoints)),
        receipt_settled,
        locked: locked.then(|| {
            (
                payment.merchant_id.clone(),
                payment.checkout_session_id.clone(),
            )
        }),
    })
}

/// A session a new payment may start in: open (a locked one says so).
pub fn check_open(session: &SessionRow) -> Result<(), ApiError> {
    match session.status {
        SessionStatus::Open => Ok(()),
        SessionStatus::Locked => Err(ApiError::new(ErrorCode::CheckoutSessionLocked)),
        _ => Err(ApiError::new(ErrorCode::CheckoutSessionUnavailable)),
    }
}

/// What identifies a new payment: the client's idempotency key, the fingerprint of the request
/// that made it, and the key the gateway (or the bank) knows it by.
pub struct NewPaymentKeys {
    pub idempotency_key: String,
    pub request_fingerprint: String,
    pub gateway_key: String,
}

impl NewPaymentKeys {
    /// The keys of a payment a customer's confirm makes in `scope`.
    pub fn of(scope: &crate::idempotency::Scope) -> NewPaymentKeys {
        NewPaymentKeys {
            idempotency_key: scope.key.clone(),
            request_fingerprint: scope.fingerprint.clone(),
            gateway_key: scope.gateway_key(),
        }
    }
}

/// A new payment of `session`, `processing` as the state machine reaches it, before anything is
/// sent: nothing captured, started by the customer, and neither card nor bank yet (the caller
/// says what pays it).
pub fn started(
    session: &SessionRow,
    keys: NewPaymentKeys,
    now: i64,
) -> Result<PaymentRow, ApiError> {
    let status = PaymentStatus::RequiresPaymentMethod
        .move_to(PaymentStatus::RequiresConfirmation)
        .and_then(|s| s.move_to(PaymentStatus::Processing))
        .map_err(|_| ApiError::internal())?;
    Ok(PaymentRow {
        id: crate::random::id(till_core::ids::IdKind::Payment)?,
        merchant_id: session.merchant_id.clone(),
        checkout_session_id: session.id.clone(),
        idempotency_key: keys.idempotency_key,
        request_fingerprint: keys.request_fingerprint,
        amount: session.amount,
        currency: session.currency,
        capture_method: session.capture_method,
        status,
        amount_captured: 0,
        captured_at: None,
        amount_refunded: 0,
        challenge_attempts_remaining: None,
        gateway_idempotency_key: keys.gateway_key,
        gateway_account_id: None,
        token: None,
        customer_id: session.customer_id.clone(),
        purpose: session.purpose,
        payment_method_id: None,
        initiator: crate::connectors::Initiator::Customer,
        payee_customer_id: None,
        payee_claim: None,
        poll_attempts: 0,
        requires_review: 0,
        method: PaymentMethodType::Card,
        card_brand: None,
        card_last4: None,
        card_fingerprint: None,
        card_exp_month: None,
        card_exp_year: None,
        bank: None,
        bank_name: None,
        redirect_url: None,
        wallet_amount: 0,
        country: None,
        gateway_reference: None,
        failure_code: None,
        failure_message: None,
        risk: None,
        screening: None,
        review_status: None,
        conversion: session.conversion.clone(),
        settlement_refunded: 0,
        fx_margin_refunded: 0,
        created: now,
        updated: now,
    })
}

/// `payment` paid with `card` (its vault token, or a saved card's id), screened as `screening`
/// says.
pub fn by_card(
    payment: PaymentRow,
    card: &crate::vault::VaultedCard,
    token: &str,
    screening: &crate::risk::Screening,
) -> PaymentRow {
    PaymentRow {
        method: PaymentMethodType::Card,
        token: Some(token.to_string()),
        card_brand: Some(card.brand),
        card_last4: Some(card.last4.clone()),
        card_fingerprint: Some(card.fingerprint.clone()),
        card_exp_month: Some(i64::from(card.exp_month)),
        card_exp_year: Some(i64::from(card.exp_year)),
        risk: screening.risk_json(),
        screening: screening.record_json(),
        review_status: (screening.action == Action::Review).then(|| "open".to_string()),
        ..payment
    }
}

/// Whom the payment pays: the merchant, the customer's wallet for a top-up, and for a transfer
/// paid by card the receiver's wallet or, when the receiver is not a customer yet, the
/// transfer's claim.
pub fn payee(payment: &PaymentRow) -> Payee<'_> {
    match (payment.purpose, payment.customer_id.as_deref()) {
        (Purpose::WalletTopUp, Some(customer)) => Payee::Wallet(customer),
        (Purpose::Transfer, _) => match (
            payment.payee_customer_id.as_deref(),
            payment.payee_claim.as_deref(),
        ) {
            (Some(receiver), _) => Payee::Wallet(receiver),
            (None, Some(transfer)) => Payee::Claim(transfer),
            (None, None) => Payee::Merchant(&payment.merchant_id),
        },
        _ => Payee::Merchant(&payment.merchant_id),
    }
}

/// What a payment's new state writes to the ledger, in the same transaction as the payment:
/// when it succeeds, its money to whoever it paid (a wallet's held part and the card's part to
/// the merchant together); when it fails or is canceled, a wallet part held for it back to the
/// wallet.
fn posting(payment: &PaymentRow) -> Result<Option<Posting<'_>>, ApiError> {
    let wallet_part = payment.wallet_amount;
    let posting = match payment.status {
        PaymentStatus::Succeeded if wallet_part > 0 => Posting::new(
            &payment.merchant_id,
            Operation::WalletPayment {
                payment: &payment.id,
                merchant: &payment.merchant_id,
                card: payment.amount_captured - wallet_part,
            },
            &payment.id,
            payment.currency,
            wallet_part,
            payment.updated,
        )?,
        PaymentStatus::Succeeded if payment.amount_captured > 0 => Posting::of_card_money(
            &payment.merchant_id,
            success_operation(payment),
            &payment.id,
            Money {
                amount: payment.amount_captured,
                currency: payment.currency,
            },
            conversion::captured_legs(payment)?.as_ref(),
            payment.updated,
        )?,
        PaymentStatus::Failed | PaymentStatus::Canceled if wallet_part > 0 => {
            let customer = payment
                .customer_id
                .as_deref()
                .ok_or_else(|| corrupt(payment, "customer"))?;
            Posting::new(
                &payment.merchant_id,
                Operation::WalletHoldReleased {
                    payment: &payment.id,
                    customer,
                },
                &payment.id,
                payment.currency,
                wallet_part,
                payment.updated,
            )?
        }
        _ => return Ok(None),
    };
    Ok(Some(posting))
}

/// The wallet's part of a new payment set aside for it, written with the payment: `None` when
/// the wallet pays nothing.
pub fn wallet_hold(payment: &PaymentRow) -> Result<Option<Posting<'_>>, ApiError> {
    if payment.wallet_amount == 0 {
        return Ok(None);
    }
    let customer = payment
        .customer_id
        .as_deref()
        .ok_or_else(|| corrupt(payment, "customer"))?;
    let hold = Operation::WalletHold {
        customer,
        payment: &payment.id,
    };
    Posting::new(
        &payment.merchant_id,
        hold,
        &payment.id,
        payment.currency,
        payment.wallet_amount,
        payment.created,
    )
    .map(Some)
}

/// What a payment's success writes to the ledger: the card's (or the bank's) money to whoever
/// it paid.
fn success_operation(payment: &PaymentRow) -> Operation<'_> {
    match (payment.method, payment.purpose, payee(payment)) {
        (PaymentMethodType::BankRedirect, _, payee) => Operation::BankPayment { payee },
        (_, Purpose::Transfer, Payee::Wallet(receiver)) => Operation::TransferFromCard { receiver },
        (_, _, payee) => Operation::CardPayment { payee },
    }
}

/// What the risk rules decided for the payment when it was recorded (`allow` for payments
/// recorded before Till screened).
pub fn risk_action(payment: &PaymentRow) -> Action {
    payment
        .risk
        .as_deref()
        .and_then(|risk| serde_json::from_str::<RiskAssessment>(risk).ok())
        .and_then(|risk| Action::parse(&risk.level))
        .unwrap_or(Action::Allow)
}

/// Fails a payment the risk rules blocked: it never reaches the gateway, and it counts as a
/// decline in every velocity history it was recorded in.
pub async fn block(env: &Env, payment: &mut PaymentRow) -> Result<(), ApiError> {
    let refusal = GatewayPayment {
        card_reference: None,
        reference: String::new(),
        state: GatewayState::Declined {
            code: DeclineCode::BlockedByRisk,
        },
    };
    apply(env, payment, refusal).await?;
    crate::risk::count_decline(
        env,
        &payment.merchant_id,
        payment.screening.as_deref(),
        &payment.gateway_idempotency_key,
    )
    .await;
    Ok(())
}

/// The answer to a payment the risk rules blocked: a 402 that names no rule.
pub fn blocked_answer() -> Result<crate::idempotency::Ended, ApiError> {
    let body = serde_json::to_string(&ApiError::new(till_core::error::ErrorCode::BlockedByRisk))
        .map_err(|_| ApiError::internal())?;
    Ok(crate::idempotency::Ended::Stored { status: 402, body })
}

/// Once the gateway has answered, the card's vault records (the CVC above all) are deleted.
pub async fn forget_card(env: &Env, payment: &PaymentRow) -> Result<(), ApiError> {
    match &payment.token {
        Some(token) => crate::vault::Vault::open(env)?.forget(token).await,
        None => Ok(()),
    }
}

/// A gateway refusal means the call had no effect: the payment fails with a processing error.
pub fn refused(code: &str) -> GatewayPayment {
    crate::log_error!("gateway refused a request: {code}");
    GatewayPayment {
        card_reference: None,
        reference: String::new(),
        state: GatewayState::Declined {
            code: DeclineCode::ProcessingError,
        },
    }
}

/// What asking the gateway about a lost answer came to.
pub enum Recovered {
    /// The gateway's answer is applied (the card is forgotten).
    Applied,
    /// The gateway has no such authorization.
    Unknown,
    /// The gateway did not answer.
    Unanswered(String),
}

/// Asks the payment's gateway what became of an authorization whose answer was lost, and
/// applies it. Used by the poller and reconciliation (confirm's retry does the same, and
/// authorizes when the gateway has nothing).
pub async fn recover(env: &Env, payment: &mut PaymentRow) -> Result<Recovered, ApiError> {
    match payment.method {
        PaymentMethodType::BankRedirect => return bank_redirect::recover(env, payment).await,
        PaymentMethodType::Wallet => {
            apply(env, payment, wallet_checkout::paid_from_wallet()).await?;
            return Ok(Recovered::Applied);
        }
        PaymentMethodType::Card => {}
    }
    let gateway = gateways::for_payment(env, payment).await?;
    let lookup = PaymentLookup {
        payment_id: &payment.id,
        gateway_key: &payment.gateway_idempotency_key,
        gateway_reference: payment.gateway_reference.as_deref(),
    };
    match gateway.connector.find(&lookup).await {
        Ok(Some(answer)) => {
            apply(env, payment, answer).await?;
            forget_card(env, payment).await?;
            Ok(Recovered::Applied)
        }
        Ok(None) => Ok(Recovered::Unknown),
        Err(error) => Ok(Recovered::Unanswered(error.to_string())),
    }
}
