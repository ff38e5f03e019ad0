//! Webhook endpoints and each one's delivery log; a delivery can be sent again.

use crate::api::{self, Listed};
use crate::app::Dashboard;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::api::{WebhookDelivery, WebhookEndpoint};

#[component]
pub fn Webhooks() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let endpoints = RwSignal::new(None::<Vec<WebhookEndpoint>>);
    let chosen = RwSignal::new(None::<String>);
    let deliveries = RwSignal::new(Vec::<WebhookDelivery>::new());
    spawn_local(async move {
        match api::get::<Listed<WebhookEndpoint>>("/v1/webhook_endpoints").await {
            Ok(list) => endpoints.set(Some(list.data)),
            Err(error) => dashboard.fail(&error),
        }
    });
    let show = move |id: String| {
        chosen.set(Some(id.clone()));
        spawn_local(async move {
            let path = format!("/v1/webhook_endpoints/{}/deliveries", api::encode(&id));
            match api::get::<Listed<WebhookDelivery>>(&path).await {
                Ok(list) => deliveries.set(list.data),
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    let resend = move |delivery: String| {
        let path = format!("/v1/webhook_deliveries/{}/resend", api::encode(&delivery));
        dashboard.change("POST", path, serde_json::json!({}), t().resent, move |_| {
            if let Some(id) = chosen.get_untracked() {
                show(id);
            }
        });
    };
    let endpoint_rows = move || {
        let list = endpoints.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_endpoints}</p> }.into_any());
        }
        let rows = list
            .into_iter()
            .map(|e| {
                let id = e.id.clone();
                let selected = {
                    let id = id.clone();
                    move || (chosen.get().as_deref() == Some(id.as_str())).to_string()
                };
                view! {
                    <tr>
                        <td class="mono">{e.url.clone()}</td>
                        <td>{e.events.join(", ")}</td>
                        <td><button type="button" class="quiet" aria-pressed=selected
                            on:click=move |_| show(id.clone())>{t().deliveries}</button></td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <table class="list" id="endpoints">
                <thead><tr><th scope="col">"URL"</th><th scope="col">{t().events}</th><th scope="col"></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }.into_any())
    };
    let delivery_rows = move || {
        deliveries
            .get()
            .into_iter()
            .map(|d| {
                let id = d.id.clone();
                view! {
                    <tr data-id=d.id.clone()>
                        <td>{d.event_type.clone()}</td>
                        <td><span class=format!("badge {}", d.status.as_str())>{d.status.as_str()}</span></td>
                        <td>{d.attempts}</td>
                        <td>{d.last_status_code}</td>
                        <td>{format::date_time(d.updated)}</td>
                        <td>{dashboard.may_change().then(|| view! {
                            <button type="button" class="quiet resend" on:click=move |_| resend(id.clone())>{t().resend}</button>
                        })}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <section>
            <h1>{t().webhooks}</h1>
            {move || endpoints.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {endpoint_rows}
            <Show when=move || chosen.get().is_some()>
                <h2>{t().deliveries}</h2>
                <table class="list" id="deliveries">
                    <thead><tr><th scope="col">{t().events}</th><th scope="col">{t().status}</th><th scope="col">{t().attempts}</th>
                        <th scope="col">"HTTP"</th><th scope="col">{t().updated}</th><th scope="col"></th></tr></thead>
                    <tbody>{delivery_rows}</tbody>
                </table>
            </Show>
        </section>
    }
}
