//! `POST /v1/checkout_sessions/:id/confirm`: pay the session with a token or a card the
//! session's customer saved, exactly once per `Idempotency-Key`; with the customer's consent,
//! the card is saved for next time.
//!
//! The idempotency record decides who goes first. The payment row is written `processing` before
//! the gateway is called, with the gateway key derived from the client's key. A retry after a
//! lost answer, or after the edge died, first asks the gateway what it has under that key and
//! applies it; it authorizes only when the gateway has nothing.

use super::check_session_access;
use super::payments::stored;
use crate::auth::Caller;
use crate::connectors::{Authorization, GatewayCard, GatewayError, Initiator, PaymentLookup};
use crate::gateways::{self, Gateway};
use crate::http::{body_value, parse, ApiResult};
use crate::idempotency::{self, Begin, Ended, Scope};
use crate::later::Later;
use crate::payments::bank_redirect::{self, BankCheckout};
use crate::payments::wallet_checkout;
use crate::payments::{
    block, blocked_answer, by_card, check_open, record_answer, refused, risk_action, started,
    Audience, NewPaymentKeys,
};
use crate::risk::{self, Attempt, Screening};
use crate::store;
use crate::store::customers::CustomerRow;
use crate::store::payment_methods::PaymentMethodRow;
use crate::store::payments::PaymentRow;
use crate::store::sessions::SessionRow;
use crate::vault::{Vault, VaultedCard};
use crate::{clock, random, rate_limit, server_timing};
use till_core::api::{CaptureMethod, ConfirmCheckoutSession, PayWith};
use till_core::error::{ApiError, ErrorCode};
use till_core::fx::Converted;
use till_core::ids::{self, IdKind};
use till_core::money::Money;
use till_core::payment::{DeclineCode, GatewayState, PaymentStatus};
use till_core::payment_method_type::PaymentMethodType;
use till_core::risk_rules::{Action, Rule};
use till_core::secret::Secret;

