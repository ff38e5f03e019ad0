//! Request and response bodies of Till's HTTP API. Requests reject unknown fields.

use crate::card::CardSummary;
use crate::error::{ApiError, ErrorCode};
use crate::money::{Currency, Money, MoneyError};
use crate::payment::{DeclineCode, PaymentStatus};
use crate::urls::{check_return_url, check_webhook_url, DevHosts};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    pub name: String,
    pub quantity: u32,
    /// Price of one unit, in minor units of the session's currency.
    pub unit_amount: i64,
}

/// When the money is taken: with the authorization, or later by `POST /v1/payments/:id/capture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMethod {
    #[default]
    Automatic,
    Manual,
}

impl CaptureMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureMethod::Automatic => "automatic",
            CaptureMethod::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [CaptureMethod::Automatic, CaptureMethod::Manual]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckoutSession {
    pub amount: i64,
    pub currency: Currency,
    #[serde(default)]
    pub capture_method: CaptureMethod,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference: Option<String>,
}

const MAX_LINE_ITEMS: usize = 100;
const MAX_TEXT: usize = 200;

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Processing => "processing",
            SessionStatus::Complete => "complete",
            SessionStatus::Locked => "locked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            SessionStatus::Open,
            SessionStatus::Processing,
            SessionStatus::Complete,
            SessionStatus::Locked,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl CreateCheckoutSession {
    /// Checks the amount and that the cart adds up to it; returns the payable total. `dev` lists
    /// hosts a local setup may use over plain http (see [`crate::urls`]).
    pub fn validate(&self, dev: DevHosts<'_>) -> Result<Money, ApiError> {
        let total = Money::payable(self.amount, self.currency).map_err(|e| {
            ApiError::new(ErrorCode::AmountInvalid)
                .with_message(e.to_string())
                .with_param("amount")
        })?;
        if self.line_items.len() > MAX_LINE_ITEMS {
            return Err(ApiError::new(ErrorCode::LineItemsInvalid)
                .with_message(format!("At most {MAX_LINE_ITEMS} line items are allowed."))
                .with_param("line_items"));
        }
        if !self.line_items.is_empty() {
            let mut sum = Money {
                amount: 0,
                currency: self.currency,
            };
            for item in &self.line_items {
                if item.name.trim().is_empty()
                    || item.name.chars().count() > MAX_TEXT
                    || item.name.chars().any(char::is_control)
                {
                    return Err(ApiError::new(ErrorCode::LineItemsInvalid).with_message("Every line item needs a name of at most 200 characters, without control characters.")
                    .with_param("line_items"));
                }
                let line = Money::payable(item.unit_amount, self.currency)
                    .map_err(|e| line_item_error(&e))?
                    .amount
                    .checked_mul(i64::from(item.quantity))
                    .filter(|a| *a > 0)
                    .ok_or_else(|| line_item_error(&MoneyError::NotPositive))?;
                sum = sum
                    .checked_add(Money {
                        amount: line,
                        currency: self.currency,
                    })
                    .map_err(|e| line_item_error(&e))?;
            }
            if sum.amount != total.amount {
                return Err(ApiError::new(ErrorCode::AmountMismatch).with_param("amount"));
            }
        }
        if let Some(url) = &self.return_url {
            check_return_url(url, dev).map_err(|e| {
                ApiError::new(ErrorCode::ReturnUrlInvalid)
                    .with_message(format!("return_url {}.", e.message()))
                    .with_param("return_url")
            })?;
        }
        if self
            .merchant_reference
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_TEXT || r.chars().any(char::is_control))
        {
            return Err(
                ApiError::new(ErrorCode::MerchantReferenceInvalid).with_param("merchant_reference")
            );
        }
        Ok(total)
    }
}

fn line_item_error(e: &MoneyError) -> ApiError {
    ApiError::new(ErrorCode::LineItemsInvalid)
        .with_message(format!("Invalid line item: {e}."))
        .with_param("line_items")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Waiting for the customer to pay.
    Open,
    /// A payment is at the gateway; no other payment may start.
    Processing,
    /// Paid.
    Complete,
    /// Too many failed payment attempts (card testing): no further payment is accepted.
    Locked,
}

