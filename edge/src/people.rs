//! Dashboard sessions: the cookie that carries one and the checks every call made with it
//! passes. The cookie is `HttpOnly` (no script reads it), `Secure`, `SameSite=Strict` (no other
//! site's page sends it) and `__Host-` prefixed (no subdomain can set or scope it); a change
//! must also come from Till's own page (`Origin`) and carry the session's CSRF token.

use crate::auth;
use crate::clock;
use crate::http::header;
use crate::store::{self, people::SessionRow};
use till_core::api_keys::hash_secret;
use till_core::error::{ApiError, ErrorCode};
use till_core::team::SESSION_SECONDS;
use worker::{Method, Request};

const COOKIE: &str = "__Host-till_session";
/// A session's `last_seen` is written at most this often (it keeps the session from idling out).
const TOUCH_AFTER_SECONDS: i64 = 300;

/// The session token in the request's cookie, if any.
pub fn session_token(req: &Request) -> Option<String> {
    let cookies = header(req, "Cookie")?;
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; Max-Age={SESSION_SECONDS}; HttpOnly; Secure; SameSite=Strict"
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn cleared_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// The signed-in session behind the request's cookie. Requests that change something must come
/// from Till's own origin and carry `X-CSRF-Token`.
pub async fn authenticate(req: &Request, env: &worker::Env) -> Result<SessionRow, ApiError> {
    let required = || ApiError::new(ErrorCode::SessionRequired);
    let token = session_token(req).ok_or_else(required)?;
    let token_hash = hash_secret(&token);
    let now = clock::now_seconds();
    let session = store::people::session(env, &token_hash, now)
        .await?
        .ok_or_else(required)?;
    if req.method() != Method::Get {
        check_same_origin(req)?;
        let given = header(req, "X-CSRF-Token").unwrap_or_default();
        // Hashes compare in time independent of where the tokens differ.
        if hash_secret(&given) != hash_secret(&session.csrf_token) {
            return Err(ApiError::new(ErrorCode::CsrfTokenInvalid));
        }
    }
    if now - session.last_seen >= TOUCH_AFTER_SECONDS {
        store::people::touch_session(env, &token_hash, now).await?;
    }
    Ok(session)
}

/// Browsers send `Origin` with every request that is not a GET; it must be Till's own.
pub fn check_same_origin(req: &Request) -> Result<(), ApiError> {
    match header(req, "Origin") {
        Some(origin) if Some(&origin) == auth::own_origin(req).as_ref() => Ok(()),
        _ => Err(ApiError::new(ErrorCode::CsrfTokenInvalid)
            .with_message("Dashboard changes must come from the dashboard's own page.")),
    }
}
