//! `/v1/dashboard/*`: a person signs up from an invitation, signs in (password, then the
//! authenticator's code if they turned it on), reads their session, signs out, and turns the
//! second factor on or off.

use crate::http::{body_value, header, json, parse, ApiResult};
use crate::store::audit::AuditRow;
use crate::store::people::{NewSession, NewUser, SessionRow, UserRow};
use crate::vault::Vault;
use crate::{clock, people, random, rate_limit, store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use till_core::api_keys::hash_secret;
use till_core::customer::normalize_email;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::team::{
    after_failure, checked_code, DashboardSessionView, MemberView, SignIn, SignUp, TotpCode,
    TotpSetupView, LOCKOUT_FAILURES, LOCKOUT_SECONDS, SESSION_SECONDS,
};
use till_core::{password, totp};
use worker::{Env, Request};

/// `POST /v1/dashboard/sign_up`: the invited person chooses a name and password and is signed in.
pub async fn sign_up(mut req: Request, env: &Env) -> ApiResult {
    refuse_other_origins(&req)?;
    rate_limit::check_sign_in(env, &req).await?;
    let request: SignUp = parse(body_value(&mut req).await?)?;
    let now = clock::now_seconds();
    let invalid = || ApiError::new(ErrorCode::InvitationInvalid).with_param("invitation");
    let invitation = store::people::invitation_by_token(env, &hash_secret(&request.invitation))
        .await?
        .filter(|i| i.accepted.is_none() && i.revoked.is_none() && i.expires > now)
        .ok_or_else(invalid)?;
    let name = request.validate(&invitation.email)?;
    let password_hash = password::hash(&request.password, random::bytes()?).ok_or_else(|| {
        crate::log_error!("password hashing failed");
        ApiError::internal()
    })?;
    let user_id = random::id(IdKind::User)?;
    let (token, csrf_token) = (random_token()?, random_token()?);
    let token_hash = hash_secret(&token);
    let session = NewSession {
        token_hash: &token_hash,
        csrf_token: &csrf_token,
        created: now,
        expires: now + SESSION_SECONDS,
    };
    let user = NewUser {
        id: &user_id,
        name: &name,
        password_hash: &password_hash,
        session: &session,
    };
    let entry = entry(&format!("user:{user_id}"), "user.joined", &user_id, now)?;
    let accepted = store::people::accept_invitation(env, &invitation, &user, now, &entry)
        .await
        .map_err(|e| {
            if e.duplicate_in("users") {
                ApiError::new(ErrorCode::MemberExists)
            } else {
                e.into()
            }
        })?;
    if !accepted {
        return Err(invalid());
    }
    signed_in(env, &token, &token_hash, now).await
}

/// `POST /v1/dashboard/sign_in`. Unknown emails, wrong passwords and wrong codes all count
/// against the account (if there is one) and take the same time to refuse.
pub async fn sign_in(mut req: Request, env: &Env) -> ApiResult {
    refuse_other_origins(&req)?;
    rate_limit::check_sign_in(env, &req).await?;
    let request: SignIn = parse(body_value(&mut req).await?)?;
    let failed = || ApiError::new(ErrorCode::SignInFailed);
    let now = clock::now_seconds();
    let user = match normalize_email(&request.email) {
        Ok(email) => store::people::user_by_email(env, &email).await?,
        Err(_) => None,
    };
    let Some(user) = user else {
        password::verify(&request.password, password::DECOY);
        return Err(failed());
    };
    let Some(attempts) = store::people::claim_sign_in(env, &user.id, now, LOCKOUT_FAILURES).await?
    else {
        return Err(locked(user.locked_until, now));
    };
    if !password::verify(&request.password, &user.password_hash) {
        return Err(failure(env, &user, attempts, now, failed()).await);
    }
    let step = match &user.totp_secret {
        None => None,
        Some(sealed) => {
            let Some(code) = request.code.as_deref() else {
                // Right password, no code yet: the form asks for it; guesses of the code count.
                store::people::unclaim_sign_in(env, &user.id).await?;
                return Err(ApiError::new(ErrorCode::TotpRequired));
            };
            match check_code(env, &user, sealed, code, now) {
                Ok(step) => Some(step),
                Err(error) => return Err(failure(env, &user, attempts, now, error).await),
            }
        }
    };
    let (token, csrf_token) = (random_token()?, random_token()?);
    let token_hash = hash_secret(&token);
    let session = NewSession {
        token_hash: &token_hash,
        csrf_token: &csrf_token,
        created: now,
        expires: now + SESSION_SECONDS,
    };
    let entry = entry(
        &format!("user:{}", user.id),
        "user.signed_in",
        &user.id,
        now,
    )?;
    if !store::people::sign_in(env, &user, step, &session, &entry).await? {
        // The code's step was used already: a replayed code.
        return Err(failure(env, &user, attempts, now, code_invalid()).await);
    }
    signed_in(env, &token, &token_hash, now).await
}

/// The answer to a locked account, with how long until it unlocks.
fn locked(locked_until: i64, now: i64) -> ApiError {
    let wait = if locked_until > now {
        locked_until - now
    } else {
        LOCKOUT_SECONDS
    };
    let mut error = ApiError::new(ErrorCode::AccountLocked);
    error.retry_after = u64::try_from(wait).ok();
    error
}

/// Records a failed attempt (the one that fills the count locks the account); `error` is the
/// answer.
async fn failure(env: &Env, user: &UserRow, attempts: i64, now: i64, error: ApiError) -> ApiError {
    match store::people::sign_in_failed(env, &user.id, after_failure(attempts - 1, now)).await {
        Ok(()) => error,
        Err(store_error) => store_error.into(),
    }
}

/// `GET /v1/dashboard/session`: who is signed in, and the CSRF token for their changes.
pub async fn current(req: Request, env: &Env) -> ApiResult {
    let session = people::authenticate(&req, env).await?;
    json(200, &session_view(session))
}

/// `POST /v1/dashboard/sign_out`: the session ends everywhere and the cookie is cleared.
pub async fn sign_out(req: Request, env: &Env) -> ApiResult {
    let session = people::authenticate(&req, env).await?;
    store::people::end_session(env, &session.token_hash).await?;
    let mut response = json(
        200,
        &serde_json::json!({ "object": "sign_out", "signed_out": true }),
    )?;
    set_cookie(&mut response, &people::cleared_cookie())?;
    Ok(response)
}

/// `POST /v1/dashboard/totp`: a new authenticator secret, shown once; it takes effect when a
/// code from it is sent to `/enable`.
pub async fn start_totp(req: Request, env: &Env) -> ApiResult {
    let session = people::authenticate(&req, env).await?;
    let secret = totp::encode_secret(&random::bytes()?);
    let sealed = Vault::open(env)?.seal_text(&totp_aad(&session.user_id), &secret)?;
    if !store::people::set_pending_totp(env, &session.user_id, &sealed).await? {
        return Err(ApiError::new(ErrorCode::TotpAlreadyEnabled));
    }
    let uri = totp::uri(&secret, &session.email).ok_or_else(ApiError::internal)?;
    json(
        200,
        &TotpSetupView {
            object: "totp_setup".into(),
            secret,
            uri,
        },
    )
}

/// `POST /v1/dashboard/totp/enable` with a code from the new secret.
pub async fn enable_totp(mut req: Request, env: &Env) -> ApiResult {
    let session = people::authenticate(&req, env).await?;
    let TotpCode { code } = parse(body_value(&mut req).await?)?;
    let user = own_user(env, &session).await?;
    if user.totp_secret.is_some() {
        return Err(ApiError::new(ErrorCode::TotpAlreadyEnabled));
    }
    let pending = user
        .totp_pending
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::TotpNotStarted))?;
    let now = clock::now_seconds();
    let step = check_code(env, &user, &pending, &code, now)?;
    let entry = entry(&actor(&session), "user.totp_enabled", &user.id, now)?;
    if !store::people::enable_totp(env, &user, step, &entry).await? {
        return Err(ApiError::new(ErrorCode::TotpNotStarted));
    }
    current_view(env, &session).await
}