/// Failed payments a checkout session takes before it is locked.
pub const MAX_FAILED_PAYMENTS_PER_SESSION: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub object: String,
    pub amount: i64,
    pub currency: Currency,
    pub capture_method: CaptureMethod,
    pub line_items: Vec<LineItem>,
    pub status: SessionStatus,
    /// Present only in the response to the merchant's create call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference: Option<String>,
    pub merchant_name: String,
    #[serde(default)]
    pub payment: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub checkout_session: String,
    pub client_secret: String,
    /// The card as a compact JWE (`ECDH-ES` + `A256GCM`) made for a key from `GET /v1/keys`.
    pub encrypted_card: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: String,
    pub object: String,
    pub card: CardSummary,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmCheckoutSession {
    pub client_secret: String,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub object: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: PaymentStatus,
    pub capture_method: CaptureMethod,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    /// The gateway never confirmed the outcome after repeated polling: a person must look.
    #[serde(default)]
    pub requires_review: bool,
    /// What the customer must do next when `status` is `requires_action`.
    #[serde(default)]
    pub next_action: Option<NextAction>,
    pub checkout_session: String,
    pub card: CardSummary,
    #[serde(default)]
    pub failure_code: Option<DeclineCode>,
    #[serde(default)]
    pub failure_message: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// A one-time code from the card issuer (3-D Secure challenge), entered in the widget.
    OtpChallenge { attempts_remaining: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteChallenge {
    pub client_secret: String,
    pub otp: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapturePayment {
    #[serde(default)]
    pub amount: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelPayment {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    RequestedByCustomer,
    Duplicate,
    Fraudulent,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::RequestedByCustomer => "requested_by_customer",
            RefundReason::Duplicate => "duplicate",
            RefundReason::Fraudulent => "fraudulent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    pub payment: String,
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub reason: Option<RefundReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub object: String,
    pub payment: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: crate::payment::RefundStatus,
    pub reason: Option<RefundReason>,
    #[serde(default)]
    pub failure_code: Option<String>,
    pub created: i64,
}

/// Events a merchant can subscribe to.
pub const EVENT_TYPES: [&str; 6] = [
    "payment.succeeded",
    "payment.failed",
    "payment.requires_action",
    "refund.succeeded",
    "reconciliation.mismatch",
    "checkout_session.locked",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    pub url: String,
    pub events: Vec<String>,
}

impl CreateWebhookEndpoint {
    /// Checks the request; returns the URL as Till will store and call it.
    pub fn validate(&self, dev: DevHosts<'_>) -> Result<String, ApiError> {
        let url = check_webhook_url(&self.url, dev).map_err(|e| {
            ApiError::new(ErrorCode::UrlInvalid)
                .with_message(format!("url {}.", e.message()))
                .with_param("url")
        })?;
        if self.events.is_empty()
            || self.events.len() > EVENT_TYPES.len()
            || self
                .events
                .iter()
                .any(|e| !EVENT_TYPES.contains(&e.as_str()))
        {
            return Err(ApiError::new(ErrorCode::EventsInvalid)
                .with_message(format!(
                    "events must name some of: {}.",
                    EVENT_TYPES.join(", ")
                ))
                .with_param("events"));
        }
        Ok(url)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub object: String,
    pub url: String,
    pub events: Vec<String>,
    /// Shown once, at creation: verifies `Till-Signature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: String,
    pub event: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

/// Where one webhook delivery stands: retried with backoff while `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Storage writes enums with `as_str` and reads them back through serde: the two must agree.
    #[test]
    fn stored_names_are_the_serde_names() {
        fn same<T: Serialize>(value: T, name: &str) {
            assert_eq!(serde_json::to_value(value).unwrap(), name);
        }
        for status in crate::payment::ALL_STATUSES {
            same(status, status.as_str());
        }
        for status in [
            crate::payment::RefundStatus::Pending,
            crate::payment::RefundStatus::Succeeded,
            crate::payment::RefundStatus::Failed,
        ] {
            same(status, status.as_str());
        }
        for status in [
            SessionStatus::Open,
            SessionStatus::Processing,
            SessionStatus::Complete,
            SessionStatus::Locked,
        ] {
            same(status, status.as_str());
        }
        for status in [
            DeliveryStatus::Pending,
            DeliveryStatus::Succeeded,
            DeliveryStatus::Failed,
        ] {
            same(status, status.as_str());
        }
        for method in [CaptureMethod::Automatic, CaptureMethod::Manual] {
            same(method, method.as_str());
        }
        for reason in [
            RefundReason::RequestedByCustomer,
            RefundReason::Duplicate,
            RefundReason::Fraudulent,
        ] {
            same(reason, reason.as_str());
        }
        for number in ["4242", "5555", "3782", "6011", "3530", "6200"] {
            let brand = crate::card::Brand::detect(number).unwrap();
            same(brand, brand.as_str());
        }
    }

    fn session(amount: i64, items: Vec<LineItem>) -> CreateCheckoutSession {
        CreateCheckoutSession {
            amount,
            currency: Currency::parse("USD").unwrap(),
            capture_method: CaptureMethod::Automatic,
            line_items: items,
            return_url: None,
            merchant_reference: None,
        }
    }

    fn item(unit_amount: i64, quantity: u32) -> LineItem {
        LineItem {
            name: "Mug".into(),
            quantity,
            unit_amount,
        }
    }

    #[test]
    fn cart_must_add_up() {
        assert!(session(3000, vec![item(1000, 2), item(1000, 1)])
            .validate(DevHosts::default())
            .is_ok());
        let err = session(2999, vec![item(1000, 3)])
            .validate(DevHosts::default())
            .unwrap_err();
        assert_eq!(err.error.code, ErrorCode::AmountMismatch);
        let err = session(0, vec![item(0, 1)])
            .validate(DevHosts::default())
            .unwrap_err();
        assert_eq!(err.error.code, ErrorCode::AmountInvalid);
        let err = session(1000, vec![item(1000, 0)])
            .validate(DevHosts::default())
            .unwrap_err();
        assert_eq!(err.error.code, ErrorCode::LineItemsInvalid);
    }

    #[test]
    fn unknown_fields_and_bad_currency_are_rejected() {
        let unknown = r#"{"amount":100,"currency":"USD","colour":"red"}"#;
        assert!(serde_json::from_str::<CreateCheckoutSession>(unknown).is_err());
        let bad_currency = r#"{"amount":100,"currency":"XXX"}"#;
        assert!(serde_json::from_str::<CreateCheckoutSession>(bad_currency).is_err());
        let fractional = r#"{"amount":10.5,"currency":"USD"}"#;
        assert!(serde_json::from_str::<CreateCheckoutSession>(fractional).is_err());
    }

    #[test]
    fn webhook_endpoints_need_a_url_and_known_events() {
        let ok = CreateWebhookEndpoint {
            url: "https://shop.example/hooks".into(),
            events: vec!["payment.succeeded".into()],
        };
        assert!(ok.validate(DevHosts::default()).is_ok());
        let bad_url = CreateWebhookEndpoint {
            url: "ftp://x".into(),
            ..ok.clone()
        };
        assert_eq!(
            bad_url
                .validate(DevHosts::default())
                .unwrap_err()
                .error
                .code,
            ErrorCode::UrlInvalid
        );
        let bad_event = CreateWebhookEndpoint {
            events: vec!["payment.exploded".into()],
            ..ok.clone()
        };
        assert_eq!(
            bad_event
                .validate(DevHosts::default())
                .unwrap_err()
                .error
                .code,
            ErrorCode::EventsInvalid
        );
        let none = CreateWebhookEndpoint {
            events: vec![],
            ..ok
        };
        assert!(none.validate(DevHosts::default()).is_err());
    }

    #[test]
    fn return_url_must_be_absolute_and_not_script() {
        let mut s = session(100, vec![]);
        s.return_url = Some("myapp://checkout/done".into());
        assert!(s.validate(DevHosts::default()).is_ok());
        s.return_url = Some("javascript://alert(1)".into());
        assert!(s.validate(DevHosts::default()).is_err());
        s.return_url = Some("/relative".into());
        assert!(s.validate(DevHosts::default()).is_err());
    }
}

/// A merchant's own account at a gateway (`POST /v1/gateway_accounts`): payments then go to it
/// instead of the platform's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGatewayAccount {
    /// `stripe` or `sandbox`.
    pub connector: String,
    pub api_key: crate::secret::Secret<String>,
    /// Verifies the gateway's webhooks to Till.
    pub webhook_secret: crate::secret::Secret<String>,
    /// The gateway's API address, when it is not the connector's usual one.
    #[serde(default)]
    pub url: Option<String>,
}

/// Credentials are printable ASCII without spaces, at most this long.
const MAX_CREDENTIAL_LEN: usize = 256;

impl CreateGatewayAccount {
    /// Checks the credentials' shape and the URL (see [`crate::urls`]); returns the URL to call,
    /// `default_url` when none is given.
    pub fn validate(
        &self,
        default_url: Option<&str>,
        dev: DevHosts<'_>,
    ) -> Result<String, ApiError> {
        for (name, value) in [
            ("api_key", self.api_key.expose()),
            ("webhook_secret", self.webhook_secret.expose()),
        ] {
            let printable = value.bytes().all(|b| (0x21..=0x7e).contains(&b));
            if value.is_empty() || value.len() > MAX_CREDENTIAL_LEN || !printable {
                return Err(ApiError::new(ErrorCode::CredentialsInvalid)
                    .with_message(format!(
                        "{name} must be 1 to 256 printable characters without spaces."
                    ))
                    .with_param(name));
            }
        }
        let url = match (&self.url, default_url) {
            (Some(url), _) => url.clone(),
            (None, Some(default)) => default.to_string(),
            (None, None) => {
                return Err(ApiError::new(ErrorCode::UrlInvalid)
                    .with_message("This connector needs the gateway's url.")
                    .with_param("url"))
            }
        };
        check_webhook_url(&url, dev)
            .map(|url| url.trim_end_matches('/').to_string())
            .map_err(|e| {
                ApiError::new(ErrorCode::UrlInvalid)
                    .with_message(format!("url {}.", e.message()))
                    .with_param("url")
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayAccount {
    pub id: String,
    pub object: String,
    pub connector: String,
    /// Where the gateway must send its webhooks for this account.
    pub webhook_url: String,
    pub created: i64,
    pub updated: i64,
}