pub async fn confirm(
    mut req: worker::Request,
    env: &worker::Env,
    later: &Later<'_>,
    caller: &Caller,
    session_id: &str,
) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(
        &req,
        &caller.merchant_id,
        "checkout_sessions.confirm",
        &body,
    )?;
    let request = parse::<ConfirmCheckoutSession>(body);
    let (pay_with, request) = match request.and_then(|request| Ok((request.pay_with()?, request))) {
        Ok(parsed) => parsed,
        // What the key's first request stored still wins over this body's fault. Asking the
        // key's object for it is a call to the merchant's objects: only for a request the
        // limiters admit, so a flood of malformed bodies cannot reach them.
        Err(error) => {
            if let Some(replay) = idempotency::held_answer(&scope) {
                return replay;
            }
            rate_limit::check_browser_caller(env, &req, caller).await?;
            return match idempotency::stored_answer(env, &scope).await? {
                Some(replay) => replay,
                None => Err(error),
            };
        }
    };
    // A client's retry that lands on this isolate is answered from its memory.
    if let Some(replay) = idempotency::held_answer(&scope) {
        return replay;
    }
    let vault = Vault::open(env)?;
    let country = crate::http::header(&req, "CF-IPCountry")
        .and_then(|code| till_core::reports::ip_country(&code));
    let client_ip = crate::auth::client_ip(&req);
    let asked = Asked {
        pay_with: &pay_with,
        wallet_amount: request.wallet_amount,
        save: request.save_payment_method,
        encrypted_cvc: request.encrypted_cvc.as_deref(),
        country: country.as_deref(),
        client_ip: &client_ip,
    };
    // One wave: the key's object answers a replay (from what the first request stored) or
    // claims the key, the limiters count the request, and what paying reads is read. A replay
    // gets its stored answer whatever the limiters say; nothing reaches the gateway unless the
    // limiters and the session agree, and a refused request releases its claim.
    let claimed = async {
        let claimed = idempotency::claim(env, &scope).await.map_err(Err)?;
        let claimed = idempotency::unless_finished(&scope, claimed)?;
        server_timing::step("claim");
        Ok(claimed)
    };
    let admitted = async { Ok(rate_limit::check_browser_caller(env, &req, caller).await) };
    let reads = async {
        let reads = Reads::load(
            env,
            caller,
            session_id,
            &request.client_secret,
            vault,
            &scope,
            asked,
        );
        Ok(reads.await)
    };
    // A replay (or a failed claim) ends the wave at once; the rest is dropped.
    let (claimed, admitted, reads) =
        match futures_util::future::try_join3(claimed, admitted, reads).await {
            Ok(wave) => wave,
            Err(early) => return early,
        };
    server_timing::step("reads");
    // A request the limiters or the session refuse gets that refusal, whatever the key's object
    // said (a concurrent copy of it may hold the key), and gives back a key it took.
    let (session, reads) = match admitted.and(reads) {
        Ok(loaded) => loaded,
        Err(refusal) => {
            if let Begin::First | Begin::Recover = claimed {
                idempotency::release(env, &scope).await?;
            }
            return Err(refusal);
        }
    };
    if let PayWith::Bank(bank) = &pay_with {
        let origin = req
            .url()
            .map_err(|_| ApiError::internal())?
            .origin()
            .ascii_serialization();
        return idempotency::run_claimed(env, later, &scope, claimed, || async {
            let checkout = BankCheckout {
                session: &session,
                scope: &scope,
                bank,
                country: asked.country,
                origin: &origin,
            };
            match bank_redirect::confirm(env, &checkout, reads.existing).await {
                Ok(ended) => Ok(ended),
                Err(error) if !error.is_on_tills_side() => Ok(Ended::Retryable(error)),
                Err(error) => Err(error),
            }
        })
        .await;
    }
    if pay_with == PayWith::Wallet {
        return idempotency::run_claimed(env, later, &scope, claimed, || async {
            let paid = wallet_checkout::confirm(
                env,
                &session,
                &scope,
                request.wallet_amount,
                reads.existing,
            );
            match paid.await {
                Ok(ended) => Ok(ended),
                Err(error) if !error.is_on_tills_side() => Ok(Ended::Retryable(error)),
                Err(error) => Err(error),
            }
        })
        .await;
    }
    idempotency::run_claimed(env, later, &scope, claimed, || async {
        match pay(env, later, caller, &session, reads, asked, &scope).await {
            Ok(ended) => Ok(ended),
            // The request's own fault changed nothing: a corrected retry may run.
            Err(error) if !error.is_on_tills_side() => Ok(Ended::Retryable(error)),
            Err(error) => Err(error),
        }
    })
    .await
}

/// A saved card's security code typed again, opened and checked, its nonce not yet spent.
struct TypedCvc {
    cvc: Secret<String>,
    nonce: String,
}

/// The parameter that carries a saved card's code typed again.
pub const CVC_PARAM: &str = "encrypted_cvc";

/// The security code in `encrypted` (a `CvcPayload` JWE for the session `session_id`), checked
/// for the saved card's brand.
async fn open_typed_cvc(
    env: &worker::Env,
    session_id: &str,
    encrypted: &str,
    card: &VaultedCard,
) -> Result<TypedCvc, ApiError> {
    let plaintext = crate::encrypted::open(env, encrypted, session_id, CVC_PARAM).await?;
    let payload: till_core::card::CvcPayload =
        serde_json::from_slice(&plaintext).map_err(|_| {
            crate::encrypted::invalid(CVC_PARAM, "The decrypted code is not a CVC payload.")
        })?;
    let now = clock::now_seconds();
    payload
        .check(now)
        .map_err(|e| crate::encrypted::stale(CVC_PARAM, e))?;
    let cvc = payload.cvc.expose().trim().to_string();
    till_core::card::validate_cvc(&cvc, card.brand).map_err(ApiError::card)?;
    Ok(TypedCvc {
        cvc: Secret::new(cvc),
        nonce: payload.nonce,
    })
}

fn invalid_token() -> ApiError {
    ApiError::new(ErrorCode::TokenInvalid).with_param("token")
}

/// A card from the vault, with its CVC for a token (a saved card has none).
type Card = (VaultedCard, Option<Secret<String>>);

