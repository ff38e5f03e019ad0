//! The edge's API as the widget uses it. Errors keep the API's `code` and `param` so the form can
//! put them next to the right field.

use crate::json::{self, FromJson, Object, ToJson, Writer};
use js_sys::{Promise, Reflect};
use till_core::api::{
    CompleteChallenge, ConfirmCheckoutSession, CreateToken, ReopenCheckoutSession, SessionStatus,
};
use till_core::card::Brand;
use till_core::error::ErrorCode;
use till_core::money::Currency;
use till_core::payment::{DeclineCode, PaymentStatus};
use till_core::payment_method_type::PaymentMethodType;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// What the widget reads of the API's `CheckoutSession`: only what it shows or acts on.
/// Decoding the whole object (line items, capture method, references) cost wasm for fields the
/// widget never reads; the browser tests hold these names to the API's.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: SessionStatus,
    pub return_url: Option<String>,
    pub merchant_name: String,
    /// Set when the merchant made the session for a customer: the card may then be saved.
    pub customer: Option<String>,
    /// A saved card pays only with its security code typed again.
    pub require_cvc: bool,
    /// Present when the customer pays in their currency and the merchant is settled in its own.
    pub conversion: Option<Conversion>,
    /// How the customer may pay, in the order offered.
    pub payment_method_types: Vec<PaymentMethodType>,
    /// What the customer's wallet holds in the session's currency, when it may pay.
    pub wallet_balance: Option<i64>,
    /// The customer's saved cards, read with the customer session the widget was opened with.
    pub saved_cards: Vec<SavedCard>,
}

impl FromJson for Session {
    fn from_json(session: &Object) -> Option<Self> {
        let payment_method_types = if session.has("payment_method_types") {
            session.texts("payment_method_types", PaymentMethodType::parse)?
        } else {
            vec![PaymentMethodType::Card]
        };
        Some(Session {
            id: session.text("id")?,
            amount: session.integer("amount")?,
            currency: currency(session, "currency")?,
            status: SessionStatus::parse(&session.text("status")?)?,
            return_url: session.text("return_url"),
            merchant_name: session.text("merchant_name")?,
            customer: session.text("customer"),
            require_cvc: session.flag("require_cvc").unwrap_or(false),
            conversion: session
                .object("conversion")
                .and_then(|c| Conversion::from_json(&c)),
            payment_method_types,
            wallet_balance: session.integer("wallet_balance"),
            saved_cards: Vec::new(),
        })
    }
}

fn currency(object: &Object, name: &str) -> Option<Currency> {
    Currency::parse(&object.text(name)?).ok()
}

/// What the widget reads of the session's `conversion` (`till_core::fx::Converted`): what to
/// show beside the total.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub settlement: SettlementAmount,
    /// Units of the session's currency per unit of the settlement's, as decimal text.
    pub rate: String,
    pub markup_bps: u32,
    pub expires_at: i64,
}

