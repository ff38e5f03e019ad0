//! A merchant's account: onboarding, API keys (create, roll, revoke, restricted scopes) and the
//! page origins allowed to embed the widget. Validation here; storage in the edge.

use crate::api_keys::{parse_scopes, KeyKind, Scope};
use crate::customer::checked_name;
use crate::error::{ApiError, ErrorCode};
use crate::urls::{check_origin, DevHosts};
use serde::{Deserialize, Serialize};

/// At most this many origins per merchant (each is checked on every framed page).
pub const MAX_ORIGINS: usize = 20;
/// A rolled key keeps working at most this long (7 days), so a deployment can pick up the new one.
pub const MAX_ROLL_EXPIRY_SECONDS: i64 = 7 * 24 * 60 * 60;

/// `POST /v1/platform/merchants`: a new merchant, with its first secret and publishable keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchant {
    pub name: String,
    #[serde(default)]
    pub origins: Vec<String>,
}

/// A merchant ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMerchant {
    pub name: String,
    pub origins: Vec<String>,
}

impl CreateMerchant {
    pub fn validate(&self, dev: DevHosts<'_>) -> Result<NewMerchant, ApiError> {
        let name = checked_name(&self.name)?;
        if self.origins.len() > MAX_ORIGINS {
            return Err(ApiError::new(ErrorCode::OriginInvalid)
                .with_message(format!("origins lists at most {MAX_ORIGINS} origins."))
                .with_param("origins"));
        }
        let mut origins: Vec<String> = Vec::with_capacity(self.origins.len());
        for given in &self.origins {
            let origin = checked_origin(given, dev)?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(NewMerchant { name, origins })
    }
}

/// An origin as the API refuses it: `origin_invalid` with the reason.
pub fn checked_origin(given: &str, dev: DevHosts<'_>) -> Result<String, ApiError> {
    check_origin(given, dev).map_err(|e| {
        ApiError::new(ErrorCode::OriginInvalid)
            .with_message(format!(
                "origin {} (scheme, host and optional port only, such as https://shop.example).",
                e.message()
            ))
            .with_param("origin")
    })
}

/// `POST /v1/origins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOrigin {
    pub origin: String,
}

/// `POST /v1/api_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Only for restricted keys, and required for them: `payments:read`, `refunds:write`, ...
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

/// A key ready to be made: what it may do and what the merchant calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub kind: KeyKind,
    pub name: Option<String>,
    /// Empty unless the key is restricted.
    pub scopes: Vec<Scope>,
}

impl CreateApiKey {
    pub fn validate(&self) -> Result<NewApiKey, ApiError> {
        let kind = KeyKind::parse(&self.kind)
            .ok_or_else(|| ApiError::new(ErrorCode::KeyKindInvalid).with_param("kind"))?;
        let name = self.name.as_deref().map(checked_name).transpose()?;
        let scopes = match (kind, &self.scopes) {
            (KeyKind::Restricted, Some(names)) => parse_scopes(names)?,
            (KeyKind::Restricted, None) => {
                return Err(ApiError::new(ErrorCode::ScopesInvalid)
                    .with_message("A restricted key needs scopes, such as [\"payments:read\"].")
                    .with_param("scopes"))
            }
            (_, Some(_)) => {
                return Err(ApiError::new(ErrorCode::ScopesInvalid)
                    .with_message("Only restricted keys have scopes: secret keys may do everything, publishable keys what a browser may.")
                    .with_param("scopes"))
            }
            (_, None) => Vec::new(),
        };
        Ok(NewApiKey { kind, name, scopes })
    }
}

/// `POST /v1/api_keys/:id/roll`: a new key replaces this one, which keeps working for
/// `expires_in` seconds (0, the default: it stops at once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollApiKey {
    #[serde(default)]
    pub expires_in: i64,
}

impl RollApiKey {
    pub fn validate(&self) -> Result<i64, ApiError> {
        if (0..=MAX_ROLL_EXPIRY_SECONDS).contains(&self.expires_in) {
            Ok(self.expires_in)
        } else {
            Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message(format!(
                    "expires_in is a number of seconds from 0 to {MAX_ROLL_EXPIRY_SECONDS} (7 days)."
                ))
                .with_param("expires_in"))
        }
    }
}