/// What the customer asked to pay with, and whether to keep the card.
#[derive(Clone, Copy)]
struct Asked<'a> {
    pay_with: &'a PayWith,
    /// What the session customer's wallet pays, the card paying the rest.
    wallet_amount: Option<i64>,
    save: bool,
    /// A saved card's security code, typed again.
    encrypted_cvc: Option<&'a str>,
    /// Where the customer pays from (`CF-IPCountry`, set by Cloudflare), for reports and the
    /// risk rules.
    country: Option<&'a str>,
    /// The customer's address, for the risk rules' counters (hashed before it is kept).
    client_ip: &'a str,
}

impl Asked<'_> {
    /// The token or saved card's id: the payment row keeps it as what it was paid with.
    fn source(&self) -> Option<&str> {
        match self.pay_with {
            PayWith::Token(id) | PayWith::PaymentMethod(id) => Some(id),
            PayWith::Bank(_) | PayWith::Wallet => None,
        }
    }
}

/// What paying reads: a payment this key already made, the card (a malformed token is never
/// looked up), the saved card's row if the session's customer may use it, the session's
/// customer, the merchant's gateway (a resumed payment uses the one it went through instead)
/// and its risk rules; and a new card payment's screening. Read alongside the claim; used only
/// once the request may run.
struct Reads {
    vault: Vault,
    existing: Option<PaymentRow>,
    card: Result<Option<Card>, ApiError>,
    saved_card: Option<PaymentMethodRow>,
    /// A saved card's security code typed again (`encrypted_cvc`), opened.
    typed_cvc: Option<Result<TypedCvc, ApiError>>,
    customer: Option<CustomerRow>,
    merchant_gateway: Result<Gateway, ApiError>,
    rules: Vec<Rule>,
    screened: Option<Screened>,
}

/// A payment's screening by the risk rules, and the time it was made at (the payment's).
struct Screened {
    screening: Result<Screening, ApiError>,
    at: i64,
}

impl Reads {
    /// The session the caller may pay (or why not), and what paying it reads: the database's
    /// part in one batch, the card from the vault alongside, then a new card payment's
    /// screening ([`screened_early`]).
    async fn load(
        env: &worker::Env,
        caller: &Caller,
        session_id: &str,
        client_secret: &str,
        vault: Vault,
        scope: &Scope,
        asked: Asked<'_>,
    ) -> Result<(SessionRow, Reads), ApiError> {
        let card = async {
            match asked.pay_with {
                PayWith::Token(token) if ids::is_valid(IdKind::Token, token) => Ok(vault
                    .card(token)
                    .await?
                    .map(|(card, cvc)| (card, Some(cvc)))),
                PayWith::PaymentMethod(id) if ids::is_valid(IdKind::PaymentMethod, id) => {
                    Ok(vault.saved_card(id).await?.map(|card| (card, None)))
                }
                _ => Ok(None),
            }
        };
        let saved_card = match asked.pay_with {
            PayWith::PaymentMethod(id) if ids::is_valid(IdKind::PaymentMethod, id) => {
                Some(id.as_str())
            }
            _ => None,
        };
        let stored = store::confirm_reads::load(
            env,
            &caller.merchant_id,
            session_id,
            &scope.key,
            saved_card,
        );
        let (stored, card) = futures_util::future::join(stored, card).await;
        let stored = stored?;
        let session = check_session_access(caller, stored.session, Some(client_secret))?;
        let typed_cvc = match (asked.pay_with, asked.encrypted_cvc, &card) {
            (PayWith::PaymentMethod(_), Some(encrypted), Ok(Some((saved, _)))) => {
                Some(open_typed_cvc(env, &session.id, encrypted, saved).await)
            }
            _ => None,
        };
        let rules = till_core::risk::effective_rules(&stored.rules);
        let merchant_gateway = gateways::of_merchant_account(env, stored.gateway_account);
        let screened = match (&stored.existing, &card, &merchant_gateway) {
            (None, Ok(card), Ok(_)) => {
                let checkout = Checkout {
                    caller,
                    session: &session,
                    scope,
                    rules: &rules,
                    customer: stored.customer.as_ref(),
                };
                let (usable, typed) = (stored.saved_card.as_ref(), typed_cvc.as_ref());
                screened_early(env, &checkout, asked, card.as_ref(), usable, typed).await
            }
            _ => None,
        };
        let reads = Reads {
            vault,
            existing: stored.existing,
            card,
            saved_card: stored.saved_card,
            typed_cvc,
            customer: stored.customer,
            merchant_gateway,
            rules,
            screened,
        };
        Ok((session, reads))
    }
}

