//! The one error shape of the API: `{"error": {"type", "code", "message", "param"}}` plus an HTTP
//! status. Every code, its status, type and message are defined once, in [`ErrorCode`]'s table;
//! callers pick a code and at most add a detail or the parameter at fault.

use crate::card::CardError;
use crate::payment::PaymentStatus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    CardError,
    IdempotencyError,
    ApiError,
}

/// Declares [`ErrorCode`] from one table: variant, wire code, HTTP status, type, message.
macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:literal, $kind:ident, $message:literal;)*) => {
        /// Every error code the API answers with. Clients match on these, never on statuses or
        /// strings; a code this build does not know reads as `Unknown`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] $variant,)*
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire name. `const`, so a client can compare a received name with the few
            /// codes it handles (`const { ErrorCode::RateLimited.as_str() }`) without carrying
            /// every name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Unknown => "unknown",
                }
            }

            /// The code with this wire name (`Unknown` for a name this build does not know),
            /// as deserializing reads it, for clients that read the name as a plain string.
            pub fn from_wire(code: &str) -> ErrorCode {
                match code {
                    $($code => ErrorCode::$variant,)*
                    _ => ErrorCode::Unknown,
                }
            }

            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                    ErrorCode::Unknown => 500,
                }
            }

            pub fn kind(self) -> ErrorType {
                match self {
                    $(ErrorCode::$variant => ErrorType::$kind,)*
                    ErrorCode::Unknown => ErrorType::ApiError,
                }
            }

            /// The same request, sent again later, may get a final answer: nothing in it was
            /// wrong, Till or the gateway could not finish it yet.
            pub fn may_succeed_later(self) -> bool {
                self.kind() == ErrorType::ApiError
                    || self == ErrorCode::IdempotencyRequestInProgress
            }

            /// The English message clients show when they have no translation of their own.
            pub fn message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                    ErrorCode::Unknown => "The payment service answered unexpectedly. Try again.",
                }
            }
        }
    };
}

