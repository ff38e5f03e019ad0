//! What the widget encrypts to the edge's card keys: a compact JWE bound to one checkout session
//! (`cs` in its protected header). It carries a card to tokenize (`encrypted_card`) or a saved
//! card's security code typed again (`encrypted_cvc`).

use crate::card_keys::{self, AgreementError};
use till_core::card::PayloadError;
use till_core::crypto::{self, CryptoError};
use till_core::error::{ApiError, ErrorCode};
use worker::Env;

/// `param` is malformed: not a JWE Till can open, or not what it should hold.
pub fn invalid(param: &str, message: &str) -> ApiError {
    ApiError::new(ErrorCode::EncryptedCardInvalid)
        .with_message(message)
        .with_param(param)
}

/// The plaintext of `jwe` (the request's `param`), made for the checkout session `session_id`.
pub async fn open(
    env: &Env,
    jwe: &str,
    session_id: &str,
    param: &str,
) -> Result<Vec<u8>, ApiError> {
    let keys = card_keys::current(env).await?;
    let refused = |error: CryptoError| match error {
        CryptoError::UnknownKey => ApiError::new(ErrorCode::EncryptionKeyUnknown).with_param(param),
        other => invalid(param, &format!("{other}.")),
    };
    let sealed = crypto::read(jwe).map_err(refused)?;
    let key = keys
        .iter()
        .find(|key| key.kid() == sealed.kid())
        .ok_or_else(|| refused(CryptoError::UnknownKey))?;
    let shared = match card_keys::agree(key, sealed.sender()).await {
        Ok(shared) => shared,
        Err(AgreementError::Sender) => return Err(refused(CryptoError::InvalidKey)),
        Err(AgreementError::Runtime(error)) => return Err(error),
    };
    let decrypted = sealed.open(&shared).map_err(refused)?;
    if decrypted.header.cs != session_id {
        return Err(invalid(
            param,
            &format!("{param} was made for another checkout session."),
        ));
    }
    Ok(decrypted.plaintext)
}

/// The answer to a payload too old, from the future, or without a proper nonce.
pub fn stale(param: &str, error: PayloadError) -> ApiError {
    match error {
        PayloadError::Expired | PayloadError::FromTheFuture => {
            ApiError::new(ErrorCode::EncryptedCardExpired).with_param(param)
        }
        PayloadError::BadNonce => invalid(param, &format!("{param} lacks a valid nonce.")),
    }
}
