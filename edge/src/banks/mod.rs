//! Banks that pay Till's payouts and take customers' internet-banking payments: one module per
//! bank, each turning Till's neutral requests into its dialect and its answers and webhooks
//! back. A bank is not a card gateway: merchants share the platform's bank (`BANK_URL` and the
//! secrets `BANK_API_KEY`, `BANK_WEBHOOK_SECRET`).

pub mod redirect;
mod sandbox;
mod sandbox_redirect;

use crate::connectors::{GatewayError, WebhookError};
use futures_util::future::LocalBoxFuture;
use till_core::error::ApiError;
use till_core::money::Currency;
use till_core::payout::{BankAccount, BankState};
use till_core::secret::Secret;
use worker::Env;

/// A payout as the bank is asked to pay it.
pub struct BankTransferRequest<'a> {
    pub amount: i64,
    pub currency: Currency,
    /// Till's payout id: the bank echoes it in its answers and events.
    pub reference: &'a str,
    pub account: &'a BankAccount,
}

/// The bank's view of one transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankTransfer {
    pub id: String,
    /// Till's payout id.
    pub reference: String,
    pub state: BankState,
}

/// A webhook event from the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankEvent {
    Transfer {
        event_id: String,
        transfer: BankTransfer,
    },
    /// A customer's payment by redirect moved on.
    Payment {
        event_id: String,
        payment: redirect::BankPayment,
    },
    /// A refund to a customer's account was paid back, or failed.
    Refund {
        event_id: String,
        refund: redirect::BankRefund,
    },
    /// An event Till has no use for (acknowledged, not applied).
    Other { event_id: String },
}

impl BankEvent {
    pub fn id(&self) -> &str {
        match self {
            BankEvent::Transfer { event_id, .. }
            | BankEvent::Payment { event_id, .. }
            | BankEvent::Refund { event_id, .. }
            | BankEvent::Other { event_id } => event_id,
        }
    }
}

type Answer<'a, T> = LocalBoxFuture<'a, Result<T, GatewayError>>;

pub trait Bank {
    /// Asks the bank to pay; the same `key` never pays twice, and returns the same transfer.
    fn send<'a>(
        &'a self,
        request: &'a BankTransferRequest<'a>,
        key: &'a str,
    ) -> Answer<'a, BankTransfer>;
    /// The transfer as the bank sees it now.
    fn find<'a>(&'a self, id: &'a str) -> Answer<'a, Option<BankTransfer>>;
    /// Verifies and reads a webhook; `signature` is the value of [`Bank::signature_header`].
    fn webhook(&self, signature: &str, body: &[u8], now: i64) -> Result<BankEvent, WebhookError>;
    fn signature_header(&self) -> &'static str;
}

/// How the edge reaches the platform's bank.
pub struct BankCredentials {
    pub url: String,
    pub api_key: Secret<String>,
    pub webhook_secret: Secret<String>,
}

/// The platform's bank.
pub fn platform(env: &Env) -> Result<Box<dyn Bank>, ApiError> {
    let credentials = crate::config::platform_bank(env)?;
    Ok(Box::new(sandbox::SandboxBank::new(
        credentials,
        crate::config::gateway_timeout_ms(env),
    )))
}

/// The platform's bank, for customers' payments by redirect.
pub fn platform_redirect(env: &Env) -> Result<Box<dyn redirect::RedirectBank>, ApiError> {
    let credentials = crate::config::platform_bank(env)?;
    Ok(Box::new(sandbox::SandboxBank::new(
        credentials,
        crate::config::gateway_timeout_ms(env),
    )))
}
