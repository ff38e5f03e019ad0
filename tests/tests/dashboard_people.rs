//! People of a merchant's dashboard through the API, as the dashboard page calls it: invited by
//! e-mail, signed up and in with a password (and an authenticator code once they turn it on),
//! acting on the merchant's API within their role, with the cookie and the CSRF token, and every
//! change they make in the audit log. Each test onboards its own merchant.

use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use till_e2e::merchants::onboard;
use till_e2e::people::{
    invitation_token, invite_with_key, join, sign_in, sign_up, unique_email, PASSWORD,
};
use till_e2e::{json_of, send, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn audit_log(till: &Till) -> Vec<(String, String, String)> {
    let (status, log) = till.get("/v1/audit_log?limit=100", &till.secret_key).await;
    assert_eq!(status, 200, "{log}");
    log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap().to_string();
            (field("actor"), field("action"), field("target"))
        })
        .collect()
}

#[tokio::test]
async fn an_invited_owner_signs_up_from_the_emailed_link_and_the_cookie_is_locked_down() {
    let (_, till) = onboard("People Shop", &[]).await;
    let email = unique_email("owner");
    let (status, invitation) = invite_with_key(&till, &till.secret_key, &email, "owner").await;
    assert_eq!(status, 200, "{invitation}");
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["role"], "owner");
    let token = invitation_token(&invitation);
    // The link arrived by e-mail too.
    let mail = till.mail_to(&email, 1).await;
    assert_eq!(mail.len(), 1, "one invitation e-mail");
    assert!(mail[0]["text"].as_str().unwrap().contains(&token));
    assert!(mail[0]["subject"].as_str().unwrap().contains("People Shop"));

    // A password that is too short changes nothing: the link still works afterwards.
    let (status, refused) = sign_up(&till, &token, "Ana", "short").await.err().unwrap();
    assert_eq!((status, code(&refused)), (400, "password_invalid"));
    let owner = sign_up(&till, &token, "Ana Kim", PASSWORD).await.unwrap();
    let cookie = owner.set_cookie.to_ascii_lowercase();
    assert!(owner.cookie.starts_with("__Host-till_session="), "{cookie}");
    for attribute in ["httponly", "secure", "samesite=strict", "path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert_eq!(owner.session["user"]["role"], "owner");
    assert_eq!(owner.session["user"]["email"], email.as_str());
    assert_eq!(owner.session["merchant_name"], "People Shop");
    assert!(owner.session.to_string().find("password").is_none());

    // The link works once.
    let (status, used) = sign_up(&till, &token, "Eve", PASSWORD).await.err().unwrap();
    assert_eq!((status, code(&used)), (400, "invitation_invalid"));
    let (status, session) = owner.get("/v1/dashboard/session").await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["user"]["id"], owner.user_id().as_str());

    // The person signs out: the cookie is cleared and stops working at once.
    let (status, _) = owner.post("/v1/dashboard/sign_out", &json!({})).await;
    assert_eq!(status, 200);
    let (status, gone) = owner.get("/v1/dashboard/session").await;
    assert_eq!((status, code(&gone)), (401, "session_required"));
    let (status, gone) = owner.get("/v1/payments").await;
    assert_eq!((status, code(&gone)), (401, "session_required"));
    // And signs in again with the password.
    let again = sign_in(&till, &email.to_uppercase(), PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(again.user_id(), owner.user_id());
}

