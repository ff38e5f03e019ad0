//! Who is calling: the merchant behind a Bearer API key (looked up by its hash), and for
//! publishable keys, from which page.

use crate::clock;
use crate::http::header;
use crate::isolate_cache::TtlCache;
use crate::store::{self, merchants::MerchantKey};
use std::cell::RefCell;
use till_core::api_keys::{bearer_key, hash_secret, scopes_allow, KeyKind, Scope};
use till_core::error::{ApiError, ErrorCode};
use till_core::rate_limit::Limits;
use till_core::routes::{Access, Route};
use worker::{Env, Request};

/// Who acts for the merchant: one of its API keys, or a person signed in to the dashboard.
#[derive(Clone)]
pub enum Actor {
    /// The key the request was made with (`key_…`).
    Key(String),
    /// The person (`usr_…`); their role was checked when the request was authenticated.
    Person(String),
}

pub struct Caller {
    pub actor: Actor,
    pub merchant_id: String,
    pub merchant_name: String,
    pub key_kind: KeyKind,
    /// The rate limits this merchant overrides (the deployment's defaults apply to the rest).
    pub rate_limits: Limits,
}

impl Caller {
    /// The actor as the audit log names it: `api_key:key_…` or `user:usr_…`.
    pub fn audit_actor(&self) -> String {
        match &self.actor {
            Actor::Key(id) => format!("api_key:{id}"),
            Actor::Person(user_id) => format!("user:{user_id}"),
        }
    }

    /// The API key making the request, when not a person.
    pub fn key_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::Key(id) => Some(id),
            Actor::Person(_) => None,
        }
    }
}

/// How long an isolate trusts what it read about a key or a merchant's origins: a revoked key
/// or a removed origin stops working within this time.
const LOOKUP_CACHE_SECONDS: i64 = 30;
const LOOKUP_CACHE_ENTRIES: usize = 1024;

thread_local! {
    /// Keys by hash (`None`: no such key), read on nearly every request.
    static KEYS: RefCell<TtlCache<Option<MerchantKey>>> =
        RefCell::new(TtlCache::new(LOOKUP_CACHE_SECONDS, LOOKUP_CACHE_ENTRIES));
    /// Registered origins by merchant, read on every browser call from a merchant's page.
    static ORIGINS: RefCell<TtlCache<Vec<String>>> =
        RefCell::new(TtlCache::new(LOOKUP_CACHE_SECONDS, LOOKUP_CACHE_ENTRIES));
    /// Whether any merchant registered an origin, read for the CORS headers of every answer to
    /// a page (a replay included, which otherwise needs no storage at all).
    static REGISTERED: RefCell<TtlCache<bool>> =
        RefCell::new(TtlCache::new(LOOKUP_CACHE_SECONDS, LOOKUP_CACHE_ENTRIES));
}

/// The key with this hash, through the isolate's cache.
pub async fn merchant_key(env: &Env, key_hash: String) -> Result<Option<MerchantKey>, ApiError> {
    let now = clock::now_seconds();
    if let Some(known) = KEYS.with(|cache| cache.borrow().get(&key_hash, now)) {
        return Ok(known);
    }
    let found = store::merchants::by_key_hash(env, &key_hash).await?;
    KEYS.with(|cache| cache.borrow_mut().insert(key_hash, found.clone(), now));
    Ok(found)
}

/// Whether any merchant registered `origin`, through the isolate's cache.
pub async fn origin_registered(env: &Env, origin: &str) -> Result<bool, ApiError> {
    let now = clock::now_seconds();
    if let Some(known) = REGISTERED.with(|cache| cache.borrow().get(origin, now)) {
        return Ok(known);
    }
    let found = store::merchants::origin_registered(env, origin).await?;
    REGISTERED.with(|cache| cache.borrow_mut().insert(origin.to_string(), found, now));
    Ok(found)
}

/// The origins a merchant registered, through the isolate's cache.
pub async fn merchant_origins(env: &Env, merchant_id: &str) -> Result<Vec<String>, ApiError> {
    let now = clock::now_seconds();
    if let Some(known) = ORIGINS.with(|cache| cache.borrow().get(merchant_id, now)) {
        return Ok(known);
    }
    let found = store::merchants::origins(env, merchant_id).await?;
    ORIGINS.with(|cache| {
        cache
            .borrow_mut()
            .insert(merchant_id.to_string(), found.clone(), now)
    });
    Ok(found)
}

/// The merchant behind the request's key, if that key may call `route`: a secret key anything a
/// key may, a restricted key what its scopes name, a publishable key only the routes declared
/// for it and only from the merchant's pages.
///
/// Without an `Authorization` header, a dashboard session cookie stands in for a secret key,
/// limited by the person's role.
pub async fn authenticate(req: &Request, env: &Env, route: &Route) -> Result<Caller, ApiError> {
    let Some(value) = header(req, "Authorization") else {
        return match crate::people::session_token(req) {
            Some(_) => authenticate_person(req, env, route).await,
            None => Err(ApiError::missing_key()),
        };
    };
    let key = bearer_key(&value).ok_or_else(ApiError::missing_key)?;
    let kind = KeyKind::of(key).ok_or_else(ApiError::invalid_key)?;
    let found = merchant_key(env, hash_secret(key))
        .await?
        .filter(|m| m.kind == kind && m.revoked.is_none())
        .ok_or_else(ApiError::invalid_key)?;
    if found
        .expires
        .is_some_and(|expires| expires <= clock::now_seconds())
    {
        return Err(ApiError::new(ErrorCode::ApiKeyExpired));
    }
    match kind {
        KeyKind::Secret => {}
        KeyKind::Publishable if route.access == Access::PublishableKey => {
            check_browser_origin(req, env, &found.merchant_id).await?
        }
        KeyKind::Publishable => return Err(ApiError::new(ErrorCode::SecretKeyRequired)),
        KeyKind::Restricted => check_scopes(&found, route)?,
    }
    Ok(Caller {
        actor: Actor::Key(found.key_id),
        rate_limits: merchant_limits(&found.merchant_id, found.rate_limits.as_deref())?,
        merchant_id: found.merchant_id,
        merchant_name: found.merchant_name,
        key_kind: kind,
    })
}