impl FromJson for Conversion {
    fn from_json(conversion: &Object) -> Option<Self> {
        let settlement = conversion.object("settlement")?;
        Some(Conversion {
            settlement: SettlementAmount {
                amount: settlement.integer("amount")?,
                currency: currency(&settlement, "currency")?,
            },
            rate: conversion.text("rate")?,
            markup_bps: conversion.small("markup_bps")?,
            expires_at: conversion.integer("expires_at")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct SettlementAmount {
    pub amount: i64,
    pub currency: Currency,
}

/// What the widget reads of the API's `Payment`.
#[derive(Debug, Clone)]
pub struct Payment {
    pub id: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: PaymentStatus,
    pub next_action: Option<Challenge>,
    pub payment_method_type: PaymentMethodType,
    pub card: Option<Card>,
    pub bank: Option<Bank>,
    /// What the customer's wallet paid of it.
    pub wallet_amount: i64,
    pub failure_code: Option<DeclineCode>,
    pub failure_message: Option<String>,
}

impl FromJson for Payment {
    fn from_json(payment: &Object) -> Option<Self> {
        Some(Payment {
            id: payment.text("id")?,
            amount: payment.integer("amount")?,
            currency: currency(payment, "currency")?,
            status: PaymentStatus::parse(&payment.text("status")?)?,
            next_action: payment.object("next_action").map(|action| Challenge {
                attempts_remaining: action.small("attempts_remaining").unwrap_or(0),
                url: action.text("url"),
            }),
            payment_method_type: payment
                .text("payment_method_type")
                .and_then(|name| PaymentMethodType::parse(&name))
                .unwrap_or_default(),
            card: payment.object("card").and_then(|card| {
                Some(Card {
                    brand: Brand::parse(&card.text("brand")?)?,
                    last4: card.text("last4")?,
                })
            }),
            bank: payment
                .object("bank")
                .and_then(|bank| Bank::from_json(&bank)),
            wallet_amount: payment.integer("wallet_amount").unwrap_or(0),
            failure_code: payment
                .text("failure_code")
                .and_then(|code| DeclineCode::parse(&code)),
            failure_message: payment.text("failure_message"),
        })
    }
}

/// What the widget reads of the API's error answer (`{"error": {...}}`): its type, the code as
/// its wire name, the message and the parameter at fault.
struct ErrorAnswer {
    /// `api_error` when the failure was on Till's or the gateway's side.
    kind: String,
    code: String,
    message: String,
    param: Option<String>,
}

impl FromJson for ErrorAnswer {
    fn from_json(answer: &Object) -> Option<Self> {
        let error = answer.object("error")?;
        Some(ErrorAnswer {
            kind: error.text("type")?,
            code: error.text("code")?,
            message: error.text("message")?,
            param: error.text("param"),
        })
    }
}

/// What the widget reads of a payment's `next_action` (`otp_challenge` or `redirect_to_url`):
/// read as a plain object rather than the API's tagged `NextAction`, whose decoding costs
/// several KB.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub attempts_remaining: u8,
    /// The bank's page, for a bank payment.
    pub url: Option<String>,
}

/// A bank the customer may pay from (a session's `banks`, a payment's `bank`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    pub id: String,
    pub name: String,
}

impl FromJson for Bank {
    fn from_json(bank: &Object) -> Option<Self> {
        Some(Bank {
            id: bank.text("id").unwrap_or_default(),
            name: bank.text("name")?,
        })
    }
}

/// A list answer's `data`.
struct List<T>(Vec<T>);

impl<T: FromJson> FromJson for List<T> {
    fn from_json(list: &Object) -> Option<Self> {
        list.list("data").map(List)
    }
}

/// What the widget reads of a card token: its id, to confirm with.
#[derive(Debug, Clone)]
pub struct Token {
    pub id: String,
}

impl FromJson for Token {
    fn from_json(token: &Object) -> Option<Self> {
        Some(Token {
            id: token.text("id")?,
        })
    }
}

/// What the widget reads of the edge's JWKS (`GET /v1/keys`; the first key is current).
#[derive(Debug, Clone)]
pub struct Keys {
    pub keys: Vec<Key>,
}

impl FromJson for Keys {
    fn from_json(keys: &Object) -> Option<Self> {
        Some(Keys {
            keys: keys.list("keys")?,
        })
    }
}

/// A P-256 public key to encrypt cards to: its id and coordinates (base64url).
#[derive(Debug, Clone)]
pub struct Key {
    pub kid: Option<String>,
    pub x: String,
    pub y: String,
}

impl FromJson for Key {
    fn from_json(key: &Object) -> Option<Self> {
        Some(Key {
            kid: key.text("kid"),
            x: key.text("x")?,
            y: key.text("y")?,
        })
    }
}

/// A card the customer saved, as a customer session lists it.
#[derive(Debug, Clone)]
pub struct SavedCard {
    pub id: String,
    pub card: SavedCardFace,
}

#[derive(Debug, Clone)]
pub struct SavedCardFace {
    pub brand: Brand,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

impl FromJson for SavedCard {
    fn from_json(saved: &Object) -> Option<Self> {
        let card = saved.object("card")?;
        Some(SavedCard {
            id: saved.text("id")?,
            card: SavedCardFace {
                brand: Brand::parse(&card.text("brand")?)?,
                last4: card.text("last4")?,
                exp_month: card.small("exp_month")?,
                exp_year: card.small("exp_year")?,
            },
        })
    }
}

/// What the receipt shows of the card.
#[derive(Debug, Clone)]
pub struct Card {
    pub brand: Brand,
    pub last4: String,
}

#[derive(Debug, Clone)]
pub enum CallError {
    /// The edge answered with an API error. `code` is the wire name (empty when the answer was
    /// not an error the edge made); compared with [`CallError::is`], so the widget carries only
    /// the names it handles, not every code of the API.
    Api {
        code: String,
        /// Nothing in the request was wrong: Till or the gateway could not finish it yet.
        retryable: bool,
        message: String,
        param: Option<String>,
    },
    /// The card could not be encrypted in this browser; the reason is technical.
    Encryption(String),
    /// No answer: offline, or the connection dropped.
    Network,
}

impl CallError {
    pub fn message(&self) -> String {
        match self {
            CallError::Api { message, .. } => {
                crate::i18n::api_error(self).map_or_else(|| message.clone(), String::from)
            }
            CallError::Encryption(reason) => (crate::i18n::t().encryption_failed)(reason),
            CallError::Network => crate::i18n::t().network_error.into(),
        }
    }

    /// Whether the edge refused with this code's wire name. Write it
    /// `const { ErrorCode::X.as_str() }`: evaluated at compile time, so only the names the
    /// widget asks about are in it.
    pub fn is(&self, wire_name: &str) -> bool {
        matches!(self, CallError::Api { code, .. } if code == wire_name)
    }

    /// Sending the same request again later may give a final answer.
    pub fn may_succeed_later(&self) -> bool {
        match self {
            CallError::Api { retryable, .. } => *retryable,
            CallError::Encryption(_) => false,
            CallError::Network => true,
        }
    }
}

/// The edge, called with the checkout's publishable key (`Launch::edge`).
#[derive(Clone)]
pub struct Edge {
    pub publishable_key: String,
}

/// One request to the edge (the widget's own origin) through the browser's `fetch`; a request
/// that got no answer is a network failure.
async fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Result<Response, CallError> {
    let sent = web_sys::Headers::new().map_err(|_| CallError::Network)?;
    for (name, value) in headers {
        sent.set(name, value).map_err(|_| CallError::Network)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&sent);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(&body));
    }
    let window = web_sys::window().ok_or(CallError::Network)?;
    JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .ok()
        .and_then(|answer| answer.dyn_into::<Response>().ok())
        .ok_or(CallError::Network)
}

/// The edge's answer: its body, parsed, when it succeeded, else the error it describes. Not
/// generic, so one copy reads every answer (generic over the answer's type, it was one copy of
/// ~2.3 KB of wasm per type); [`read`] makes the body the type.
async fn answer(response: Response) -> Result<json::Object, CallError> {
    // A body cut off on the way is a network failure; one that arrived whole is the edge's.
    let reading = response.text().map_err(|_| CallError::Network)?;
    let text = JsFuture::from(reading)
        .await
        .ok()
        .and_then(|text| text.as_string())
        .ok_or(CallError::Network)?;
    if response.ok() {
        return json::Object::parse(&text).ok_or(CallError::Network);
    }
    match json::from_str::<ErrorAnswer>(&text) {
        Some(error) => Err(CallError::Api {
            retryable: error.kind == "api_error"
                || error.code == const { ErrorCode::IdempotencyRequestInProgress.as_str() },
            code: error.code,
            message: error.message,
            param: error.param,
        }),
        None => Err(CallError::Api {
            code: String::new(),
            retryable: false,
            message: crate::i18n::t().unexpected_response.into(),
            param: None,
        }),
    }
}

/// `T` read from a successful answer's body; a body of another shape is as good as none.
fn read<T: FromJson>(body: json::Object) -> Result<T, CallError> {
    T::from_json(&body).ok_or(CallError::Network)
}

impl ToJson for CreateToken {
    fn to_json(&self) -> JsValue {
        Writer::new()
            .field("checkout_session", self.checkout_session.as_str())
            .field("client_secret", self.client_secret.as_str())
            .field("encrypted_card", self.encrypted_card.as_str())
            .done()
    }
}

impl ToJson for ConfirmCheckoutSession {
    fn to_json(&self) -> JsValue {
        Writer::new()
            .field("client_secret", self.client_secret.as_str())
            .field("token", self.token.as_deref())
            .field("payment_method", self.payment_method.as_deref())
            .field(
                "save_payment_method",
                self.save_payment_method.then_some(true),
            )
            .field("encrypted_cvc", self.encrypted_cvc.as_deref())
            .field("bank", self.bank.as_deref())
            .integer("wallet_amount", self.wallet_amount)
            .done()
    }
}

impl ToJson for CompleteChallenge {
    fn to_json(&self) -> JsValue {
        Writer::new()
            .field("client_secret", self.client_secret.as_str())
            .field("otp", self.otp.as_str())
            .done()
    }
}

impl ToJson for ReopenCheckoutSession {
    fn to_json(&self) -> JsValue {
        Writer::new()
            .field("client_secret", self.client_secret.as_str())
            .done()
    }
}

/// `window.tillSession`, the session request `index.html` started, taken so it is used once.
async fn early_session() -> Option<Response> {
    let window = web_sys::window()?;
    let name = JsValue::from_str("tillSession");
    let promise = Reflect::get(&window, &name)
        .ok()?
        .dyn_into::<Promise>()
        .ok()?;
    let _ = Reflect::delete_property(&window, &name);
    JsFuture::from(promise).await.ok()?.dyn_into().ok()
}

impl Edge {
    fn auth(&self) -> String {
        format!("Bearer {}", self.publishable_key)
    }

