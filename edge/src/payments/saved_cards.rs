//! Charging a saved card without the widget: the merchant's off-session charges and transfers
//! paid by card. Each charge gets a checkout session of its own, so its payment is stored,
//! recovered, reconciled and refunded like every other.

use super::{
    apply, block, by_card, recover, refused, risk_action, started, NewPaymentKeys, Recovered,
};
use crate::connectors::{Authorization, GatewayCard, GatewayError, GatewayPayment, Initiator};
use crate::risk::{self, Attempt};
use crate::store::payments::PaymentRow;
use crate::store::sessions::SessionRow;
use crate::vault::VaultedCard;
use crate::{clock, gateways, random, store};
use till_core::api::{CaptureMethod, Purpose, SessionStatus};
use till_core::api_keys::hash_secret;
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::money::Money;
use till_core::payment::{DeclineCode, GatewayState, PaymentStatus};
use till_core::payment_method_type::PaymentMethodType;
use till_core::risk_rules::Action;
use worker::Env;

/// A charge of one of a customer's saved cards.
pub struct Charge<'a> {
    pub merchant_id: &'a str,
    pub customer: &'a str,
    pub payment_method: &'a str,
    pub money: Money,
    pub capture_method: CaptureMethod,
    pub merchant_reference: Option<String>,
    pub purpose: Purpose,
    /// Whose wallet it fills, for a transfer.
    pub payee: Option<String>,
    /// The transfer whose claim it fills, for a transfer to someone not yet a customer.
    pub payee_claim: Option<String>,
    pub initiator: Initiator,
    /// The payment's idempotency identity: its key (unique per merchant), the request's
    /// fingerprint, the key the gateway sees.
    pub idempotency_key: String,
    pub fingerprint: String,
    pub gateway_key: String,
}

/// Records the charge's own checkout session and the `processing` payment, before anything
/// reaches the gateway. The session's client secret is returned once: the customer needs it
/// to pay on the hosted page should their bank ask for them.
pub async fn start(
    env: &Env,
    charge: &Charge<'_>,
    payment_id: String,
    card: &VaultedCard,
) -> Result<(PaymentRow, String), ApiError> {
    let now = clock::now_seconds();
    let session_id = random::id(IdKind::CheckoutSession)?;
    let client_secret = format!("{session_id}_{}", random::id(IdKind::ClientSecret)?);
    let session = SessionRow {
        id: session_id,
        merchant_id: charge.merchant_id.to_string(),
        client_secret_hash: hash_secret(&client_secret),
        amount: charge.money.amount,
        currency: charge.money.currency,
        capture_method: charge.capture_method,
        line_items: "[]".into(),
        return_url: None,
        merchant_reference: charge.merchant_reference.clone(),
        status: SessionStatus::Open,
        payment_id: None,
        customer_id: Some(charge.customer.to_string()),
        purpose: charge.purpose,
        require_cvc: 0,
        receipt_email: None,
        locale: None,
        conversion: None,
        payment_method_types: PaymentMethodType::Card.as_str().into(),
        created: now,
    };
    store::sessions::insert(env, &session).await?;
    let (gateway, rules, customer) = futures_util::future::join3(
        gateways::for_merchant(env, charge.merchant_id),
        risk::rules(env, charge.merchant_id),
        store::customers::find(env, charge.merchant_id, charge.customer),
    )
    .await;
    let (gateway, customer) = (gateway?, customer?);
    // Nobody is at a checkout: no client address, and a rule asking for 3-D Secure holds the
    // charge for review instead.
    let screening = risk::screen(
        env,
        &rules?,
        &Attempt {
            merchant_id: charge.merchant_id,
            key: &charge.gateway_key,
            amount: charge.money,
            card,
            client: None,
            customer: customer.as_ref(),
            email: customer.as_ref().and_then(|c| c.email.as_deref()),
            now,
        },
    )
    .await?;
    let keys = NewPaymentKeys {
        idempotency_key: charge.idempotency_key.clone(),
        request_fingerprint: charge.fingerprint.clone(),
        gateway_key: charge.gateway_key.clone(),
    };
    // Started by the merchant's server: no customer's address to place.
    let payment = PaymentRow {
        id: payment_id,
        gateway_account_id: gateway.account_id.clone(),
        payment_method_id: Some(charge.payment_method.to_string()),
        initiator: charge.initiator,
        payee_customer_id: charge.payee.clone(),
        payee_claim: charge.payee_claim.clone(),
        ..by_card(
            started(&session, keys, now)?,
            card,
            charge.payment_method,
            &screening,
        )
    };
    if !store::payments::insert_claiming_session(env, &payment, None).await? {
        return Err(ApiError::internal());
    }
    Ok((payment, client_secret))
}

