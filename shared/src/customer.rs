//! A merchant's customers: who they are (email, phone, name, locale, metadata), how their
//! contact details are normalized, and the hashes by which a contact list finds them without
//! being sent in clear.

use crate::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

const MAX_EMAIL: usize = 254;
const MAX_NAME: usize = 200;
const MAX_LOCALE: usize = 35;
const MAX_METADATA_KEYS: usize = 20;
const MAX_METADATA_KEY: usize = 40;
const MAX_METADATA_VALUE: usize = 500;

/// The body of `POST /v1/customers` and of `PATCH /v1/customers/:id`: the same fields. A create
/// is [`CustomerFields::validate`]d; an update is [`CustomerFields::apply`]ed to what is stored:
/// each field given replaces the stored one, an empty string clears it, and `metadata` keys
/// given replace theirs (a key set to `""` is removed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerFields {
    #[serde(default)]
    pub email: Option<String>,
    /// E.164 (`+` and 8 to 15 digits); spaces, dashes, dots and parentheses are ignored.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// A BCP 47 language tag such as `en` or `ko-KR`.
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

pub type CreateCustomer = CustomerFields;
pub type UpdateCustomer = CustomerFields;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub object: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
}

/// A customer's details, checked and normalized, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Details {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

impl Details {
    /// The SHA-256 (hex) of the normalized email, the form contact lookups send.
    pub fn email_hash(&self) -> Option<String> {
        self.email.as_deref().map(contact_hash)
    }

    pub fn phone_hash(&self) -> Option<String> {
        self.phone.as_deref().map(contact_hash)
    }
}

impl CustomerFields {
    pub fn validate(&self) -> Result<Details, ApiError> {
        let metadata = checked_metadata(BTreeMap::new(), &self.metadata)?;
        Ok(Details {
            email: self.email.as_deref().map(normalize_email).transpose()?,
            phone: self.phone.as_deref().map(normalize_phone).transpose()?,
            name: self.name.as_deref().map(checked_name).transpose()?,
            locale: self.locale.as_deref().map(checked_locale).transpose()?,
            metadata,
        })
    }

    /// The stored details with this update applied.
    pub fn apply(&self, current: Details) -> Result<Details, ApiError> {
        fn replace<F>(
            given: Option<&str>,
            current: Option<String>,
            check: F,
        ) -> Result<Option<String>, ApiError>
        where
            F: Fn(&str) -> Result<String, ApiError>,
        {
            match given {
                None => Ok(current),
                Some("") => Ok(None),
                Some(value) => check(value).map(Some),
            }
        }
        Ok(Details {
            email: replace(self.email.as_deref(), current.email, normalize_email)?,
            phone: replace(self.phone.as_deref(), current.phone, normalize_phone)?,
            name: replace(self.name.as_deref(), current.name, checked_name)?,
            locale: replace(self.locale.as_deref(), current.locale, checked_locale)?,
            metadata: checked_metadata(current.metadata, &self.metadata)?,
        })
    }
}

/// The SHA-256 (lowercase hex) of a normalized email or phone number.
pub fn contact_hash(normalized: &str) -> String {
    hex::encode(Sha256::digest(normalized.as_bytes()))
}

/// A contact hash as sent by a client: 64 hex digits, read in lowercase.
pub fn parse_contact_hash(hash: &str) -> Option<String> {
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hash.to_ascii_lowercase())
}

/// Trimmed and lowercased; one `@` between a non-empty local part and a domain with a dot, no
/// spaces or control characters.
pub fn normalize_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid = email.chars().count() <= MAX_EMAIL
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(ApiError::new(ErrorCode::EmailInvalid).with_param("email"))
    }
}

/// E.164: `+`, a country code that does not start with 0, 8 to 15 digits in all. Spaces,
/// dashes, dots and parentheses people type are dropped.
pub fn normalize_phone(phone: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::new(ErrorCode::PhoneInvalid).with_param("phone");
    let compact: String = phone
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').ok_or_else(invalid)?;
    let valid = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(compact)
    } else {
        Err(invalid())
    }
}

pub(crate) fn checked_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::new(ErrorCode::NameInvalid).with_param("name"));
    }
    Ok(name.to_string())
}