#[tokio::test]
async fn roles_limit_what_people_do_and_every_change_they_make_is_audited() {
    let (_, till) = onboard("Roles Shop", &[]).await;
    let owner = join(&till, &till.secret_key, &unique_email("owner"), "owner").await;
    let analyst_email = unique_email("analyst");
    let (status, invitation) = owner
        .post(
            "/v1/team/invitations",
            &json!({ "email": analyst_email, "role": "analyst" }),
        )
        .await;
    assert_eq!(status, 200, "{invitation}");
    let analyst = sign_up(&till, &invitation_token(&invitation), "Bo", PASSWORD)
        .await
        .unwrap();

    // Analysts read the merchant's data, and change nothing.
    let (status, payments) = analyst.get("/v1/payments").await;
    assert_eq!(status, 200, "{payments}");
    let (status, team) = analyst.get("/v1/team/members").await;
    assert_eq!(status, 200);
    assert_eq!(team["data"].as_array().unwrap().len(), 2);
    let (status, refused) = analyst
        .post("/v1/origins", &json!({ "origin": "https://books.example" }))
        .await;
    assert_eq!(
        (status, code(&refused)),
        (403, "permission_denied"),
        "{refused}"
    );

    // Changes need the CSRF token and Till's own origin, whatever the role.
    let (status, refused) = owner
        .send_with(
            Method::POST,
            "/v1/origins",
            &json!({ "origin": "https://books.example" }),
            None,
        )
        .await;
    assert_eq!((status, code(&refused)), (403, "csrf_token_invalid"));
    let (status, refused) = owner
        .send_with(
            Method::POST,
            "/v1/origins",
            &json!({ "origin": "https://books.example" }),
            Some("not-the-token"),
        )
        .await;
    assert_eq!((status, code(&refused)), (403, "csrf_token_invalid"));
    let from_elsewhere = send(
        till.http
            .post(till.url("/v1/origins"))
            .header("Cookie", &owner.cookie)
            .header("X-CSRF-Token", owner.csrf())
            .header("Origin", "https://evil.example")
            .json(&json!({ "origin": "https://books.example" })),
    )
    .await;
    let (status, refused) = json_of(from_elsewhere).await;
    assert_eq!((status, code(&refused)), (403, "csrf_token_invalid"));
    let (status, origins) = till.get("/v1/origins", &till.secret_key).await;
    assert_eq!(
        (status, origins["data"].as_array().unwrap().len()),
        (200, 0)
    );

    // The owner makes the change; the analyst becomes a developer and may change things but not
    // the team.
    let (status, added) = owner
        .post("/v1/origins", &json!({ "origin": "https://books.example" }))
        .await;
    assert_eq!(status, 200, "{added}");
    let member = format!("/v1/team/members/{}", analyst.user_id());
    let (status, changed) = owner.post(&member, &json!({ "role": "developer" })).await;
    assert_eq!((status, changed["role"].as_str()), (200, Some("developer")));
    let (status, _) = analyst
        .send(
            Method::DELETE,
            "/v1/origins/https%3A%2F%2Fbooks.example",
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = analyst
        .post(
            "/v1/team/invitations",
            &json!({ "email": unique_email("x"), "role": "owner" }),
        )
        .await;
    assert_eq!((status, code(&refused)), (403, "permission_denied"));
    let (status, refused) = analyst
        .post(
            &format!("/v1/team/members/{}", analyst.user_id()),
            &json!({ "role": "owner" }),
        )
        .await;
    assert_eq!((status, code(&refused)), (403, "permission_denied"));

    // The only owner stays an owner; another merchant's people are not found.
    let own = format!("/v1/team/members/{}", owner.user_id());
    let (status, refused) = owner.post(&own, &json!({ "role": "analyst" })).await;
    assert_eq!((status, code(&refused)), (409, "last_owner"));
    let (status, refused) = owner.send(Method::DELETE, &own, &json!({})).await;
    assert_eq!((status, code(&refused)), (409, "last_owner"));
    let (_, other) = onboard("Other Shop", &[]).await;
    let (status, _) = other.get(&member, &other.secret_key).await;
    assert_eq!(status, 405, "members are read through the list only");
    let (status, missing) = other
        .post(&member, &other.secret_key, &json!({ "role": "owner" }))
        .await;
    assert_eq!((status, code(&missing)), (404, "resource_missing"));

    // Removed, the person is signed out everywhere at once.
    let (status, removed) = owner.send(Method::DELETE, &member, &json!({})).await;
    assert_eq!(
        (status, removed["object"].as_str()),
        (200, Some("user.removed"))
    );
    let (status, gone) = analyst.get("/v1/payments").await;
    assert_eq!((status, code(&gone)), (401, "session_required"));
    let (status, refused) = sign_in(&till, &analyst_email, PASSWORD, None)
        .await
        .err()
        .unwrap();
    assert_eq!((status, code(&refused)), (401, "sign_in_failed"));

    // The audit log names the person behind every change, the refused ones excepted.
    let log = audit_log(&till).await;
    let by = |user: &str, action: &str, target: &str| {
        log.iter()
            .any(|(a, b, c)| a == &format!("user:{user}") && b == action && c.contains(target))
    };
    let (owner_id, analyst_id) = (owner.user_id(), analyst.user_id());
    assert!(by(&owner_id, "user.joined", &owner_id), "{log:?}");
    assert!(by(&owner_id, "invitation.created", "inv_"), "{log:?}");
    assert!(by(&analyst_id, "user.joined", &analyst_id));
    assert!(by(&owner_id, "origin.added", "https://books.example"));
    assert!(by(&owner_id, "request", "POST /v1/origins"));
    assert!(by(
        &owner_id,
        "user.role_changed",
        &format!("{analyst_id}:developer")
    ));
    assert!(by(&analyst_id, "origin.removed", "https://books.example"));
    assert!(by(&owner_id, "user.removed", &analyst_id));
    assert!(log
        .iter()
        .any(|(a, b, _)| a.starts_with("api_key:") && b == "invitation.created"));
    assert_eq!(
        log.iter().filter(|(_, b, _)| b == "origin.added").count(),
        1,
        "refused requests change nothing: {log:?}"
    );
}

#[tokio::test]
async fn invitations_are_checked_revocable_and_never_cross_merchants() {
    let (_, till) = onboard("Invites Shop", &[]).await;
    for (body, expected) in [
        (
            json!({ "email": "not an email", "role": "owner" }),
            "email_invalid",
        ),
        (
            json!({ "email": unique_email("a"), "role": "admin" }),
            "role_invalid",
        ),
        (json!({ "email": unique_email("a") }), "parameter_invalid"),
        (
            json!({ "email": unique_email("a"), "role": "owner", "extra": 1 }),
            "parameter_invalid",
        ),
    ] {
        let (status, refused) = till
            .post("/v1/team/invitations", &till.secret_key, &body)
            .await;
        assert_eq!((status, code(&refused)), (400, expected), "{body}");
    }
    let email = unique_email("revoked");
    let (_, invitation) = invite_with_key(&till, &till.secret_key, &email, "developer").await;
    let id = invitation["id"].as_str().unwrap();
    let (_, other) = onboard("Other Invites", &[]).await;
    let revoke = format!("/v1/team/invitations/{id}/revoke");
    let (status, _) = other.post(&revoke, &other.secret_key, &json!({})).await;
    assert_eq!(status, 404, "another merchant's invitation");
    let (status, revoked) = till.post(&revoke, &till.secret_key, &json!({})).await;
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
    assert!(revoked.get("url").is_none(), "the link is shown once");
    let (status, again) = till.post(&revoke, &till.secret_key, &json!({})).await;
    assert_eq!((status, code(&again)), (409, "invitation_inactive"));
    let (status, refused) = sign_up(&till, &invitation_token(&invitation), "Ana", PASSWORD)
        .await
        .err()
        .unwrap();
    assert_eq!((status, code(&refused)), (400, "invitation_invalid"));
    for token in ["", "x", &"a".repeat(5000), "한국어"] {
        let (status, refused) = sign_up(&till, token, "Ana", PASSWORD).await.err().unwrap();
        assert_eq!((status, code(&refused)), (400, "invitation_invalid"));
    }
    // Someone on a team cannot be invited again, to this merchant or another.
    let member = unique_email("member");
    join(&till, &till.secret_key, &member, "analyst").await;
    let (status, refused) = invite_with_key(&other, &other.secret_key, &member, "owner").await;
    assert_eq!((status, code(&refused)), (409, "member_exists"));
    // Restricted keys never manage the team.
    let (_, restricted) = till
        .post(
            "/v1/api_keys",
            &till.secret_key,
            &json!({ "kind": "restricted", "scopes": ["payments:write"] }),
        )
        .await;
    let key = restricted["secret"].as_str().unwrap();
    let (status, refused) = invite_with_key(&till, key, &unique_email("r"), "owner").await;
    assert_eq!((status, code(&refused)), (403, "permission_denied"));
    // Two parallel sign-ups with one link make one person.
    let (_, invitation) =
        invite_with_key(&till, &till.secret_key, &unique_email("twice"), "analyst").await;
    let token = invitation_token(&invitation);
    let (first, second) = tokio::join!(
        sign_up(&till, &token, "One", PASSWORD),
        sign_up(&till, &token, "Two", PASSWORD)
    );
    assert_eq!(
        [first.is_ok(), second.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count(),
        1,
        "exactly one sign-up"
    );
    let (_, team) = till.get("/v1/team/members", &till.secret_key).await;
    assert_eq!(team["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn five_failed_sign_ins_lock_the_account_however_many_are_sent_at_once() {
    let (_, till) = onboard("Lockout Shop", &[]).await;
    let email = unique_email("locked");
    join(&till, &till.secret_key, &email, "owner").await;
    // An unknown email is refused like a wrong password.
    let (status, unknown) = sign_in(&till, &unique_email("nobody"), PASSWORD, None)
        .await
        .err()
        .unwrap();
    assert_eq!((status, code(&unknown)), (401, "sign_in_failed"));
    let guesses = (0..8).map(|i| {
        let email = email.clone();
        let till = &till;
        async move { sign_in(till, &email, &format!("wrong password {i}"), None).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let codes: Vec<String> = answers
        .iter()
        .map(|a| code(&a.as_ref().err().unwrap().1).to_string())
        .collect();
    let checked = codes.iter().filter(|c| *c == "sign_in_failed").count();
    assert!(checked <= 5, "at most five guesses are checked: {codes:?}");
    assert!(codes
        .iter()
        .all(|c| c == "sign_in_failed" || c == "account_locked"));
    // Locked now: even the right password is refused, with when to retry.
    let response = send(
        till.http
            .post(till.url("/v1/dashboard/sign_in"))
            .json(&json!({ "email": email, "password": PASSWORD })),
    )
    .await;
    let retry_after: u64 = response.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, locked) = json_of(response).await;
    assert_eq!((status, code(&locked)), (429, "account_locked"));
    assert!((1..=900).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn a_second_factor_is_asked_for_once_on_and_each_code_works_once() {
    let (_, till) = onboard("Factor Shop", &[]).await;
    let email = unique_email("totp");
    let person = join(&till, &till.secret_key, &email, "developer").await;
    let (status, refused) = person
        .post("/v1/dashboard/totp/enable", &json!({ "code": "123456" }))
        .await;
    assert_eq!((status, code(&refused)), (409, "totp_not_started"));
    let (status, setup) = person.post("/v1/dashboard/totp", &json!({})).await;
    assert_eq!(status, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert!(setup["uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Till:"));
    let now = || till_e2e::now() as u64;
    let code_at = |t: u64| till_core::totp::code_at(&secret, t).unwrap();
    // Not on until a code confirms it.
    sign_in(&till, &email, PASSWORD, None).await.unwrap();
    let wrong = if code_at(now()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, refused) = person
        .post("/v1/dashboard/totp/enable", &json!({ "code": wrong }))
        .await;
    assert_eq!((status, code(&refused)), (400, "totp_code_invalid"));
    let enabled_at = now();
    let (status, enabled) = person
        .post(
            "/v1/dashboard/totp/enable",
            &json!({ "code": code_at(enabled_at) }),
        )
        .await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["user"]["totp_enabled"], true);

    let (status, asked) = sign_in(&till, &email, PASSWORD, None).await.err().unwrap();
    assert_eq!((status, code(&asked)), (401, "totp_required"));
    let (status, refused) = sign_in(&till, &email, "wrong password!!", Some(&code_at(now())))
        .await
        .err()
        .unwrap();
    assert_eq!((status, code(&refused)), (401, "sign_in_failed"));
    // The code that turned it on was used: it does not sign in.
    let (status, replayed) = sign_in(&till, &email, PASSWORD, Some(&code_at(enabled_at)))
        .await
        .err()
        .unwrap();
    assert_eq!((status, code(&replayed)), (400, "totp_code_invalid"));
    let next = code_at(enabled_at + 30);
    let signed_in = sign_in(&till, &email, PASSWORD, Some(&next)).await.unwrap();
    assert_eq!(signed_in.session["user"]["totp_enabled"], true);
    let (status, replayed) = sign_in(&till, &email, PASSWORD, Some(&next))
        .await
        .err()
        .unwrap();
    assert_eq!((status, code(&replayed)), (400, "totp_code_invalid"));
    // Turning it off takes a fresh code too: one of a later step than any used.
    let (status, refused) = signed_in
        .post("/v1/dashboard/totp/disable", &json!({ "code": next }))
        .await;
    assert_eq!((status, code(&refused)), (400, "totp_code_invalid"));
    let next_step_starts = (enabled_at / 30 + 1) * 30;
    tokio::time::sleep(Duration::from_secs(
        next_step_starts.saturating_sub(now()) + 1,
    ))
    .await;
    let (status, off) = signed_in
        .post(
            "/v1/dashboard/totp/disable",
            &json!({ "code": code_at(enabled_at + 60) }),
        )
        .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["user"]["totp_enabled"], false);
    sign_in(&till, &email, PASSWORD, None).await.unwrap();
}

#[tokio::test]
async fn the_demo_owner_signs_in_with_the_password_the_readme_gives() {
    let till = Till::default();
    let owner = sign_in(&till, "owner@edge-goods.test", "till demo owner", None)
        .await
        .unwrap_or_else(|(status, body)| panic!("{status}: {body}"));
    assert_eq!(owner.session["merchant_id"], "mer_demo");
    assert_eq!(owner.session["user"]["role"], "owner");
}
