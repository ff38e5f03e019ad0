//! `/v1/team/*`: who may use the merchant's dashboard. Owners (or the merchant's secret key,
//! which is how the first owner is invited) invite people by email with a role, change roles
//! and remove people; a merchant always keeps one owner.

use crate::auth::{self, Caller};
use crate::http::{body_value, json, parse, ApiResult};
use crate::mail::MailApi;
use crate::store::audit::AuditRow;
use crate::store::people::{InvitationRow, UserRow};
use crate::{clock, random, store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use till_core::api_keys::hash_secret;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::team::{
    invitation_email, parse_role, ChangeRole, CreateInvitation, InvitationView, MemberView,
    INVITATION_SECONDS,
};
use worker::{Env, Request};

/// `GET /v1/team/members`.
pub async fn members(env: &Env, caller: &Caller) -> ApiResult {
    let data: Vec<MemberView> = store::people::members(env, &caller.merchant_id)
        .await?
        .into_iter()
        .map(member_view)
        .collect();
    json(200, &serde_json::json!({ "object": "list", "data": data }))
}

/// `POST /v1/team/members/:id` with `role`.
pub async fn change_role(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let ChangeRole { role } = parse(body_value(&mut req).await?)?;
    let role = parse_role(&role)?;
    let member = find_member(env, caller, id).await?;
    if member.role != role {
        let entry = entry(
            caller,
            "user.role_changed",
            &format!("{id}:{}", role.as_str()),
        )?;
        if !store::people::change_role(env, &caller.merchant_id, id, role, &entry).await? {
            return Err(ApiError::new(ErrorCode::LastOwner));
        }
    }
    json(200, &member_view(find_member(env, caller, id).await?))
}

/// `DELETE /v1/team/members/:id`: the person and their sessions go at once.
pub async fn remove(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let member = find_member(env, caller, id).await?;
    let entry = entry(caller, "user.removed", id)?;
    if !store::people::remove_member(env, &caller.merchant_id, id, &entry).await? {
        return Err(ApiError::new(ErrorCode::LastOwner));
    }
    let mut view = member_view(member);
    view.object = "user.removed".into();
    json(200, &view)
}

/// `GET /v1/team/invitations`: newest first.
pub async fn invitations(env: &Env, caller: &Caller) -> ApiResult {
    let now = clock::now_seconds();
    let data: Vec<InvitationView> = store::people::invitations(env, &caller.merchant_id)
        .await?
        .into_iter()
        .map(|row| invitation_view(row, now, None))
        .collect();
    json(200, &serde_json::json!({ "object": "list", "data": data }))
}

/// `POST /v1/team/invitations`: e-mails a sign-up link (7 days) and returns it once.
pub async fn invite(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateInvitation = parse(body_value(&mut req).await?)?;
    let valid = request.validate()?;
    if store::people::user_by_email(env, &valid.email)
        .await?
        .is_some()
    {
        return Err(ApiError::new(ErrorCode::MemberExists).with_param("email"));
    }
    let now = clock::now_seconds();
    let row = InvitationRow {
        id: random::id(IdKind::Invitation)?,
        merchant_id: caller.merchant_id.clone(),
        email: valid.email,
        role: valid.role,
        created: now,
        expires: now + INVITATION_SECONDS,
        accepted: None,
        revoked: None,
    };
    let token = URL_SAFE_NO_PAD.encode(random::bytes::<32>()?);
    let entry = entry(caller, "invitation.created", &row.id)?;
    store::people::create_invitation(
        env,
        &row,
        &hash_secret(&token),
        &caller.audit_actor(),
        &entry,
    )
    .await?;
    let origin = auth::own_origin(&req).ok_or_else(ApiError::internal)?;
    let url = format!("{origin}/dashboard/#invitation={token}");
    send_invitation(env, caller, &row, &url).await;
    json(200, &invitation_view(row, now, Some(url)))
}

/// `POST /v1/team/invitations/:id/revoke`: the link stops working.
pub async fn revoke_invitation(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("invitation");
    if !ids::is_valid(IdKind::Invitation, id) {
        return Err(missing());
    }
    let now = clock::now_seconds();
    let entry = entry(caller, "invitation.revoked", id)?;
    if !store::people::revoke_invitation(env, &caller.merchant_id, id, now, &entry).await? {
        return match store::people::invitation(env, &caller.merchant_id, id).await? {
            Some(_) => Err(ApiError::new(ErrorCode::InvitationInactive)),
            None => Err(missing()),
        };
    }
    let row = store::people::invitation(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    json(200, &invitation_view(row, now, None))
}

/// The e-mail is a convenience: the link is also in the answer, so a provider that is down or
/// not configured does not fail the invitation.
async fn send_invitation(env: &Env, caller: &Caller, row: &InvitationRow, url: &str) {
    let Some(mail) = MailApi::from_env(env) else {
        return;
    };
    let email = invitation_email(&caller.merchant_name, row.role, url);
    if let Err(error) = mail.send(&row.email, &email, &row.id).await {
        crate::log_warn!("invitation {}: e-mail not sent: {error}", row.id);
    }
}

async fn find_member(env: &Env, caller: &Caller, id: &str) -> Result<UserRow, ApiError> {
    let missing = || ApiError::not_found("team member");
    if !ids::is_valid(IdKind::User, id) {
        return Err(missing());
    }
    store::people::user(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)
}

pub fn member_view(row: UserRow) -> MemberView {
    MemberView {
        id: row.id,
        object: "user".into(),
        email: row.email,
        name: row.name,
        role: row.role,
        totp_enabled: row.totp_secret.is_some(),
        created: row.created,
    }
}

fn invitation_view(row: InvitationRow, now: i64, url: Option<String>) -> InvitationView {
    let status = if row.accepted.is_some() {
        "accepted"
    } else if row.revoked.is_some() {
        "revoked"
    } else if row.expires <= now {
        "expired"
    } else {
        "pending"
    };
    InvitationView {
        id: row.id,
        object: "invitation".into(),
        email: row.email,
        role: row.role,
        status: status.into(),
        created: row.created,
        expires: row.expires,
        url,
    }
}

fn entry(caller: &Caller, action: &'static str, target: &str) -> Result<AuditRow, ApiError> {
    Ok(AuditRow {
        id: random::id(IdKind::AuditEntry)?,
        actor: caller.audit_actor(),
        action,
        target: target.to_string(),
        created: clock::now_seconds(),
    })
}
