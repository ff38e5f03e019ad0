//! Till's checkout widget. It runs on Till's origin (inside the merchant's iframe, or as a page),
//! encrypts the card in the browser and talks only to the edge.
//!
//! The crate's second binary, the hosted wallet page (`src/wallet/main.rs`), shares some of
//! these modules; each binary is compiled on its own, so neither ships the other's code.

mod api;
mod app;
mod attempt;
mod bank_form;
mod bank_waiting;
mod card_field;
mod card_form;
mod challenge;
mod checkout;
mod encrypt;
mod host;
mod i18n;
mod json;
mod launch;
mod lazy;
mod locale;
mod marks;
mod method_picker;
mod receipt;
mod saved_cards;
mod stage;
mod timer;
mod wallet_form;

// The unit tests (`#[wasm_bindgen_test]` in the modules) run in a browser: they use its JSON,
// storage and WebCrypto.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn main() {
    marks::mark("till:started");
    leptos::mount::mount_to_body(app::App);
}
