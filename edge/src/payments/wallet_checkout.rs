//! Paying a checkout from the session customer's Till wallet: all of it, or part of it with a
//! card for the rest (`till_core::wallet_payment`).
//!
//! The wallet's part is held for the payment (`wallet_hold`, wallet → `payment_hold:<id>`) in
//! the same transaction that records the payment and claims its session, so a wallet that holds
//! too little refuses the payment before anything else happens, and a concurrent transfer or
//! payout cannot spend the money while the card is asked. From there the payment moves like any
//! other through [`super::apply`]: its success writes one `wallet_payment` transaction (the held
//! part and the card's part to the merchant, both or neither), its failure or cancellation gives
//! the held part back (`wallet_hold_released`) in the payment's own batch.

use super::{apply, started, Audience, NewPaymentKeys};
use crate::connectors::GatewayPayment;
use crate::idempotency::{self, Ended, Scope};
use crate::store::payments::{PaymentRow, Start};
use crate::store::sessions::SessionRow;
use crate::{clock, store};
use till_core::error::{ApiError, ErrorCode};
use till_core::payment::{GatewayState, PaymentStatus};
use till_core::payment_method_type::{self, PaymentMethodType};
use till_core::wallet_payment::checkout_split;
use worker::Env;

/// The answer a payment the wallet pays alone gets at once: nothing more to capture than its
/// held part.
pub fn paid_from_wallet() -> GatewayPayment {
    GatewayPayment {
        reference: String::new(),
        state: GatewayState::Captured { amount: 0 },
        card_reference: None,
    }
}

/// What the wallet pays of a confirm of `session` that asked for `wallet_amount` (0 when it
/// asked for none), `with_card` saying whether a card pays the rest.
pub fn share(
    session: &SessionRow,
    wallet_amount: Option<i64>,
    with_card: bool,
) -> Result<i64, ApiError> {
    let Some(asked) = wallet_amount else {
        return Ok(0);
    };
    let offered = payment_method_type::from_column(&session.payment_method_types)
        .unwrap_or_default()
        .contains(&PaymentMethodType::Wallet);
    if !offered || session.customer_id.is_none() {
        return Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("This checkout does not take wallet payments.")
            .with_param("wallet_amount"));
    }
    Ok(checkout_split(session.amount, asked, with_card)?.wallet)
}

/// Records a new payment, claiming its session, with its wallet part held and the nonce of a
/// saved card's code typed again (`cvc_nonce`) spent in the same transaction.
pub async fn record(
    env: &Env,
    payment: &PaymentRow,
    cvc_nonce: Option<&str>,
) -> Result<(), ApiError> {
    let hold = super::wallet_hold(payment)?;
    let started =
        store::payments::insert_claiming_session_spending(env, payment, hold.as_ref(), cvc_nonce);
    match started.await {
        Ok(Start::Started) => Ok(()),
        Ok(Start::SessionUnavailable) => Err(ApiError::new(ErrorCode::CheckoutSessionUnavailable)),
        Ok(Start::NonceSpent) => Err(ApiError::new(ErrorCode::EncryptedCardReplayed)
            .with_param(crate::handlers::confirm::CVC_PARAM)),
        Err(error) if store::ledger::overdrawn(&error) => {
            Err(ApiError::new(ErrorCode::BalanceInsufficient)
                .with_message("The wallet holds less than this payment takes from it.")
                .with_param("wallet_amount"))
        }
        Err(error) => Err(error.into()),
    }
}

/// The confirm of a session the wallet pays alone: the payment is recorded with the whole
/// amount held, then succeeds. A retry of the same request finds the payment and finishes it
/// if a crash stopped it in between.
pub async fn confirm(
    env: &Env,
    session: &SessionRow,
    scope: &Scope,
    wallet_amount: Option<i64>,
    existing: Option<PaymentRow>,
) -> Result<Ended, ApiError> {
    let mut payment = match existing {
        Some(found) if found.request_fingerprint != scope.fingerprint => {
            return Err(idempotency::key_reused())
        }
        Some(found) if found.status != PaymentStatus::Processing => {
            return crate::handlers::payments::stored(&found, Audience::Browser)
        }
        Some(found) => found,
        None => {
            super::check_open(session)?;
            let keys = NewPaymentKeys::of(scope);
            let payment = PaymentRow {
                method: PaymentMethodType::Wallet,
                wallet_amount: share(session, wallet_amount, false)?,
                ..started(session, keys, clock::now_seconds())?
            };
            record(env, &payment, None).await?;
            payment
        }
    };
    apply(env, &mut payment, paid_from_wallet()).await?;
    crate::handlers::payments::stored(&payment, Audience::Browser)
}
