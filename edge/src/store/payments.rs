//! Payments.

use super::ledger::Posting;
use super::receipts;
use super::sessions::{self, SessionOutcome};
use super::webhooks::{self, EndpointRow, EventRow};
use super::StoreResult;
use super::{all, batch, first, int, opt_int, opt_text, statement, text, transaction};
use crate::connectors::Initiator;
use serde::Deserialize;
use till_core::api::{CaptureMethod, Purpose, SessionStatus};
use till_core::card::Brand;
use till_core::money::Currency;
use till_core::payment::{DeclineCode, PaymentStatus};
use till_core::payment_method_type::PaymentMethodType;
use worker::{D1PreparedStatement, Env};

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentRow {
    pub id: String,
    pub merchant_id: String,
    pub checkout_session_id: String,
    pub idempotency_key: String,
    /// SHA-256 of the confirm request that made this payment.
    pub request_fingerprint: String,
    pub amount: i64,
    pub currency: Currency,
    pub capture_method: CaptureMethod,
    pub status: PaymentStatus,
    pub amount_captured: i64,
    /// When money was first captured (set by the store with the capture).
    pub captured_at: Option<i64>,
    pub amount_refunded: i64,
    pub challenge_attempts_remaining: Option<i64>,
    pub gateway_idempotency_key: String,
    /// The merchant's gateway account it was made through (`None`: the platform's).
    pub gateway_account_id: Option<String>,
    /// The vault token a card payment was made with.
    pub token: Option<String>,
    /// The customer paying, and where the money goes (a top-up fills their wallet).
    pub customer_id: Option<String>,
    pub purpose: Purpose,
    /// The saved card it was paid with, and who started it.
    pub payment_method_id: Option<String>,
    pub initiator: Initiator,
    /// Whose wallet a transfer's payment fills.
    pub payee_customer_id: Option<String>,
    /// The transfer whose claim it fills, for a transfer paid by card to a stranger.
    #[serde(default)]
    pub payee_claim: Option<String>,
    pub poll_attempts: i64,
    pub requires_review: i64,
    /// What paid; the card columns are a card payment's, `bank` a bank payment's.
    #[serde(default)]
    pub method: PaymentMethodType,
    pub card_brand: Option<Brand>,
    pub card_last4: Option<String>,
    pub card_fingerprint: Option<String>,
    pub card_exp_month: Option<i64>,
    pub card_exp_year: Option<i64>,
    #[serde(default)]
    pub bank: Option<String>,
    #[serde(default)]
    pub bank_name: Option<String>,
    /// Where the bank waits for the customer, while it does.
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// What the customer's wallet pays of the amount (held for the payment from the moment it
    /// is recorded); the card pays the rest.
    #[serde(default)]
    pub wallet_amount: i64,
    /// Where the customer paid from (`CF-IPCountry`), for browser payments.
    #[serde(default)]
    pub country: Option<String>,
    pub gateway_reference: Option<String>,
    pub failure_code: Option<DeclineCode>,
    pub failure_message: Option<String>,
    /// How the risk rules saw it (`RiskAssessment` as JSON), written with the payment.
    #[serde(default)]
    pub risk: Option<String>,
    /// What a dry run replays of it (`ScreeningRecord` as JSON).
    #[serde(default)]
    pub screening: Option<String>,
    /// `open` while a `review` rule holds it, then `approved` or `rejected`.
    #[serde(default)]
    pub review_status: Option<String>,
    /// What the FX quote locked (`till_core::fx::Converted` as JSON) when the card paid in
    /// another currency than the merchant is settled in.
    #[serde(default)]
    pub conversion: Option<String>,
    /// What its refunds took, in the settlement currency and of the FX margin.
    #[serde(default)]
    pub settlement_refunded: i64,
    #[serde(default)]
    pub fx_margin_refunded: i64,
    pub created: i64,
    pub updated: i64,
}

/// Reserves an open session for a new payment and records the payment, in one transaction,
/// with the `hold` of the wallet's part when the wallet pays some of it: false (and nothing
/// written) when the session is not open; an error that [`super::ledger::overdrawn`] names when
/// the wallet holds too little.
pub async fn insert_claiming_session(
    env: &Env,
    p: &PaymentRow,
    hold: Option<&Posting<'_>>,
) -> StoreResult<bool> {
    let started = insert_claiming_session_spending(env, p, hold, None).await?;
    Ok(started == Start::Started)
}

