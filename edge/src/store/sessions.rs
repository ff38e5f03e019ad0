//! Checkout sessions.

use super::{execute, first, int, opt_text, statement, text, StoreResult};
use serde::Deserialize;
use till_core::api::{CaptureMethod, Purpose, SessionStatus, MAX_FAILED_PAYMENTS_PER_SESSION};
use till_core::money::Currency;
use till_core::payment_method_type::PaymentMethodType;
use worker::{D1PreparedStatement, Env};

#[derive(Debug, Clone, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub merchant_id: String,
    pub client_secret_hash: String,
    pub amount: i64,
    pub currency: Currency,
    pub capture_method: CaptureMethod,
    /// JSON of the session's line items, validated when the session was created.
    pub line_items: String,
    pub return_url: Option<String>,
    pub merchant_reference: Option<String>,
    pub status: SessionStatus,
    pub payment_id: Option<String>,
    pub customer_id: Option<String>,
    pub purpose: Purpose,
    /// 1: a saved card pays only with its security code typed again.
    #[serde(default)]
    pub require_cvc: i64,
    #[serde(default)]
    pub receipt_email: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    /// What its FX quote locked (`till_core::fx::Converted` as JSON), for a checkout in the
    /// customer's currency.
    #[serde(default)]
    pub conversion: Option<String>,
    /// The ways it may be paid (`till_core::payment_method_type::to_column`).
    #[serde(default = "card_only")]
    pub payment_method_types: String,
    pub created: i64,
}

fn card_only() -> String {
    PaymentMethodType::Card.as_str().into()
}

pub async fn insert(env: &Env, s: &SessionRow) -> StoreResult<()> {
    super::run(insert_statement(env, s)?).await
}

/// [`insert`], to run in a batch.
pub fn insert_statement(env: &Env, s: &SessionRow) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        "INSERT INTO checkout_sessions (id, merchant_id, client_secret_hash, amount, currency, \
         line_items, return_url, merchant_reference, status, payment_id, created, capture_method, \
         customer_id, purpose, require_cvc, receipt_email, locale, conversion, \
         payment_method_types) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
         ?17, ?18)",
        &[
            text(&s.id),
            text(&s.merchant_id),
            text(&s.client_secret_hash),
            int(s.amount),
            text(s.currency.code()),
            text(&s.line_items),
            opt_text(s.return_url.as_deref()),
            opt_text(s.merchant_reference.as_deref()),
            text(s.status.as_str()),
            int(s.created),
            text(s.capture_method.as_str()),
            opt_text(s.customer_id.as_deref()),
            text(s.purpose.as_str()),
            int(s.require_cvc),
            opt_text(s.receipt_email.as_deref()),
            opt_text(s.locale.as_deref()),
            opt_text(s.conversion.as_deref()),
            text(&s.payment_method_types),
        ],
    )
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<SessionRow>> {
    first(env, FIND, &[text(id), text(merchant_id)]).await
}

const FIND: &str = "SELECT * FROM checkout_sessions WHERE id = ?1 AND merchant_id = ?2";

/// [`find`], to run in a batch.
pub fn find_statement(env: &Env, merchant_id: &str, id: &str) -> StoreResult<D1PreparedStatement> {
    statement(env, FIND, &[text(id), text(merchant_id)])
}

/// What a payment's new status means for its session.
#[derive(Clone, Copy)]
pub enum SessionOutcome {
    /// Paid (or authorized for later capture): the session is complete.
    Paid,
    /// The payment failed: the session counts it, and reopens unless that was one too many.
    Failed,
    /// Voided: nothing was taken, the session is open for another attempt.
    Reopen,
    /// Still being decided (a challenge): the session stays reserved.
    Keep,
}

#[derive(Deserialize)]
pub(super) struct StatusRow {
    pub(super) status: SessionStatus,
}

/// The statement that moves the session on after its payment's new status, run in the same
/// batch right after the payment's update: it changes nothing unless that update took
/// (`changes() = 1`). `None` when the session stays as it is.
pub(super) fn settle_statement(
    env: &Env,
    id: &str,
    payment_id: &str,
    outcome: SessionOutcome,
) -> StoreResult<Option<D1PreparedStatement>> {
    let sql = match outcome {
        SessionOutcome::Paid => {
            "UPDATE checkout_sessions SET status = 'complete' \
             WHERE id = ?1 AND payment_id = ?2 AND changes() = 1"
        }
        SessionOutcome::Reopen => {
            "UPDATE checkout_sessions SET status = 'open', payment_id = NULL \
             WHERE id = ?1 AND payment_id = ?2 AND status = 'processing' AND changes() = 1"
        }
        // A failure counts against the session, which locks at the limit; RETURNING tells.
        SessionOutcome::Failed => {
            "UPDATE checkout_sessions SET failed_attempts = failed_attempts + 1, \
             payment_id = NULL, \
             status = CASE WHEN failed_attempts + 1 >= ?3 THEN 'locked' ELSE 'open' END \
             WHERE id = ?1 AND payment_id = ?2 AND status = 'processing' AND changes() = 1 \
             RETURNING status"
        }
        SessionOutcome::Keep => return Ok(None),
    };
    let params = [
        text(id),
        text(payment_id),
        int(MAX_FAILED_PAYMENTS_PER_SESSION),
    ];
    // The statement names only the parameters it uses.
    let used = if matches!(outcome, SessionOutcome::Failed) {
        3
    } else {
        2
    };
    statement(env, sql, params.get(..used).unwrap_or(&params)).map(Some)
}

/// Hands an open session to the customer: a new client secret (by its hash; the secret was
/// shown only once, and an off-session charge's session reaches the customer later) and, when
/// given, where the hosted checkout returns to.
pub async fn hand_to_customer(
    env: &Env,
    id: &str,
    client_secret_hash: &str,
    return_url: Option<&str>,
) -> StoreResult<bool> {
    execute(
        env,
        "UPDATE checkout_sessions SET client_secret_hash = ?2, \
         return_url = COALESCE(?3, return_url) WHERE id = ?1 AND status = 'open'",
        &[text(id), text(client_secret_hash), opt_text(return_url)],
    )
    .await
    .map(|changed| changed == 1)
}

/// Closes an open session to payments (`locked`): a newer charge replaces it.
pub async fn lock(env: &Env, id: &str) -> StoreResult<()> {
    execute(
        env,
        "UPDATE checkout_sessions SET status = 'locked' WHERE id = ?1 AND status = 'open'",
        &[text(id)],
    )
    .await
    .map(|_| ())
}
