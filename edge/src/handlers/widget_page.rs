//! The widget's HTML page, served with a fresh CSP nonce and security headers. `frame-ancestors`
//! lists the origins of the merchant named by `?key=pk_...`; without a known key the page may
//! not be framed at all.

use crate::{auth, random};
use till_core::api_keys::{hash_secret, KeyKind};
use till_core::jwe::b64;
use worker::{Env, Request, Response};

/// Trunk's placeholder for the nonce of the scripts it injects (`create_nonce` in Trunk.toml).
const NONCE_PLACEHOLDER: &str = "{{__TRUNK NONCE__}}";

async fn frame_ancestors(req: &Request, env: &Env) -> String {
    let Some(key) = crate::http::query_param(req, "key") else {
        return "'none'".into();
    };
    if KeyKind::of(&key) != Some(KeyKind::Publishable) {
        return "'none'".into();
    }
    let origins = match auth::merchant_key(env, hash_secret(&key)).await {
        Ok(Some(merchant)) => auth::merchant_origins(env, &merchant.merchant_id)
            .await
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if origins.is_empty() {
        "'none'".into()
    } else {
        origins.join(" ")
    }
}

pub fn content_security_policy(nonce: &str, ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
         form-action 'self'; frame-ancestors {ancestors}"
    )
}

pub async fn serve(req: Request, env: &Env) -> worker::Result<Response> {
    let nonce = random::bytes::<16>()
        .map(|b| b64(&b))
        .map_err(|_| worker::Error::RustError("no randomness".into()))?;
    let assets = env.assets("ASSETS")?;
    let page = async {
        let mut index = assets
            .fetch("https://assets.invalid/index.html", None)
            .await?;
        index.text().await
    };
    let (html, ancestors) = futures_util::future::join(page, frame_ancestors(&req, env)).await;
    let html = html?.replace(NONCE_PLACEHOLDER, &nonce);
    let mut response = Response::from_html(html)?;
    let headers = response.headers_mut();
    headers.set(
        "Content-Security-Policy",
        &content_security_policy(&nonce, &ancestors),
    )?;
    headers.set("Cache-Control", "no-store")?;
    Ok(response)
}