/// A language, optionally with script and region: `en`, `ko-KR`, `zh-Hant-TW`.
pub(crate) fn checked_locale(locale: &str) -> Result<String, ApiError> {
    let mut parts = locale.split('-');
    let language = parts.next().unwrap_or_default();
    let valid = locale.len() <= MAX_LOCALE
        && (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if valid {
        Ok(locale.to_string())
    } else {
        Err(ApiError::new(ErrorCode::LocaleInvalid).with_param("locale"))
    }
}

/// `current` with `changes` applied: a value of `""` removes its key.
fn checked_metadata(
    mut current: BTreeMap<String, String>,
    changes: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let invalid = |message: String| {
        ApiError::new(ErrorCode::MetadataInvalid)
            .with_message(message)
            .with_param("metadata")
    };
    for (key, value) in changes {
        if key.is_empty()
            || key.chars().count() > MAX_METADATA_KEY
            || key.chars().any(char::is_control)
        {
            return Err(invalid(format!(
                "metadata keys are 1 to {MAX_METADATA_KEY} characters, without control characters."
            )));
        }
        if value.chars().count() > MAX_METADATA_VALUE || value.chars().any(char::is_control) {
            return Err(invalid(format!(
                "metadata values are at most {MAX_METADATA_VALUE} characters, without control characters."
            )));
        }
        if value.is_empty() {
            current.remove(key);
        } else {
            current.insert(key.clone(), value.clone());
        }
    }
    if current.len() > MAX_METADATA_KEYS {
        return Err(invalid(format!(
            "A customer holds at most {MAX_METADATA_KEYS} metadata keys."
        )));
    }
    Ok(current)
}

/// `POST /v1/customers/lookup`: which of these contact hashes belong to customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupCustomers {
    /// SHA-256 (hex) of normalized phone numbers (E.164) or emails (lowercase).
    pub hashes: Vec<String>,
}

/// The most hashes one lookup takes (a phone's contact list is usually far fewer).
pub const MAX_LOOKUP_HASHES: usize = 1000;

impl LookupCustomers {
    /// The hashes in lowercase, without repeats.
    pub fn validate(&self) -> Result<Vec<String>, ApiError> {
        if self.hashes.is_empty() || self.hashes.len() > MAX_LOOKUP_HASHES {
            return Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message(format!(
                    "hashes lists 1 to {MAX_LOOKUP_HASHES} contact hashes."
                ))
                .with_param("hashes"));
        }
        let mut hashes = Vec::with_capacity(self.hashes.len());
        for hash in &self.hashes {
            let hash = parse_contact_hash(hash).ok_or_else(|| {
                ApiError::new(ErrorCode::ParameterInvalid)
                    .with_message(
                        "Each hash is the SHA-256 of a normalized contact, as 64 hex digits.",
                    )
                    .with_param("hashes")
            })?;
            if !hashes.contains(&hash) {
                hashes.push(hash);
            }
        }
        Ok(hashes)
    }
}