    pub async fn post<B: ToJson, T: FromJson>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> Result<T, CallError> {
        let body = json::to_string(body).ok_or(CallError::Network)?;
        read(self.post_answer(path, body, idempotency_key).await?)
    }

    /// [`Edge::post`]'s request and answer, the same code for every body and answer type.
    async fn post_answer(
        &self,
        path: &str,
        body: String,
        idempotency_key: Option<&str>,
    ) -> Result<json::Object, CallError> {
        let auth = self.auth();
        let mut headers = vec![
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        if let Some(key) = idempotency_key {
            headers.push((till_core::idempotency::HEADER, key));
        }
        answer(fetch("POST", path, &headers, Some(body)).await?).await
    }

    pub async fn get<T: FromJson>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, CallError> {
        read(self.get_answer(path, query).await?)
    }

    /// [`Edge::get`]'s request and answer, the same code for every answer type.
    async fn get_answer(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<json::Object, CallError> {
        let params = web_sys::UrlSearchParams::new().map_err(|_| CallError::Network)?;
        for (name, value) in query {
            params.append(name, value);
        }
        let url = format!("{path}?{}", String::from(params.to_string()));
        let auth = self.auth();
        answer(fetch("GET", &url, &[("Authorization", &auth)], None).await?).await
    }

    /// The session. The first call takes the answer to the request `index.html` started while
    /// the wasm loaded, when there is one; later calls, or a failed early request, ask again.
    pub async fn session(&self, id: &str, client_secret: &str) -> Result<Session, CallError> {
        if let Some(early) = early_session().await {
            return read(answer(early).await?);
        }
        self.get(
            &format!("/v1/checkout_sessions/{id}"),
            &[("client_secret", client_secret)],
        )
        .await
    }

    /// The saved cards a customer session (`cuss_…_secret_…`) may see.
    pub async fn saved_cards(&self, customer_session: &str) -> Result<Vec<SavedCard>, CallError> {
        let id = customer_session
            .split_once("_secret_")
            .map_or(customer_session, |(id, _)| id);
        self.get::<List<SavedCard>>(
            &format!("/v1/customer_sessions/{id}/payment_methods"),
            &[("client_secret", customer_session)],
        )
        .await
        .map(|List(data)| data)
    }

    pub async fn keys(&self) -> Result<Keys, CallError> {
        read(answer(fetch("GET", "/v1/keys", &[], None).await?).await?)
    }

    pub async fn tokenize(&self, body: &CreateToken) -> Result<Token, CallError> {
        self.post("/v1/tokens", body, None).await
    }

    pub async fn confirm(
        &self,
        session_id: &str,
        body: &ConfirmCheckoutSession,
        idempotency_key: &str,
    ) -> Result<Payment, CallError> {
        self.post(
            &format!("/v1/checkout_sessions/{session_id}/confirm"),
            body,
            Some(idempotency_key),
        )
        .await
    }

    /// The banks the session's customer may pay from.
    pub async fn banks(
        &self,
        session_id: &str,
        client_secret: &str,
    ) -> Result<Vec<Bank>, CallError> {
        self.get::<List<Bank>>(
            &format!("/v1/checkout_sessions/{session_id}/banks"),
            &[("client_secret", client_secret)],
        )
        .await
        .map(|List(data)| data)
    }

    /// The session's latest payment (a bank payment is first asked about at the bank).
    pub async fn session_payment(
        &self,
        session_id: &str,
        client_secret: &str,
    ) -> Result<Payment, CallError> {
        self.get(
            &format!("/v1/checkout_sessions/{session_id}/payment"),
            &[("client_secret", client_secret)],
        )
        .await
    }

    /// Gives up on the bank: its payment is canceled unless it was approved meanwhile.
    pub async fn reopen(
        &self,
        session_id: &str,
        client_secret: &str,
    ) -> Result<Payment, CallError> {
        self.post(
            &format!("/v1/checkout_sessions/{session_id}/reopen"),
            &ReopenCheckoutSession {
                client_secret: client_secret.to_string(),
            },
            None,
        )
        .await
    }

    pub async fn challenge(
        &self,
        payment_id: &str,
        body: &CompleteChallenge,
    ) -> Result<Payment, CallError> {
        self.post(&format!("/v1/payments/{payment_id}/challenge"), body, None)
            .await
    }
}

/// The readers against what the edge writes: each answer is built from `till_core`'s API types
/// and written by serde_json, as the edge writes it, so a renamed or retyped field fails here.
#[cfg(test)]
mod tests {
    use super::*;
    use till_core::api::{self as wire, CaptureMethod, NextAction, Purpose};
    use till_core::card::CardSummary;
    use till_core::fx::{Converted, QuotedAmount};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).expect("a currency")
    }

