//! API keys and client secrets: recognised by prefix, stored and compared only as SHA-256 hashes.
//! Restricted keys carry scopes: which resources they may read or change.

use crate::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// `sk_test_...`: merchant servers only; every operation.
    Secret,
    /// `pk_test_...`: browsers; tokens and the session named by its client secret.
    Publishable,
    /// `rk_test_...`: merchant servers; only the resources its scopes name.
    Restricted,
}

const KINDS: [KeyKind; 3] = [KeyKind::Secret, KeyKind::Publishable, KeyKind::Restricted];

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Publishable => "publishable",
            KeyKind::Restricted => "restricted",
        }
    }

    pub fn parse(text: &str) -> Option<KeyKind> {
        KINDS.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk_test_",
            KeyKind::Publishable => "pk_test_",
            KeyKind::Restricted => "rk_test_",
        }
    }

    /// Recognises a key by its prefix; the key must still be looked up by hash.
    pub fn of(key: &str) -> Option<KeyKind> {
        let well_formed = key.len() >= 16
            && key.len() <= 128
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !well_formed {
            return None;
        }
        KINDS
            .into_iter()
            .find(|kind| key.starts_with(kind.prefix()))
    }

    /// Keys that act on the merchant's behalf from a server (not from a browser page).
    pub fn is_server_key(self) -> bool {
        self != KeyKind::Publishable
    }
}

/// A new key: the kind's prefix and 48 hex digits (192 bits) of `random`.
pub fn new_key(kind: KeyKind, random: [u8; 24]) -> String {
    format!("{}{}", kind.prefix(), hex::encode(random))
}

/// How a key is shown once it is stored: its prefix and last four characters.
pub fn redact(key: &str) -> String {
    let kind = KeyKind::of(key).map(KeyKind::prefix).unwrap_or_default();
    let last4: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{kind}...{last4}")
}

/// What a restricted key's scope names. Endpoints map onto these in `routes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    CheckoutSessions,
    Payments,
    Refunds,
    Customers,
    Transfers,
    Payouts,
    Balance,
    WebhookEndpoints,
    Reconciliation,
    GatewayAccounts,
    Events,
    Reports,
    Risk,
    Disputes,
    /// Products, prices and subscriptions.
    Subscriptions,
}

const RESOURCES: [Resource; 15] = [
    Resource::CheckoutSessions,
    Resource::Payments,
    Resource::Refunds,
    Resource::Customers,
    Resource::Transfers,
    Resource::Payouts,
    Resource::Balance,
    Resource::WebhookEndpoints,
    Resource::Reconciliation,
    Resource::GatewayAccounts,
    Resource::Events,
    Resource::Reports,
    Resource::Risk,
    Resource::Disputes,
    Resource::Subscriptions,
];

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::CheckoutSessions => "checkout_sessions",
            Resource::Payments => "payments",
            Resource::Refunds => "refunds",
            Resource::Customers => "customers",
            Resource::Transfers => "transfers",
            Resource::Payouts => "payouts",
            Resource::Balance => "balance",
            Resource::WebhookEndpoints => "webhook_endpoints",
            Resource::Reconciliation => "reconciliation",
            Resource::GatewayAccounts => "gateway_accounts",
            Resource::Events => "events",
            Resource::Reports => "reports",
            Resource::Risk => "risk",
            Resource::Disputes => "disputes",
            Resource::Subscriptions => "subscriptions",
        }
    }
}

/// Reading (`GET`) or changing; `write` includes `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    Read,
    Write,
}

/// One grant of a restricted key, written `payments:read` or `refunds:write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub resource: Resource,
    pub permission: Permission,
}

/// At most this many scopes on one key (there are only twice as many resources).
pub const MAX_SCOPES: usize = 2 * RESOURCES.len();

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        let (resource, permission) = text.split_once(':')?;
        let resource = RESOURCES.into_iter().find(|r| r.as_str() == resource)?;
        let permission = match permission {
            "read" => Permission::Read,
            "write" => Permission::Write,
            _ => return None,
        };
        Some(Scope {
            resource,
            permission,
        })
    }

    pub fn name(self) -> String {
        let permission = match self.permission {
            Permission::Read => "read",
            Permission::Write => "write",
        };
        format!("{}:{permission}", self.resource.as_str())
    }

    /// Whether this grant allows `permission` on `resource`.
    pub fn allows(self, resource: Resource, permission: Permission) -> bool {
        self.resource == resource && self.permission >= permission
    }
}

