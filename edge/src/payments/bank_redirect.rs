//! Payments by bank redirect: the customer approves at their own bank. The payment is recorded
//! `processing` before the bank is asked (as a card payment is before the gateway), waits
//! `requires_action` with the bank's page as its `next_action`, and is settled by whichever
//! tells Till first: the bank's webhook, Till's return page, the widget asking, or the poller.
//! Each reads the bank's own answer and moves the payment through [`super::apply`], whose
//! compare-and-set makes a second telling (a duplicate webhook, a poll after the webhook) change
//! nothing.

use super::{apply, refused, NewPaymentKeys, Recovered};
use crate::banks::redirect::{BankOption, BankPayment, BankPaymentRequest, RedirectBank};
use crate::banks::{self};
use crate::connectors::{GatewayError, GatewayPayment};
use crate::idempotency::{self, Ended, Scope};
use crate::isolate_cache::TtlCache;
use crate::store::payments::PaymentRow;
use crate::store::sessions::SessionRow;
use crate::{clock, store};
use std::cell::RefCell;
use till_core::api::BankSummary;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::money::Currency;
use till_core::payment::{GatewayState, PaymentStatus};
use till_core::payment_method_type::{self, PaymentMethodType};
use worker::Env;

/// How long an isolate keeps the bank's list: banks join and leave rarely, and every checkout
/// that offers bank payments asks for it.
const BANK_LIST_SECONDS: i64 = 300;

thread_local! {
    static BANK_LIST: RefCell<TtlCache<Vec<BankOption>>> =
        RefCell::new(TtlCache::new(BANK_LIST_SECONDS, 1));
}

/// The banks the platform's bank lists, from this isolate's copy while it is fresh.
async fn listed(bank: &dyn RedirectBank) -> Result<Vec<BankOption>, ApiError> {
    let now = clock::now_seconds();
    if let Some(known) = BANK_LIST.with(|cache| cache.borrow().get("", now)) {
        return Ok(known);
    }
    let fresh = bank.banks().await.map_err(|e| {
        crate::log_warn!("bank list unavailable: {e}");
        ApiError::gateway_unavailable()
    })?;
    BANK_LIST.with(|cache| cache.borrow_mut().insert(String::new(), fresh.clone(), now));
    Ok(fresh)
}

/// The banks a session's customer may pay from: those the platform's bank lists that take the
/// session's currency.
pub async fn banks_for(env: &Env, currency: Currency) -> Result<Vec<BankSummary>, ApiError> {
    let bank = banks::platform_redirect(env)?;
    Ok(listed(bank.as_ref())
        .await?
        .into_iter()
        .filter(|option| option.takes(currency))
        .map(|option| option.bank)
        .collect())
}

fn bank_unavailable() -> ApiError {
    ApiError::not_found("bank").with_param("bank")
}

/// Where the bank sends the customer back: Till's return page for this payment, on the origin
/// the widget reached the edge at.
fn return_url(origin: &str, payment_id: &str) -> String {
    format!("{}/bank/return/{payment_id}", origin.trim_end_matches('/'))
}

/// What a new bank payment is made in.
pub struct BankCheckout<'a> {
    pub session: &'a SessionRow,
    pub scope: &'a Scope,
    pub bank: &'a str,
    /// Where the customer pays from (`CF-IPCountry`).
    pub country: Option<&'a str>,
    /// The edge's origin as the browser reached it (for the return page).
    pub origin: &'a str,
}

/// The confirm of a session paid from a bank: records the payment, asks the bank for it and
/// answers with the bank's page to send the customer to. A retry of the same request asks the
/// bank again with the same key: the bank answers the payment it already made.
pub async fn confirm(
    env: &Env,
    checkout: &BankCheckout<'_>,
    existing: Option<PaymentRow>,
) -> Result<Ended, ApiError> {
    let bank = banks::platform_redirect(env)?;
    let mut payment = match existing {
        Some(found) if found.request_fingerprint != checkout.scope.fingerprint => {
            return Err(idempotency::key_reused())
        }
        Some(found) if found.status != PaymentStatus::Processing => {
            return crate::handlers::payments::stored(&found, super::Audience::Browser)
        }
        Some(found) => found,
        None => start(env, checkout, bank.as_ref()).await?,
    };
    let bank_id = payment
        .bank
        .clone()
        .ok_or_else(|| super::corrupt(&payment, "bank"))?;
    let back = return_url(checkout.origin, &payment.id);
    let request = BankPaymentRequest {
        amount: payment.amount,
        currency: payment.currency,
        bank: &bank_id,
        reference: &payment.id,
        return_url: &back,
    };
    match bank
        .create_payment(&request, &payment.gateway_idempotency_key)
        .await
    {
        Ok(answer) => settle(env, &mut payment, answer).await?,
        Err(GatewayError::Unavailable(reason)) => {
            crate::log_warn!("payment {}: bank unavailable: {reason}", payment.id);
            return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
        }
        Err(GatewayError::Rejected { code, .. }) => {
            apply(env, &mut payment, refused(&code)).await?
        }
    }
    crate::handlers::payments::stored(&payment, super::Audience::Browser)
}