/// What became of a payment's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The session is claimed and the payment recorded.
    Started,
    /// The session was not open: no payment was written (a new nonce is spent all the same).
    SessionUnavailable,
    /// The nonce was spent already: nothing was written.
    NonceSpent,
}

/// [`insert_claiming_session`], spending `nonce` (an encrypted security code's) in the same
/// transaction, its first statement: the session is claimed only if the nonce was new.
pub async fn insert_claiming_session_spending(
    env: &Env,
    p: &PaymentRow,
    hold: Option<&Posting<'_>>,
    nonce: Option<&str>,
) -> StoreResult<Start> {
    let before = match nonce {
        Some(nonce) => Before::Nonce(nonce),
        None => Before::Nothing,
    };
    insert_claiming(env, p, hold, before).await
}

/// Records `session` and the payment `p` that claims it, in one transaction: a charge without
/// the widget makes its checkout session as it starts. False when nothing was written.
pub async fn insert_with_session(
    env: &Env,
    session: &sessions::SessionRow,
    p: &PaymentRow,
) -> StoreResult<bool> {
    let started = insert_claiming(env, p, None, Before::Session(session)).await?;
    Ok(started == Start::Started)
}

/// What the start's transaction writes before it claims the session.
enum Before<'a> {
    Nothing,
    /// An encrypted security code's nonce: the session is claimed only if it is new.
    Nonce(&'a str),
    /// The session itself, new.
    Session(&'a sessions::SessionRow),
}

async fn insert_claiming(
    env: &Env,
    p: &PaymentRow,
    hold: Option<&Posting<'_>>,
    before: Before<'_>,
) -> StoreResult<Start> {
    let mut statements = Vec::new();
    let nonce = match before {
        Before::Nothing => None,
        Before::Nonce(nonce) => Some(nonce),
        Before::Session(session) => {
            statements.push(sessions::insert_statement(env, session)?);
            None
        }
    };
    if let Some(nonce) = nonce {
        statements.push(statement(
            env,
            "INSERT OR IGNORE INTO card_nonces (nonce, seen) VALUES (?1, ?2)",
            &[text(nonce), int(p.created)],
        )?);
    }
    // After a nonce, `changes()` is its insert's count: a spent nonce claims nothing.
    let unspent = if nonce.is_some() {
        " AND changes() = 1"
    } else {
        ""
    };
    let claim = statement(
        env,
        &format!(
            "UPDATE checkout_sessions SET status = 'processing', payment_id = ?2 \
             WHERE id = ?1 AND status = 'open'{unspent}"
        ),
        &[text(&p.checkout_session_id), text(&p.id)],
    )?;
    // `changes()` is the claim's count: the payment is inserted only when the claim took.
    let insert = statement(
        env,
        "INSERT INTO payments (id, merchant_id, checkout_session_id, idempotency_key, \
         amount, currency, status, card_brand, card_last4, card_exp_month, card_exp_year, \
         gateway_reference, failure_code, failure_message, created, updated, capture_method, \
         gateway_idempotency_key, token, card_fingerprint, request_fingerprint, \
         gateway_account_id, customer_id, purpose, payment_method_id, initiator, \
         payee_customer_id, payee_claim, country, risk, screening, review_status, conversion, \
         method, bank, bank_name, wallet_amount) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, NULL, ?12, ?12, ?13, \
         ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, \
         ?31, ?32, ?33 WHERE changes() = 1",
        &[
            text(&p.id),
            text(&p.merchant_id),
            text(&p.checkout_session_id),
            text(&p.idempotency_key),
            int(p.amount),
            text(p.currency.code()),
            text(p.status.as_str()),
            opt_text(p.card_brand.map(Brand::as_str)),
            opt_text(p.card_last4.as_deref()),
            opt_int(p.card_exp_month),
            opt_int(p.card_exp_year),
            int(p.created),
            text(p.capture_method.as_str()),
            text(&p.gateway_idempotency_key),
            opt_text(p.token.as_deref()),
            opt_text(p.card_fingerprint.as_deref()),
            text(&p.request_fingerprint),
            opt_text(p.gateway_account_id.as_deref()),
            opt_text(p.customer_id.as_deref()),
            text(p.purpose.as_str()),
            opt_text(p.payment_method_id.as_deref()),
            text(p.initiator.as_str()),
            opt_text(p.payee_customer_id.as_deref()),
            opt_text(p.payee_claim.as_deref()),
            opt_text(p.country.as_deref()),
            opt_text(p.risk.as_deref()),
            opt_text(p.screening.as_deref()),
            opt_text(p.review_status.as_deref()),
            opt_text(p.conversion.as_deref()),
            text(p.method.as_str()),
            opt_text(p.bank.as_deref()),
            opt_text(p.bank_name.as_deref()),
            int(p.wallet_amount),
        ],
    )?;
    let first = statements.len();
    statements.extend([claim, insert]);
    if let Some(hold) = hold {
        statements.extend(hold.statements(
            env,
            "EXISTS (SELECT 1 FROM payments WHERE id = ?6)",
            &[text(&p.id)],
        )?);
    }
    let changed = transaction(env, statements).await?;
    Ok(if nonce.is_some() && changed.first() != Some(&1) {
        Start::NonceSpent
    } else if changed.get(first + 1) == Some(&1) {
        Start::Started
    } else {
        Start::SessionUnavailable
    })
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<PaymentRow>> {
    first(env, FIND, &[text(id), text(merchant_id)]).await
}

const FIND: &str = "SELECT * FROM payments WHERE id = ?1 AND merchant_id = ?2";

/// [`find`], to run in a batch.
pub fn find_statement(env: &Env, merchant_id: &str, id: &str) -> StoreResult<D1PreparedStatement> {
    statement(env, FIND, &[text(id), text(merchant_id)])
}

/// A session's latest payment (a failed or canceled one is no longer the session's `payment`).
pub async fn latest_of_session(
    env: &Env,
    merchant_id: &str,
    session_id: &str,
) -> StoreResult<Option<PaymentRow>> {
    first(
        env,
        "SELECT * FROM payments WHERE checkout_session_id = ?1 AND merchant_id = ?2 \
         ORDER BY created DESC, rowid DESC LIMIT 1",
        &[text(session_id), text(merchant_id)],
    )
    .await
}

/// A payment by id alone, for gateway events and the poller (they carry no merchant).
pub async fn by_id(env: &Env, id: &str) -> StoreResult<Option<PaymentRow>> {
    first(env, BY_ID, &[text(id)]).await
}

const BY_ID: &str = "SELECT * FROM payments WHERE id = ?1";

/// [`by_id`], to run in a batch.
pub fn by_id_statement(env: &Env, id: &str) -> StoreResult<D1PreparedStatement> {
    statement(env, BY_ID, &[text(id)])
}

/// The payment a gateway account knows as `reference` (how Stripe's dispute events name it).
pub async fn by_gateway_reference(
    env: &Env,
    gateway_account_id: Option<&str>,
    reference: &str,
) -> StoreResult<Option<PaymentRow>> {
    first(
        env,
        "SELECT * FROM payments WHERE gateway_reference = ?2 \
         AND COALESCE(gateway_account_id, '') = COALESCE(?1, '')",
        &[opt_text(gateway_account_id), text(reference)],
    )
    .await
}

const BY_IDEMPOTENCY_KEY: &str =
    "SELECT * FROM payments WHERE merchant_id = ?1 AND idempotency_key = ?2";

/// The merchant's payment made with the idempotency key `key`, to run in a batch.
pub fn by_idempotency_key_statement(
    env: &Env,
    merchant_id: &str,
    key: &str,
) -> StoreResult<D1PreparedStatement> {
    statement(env, BY_IDEMPOTENCY_KEY, &[text(merchant_id), text(key)])
}

/// Where a payment's update left it.
pub enum Updated {
    /// Another request moved the payment first: nothing was written.
    Lost,
    /// Written, with its session moved on and its event recorded; `locked` when that failure
    /// locked the session, `endpoints` the merchant's (read when there was an event),
    /// `receipt_settled` when the event's receipt was recorded `skipped` (no one to send it to).
    Written {
        locked: bool,
        endpoints: Vec<EndpointRow>,
        receipt_settled: bool,
    },
}

/// Writes a payment's new state, records the event that tells of it and moves its session on,
/// in one transaction: a crash cannot keep one without the others. Only a payment still in
/// `from` moves (the state machine has already approved `from -> p.status`). Its `posting`
/// (a success's money to the merchant or the customer's wallet, a failure's wallet part back)
/// is written in the same transaction. With an event, the merchant's webhook endpoints are read
/// in the same batch; with `receipt_id` (a `payment.succeeded` event), a receipt with no one to
/// send it to is recorded under that id.
pub async fn update(
    env: &Env,
    p: &PaymentRow,
    from: PaymentStatus,
    outcome: SessionOutcome,
    event: Option<&EventRow>,
    posting: Option<&Posting<'_>>,
    receipt_id: Option<&str>,
) -> StoreResult<Updated> {
    let mut statements = vec![update_statement(env, p, from)?];
    // Each statement runs only when the one before it changed a row (`changes() = 1`): the
    // event after the payment, the session after the event (or the payment).
    if let Some(event) = event {
        statements.push(webhooks::insert_event_after_change(env, event)?);
    }
    let settle = sessions::settle_statement(env, &p.checkout_session_id, &p.id, outcome)?;
    let settled_at = settle.as_ref().map(|_| statements.len());
    statements.extend(settle);
    if let Some(posting) = posting {
        statements.extend(posting.statements(
            env,
            "EXISTS (SELECT 1 FROM payments WHERE id = ?6 AND status = ?7)",
            &[text(&p.id), text(p.status.as_str())],
        )?);
    }
    // A transfer paid by card ends with its payment: succeeded with the money above (or
    // awaiting its claim, for a receiver who is not a customer yet), or failed.
    if p.purpose == Purpose::Transfer {
        statements.push(statement(
            env,
            "UPDATE transfers SET status = CASE ?2 WHEN 'succeeded' THEN \
             (CASE WHEN receiver_id IS NULL THEN 'awaiting_claim' ELSE 'succeeded' END) \
             ELSE 'failed' END, updated = ?3 \
             WHERE payment_id = ?1 AND status = 'pending' AND ?2 IN ('succeeded', 'failed') \
             AND EXISTS (SELECT 1 FROM payments WHERE id = ?1 AND status = ?2)",
            &[text(&p.id), text(p.status.as_str()), int(p.updated)],
        )?);
    }
    let receipt_at = match (event, receipt_id) {
        (Some(event), Some(receipt_id)) => {
            statements.push(receipts::no_recipient_statement(
                env,
                receipt_id,
                event,
                &p.id,
                &p.checkout_session_id,
            )?);
            Some(statements.len() - 1)
        }
        _ => None,
    };
    if event.is_some() {
        statements.push(webhooks::endpoints_statement(env, &p.merchant_id)?);
    }
    let results = batch(env, statements).await?;
    let changed = |result: &worker::D1Result| {
        result
            .meta()
            .ok()
            .flatten()
            .and_then(|meta| meta.changes)
            .unwrap_or(0)
    };
    if results.first().map(changed) != Some(1) {
        return Ok(Updated::Lost);
    }
    let locked = match settled_at.and_then(|at| results.get(at)) {
        Some(settled) => settled
            .results::<sessions::StatusRow>()
            .map_err(|e| super::StoreError::new("decode", e))?
            .iter()
            .any(|row| row.status == SessionStatus::Locked),
        None => false,
    };
    let endpoints = match event {
        Some(_) => webhooks::endpoints_read(&results)?,
        None => Vec::new(),
    };
    let receipt_settled = receipt_at
        .and_then(|at| results.get(at))
        .is_some_and(|result| changed(result) == 1);
    Ok(Updated::Written {
        locked,
        endpoints,
        receipt_settled,
    })
}

fn update_statement(
    env: &Env,
    p: &PaymentRow,
    from: PaymentStatus,
) -> StoreResult<worker::D1PreparedStatement> {
    // Compare-and-set on the status; within a challenge also on its attempts, which only go
    // down (an older gateway event racing a newer answer must not give attempts back).
    statement(
        env,
        "UPDATE payments SET status = ?2, gateway_reference = ?3, failure_code = ?4, \
         failure_message = ?5, updated = ?6, amount_captured = ?8, \
         challenge_attempts_remaining = ?9, redirect_url = ?10, \
         captured_at = CASE WHEN ?8 > 0 THEN COALESCE(captured_at, ?6) ELSE captured_at END \
         WHERE id = ?1 AND status = ?7 \
         AND (?2 != 'requires_action' OR ?7 != 'requires_action' OR ?9 IS NULL \
              OR challenge_attempts_remaining IS NULL OR ?9 <= challenge_attempts_remaining)",
        &[
            text(&p.id),
            text(p.status.as_str()),
            opt_text(p.gateway_reference.as_deref()),
            opt_text(p.failure_code.map(DeclineCode::as_str)),
            opt_text(p.failure_message.as_deref()),
            int(p.updated),
            text(from.as_str()),
            int(p.amount_captured),
            opt_int(p.challenge_attempts_remaining),
            opt_text(p.redirect_url.as_deref()),
        ],
    )
}

/// Closes a payment's open review with `decision` and records `event` in one transaction:
/// `None` when the review was not open (another decision came first), otherwise the merchant's
/// webhook endpoints for the event.
pub async fn close_review(
    env: &Env,
    payment_id: &str,
    decision: &str,
    event: &EventRow,
    now: i64,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let close = statement(
        env,
        "UPDATE payments SET review_status = ?2, updated = ?3 \
         WHERE id = ?1 AND review_status = 'open'",
        &[text(payment_id), text(decision), int(now)],
    )?;
    let statements = vec![
        close,
        webhooks::insert_event_after_change(env, event)?,
        webhooks::endpoints_statement(env, &event.merchant_id)?,
    ];
    let results = batch(env, statements).await?;
    let closed = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|meta| meta.changes)
        == Some(1);
    if !closed {
        return Ok(None);
    }
    webhooks::endpoints_read(&results).map(Some)
}

/// The merchant's payments whose review is open (authorized, waiting), oldest first: the
/// queue. `starting_after` is a payment of the queue.
pub async fn open_reviews(
    env: &Env,
    merchant_id: &str,
    starting_after: Option<&str>,
    limit: usize,
) -> StoreResult<Option<Vec<PaymentRow>>> {
    let after = match starting_after {
        Some(id) => match find(env, merchant_id, id).await? {
            Some(row) => Some((row.created, row.id)),
            None => return Ok(None),
        },
        None => None,
    };
    let (created, id) = after.unwrap_or((i64::MIN, String::new()));
    let limit = i64::try_from(limit).unwrap_or(100);
    all(
        env,
        "SELECT * FROM payments WHERE merchant_id = ?1 AND review_status = 'open' \
         AND status = 'requires_capture' AND (created > ?2 OR (created = ?2 AND id > ?3)) \
         ORDER BY created, id LIMIT ?4",
        &[text(merchant_id), int(created), text(&id), int(limit)],
    )
    .await
    .map(Some)
}

/// What a dry run replays of a past attempt.
#[derive(Debug, Clone, Deserialize)]
pub struct ReplayRow {
    pub id: String,
    pub created: i64,
    pub amount: i64,
    pub currency: Currency,
    pub card_brand: Brand,
    pub country: Option<String>,
    pub screening: Option<String>,
    pub status: PaymentStatus,
}

/// The merchant's card payment attempts since `since` (what the risk rules screen), oldest
/// first: the newest `limit` of them.
pub async fn attempts_since(
    env: &Env,
    merchant_id: &str,
    since: i64,
    limit: usize,
) -> StoreResult<Vec<ReplayRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    all(
        env,
        "SELECT * FROM (SELECT id, created, amount, currency, card_brand, country, screening, \
         status FROM payments WHERE merchant_id = ?1 AND created >= ?2 AND method = 'card' \
         ORDER BY created DESC, id DESC LIMIT ?3) ORDER BY created, id",
        &[text(merchant_id), int(since), int(limit)],
    )
    .await
}