    fn written<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_string(value).expect("serializable")
    }

    fn edge_session() -> wire::CheckoutSession {
        wire::CheckoutSession {
            id: "cs_0123456789abcdef0123456789abcdef".into(),
            object: "checkout_session".into(),
            amount: 123_456,
            currency: currency("KRW"),
            capture_method: CaptureMethod::Automatic,
            line_items: Vec::new(),
            status: SessionStatus::Open,
            client_secret: None,
            return_url: Some("http://127.0.0.1:8791/done".into()),
            merchant_reference: Some("order-1".into()),
            merchant_name: "Edge Goods 한국".into(),
            payment: None,
            customer: Some("cus_1".into()),
            purpose: Purpose::Payment,
            require_cvc: true,
            receipt_email: None,
            locale: Some("ko".into()),
            conversion: Some(Converted {
                fx_quote: "fxq_1".into(),
                settlement: QuotedAmount {
                    amount: 9_150,
                    currency: currency("USD"),
                },
                rate: "1349.2100".into(),
                markup_bps: 150,
                margin: 1_800,
                rates_date: "2026-11-27".into(),
                expires_at: 1_795_000_000,
            }),
            payment_method_types: vec![PaymentMethodType::Card, PaymentMethodType::BankRedirect],
            wallet_balance: Some(5_000),
            created: 1_794_999_000,
        }
    }

