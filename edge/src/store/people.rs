//! Dashboard people: invitations, users and their signed-in sessions. Each change by a person
//! is written in one batch with its audit entry.

use super::audit::{changed_with_entry, insert_after_change_statement, insert_statement, AuditRow};
use super::{all, execute, first, int, opt_text, statement, text, transaction, StoreResult};
use serde::Deserialize;
use till_core::team::{AfterFailure, Role, LOCKOUT_SECONDS, SESSION_IDLE_SECONDS};
use worker::Env;

#[derive(Clone, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub merchant_id: String,
    pub email: String,
    pub role: Role,
    pub created: i64,
    pub expires: i64,
    pub accepted: Option<i64>,
    pub revoked: Option<i64>,
}

const INVITATION_COLUMNS: &str =
    "id, merchant_id, email, role, created, expires, accepted, revoked";

pub async fn create_invitation(
    env: &Env,
    invitation: &InvitationRow,
    token_hash: &str,
    invited_by: &str,
    audit: &AuditRow,
) -> StoreResult<()> {
    let insert = statement(
        env,
        "INSERT INTO invitations (id, merchant_id, email, role, token_hash, invited_by, created, \
         expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            text(&invitation.id),
            text(&invitation.merchant_id),
            text(&invitation.email),
            text(invitation.role.as_str()),
            text(token_hash),
            text(invited_by),
            int(invitation.created),
            int(invitation.expires),
        ],
    )?;
    let entry = insert_statement(env, &invitation.merchant_id, audit)?;
    transaction(env, vec![insert, entry]).await?;
    Ok(())
}

/// Newest first, at most 100 (pending ones are what matters; older ones are history).
pub async fn invitations(env: &Env, merchant_id: &str) -> StoreResult<Vec<InvitationRow>> {
    all(
        env,
        &format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE merchant_id = ?1 \
             ORDER BY created DESC, id LIMIT 100"
        ),
        &[text(merchant_id)],
    )
    .await
}

pub async fn invitation(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> StoreResult<Option<InvitationRow>> {
    first(
        env,
        &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE merchant_id = ?1 AND id = ?2"),
        &[text(merchant_id), text(id)],
    )
    .await
}

pub async fn invitation_by_token(
    env: &Env,
    token_hash: &str,
) -> StoreResult<Option<InvitationRow>> {
    first(
        env,
        &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = ?1"),
        &[text(token_hash)],
    )
    .await
}

/// Whether a pending invitation was revoked (not one already accepted or revoked).
pub async fn revoke_invitation(
    env: &Env,
    merchant_id: &str,
    id: &str,
    now: i64,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let change = statement(
        env,
        "UPDATE invitations SET revoked = ?3 WHERE merchant_id = ?1 AND id = ?2 \
         AND accepted IS NULL AND revoked IS NULL",
        &[text(merchant_id), text(id), int(now)],
    )?;
    changed_with_entry(env, merchant_id, change, audit).await
}

/// A new person and their first session.
pub struct NewUser<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub session: &'a NewSession<'a>,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub csrf_token: &'a str,
    pub created: i64,
    pub expires: i64,
}

/// Accepts the invitation once: marks it, adds the person and signs them in, in one batch.
/// Whether it was still pending; an email already in use fails the batch (`users.email`).
pub async fn accept_invitation(
    env: &Env,
    invitation: &InvitationRow,
    user: &NewUser<'_>,
    now: i64,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let accept = statement(
        env,
        "UPDATE invitations SET accepted = ?2 WHERE id = ?1 AND accepted IS NULL \
         AND revoked IS NULL AND expires > ?2",
        &[text(&invitation.id), int(now)],
    )?;
    let insert_user = statement(
        env,
        "INSERT INTO users (id, merchant_id, email, name, role, password_hash, created) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE changes() = 1",
        &[
            text(user.id),
            text(&invitation.merchant_id),
            text(&invitation.email),
            text(user.name),
            text(invitation.role.as_str()),
            text(user.password_hash),
            int(now),
        ],
    )?;
    let entry = insert_after_change_statement(env, &invitation.merchant_id, audit)?;
    let session = insert_session_statement(env, user.id, user.session, true)?;
    let changes = transaction(env, vec![accept, insert_user, entry, session]).await?;
    Ok(changes.first() == Some(&1))
}

fn insert_session_statement(
    env: &Env,
    user_id: &str,
    session: &NewSession<'_>,
    only_after_change: bool,
) -> StoreResult<worker::D1PreparedStatement> {
    let guard = if only_after_change {
        " WHERE changes() = 1"
    } else {
        ""
    };
    statement(
        env,
        &format!(
            "INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created, expires, \
             last_seen) SELECT ?1, ?2, ?3, ?4, ?5, ?4{guard}"
        ),
        &[
            text(session.token_hash),
            text(user_id),
            text(session.csrf_token),
            int(session.created),
            int(session.expires),
        ],
    )
}

