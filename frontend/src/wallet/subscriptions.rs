//! The customer's subscriptions, on the page a merchant opens with a customer session made for
//! them (`/wallet?key=…&view=subscriptions#customer_session=…`): each plan with its next charge
//! (or when it ends), the card it is charged to — which the customer can switch to another of
//! their saved cards — the latest invoices, and canceling at the period's end (or keeping it).

use super::history::local_time;
use super::strings::{self, t};
use super::wallet_api::{SavedCard, WalletApi};
use crate::locale::format_amount;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::invoice::InvoiceStatus;
use till_core::money::{Currency, Money};
use till_core::subscription::{CustomerSubscription, SubscriptionStatus};

fn money(amount: i64, currency: Currency) -> String {
    format_amount(&Money { amount, currency }, &strings::locale())
}

/// What the page holds: the subscriptions and the customer's saved cards, as last read.
#[derive(Clone, Copy)]
struct Loaded {
    subscriptions: RwSignal<Option<Vec<CustomerSubscription>>>,
    cards: RwSignal<Vec<SavedCard>>,
    notice: RwSignal<Option<String>>,
}

#[component]
pub fn Subscriptions(api: WalletApi) -> impl IntoView {
    let loaded = Loaded {
        subscriptions: RwSignal::new(None),
        cards: RwSignal::new(Vec::new()),
        notice: RwSignal::new(None),
    };
    {
        let api = api.clone();
        spawn_local(async move {
            let (subscriptions, cards) =
                futures_util::future::join(api.subscriptions(), api.saved_cards()).await;
            match subscriptions {
                Ok(list) => loaded.subscriptions.set(Some(list.data)),
                Err(error) => loaded.notice.set(Some(t().error(&error))),
            }
            if let Ok(cards) = cards {
                loaded.cards.set(cards.data);
            }
        });
    }
    let list = move || {
        let subscriptions = loaded.subscriptions.get()?;
        if subscriptions.is_empty() {
            return Some(view! { <p class="empty">{t().no_subscriptions}</p> }.into_any());
        }
        let items = subscriptions
            .into_iter()
            .map(|s| view! { <Plan subscription=s api=api.clone() loaded=loaded /> })
            .collect_view();
        Some(view! { <ul class="subscriptions">{items}</ul> }.into_any())
    };
    view! {
        <p class="notice" role="status" aria-live="polite">{move || loaded.notice.get()}</p>
        {move || loaded.subscriptions.get().is_none().then(|| view! { <p class="status">{t().loading_subscriptions}</p> })}
        {list}
    }
}

