//! Request and response bodies of Till's HTTP API. Requests reject unknown fields.

use crate::card::CardSummary;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{self, IdKind};
use crate::money::{Currency, Money, MoneyError};
use crate::payment::{DeclineCode, PaymentStatus};
use crate::payment_method_type::PaymentMethodType;
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
    /// The customer paying (`cus_…`); required for a wallet top-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default)]
    pub purpose: Purpose,
    /// A saved card pays only with its security code typed again.
    #[serde(default)]
    pub require_cvc: bool,
    /// Where the receipt goes (else the customer's email, if the session has a customer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_email: Option<String>,
    /// The receipt's language (`ko`, `en-US`; else the customer's, else English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// An FX quote (`fxq_…`) whose `to` is this session's amount and currency: the customer
    /// pays in their currency and the merchant is settled the quote's `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fx_quote: Option<String>,
    /// How the customer may pay, in the order the widget offers them (default: card only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_types: Option<Vec<PaymentMethodType>>,
}

/// Where a checkout's money goes when its payment succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// To the merchant.
    #[default]
    Payment,
    /// Into the customer's wallet.
    WalletTopUp,
    /// A transfer paid by card: into the receiver's wallet. Made only by `POST /v1/transfers`.
    Transfer,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Payment => "payment",
            Purpose::WalletTopUp => "wallet_top_up",
            Purpose::Transfer => "transfer",
        }
    }
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
    /// The receipt's address and language, checked (`email_invalid`, `locale_invalid`) and
    /// normalized.
    pub fn receipt(&self) -> Result<(Option<String>, Option<String>), ApiError> {
        let email = self
            .receipt_email
            .as_deref()
            .map(|email| {
                crate::customer::normalize_email(email)
                    .map_err(|error| error.with_param("receipt_email"))
            })
            .transpose()?;
        let locale = self
            .locale
            .as_deref()
            .map(crate::customer::checked_locale)
            .transpose()?;
        Ok((email, locale))
    }

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
        check_return_url_param(self.return_url.as_deref(), dev)?;
        check_merchant_reference(self.merchant_reference.as_deref())?;
        if self.purpose == Purpose::Transfer {
            return Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message("Transfers are made with POST /v1/transfers.")
                .with_param("purpose"));
        }
        match &self.customer {
            Some(customer) if !ids::is_valid(IdKind::Customer, customer) => {
                return Err(ApiError::not_found("customer").with_param("customer"))
            }
            None if self.purpose == Purpose::WalletTopUp => {
                return Err(ApiError::new(ErrorCode::ParameterInvalid)
                    .with_message("A wallet top-up needs the customer whose wallet it fills.")
                    .with_param("customer"))
            }
            _ => {}
        }
        Ok(total)
    }
}

/// The merchant's own reference: at most 200 characters, no control characters.
fn check_merchant_reference(reference: Option<&str>) -> Result<(), ApiError> {
    match reference {
        Some(r) if r.chars().count() > MAX_TEXT || r.chars().any(char::is_control) => {
            Err(ApiError::new(ErrorCode::MerchantReferenceInvalid).with_param("merchant_reference"))
        }
        _ => Ok(()),
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
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub purpose: Purpose,
    /// A saved card pays only with its security code typed again.
    #[serde(default)]
    pub require_cvc: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Present when the customer pays in another currency than the merchant is settled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<crate::fx::Converted>,
    /// How the customer may pay, in the order offered.
    #[serde(default = "card_only")]
    pub payment_method_types: Vec<PaymentMethodType>,
    /// What the customer's wallet holds in the session's currency, when the session offers
    /// `wallet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_balance: Option<i64>,
    pub created: i64,
}

fn card_only() -> Vec<PaymentMethodType> {
    crate::payment_method_type::DEFAULT.to_vec()
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

/// Pays a checkout session with a card just entered (`token`) or one the customer saved
/// (`payment_method`): exactly one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmCheckoutSession {
    pub client_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// The customer agreed to keep the card for next time (sessions with a `customer` only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub save_payment_method: bool,
    /// The saved card's security code, typed again and encrypted like a card (a compact JWE of
    /// `{cvc, iat, nonce}`), for sessions created with `require_cvc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_cvc: Option<String>,
    /// The bank (an id from the session's `banks`) the customer pays from, by redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    /// What the session customer's wallet pays: all of the amount alone, or part of it with a
    /// `token` or `payment_method` for the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_amount: Option<i64>,
}

/// What a confirm pays with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayWith {
    Token(String),
    PaymentMethod(String),
    /// A bank redirect from this bank.
    Bank(String),
    /// The session customer's wallet, for all of it.
    Wallet,
}