#[derive(Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub merchant_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub locked_until: i64,
    pub created: i64,
}

const USER_COLUMNS: &str = "id, merchant_id, email, name, role, password_hash, totp_secret, \
                            totp_pending, locked_until, created";

pub async fn user_by_email(env: &Env, email: &str) -> StoreResult<Option<UserRow>> {
    first(
        env,
        &format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1"),
        &[text(email)],
    )
    .await
}

pub async fn user(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<UserRow>> {
    first(
        env,
        &format!("SELECT {USER_COLUMNS} FROM users WHERE merchant_id = ?1 AND id = ?2"),
        &[text(merchant_id), text(id)],
    )
    .await
}

pub async fn members(env: &Env, merchant_id: &str) -> StoreResult<Vec<UserRow>> {
    all(
        env,
        &format!("SELECT {USER_COLUMNS} FROM users WHERE merchant_id = ?1 ORDER BY created, id"),
        &[text(merchant_id)],
    )
    .await
}

#[derive(Deserialize)]
struct Claimed {
    failed_sign_ins: i64,
}

/// Counts a sign-in attempt before its password is checked, so that however many run at once,
/// at most `max_attempts` are ever checked per lock period. The attempts in a row so far, this
/// one included; `None` while the account is locked. A count left full by attempts that never
/// finished locks the account now, so it always unlocks again.
pub async fn claim_sign_in(
    env: &Env,
    user_id: &str,
    now: i64,
    max_attempts: i64,
) -> StoreResult<Option<i64>> {
    let claimed: Option<Claimed> = first(
        env,
        "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ?1 \
         AND locked_until <= ?2 AND failed_sign_ins < ?3 RETURNING failed_sign_ins",
        &[text(user_id), int(now), int(max_attempts)],
    )
    .await?;
    if claimed.is_none() {
        execute(
            env,
            "UPDATE users SET failed_sign_ins = 0, locked_until = ?4 WHERE id = ?1 \
             AND locked_until <= ?2 AND failed_sign_ins >= ?3",
            &[
                text(user_id),
                int(now),
                int(max_attempts),
                int(now + LOCKOUT_SECONDS),
            ],
        )
        .await?;
    }
    Ok(claimed.map(|c| c.failed_sign_ins))
}

/// Takes back a claimed attempt whose password was right but that still lacks its code.
pub async fn unclaim_sign_in(env: &Env, user_id: &str) -> StoreResult<()> {
    execute(
        env,
        "UPDATE users SET failed_sign_ins = MAX(failed_sign_ins - 1, 0) WHERE id = ?1",
        &[text(user_id)],
    )
    .await?;
    Ok(())
}

/// A failed attempt stays counted; the one that fills the count locks the account.
pub async fn sign_in_failed(env: &Env, user_id: &str, after: AfterFailure) -> StoreResult<()> {
    if let AfterFailure::LockUntil(until) = after {
        execute(
            env,
            "UPDATE users SET failed_sign_ins = 0, locked_until = ?2 WHERE id = ?1",
            &[text(user_id), int(until)],
        )
        .await?;
    }
    Ok(())
}

/// Signs the person in: the count of failures starts again, the code's step is used up (a
/// code works once), and the session is written with its audit entry. Whether the code's step
/// was still unused (`false`: nothing was written).
pub async fn sign_in(
    env: &Env,
    user: &UserRow,
    totp_step: Option<u64>,
    session: &NewSession<'_>,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let step = totp_step.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
    let reset = statement(
        env,
        "UPDATE users SET failed_sign_ins = 0, totp_last_step = COALESCE(?2, totp_last_step) \
         WHERE id = ?1 AND (?2 IS NULL OR totp_last_step < ?2)",
        &[
            text(&user.id),
            step.map_or(worker::wasm_bindgen::JsValue::NULL, int),
        ],
    )?;
    let insert = insert_session_statement(env, &user.id, session, true)?;
    let entry = insert_after_change_statement(env, &user.merchant_id, audit)?;
    let changes = transaction(env, vec![reset, insert, entry]).await?;
    Ok(changes.first() == Some(&1))
}

/// A signed-in browser: the session with its person and merchant, as every dashboard call
/// reads it.
#[derive(Clone, Deserialize)]
pub struct SessionRow {
    pub token_hash: String,
    pub csrf_token: String,
    pub expires: i64,
    pub last_seen: i64,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub totp_enabled: i64,
    pub user_created: i64,
    pub merchant_id: String,
    pub merchant_name: String,
    pub rate_limits: Option<String>,
}

/// The session with this cookie hash, unless it expired or sat idle too long.
pub async fn session(env: &Env, token_hash: &str, now: i64) -> StoreResult<Option<SessionRow>> {
    first(
        env,
        "SELECT s.token_hash, s.csrf_token, s.expires, s.last_seen, u.id AS user_id, u.email, \
         u.name, u.role, u.totp_secret IS NOT NULL AS totp_enabled, u.created AS user_created, \
         m.id AS merchant_id, m.name AS merchant_name, m.rate_limits \
         FROM dashboard_sessions s JOIN users u ON u.id = s.user_id \
         JOIN merchants m ON m.id = u.merchant_id \
         WHERE s.token_hash = ?1 AND s.expires > ?2 AND s.last_seen > ?2 - ?3",
        &[text(token_hash), int(now), int(SESSION_IDLE_SECONDS)],
    )
    .await
}

/// Keeps an active session from going idle.
pub async fn touch_session(env: &Env, token_hash: &str, now: i64) -> StoreResult<()> {
    execute(
        env,
        "UPDATE dashboard_sessions SET last_seen = ?2 WHERE token_hash = ?1",
        &[text(token_hash), int(now)],
    )
    .await?;
    Ok(())
}

/// Signs out: the cookie stops working at once, everywhere.
pub async fn end_session(env: &Env, token_hash: &str) -> StoreResult<()> {
    execute(
        env,
        "DELETE FROM dashboard_sessions WHERE token_hash = ?1",
        &[text(token_hash)],
    )
    .await?;
    Ok(())
}

/// SQL true unless the person `?2` of merchant `?1` is its only owner.
const NOT_LAST_OWNER: &str = "(SELECT role FROM users WHERE id = ?2) != 'owner' \
     OR (SELECT COUNT(*) FROM users WHERE merchant_id = ?1 AND role = 'owner') > 1";

/// Whether the role changed; never takes the last owner's ownership.
pub async fn change_role(
    env: &Env,
    merchant_id: &str,
    id: &str,
    role: Role,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let change = statement(
        env,
        &format!(
            "UPDATE users SET role = ?3 WHERE merchant_id = ?1 AND id = ?2 AND role != ?3 \
             AND (?3 = 'owner' OR {NOT_LAST_OWNER})"
        ),
        &[text(merchant_id), text(id), text(role.as_str())],
    )?;
    changed_with_entry(env, merchant_id, change, audit).await
}

/// Whether the person was removed (with their sessions); never the last owner.
pub async fn remove_member(
    env: &Env,
    merchant_id: &str,
    id: &str,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let sessions = statement(
        env,
        &format!(
            "DELETE FROM dashboard_sessions WHERE user_id = ?2 AND EXISTS (SELECT 1 FROM users \
             WHERE merchant_id = ?1 AND id = ?2) AND ({NOT_LAST_OWNER})"
        ),
        &[text(merchant_id), text(id)],
    )?;
    let remove = statement(
        env,
        &format!("DELETE FROM users WHERE merchant_id = ?1 AND id = ?2 AND ({NOT_LAST_OWNER})"),
        &[text(merchant_id), text(id)],
    )?;
    let entry = insert_after_change_statement(env, merchant_id, audit)?;
    let changes = transaction(env, vec![sessions, remove, entry]).await?;
    Ok(changes.get(1) == Some(&1))
}

/// Keeps a new authenticator secret (sealed) until a code from it confirms the setup.
pub async fn set_pending_totp(env: &Env, user_id: &str, sealed: &str) -> StoreResult<bool> {
    let changed = execute(
        env,
        "UPDATE users SET totp_pending = ?2 WHERE id = ?1 AND totp_secret IS NULL",
        &[text(user_id), text(sealed)],
    )
    .await?;
    Ok(changed == 1)
}

/// Turns the second factor on with the pending secret a code just confirmed (its step used up).
pub async fn enable_totp(
    env: &Env,
    user: &UserRow,
    step: u64,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let change = statement(
        env,
        "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?3 \
         WHERE id = ?1 AND totp_pending = ?2 AND totp_secret IS NULL",
        &[
            text(&user.id),
            opt_text(user.totp_pending.as_deref()),
            int(i64::try_from(step).unwrap_or(i64::MAX)),
        ],
    )?;
    changed_with_entry(env, &user.merchant_id, change, audit).await
}

/// Turns the second factor off, with a code (its step used up, so it cannot be replayed).
pub async fn disable_totp(
    env: &Env,
    user: &UserRow,
    step: u64,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let change = statement(
        env,
        "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = ?2 \
         WHERE id = ?1 AND totp_secret IS NOT NULL AND totp_last_step < ?2",
        &[text(&user.id), int(i64::try_from(step).unwrap_or(i64::MAX))],
    )?;
    changed_with_entry(env, &user.merchant_id, change, audit).await
}