async fn pay(
    env: &worker::Env,
    later: &Later<'_>,
    caller: &Caller,
    session: &SessionRow,
    reads: Reads,
    asked: Asked<'_>,
    scope: &Scope,
) -> Result<Ended, ApiError> {
    let Reads {
        vault,
        existing,
        card,
        saved_card,
        typed_cvc,
        customer,
        merchant_gateway,
        rules,
        screened,
    } = reads;
    let mut card = card?;
    // A saved card's code typed again is used for this authorization only, never kept. Its
    // nonce is spent in the transaction that starts the payment; a retry of the same request
    // (same key, same ciphertext) finds the payment and may open it again.
    let mut cvc_nonce = None;
    if let (Some((_, cvc)), PayWith::PaymentMethod(_)) = (&mut card, asked.pay_with) {
        match typed_cvc {
            Some(typed) => {
                let typed = typed?;
                *cvc = Some(typed.cvc);
                cvc_nonce = Some(typed.nonce);
            }
            None if session.require_cvc == 1 => {
                return Err(ApiError::card(till_core::card::CardError::IncompleteCvc))
            }
            None => {}
        }
    }
    let (mut payment, gateway, resumed) = match existing {
        // The idempotency record may be gone (released, expired): the row still knows which
        // request made it.
        Some(found) if found.request_fingerprint != scope.fingerprint => {
            return Err(idempotency::key_reused())
        }
        Some(found) if found.failure_code == Some(DeclineCode::BlockedByRisk) => {
            return blocked_answer()
        }
        Some(found) if found.status != PaymentStatus::Processing => {
            return stored(&found, Audience::Browser)
        }
        Some(found) => {
            let gateway = gateways::for_payment(env, &found).await?;
            (found, gateway, true)
        }
        None => {
            let gateway = merchant_gateway?;
            let checkout = Checkout {
                caller,
                session,
                scope,
                rules: &rules,
                customer: customer.as_ref(),
            };
            let paying = Paying {
                card: card.as_ref(),
                saved_card: saved_card.as_ref(),
                cvc_nonce: cvc_nonce.as_deref(),
            };
            let payment = start_payment(env, &checkout, &gateway, asked, paying, screened).await?;
            server_timing::step("start");
            (payment, gateway, false)
        }
    };
    let connector = &gateway.connector;
    // The rules decided when the payment was recorded; a retry keeps their decision.
    let action = risk_action(&payment);
    if action == Action::Block {
        block(env, &mut payment).await?;
        forget(&vault, asked).await?;
        return blocked_answer();
    }

    // A payment left `processing` by an earlier attempt may already be at the gateway.
    let known = if resumed {
        let lookup = PaymentLookup {
            payment_id: &payment.id,
            gateway_key: &payment.gateway_idempotency_key,
            gateway_reference: payment.gateway_reference.as_deref(),
        };
        match connector.find(&lookup).await {
            Ok(found) => found,
            Err(_) => return Ok(Ended::Retryable(ApiError::gateway_unavailable())),
        }
    } else {
        None
    };
    let saved = payment.payment_method_id.is_some();
    // A saved card the gateway made its own id for is charged by that id. A new payment's card
    // was read with the session; a resumed one's may have been detached since.
    let account = payment.gateway_account_id.as_deref();
    let card_reference = match (&payment.payment_method_id, resumed) {
        (None, _) => None,
        (Some(_), false) => saved_card.and_then(|method| method.reference_at(account)),
        (Some(id), true) => store::payment_methods::find(env, &payment.merchant_id, id)
            .await?
            .and_then(|method| method.reference_at(account)),
    };
    let answer = match known {
        Some(answer) => Ok(answer),
        None => match &card {
            Some((card, cvc)) if cvc.is_some() || saved => {
                let authorization = Authorization {
                    amount: payment.amount - payment.wallet_amount,
                    currency: payment.currency,
                    reference: payment.id.clone(),
                    // A payment held for review is only authorized: approving it captures.
                    capture: payment.capture_method == CaptureMethod::Automatic
                        && action != Action::Review,
                    card: GatewayCard {
                        number: card.number.clone(),
                        exp_month: card.exp_month,
                        exp_year: card.exp_year,
                        cvc: cvc.clone(),
                        name: card.name.clone(),
                    },
                    initiator: Initiator::Customer,
                    stored_credential: saved,
                    card_reference,
                    save_for_reuse: asked.save && !saved,
                    authenticate: action == Action::Request3ds,
                };
                connector
                    .authorize(&authorization, &payment.gateway_idempotency_key)
                    .await
            }
            // The card is gone and the gateway never saw it: this payment cannot happen.
            _ => Err(GatewayError::Rejected {
                status: 410,
                code: "token_expired".into(),
            }),
        },
    };
    server_timing::step("gateway");
    let answer = match answer {
        Ok(answer) => answer,
        Err(GatewayError::Unavailable(reason)) => {
            crate::log_warn!("payment {}: gateway unavailable: {reason}", payment.id);
            return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
        }
        Err(GatewayError::Rejected { code, .. }) => refused(&code),
    };
    // The card is kept before its token is forgotten, and only for a card the gateway did not
    // refuse (it is offered again once the payment is authorized).
    if let (true, Some((card, _)), false) = (asked.save, &card, resumed) {
        if !matches!(answer.state, GatewayState::Declined { .. }) {
            save_card(env, &vault, &payment, card, answer.card_reference.clone()).await?;
        }
    }
    // The gateway holds the authorization now: the CVC must go, and the token is used up. A
    // declined card leaves the session open to another payment, so its token goes before the
    // answer; otherwise the session takes no other payment and the deletion follows the answer
    // (the CVC's short TTL bounds it if that is lost).
    let follow_up = if matches!(answer.state, GatewayState::Declined { .. }) {
        let (recorded, forgotten) = futures_util::future::join(
            record_answer(env, &mut payment, answer),
            forget(&vault, asked),
        )
        .await;
        forgotten?;
        recorded?
    } else {
        later.run(forget_later(env, asked)).await;
        record_answer(env, &mut payment, answer).await?
    };
    server_timing::step("record");
    let env_later = env.clone();
    later
        .run(async move { follow_up.run(&env_later).await })
        .await;
    if payment.status == PaymentStatus::Failed {
        risk::count_decline(
            env,
            &payment.merchant_id,
            payment.screening.as_deref(),
            &payment.gateway_idempotency_key,
        )
        .await;
    }
    stored(&payment, Audience::Browser)
}