/// A restricted key's scopes as given: 1 to [`MAX_SCOPES`] known names, each once. Returned
/// sorted, so equal grants are stored alike.
pub fn parse_scopes(names: &[String]) -> Result<Vec<Scope>, ApiError> {
    let invalid = |detail: String| {
        ApiError::new(ErrorCode::ScopesInvalid)
            .with_message(detail)
            .with_param("scopes")
    };
    if names.is_empty() || names.len() > MAX_SCOPES {
        return Err(invalid(format!(
            "scopes must list 1 to {MAX_SCOPES} grants such as payments:read."
        )));
    }
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        let scope = Scope::parse(name).ok_or_else(|| {
            let known: Vec<&str> = RESOURCES.iter().map(|r| r.as_str()).collect();
            invalid(format!(
                "Unknown scope {name:?}: write resource:read or resource:write, where resource \
                 is one of {}.",
                known.join(", ")
            ))
        })?;
        if scopes.iter().any(|s: &Scope| s.resource == scope.resource) {
            return Err(invalid(format!(
                "{} is named twice: give each resource once (write includes read).",
                scope.resource.as_str()
            )));
        }
        scopes.push(scope);
    }
    scopes.sort();
    Ok(scopes)
}

/// Whether a key with these grants may use `permission` on `resource`.
pub fn scopes_allow(scopes: &[Scope], resource: Resource, permission: Permission) -> bool {
    scopes.iter().any(|s| s.allows(resource, permission))
}

/// Hex SHA-256 of a key or client secret: what the database stores instead of the value.
pub fn hash_secret(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Extracts the key from an `Authorization: Bearer <key>` header value.
pub fn bearer_key(header: &str) -> Option<&str> {
    header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_kinds_by_prefix() {
        assert_eq!(KeyKind::of("sk_test_abcdefghijkl"), Some(KeyKind::Secret));
        assert_eq!(
            KeyKind::of("pk_test_abcdefghijkl"),
            Some(KeyKind::Publishable)
        );
        assert_eq!(
            KeyKind::of("rk_test_abcdefghijkl"),
            Some(KeyKind::Restricted)
        );
        assert_eq!(KeyKind::of("sk_live_abcdefghijkl"), None);
        assert_eq!(KeyKind::of("sk_test_"), None);
        assert_eq!(KeyKind::of("sk_test_abc'; DROP TABLE"), None);
    }

    #[test]
    fn hash_is_stable_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_key("Bearer sk_test_x"), Some("sk_test_x"));
        assert_eq!(bearer_key("Basic abc"), None);
        assert_eq!(bearer_key("Bearer "), None);
    }

    #[test]
    fn new_keys_are_recognised_and_redacted_to_their_last_four() {
        let key = new_key(KeyKind::Restricted, [0xab; 24]);
        assert_eq!(key.len(), 8 + 48);
        assert_eq!(KeyKind::of(&key), Some(KeyKind::Restricted));
        assert_eq!(redact(&key), "rk_test_...abab");
        assert_ne!(
            new_key(KeyKind::Secret, [1; 24]),
            new_key(KeyKind::Secret, [2; 24])
        );
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes_parse_sorted_and_write_includes_read() {
        let scopes = parse_scopes(&names(&["refunds:write", "payments:read"])).unwrap();
        assert_eq!(
            scopes.iter().map(|s| s.name()).collect::<Vec<_>>(),
            ["payments:read", "refunds:write"]
        );
        assert!(scopes_allow(&scopes, Resource::Payments, Permission::Read));
        assert!(!scopes_allow(
            &scopes,
            Resource::Payments,
            Permission::Write
        ));
        assert!(scopes_allow(&scopes, Resource::Refunds, Permission::Read));
        assert!(scopes_allow(&scopes, Resource::Refunds, Permission::Write));
        assert!(!scopes_allow(
            &scopes,
            Resource::Customers,
            Permission::Read
        ));
    }

    #[test]
    fn bad_scopes_are_refused_with_the_reason() {
        for bad in [
            names(&[]),
            names(&["payments"]),
            names(&["payments:admin"]),
            names(&["api_keys:write"]),
            names(&["Payments:read"]),
            names(&["payments:read", "payments:write"]),
            names(&["payments:read\u{0}"]),
            vec!["customers:read".to_string(); MAX_SCOPES + 1],
        ] {
            let error = parse_scopes(&bad).unwrap_err();
            assert_eq!(error.code(), ErrorCode::ScopesInvalid, "{bad:?}");
            assert_eq!(error.error.param.as_deref(), Some("scopes"));
        }
    }
}
