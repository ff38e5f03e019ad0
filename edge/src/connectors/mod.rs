//! Connectors to payment gateways: one folder per gateway, each turning Till's neutral requests
//! into its gateway's dialect and its answers back into neutral types (wire types live in the
//! folder's `transformers.rs`). Nothing outside this folder knows a gateway's wire format.
//!
//! Adding a gateway: a new folder implementing [`Connector`] (with a `new(credentials,
//! timeout_ms)` constructor), and one line in the registry at the end of this file.

pub mod transport;

use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use till_core::dispute::{DisputeStatus, EvidenceSummary};
use till_core::payment::GatewayState;
use till_core::reconciliation::SettlementLine;
use till_core::secret::Secret;

/// The card as the gateway receives it (only inside the authorization request).
pub struct GatewayCard {
    pub number: Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    /// Absent when a saved card is charged: the CVC is never kept.
    pub cvc: Option<Secret<String>>,
    pub name: String,
}

/// Who starts a payment: the customer at the checkout, or the merchant without them
/// (off-session, a merchant-initiated transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    Customer,
    Merchant,
}

impl Initiator {
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::Customer => "customer",
            Initiator::Merchant => "merchant",
        }
    }
}

pub struct Authorization {
    pub amount: i64,
    pub currency: till_core::money::Currency,
    /// Till's payment id, so the gateway's records can be matched to ours.
    pub reference: String,
    /// Capture with the authorization (`automatic`) or later (`manual`).
    pub capture: bool,
    pub card: GatewayCard,
    pub initiator: Initiator,
    /// The card was saved by Till earlier (card-on-file), so the gateway gets no CVC.
    pub stored_credential: bool,
    /// The gateway's own id for this saved card, from the payment that saved it: a connector
    /// that has one charges it instead of the card.
    pub card_reference: Option<String>,
    /// The customer agreed to keep this card: a gateway that reuses cards by its own id (Stripe)
    /// makes the card reusable now, since it cannot be made so after its first use.
    pub save_for_reuse: bool,
    /// Till's fraud rules ask the issuer to authenticate the cardholder (3-D Secure step-up),
    /// whatever the issuer would have decided alone.
    pub authenticate: bool,
}

/// How to find a payment at the gateway when its answer was lost.
pub struct PaymentLookup<'a> {
    /// Till's payment id (the gateway keeps it as the reference or in metadata).
    pub payment_id: &'a str,
    /// The idempotency key the authorization was sent with.
    pub gateway_key: &'a str,
    /// The gateway's own id, when Till already has it.
    pub gateway_reference: Option<&'a str>,
}

/// The gateway's view of one authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    /// The gateway's id of the authorization.
    pub reference: String,
    pub state: GatewayState,
    /// The gateway's reusable id for the card it was paid with (Stripe's PaymentMethod), kept
    /// with a saved card so the gateway is not sent the card again. `None` for gateways that
    /// take the card each time.
    pub card_reference: Option<String>,
}

/// What the gateway said about a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundAnswer {
    /// Refunded; the gateway's refund id.
    Succeeded(String),
    /// Taken, not paid back yet (a bank pays refunds later and tells by webhook); its id.
    Pending(String),
    /// Refused: nothing was refunded (Till's decline code).
    Refused(String),
}

/// The gateway's view of a dispute (a chargeback) of one of its authorizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayDispute {
    /// The gateway's id of the dispute.
    pub reference: String,
    /// The gateway's id of the disputed authorization.
    pub authorization: String,
    /// Till's payment id, when the gateway echoes it (the sandbox does; Stripe's disputes name
    /// only the payment intent, found by `authorization`).
    pub payment_id: Option<String>,
    pub amount: i64,
    /// As the gateway writes it (`USD`, Stripe's `usd`).
    pub currency: String,
    /// As the network says it; [`till_core::dispute::DisputeReason::from_gateway`] reads it.
    pub reason: String,
    pub status: DisputeStatus,
    /// Unix seconds.
    pub evidence_due_by: i64,
}

/// A webhook event from a gateway, in Till's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayEvent {
    /// An authorization changed: Till's payment id (when the gateway echoes it) and the state.
    Payment {
        event_id: String,
        payment_id: Option<String>,
        payment: GatewayPayment,
    },
    /// A refund settled: Till's refund id and the answer.
    Refund {
        event_id: String,
        refund_id: String,
        answer: RefundAnswer,
    },
    /// A dispute was opened or changed.
    Dispute {
        event_id: String,
        dispute: GatewayDispute,
    },
    /// An event Till has no use for (acknowledged, not applied).
    Other { event_id: String },
}

impl GatewayEvent {
    pub fn id(&self) -> &str {
        match self {
            GatewayEvent::Payment { event_id, .. }
            | GatewayEvent::Refund { event_id, .. }
            | GatewayEvent::Dispute { event_id, .. }
            | GatewayEvent::Other { event_id } => event_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// No answer (network error, timeout, 5xx): the call may or may not have taken effect.
    Unavailable(String),
    /// The gateway refused the request: it had no effect. `code` is Till's decline code where
    /// the refusal is about the card.
    Rejected { status: u16, code: String },
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayError::Unavailable(reason) => write!(f, "gateway unavailable: {reason}"),
            GatewayError::Rejected { status, code } => {
                write!(f, "gateway refused: {status} {code}")
            }
        }
    }
}