/// Deletes the token's vault records (the CVC above all) once the gateway has it.
async fn forget(vault: &Vault, asked: Asked<'_>) -> Result<(), ApiError> {
    match asked.source() {
        Some(source) => vault.forget(source).await,
        None => Ok(()),
    }
}

/// [`forget`], as work that owns what it needs (errors are logged by the vault).
fn forget_later(env: &worker::Env, asked: Asked<'_>) -> impl std::future::Future<Output = ()> {
    let (env, source) = (env.clone(), asked.source().map(str::to_string));
    async move {
        if let (Some(source), Ok(vault)) = (source, Vault::open(&env)) {
            let _ = vault.forget(&source).await;
        }
    }
}

/// Keeps the card for the payment's customer, unless they already saved it. The vault record
/// is written first: a crash leaves at most an unreferenced sealed record, never a saved card
/// without its card.
async fn save_card(
    env: &worker::Env,
    vault: &Vault,
    payment: &PaymentRow,
    card: &VaultedCard,
    gateway_card_reference: Option<String>,
) -> Result<(), ApiError> {
    let Some(customer) = &payment.customer_id else {
        return Ok(());
    };
    let row = PaymentMethodRow {
        id: random::id(IdKind::PaymentMethod)?,
        merchant_id: payment.merchant_id.clone(),
        customer_id: customer.clone(),
        payment_id: payment.id.clone(),
        card_brand: card.brand,
        card_last4: card.last4.clone(),
        card_exp_month: i64::from(card.exp_month),
        card_exp_year: i64::from(card.exp_year),
        card_fingerprint: card.fingerprint.clone(),
        gateway_account_id: payment.gateway_account_id.clone(),
        gateway_card_reference,
        created: clock::now_seconds(),
    };
    vault.keep_card(&row.id, card).await?;
    if !store::payment_methods::insert(env, &row).await? {
        vault.drop_saved_card(&row.id).await?;
    }
    Ok(())
}