impl ConfirmCheckoutSession {
    pub fn pay_with(&self) -> Result<PayWith, ApiError> {
        let invalid = |message: &str, param: &str| {
            Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message(message)
                .with_param(param))
        };
        match (&self.token, &self.payment_method, &self.bank) {
            (None, None, None) if self.wallet_amount.is_some() => {
                if self.save_payment_method || self.encrypted_cvc.is_some() {
                    return invalid(
                        "A wallet payment saves no card and takes no security code.",
                        "wallet_amount",
                    );
                }
                Ok(PayWith::Wallet)
            }
            (None, None, Some(_)) if self.wallet_amount.is_some() => invalid(
                "A bank pays all of it: a wallet part goes with a card.",
                "wallet_amount",
            ),
            (Some(_), None, None) if self.encrypted_cvc.is_some() => invalid(
                "encrypted_cvc goes with a saved payment_method; a token has its own.",
                "encrypted_cvc",
            ),
            (Some(token), None, None) => Ok(PayWith::Token(token.clone())),
            (None, Some(method), None) if !self.save_payment_method => {
                Ok(PayWith::PaymentMethod(method.clone()))
            }
            (None, Some(_), None) => invalid(
                "A saved payment method is already saved.",
                "save_payment_method",
            ),
            (None, None, Some(bank)) => {
                if self.save_payment_method || self.encrypted_cvc.is_some() {
                    return invalid(
                        "A bank payment saves no card and takes no security code.",
                        "bank",
                    );
                }
                if !crate::payment_method_type::is_valid_bank_id(bank) {
                    return Err(ApiError::not_found("bank").with_param("bank"));
                }
                Ok(PayWith::Bank(bank.clone()))
            }
            _ => invalid(
                "Send exactly one of token, payment_method, bank and wallet_amount \
                 (a wallet_amount may come with a card).",
                "token",
            ),
        }
    }

    /// The way this confirm pays (the session must offer it).
    pub fn method_type(pay_with: &PayWith) -> PaymentMethodType {
        match pay_with {
            PayWith::Token(_) | PayWith::PaymentMethod(_) => PaymentMethodType::Card,
            PayWith::Bank(_) => PaymentMethodType::BankRedirect,
            PayWith::Wallet => PaymentMethodType::Wallet,
        }
    }
}

impl Payment {
    /// What paid, as people read it: `Visa •••• 4242`, the bank's name, `Wallet`, or
    /// `Wallet + Visa •••• 4242` when the wallet paid part.
    pub fn paid_with(&self) -> String {
        let outside = match (&self.card, &self.bank) {
            (Some(card), _) => format!("{} •••• {}", card.brand.display_name(), card.last4),
            (None, Some(bank)) => bank.name.clone(),
            (None, None) => String::new(),
        };
        match (self.wallet_amount > 0, outside.is_empty()) {
            (false, _) => outside,
            (true, true) => "Wallet".into(),
            (true, false) => format!("Wallet + {outside}"),
        }
    }
}

/// A bank customers pay from by redirect, as the bank lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankSummary {
    pub id: String,
    pub name: String,
}

/// The banks a session's customer may pay from (`GET /v1/checkout_sessions/:id/banks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankList {
    pub object: String,
    pub data: Vec<BankSummary>,
}

/// A card a customer saved, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub object: String,
    pub customer: String,
    pub card: CardSummary,
    pub created: i64,
}

/// A request's optional `return_url` (checkout sessions, customer sessions), as the API refuses
/// it: `return_url_invalid` with the reason.
fn check_return_url_param(url: Option<&str>, dev: DevHosts<'_>) -> Result<(), ApiError> {
    match url {
        Some(url) => check_return_url(url, dev).map(|_| ()).map_err(|e| {
            ApiError::new(ErrorCode::ReturnUrlInvalid)
                .with_message(format!("return_url {}.", e.message()))
                .with_param("return_url")
        }),
        None => Ok(()),
    }
}

/// `POST /v1/customer_sessions`: a short-lived secret that lets the widget show one customer's
/// saved cards and, with `wallet`, the hosted wallet page act for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerSession {
    pub customer: String,
    /// Lets the session's holder see the customer's wallet and move its money (top up, send,
    /// withdraw): the hosted wallet page. Off unless asked for.
    #[serde(default)]
    pub wallet: bool,
    /// Where the wallet page's Done sends the customer (an app's scheme or a web page).
    #[serde(default)]
    pub return_url: Option<String>,
    /// Lets the session's holder see the customer's subscriptions and invoices, change the
    /// card they are charged to, and cancel them at the period's end. Off unless asked for.
    #[serde(default)]
    pub subscriptions: bool,
}