/// `POST /v1/dashboard/totp/disable` with a current code.
pub async fn disable_totp(mut req: Request, env: &Env) -> ApiResult {
    let session = people::authenticate(&req, env).await?;
    let TotpCode { code } = parse(body_value(&mut req).await?)?;
    let user = own_user(env, &session).await?;
    let sealed = user
        .totp_secret
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::TotpNotEnabled))?;
    let now = clock::now_seconds();
    let step = check_code(env, &user, &sealed, &code, now)?;
    let entry = entry(&actor(&session), "user.totp_disabled", &user.id, now)?;
    if !store::people::disable_totp(env, &user, step, &entry).await? {
        return Err(code_invalid());
    }
    current_view(env, &session).await
}

/// The step of `code` if it is the current code of the sealed secret.
fn check_code(
    env: &Env,
    user: &UserRow,
    sealed: &str,
    code: &str,
    now: i64,
) -> Result<u64, ApiError> {
    let code = checked_code(code)?;
    let secret = Vault::open(env)?.open_text(&totp_aad(&user.id), sealed)?;
    totp::verify(secret.expose(), &code, u64::try_from(now).unwrap_or(0)).ok_or_else(code_invalid)
}

fn code_invalid() -> ApiError {
    ApiError::new(ErrorCode::TotpCodeInvalid).with_param("code")
}