fn merchant_limits(merchant_id: &str, stored: Option<&str>) -> Result<Limits, ApiError> {
    match stored {
        Some(text) => serde_json::from_str(text).map_err(|_| {
            crate::log_error!("merchant {merchant_id}: stored rate_limits are invalid");
            ApiError::internal()
        }),
        None => Ok(Limits::default()),
    }
}

/// A person signed in to the dashboard, acting with the merchant's secret-key authority as far
/// as their role allows.
async fn authenticate_person(req: &Request, env: &Env, route: &Route) -> Result<Caller, ApiError> {
    let session = crate::people::authenticate(req, env).await?;
    if !session.role.may(route) {
        return Err(session.role.refusal());
    }
    Ok(Caller {
        actor: Actor::Person(session.user_id),
        rate_limits: merchant_limits(&session.merchant_id, session.rate_limits.as_deref())?,
        merchant_id: session.merchant_id,
        merchant_name: session.merchant_name,
        key_kind: KeyKind::Secret,
    })
}

/// A restricted key calls only what its scopes grant; the answer names the scope it lacks.
fn check_scopes(key: &MerchantKey, route: &Route) -> Result<(), ApiError> {
    let granted: Vec<Scope> = key
        .scopes
        .as_deref()
        .and_then(|json| serde_json::from_str::<Vec<String>>(json).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|name| Scope::parse(name))
        .collect();
    let permission = route.permission();
    let Some(resource) = route.endpoint.resource() else {
        return Err(ApiError::new(ErrorCode::PermissionDenied).with_message(
            "Restricted keys cannot manage API keys, origins or the audit log: use a secret key.",
        ));
    };
    if scopes_allow(&granted, resource, permission) {
        Ok(())
    } else {
        let needed = Scope {
            resource,
            permission,
        };
        Err(
            ApiError::new(ErrorCode::PermissionDenied).with_message(format!(
                "This restricted key has no scope for this request: it needs {}.",
                needed.name()
            )),
        )
    }
}

/// Forgets what this isolate read about a key, after it was revoked or rolled here. Other
/// isolates learn it within [`LOOKUP_CACHE_SECONDS`].
pub fn forget_key(key_hash: &str) {
    KEYS.with(|cache| cache.borrow_mut().remove(key_hash));
}

/// Forgets a merchant's origins after they changed here (other isolates: within the cache time).
pub fn forget_origins(merchant_id: &str, origin: &str) {
    ORIGINS.with(|cache| cache.borrow_mut().remove(merchant_id));
    REGISTERED.with(|cache| cache.borrow_mut().remove(origin));
}

/// The platform operator (onboarding): `Authorization: Bearer <PLATFORM_SECRET>`. Without the
/// secret set, the platform API is closed.
pub fn authenticate_platform(req: &Request, env: &Env) -> Result<(), ApiError> {
    let value = header(req, "Authorization").ok_or_else(ApiError::missing_key)?;
    let given = bearer_key(&value).ok_or_else(ApiError::missing_key)?;
    let expected = env
        .secret("PLATFORM_SECRET")
        .map(|s| s.to_string())
        .ok()
        .filter(|s| s.len() >= 32);
    // Comparing hashes leaks nothing about the secret through timing.
    match expected {
        Some(secret) if hash_secret(&secret) == hash_secret(given) => Ok(()),
        _ => Err(ApiError::invalid_key()),
    }
}

/// Publishable keys are for the merchant's pages and Till's own widget, so a call must come from
/// a browser page: Till's own origin, or one the merchant registered. Browsers always send
/// `Origin` on cross-origin requests and on same-origin POSTs; a same-origin GET carries
/// `Sec-Fetch-Site: same-origin` instead.
async fn check_browser_origin(req: &Request, env: &Env, merchant_id: &str) -> Result<(), ApiError> {
    let Some(origin) = header(req, "Origin") else {
        return if header(req, "Sec-Fetch-Site").as_deref() == Some("same-origin") {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::OriginRequired))
        };
    };
    if Some(&origin) == own_origin(req).as_ref() {
        return Ok(());
    }
    let allowed = merchant_origins(env, merchant_id).await?;
    if allowed.contains(&origin) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::OriginNotAllowed))
    }
}

pub fn own_origin(req: &Request) -> Option<String> {
    Some(req.url().ok()?.origin().ascii_serialization())
}

/// The browser's `Origin` when it differs from the edge's own (same-origin calls from the widget
/// also carry one).
pub fn cross_origin(req: &Request) -> Option<String> {
    let origin = header(req, "Origin")?;
    (Some(&origin) != own_origin(req).as_ref()).then_some(origin)
}

/// The client's IP address as Cloudflare saw it (`CF-Connecting-IP` is set by the platform and
/// cannot be forged by the client there).
pub fn client_ip(req: &Request) -> String {
    header(req, "CF-Connecting-IP").unwrap_or_else(|| "unknown".into())
}
