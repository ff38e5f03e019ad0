//! Charging a saved card without the widget: the merchant's off-session charges and transfers
//! paid by card. Each charge gets a checkout session of its own, so its payment is stored,
//! recovered, reconciled and refunded like every other.

use super::{
    apply, block, by_card, recover, refused, risk_action, started, NewPaymentKeys, Recovered,
};
use crate::connectors::{Authorization, GatewayCard, GatewayError, GatewayPayment, Initiator};
use crate::gateways::Gateway;
use crate::risk::{self, Attempt};
use crate::store::charge_reads::{self, ChargeReads, Earlier};
use crate::store::customers::CustomerRow;
use crate::store::gateway_accounts::GatewayAccountRow;
use crate::store::payment_methods::PaymentMethodRow;
use crate::store::payments::PaymentRow;
use crate::store::sessions::SessionRow;
use crate::vault::{Vault, VaultedCard};
use crate::{clock, gateways, random, server_timing, store};
use till_core::api::{CaptureMethod, Purpose, SessionStatus};
use till_core::api_keys::hash_secret;
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::money::Money;
use till_core::payment::{DeclineCode, GatewayState, PaymentStatus};
use till_core::payment_method_type::PaymentMethodType;
use till_core::risk::StoredRule;
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

/// What a charge reads before it may start, at once: the D1 batch (`store::charge_reads`) and
/// the vaulted card. The card is read before its owner is known, to save a round trip; a caller
/// uses it only once the batch shows it the customer's (or the payment it made).
pub async fn read(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
    payment_method: &str,
    earlier: Earlier<'_>,
) -> Result<(ChargeReads, Option<VaultedCard>), ApiError> {
    let vault = Vault::open(env)?;
    let (reads, card) = futures_util::future::join(
        charge_reads::load(env, merchant_id, customer_id, payment_method, earlier),
        vault.saved_card(payment_method),
    )
    .await;
    Ok((reads?, card?))
}

/// What a new charge is made with ([`read`]).
pub struct Context {
    /// The saved card's row, the customer being allowed to pay with it.
    pub saved_card: PaymentMethodRow,
    pub customer: Option<CustomerRow>,
    pub gateway_account: Option<GatewayAccountRow>,
    pub rules: Vec<StoredRule>,
}

impl Context {
    /// The reads' context for a new charge; `None` when the customer may not use the card.
    pub fn of(reads: ChargeReads) -> Option<Context> {
        Some(Context {
            saved_card: reads.saved_card?,
            customer: reads.customer,
            gateway_account: reads.gateway_account,
            rules: reads.rules,
        })
    }
}

/// A charge whose payment is recorded, ready for [`charge`].
pub struct Recorded {
    pub payment: PaymentRow,
    /// The charge's own session's client secret, told once: the customer needs it to pay on
    /// the hosted page should their bank ask for them.
    pub client_secret: String,
    pub route: Route,
}

/// Where a charge is authorized: the gateway, and the card's reference there when that gateway
/// kept it.
pub struct Route {
    gateway: Gateway,
    card_reference: Option<String>,
}

/// How [`charge`] comes to a payment.
pub enum Charging {
    /// Just recorded by [`start`], which knows the route.
    Started(Route),
    /// Recorded by an earlier try: the gateway may have it already.
    Resumed,
}

/// Records the charge's own checkout session and the `processing` payment, in one transaction,
/// before anything reaches the gateway; the attempt is screened by the merchant's rules first.
pub async fn start(
    env: &Env,
    charge: &Charge<'_>,
    payment_id: String,
    card: &VaultedCard,
    context: Context,
) -> Result<Recorded, ApiError> {
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
    let gateway = gateways::of_merchant_account(env, context.gateway_account)?;
    let customer = context.customer;
    // Nobody is at a checkout: no client address, and a rule asking for 3-D Secure holds the
    // charge for review instead.
    let screening = risk::screen(
        env,
        &till_core::risk::effective_rules(&context.rules),
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
    server_timing::step("screen");
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
    if !store::payments::insert_with_session(env, &session, &payment).await? {
        return Err(ApiError::internal());
    }
    server_timing::step("start");
    let card_reference = context
        .saved_card
        .reference_at(payment.gateway_account_id.as_deref());
    Ok(Recorded {
        payment,
        client_secret,
        route: Route {
            gateway,
            card_reference,
        },
    })
}

/// Where charging got to.
pub enum Charged {
    /// The gateway answered and the payment moved (succeeded, failed, ...).
    Applied,
    /// No answer: the payment stays `processing`; a retry with the same key finds it.
    Unanswered,
}

/// Charges the saved card for a `processing` payment: a resumed one first asks the gateway
/// whether an earlier attempt already reached it (it never charges twice), then authorizes as a
/// stored credential and applies the answer. Nobody can answer a challenge here, so a gateway
/// asking for one is the bank wanting the customer: `authentication_required`.
pub async fn charge(
    env: &Env,
    payment: &mut PaymentRow,
    card: VaultedCard,
    charging: Charging,
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
    let Route {
        gateway,
        card_reference,
    } = match charging {
        Charging::Started(route) => route,
        Charging::Resumed => match recover(env, payment).await? {
            Recovered::Applied => return Ok(Charged::Applied),
            Recovered::Unanswered(_) => return Ok(Charged::Unanswered),
            Recovered::Unknown => route_of(env, payment).await?,
        },
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
    let answered = gateway
        .connector
        .authorize(&authorization, &payment.gateway_idempotency_key)
        .await;
    server_timing::step("gateway");
    let answer = match answered {
        Ok(answer) => answer,
        Err(GatewayError::Unavailable(reason)) => {
            crate::log_warn!("payment {}: gateway unavailable: {reason}", payment.id);
            return Ok(Charged::Unanswered);
        }
        Err(GatewayError::Rejected { code, .. }) => refused(&code),
    };
    // A challenge in the answer is failed as the bank wanting its holder (`record_answer`).
    apply(env, payment, answer).await?;
    server_timing::step("record");
    Ok(Charged::Applied)
}

/// The route a recorded payment was started on: its gateway account, and the card's reference
/// there.
async fn route_of(env: &Env, payment: &PaymentRow) -> Result<Route, ApiError> {
    let gateway = gateways::for_payment(env, payment).await?;
    let card_reference = match &payment.payment_method_id {
        Some(id) => store::payment_methods::find(env, &payment.merchant_id, id)
            .await?
            .and_then(|method| method.reference_at(payment.gateway_account_id.as_deref())),
        None => None,
    };
    Ok(Route {
        gateway,
        card_reference,
    })
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
