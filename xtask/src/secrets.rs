//! Local secrets for `wrangler dev` (edge/.dev.vars, git-ignored): fresh random keys, made once.

use crate::root;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use till_core::crypto::CardKey;

/// Must match the sandbox's default gateway key (sandbox/src/main.rs); its bank and its mail
/// API take it too.
const SANDBOX_GATEWAY_KEY: &str = "gw_test_till_sandbox_key";
/// Must match the sandbox's default webhook secret (sandbox/src/main.rs), for its bank's too.
const SANDBOX_WEBHOOK_SECRET: &str = "gwhsec_till_sandbox_local";

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| format!("random: {e}"))?;
    Ok(out)
}

fn card_key(kid: &str) -> Result<CardKey, String> {
    // A random 32-byte string is a valid P-256 scalar except with negligible probability.
    loop {
        if let Ok(key) = CardKey::from_secret_bytes(kid, random()?) {
            return Ok(key);
        }
    }
}

/// Marks the current layout of `.dev.vars`; an older file is replaced.
const LAYOUT: &str =
    "# till dev vars v7: two card keys, gateway webhooks, card fingerprints, the bank, platform, mail";

/// The `.dev.vars` contents: secrets in the formats the edge's config reads. Two card keys, as
/// during a rotation: widgets encrypt to the first, the second still decrypts.
pub fn dev_vars() -> Result<String, String> {
    let keys = [
        card_key("local-2")?.to_private_jwk(),
        card_key("local-1")?.to_private_jwk(),
    ];
    let card_keys = serde_json::to_string(&keys).map_err(|e| e.to_string())?;
    let vault_keys =
        serde_json::json!([{ "version": "v1", "key": STANDARD.encode(random::<32>()?) }]);
    let fingerprint_key = STANDARD.encode(random::<32>()?);
    let platform_secret: String = random::<32>()?.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{LAYOUT}\nCARD_ENCRYPTION_KEYS='{card_keys}'\nVAULT_KEYS='{vault_keys}'\nGATEWAY_API_KEY='{SANDBOX_GATEWAY_KEY}'\nGATEWAY_WEBHOOK_SECRET='{SANDBOX_WEBHOOK_SECRET}'\nCARD_FINGERPRINT_KEY='{fingerprint_key}'\nBANK_API_KEY='{SANDBOX_GATEWAY_KEY}'\nBANK_WEBHOOK_SECRET='{SANDBOX_WEBHOOK_SECRET}'\nPLATFORM_SECRET='{platform_secret}'\nMAIL_API_KEY='{SANDBOX_GATEWAY_KEY}'\n"
    ))
}

pub fn ensure_dev_vars() -> Result<(), String> {
    let path = root().join("edge/.dev.vars");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current.starts_with(LAYOUT) {
        return Ok(());
    }
    std::fs::write(&path, dev_vars()?).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote fresh local secrets to {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_vars_hold_usable_keys() {
        let vars = dev_vars().unwrap();
        let line = vars
            .lines()
            .find(|l| l.starts_with("CARD_ENCRYPTION_KEYS="))
            .unwrap();
        let json = line
            .trim_start_matches("CARD_ENCRYPTION_KEYS=")
            .trim_matches('\'');
        let jwks: Vec<till_core::crypto::PrivateJwk> = serde_json::from_str(json).unwrap();
        assert!(CardKey::from_jwk(&jwks[0]).is_ok());
        assert_eq!(jwks.len(), 2);
        assert_ne!(jwks[0].kid, jwks[1].kid);
        assert_ne!(dev_vars().unwrap(), vars, "keys must be fresh each time");
    }
}