error_codes! {
    // The request itself.
    ParameterInvalid = "parameter_invalid", 400, InvalidRequestError,
        "Invalid request body.";
    ContentTypeInvalid = "content_type_invalid", 400, InvalidRequestError,
        "Send the body as JSON with `Content-Type: application/json`.";
    ContentLengthInvalid = "content_length_invalid", 400, InvalidRequestError,
        "Content-Length is not a number.";
    BodyTooLarge = "body_too_large", 413, InvalidRequestError,
        "The request body is larger than this endpoint accepts.";
    ResourceMissing = "resource_missing", 404, InvalidRequestError,
        "No such object.";
    MethodNotAllowed = "method_not_allowed", 405, InvalidRequestError,
        "This endpoint does not accept that HTTP method.";
    RateLimited = "rate_limited", 429, InvalidRequestError,
        "Too many requests. Retry later.";

    // Keys, origins and client secrets.
    ApiKeyMissing = "api_key_missing", 401, AuthenticationError,
        "Provide your API key in an `Authorization: Bearer` header.";
    ApiKeyInvalid = "api_key_invalid", 401, AuthenticationError,
        "The API key provided is not valid.";
    SecretKeyRequired = "secret_key_required", 403, AuthenticationError,
        "This request needs your secret key; publishable keys cannot make it.";
    OriginRequired = "origin_required", 403, AuthenticationError,
        "Publishable keys work only from a browser page: the request has no Origin header.";
    OriginNotAllowed = "origin_not_allowed", 403, AuthenticationError,
        "This origin is not registered for the publishable key.";
    ApiKeyExpired = "api_key_expired", 401, AuthenticationError,
        "This API key was rolled and has expired. Use the key that replaced it.";
    PermissionDenied = "permission_denied", 403, AuthenticationError,
        "This restricted key has no scope for this request.";
    ClientSecretMissing = "client_secret_missing", 400, InvalidRequestError,
        "Publishable keys must send the session's client_secret.";
    ClientSecretInvalid = "client_secret_invalid", 400, InvalidRequestError,
        "The client_secret does not match this checkout session.";

    // Idempotency.
    IdempotencyKeyMissing = "idempotency_key_missing", 400, InvalidRequestError,
        "This request moves money: send an Idempotency-Key header.";
    IdempotencyKeyInvalid = "idempotency_key_invalid", 400, InvalidRequestError,
        "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.";
    IdempotencyKeyReused = "idempotency_key_reused", 422, IdempotencyError,
        "This Idempotency-Key was used with a different request.";
    IdempotencyRequestInProgress = "idempotency_request_in_progress", 409, IdempotencyError,
        "A request with this Idempotency-Key is still being processed. Retry shortly.";

    // Checkout sessions.
    AmountInvalid = "amount_invalid", 400, InvalidRequestError,
        "The amount is not valid.";
    AmountTooLarge = "amount_too_large", 400, InvalidRequestError,
        "The amount is larger than this payment allows.";
    AmountMismatch = "amount_mismatch", 400, InvalidRequestError,
        "The amount must equal the sum of the line items.";
    LineItemsInvalid = "line_items_invalid", 400, InvalidRequestError,
        "The line items are not valid.";
    ReturnUrlInvalid = "return_url_invalid", 400, InvalidRequestError,
        "return_url is not valid.";
    MerchantReferenceInvalid = "merchant_reference_invalid", 400, InvalidRequestError,
        "merchant_reference must be at most 200 characters, without control characters.";
    CheckoutSessionComplete = "checkout_session_complete", 409, InvalidRequestError,
        "This checkout session has already been paid.";
    CheckoutSessionUnavailable = "checkout_session_unavailable", 409, InvalidRequestError,
        "This checkout session is already paid or has a payment in progress.";
    CheckoutSessionLocked = "checkout_session_locked", 409, InvalidRequestError,
        "This checkout session is locked after too many failed payment attempts. \
         Start a new checkout.";

    // Encrypted cards and tokens.
    EncryptedCardInvalid = "encrypted_card_invalid", 400, InvalidRequestError,
        "encrypted_card could not be decrypted.";
    EncryptedCardExpired = "encrypted_card_expired", 400, InvalidRequestError,
        "encrypted_card is too old (or dated in the future). Encrypt the card again.";
    EncryptedCardReplayed = "encrypted_card_replayed", 400, InvalidRequestError,
        "This encrypted_card was already used. Encrypt the card again.";
    EncryptionKeyUnknown = "encryption_key_unknown", 400, InvalidRequestError,
        "encrypted_card was made for a key Till no longer has. Fetch /v1/keys and encrypt again.";
    TokenInvalid = "token_invalid", 400, InvalidRequestError,
        "No usable token with that id for this checkout session. Tokens are single use.";

    // The card as entered (the widget checks the same rules as the customer types).
    IncompleteNumber = "incomplete_number", 402, CardError,
        "Your card number is incomplete.";
    InvalidNumber = "invalid_number", 402, CardError,
        "Your card number is invalid.";
    UnsupportedBrand = "unsupported_brand", 402, CardError,
        "This card brand is not accepted.";
    IncompleteExpiry = "incomplete_expiry", 402, CardError,
        "Your card's expiry date is incomplete.";
    InvalidExpiry = "invalid_expiry", 402, CardError,
        "Your card's expiry month is invalid.";
    ExpiredCard = "expired_card", 402, CardError,
        "Your card has expired.";
    IncompleteCvc = "incomplete_cvc", 402, CardError,
        "Your card's security code is incomplete.";
    InvalidCvc = "invalid_cvc", 402, CardError,
        "Your card's security code is invalid.";
    MissingName = "missing_name", 402, CardError,
        "Enter the name on the card.";
    InvalidName = "invalid_name", 402, CardError,
        "The name on the card is too long or has characters that cannot be used.";

    // Payments and refunds.
    PaymentInvalidState = "payment_invalid_state", 409, InvalidRequestError,
        "The payment is not in a state that allows this.";
    OtpInvalid = "otp_invalid", 400, InvalidRequestError,
        "Enter the 6-digit code.";
    ChargeAlreadyRefunded = "charge_already_refunded", 409, InvalidRequestError,
        "This payment has been refunded in full.";
    RefundConflict = "refund_conflict", 409, InvalidRequestError,
        "Another refund of this payment took that amount first. Check the payment and retry.";
    ReasonInvalid = "reason_invalid", 400, InvalidRequestError,
        "reason must be 1 to 500 characters of text.";
    RefundRequestOpen = "refund_request_open", 409, InvalidRequestError,
        "This payment already has an open refund request.";
    RefundRequestDecided = "refund_request_decided", 409, InvalidRequestError,
        "This refund request was already approved or declined.";

    // Currency conversion.
    FxRatesUnavailable = "fx_rates_unavailable", 503, ApiError,
        "Exchange rates are out of date or cannot be read: no new quote can be made now. Try \
         again later.";
    CurrencyNotQuoted = "currency_not_quoted", 400, InvalidRequestError,
        "There is no exchange rate for this currency.";
    FxQuoteExpired = "fx_quote_expired", 409, InvalidRequestError,
        "The exchange rate quoted for this checkout has expired: the merchant must quote again \
         and open a new checkout session. Nothing was charged.";
    FxQuoteMismatch = "fx_quote_mismatch", 400, InvalidRequestError,
        "The checkout session's amount and currency must be what the exchange-rate quote \
         converts to.";

    // Disputes (chargebacks).
    DisputeClosed = "dispute_closed", 409, InvalidRequestError,
        "This dispute is already won or lost: it takes no more evidence and cannot be closed.";
    DisputeUnderReview = "dispute_under_review", 409, InvalidRequestError,
        "Evidence was already submitted: the dispute is under review until the card network \
         decides.";
    EvidencePastDue = "evidence_past_due", 409, InvalidRequestError,
        "The evidence for this dispute was due earlier: it can no longer be answered.";
    EvidenceInvalid = "evidence_invalid", 400, InvalidRequestError,
        "Give at least one evidence text or file; each text within its length, without control \
         characters.";
    DisputeRefusedByGateway = "dispute_refused_by_gateway", 409, InvalidRequestError,
        "The gateway refused this for the dispute: it has moved on there. Till follows the \
         gateway's events; retrieve the dispute to see where it stands.";
    PaymentDisputed = "payment_disputed", 409, InvalidRequestError,
        "This payment is disputed: the card network has taken the money back, so it cannot be \
         refunded.";
    EvidenceFileInvalid = "evidence_file_invalid", 400, InvalidRequestError,
        "Evidence files are PDF, PNG or JPEG, base64-encoded, at most 3 of at most 512 KiB each.";

    // Merchant configuration.
    UrlInvalid = "url_invalid", 400, InvalidRequestError,
        "url is not valid.";
    EventsInvalid = "events_invalid", 400, InvalidRequestError,
        "events must list at least one known event type.";
    ConnectorInvalid = "connector_invalid", 400, InvalidRequestError,
        "connector is not a gateway Till supports.";
    CredentialsInvalid = "credentials_invalid", 400, InvalidRequestError,
        "credentials are not valid for this connector.";
    DateInvalid = "date_invalid", 400, InvalidRequestError,
        "date must be YYYY-MM-DD.";
    SignatureInvalid = "signature_invalid", 400, InvalidRequestError,
        "Webhook refused: the signature does not verify.";

    ScopesInvalid = "scopes_invalid", 400, InvalidRequestError,
        "scopes must list grants such as payments:read or refunds:write.";
    KeyKindInvalid = "key_kind_invalid", 400, InvalidRequestError,
        "kind must be secret, publishable or restricted.";
    ApiKeyInactive = "api_key_inactive", 409, InvalidRequestError,
        "This API key is revoked or already rolled.";
    ApiKeyInUse = "api_key_in_use", 409, InvalidRequestError,
        "A key cannot revoke itself: make this request with another secret key, or roll the key.";
    OriginInvalid = "origin_invalid", 400, InvalidRequestError,
        "origin must be a scheme, host and optional port, such as https://shop.example.";

    // Dashboard people: sign-in, sessions, roles and the team.
    SignInFailed = "sign_in_failed", 401, AuthenticationError,
        "The email or password is wrong.";
    AccountLocked = "account_locked", 429, AuthenticationError,
        "Too many failed sign-ins: this account is locked for a while. Retry later.";
    TotpRequired = "totp_required", 401, AuthenticationError,
        "This account has a second factor: send the six-digit code from the authenticator app.";
    TotpCodeInvalid = "totp_code_invalid", 400, InvalidRequestError,
        "code must be the six digits the authenticator app shows now.";
    TotpNotStarted = "totp_not_started", 409, InvalidRequestError,
        "Start setting up the second factor first (POST /v1/dashboard/totp).";
    TotpAlreadyEnabled = "totp_already_enabled", 409, InvalidRequestError,
        "The second factor is already on: turn it off first to set up another.";
    TotpNotEnabled = "totp_not_enabled", 409, InvalidRequestError,
        "The second factor is not on.";
    SessionRequired = "session_required", 401, AuthenticationError,
        "Sign in to the dashboard first: this session is missing, expired or signed out.";
    CsrfTokenInvalid = "csrf_token_invalid", 403, AuthenticationError,
        "Send the session's csrf_token in an X-CSRF-Token header, from the dashboard's own page.";
    PasswordInvalid = "password_invalid", 400, InvalidRequestError,
        "password must be 12 to 128 characters and not the email address.";
    RoleInvalid = "role_invalid", 400, InvalidRequestError,
        "role must be owner, developer or analyst.";
    InvitationInvalid = "invitation_invalid", 400, InvalidRequestError,
        "This invitation is unknown, already used, revoked or expired. Ask for a new one.";
    InvitationInactive = "invitation_inactive", 409, InvalidRequestError,
        "This invitation was already accepted or revoked.";
    MemberExists = "member_exists", 409, InvalidRequestError,
        "A person with this email already uses a Till dashboard.";
    LastOwner = "last_owner", 409, InvalidRequestError,
        "A merchant keeps at least one owner: make someone else owner first.";
    MetricsUnavailable = "metrics_unavailable", 503, ApiError,
        "Request metrics cannot be read right now. Retry shortly.";

    // Risk.
    RuleInvalid = "rule_invalid", 400, InvalidRequestError,
        "rule is not a valid risk rule, such as: review if declines(card, 1h) >= 3.";
    RuleExists = "rule_exists", 409, InvalidRequestError,
        "The merchant already has this rule.";
    RuleLimit = "rule_limit", 409, InvalidRequestError,
        "A merchant has at most 50 rules of its own: delete one first.";
    DefaultRuleKept = "default_rule_kept", 409, InvalidRequestError,
        "Till's default rules cannot be deleted: disable the rule instead.";
    BlockedByRisk = "blocked_by_risk", 402, CardError,
        "This payment could not be completed. Try another payment method, or contact the seller.";
    PaymentUnderReview = "payment_under_review", 409, InvalidRequestError,
        "The payment is held for review: approve or reject its review first.";
    ReviewNotOpen = "review_not_open", 409, InvalidRequestError,
        "This payment has no open review.";

    // Customers, wallets and transfers.
    EmailInvalid = "email_invalid", 400, InvalidRequestError,
        "email is not a valid email address.";
    PhoneInvalid = "phone_invalid", 400, InvalidRequestError,
        "phone must be in international E.164 form, such as +14155550100.";
    NameInvalid = "name_invalid", 400, InvalidRequestError,
        "name must be 1 to 200 characters, without control characters.";
    LocaleInvalid = "locale_invalid", 400, InvalidRequestError,
        "locale must be a language tag such as en or ko-KR.";
    MetadataInvalid = "metadata_invalid", 400, InvalidRequestError,
        "metadata is not valid.";
    CustomerExists = "customer_exists", 409, InvalidRequestError,
        "Another customer already has this email or phone number.";
    CursorInvalid = "cursor_invalid", 400, InvalidRequestError,
        "starting_after must be the id of an object in this list.";
    RecipientInvalid = "recipient_invalid", 400, InvalidRequestError,
        "to must be a customer id, a phone number in E.164 form or an email address.";
    RecipientUnknown = "recipient_unknown", 404, InvalidRequestError,
        "No customer with that id can receive this transfer.";
    TransferToSelf = "transfer_to_self", 400, InvalidRequestError,
        "A customer cannot send money to themselves.";
    BalanceInsufficient = "balance_insufficient", 402, InvalidRequestError,
        "The wallet's balance is too low for this.";
    LimitExceeded = "limit_exceeded", 402, InvalidRequestError,
        "This would go past the sender's transfer limit.";
    BankAccountInvalid = "bank_account_invalid", 400, InvalidRequestError,
        "bank_account is not a valid bank account.";
    CustomerSessionExpired = "customer_session_expired", 400, InvalidRequestError,
        "This customer session has expired. Ask the merchant for a new one.";
    WalletNotEnabled = "wallet_not_enabled", 403, InvalidRequestError,
        "This customer session was not made for the wallet (create it with wallet: true).";

    // Subscriptions.
    PriceInactive = "price_inactive", 409, InvalidRequestError,
        "This price is archived: it starts no new subscription.";
    SubscriptionInvalidState = "subscription_invalid_state", 409, InvalidRequestError,
        "The subscription cannot do this in its current status.";
    PriceIncompatible = "price_incompatible", 400, InvalidRequestError,
        "A subscription changes only to a price in the same currency that recurs the same way.";
    SubscriptionsNotEnabled = "subscriptions_not_enabled", 403, InvalidRequestError,
        "This customer session was not made for subscriptions (create it with subscriptions: true).";
    TestClocksDisabled = "test_clocks_disabled", 403, InvalidRequestError,
        "Test clocks are off in this deployment: they are for development and testing.";
    TestClockAdvanceInvalid = "test_clock_advance_invalid", 400, InvalidRequestError,
        "frozen_time must be later than the clock's time and at most 400 days later.";
    TestClockBusy = "test_clock_busy", 409, InvalidRequestError,
        "The test clock is still advancing: retrieve it until its status is ready.";

    // Till's side.
    InternalError = "internal_error", 500, ApiError,
        "Something went wrong on Till's side. It is safe to retry.";
    GatewayUnavailable = "gateway_unavailable", 502, ApiError,
        "The payment gateway did not answer in time; the payment may still be processing. \
         Retry with the same Idempotency-Key to get its result.";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// An error response: the body clients see; its HTTP status comes from the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorDetail,
    /// Seconds until a refused request may be tried again (`Retry-After`), for 429s.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError::new(code)
    }
}

