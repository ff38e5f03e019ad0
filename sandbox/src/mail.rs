//! The sandbox's e-mail provider: an HTTP e-mail API in the shape of the common providers'
//! (`POST /emails` `{from, to, subject, text, html}` with a Bearer key and an optional
//! `Idempotency-Key`), whose mailbox keeps what was sent, so tests read real messages and a
//! developer sees them at `/mailbox`.
//!
//! - `GET /v1/mail/messages?to=` (Bearer key): the messages sent to an address, oldest first.
//! - `POST /v1/control/mail` `{fail_times}`: the next sends answer 503 (a provider outage).

use crate::gateway::{error, new_id, Gateway, Reply};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    from: String,
    to: Vec<String>,
    subject: String,
    text: String,
    html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    id: String,
    from: String,
    to: Vec<String>,
    subject: String,
    text: String,
    html: String,
    /// Unix seconds.
    received: u64,
}

/// What was sent, and which idempotency key sent which message.
#[derive(Default)]
pub struct Mailbox {
    messages: Vec<Message>,
    by_key: HashMap<String, String>,
    fail_times: u32,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `POST /emails`: the same `Idempotency-Key` sends nothing twice and answers the same id.
pub async fn send(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<SendRequest>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let Ok(Json(request)) = body else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "malformed body");
    };
    let well_formed = !request.to.is_empty()
        && request
            .to
            .iter()
            .all(|a| a.contains('@') && !a.contains(['\r', '\n']))
        && !request.subject.contains(['\r', '\n'])
        && request.from.contains('@');
    if !well_formed {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "from, to or subject is not valid",
        );
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let mut ledger = gateway.ledger();
    let mailbox = &mut ledger.mail;
    if mailbox.fail_times > 0 {
        mailbox.fail_times -= 1;
        println!("mail: injected 503");
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected failure",
        );
    }
    if let Some(id) = key.as_ref().and_then(|k| mailbox.by_key.get(k)) {
        return (StatusCode::OK, Json(serde_json::json!({ "id": id })));
    }
    let message = Message {
        id: new_id("msg_"),
        from: request.from,
        to: request.to,
        subject: request.subject,
        text: request.text,
        html: request.html,
        received: now(),
    };
    println!(
        "mail: {} to {} messages held",
        message.id,
        mailbox.messages.len() + 1
    );
    if let Some(key) = key {
        mailbox.by_key.insert(key, message.id.clone());
    }
    let id = message.id.clone();
    mailbox.messages.push(message);
    (StatusCode::OK, Json(serde_json::json!({ "id": id })))
}

#[derive(Deserialize)]
pub struct ToQuery {
    to: String,
}

/// `GET /v1/mail/messages?to=`.
pub async fn messages(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Query(query): Query<ToQuery>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let ledger = gateway.ledger();
    let found: Vec<&Message> = ledger
        .mail
        .messages
        .iter()
        .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(&query.to)))
        .collect();
    (
        StatusCode::OK,
        Json(serde_json::json!({ "data": serde_json::to_value(found).unwrap_or_default() })),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailFault {
    fail_times: u32,
}

/// `POST /v1/control/mail {fail_times}`.
pub async fn control(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Json(fault): Json<MailFault>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    gateway.ledger().mail.fail_times = fault.fail_times;
    (
        StatusCode::OK,
        Json(serde_json::json!({ "fail_times": fault.fail_times })),
    )
}

/// `GET /mailbox`: every message, newest first. The HTML parts are shown in sandboxed frames
/// (no scripts, no same-origin access), everything else as escaped text.
pub async fn page(State(gateway): State<Gateway>) -> Html<String> {
    let ledger = gateway.ledger();
    let mut page = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sandbox mailbox</title>\
         <style>body{font-family:sans-serif;margin:2rem;max-width:60rem}\
         article{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}\
         iframe{width:100%;height:22rem;border:1px solid #eee}</style></head><body>\
         <h1>Sandbox mailbox</h1>",
    );
    if ledger.mail.messages.is_empty() {
        page += "<p>No messages yet.</p>";
    }
    for message in ledger.mail.messages.iter().rev() {
        page += &format!(
            "<article><h2>{}</h2><p>To {} · from {} · {}</p>\
             <iframe sandbox srcdoc=\"{}\" title=\"{}\"></iframe></article>",
            till_core::receipt::escape_html(&message.subject),
            till_core::receipt::escape_html(&message.to.join(", ")),
            till_core::receipt::escape_html(&message.from),
            message.id,
            till_core::receipt::escape_html(&message.html),
            till_core::receipt::escape_html(&message.subject),
        );
    }
    page += "</body></html>";
    Html(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn email(to: &str) -> serde_json::Value {
        serde_json::json!({
            "from": "Till <receipts@till.test>", "to": [to], "subject": "Your receipt",
            "text": "Thanks", "html": "<p>Thanks</p>"
        })
    }

    async fn post(app: &axum::Router, key: Option<&str>, body: serde_json::Value) -> StatusCode {
        let mut request = Request::post("/emails")
            .header("authorization", "Bearer gw_test")
            .header("content-type", "application/json");
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        response.status()
    }

    #[tokio::test]
    async fn a_key_sends_once_and_an_outage_sends_nothing() {
        let gateway = Gateway::new("gw_test", None);
        let app = gateway.clone().router();
        assert_eq!(
            post(&app, Some("k1"), email("a@example.com")).await,
            StatusCode::OK
        );
        assert_eq!(
            post(&app, Some("k1"), email("a@example.com")).await,
            StatusCode::OK
        );
        gateway.ledger().mail.fail_times = 1;
        assert_eq!(
            post(&app, Some("k2"), email("a@example.com")).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            post(&app, Some("k2"), email("a@example.com")).await,
            StatusCode::OK
        );
        assert_eq!(
            post(&app, None, email("a\r\nBcc: b@example.com")).await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(gateway.ledger().mail.messages.len(), 2);
    }
}