/// One subscription.
#[component]
fn Plan(subscription: CustomerSubscription, api: WalletApi, loaded: Loaded) -> impl IntoView {
    let s = subscription;
    let id = s.id.clone();
    let heading = format!("{} × {}", s.product_name, s.quantity);
    let price = (t().per_period)(
        &money(s.amount, s.currency),
        s.recurring.interval.as_str(),
        s.recurring.interval_count,
    );
    let open_invoice = s
        .invoices
        .iter()
        .find(|i| i.status == InvoiceStatus::Open)
        .map(|i| i.id.clone());
    let owes = matches!(
        s.status,
        SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid | SubscriptionStatus::Incomplete
    );
    let when = match (&s.next_charge, s.cancel_at_period_end, s.ended_at) {
        (_, _, Some(ended)) => (t().ended_on)(&local_time(ended, true)),
        (_, true, _) => (t().ends_on)(&local_time(s.current_period_end, true)),
        (Some(next), _, _) => {
            (t().next_charge)(&money(next.amount, s.currency), &local_time(next.at, true))
        }
        // The alert below says what is owed and how to pay it.
        (None, _, _) if owes => String::new(),
        (None, _, _) => t().no_next_charge.to_string(),
    };
    let card = s
        .card
        .as_ref()
        .map(|c| format!("{} •••• {}", c.brand.display_name(), c.last4))
        .unwrap_or_else(|| t().no_card.to_string());
    let current_card = s.card.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let invoices = s
        .invoices
        .iter()
        .map(|i| {
            view! {
                <li>
                    <span class="when">{local_time(i.period_start, true)}</span>
                    <span class="how-much">{money(i.total, i.currency)}</span>
                    <span class=format!("badge {}", i.status.as_str())>{(t().subscription_status)(i.status.as_str())}</span>
                </li>
            }
        })
        .collect_view();
    let ended = s.ended_at.is_some() || s.status.is_final();
    let canceling = s.cancel_at_period_end;
    let busy = RwSignal::new(false);
    let change = {
        let (api, id) = (api.clone(), id.clone());
        move |payment_method: Option<String>,
              cancel_at_period_end: Option<bool>,
              news: &'static str| {
            let (api, id) = (api.clone(), id.clone());
            busy.set(true);
            spawn_local(async move {
                match api
                    .change_subscription(&id, payment_method, cancel_at_period_end)
                    .await
                {
                    Ok(after) => {
                        loaded.subscriptions.update(|list| {
                            if let Some(slot) = list.iter_mut().flatten().find(|s| s.id == after.id)
                            {
                                *slot = after;
                            }
                        });
                        loaded.notice.set(Some(news.to_string()));
                    }
                    Err(error) => loaded.notice.set(Some(t().error(&error))),
                }
                busy.set(false);
            });
        }
    };
    let choosing = RwSignal::new(false);
    let chosen = RwSignal::new(current_card.clone());
    let options = move || {
        loaded
            .cards
            .get()
            .into_iter()
            .map(|c| {
                let value = c.id.clone();
                let checked = chosen.get_untracked() == value;
                let label = format!("{} •••• {}", c.card.brand.display_name(), c.card.last4);
                view! {
                    <label class="choice">
                        <input type="radio" name="card" value=value.clone() checked=checked
                            on:change=move |_| chosen.set(value.clone()) />
                        {label}
                    </label>
                }
            })
            .collect_view()
    };
    let switch = {
        let change = change.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            choosing.set(false);
            change(Some(chosen.get_untracked()), None, t().card_changed);
        }
    };
    // The list is read again after every change, so what this plan shows is fixed here.
    let actions = (!ended).then(|| {
        let toggle = if canceling {
            let keep = change.clone();
            view! {
                <button type="button" class="secondary keep" disabled=move || busy.get()
                    on:click=move |_| keep(None, Some(false), t().keep_done)>{t().keep}</button>
            }
            .into_any()
        } else {
            let cancel = change.clone();
            view! {
                <button type="button" class="secondary cancel" disabled=move || busy.get()
                    on:click=move |_| cancel(None, Some(true), t().cancel_done)>{t().cancel_subscription}</button>
            }
            .into_any()
        };
        view! {
            <div class="actions">
                <button type="button" class="secondary change-card" disabled=move || busy.get()
                    on:click=move |_| choosing.set(true)>{t().change_card}</button>
                {toggle}
            </div>
        }
    });
    view! {
        <li class="plan" id=id.clone()>
            <h2>{heading}</h2>
            <p class="price">{price}" · "<span class="badge">{(t().subscription_status)(s.status.as_str())}</span></p>
            {(!when.is_empty()).then(|| view! { <p class="next">{when}</p> })}
            {owes.then(|| view! { <p class="owes" role="alert">{t().payment_failed_update_card}</p> })}
            {open_invoice.filter(|_| owes).map(|invoice| view! { <PayNow api=api.clone() invoice=invoice loaded=loaded /> })}
            <p class="card">{t().charged_to}" "{card}</p>
            {actions}
            <Show when=move || choosing.get()>
                <form class="cards" on:submit=switch.clone()>
                    <fieldset>
                        <legend>{t().choose_card}</legend>
                        {options}
                    </fieldset>
                    <button type="submit">{t().use_this_card}</button>
                </form>
            </Show>
            <h3>{t().invoices}</h3>
            <ul class="invoices">{invoices}</ul>
        </li>
    }
}

/// Pays an open invoice on the hosted checkout page (any card; the customer may keep it for
/// the next charges), which comes back here.
#[component]
fn PayNow(api: WalletApi, invoice: String, loaded: Loaded) -> impl IntoView {
    let pending = RwSignal::new(false);
    let go = move |_| {
        let (api, invoice) = (api.clone(), invoice.clone());
        pending.set(true);
        spawn_local(async move {
            match api.pay_invoice(&invoice).await {
                Ok(action) => {
                    let launch = api.launch();
                    let mut url = format!(
                        "/checkout/{}?key={}#secret={}",
                        action.checkout_session, launch.publishable_key, action.client_secret
                    );
                    if let Some(locale) = &launch.locale {
                        url.push_str(&format!("&locale={locale}"));
                    }
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().assign(&url);
                    }
                }
                Err(error) => {
                    loaded.notice.set(Some(t().error(&error)));
                    pending.set(false);
                }
            }
        });
    };
    view! {
        <button type="button" class="pay-now" disabled=move || pending.get() on:click=go>
            {move || if pending.get() { t().opening_checkout } else { t().pay_now }}
        </button>
    }
}