impl CreateCustomerSession {
    pub fn validate(&self, dev: DevHosts<'_>) -> Result<(), ApiError> {
        check_return_url_param(self.return_url.as_deref(), dev)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSession {
    pub id: String,
    pub object: String,
    pub customer: String,
    /// Present only in the response to the create call: give it to the widget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub wallet: bool,
    pub subscriptions: bool,
    pub return_url: Option<String>,
    pub expires_at: i64,
}

/// `GET /v1/customer_sessions/:id/wallet`: what the hosted wallet page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wallet {
    pub object: String,
    pub customer: String,
    pub name: Option<String>,
    pub balances: Vec<BalanceAmount>,
    /// The wallet's latest movements, newest first.
    pub history: Vec<WalletEntry>,
    pub return_url: Option<String>,
}

/// One movement of a wallet, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletEntry {
    pub id: String,
    /// The operation: `top_up`, `transfer`, `payout_requested`, `payout_failed`, ...
    pub kind: String,
    /// The payment, transfer or payout it belongs to.
    pub source: String,
    pub amount: i64,
    pub currency: Currency,
    pub balance_after: i64,
    pub created: i64,
}

/// `POST /v1/customer_sessions/:id/top_ups`: a checkout session that adds money to the wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTopUp {
    pub client_secret: String,
    pub amount: i64,
    pub currency: Currency,
}

/// `POST /v1/customer_sessions/:id/transfers`: the wallet's owner sends money from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletTransfer {
    pub client_secret: String,
    /// A customer id, a phone number (E.164) or an email.
    pub to: String,
    pub amount: i64,
    pub currency: Currency,
    #[serde(default)]
    pub note: Option<String>,
}

impl WalletTransfer {
    /// The transfer, from `customer`'s wallet.
    pub fn from(self, customer: &str) -> crate::transfer::CreateTransfer {
        crate::transfer::CreateTransfer {
            from_customer: customer.to_string(),
            to: self.to,
            amount: self.amount,
            currency: self.currency,
            source: "wallet".into(),
            note: self.note,
        }
    }
}

/// `POST /v1/customer_sessions/:id/payouts`: the wallet's owner withdraws to a bank account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletPayout {
    pub client_secret: String,
    pub amount: i64,
    pub currency: Currency,
    pub bank_account: crate::payout::BankAccountInput,
}

impl WalletPayout {
    /// The payout, from `customer`'s wallet.
    pub fn from(self, customer: &str) -> crate::payout::CreatePayout {
        crate::payout::CreatePayout {
            customer: customer.to_string(),
            amount: self.amount,
            currency: self.currency,
            bank_account: self.bank_account,
        }
    }
}

/// `POST /v1/payments`: a merchant-initiated charge of a saved card, without the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    pub customer: String,
    pub payment_method: String,
    pub amount: i64,
    pub currency: Currency,
    /// Must be `true`: the customer is not present (a subscription, a top-up they set up).
    pub off_session: bool,
    #[serde(default)]
    pub capture_method: CaptureMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference: Option<String>,
}

impl CreatePayment {
    pub fn validate(&self) -> Result<Money, ApiError> {
        if !self.off_session {
            return Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message(
                    "Payments with the customer present go through a checkout session; \
                     this endpoint charges off_session only.",
                )
                .with_param("off_session"));
        }
        if !ids::is_valid(IdKind::Customer, &self.customer) {
            return Err(ApiError::not_found("customer").with_param("customer"));
        }
        if !ids::is_valid(IdKind::PaymentMethod, &self.payment_method) {
            return Err(ApiError::not_found("payment method").with_param("payment_method"));
        }
        check_merchant_reference(self.merchant_reference.as_deref())?;
        Money::payable(self.amount, self.currency).map_err(|e| {
            ApiError::new(ErrorCode::AmountInvalid)
                .with_message(e.to_string())
                .with_param("amount")
        })
    }
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
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub purpose: Purpose,
    /// The saved card it was paid with.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// An off-session charge the bank wants the customer to authenticate: only in the answer to
    /// `POST /v1/payments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_action: Option<CustomerAction>,
    /// What paid: a card, or a bank by redirect.
    #[serde(default)]
    pub payment_method_type: PaymentMethodType,
    /// What the customer's Till wallet paid of the amount: all of it (`payment_method_type:
    /// wallet`), part of it with a card for the rest, or 0.
    #[serde(default)]
    pub wallet_amount: i64,
    /// The card, for a card payment.
    #[serde(default)]
    pub card: Option<CardSummary>,
    /// The bank, for a bank payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<BankSummary>,
    #[serde(default)]
    pub failure_code: Option<DeclineCode>,
    #[serde(default)]
    pub failure_message: Option<String>,
    /// How Till's fraud rules saw the attempt (for the merchant; the browser never sees it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<crate::risk::RiskAssessment>,
    /// Held by a `review` rule: authorized, not captured until the merchant approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<crate::risk::ReviewStatus>,
    /// Present when the customer paid in another currency than the merchant is settled in:
    /// `amount` and `currency` are what the card paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<crate::fx::Converted>,
    /// For a converted payment: what its refunds took in the settlement currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_refunded: Option<i64>,
    pub created: i64,
}

