//! The wallet's latest movements, newest first: what each was, when, and by how much.

use super::{strings, strings::t, Page};
use crate::locale::format_amount;
use leptos::prelude::*;
use till_core::money::Money;

/// A Unix time as the customer reads it: their local date (and time, unless `date_only`).
pub fn local_time(seconds: i64, date_only: bool) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(seconds as f64 * 1000.0));
    let (locale, options) = (strings::locale(), wasm_bindgen::JsValue::UNDEFINED);
    let text = if date_only {
        date.to_locale_date_string(&locale, &options)
    } else {
        date.to_locale_string(&locale, &options)
    };
    text.as_string().unwrap_or_default()
}

#[component]
pub fn History() -> impl IntoView {
    let page = expect_context::<Page>();
    let lines = move || {
        let movements = page.wallet.get().map(|w| w.history).unwrap_or_default();
        if movements.is_empty() {
            return view! { <p class="empty">{t().no_history}</p> }.into_any();
        }
        let items = movements
            .into_iter()
            .map(|m| {
                let sign = if m.amount > 0 { "+" } else { "−" };
                let money = Money {
                    amount: m.amount.abs(),
                    currency: m.currency,
                };
                let amount = format!("{sign}{}", format_amount(&money, &strings::locale()));
                let class = if m.amount > 0 { "in" } else { "out" };
                view! {
                    <li id=m.id>
                        <span class="what">{t().movement(&m.kind, m.amount)}</span>
                        <span class=format!("how-much {class}")>{amount}</span>
                        <span class="when">{local_time(m.created, false)}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="movements">{items}</ul> }.into_any()
    };
    view! { <div>{lines}</div> }
}