/// Where charging got to.
pub enum Charged {
    /// The gateway answered and the payment moved (succeeded, failed, ...).
    Applied,
    /// No answer: the payment stays `processing`; a retry with the same key finds it.
    Unanswered,
}

/// Charges the saved card for a `processing` payment: first asks the gateway whether an earlier
/// attempt already reached it (it never charges twice), then authorizes as a stored credential
/// and applies the answer. Nobody can answer a challenge here, so a gateway asking for one is
/// the bank wanting the customer: `authentication_required`.
pub async fn charge(
    env: &Env,
    payment: &mut PaymentRow,
    card: VaultedCard,
    resumed: bool,
) -> Result<Charged, ApiError> {
    // Since challenges of these charges are taken as declines ([`as_taken`]), only a payment
    // the gateway's event moved to a challenge before that is found there.
    if payment.status == PaymentStatus::RequiresAction {
        holder_wanted(env, payment).await?;
        return Ok(Charged::Applied);
    }
    let action = risk_action(payment);
    if action == Action::Block {
        block(env, payment).await?;
        return Ok(Charged::Applied);
    }
    if resumed {
        match recover(env, payment).await? {
            Recovered::Applied => return Ok(Charged::Applied),
            Recovered::Unanswered(_) => return Ok(Charged::Unanswered),
            Recovered::Unknown => {}
        }
    }
    let gateway = gateways::for_payment(env, payment).await?;
    let card_reference = match &payment.payment_method_id {
        Some(id) => store::payment_methods::find(env, &payment.merchant_id, id)
            .await?
            .and_then(|method| method.reference_at(payment.gateway_account_id.as_deref())),
        None => None,
    };
    let authorization = Authorization {
        amount: payment.amount,
        currency: payment.currency,
        reference: payment.id.clone(),
        // A charge held for review is only authorized: approving it captures.
        capture: payment.capture_method == CaptureMethod::Automatic && action != Action::Review,
        card: GatewayCard {
            number: card.number,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            cvc: None,
            name: card.name,
        },
        initiator: payment.initiator,
        stored_credential: true,
        save_for_reuse: false,
        card_reference,
        authenticate: false,
    };
    let answer = match gateway
        .connector
        .authorize(&authorization, &payment.gateway_idempotency_key)
        .await
    {
        Ok(answer) => answer,
        Err(GatewayError::Unavailable(reason)) => {
            crate::log_warn!("payment {}: gateway unavailable: {reason}", payment.id);
            return Ok(Charged::Unanswered);
        }
        Err(GatewayError::Rejected { code, .. }) => refused(&code),
    };
    // A challenge in the answer is failed as the bank wanting its holder (`record_answer`).
    apply(env, payment, answer).await?;
    Ok(Charged::Applied)
}

/// Whether `payment` charges a saved card without the widget (off-session, a renewal, a
/// transfer): nobody is at a checkout to answer a challenge for it.
pub fn without_its_holder(payment: &PaymentRow) -> bool {
    payment.initiator == Initiator::Merchant || payment.purpose == Purpose::Transfer
}

/// What the gateway said about a charge [`without_its_holder`], as Till takes it: a challenge
/// is the bank wanting the card's holder, a decline (`authentication_required`), whichever
/// reports it first (the answer, the gateway's event, a lookup after a lost answer).
pub fn as_taken(answer: GatewayPayment) -> GatewayPayment {
    match answer.state {
        GatewayState::RequiresAction { .. } => GatewayPayment {
            state: GatewayState::Declined {
                code: DeclineCode::AuthenticationRequired,
            },
            ..answer
        },
        _ => answer,
    }
}

/// Whether a charge of a saved card still has to be finished by [`charge`]: `processing`, or
/// in a challenge nobody can answer here (see [`charge`]).
pub fn unfinished(status: PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Processing | PaymentStatus::RequiresAction
    )
}

/// Fails a payment in `requires_action` as the bank wanting its holder
/// (`authentication_required`): a charge of a saved card has no one to answer a challenge.
async fn holder_wanted(env: &Env, payment: &mut PaymentRow) -> Result<(), ApiError> {
    let declined = GatewayPayment {
        card_reference: None,
        // Empty: the payment keeps the reference it has.
        reference: String::new(),
        state: GatewayState::Declined {
            code: DeclineCode::AuthenticationRequired,
        },
    };
    apply(env, payment, declined).await
}
