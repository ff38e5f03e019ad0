//! The hosted wallet page for apps' webviews (`/wallet`, built by Trunk from `wallet.html`):
//! the balance, add money (a checkout of the top-up, then back here), send to a contact,
//! withdraw to a bank account, the history, and the customer's orders with the shop (with a
//! request for a refund or a return). It acts for one customer through a customer
//! session made with `wallet: true`, and hands results to the app through the same bridges as
//! the checkout page. Opened with `?view=subscriptions` (a session made with
//! `subscriptions: true`) it is the customer's subscriptions page instead.

/// Implements `json::FromJson` through serde for the wallet's own types: the wallet page's
/// size is not budgeted, the checkout's is (it reads its answers field by field, `json`).
macro_rules! from_json_by_serde {
    ($($read:ty),* $(,)?) => {$(
        impl crate::json::FromJson for $read {
            fn from_json(object: &crate::json::Object) -> Option<Self> {
                serde_wasm_bindgen::from_value(object.0.clone()).ok()
            }
        }
    )*};
}

/// Implements `json::ToJson` through serde for what the wallet writes, for the same reason.
macro_rules! to_json_by_serde {
    ($($written:ty),* $(,)?) => {$(
        impl crate::json::ToJson for $written {
            fn to_json(&self) -> wasm_bindgen::JsValue {
                serde::Serialize::serialize(
                    self,
                    &serde_wasm_bindgen::Serializer::json_compatible(),
                )
                .unwrap_or(wasm_bindgen::JsValue::UNDEFINED)
            }
        }
    )*};
}

mod add_money;
mod history;
mod orders;
mod send;
mod strings;
mod subscriptions;
mod wallet_api;
mod wallet_launch;
mod withdraw;

// Shared with the checkout (`src/main.rs`): the edge client and its errors, JSON, the app
// bridges, amounts in the customer's locale, idempotency keys and the labelled input. The
// wallet uses part of each; what it leaves unused is the checkout's.
#[allow(dead_code)]
#[path = "../api.rs"]
mod api;
#[allow(dead_code)]
#[path = "../attempt.rs"]
mod attempt;
#[allow(dead_code)]
#[path = "../card_field.rs"]
mod card_field;
#[allow(dead_code)]
#[path = "../host.rs"]
mod host;
#[allow(dead_code)]
#[path = "../i18n.rs"]
mod i18n;
#[allow(dead_code)]
#[path = "../json.rs"]
mod json;
#[allow(dead_code)]
#[path = "../launch.rs"]
mod launch;
#[allow(dead_code)]
#[path = "../locale.rs"]
mod locale;

use crate::card_field::Field;
use crate::locale::format_amount;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use strings::t;
use till_core::money::Money;
use wallet_api::{CallResult, WalletApi, WalletView};
use wallet_launch::WalletLaunch;

fn main() {
    leptos::mount::mount_to_body(WalletPage);
}

/// What every part of the page shares: the edge, how it was opened, the wallet as last read and
/// the latest news for the customer (announced to screen readers).
#[derive(Clone)]
pub struct Page {
    pub api: WalletApi,
    pub launch: WalletLaunch,
    pub wallet: RwSignal<Option<WalletView>>,
    pub notice: RwSignal<Option<String>>,
}

impl Page {
    /// Reads the wallet again (after money moved).
    pub fn reload(&self) {
        let (api, wallet, notice) = (self.api.clone(), self.wallet, self.notice);
        spawn_local(async move {
            match api.wallet().await {
                Ok(view) => wallet.set(Some(view)),
                Err(error) => notice.set(Some(t().error(&error))),
            }
        });
    }

    /// `amount` minor units of the wallet's currency, as the customer reads money.
    pub fn money_text(&self, amount: i64) -> String {
        format_amount(
            &Money {
                amount,
                currency: self.launch.currency,
            },
            &strings::locale(),
        )
    }