/// How the customer pays a charge their bank would not take without them: on the hosted page,
/// `https://<edge>/checkout/<checkout_session>?key=<publishable key>#secret=<client_secret>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAction {
    pub checkout_session: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// A one-time code from the card issuer (3-D Secure challenge), entered in the widget.
    OtpChallenge { attempts_remaining: u8 },
    /// The customer approves the payment at their bank, at `url`; the bank sends them back
    /// and tells Till the outcome.
    RedirectToUrl { url: String },
}

/// The customer gives up on their bank and chooses another way to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReopenCheckoutSession {
    pub client_secret: String,
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
    /// What goes back to the customer's wallet (a payment the wallet paid, all or part of);
    /// the rest goes to the card.
    #[serde(default)]
    pub wallet_amount: i64,
    /// For a converted payment: what the refund takes from the merchant in its settlement
    /// currency, at the payment's original rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<crate::fx::QuotedAmount>,
    pub created: i64,
}

/// Events a merchant can subscribe to.
pub const EVENT_TYPES: [&str; 32] = [
    "payment.succeeded",
    "payment.failed",
    "payment.requires_action",
    "refund.succeeded",
    "refund.failed",
    "reconciliation.mismatch",
    "checkout_session.locked",
    "customer.created",
    "customer.updated",
    "transfer.succeeded",
    "transfer.awaiting_claim",
    "transfer.returned",
    "transfer.failed",
    "payout.created",
    "payout.paid",
    "payout.failed",
    "payout.returned",
    "report.daily",
    "refund_request.created",
    "refund_request.approved",
    "refund_request.declined",
    "review.opened",
    "review.closed",
    "dispute.created",
    "dispute.updated",
    "dispute.closed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.created",
    "invoice.paid",
    "invoice.payment_failed",
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

/// One page of a list, newest first. When `has_more`, the next page is asked for with
/// `starting_after` set to the last object's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List<T> {
    pub object: String,
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T> List<T> {
    /// A page from the rows read for it: one more than `limit` was read, to learn whether
    /// another page follows.
    pub fn page(mut rows: Vec<T>, limit: usize) -> List<T> {
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        List {
            object: "list".into(),
            data: rows,
            has_more,
        }
    }
}

/// Which page of a list: `limit` (1 to 100, 10 when absent) and the id it starts after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub starting_after: Option<String>,
}

pub const MAX_PAGE: usize = 100;

impl Page {
    /// The page named by a list's query parameters; `starting_after` must be an id of `kind`.
    pub fn parse(
        limit: Option<&str>,
        starting_after: Option<&str>,
        kind: IdKind,
    ) -> Result<Page, ApiError> {
        let limit = match limit {
            None => 10,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::ParameterInvalid)
                        .with_message(format!("limit is a number from 1 to {MAX_PAGE}."))
                        .with_param("limit")
                })?,
        };
        let starting_after = match starting_after {
            None => None,
            Some(id) if ids::is_valid(kind, id) => Some(id.to_string()),
            Some(_) => return Err(ApiError::cursor_invalid()),
        };
        Ok(Page {
            limit,
            starting_after,
        })
    }
}

/// An amount held in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceAmount {
    pub amount: i64,
    pub currency: Currency,
}

/// `GET /v1/balance`: what the merchant holds, and what it holds for its customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub object: String,
    /// The merchant's own money: paid payments less refunds.
    pub available: Vec<BalanceAmount>,
    /// The sum of the customers' wallets.
    pub customer_wallets: Vec<BalanceAmount>,
    /// Transfers waiting for receivers who are not customers yet.
    pub pending_claims: Vec<BalanceAmount>,
}