impl ApiError {
    /// The code's error with the table's message.
    pub fn new(code: ErrorCode) -> Self {
        ApiError {
            error: ErrorDetail {
                kind: code.kind(),
                code,
                message: code.message().to_string(),
                param: None,
            },
            retry_after: None,
        }
    }

    /// The same error with a message that names what exactly was wrong.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.error.message = message.into();
        self
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.error.param = Some(param.to_string());
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.error.code
    }

    pub fn status(&self) -> u16 {
        self.error.code.status()
    }

    /// The failure is Till's or the gateway's, not the request's: the same request may succeed
    /// later, and what happened meanwhile is not known.
    pub fn is_on_tills_side(&self) -> bool {
        self.error.code.kind() == ErrorType::ApiError
    }

    /// A body that is not JSON or does not match the endpoint's schema. The parser's text is kept
    /// short and never includes the offending value.
    pub fn invalid_body(detail: &str) -> Self {
        Self::new(ErrorCode::ParameterInvalid)
            .with_message(format!("Invalid request body: {detail}"))
    }

    pub fn missing_key() -> Self {
        Self::new(ErrorCode::ApiKeyMissing)
    }

    pub fn invalid_key() -> Self {
        Self::new(ErrorCode::ApiKeyInvalid)
    }

    /// `starting_after` names no object of the list being paged.
    pub fn cursor_invalid() -> Self {
        Self::new(ErrorCode::CursorInvalid).with_param("starting_after")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::ResourceMissing).with_message(format!("No such {what}."))
    }

    pub fn card(error: CardError) -> Self {
        Self::new(error.code()).with_param(error.field())
    }

    pub fn payment_invalid_state(status: PaymentStatus, action: &str) -> Self {
        Self::new(ErrorCode::PaymentInvalidState).with_message(format!(
            "A payment that is {} cannot be {action}.",
            status.as_str()
        ))
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(ErrorCode::BodyTooLarge).with_message(format!(
            "The request body is larger than this endpoint accepts ({limit} bytes)."
        ))
    }

    /// Too many requests in a sliding window; `retry_after` seconds until one more is allowed.
    pub fn rate_limited(what: &str, retry_after: u64) -> Self {
        let retry_after = retry_after.max(1);
        let mut error = Self::new(ErrorCode::RateLimited).with_message(format!(
            "Too many requests for this {what}. Retry after {retry_after} seconds."
        ));
        error.retry_after = Some(retry_after);
        error
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::InternalError)
    }

    pub fn gateway_unavailable() -> Self {
        Self::new(ErrorCode::GatewayUnavailable)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status(),
            self.error.code.as_str(),
            self.error.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn serializes_in_the_documented_shape() {
        let err = ApiError::card(CardError::ExpiredCard);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(err.status(), 402);
        assert_eq!(json["error"]["type"], "card_error");
        assert_eq!(json["error"]["code"], "expired_card");
        assert_eq!(json["error"]["param"], "expiry");
        assert!(json.get("status").is_none());
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, code.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(wire).unwrap(), code);
            assert_eq!(ErrorCode::from_wire(code.as_str()), code);
            assert!((400..600).contains(&code.status()));
            assert!(!code.message().is_empty());
        }
    }

    #[test]
    fn a_code_from_a_newer_edge_reads_as_unknown() {
        let body = r#"{"error":{"type":"invalid_request_error","code":"brand_new","message":"m"}}"#;
        let error: ApiError = serde_json::from_str(body).unwrap();
        assert_eq!(error.code(), ErrorCode::Unknown);
        assert_eq!(error.error.message, "m");
        assert_eq!(ErrorCode::from_wire("brand_new"), ErrorCode::Unknown);
    }

    #[test]
    fn only_tills_own_failures_are_on_its_side() {
        assert!(ApiError::internal().is_on_tills_side());
        assert!(ApiError::gateway_unavailable().is_on_tills_side());
        assert!(!ApiError::new(ErrorCode::TokenInvalid).is_on_tills_side());
        assert!(!ApiError::card(CardError::InvalidCvc).is_on_tills_side());
        assert!(ErrorCode::IdempotencyRequestInProgress.may_succeed_later());
        assert!(ErrorCode::Unknown.may_succeed_later());
        assert!(!ErrorCode::IdempotencyKeyReused.may_succeed_later());
    }

    /// Every error the OpenAPI description shows is a code of this table, under its status.
    #[test]
    fn the_openapi_examples_use_the_table() {
        let document: serde_json::Value =
            serde_json::from_str(include_str!("../../api/openapi.json")).unwrap();
        let mut checked = 0;
        for operation in document["paths"].as_object().unwrap().values() {
            for operation in operation.as_object().unwrap().values() {
                let Some(responses) = operation["responses"].as_object() else {
                    continue;
                };
                for (status, response) in responses {
                    let text = response.to_string();
                    for (start, _) in text.match_indices(r#""code":""#) {
                        let rest = &text[start + 8..];
                        let code = &rest[..rest.find('"').unwrap()];
                        let code: ErrorCode =
                            serde_json::from_value(serde_json::Value::from(code)).unwrap();
                        assert_ne!(code, ErrorCode::Unknown, "{text}");
                        assert_eq!(code.status().to_string(), *status, "{}", code.as_str());
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 20, "only {checked} examples found");
    }
}
