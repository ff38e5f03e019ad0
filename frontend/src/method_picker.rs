//! The ways to pay a session offers, as a radio group (arrow keys move between them; screen
//! readers announce "Payment method, radio group"). The customer's choice is remembered per
//! merchant (by publishable key) in this browser, and offered first next time.

use crate::i18n;
use leptos::prelude::*;
use till_core::payment_method_type::PaymentMethodType;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn slot(publishable_key: &str) -> String {
    format!("till:method:{publishable_key}")
}

/// The method to show first: the one this customer chose last time at this merchant, if the
/// session offers it, else the merchant's first.
pub fn initial(methods: &[PaymentMethodType], publishable_key: &str) -> PaymentMethodType {
    let remembered = storage()
        .and_then(|storage| storage.get_item(&slot(publishable_key)).ok().flatten())
        .and_then(|name| PaymentMethodType::parse(&name))
        .filter(|method| methods.contains(method));
    remembered
        .or_else(|| methods.first().copied())
        .unwrap_or_default()
}

fn remember(method: PaymentMethodType, publishable_key: &str) {
    if let Some(storage) = storage() {
        // Storage can be full or disabled: the choice is then only not remembered.
        let _ = storage.set_item(&slot(publishable_key), method.as_str());
    }
}

fn label(method: PaymentMethodType) -> &'static str {
    match method {
        PaymentMethodType::Card => i18n::t().method_card,
        PaymentMethodType::BankRedirect => i18n::t().method_bank,
        PaymentMethodType::Wallet => i18n::t().method_wallet,
    }
}

#[component]
pub fn MethodPicker(
    methods: Vec<PaymentMethodType>,
    chosen: RwSignal<PaymentMethodType>,
    publishable_key: String,
) -> impl IntoView {
    view! {
        <fieldset class="methods">
            <legend class="sr-only">{i18n::t().payment_method}</legend>
            {methods.into_iter().map(|method| {
                let key = publishable_key.clone();
                view! {
                    <label class="method">
                        <input type="radio" name="method" id=format!("method-{}", method.as_str())
                            value=method.as_str()
                            prop:checked=move || chosen.get() == method
                            on:change=move |_| {
                                chosen.set(method);
                                remember(method, &key);
                            } />
                        <span>{label(method)}</span>
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
}