/// What a new payment is made in: the checkout and whose rules screen it.
struct Checkout<'a> {
    caller: &'a Caller,
    session: &'a SessionRow,
    scope: &'a Scope,
    rules: &'a [Rule],
    /// The session's customer (none for a guest).
    customer: Option<&'a CustomerRow>,
}

/// What a card payment of the session must pass before it is screened: the session is open,
/// its quote still holds, the request's options fit the session, and it takes cards. The
/// wallet's part of the amount (zero unless the customer's wallet pays some of it).
fn card_payment_allowed(session: &SessionRow, asked: Asked<'_>) -> Result<i64, ApiError> {
    check_open(session)?;
    // The customer was shown the quote's amounts: after it expires they are not charged at
    // another rate, the merchant quotes again.
    if let Some(conversion) = &session.conversion {
        let locked: Converted = serde_json::from_str(conversion).map_err(|_| {
            crate::log_error!("session {}: stored conversion is invalid", session.id);
            ApiError::internal()
        })?;
        if locked.expires_at <= clock::now_seconds() {
            return Err(ApiError::new(ErrorCode::FxQuoteExpired));
        }
    }
    if asked.save && session.customer_id.is_none() {
        return Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("Only a checkout session created with a customer can save a card.")
            .with_param("save_payment_method"));
    }
    let takes_cards = till_core::payment_method_type::from_column(&session.payment_method_types)
        .unwrap_or_default()
        .contains(&PaymentMethodType::Card);
    if !takes_cards {
        return Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("This checkout does not take cards.")
            .with_param("token"));
    }
    wallet_checkout::share(session, asked.wallet_amount, true)
}

/// The token's card, if the token may pay this session.
fn token_card<'c>(
    session: &SessionRow,
    token: &str,
    card: Option<&'c Card>,
) -> Result<&'c VaultedCard, ApiError> {
    if !ids::is_valid(IdKind::Token, token) {
        return Err(invalid_token());
    }
    match card {
        Some((card, _)) if card.checkout_session == session.id => Ok(card),
        _ => Err(invalid_token()),
    }
}

/// A new payment with a token or a saved card is screened in the confirm's first wave, as soon
/// as the session, the card and the rules are read, beside the key's claim and the limiters:
/// the velocity objects are then not a round trip of their own between the wave and the
/// payment's row. Only an attempt that [`start_payment`] would screen is screened here: it runs
/// the same checks first, and gives their refusals itself, in its order: a saved card's code
/// typed again must have opened, and be there if the merchant asks for it. (A code whose nonce
/// was spent already is refused after the screening.) An attempt the limiters then refuse was
/// still an attempt to pay, and stays counted; a replay or a concurrent copy of the request is
/// the same attempt (the payment's gateway key), which the histories count once.
async fn screened_early(
    env: &worker::Env,
    checkout: &Checkout<'_>,
    asked: Asked<'_>,
    card: Option<&Card>,
    usable: Option<&PaymentMethodRow>,
    typed_cvc: Option<&Result<TypedCvc, ApiError>>,
) -> Option<Screened> {
    let session = checkout.session;
    let card = match asked.pay_with {
        PayWith::Token(token) => token_card(session, token, card).ok()?,
        PayWith::PaymentMethod(_) => {
            match typed_cvc {
                Some(Err(_)) => return None,
                None if session.require_cvc == 1 => return None,
                Some(Ok(_)) | None => {}
            }
            saved_card_of(usable, card).ok()?
        }
        PayWith::Bank(_) | PayWith::Wallet => return None,
    };
    let wallet_part = card_payment_allowed(session, asked).ok()?;
    let at = clock::now_seconds();
    let screening = screen_payment(env, checkout, asked, card, wallet_part, at).await;
    Some(Screened { screening, at })
}

