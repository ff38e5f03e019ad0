//! What the page was opened with. The publishable key may be in the query (`?key=pk_...`, so the
//! edge can set `frame-ancestors`); everything secret is in the fragment (`#secret=...`), which
//! never reaches a server log.

use crate::api::Edge;
use std::sync::OnceLock;
use till_core::appearance::Appearance;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In the merchant's page, inside till.js's iframe (`/pay`).
    Embedded,
    /// A full page in a mobile webview or browser (`/checkout/:session`).
    Hosted,
    /// Opened directly (`/`), as in local development.
    Standalone,
}

/// Read once (`current`); every component that calls the edge or talks to the host asks for it.
#[derive(Clone)]
pub struct Launch {
    pub publishable_key: String,
    pub client_secret: String,
    pub session_id: String,
    pub mode: Mode,
    /// The embedding page's origin, for postMessage (never `*`).
    pub parent_origin: Option<String>,
    /// The merchant's `locale` option as a canonical language tag; `None` when it was not one.
    pub locale: Option<String>,
    pub appearance: Appearance,
    /// A customer session's secret (`cuss_…_secret_…`): the widget offers that customer's
    /// saved cards.
    pub customer_session: Option<String>,
}

impl Launch {
    /// The edge, called with this checkout's publishable key.
    pub fn edge(&self) -> Edge {
        Edge {
            publishable_key: self.publishable_key.clone(),
        }
    }
}

/// The merchant's `appearance` option as it was given (checked by `Appearance::validated`).
fn appearance(options: &crate::json::Object) -> Appearance {
    Appearance {
        color_primary: options.text("colorPrimary"),
        color_text: options.text("colorText"),
        color_background: options.text("colorBackground"),
        color_danger: options.text("colorDanger"),
        font_family: options.text("fontFamily"),
        border_radius: options.text("borderRadius"),
    }
}

fn params(text: &str) -> Option<web_sys::UrlSearchParams> {
    web_sys::UrlSearchParams::new_with_str(text.trim_start_matches(['#', '?'])).ok()
}

/// What the page was opened with; `None` when the checkout link lacks what the widget needs.
/// Read from the address once: it does not change while the widget runs, and the words, the
/// amounts and every message to the host ask for it (each read was a dozen calls out to the
/// browser and a JSON parse of the appearance).
pub fn current() -> Option<&'static Launch> {
    static LAUNCH: OnceLock<Option<Launch>> = OnceLock::new();
    LAUNCH.get_or_init(read).as_ref()
}

fn read() -> Option<Launch> {
    let location = web_sys::window()?.location();
    let fragment = params(&location.hash().ok()?)?;
    let query = params(&location.search().ok()?)?;
    let path = location.pathname().ok()?;
    let client_secret = fragment.get("secret")?;
    let session_id = client_secret.split_once("_secret_")?.0.to_string();
    let mode = if path.starts_with("/pay") {
        Mode::Embedded
    } else if path.starts_with("/checkout/") {
        Mode::Hosted
    } else {
        Mode::Standalone
    };
    Some(Launch {
        publishable_key: query.get("key").or_else(|| fragment.get("key"))?,
        session_id,
        client_secret,
        mode,
        parent_origin: fragment.get("origin").filter(|o| o.starts_with("http")),
        locale: fragment
            .get("locale")
            .and_then(|tag| crate::locale::canonical(&tag)),
        appearance: fragment
            .get("appearance")
            .and_then(|text| crate::json::Object::parse(&text))
            .map(|options| appearance(&options))
            .unwrap_or_default()
            .validated(),
        customer_session: fragment
            .get("customer_session")
            .filter(|secret| secret.starts_with("cuss_") && secret.contains("_secret_")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn appearance_of(text: &str) -> Appearance {
        crate::json::Object::parse(text)
            .map(|options| appearance(&options))
            .unwrap_or_default()
            .validated()
    }

    #[wasm_bindgen_test]
    fn reads_the_merchants_appearance_by_its_javascript_names() {
        let read = appearance_of(
            r##"{"colorPrimary":"#1d4ed8","colorText":"#111111","colorBackground":"#ffffff",
                "colorDanger":"#b91c1c","fontFamily":"Georgia, serif","borderRadius":"6px"}"##,
        );
        assert_eq!(read.color_primary.as_deref(), Some("#1d4ed8"));
        assert_eq!(read.color_text.as_deref(), Some("#111111"));
        assert_eq!(read.color_background.as_deref(), Some("#ffffff"));
        assert_eq!(read.color_danger.as_deref(), Some("#b91c1c"));
        assert_eq!(read.font_family.as_deref(), Some("Georgia, serif"));
        assert_eq!(read.border_radius.as_deref(), Some("6px"));
    }

    #[wasm_bindgen_test]
    fn hostile_or_malformed_appearance_changes_nothing() {
        let hostile = appearance_of(
            r##"{"colorPrimary":"red;}body{display:none","fontFamily":"x</style><script>","borderRadius":42,"color_text":"#000000"}"##,
        );
        assert_eq!(hostile, Appearance::default());
        for malformed in ["", "[1]", "{", "null"] {
            assert_eq!(
                appearance_of(malformed),
                Appearance::default(),
                "{malformed}"
            );
        }
    }
}