    #[wasm_bindgen_test]
    fn reads_a_session_as_the_edge_writes_it() {
        let session: Session = json::from_str(&written(&edge_session())).expect("read");
        assert_eq!(session.id, "cs_0123456789abcdef0123456789abcdef");
        assert_eq!(
            (session.amount, session.currency),
            (123_456, currency("KRW"))
        );
        assert_eq!(session.status, SessionStatus::Open);
        assert_eq!(session.merchant_name, "Edge Goods 한국");
        assert_eq!(session.customer.as_deref(), Some("cus_1"));
        assert!(session.require_cvc);
        assert_eq!(
            session.payment_method_types,
            [PaymentMethodType::Card, PaymentMethodType::BankRedirect]
        );
        assert_eq!(session.wallet_balance, Some(5_000));
        let conversion = session.conversion.expect("the conversion");
        assert_eq!(
            (conversion.settlement.amount, conversion.settlement.currency),
            (9_150, currency("USD"))
        );
        assert_eq!(
            (conversion.rate.as_str(), conversion.markup_bps),
            ("1349.2100", 150)
        );
        assert_eq!(conversion.expires_at, 1_795_000_000);
    }

    #[wasm_bindgen_test]
    fn a_session_missing_or_mistyping_what_the_form_needs_is_refused() {
        let whole = serde_json::to_value(edge_session()).expect("serializable");
        for (field, value) in [
            ("merchant_name", serde_json::Value::Null),
            ("amount", serde_json::json!("123456")),
            ("amount", serde_json::json!(1.5)),
            ("currency", serde_json::json!("XXX1")),
            ("status", serde_json::json!("exploded")),
            (
                "payment_method_types",
                serde_json::json!(["card", "crypto"]),
            ),
        ] {
            let mut changed = whole.clone();
            changed[field] = value.clone();
            assert!(
                json::from_str::<Session>(&changed.to_string()).is_none(),
                "{field} = {value}"
            );
        }
    }

