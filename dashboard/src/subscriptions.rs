//! The merchant's subscriptions (filtered by status) and the latest invoices, newest first.
//! Products are shown by name (one list call); ids sit in the last column, which phones hide.

use crate::api;
use crate::app::Dashboard;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashMap;
use till_core::api::List;
use till_core::catalogue::Product;
use till_core::invoice::Invoice;
use till_core::subscription::{
    AfterRetries, BillingSettings, Dunning, Subscription, SubscriptionStatus, UpdateBillingSettings,
};

#[component]
pub fn Subscriptions() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let status = RwSignal::new(String::new());
    let rows = RwSignal::new(None::<Vec<Subscription>>);
    let has_more = RwSignal::new(false);
    let names = RwSignal::new(HashMap::<String, String>::new());
    spawn_local(async move {
        if let Ok(page) = api::get::<List<Product>>("/v1/products?limit=100").await {
            names.set(page.data.into_iter().map(|p| (p.id, p.name)).collect());
        }
    });
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
                    format!("{} ({})", format::date(s.current_period_end), t().ends_at_period_end)
                } else {
                    format::date(s.current_period_end)
                };
                let product = names
                    .with(|n| n.get(&s.product).cloned())
                    .unwrap_or_else(|| s.product.clone());
                view! {
                    <tr>
                        <td>{product}" × "{s.quantity}</td>
                        <td>{format::money(s.amount, s.currency)}</td>
                        <td><span class="badge">{(t().subscription_status)(s.status.as_str())}</span></td>
                        <td>{next}</td>
                        <td class="wide">{format::date(s.created)}</td>
                        <td class="mono">{s.id.clone()}<br />{s.customer.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(
            view! {
                <table class="list" id="subscriptions">
                    <thead><tr><th scope="col">{t().product}</th>
                        <th scope="col">{t().amount}</th><th scope="col">{t().status}</th>
                        <th scope="col">{t().next_charge}</th><th scope="col" class="wide">{t().created}</th>
                        <th scope="col">{t().ids}</th></tr></thead>
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
        <Retries />
        <Invoices />
    }
}

/// The merchant's dunning schedule: when a failed renewal is charged again and what becomes of
/// the subscription after the last retry. Checked here as the API checks it before it is sent.
#[component]
fn Retries() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let current = RwSignal::new(None::<Dunning>);
    let days = RwSignal::new(String::new());
    let after = RwSignal::new(String::new());
    let show = move |dunning: Dunning| {
        let listed: Vec<String> = dunning.retry_days().iter().map(u16::to_string).collect();
        days.set(listed.join(", "));
        after.set(after_name(dunning.after_retries).into());
        current.set(Some(dunning));
    };
    spawn_local(async move {
        match api::get::<BillingSettings>("/v1/billing_settings").await {
            Ok(settings) => show(settings.dunning),
            Err(error) => dashboard.fail(&error),
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parsed: Option<Vec<u16>> = days
            .get_untracked()
            .split(',')
            .map(|day| day.trim().parse().ok())
            .collect();
        let after_retries = if after.get_untracked() == "cancel" {
            AfterRetries::Cancel
        } else {
            AfterRetries::MarkUnpaid
        };
        let Some(dunning) = parsed.and_then(|days| Dunning::new(days, after_retries).ok()) else {
            return dashboard.tell(t().retry_days_invalid);
        };
        let Ok(body) = serde_json::to_value(UpdateBillingSettings { dunning }) else {
            return;
        };
        dashboard.change(
            "POST",
            "/v1/billing_settings".into(),
            body,
            t().schedule_saved,
            move |answer| {
                if let Ok(settings) = serde_json::from_value::<BillingSettings>(answer) {
                    show(settings.dunning);
                }
            },
        );
    };
    let summary = move || {
        current.get().map(|dunning| {
            let listed: Vec<String> = dunning.retry_days().iter().map(u16::to_string).collect();
            let outcome = match dunning.after_retries {
                AfterRetries::MarkUnpaid => t().mark_unpaid,
                AfterRetries::Cancel => t().cancel_it,
            };
            (t().dunning_summary)(&listed.join(", "), outcome)
        })
    };
    view! {
        <section>
            <h2>{t().failed_renewals}</h2>
            <p id="dunning">{summary}</p>
            <Show when=move || dashboard.may_change() && current.get().is_some()>
                <form id="dunning-form" on:submit=save>
                    <label>{t().retry_days}
                        <input id="retry-days" inputmode="numeric" aria-describedby="retry-days-hint"
                            prop:value=move || days.get()
                            on:input=move |ev| days.set(event_target_value(&ev)) />
                    </label>
                    <p id="retry-days-hint" class="hint">{t().retry_days_hint}</p>
                    <label>{t().after_retries}
                        <select id="after-retries" prop:value=move || after.get()
                            on:change=move |ev| after.set(event_target_value(&ev))>
                            <option value="mark_unpaid">{t().mark_unpaid}</option>
                            <option value="cancel">{t().cancel_it}</option>
                        </select>
                    </label>
                    <button type="submit">{t().save_schedule}</button>
                </form>
            </Show>
        </section>
    }
}

fn after_name(after: AfterRetries) -> &'static str {
    match after {
        AfterRetries::MarkUnpaid => "mark_unpaid",
        AfterRetries::Cancel => "cancel",
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
                let period = format!("{} – {}", format::date(i.period_start), format::date(i.period_end));
                view! {
                    <tr>
                        <td>{period}</td>
                        <td>{format::money(i.total, i.currency)}</td>
                        <td><span class="badge">{(t().subscription_status)(i.status.as_str())}</span></td>
                        <td class="wide">{i.attempt_count}</td>
                        <td class="mono">{i.id.clone()}<br />{i.subscription.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <table class="list" id="invoices">
                <thead><tr><th scope="col">{t().period}</th>
                    <th scope="col">{t().amount}</th><th scope="col">{t().status}</th>
                    <th scope="col" class="wide">{t().charges}</th><th scope="col">{t().ids}</th></tr></thead>
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
