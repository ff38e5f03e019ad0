//! Links to Till's hosted pages that Till itself sends customers (in e-mails), where no
//! merchant page is there to hand the page its keys: the link carries a customer session made
//! for it and the merchant's hosted pages key.
//!
//! The hosted pages key is a publishable key Till makes for the merchant the first time it
//! needs one, keeps (publishable keys are public by design) and lists with the merchant's keys
//! as "Till hosted pages"; one the merchant revoked or rolled is replaced at the next need.

use crate::handlers::api_keys::mint;
use crate::handlers::customer_sessions::{self, Grants};
use crate::store::audit::AuditRow;
use crate::{auth, clock, random, store};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use till_core::api_keys::{hash_secret, KeyKind};
use till_core::error::ApiError;
use till_core::ids::IdKind;

/// How long an e-mailed link opens the page: a week, as long as the retries it is about.
pub const EMAILED_SESSION_SECONDS: i64 = 7 * 86_400;

const KEY_NAME: &str = "Till hosted pages";

/// A link and when it stops opening the page.
pub struct Link {
    pub url: String,
    pub expires_at: i64,
}

/// The customer's subscriptions page (pay an open invoice, switch card, cancel), opened by a
/// new customer session that may do only that, in the customer's `locale`.
pub async fn subscriptions_page(
    env: &worker::Env,
    merchant_id: &str,
    customer_id: &str,
    locale: &str,
) -> Result<Link, ApiError> {
    let base = env
        .var("HOSTED_PAGES_URL")
        .map(|v| v.to_string())
        .map_err(|_| {
            crate::log_error!("HOSTED_PAGES_URL is not set: e-mailed links cannot be made");
            ApiError::internal()
        })?;
    let key = publishable_key(env, merchant_id).await?;
    let grants = Grants {
        wallet: false,
        subscriptions: true,
        return_url: None,
    };
    let (session, secret) = customer_sessions::start(
        env,
        merchant_id,
        customer_id,
        grants,
        EMAILED_SESSION_SECONDS,
    )
    .await?;
    let url = format!(
        "{}/wallet?key={key}&view=subscriptions#customer_session={secret}&locale={}",
        base.trim_end_matches('/'),
        utf8_percent_encode(locale, NON_ALPHANUMERIC)
    );
    Ok(Link {
        url,
        expires_at: session.expires_at,
    })
}

/// The merchant's hosted pages key: the one kept while it is active, else a new one.
async fn publishable_key(env: &worker::Env, merchant_id: &str) -> Result<String, ApiError> {
    for _ in 0..3 {
        let kept = store::merchants::hosted_pages_key(env, merchant_id).await?;
        if let Some(key) = &kept {
            let active = auth::merchant_key(env, hash_secret(key))
                .await?
                .is_some_and(|found| {
                    found.merchant_id == merchant_id && found.is_active(clock::now_seconds())
                });
            if active {
                return Ok(key.clone());
            }
        }
        let now = clock::now_seconds();
        let (row, key) = mint(KeyKind::Publishable, Some(KEY_NAME.into()), &[], now)?;
        let entry = AuditRow {
            id: random::id(IdKind::AuditEntry)?,
            actor: "till".into(),
            action: "api_key.created",
            target: row.id.clone(),
            created: now,
        };
        let replaced = store::merchants::replace_hosted_pages_key(
            env,
            merchant_id,
            kept.as_deref(),
            &key,
            &row,
            &entry,
        )
        .await?;
        if replaced {
            return Ok(key);
        }
        // Another sender replaced it first: use theirs.
    }
    Err(ApiError::internal())
}
