//! `POST /v1/tokens`: decrypt the widget's JWE, validate the card, vault it, return a token.

use super::accessible_session;
use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::vault::{Vault, VaultedCard};
use crate::{clock, config, encrypted, random, rate_limit, server_timing, store};
use till_core::api::{CreateToken, SessionStatus, Token};
use till_core::card::{CardPayload, ValidCard};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::rate_limit::Dimension;
use worker::{Env, Request};

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let body = body_value(&mut req).await?;
    let request: Result<CreateToken, ApiError> = parse(body);
    // The card is opened with the session id the request names, so opening it and its limiter
    // run beside the browser's limiters and the session read: one wave of storage calls, not
    // two, with the card's key agreement done while they are under way. Every limiter counts
    // the request whatever the rest of it holds (one the session check refuses is still an
    // attempt with that card); the answer is the first refusal in the order below.
    let card = async {
        let card = match &request {
            Ok(request) => open_card(env, caller, request).await,
            Err(error) => Err(error.clone()),
        };
        let limited = match &card {
            Ok(opened) => {
                Some(rate_limit::check(env, caller, Dimension::Card, &opened.fingerprint).await)
            }
            Err(_) => None,
        };
        (card, limited)
    };
    let read = async {
        let request = request.as_ref().map_err(Clone::clone)?;
        accessible_session(
            env,
            caller,
            &request.checkout_session,
            Some(&request.client_secret),
        )
        .await
    };
    let (admitted, read, (card, card_limited)) = futures_util::future::join3(
        rate_limit::check_browser_caller(env, &req, caller),
        read,
        card,
    )
    .await;
    server_timing::step("reads");
    admitted?;
    let session = read?;
    if session.status == SessionStatus::Complete {
        return Err(ApiError::new(ErrorCode::CheckoutSessionComplete));
    }
    if session.status == SessionStatus::Locked {
        return Err(ApiError::new(ErrorCode::CheckoutSessionLocked));
    }
    let OpenedCard {
        nonce,
        now,
        valid: ValidCard { card, summary },
        fingerprint,
    } = card?;
    card_limited.transpose()?;
    let bin = crate::bins::lookup(env, card.number.expose()).await;
    server_timing::step("bin");

    let token = random::id(IdKind::Token)?;
    let vaulted = VaultedCard {
        checkout_session: session.id.clone(),
        number: card.number.clone(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        name: card.name.clone(),
        brand: summary.brand,
        last4: summary.last4.clone(),
        fingerprint,
        card_country: bin.country,
        card_funding: bin.funding,
    };
    // The nonce is spent and the token kept at once: a record kept for a replayed card is
    // deleted, and it was unreachable anyway, its token never told.
    let vault = Vault::open(env)?;
    let (first_use, kept) = futures_util::future::join(
        store::merchants::first_use_of_nonce(env, &nonce, now),
        vault.store(&token, &card, &vaulted),
    )
    .await;
    server_timing::step("vault");
    if !first_use? {
        if kept.is_ok() {
            vault.forget(&token).await?;
        }
        return Err(ApiError::new(ErrorCode::EncryptedCardReplayed).with_param("encrypted_card"));
    }
    kept?;
    // The fingerprint stays on the server side: it is in payments read with the secret key,
    // never in what the browser sees.
    json(
        200,
        &Token {
            id: token,
            object: "token".into(),
            card: summary,
            created: clock::now_seconds(),
        },
    )
}

/// A card opened from its JWE: valid, fresh, with the nonce still to spend and its fingerprint.
struct OpenedCard {
    nonce: String,
    now: i64,
    valid: ValidCard,
    fingerprint: String,
}

/// Decrypts the request's card for the session it names (a JWE made for another session is
/// refused), checks it is fresh and valid, and fingerprints it. The nonce is spent last, by
/// the caller, so a request refused for another reason can be corrected.
async fn open_card(
    env: &Env,
    caller: &Caller,
    request: &CreateToken,
) -> Result<OpenedCard, ApiError> {
    const PARAM: &str = "encrypted_card";
    let plaintext = encrypted::open(
        env,
        &request.encrypted_card,
        &request.checkout_session,
        PARAM,
    )
    .await?;
    let payload: CardPayload = serde_json::from_slice(&plaintext).map_err(|_| {
        encrypted::invalid(
            PARAM,
            "The decrypted card does not have the expected fields.",
        )
    })?;
    let now = clock::now_seconds();
    payload.check(now).map_err(|e| encrypted::stale(PARAM, e))?;
    // From here on only the normalized card is used: digits only, trimmed name.
    let valid = payload
        .card
        .validate(clock::this_month())
        .map_err(ApiError::card)?;
    let fingerprint_key = config::card_fingerprint_key(env)?;
    let fingerprint = till_core::card::fingerprint(
        fingerprint_key.expose().as_bytes(),
        &caller.merchant_id,
        valid.card.number.expose(),
    );
    Ok(OpenedCard {
        nonce: payload.nonce,
        now,
        valid,
        fingerprint,
    })
}