/// Checks that the session may be paid from this bank and records the `processing` payment,
/// claiming the session, before the bank is asked.
async fn start(
    env: &Env,
    checkout: &BankCheckout<'_>,
    bank: &dyn RedirectBank,
) -> Result<PaymentRow, ApiError> {
    let BankCheckout { session, scope, .. } = *checkout;
    super::check_open(session)?;
    let offered = payment_method_type::from_column(&session.payment_method_types)
        .unwrap_or_default()
        .contains(&PaymentMethodType::BankRedirect);
    if !offered {
        return Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("This checkout does not take bank payments.")
            .with_param("bank"));
    }
    let chosen = listed(bank)
        .await?
        .into_iter()
        .find(|option: &BankOption| option.bank.id == checkout.bank)
        .filter(|option| option.takes(session.currency))
        .ok_or_else(bank_unavailable)?;
    let keys = NewPaymentKeys::of(scope);
    let payment = PaymentRow {
        method: PaymentMethodType::BankRedirect,
        bank: Some(chosen.bank.id),
        bank_name: Some(chosen.bank.name),
        country: checkout.country.map(str::to_string),
        ..super::started(session, keys, clock::now_seconds())?
    };
    if !store::payments::insert_claiming_session(env, &payment, None).await? {
        return Err(ApiError::new(ErrorCode::CheckoutSessionUnavailable));
    }
    Ok(payment)
}

/// A page of the bank's the customer may be sent to: plain http(s), no spaces or controls.
fn is_safe_redirect(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2_000
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Moves the payment to what the bank says about it.
pub async fn settle(
    env: &Env,
    payment: &mut PaymentRow,
    answer: BankPayment,
) -> Result<(), ApiError> {
    if answer.reference != payment.id {
        crate::log_error!(
            "payment {}: the bank answered about {}",
            payment.id,
            answer.reference
        );
        return Err(ApiError::internal());
    }
    match (&answer.state, answer.redirect_url) {
        (GatewayState::AwaitingCustomer, Some(url)) if is_safe_redirect(&url) => {
            payment.redirect_url = Some(url);
        }
        (GatewayState::AwaitingCustomer, _) => {
            crate::log_error!("payment {}: the bank gave no usable page", payment.id);
            return Err(ApiError::gateway_unavailable());
        }
        _ => payment.redirect_url = None,
    }
    let answer = GatewayPayment {
        card_reference: None,
        reference: answer.id,
        state: answer.state,
    };
    apply(env, payment, answer).await
}

/// Asks the bank about a payment it has not finished, and applies its answer.
pub async fn recover(env: &Env, payment: &mut PaymentRow) -> Result<Recovered, ApiError> {
    let bank = banks::platform_redirect(env)?;
    match bank
        .find_payment(
            payment.gateway_reference.as_deref(),
            &payment.gateway_idempotency_key,
        )
        .await
    {
        Ok(Some(answer)) => {
            settle(env, payment, answer).await?;
            Ok(Recovered::Applied)
        }
        Ok(None) => Ok(Recovered::Unknown),
        Err(error) => Ok(Recovered::Unanswered(error.to_string())),
    }
}

/// A bank's event about a payment: the payment it names, moved to what the bank says.
pub async fn on_bank_event(env: &Env, answer: BankPayment) -> Result<&'static str, ApiError> {
    if !till_core::ids::is_valid(IdKind::Payment, &answer.reference) {
        return Ok("unknown_payment");
    }
    let Some(mut payment) = store::payments::by_id(env, &answer.reference).await? else {
        return Ok("unknown_payment");
    };
    if payment.method != PaymentMethodType::BankRedirect {
        return Ok("unknown_payment");
    }
    let before = payment.status;
    settle(env, &mut payment, answer).await?;
    Ok(if payment.status == before {
        "unchanged"
    } else {
        "applied"
    })
}

/// The customer gave up on the bank: the bank cancels the payment if nobody approved it, and
/// the session opens again for another way to pay. A payment the bank already took is applied
/// as it is instead.
pub async fn cancel_waiting(env: &Env, payment: &mut PaymentRow) -> Result<(), ApiError> {
    if payment.method != PaymentMethodType::BankRedirect
        || payment.status != PaymentStatus::RequiresAction
    {
        return Err(ApiError::payment_invalid_state(payment.status, "canceled"));
    }
    let reference = payment
        .gateway_reference
        .clone()
        .ok_or_else(|| super::corrupt(payment, "gateway_reference"))?;
    let bank = banks::platform_redirect(env)?;
    let answer = bank.cancel_payment(&reference).await.map_err(|e| {
        crate::log_warn!("payment {}: bank cancel unanswered: {e}", payment.id);
        ApiError::gateway_unavailable()
    })?;
    settle(env, payment, answer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_web_pages_are_followed() {
        assert!(is_safe_redirect("http://127.0.0.1:8790/bank/pay/gwbp_1"));
        assert!(is_safe_redirect("https://bank.example/pay?x=1"));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://bank.example/pay\nLocation: x",
            "https://bank example/",
            "//bank.example/",
        ] {
            assert!(!is_safe_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn the_customer_comes_back_to_tills_page_for_the_payment() {
        assert_eq!(
            return_url("http://127.0.0.1:8787/", "pay_1"),
            "http://127.0.0.1:8787/bank/return/pay_1"
        );
    }
}
