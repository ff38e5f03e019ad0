//! Secrets and settings from the Worker environment. Missing or malformed secrets are a 500 with
//! a log line naming the secret, never its value.

use crate::connectors::AccountCredentials;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use till_core::error::{ApiError, ErrorCode};
use till_core::secret::Secret;
use worker::Env;

pub(crate) fn secret(env: &Env, name: &str) -> Result<String, ApiError> {
    env.secret(name).map(|s| s.to_string()).map_err(|_| {
        crate::log_error!("configuration: secret {name} is not set");
        ApiError::internal()
    })
}

pub(crate) fn misconfigured(name: &str) -> ApiError {
    crate::log_error!("configuration: secret {name} is malformed");
    ApiError::internal()
}

/// One AES-256 key for the vault, with the version stored beside every record it seals.
pub struct VaultKey {
    pub version: String,
    pub key: Secret<[u8; 32]>,
}

#[derive(Deserialize)]
struct VaultKeyEntry {
    version: String,
    key: String,
}

/// `VAULT_KEYS`: a JSON array of `{"version", "key"}` (key: 32 bytes, base64). The first seals
/// new records; all of them open the records they sealed.
pub fn vault_keys(env: &Env) -> Result<Vec<VaultKey>, ApiError> {
    const NAME: &str = "VAULT_KEYS";
    let entries: Vec<VaultKeyEntry> =
        serde_json::from_str(&secret(env, NAME)?).map_err(|_| misconfigured(NAME))?;
    let keys: Vec<VaultKey> = entries
        .into_iter()
        .map(|entry| {
            let bytes: [u8; 32] = STANDARD
                .decode(entry.key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| misconfigured(NAME))?;
            Ok(VaultKey {
                version: entry.version,
                key: Secret::new(bytes),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    if keys.is_empty() {
        return Err(misconfigured(NAME));
    }
    Ok(keys)
}

/// `CARD_FINGERPRINT_KEY`: the HMAC key of card fingerprints. Never rotate it casually: the
/// same card must keep its fingerprint.
pub fn card_fingerprint_key(env: &Env) -> Result<Secret<String>, ApiError> {
    secret(env, "CARD_FINGERPRINT_KEY").map(Secret::new)
}

/// How long a gateway call may take before it counts as unavailable (`GATEWAY_TIMEOUT_MS`).
pub fn gateway_timeout_ms(env: &Env) -> u64 {
    env.var("GATEWAY_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(5000)
}

/// The platform's own gateway account, used by merchants without one of their own:
/// `GATEWAY_CONNECTOR` (default `sandbox`), `GATEWAY_URL`, and the secrets `GATEWAY_API_KEY`
/// and `GATEWAY_WEBHOOK_SECRET`.
pub fn platform_gateway(env: &Env) -> Result<(String, AccountCredentials), ApiError> {
    let url = env.var("GATEWAY_URL").map(|v| v.to_string()).map_err(|_| {
        crate::log_error!("configuration: var GATEWAY_URL is not set");
        ApiError::internal()
    })?;
    let connector = env
        .var("GATEWAY_CONNECTOR")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "sandbox".into());
    Ok((
        connector,
        AccountCredentials {
            url,
            api_key: Secret::new(secret(env, "GATEWAY_API_KEY")?),
            webhook_secret: Secret::new(secret(env, "GATEWAY_WEBHOOK_SECRET")?),
        },
    ))
}

/// The bank that pays payouts: `BANK_URL` and the secrets `BANK_API_KEY` and
/// `BANK_WEBHOOK_SECRET`.
pub fn platform_bank(env: &Env) -> Result<crate::banks::BankCredentials, ApiError> {
    let url = env.var("BANK_URL").map(|v| v.to_string()).map_err(|_| {
        crate::log_error!("configuration: var BANK_URL is not set");
        ApiError::internal()
    })?;
    Ok(crate::banks::BankCredentials {
        url,
        api_key: Secret::new(secret(env, "BANK_API_KEY")?),
        webhook_secret: Secret::new(secret(env, "BANK_WEBHOOK_SECRET")?),
    })
}

/// `DEV_HTTP_HOSTS`: hosts that webhook and return URLs may use over plain http, comma-separated.
/// Only `cargo xtask dev|test` sets it (for the local shop and test receivers on 127.0.0.1);
/// a deployment never has it, so production accepts only public https URLs.
pub fn dev_http_hosts(env: &Env) -> Vec<String> {
    env.var("DEV_HTTP_HOSTS")
        .map(|v| {
            v.to_string()
                .split(',')
                .map(|host| host.trim().to_string())
                .filter(|host| !host.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `OUTBOUND_HOSTS_ALLOWLIST`: when set (comma-separated), the only hosts a webhook endpoint or
/// a gateway account may name. The local stack sets it to loopback, so nothing a test or a
/// fuzzer registers can make Till call out to the internet; a deployment leaves it unset.
pub fn outbound_allowlist(env: &Env) -> Option<Vec<String>> {
    let list = env.var("OUTBOUND_HOSTS_ALLOWLIST").ok()?.to_string();
    Some(
        list.split(',')
            .map(|host| host.trim().to_string())
            .filter(|host| !host.is_empty())
            .collect(),
    )
}

/// Refuses a URL whose host the deployment's [`outbound_allowlist`] leaves out.
pub fn check_outbound(env: &Env, url: &str) -> Result<(), ApiError> {
    let Some(allowed) = outbound_allowlist(env) else {
        return Ok(());
    };
    let host = worker::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(String::from));
    if host.is_some_and(|h| allowed.contains(&h)) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::UrlInvalid)
            .with_message(format!(
                "url must be on one of this deployment's allowed hosts: {}.",
                allowed.join(", ")
            ))
            .with_param("url"))
    }
}