/// An API key as the API shows it. `secret` is there only in the answer that made the key:
/// Till keeps its hash, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub object: String,
    pub kind: KeyKind,
    pub name: Option<String>,
    /// Prefix and last four characters (`sk_test_...3f9a`), to tell keys apart.
    pub redacted: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub created: i64,
    /// When a rolled key stops working.
    pub expires: Option<i64>,
    pub revoked: Option<i64>,
    /// The key that replaced this one, once rolled.
    pub rolled_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A merchant as onboarding returns it: with its first keys, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantView {
    pub id: String,
    pub object: String,
    pub name: String,
    pub origins: Vec<String>,
    pub created: i64,
    pub api_keys: Vec<ApiKeyView>,
}

/// One of a merchant's page origins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginView {
    pub object: String,
    pub origin: String,
}

impl OriginView {
    pub fn new(origin: String) -> OriginView {
        OriginView {
            object: "origin".into(),
            origin,
        }
    }
}

/// One change a merchant's key or person made to the account, newest first in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: String,
    pub object: String,
    /// Who: `api_key:key_…` or `platform`.
    pub actor: String,
    /// What: `api_key.created`, `api_key.rolled`, `api_key.revoked`, `origin.added`,
    /// `origin.removed`, `merchant.created`.
    pub action: String,
    /// The key id or origin it was done to.
    pub target: String,
    pub created: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str, scopes: Option<&[&str]>) -> CreateApiKey {
        CreateApiKey {
            kind: kind.into(),
            name: None,
            scopes: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
        }
    }

    #[test]
    fn restricted_keys_need_scopes_and_only_they_have_them() {
        let made = key("restricted", Some(&["payments:read"]))
            .validate()
            .unwrap();
        assert_eq!(made.kind, KeyKind::Restricted);
        assert_eq!(made.scopes.len(), 1);
        assert_eq!(key("secret", None).validate().unwrap().scopes, vec![]);
        for bad in [
            key("restricted", None),
            key("secret", Some(&["payments:read"])),
            key("publishable", Some(&[])),
        ] {
            assert_eq!(bad.validate().unwrap_err().code(), ErrorCode::ScopesInvalid);
        }
        for kind in ["Secret", "admin", "", "secret\u{0}"] {
            assert_eq!(
                key(kind, None).validate().unwrap_err().code(),
                ErrorCode::KeyKindInvalid
            );
        }
    }

    #[test]
    fn roll_expiry_is_bounded_to_a_week() {
        assert_eq!(RollApiKey::default().validate().unwrap(), 0);
        assert_eq!(
            RollApiKey {
                expires_in: MAX_ROLL_EXPIRY_SECONDS
            }
            .validate()
            .unwrap(),
            MAX_ROLL_EXPIRY_SECONDS
        );
        for bad in [-1, MAX_ROLL_EXPIRY_SECONDS + 1, i64::MAX, i64::MIN] {
            assert!(RollApiKey { expires_in: bad }.validate().is_err());
        }
    }

    #[test]
    fn onboarding_checks_the_name_and_each_origin_and_drops_repeats() {
        let made = CreateMerchant {
            name: "  Seoul Books ".into(),
            origins: vec![
                "https://Books.example".into(),
                "https://books.example/".into(),
            ],
        }
        .validate(DevHosts::default())
        .unwrap();
        assert_eq!(made.name, "Seoul Books");
        assert_eq!(made.origins, ["https://books.example"]);
        let bad_origin = CreateMerchant {
            name: "Shop".into(),
            origins: vec!["https://shop.example/pay".into()],
        };
        let error = bad_origin.validate(DevHosts::default()).unwrap_err();
        assert_eq!(error.code(), ErrorCode::OriginInvalid);
        let no_name = CreateMerchant {
            name: " ".into(),
            origins: vec![],
        };
        assert_eq!(
            no_name.validate(DevHosts::default()).unwrap_err().code(),
            ErrorCode::NameInvalid
        );
        let too_many = CreateMerchant {
            name: "Shop".into(),
            origins: (0..=MAX_ORIGINS)
                .map(|i| format!("https://s{i}.example"))
                .collect(),
        };
        assert_eq!(
            too_many.validate(DevHosts::default()).unwrap_err().code(),
            ErrorCode::OriginInvalid
        );
    }
}
