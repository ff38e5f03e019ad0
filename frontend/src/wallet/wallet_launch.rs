//! What the wallet page was opened with: `/wallet?key=pk_…#customer_session=cuss_…_secret_…`
//! (optionally `&locale=ko&currency=KRW`; `?view=subscriptions` for the customer's
//! subscriptions only). The secret is moved from the address into
//! `sessionStorage` at once, so it is not left in the page's history, and read from there when
//! the page comes back (a top-up's checkout returns to `/wallet`).

use serde::{Deserialize, Serialize};
use till_core::money::Currency;

const STORAGE_SLOT: &str = "till:wallet";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletLaunch {
    pub publishable_key: String,
    /// `cuss_…_secret_…`: the customer session's client secret.
    pub customer_session: String,
    pub locale: Option<String>,
    /// The wallet's currency: what is added, sent and withdrawn.
    pub currency: Currency,
    /// `?view=subscriptions`: only the customer's subscriptions (a session made with
    /// `subscriptions: true`), not the wallet.
    #[serde(default)]
    pub subscriptions_only: bool,
}

from_json_by_serde!(WalletLaunch);
to_json_by_serde!(WalletLaunch);

impl WalletLaunch {
    pub fn session_id(&self) -> &str {
        self.customer_session
            .split_once("_secret_")
            .map_or(&self.customer_session, |(id, _)| id)
    }
}

fn params(text: &str) -> Option<web_sys::UrlSearchParams> {
    web_sys::UrlSearchParams::new_with_str(text.trim_start_matches(['#', '?'])).ok()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// From the address when it carries a customer session, else from this tab's storage.
pub fn current() -> Option<WalletLaunch> {
    from_address().or_else(|| {
        let text = storage()?.get_item(STORAGE_SLOT).ok()??;
        crate::json::from_str(&text)
    })
}

fn from_address() -> Option<WalletLaunch> {
    let window = web_sys::window()?;
    let location = window.location();
    let fragment = params(&location.hash().ok()?)?;
    let query = params(&location.search().ok()?)?;
    let customer_session = fragment
        .get("customer_session")
        .filter(|secret| secret.starts_with("cuss_") && secret.contains("_secret_"))?;
    let launch = WalletLaunch {
        publishable_key: query.get("key").or_else(|| fragment.get("key"))?,
        customer_session,
        locale: fragment
            .get("locale")
            .and_then(|tag| crate::locale::canonical(&tag)),
        currency: fragment
            .get("currency")
            .and_then(|code| Currency::parse(&code).ok())
            .or_else(|| Currency::parse("USD").ok())?,
        subscriptions_only: query.get("view").as_deref() == Some("subscriptions"),
    };
    if let (Some(storage), Some(text)) = (storage(), crate::json::to_string(&launch)) {
        let _ = storage.set_item(STORAGE_SLOT, &text);
        // Drop the secret from the address (and the history) now that the tab keeps it.
        if let (Ok(history), Ok(path)) = (window.history(), location.pathname()) {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
        }
    }
    Some(launch)
}

/// How a top-up's checkout ended, when the page is its return (`?status=…`).
pub fn returned_status() -> Option<String> {
    let location = web_sys::window()?.location();
    params(&location.search().ok()?)?.get("status")
}