/// One contact that belongs to a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactMatch {
    pub hash: String,
    pub customer: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
            "ada@.example.com",
            "ada@example.com.",
        ] {
            assert_eq!(
                normalize_email(bad).unwrap_err().code(),
                ErrorCode::EmailInvalid,
                "{bad:?}"
            );
        }
        assert!(normalize_email(&format!("{}@example.com", "a".repeat(250))).is_err());
        assert_eq!(normalize_email("민수@예시.한국").unwrap(), "민수@예시.한국");
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(
            normalize_phone("+82 10-1234-5678").unwrap(),
            "+821012345678"
        );
        assert_eq!(
            normalize_phone("+1 (415) 555.0100").unwrap(),
            "+14155550100"
        );
        for bad in [
            "",
            "01012345678",
            "+0 10 1234 5678",
            "+1234567",
            "+1234567890123456",
            "+82 10 1234 567x",
            "+８２１０１２３４５６７８",
            "++821012345678",
        ] {
            assert_eq!(
                normalize_phone(bad).unwrap_err().code(),
                ErrorCode::PhoneInvalid,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn contact_hashes_are_sha256_of_the_normalized_contact() {
        assert_eq!(
            contact_hash("ada@example.com"),
            hex::encode(Sha256::digest(b"ada@example.com"))
        );
        let upper = contact_hash("+14155550100").to_ascii_uppercase();
        assert_eq!(
            parse_contact_hash(&upper),
            Some(contact_hash("+14155550100"))
        );
        assert_eq!(parse_contact_hash("abc"), None);
        assert_eq!(parse_contact_hash(&"g".repeat(64)), None);
    }

    #[test]
    fn a_created_customer_is_normalized_and_checked() {
        let details = CreateCustomer {
            email: Some("Ada@Example.com".into()),
            phone: Some("+44 20 7946 0958".into()),
            name: Some("  Ada Lovelace ".into()),
            locale: Some("ko-KR".into()),
            metadata: BTreeMap::from([("plan".into(), "pro".into())]),
        }
        .validate()
        .unwrap();
        assert_eq!(details.email.as_deref(), Some("ada@example.com"));
        assert_eq!(details.phone.as_deref(), Some("+442079460958"));
        assert_eq!(details.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(details.email_hash(), Some(contact_hash("ada@example.com")));

        let locale = |l: &str| {
            CreateCustomer {
                locale: Some(l.into()),
                ..Default::default()
            }
            .validate()
        };
        for good in ["en", "ko", "zh-Hant-TW", "en-US"] {
            assert!(locale(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "e",
            "EN",
            "english-language-tag-that-is-far-too-long",
            "en_US",
            "en-",
        ] {
            assert_eq!(
                locale(bad).unwrap_err().code(),
                ErrorCode::LocaleInvalid,
                "{bad:?}"
            );
        }
        let name = |n: &str| {
            CreateCustomer {
                name: Some(n.into()),
                ..Default::default()
            }
            .validate()
        };
        assert_eq!(name("   ").unwrap_err().code(), ErrorCode::NameInvalid);
        assert_eq!(name("a\u{0}b").unwrap_err().code(), ErrorCode::NameInvalid);
        assert!(name("김민수").is_ok());
        assert_eq!(
            name(&"a".repeat(201)).unwrap_err().code(),
            ErrorCode::NameInvalid
        );
    }

    #[test]
    fn metadata_is_bounded_and_updated_key_by_key() {
        let many: BTreeMap<String, String> = (0..21)
            .map(|n| (format!("k{n}"), "v".to_string()))
            .collect();
        let create = CreateCustomer {
            metadata: many,
            ..Default::default()
        };
        assert_eq!(
            create.validate().unwrap_err().code(),
            ErrorCode::MetadataInvalid
        );
        let long_key = BTreeMap::from([("k".repeat(41), "v".to_string())]);
        let create = CreateCustomer {
            metadata: long_key,
            ..Default::default()
        };
        assert_eq!(
            create.validate().unwrap_err().code(),
            ErrorCode::MetadataInvalid
        );

        let current = Details {
            name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            metadata: BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]),
            ..Default::default()
        };
        let updated = UpdateCustomer {
            name: Some(String::new()),
            phone: Some("+14155550100".into()),
            metadata: BTreeMap::from([("a".into(), String::new()), ("c".into(), "3".into())]),
            ..Default::default()
        }
        .apply(current)
        .unwrap();
        assert_eq!(updated.name, None);
        assert_eq!(updated.email.as_deref(), Some("ada@example.com"));
        assert_eq!(updated.phone.as_deref(), Some("+14155550100"));
        assert_eq!(
            updated.metadata,
            BTreeMap::from([("b".into(), "2".into()), ("c".into(), "3".into())])
        );
    }

    #[test]
    fn lookups_take_hashes_only() {
        let hash = contact_hash("+14155550100");
        let lookup = LookupCustomers {
            hashes: vec![hash.to_uppercase(), hash.clone()],
        };
        assert_eq!(lookup.validate().unwrap(), vec![hash]);
        let clear = LookupCustomers {
            hashes: vec!["+14155550100".into()],
        };
        assert_eq!(
            clear.validate().unwrap_err().code(),
            ErrorCode::ParameterInvalid
        );
        assert!(LookupCustomers { hashes: vec![] }.validate().is_err());
        let too_many = LookupCustomers {
            hashes: vec![contact_hash("x"); MAX_LOOKUP_HASHES + 1],
        };
        assert!(too_many.validate().is_err());
    }
}