/// Sealed authenticator secrets are bound to their person: a secret copied to another row does
/// not open.
fn totp_aad(user_id: &str) -> String {
    format!("totp:{user_id}")
}

async fn own_user(env: &Env, session: &SessionRow) -> Result<UserRow, ApiError> {
    store::people::user(env, &session.merchant_id, &session.user_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::SessionRequired))
}

async fn current_view(env: &Env, session: &SessionRow) -> ApiResult {
    let now = clock::now_seconds();
    let fresh = store::people::session(env, &session.token_hash, now)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::SessionRequired))?;
    json(200, &session_view(fresh))
}

/// The answer to a successful sign-in or sign-up: the session, with its cookie.
async fn signed_in(env: &Env, token: &str, token_hash: &str, now: i64) -> ApiResult {
    let session = store::people::session(env, token_hash, now)
        .await?
        .ok_or_else(ApiError::internal)?;
    let mut response = json(200, &session_view(session))?;
    set_cookie(&mut response, &people::session_cookie(token))?;
    Ok(response)
}

fn set_cookie(response: &mut worker::Response, cookie: &str) -> Result<(), ApiError> {
    response
        .headers_mut()
        .append("Set-Cookie", cookie)
        .map_err(|_| ApiError::internal())
}

pub fn session_view(session: SessionRow) -> DashboardSessionView {
    DashboardSessionView {
        object: "dashboard_session".into(),
        user: MemberView {
            id: session.user_id,
            object: "user".into(),
            email: session.email,
            name: session.name,
            role: session.role,
            totp_enabled: session.totp_enabled != 0,
            created: session.user_created,
        },
        merchant_id: session.merchant_id,
        merchant_name: session.merchant_name,
        csrf_token: session.csrf_token,
        expires: session.expires,
    }
}

/// A browser may sign in or up only from Till's own page (no login CSRF from other sites);
/// tools without an `Origin` may too.
fn refuse_other_origins(req: &Request) -> Result<(), ApiError> {
    match header(req, "Origin") {
        None => Ok(()),
        Some(_) => people::check_same_origin(req),
    }
}

fn random_token() -> Result<String, ApiError> {
    Ok(URL_SAFE_NO_PAD.encode(random::bytes::<32>()?))
}

fn actor(session: &SessionRow) -> String {
    format!("user:{}", session.user_id)
}

fn entry(actor: &str, action: &'static str, target: &str, now: i64) -> Result<AuditRow, ApiError> {
    Ok(AuditRow {
        id: random::id(IdKind::AuditEntry)?,
        actor: actor.to_string(),
        action,
        target: target.to_string(),
        created: now,
    })
}