/// Why a webhook was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookError {
    /// Missing, malformed, stale or wrong signature.
    Signature(till_core::webhook::SignatureError),
    /// Signed, but not an event this connector can read.
    Unreadable,
}

type Answer<'a, T> = LocalBoxFuture<'a, Result<T, GatewayError>>;

/// One gateway. Every call that changes something carries an idempotency key, so repeating it
/// never repeats its effect.
pub trait Connector {
    fn authorize<'a>(
        &'a self,
        request: &'a Authorization,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment>;
    /// The authorization a lost answer was about, if the gateway has one: how recovery learns
    /// what a request that died did, without authorizing again.
    fn find<'a>(&'a self, lookup: &'a PaymentLookup<'a>) -> Answer<'a, Option<GatewayPayment>>;
    /// Completes a 3-D Secure / OTP challenge with the customer's code.
    fn challenge<'a>(
        &'a self,
        reference: &'a str,
        otp: &'a str,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment>;
    fn capture<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment>;
    fn void<'a>(&'a self, reference: &'a str, key: &'a str) -> Answer<'a, GatewayPayment>;
    /// Refunds `amount` of the authorization `reference`; `refund_id` is Till's.
    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
        refund_id: &'a str,
        key: &'a str,
    ) -> Answer<'a, RefundAnswer>;
    /// Answers the dispute `reference` with the merchant's evidence: its text, and its files by
    /// type, size and SHA-256 (the files themselves stay with Till). Final: the network reads
    /// it and decides.
    fn submit_evidence<'a>(
        &'a self,
        reference: &'a str,
        evidence: &'a EvidenceSummary,
        key: &'a str,
    ) -> Answer<'a, GatewayDispute>;
    /// Whether [`Connector::submit_evidence`] forwards files (asked before any is stored).
    fn takes_evidence_files(&self) -> bool {
        true
    }
    /// The merchant accepts the dispute `reference`: it is lost.
    fn accept_dispute<'a>(&'a self, reference: &'a str, key: &'a str)
        -> Answer<'a, GatewayDispute>;
    /// The settled money of a UTC day (`YYYY-MM-DD`).
    fn settlement<'a>(&'a self, date: &'a str) -> Answer<'a, Vec<SettlementLine>>;
    /// Verifies and reads a webhook: `signature` is the value of the connector's signature
    /// header ([`Connector::signature_header`]).
    fn webhook(&self, signature: &str, body: &[u8], now: i64)
        -> Result<GatewayEvent, WebhookError>;
    /// The header the gateway signs its webhooks in.
    fn signature_header(&self) -> &'static str;
}

/// Verifies a webhook signed `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` (the scheme of both
/// the sandbox's `Gateway-Signature` and Stripe's `Stripe-Signature`) and reads it with `read`.
pub fn signed_event(
    credentials: &AccountCredentials,
    signature: &str,
    body: &[u8],
    now: i64,
    read: fn(&[u8]) -> Option<GatewayEvent>,
) -> Result<GatewayEvent, WebhookError> {
    till_core::webhook::verify(
        credentials.webhook_secret.expose().as_bytes(),
        signature,
        body,
        now,
    )
    .map_err(WebhookError::Signature)?;
    read(body).ok_or(WebhookError::Unreadable)
}

/// A merchant's gateway account: which connector, and its credentials (stored sealed).
#[derive(Clone, Serialize, Deserialize)]
pub struct AccountCredentials {
    /// The gateway's base URL (Till's sandbox, `https://api.stripe.com`, or a local fake).
    pub url: String,
    pub api_key: Secret<String>,
    pub webhook_secret: Secret<String>,
}

/// Declares the connector folders and the lookups by the name a gateway account stores: one line
/// per gateway (folder, name, API address when the account names none, type).
macro_rules! registry {
    ($($folder:ident: $name:literal, $default_url:expr, $connector:path;)*) => {
        $(pub mod $folder;)*

        /// The connectors a gateway account may name.
        pub const NAMES: &[&str] = &[$($name),*];

        /// The API address a connector calls when its account names none: `Some(None)` means
        /// the account must name one; `None`: no such connector.
        pub fn default_url(connector: &str) -> Option<Option<&'static str>> {
            match connector {
                $($name => Some($default_url),)*
                _ => None,
            }
        }

        /// The connector a gateway account names, with its credentials.
        pub fn build(
            connector: &str,
            credentials: AccountCredentials,
            timeout_ms: u64,
        ) -> Option<Box<dyn Connector>> {
            match connector {
                $($name => Some(Box::new(<$connector>::new(credentials, timeout_ms))),)*
                _ => None,
            }
        }
    };
}

registry! {
    // The sandbox runs wherever it is deployed: its accounts name their URL.
    sandbox: "sandbox", None, sandbox::Sandbox;
    stripe: "stripe", Some("https://api.stripe.com"), stripe::Stripe;
}
