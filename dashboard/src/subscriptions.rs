//! The merchant's subscriptions (filtered by status) and the latest invoices, newest first.

use crate::api;
use crate::app::Dashboard;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::api::List;
use till_core::invoice::Invoice;
use till_core::subscription::{Subscription, SubscriptionStatus};

#[component]
pub fn Subscriptions() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let status = RwSignal::new(String::new());
    let rows = RwSignal::new(None::<Vec<Subscription>>);
    let has_more = RwSignal::new(false);
    let load = move |more: bool| {
        let mut path = "/v1/subscriptions?limit=50".to_string();
        let wanted = status.get_untracked();
        if !wanted.is_empty() {
            path.push_str(&format!("&status={}", api::encode(&wanted)));
        }
        if more {
            if let Some(last) = rows
                .get_untracked()
                .and_then(|r| r.last().map(|s| s.id.clone()))
            {
                path.push_str(&format!("&starting_after={}", api::encode(&last)));
            }
        }
        spawn_local(async move {
            match api::get::<List<Subscription>>(&path).await {
                Ok(page) => {
                    has_more.set(page.has_more);
                    rows.update(|r| match r {
                        Some(list) if more => list.extend(page.data),
                        _ => *r = Some(page.data),
                    });
                }
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    load(false);
    let statuses = SubscriptionStatus::ALL
        .into_iter()
        .map(
            |s| view! { <option value=s.as_str()>{(t().subscription_status)(s.as_str())}</option> },
        )
        .collect_view();
    let table = move || {
        let list = rows.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_subscriptions}</p> }.into_any());
        }
        let body = list
            .into_iter()
            .map(|s| {
                let next = if s.status.is_final() {
                    t().none.to_string()
                } else if s.cancel_at_period_end {
                    format!("{} ({})", format::date_time(s.current_period_end), t().ends_at_period_end)
                } else {
                    format::date_time(s.current_period_end)
                };
                view! {
                    <tr>
                        <td class="mono">{s.customer.clone()}</td>
                        <td class="mono">{s.product.clone()}</td>
                        <td>{format::money(s.amount, s.currency)}</td>
                        <td><span class="badge">{(t().subscription_status)(s.status.as_str())}</span></td>
                        <td>{next}</td>
                        <td>{format::date_time(s.created)}</td>
                        <td class="mono">{s.id.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(
            view! {
                <table class="list" id="subscriptions">
                    <thead><tr><th scope="col">{t().customer}</th><th scope="col">{t().product}</th>
                        <th scope="col">{t().amount}</th><th scope="col">{t().status}</th>
                        <th scope="col">{t().next_charge}</th><th scope="col">{t().created}</th>
                        <th scope="col">"ID"</th></tr></thead>
                    <tbody>{body}</tbody>
                </table>
            }
            .into_any(),
        )
    };
    view! {
        <section>
            <h1>{t().subscriptions}</h1>
            <label>{t().status}" "
                <select id="subscription-status" on:change=move |ev| {
                    status.set(event_target_value(&ev));
                    load(false);
                }>
                    <option value="">{t().any_status}</option>
                    {statuses}
                </select>
            </label>
            {move || rows.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {table}
            <Show when=move || has_more.get()>
                <button type="button" class="quiet" on:click=move |_| load(true)>{t().more}</button>
            </Show>
        </section>
        <Invoices />
    }
}

/// The latest invoices of every subscription.
#[component]
fn Invoices() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let rows = RwSignal::new(None::<Vec<Invoice>>);
    spawn_local(async move {
        match api::get::<List<Invoice>>("/v1/invoices?limit=20").await {
            Ok(page) => rows.set(Some(page.data)),
            Err(error) => dashboard.fail(&error),
        }
    });
    let table = move || {
        let list = rows.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_invoices}</p> }.into_any());
        }
        let body = list
            .into_iter()
            .map(|i| {
                view! {
                    <tr>
                        <td class="mono">{i.subscription.clone()}</td>
                        <td>{format!("{} – {}", format::date_time(i.period_start), format::date_time(i.period_end))}</td>
                        <td>{format::money(i.total, i.currency)}</td>
                        <td><span class="badge">{(t().subscription_status)(i.status.as_str())}</span></td>
                        <td>{i.attempt_count}</td>
                        <td class="mono">{i.id.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <table class="list" id="invoices">
                <thead><tr><th scope="col">{t().subscriptions}</th><th scope="col">{t().period}</th>
                    <th scope="col">{t().amount}</th><th scope="col">{t().status}</th>
                    <th scope="col">{t().charges}</th><th scope="col">"ID"</th></tr></thead>
                <tbody>{body}</tbody>
            </table>
        }.into_any())
    };
    view! {
        <section>
            <h2>{t().invoices}</h2>
            {move || rows.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {table}
        </section>
    }
}