    #[wasm_bindgen_test]
    fn an_older_session_without_methods_takes_cards_and_a_bad_conversion_is_left_out() {
        let mut older = serde_json::to_value(edge_session()).expect("serializable");
        let fields = older.as_object_mut().expect("an object");
        fields.remove("payment_method_types");
        fields.insert("conversion".into(), serde_json::json!({ "rate": 3 }));
        let session: Session = json::from_str(&older.to_string()).expect("read");
        assert_eq!(session.payment_method_types, [PaymentMethodType::Card]);
        assert!(session.conversion.is_none());
    }

    fn edge_payment(next_action: Option<NextAction>) -> wire::Payment {
        wire::Payment {
            id: "pay_0123456789abcdef0123456789abcdef".into(),
            object: "payment".into(),
            amount: 2_500,
            currency: currency("USD"),
            status: PaymentStatus::RequiresAction,
            capture_method: CaptureMethod::Automatic,
            amount_captured: 0,
            amount_refunded: 0,
            requires_review: false,
            next_action,
            checkout_session: "cs_0123456789abcdef0123456789abcdef".into(),
            customer: None,
            purpose: Purpose::Payment,
            payment_method: None,
            customer_action: None,
            payment_method_type: PaymentMethodType::Card,
            wallet_amount: 500,
            card: Some(CardSummary {
                brand: Brand::Visa,
                last4: "3184".into(),
                exp_month: 12,
                exp_year: 2030,
                fingerprint: Some("fp".into()),
            }),
            bank: None,
            failure_code: Some(DeclineCode::InsufficientFunds),
            failure_message: Some("Your card has insufficient funds.".into()),
            risk: None,
            review: None,
            conversion: None,
            settlement_refunded: None,
            created: 1_794_999_000,
        }
    }

    #[wasm_bindgen_test]
    fn reads_a_payment_and_its_challenge_as_the_edge_writes_them() {
        let challenge = Some(NextAction::OtpChallenge {
            attempts_remaining: 2,
        });
        let payment: Payment = json::from_str(&written(&edge_payment(challenge))).expect("read");
        assert_eq!(payment.id, "pay_0123456789abcdef0123456789abcdef");
        assert_eq!((payment.amount, payment.currency), (2_500, currency("USD")));
        assert_eq!(payment.status, PaymentStatus::RequiresAction);
        assert_eq!(payment.payment_method_type, PaymentMethodType::Card);
        assert_eq!(payment.wallet_amount, 500);
        let action = payment.next_action.expect("the challenge");
        assert_eq!((action.attempts_remaining, action.url), (2, None));
        let card = payment.card.expect("the card");
        assert_eq!((card.brand, card.last4.as_str()), (Brand::Visa, "3184"));
        assert_eq!(payment.failure_code, Some(DeclineCode::InsufficientFunds));

        let redirect = Some(NextAction::RedirectToUrl {
            url: "http://127.0.0.1:8790/bank/approve".into(),
        });
        let payment: Payment = json::from_str(&written(&edge_payment(redirect))).expect("read");
        assert_eq!(
            payment.next_action.and_then(|action| action.url).as_deref(),
            Some("http://127.0.0.1:8790/bank/approve")
        );
    }

    #[wasm_bindgen_test]
    fn a_newer_decline_code_still_reads_the_payment() {
        let mut newer = serde_json::to_value(edge_payment(None)).expect("serializable");
        newer["failure_code"] = serde_json::json!("some_code_added_later");
        let payment: Payment = json::from_str(&newer.to_string()).expect("read");
        assert_eq!(payment.failure_code, None);
        assert_eq!(
            payment.failure_message.as_deref(),
            Some("Your card has insufficient funds.")
        );
        newer["status"] = serde_json::json!(7);
        assert!(json::from_str::<Payment>(&newer.to_string()).is_none());
    }

