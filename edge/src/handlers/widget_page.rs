//! Till's HTML pages, served with a fresh CSP nonce and security headers: the checkout widget,
//! whose `frame-ancestors` lists the origins of the merchant named by `?key=pk_...` (without a
//! known key it may not be framed at all), and the hosted wallet page and the merchant's
//! dashboard, which are never framed.

use crate::{auth, random};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use till_core::api_keys::{hash_secret, KeyKind};
use till_core::jwe::b64;
use worker::{Env, Request, Response};

thread_local! {
    /// The pages' HTML as the static files hold it. A deployment's static files never change
    /// under a running isolate (a new version runs in new isolates), so each page is read from
    /// the assets once per isolate, not on every checkout that opens (~5 ms under `wrangler dev`).
    static PAGES: RefCell<HashMap<Page, Rc<str>>> = RefCell::new(HashMap::new());
}

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
        Ok(Some(merchant)) if merchant.is_active(crate::clock::now_seconds()) => {
            auth::merchant_origins(env, &merchant.merchant_id)
                .await
                .unwrap_or_default()
        }
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

/// Which page to serve.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    Checkout,
    Wallet,
    /// The merchant's dashboard: never framed (no clickjacking of its buttons).
    Dashboard,
}

impl Page {
    /// Where Trunk put the page among the static files.
    fn asset(self) -> &'static str {
        match self {
            Page::Checkout => "https://assets.invalid/index.html",
            Page::Wallet => "https://assets.invalid/wallet/index.html",
            Page::Dashboard => "https://assets.invalid/dashboard/index.html",
        }
    }
}

/// The page's HTML, from the isolate's copy once it has one.
async fn page_html(env: &Env, page: Page) -> worker::Result<Rc<str>> {
    if let Some(html) = PAGES.with(|pages| pages.borrow().get(&page).cloned()) {
        return Ok(html);
    }
    let mut file = env.assets("ASSETS")?.fetch(page.asset(), None).await?;
    if file.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "{}: the static files answered {}",
            page.asset(),
            file.status_code()
        )));
    }
    let html: Rc<str> = file.text().await?.into();
    PAGES.with(|pages| pages.borrow_mut().insert(page, html.clone()));
    Ok(html)
}

pub async fn serve(req: Request, env: &Env, page: Page) -> worker::Result<Response> {
    let nonce = random::bytes::<16>()
        .map(|b| b64(&b))
        .map_err(|_| worker::Error::RustError("no randomness".into()))?;
    let html = page_html(env, page);
    let ancestors = async {
        match page {
            Page::Checkout => frame_ancestors(&req, env).await,
            Page::Wallet | Page::Dashboard => "'none'".to_string(),
        }
    };
    let (html, ancestors) = futures_util::future::join(html, ancestors).await;
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
