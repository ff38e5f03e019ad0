//! Merchants made for one test through the platform API, so a test's lists and keys hold only
//! what it made.

use crate::{setting, Till};
use serde_json::{json, Value};

/// The local edge's platform secret, read from its `.dev.vars` (`TILL_DEV_VARS`).
pub fn platform_secret() -> String {
    let path = setting("TILL_DEV_VARS");
    let vars = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    vars.lines()
        .find_map(|line| line.strip_prefix("PLATFORM_SECRET="))
        .map(|value| value.trim_matches('\'').to_string())
        .unwrap_or_else(|| panic!("{path} has no PLATFORM_SECRET"))
}

/// `POST /v1/platform/merchants` with `secret` as the platform secret.
pub async fn platform_create(
    till: &Till,
    secret: &str,
    name: &str,
    origins: &[&str],
) -> (u16, Value) {
    till.post(
        "/v1/platform/merchants",
        secret,
        &json!({ "name": name, "origins": origins }),
    )
    .await
}

/// A new merchant: its id, and helpers acting for it with the keys onboarding showed once.
pub async fn onboard(name: &str, origins: &[&str]) -> (String, Till) {
    let till = Till::default();
    let (status, merchant) = platform_create(&till, &platform_secret(), name, origins).await;
    assert_eq!(status, 200, "onboarding: {merchant}");
    let key_of = |kind: &str| {
        merchant["api_keys"]
            .as_array()
            .expect("api_keys")
            .iter()
            .find(|k| k["kind"] == kind)
            .and_then(|k| k["secret"].as_str())
            .unwrap_or_else(|| panic!("no {kind} key in {merchant}"))
            .to_string()
    };
    let id = merchant["id"].as_str().expect("id").to_string();
    (
        id,
        Till::for_merchant(&key_of("secret"), &key_of("publishable")),
    )
}