/// The saved card's vaulted card, when the session's customer may pay with it (`usable`, read
/// with the session: theirs, not detached, not expired).
fn saved_card_of<'c>(
    usable: Option<&PaymentMethodRow>,
    card: Option<&'c Card>,
) -> Result<&'c VaultedCard, ApiError> {
    match (usable, card) {
        (Some(_), Some((card, _))) => Ok(card),
        _ => Err(ApiError::not_found("payment method").with_param("payment_method")),
    }
}

/// Screens a card payment of the checkout with the merchant's rules, recording the attempt in
/// its velocity histories.
async fn screen_payment(
    env: &worker::Env,
    checkout: &Checkout<'_>,
    asked: Asked<'_>,
    card: &VaultedCard,
    wallet_part: i64,
    now: i64,
) -> Result<Screening, ApiError> {
    let Checkout {
        caller,
        session,
        scope,
        rules,
        customer,
    } = *checkout;
    let email = customer
        .and_then(|c| c.email.clone())
        .or_else(|| session.receipt_email.clone());
    let keys = NewPaymentKeys::of(scope);
    risk::screen(
        env,
        rules,
        &Attempt {
            merchant_id: &caller.merchant_id,
            key: &keys.gateway_key,
            // What the card is asked for: the wallet's part is the customer's own money.
            amount: Money {
                amount: session.amount - wallet_part,
                currency: session.currency,
            },
            card,
            client: Some((asked.client_ip, asked.country)),
            customer,
            email: email.as_deref(),
            now,
        },
    )
    .await
}

/// What a new card payment pays with: the card from the vault (with the code it sends), and
/// for a saved card its row, if usable, and the nonce of its code typed again.
#[derive(Clone, Copy)]
struct Paying<'a> {
    card: Option<&'a Card>,
    saved_card: Option<&'a PaymentMethodRow>,
    cvc_nonce: Option<&'a str>,
}

/// Screens the attempt (unless the first wave did), reserves the session and records a
/// `processing` payment (with the rules' decision) before anything reaches the gateway, with
/// the nonce of a code typed again spent in the same transaction.
async fn start_payment(
    env: &worker::Env,
    checkout: &Checkout<'_>,
    gateway: &Gateway,
    asked: Asked<'_>,
    paying: Paying<'_>,
    screened: Option<Screened>,
) -> Result<PaymentRow, ApiError> {
    let Paying {
        card,
        saved_card,
        cvc_nonce,
    } = paying;
    let Checkout { session, scope, .. } = *checkout;
    let wallet_part = card_payment_allowed(session, asked)?;
    let card = match asked.pay_with {
        PayWith::Bank(_) | PayWith::Wallet => return Err(ApiError::internal()),
        PayWith::Token(token) => token_card(session, token, card)?,
        PayWith::PaymentMethod(_) => saved_card_of(saved_card, card)?,
    };
    let (screening, now) = match screened {
        Some(Screened { screening, at }) => (screening?, at),
        None => {
            let now = clock::now_seconds();
            let screening = screen_payment(env, checkout, asked, card, wallet_part, now).await?;
            server_timing::step("screen");
            (screening, now)
        }
    };
    let keys = NewPaymentKeys::of(scope);
    let payment = PaymentRow {
        gateway_account_id: gateway.account_id.clone(),
        payment_method_id: match asked.pay_with {
            PayWith::PaymentMethod(id) => Some(id.clone()),
            PayWith::Token(_) | PayWith::Bank(_) | PayWith::Wallet => None,
        },
        country: asked.country.map(str::to_string),
        wallet_amount: wallet_part,
        ..by_card(
            started(session, keys, now)?,
            card,
            asked.source().unwrap_or_default(),
            &screening,
        )
    };
    // One transaction: the session is claimed, the payment recorded and the wallet's part held
    // together, or none of it.
    wallet_checkout::record(env, &payment, cvc_nonce).await?;
    Ok(payment)
}
