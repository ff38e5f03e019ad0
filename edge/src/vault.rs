//! The card vault in KV: every record sealed with AES-256-GCM under a versioned key. A token is
//! one short-lived record, the card with its CVC, deleted once the gateway has answered; a saved
//! card never has its CVC.

use crate::config::VaultKey;
use crate::random;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use till_core::card::{Brand, CardDetails};
use till_core::crypto;
use till_core::error::ApiError;
use till_core::secret::Secret;
use worker::kv::KvStore;
use worker::Env;

/// PCI DSS: the CVC lives only until authorization, and at most 15 minutes; a token holds it, so
/// an unused token expires with it.
const TOKEN_TTL_SECONDS: u64 = 15 * 60;

/// What a token (or a saved card) stands for, inside the sealed record.
#[derive(Clone, Serialize, Deserialize)]
pub struct VaultedCard {
    pub checkout_session: String,
    pub number: Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    pub name: String,
    pub brand: Brand,
    pub last4: String,
    pub fingerprint: String,
    /// The issuing country and funding of the card's BIN, from the BIN provider at
    /// tokenization (unknown for cards saved before Till asked).
    #[serde(default)]
    pub card_country: Option<String>,
    #[serde(default)]
    pub card_funding: Option<String>,
}

/// What a token stands for, sealed as one record: written, read and deleted in one operation.
#[derive(Serialize, Deserialize)]
struct TokenRecord {
    card: VaultedCard,
    cvc: Secret<String>,
}

/// A stored record: the key version and the sealed bytes; nothing readable without the key.
#[derive(Serialize, Deserialize)]
struct SealedRecord {
    v: String,
    data: String,
}

pub struct Vault {
    kv: KvStore,
    keys: Vec<VaultKey>,
}

fn kv_error(what: &str, error: impl std::fmt::Display) -> ApiError {
    crate::log_error!("vault {what}: {error}");
    ApiError::internal()
}

/// Dispute evidence is kept well past any decision (networks' pre-arbitration and a merchant's
/// own records), then expires.
const EVIDENCE_TTL_SECONDS: u64 = 400 * 24 * 60 * 60;

fn evidence_key(merchant_id: &str, file_id: &str) -> String {
    format!("evidence:{merchant_id}:{file_id}")
}

fn token_key(token: &str) -> String {
    format!("tok:{token}")
}

fn saved_key(payment_method: &str) -> String {
    format!("pm:{payment_method}")
}

impl Vault {
    pub fn open(env: &Env) -> Result<Self, ApiError> {
        Ok(Vault {
            kv: env.kv("VAULT").map_err(|e| kv_error("binding", e))?,
            keys: crate::config::vault_keys(env)?,
        })
    }

    /// Seals bytes with the current key, bound to `aad` (the storage name): the stored text is
    /// `{"v": key version, "data": base64 of nonce + ciphertext}`.
    fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<String, ApiError> {
        let current = self
            .keys
            .first()
            .ok_or_else(|| kv_error("seal", "no vault key"))?;
        let sealed = crypto::seal(
            current.key.expose(),
            random::bytes()?,
            plaintext,
            aad.as_bytes(),
        );
        serde_json::to_string(&SealedRecord {
            v: current.version.clone(),
            data: STANDARD.encode(sealed),
        })
        .map_err(|e| kv_error("encode", e))
    }

