//! People of a merchant's dashboard, as a browser would be: a session cookie from sign-in or
//! sign-up, sent back with the CSRF token on changes.

use crate::{hex, json_of, random, send, Till};
use serde_json::{json, Value};

/// An address no other test uses.
pub fn unique_email(who: &str) -> String {
    format!("{who}.{}@people.till.test", hex(&random::<6>()))
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in person: the cookie the edge set and the session it answered with.
pub struct Person<'a> {
    pub till: &'a Till,
    pub cookie: String,
    pub session: Value,
    /// The `Set-Cookie` header as received.
    pub set_cookie: String,
}

/// `POST /v1/team/invitations` with a key (the merchant's secret key invites the first owner).
pub async fn invite_with_key(till: &Till, key: &str, email: &str, role: &str) -> (u16, Value) {
    till.post(
        "/v1/team/invitations",
        key,
        &json!({ "email": email, "role": role }),
    )
    .await
}

/// The token of an invitation's link (`…/dashboard/#invitation=TOKEN`).
pub fn invitation_token(invitation: &Value) -> String {
    let url = invitation["url"].as_str().expect("an invitation url");
    url.split_once("#invitation=")
        .map(|(_, token)| token.to_string())
        .unwrap_or_else(|| panic!("no token in {url}"))
}

/// Sends a sign-in or sign-up; signed in: the person.
async fn signed<'a>(till: &'a Till, path: &str, body: &Value) -> Result<Person<'a>, (u16, Value)> {
    let response = send(till.http.post(till.url(path)).json(body)).await;
    let set_cookie = response
        .headers()
        .get("Set-Cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (status, session) = json_of(response).await;
    if status != 200 {
        return Err((status, session));
    }
    let cookie = set_cookie
        .split(';')
        .next()
        .expect("a cookie")
        .trim()
        .to_string();
    Ok(Person {
        till,
        cookie,
        session,
        set_cookie,
    })
}

pub async fn sign_up<'a>(
    till: &'a Till,
    token: &str,
    name: &str,
    password: &str,
) -> Result<Person<'a>, (u16, Value)> {
    signed(
        till,
        "/v1/dashboard/sign_up",
        &json!({ "invitation": token, "name": name, "password": password }),
    )
    .await
}

pub async fn sign_in<'a>(
    till: &'a Till,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> Result<Person<'a>, (u16, Value)> {
    let mut body = json!({ "email": email, "password": password });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    signed(till, "/v1/dashboard/sign_in", &body).await
}

/// Invites `email` with `role` using `key`, and signs the person up.
pub async fn join<'a>(till: &'a Till, key: &str, email: &str, role: &str) -> Person<'a> {
    let (status, invitation) = invite_with_key(till, key, email, role).await;
    assert_eq!(status, 200, "invite: {invitation}");
    sign_up(till, &invitation_token(&invitation), "Ana Kim", PASSWORD)
        .await
        .unwrap_or_else(|(status, body)| panic!("sign-up {status}: {body}"))
}

impl Person<'_> {
    pub fn csrf(&self) -> String {
        self.session["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .into()
    }

    pub fn user_id(&self) -> String {
        self.session["user"]["id"].as_str().expect("user id").into()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let request = self
            .till
            .http
            .get(self.till.url(path))
            .header("Cookie", &self.cookie);
        json_of(send(request).await).await
    }

    /// A change as the dashboard makes it: the cookie, the CSRF token, Till's own `Origin`.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        self.send_with(method, path, body, Some(&self.csrf())).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        csrf: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .till
            .http
            .request(method, self.till.url(path))
            .header("Cookie", &self.cookie)
            .header("Idempotency-Key", crate::new_key())
            .json(body);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        json_of(send(request).await).await
    }
}
