//! Add money: a checkout session for the amount, paid on the hosted checkout page, which comes
//! back to the wallet when it is done.

use super::{strings::t, Page};
use crate::card_field::{CardField, Field};
use leptos::prelude::*;
use till_core::money::Money;

#[component]
pub fn AddMoney() -> impl IntoView {
    let page = expect_context::<Page>();
    let amount = Field::new();
    let error = RwSignal::new(None::<String>);
    let checkout = {
        let page = page.clone();
        Action::new_local(move |money: &Money| {
            let (page, money) = (page.clone(), *money);
            async move {
                match page.api.top_up(money).await {
                    Ok(session) => {
                        let launch = &page.launch;
                        let mut url = format!(
                            "/checkout/{}?key={}#secret={}",
                            session.id, launch.publishable_key, session.client_secret
                        );
                        if let Some(locale) = &launch.locale {
                            url.push_str(&format!("&locale={locale}"));
                        }
                        if let Some(window) = web_sys::window() {
                            let _ = window.location().assign(&url);
                        }
                    }
                    Err(failure) => error.set(Some(t().error(&failure))),
                }
            }
        })
    };
    let pending = checkout.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        if let Some(money) = page.typed_amount(&amount) {
            checkout.dispatch(money);
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <CardField id="top-up-amount" label=t().amount name="amount" autocomplete="off"
                inputmode="decimal" field=amount
                on_input=move |text: String| amount.value.set(text) />
            <p class="error form-error" role="alert">{move || error.get()}</p>
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { t().opening_checkout } else { t().continue_to_payment }}
            </button>
        </form>
    }
}