/// `GET /v1/customers/:id/balance`: a customer's wallet, per currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerBalance {
    pub object: String,
    pub customer: String,
    pub available: Vec<BalanceAmount>,
}

/// One entry of the ledger: money into (`amount > 0`) or out of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub object: String,
    /// The transaction it belongs to: its entries sum to zero.
    pub transaction: String,
    /// The operation: `card_payment`, `bank_payment`, `refund`, `bank_refund`, `top_up`, `transfer`, ...
    pub kind: String,
    /// The payment, refund or transfer the operation belongs to.
    pub source: String,
    /// The account, e.g. `wallet:cus_…:USD` or `merchant:mer_…:USD`.
    pub account: String,
    pub amount: i64,
    pub currency: Currency,
    /// The account's balance right after this entry.
    pub balance_after: i64,
    pub created: i64,
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

    #[test]
    fn a_confirm_pays_with_exactly_one_of_a_card_a_saved_card_and_a_bank() {
        let confirm = |body: serde_json::Value| -> ConfirmCheckoutSession {
            serde_json::from_value(body).unwrap()
        };
        let paid = |body: serde_json::Value| confirm(body).pay_with();
        assert_eq!(
            paid(serde_json::json!({"client_secret": "s", "bank": "hana_test"})).unwrap(),
            PayWith::Bank("hana_test".into())
        );
        assert_eq!(
            ConfirmCheckoutSession::method_type(&PayWith::Bank("b".into())),
            PaymentMethodType::BankRedirect
        );
        for (body, param) in [
            (
                serde_json::json!({"client_secret": "s", "bank": "b", "token": "tok_1"}),
                "token",
            ),
            (serde_json::json!({"client_secret": "s"}), "token"),
            (
                serde_json::json!({"client_secret": "s", "bank": "b", "save_payment_method": true}),
                "bank",
            ),
            (
                serde_json::json!({"client_secret": "s", "bank": "b", "encrypted_cvc": "x"}),
                "bank",
            ),
            (
                serde_json::json!({"client_secret": "s", "bank": "Bank of 한국"}),
                "bank",
            ),
        ] {
            let error = paid(body.clone()).unwrap_err();
            assert_eq!(error.error.param.as_deref(), Some(param), "{body}");
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
            customer: None,
            purpose: Purpose::Payment,
            require_cvc: false,
            receipt_email: None,
            locale: None,
            fx_quote: None,
            payment_method_types: None,
        }
    }

    #[test]
    fn a_top_up_names_the_customer_whose_wallet_it_fills() {
        let top_up = CreateCheckoutSession {
            purpose: Purpose::WalletTopUp,
            ..session(500, vec![])
        };
        let dev = DevHosts(&[]);
        assert_eq!(
            top_up.validate(dev).unwrap_err().code(),
            ErrorCode::ParameterInvalid
        );
        let customer = ids::new_id(IdKind::Customer, [5; 16]);
        let named = CreateCheckoutSession {
            customer: Some(customer),
            ..top_up.clone()
        };
        assert!(named.validate(dev).is_ok());
        let wrong = CreateCheckoutSession {
            customer: Some("pay_1".into()),
            ..top_up
        };
        assert_eq!(
            wrong.validate(dev).unwrap_err().code(),
            ErrorCode::ResourceMissing
        );
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

    #[test]
    fn pages_take_a_bounded_limit_and_a_cursor_of_the_right_kind() {
        let customer = ids::new_id(IdKind::Customer, [4; 16]);
        let page = Page::parse(None, None, IdKind::Customer).unwrap();
        assert_eq!((page.limit, page.starting_after), (10, None));
        let page = Page::parse(Some("100"), Some(&customer), IdKind::Customer).unwrap();
        assert_eq!(
            (page.limit, page.starting_after),
            (100, Some(customer.clone()))
        );
        for bad in ["0", "101", "-1", "ten", "", "1.5"] {
            let error = Page::parse(Some(bad), None, IdKind::Customer).unwrap_err();
            assert_eq!(error.code(), ErrorCode::ParameterInvalid, "{bad:?}");
        }
        let error = Page::parse(None, Some(&customer), IdKind::Transfer).unwrap_err();
        assert_eq!(error.code(), ErrorCode::CursorInvalid);
        let list = List::page(vec![1, 2, 3], 2);
        assert_eq!((list.data, list.has_more), (vec![1, 2], true));
        let list = List::page(vec![1, 2], 2);
        assert_eq!((list.data, list.has_more), (vec![1, 2], false));
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