    #[wasm_bindgen_test]
    fn reads_saved_cards_and_keys_as_the_edge_writes_them() {
        let list = wire::List {
            object: "list".into(),
            data: vec![wire::PaymentMethod {
                id: "pm_1".into(),
                object: "payment_method".into(),
                customer: "cus_1".into(),
                card: CardSummary {
                    brand: Brand::Mastercard,
                    last4: "4444".into(),
                    exp_month: 1,
                    exp_year: 2031,
                    fingerprint: None,
                },
                created: 1,
            }],
            has_more: false,
        };
        let List(cards) = json::from_str::<List<SavedCard>>(&written(&list)).expect("read");
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].id, "pm_1");
        let face = &cards[0].card;
        assert_eq!(
            (
                face.brand,
                face.last4.as_str(),
                face.exp_month,
                face.exp_year
            ),
            (Brand::Mastercard, "4444", 1, 2031)
        );

        let jwks = till_core::jwe::Jwks {
            keys: vec![till_core::jwe::EcPublicJwk {
                kty: "EC".into(),
                crv: "P-256".into(),
                x: "x-coordinate".into(),
                y: "y-coordinate".into(),
                kid: Some("k1".into()),
                key_use: Some("enc".into()),
                alg: Some("ECDH-ES".into()),
            }],
        };
        let keys: Keys = json::from_str(&written(&jwks)).expect("read");
        let key = &keys.keys[0];
        assert_eq!(
            (key.kid.as_deref(), key.x.as_str(), key.y.as_str()),
            (Some("k1"), "x-coordinate", "y-coordinate")
        );
    }

    /// What the widget writes, read back by the edge's own deserializer.
    fn read_by_the_edge<T: serde::de::DeserializeOwned>(body: &impl ToJson) -> T {
        let text = json::to_string(body).expect("written");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("the edge refuses {text}: {e}"))
    }

    #[wasm_bindgen_test]
    fn the_edge_reads_the_request_bodies_as_the_widget_writes_them() {
        let token = CreateToken {
            checkout_session: "cs_1".into(),
            client_secret: "cs_1_secret_2".into(),
            encrypted_card: "eyJ.a.b.c.d".into(),
        };
        assert_eq!(read_by_the_edge::<CreateToken>(&token), token);

        let every_field = ConfirmCheckoutSession {
            client_secret: "cs_1_secret_2".into(),
            token: Some("tok_1".into()),
            payment_method: Some("pm_1".into()),
            save_payment_method: true,
            encrypted_cvc: Some("eyJ.cvc".into()),
            bank: Some("bank_1".into()),
            wallet_amount: Some(9_007_199_254_740_991),
        };
        assert_eq!(
            read_by_the_edge::<ConfirmCheckoutSession>(&every_field),
            every_field
        );
        let only_the_secret = ConfirmCheckoutSession {
            client_secret: "cs_1_secret_2".into(),
            token: None,
            payment_method: None,
            save_payment_method: false,
            encrypted_cvc: None,
            bank: None,
            wallet_amount: None,
        };
        assert_eq!(
            json::to_string(&only_the_secret).as_deref(),
            Some(r#"{"client_secret":"cs_1_secret_2"}"#)
        );
        assert_eq!(
            read_by_the_edge::<ConfirmCheckoutSession>(&only_the_secret),
            only_the_secret
        );

        let challenge = CompleteChallenge {
            client_secret: "cs_1_secret_2".into(),
            otp: "123456".into(),
        };
        assert_eq!(read_by_the_edge::<CompleteChallenge>(&challenge), challenge);
        let reopen = ReopenCheckoutSession {
            client_secret: "cs_1_secret_2\"</script>".into(),
        };
        assert_eq!(read_by_the_edge::<ReopenCheckoutSession>(&reopen), reopen);
    }

    #[wasm_bindgen_test]
    fn reads_the_edges_errors() {
        let refused = till_core::error::ApiError::new(ErrorCode::RateLimited).with_param("token");
        let error: ErrorAnswer = json::from_str(&written(&refused)).expect("read");
        assert_eq!(error.code, ErrorCode::RateLimited.as_str());
        assert_eq!(error.param.as_deref(), Some("token"));
        assert!(!error.message.is_empty());
        assert!(json::from_str::<ErrorAnswer>(r#"{"error":"rate_limited"}"#).is_none());
    }
}