    /// What the customer typed into an amount field, in the wallet's currency; the field shows
    /// why when it is not an amount.
    pub fn typed_amount(&self, field: &Field) -> Option<Money> {
        let money = Money::from_decimal_str(&field.value.get_untracked(), self.launch.currency);
        field.error.set(if money.is_none() {
            t().amount_invalid.to_string()
        } else {
            String::new()
        });
        money
    }
}

/// The event an app's bridge receives when money moved.
#[derive(Serialize)]
pub struct WalletEvent<'a> {
    pub event: &'a str,
    pub id: &'a str,
    pub status: &'a str,
}

to_json_by_serde!(WalletEvent<'_>);

/// Keeps one idempotency key while the customer retries the same request, and makes a new one
/// when what they ask changes: a retry after a lost answer never moves money twice.
#[derive(Clone, Copy)]
pub struct Attempt(RwSignal<Option<(String, String)>>);

impl Attempt {
    fn new() -> Self {
        Attempt(RwSignal::new(None))
    }

    /// The key for a request described by `what`.
    pub fn key_for(&self, what: String) -> Option<String> {
        if let Some((asked, key)) = self.0.get_untracked() {
            if asked == what {
                return Some(key);
            }
        }
        let key = crate::attempt::new_key()?;
        self.0.set(Some((what, key.clone())));
        Some(key)
    }

    /// The request got its final answer: the next one is new.
    pub fn finish(&self) {
        self.0.set(None);
    }
}

/// Keeps the key for a retry only when the request may still have happened.
pub fn settle<T>(attempt: Attempt, result: &CallResult<T>) {
    if !matches!(result, Err(error) if error.may_succeed_later()) {
        attempt.finish();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    AddMoney,
    Send,
    Withdraw,
    History,
    Orders,
}

const SECTIONS: [Section; 5] = [
    Section::AddMoney,
    Section::Send,
    Section::Withdraw,
    Section::History,
    Section::Orders,
];

impl Section {
    fn id(self) -> &'static str {
        match self {
            Section::AddMoney => "add-money",
            Section::Send => "send",
            Section::Withdraw => "withdraw",
            Section::History => "history",
            Section::Orders => "orders",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::AddMoney => t().add_money,
            Section::Send => t().send,
            Section::Withdraw => t().withdraw,
            Section::History => t().history,
            Section::Orders => t().orders,
        }
    }
}

fn set_language() {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", &strings::locale());
    }
}

/// The news a top-up's checkout brings back (`?status=` of its return).
fn returned_notice() -> Option<String> {
    wallet_launch::returned_status().map(|status| match status.as_str() {
        "succeeded" => t().money_added.to_string(),
        _ => t().top_up_not_paid.to_string(),
    })
}

#[component]
pub fn WalletPage() -> impl IntoView {
    set_language();
    let Some(launch) = wallet_launch::current() else {
        return view! {
            <main class="till wallet">
                <p class="status" role="alert">{t().link_incomplete}</p>
            </main>
        }
        .into_any();
    };
    if launch.subscriptions_only {
        let api = WalletApi::new(&launch);
        return view! {
            <main class="till wallet">
                <h1>{t().subscriptions_title}</h1>
                <subscriptions::Subscriptions api=api />
            </main>
        }
        .into_any();
    }
    let page = Page {
        api: WalletApi::new(&launch),
        launch,
        wallet: RwSignal::new(None),
        notice: RwSignal::new(returned_notice()),
    };
    page.reload();
    provide_context(page.clone());
    let open = RwSignal::new(Section::AddMoney);
    let loaded = {
        let page = page.clone();
        move || page.wallet.get().is_some()
    };
    view! {
        <main class="till wallet">
            <h1>{t().title}</h1>
            <Show when=loaded fallback=|| view! { <p class="status">{t().loading}</p> }>
                <Balances />
            </Show>
            <p class="notice" role="status" aria-live="polite">{move || page.notice.get()}</p>
            <Show when=loaded>
                <Sections open=open />
                <Done />
            </Show>
        </main>
    }
    .into_any()
}

