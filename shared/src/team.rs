//! The people who use a merchant's dashboard: their roles and what each may do, invitations,
//! passwords and the rules that lock an account after repeated failed sign-ins.
//!
//! A person acts with the merchant's authority, limited by a role, on the same API the
//! merchant's keys call: every dashboard call goes through [`Role::may`].

use crate::customer::{checked_name, normalize_email};
use crate::error::{ApiError, ErrorCode};
use crate::receipt::{escape_html, Email};
use crate::routes::{Endpoint, Route};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including the team and who may do what.
    Owner,
    /// Everything but the team: payments, refunds, keys, webhooks, origins.
    Developer,
    /// Reads everything, changes nothing.
    Analyst,
}

const ROLES: [Role; 3] = [Role::Owner, Role::Developer, Role::Analyst];

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Developer => "developer",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        ROLES.into_iter().find(|role| role.as_str() == text)
    }

    /// Whether a person with this role may call `route`.
    pub fn may(self, route: &Route) -> bool {
        match self {
            Role::Owner => true,
            Role::Developer => !route.endpoint.manages_team() || route.method == "GET",
            Role::Analyst => route.method == "GET",
        }
    }

    /// The 403 a person gets for a call the role does not allow.
    pub fn refusal(self) -> ApiError {
        let message = match self {
            Role::Analyst => {
                "Analysts can read but not change anything: ask an owner or a developer."
            }
            _ => "Only owners can manage the team.",
        };
        ApiError::new(ErrorCode::PermissionDenied).with_message(message)
    }
}

impl Endpoint {
    /// Endpoints that change who is on the team or what they may do.
    pub fn manages_team(self) -> bool {
        matches!(
            self,
            Endpoint::CreateInvitation
                | Endpoint::RevokeInvitation
                | Endpoint::ChangeMemberRole
                | Endpoint::RemoveMember
        )
    }
}

/// How long an invitation link works.
pub const INVITATION_SECONDS: i64 = 7 * 24 * 3600;
/// How long a dashboard session lasts from sign-in, however active (a stolen cookie stops
/// working by then).
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// A session unused this long ends.
pub const SESSION_IDLE_SECONDS: i64 = 2 * 3600;
/// Failed sign-ins (wrong password or code) in a row that lock the account…
pub const LOCKOUT_FAILURES: i64 = 5;
/// …for this long.
pub const LOCKOUT_SECONDS: i64 = 15 * 60;

/// NIST SP 800-63B: long passwords over composition rules; the upper bound keeps hashing cheap.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A password a person may choose: 12 to 128 characters, not the email address.
pub fn check_password(password: &str, email: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    let invalid = |message: &str| {
        Err(ApiError::new(ErrorCode::PasswordInvalid)
            .with_message(message)
            .with_param("password"))
    };
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return invalid(&format!(
            "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters."
        ));
    }
    if password.trim().to_lowercase() == email {
        return invalid("password must not be your email address.");
    }
    Ok(())
}

/// `POST /v1/team/invitations`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    pub email: String,
    pub role: String,
}

/// A valid invitation request: the email normalized and the role known.
pub struct NewInvitation {
    pub email: String,
    pub role: Role,
}

impl CreateInvitation {
    pub fn validate(&self) -> Result<NewInvitation, ApiError> {
        Ok(NewInvitation {
            email: normalize_email(&self.email)?,
            role: parse_role(&self.role)?,
        })
    }
}

pub fn parse_role(text: &str) -> Result<Role, ApiError> {
    Role::parse(text).ok_or_else(|| ApiError::new(ErrorCode::RoleInvalid).with_param("role"))
}

/// `POST /v1/dashboard/sign_up`: accepting an invitation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub invitation: String,
    pub name: String,
    pub password: String,
}

impl SignUp {
    /// The person's name, once the password suits the invited `email`.
    pub fn validate(&self, email: &str) -> Result<String, ApiError> {
        let name = checked_name(&self.name)?;
        check_password(&self.password, email)?;
        Ok(name)
    }
}

/// `POST /v1/dashboard/sessions`: signing in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
    /// The authenticator's six digits, for a person who turned the second factor on.
    #[serde(default)]
    pub code: Option<String>,
}

/// `POST /v1/team/members/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    pub role: String,
}

/// A second-factor code as typed: six digits (spaces people add are dropped).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    pub code: String,
}

pub fn checked_code(code: &str) -> Result<String, ApiError> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(ApiError::new(ErrorCode::TotpCodeInvalid).with_param("code"))
    }
}

/// What failing to sign in once more does to an account that has `failures` in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Count it.
    Count(i64),
    /// Lock the account until this time and start counting again.
    LockUntil(i64),
}

pub fn after_failure(failures: i64, now: i64) -> AfterFailure {
    if failures + 1 >= LOCKOUT_FAILURES {
        AfterFailure::LockUntil(now + LOCKOUT_SECONDS)
    } else {
        AfterFailure::Count(failures + 1)
    }
}