    /// Opens what [`Vault::seal`] made, with the key version it names.
    fn unseal(&self, aad: &str, text: &str) -> Result<Vec<u8>, ApiError> {
        let record: SealedRecord = serde_json::from_str(text).map_err(|e| kv_error("decode", e))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.version == record.v)
            .ok_or_else(|| kv_error("open", format!("no vault key version {}", record.v)))?;
        let sealed = STANDARD
            .decode(record.data)
            .map_err(|e| kv_error("decode", e))?;
        crypto::open(key.key.expose(), &sealed, aad.as_bytes()).map_err(|e| kv_error("open", e))
    }

    async fn put_sealed(&self, name: &str, plaintext: &[u8], ttl: u64) -> Result<(), ApiError> {
        self.kv
            .put(name, self.seal(name, plaintext)?)
            .map_err(|e| kv_error("put", e))?
            .expiration_ttl(ttl)
            .execute()
            .await
            .map_err(|e| kv_error("put", e))
    }

    async fn get_sealed(&self, name: &str) -> Result<Option<Vec<u8>>, ApiError> {
        let text = self
            .kv
            .get(name)
            .text()
            .await
            .map_err(|e| kv_error("get", e))?;
        text.map(|text| self.unseal(name, &text)).transpose()
    }

    /// Seals a short secret for a database column (e.g. a webhook signing secret).
    pub fn seal_text(&self, aad: &str, text: &str) -> Result<String, ApiError> {
        self.seal(aad, text.as_bytes())
    }

    pub fn open_text(&self, aad: &str, sealed: &str) -> Result<Secret<String>, ApiError> {
        String::from_utf8(self.unseal(aad, sealed)?)
            .map(Secret::new)
            .map_err(|e| kv_error("decode", e))
    }

    pub async fn store(
        &self,
        token: &str,
        card: &CardDetails,
        vaulted: &VaultedCard,
    ) -> Result<(), ApiError> {
        let record = TokenRecord {
            card: vaulted.clone(),
            cvc: card.cvc.clone(),
        };
        let record = serde_json::to_vec(&record).map_err(|e| kv_error("encode", e))?;
        self.put_sealed(&token_key(token), &record, TOKEN_TTL_SECONDS)
            .await
    }

    /// The card and its CVC, while the token lasts.
    pub async fn card(
        &self,
        token: &str,
    ) -> Result<Option<(VaultedCard, Secret<String>)>, ApiError> {
        let Some(record) = self.get_sealed(&token_key(token)).await? else {
            return Ok(None);
        };
        let record: TokenRecord =
            serde_json::from_slice(&record).map_err(|e| kv_error("decode", e))?;
        Ok(Some((record.card, record.cvc)))
    }

    /// Keeps a card a customer saved, without an expiry and never with its CVC.
    pub async fn keep_card(
        &self,
        payment_method: &str,
        card: &VaultedCard,
    ) -> Result<(), ApiError> {
        let name = saved_key(payment_method);
        let record = serde_json::to_vec(card).map_err(|e| kv_error("encode", e))?;
        self.kv
            .put(&name, self.seal(&name, &record)?)
            .map_err(|e| kv_error("put", e))?
            .execute()
            .await
            .map_err(|e| kv_error("put", e))
    }

    pub async fn saved_card(&self, payment_method: &str) -> Result<Option<VaultedCard>, ApiError> {
        self.get_sealed(&saved_key(payment_method))
            .await?
            .map(|record| serde_json::from_slice(&record).map_err(|e| kv_error("decode", e)))
            .transpose()
    }

    /// Keeps a dispute evidence file, sealed: it may hold a customer's name and address.
    pub async fn keep_evidence_file(
        &self,
        merchant_id: &str,
        file_id: &str,
        bytes: &[u8],
    ) -> Result<(), ApiError> {
        self.put_sealed(
            &evidence_key(merchant_id, file_id),
            bytes,
            EVIDENCE_TTL_SECONDS,
        )
        .await
    }

    /// A merchant's evidence file, while it is kept.
    pub async fn evidence_file(
        &self,
        merchant_id: &str,
        file_id: &str,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        self.get_sealed(&evidence_key(merchant_id, file_id)).await
    }

    /// Deletes a saved card (detached, or saved twice).
    pub async fn drop_saved_card(&self, payment_method: &str) -> Result<(), ApiError> {
        self.kv
            .delete(&saved_key(payment_method))
            .await
            .map_err(|e| kv_error("delete", e))
    }

    /// Deletes the token: tokens are single use and the CVC must not outlive authorization.
    pub async fn forget(&self, token: &str) -> Result<(), ApiError> {
        self.kv
            .delete(&token_key(token))
            .await
            .map_err(|e| kv_error("delete", e))
    }
}