/// The balance in the wallet's currency (and any other currency it holds).
#[component]
fn Balances() -> impl IntoView {
    let page = expect_context::<Page>();
    let currency = page.launch.currency;
    let main = {
        let page = page.clone();
        move || {
            let amount = page
                .wallet
                .get()
                .and_then(|w| w.balances.into_iter().find(|b| b.currency == currency))
                .map_or(0, |b| b.amount);
            page.money_text(amount)
        }
    };
    let others = move || {
        page.wallet.get().map(|w| {
            w.balances
                .into_iter()
                .filter(|b| b.currency != currency)
                .map(|b| {
                    let text = format_amount(
                        &Money {
                            amount: b.amount,
                            currency: b.currency,
                        },
                        &strings::locale(),
                    );
                    view! { <li>{text}</li> }
                })
                .collect_view()
        })
    };
    view! {
        <section class="balance" aria-labelledby="balance-label">
            <h2 id="balance-label">{t().balance}</h2>
            <p class="amount" aria-live="polite">{main}</p>
            <ul class="other-balances">{others}</ul>
        </section>
    }
}

/// The sections as tabs: arrow keys move between them, as screen-reader users expect.
#[component]
fn Sections(open: RwSignal<Section>) -> impl IntoView {
    let step = move |ev: leptos::ev::KeyboardEvent| {
        let index = SECTIONS.iter().position(|s| *s == open.get_untracked());
        let next = match (ev.key().as_str(), index) {
            ("ArrowRight", Some(i)) => SECTIONS.get((i + 1) % SECTIONS.len()),
            ("ArrowLeft", Some(i)) => SECTIONS.get((i + SECTIONS.len() - 1) % SECTIONS.len()),
            _ => None,
        };
        if let Some(next) = next {
            ev.prevent_default();
            open.set(*next);
            let focused = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&format!("tab-{}", next.id())))
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(tab) = focused {
                let _ = tab.focus();
            }
        }
    };
    let tabs = SECTIONS
        .iter()
        .map(|&section| {
            let selected = move || open.get() == section;
            view! {
                <button type="button" role="tab" id=format!("tab-{}", section.id())
                    aria-controls=format!("panel-{}", section.id())
                    aria-selected=move || selected().to_string()
                    tabindex=move || if selected() { "0" } else { "-1" }
                    on:click=move |_| open.set(section)>
                    {section.label()}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="tabs" role="tablist" aria-label=t().sections on:keydown=step>{tabs}</div>
        <section class="panel" role="tabpanel" id=move || format!("panel-{}", open.get().id())
            aria-labelledby=move || format!("tab-{}", open.get().id())>
            {move || match open.get() {
                Section::AddMoney => view! { <add_money::AddMoney /> }.into_any(),
                Section::Send => view! { <send::Send /> }.into_any(),
                Section::Withdraw => view! { <withdraw::Withdraw /> }.into_any(),
                Section::History => view! { <history::History /> }.into_any(),
                Section::Orders => view! { <orders::Orders /> }.into_any(),
            }}
        </section>
    }
}

/// Back to the app: its bridge hears it, then the session's `return_url`, when there is one.
#[component]
fn Done() -> impl IntoView {
    let page = expect_context::<Page>();
    let return_url = move || page.wallet.get().and_then(|w| w.return_url);
    view! {
        <Show when=move || return_url().is_some()>
            <button type="button" class="secondary" on:click=move |_| {
                host::tell_app(&WalletEvent { event: "wallet.closed", id: "", status: "done" });
                if let (Some(url), Some(window)) = (return_url(), web_sys::window()) {
                    let _ = window.location().assign(&url);
                }
            }>{t().done}</button>
        </Show>
    }
}