/// The e-mail that carries an invitation link.
pub fn invitation_email(merchant_name: &str, role: Role, url: &str) -> Email {
    let subject = format!("You're invited to {merchant_name} on Till");
    let text = format!(
        "You're invited to the Till dashboard of {merchant_name} as {role}.\n\n\
         Choose your password here (the link works for 7 days):\n{url}\n",
        role = role.as_str()
    );
    let html = format!(
        "<p>You're invited to the Till dashboard of <strong>{name}</strong> as {role}.</p>\
         <p><a href=\"{link}\">Choose your password</a> (the link works for 7 days).</p>",
        name = escape_html(merchant_name),
        role = role.as_str(),
        link = escape_html(url),
    );
    Email {
        subject,
        text,
        html,
    }
}

/// A person as the team list and the dashboard show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: String,
    pub object: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub totp_enabled: bool,
    pub created: i64,
}

/// An invitation; `url` (with the secret token) only in the answer that created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: String,
    pub object: String,
    pub email: String,
    pub role: Role,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    pub created: i64,
    pub expires: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The signed-in person, their merchant, and the token their changes must carry (CSRF).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardSessionView {
    pub object: String,
    pub user: MemberView,
    pub merchant_id: String,
    pub merchant_name: String,
    /// Send it as `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    pub expires: i64,
}

/// A second factor being set up: the secret to type or scan once, never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetupView {
    pub object: String,
    /// Base32, for authenticator apps that take it typed.
    pub secret: String,
    /// `otpauth://totp/…`, for apps that scan it.
    pub uri: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{resolve, Resolved};

    fn route(method: &str, path: &str) -> Route {
        match resolve(method, path) {
            Resolved::Found { route, .. } => route,
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn analysts_read_developers_change_owners_also_manage_the_team() {
        let refund = route("POST", "/v1/refunds");
        let payments = route("GET", "/v1/payments");
        let invite = route("POST", "/v1/team/invitations");
        let team = route("GET", "/v1/team/members");
        let key = route("POST", "/v1/api_keys");
        assert!(Role::Analyst.may(&payments) && Role::Analyst.may(&team));
        assert!(!Role::Analyst.may(&refund) && !Role::Analyst.may(&key));
        assert!(Role::Developer.may(&refund) && Role::Developer.may(&key));
        assert!(Role::Developer.may(&team) && !Role::Developer.may(&invite));
        assert!(!Role::Developer.may(&route("DELETE", "/v1/team/members/usr_1")));
        assert!(!Role::Developer.may(&route("POST", "/v1/team/members/usr_1")));
        assert!(Role::Owner.may(&invite) && Role::Owner.may(&refund));
    }

    #[test]
    fn passwords_are_long_and_not_the_email() {
        let email = "ana@shop.example";
        assert!(check_password("correct horse battery", email).is_ok());
        assert!(check_password("한국어비밀번호는길어요열두자", email).is_ok());
        for bad in ["short", "", "ANA@shop.example", &"x".repeat(129)] {
            let error = check_password(bad, email).unwrap_err();
            assert_eq!(error.code(), ErrorCode::PasswordInvalid, "{bad}");
        }
    }

    #[test]
    fn the_fifth_failure_in_a_row_locks_for_fifteen_minutes() {
        assert_eq!(after_failure(0, 100), AfterFailure::Count(1));
        assert_eq!(after_failure(3, 100), AfterFailure::Count(4));
        assert_eq!(after_failure(4, 100), AfterFailure::LockUntil(100 + 900));
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(checked_code(" 123 456 ").unwrap(), "123456");
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", ""] {
            assert_eq!(
                checked_code(bad).unwrap_err().code(),
                ErrorCode::TotpCodeInvalid
            );
        }
    }

    #[test]
    fn the_invitation_email_escapes_the_merchant_name() {
        let email = invitation_email(
            "<b>Ana's</b> shop",
            Role::Developer,
            "https://till.example/dashboard/#invitation=abc",
        );
        assert!(email.html.contains("&lt;b&gt;Ana"));
        assert!(!email.html.contains("<b>Ana"));
        assert!(email
            .text
            .contains("https://till.example/dashboard/#invitation=abc"));
        assert!(email.text.contains("as developer"));
    }

    #[test]
    fn invitations_need_an_email_and_a_known_role() {
        let invitation = CreateInvitation {
            email: " Ana@Shop.Example ".into(),
            role: "analyst".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(invitation.email, "ana@shop.example");
        assert_eq!(invitation.role, Role::Analyst);
        let bad_role = CreateInvitation {
            email: "ana@shop.example".into(),
            role: "admin".into(),
        };
        assert_eq!(
            bad_role.validate().err().unwrap().code(),
            ErrorCode::RoleInvalid
        );
    }
}
