//! The merchant's customers, newest first.

use crate::api;
use crate::app::Dashboard;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::api::List;
use till_core::customer::Customer;

#[component]
pub fn Customers() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let rows = RwSignal::new(None::<Vec<Customer>>);
    let has_more = RwSignal::new(false);
    let load = move |more: bool| {
        let after = more
            .then(|| {
                rows.get_untracked()
                    .and_then(|r| r.last().map(|c| c.id.clone()))
            })
            .flatten();
        let path = match after {
            Some(id) => format!("/v1/customers?limit=50&starting_after={}", api::encode(&id)),
            None => "/v1/customers?limit=50".to_string(),
        };
        spawn_local(async move {
            match api::get::<List<Customer>>(&path).await {
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
    let table = move || {
        let list = rows.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_customers}</p> }.into_any());
        }
        let body = list
            .into_iter()
            .map(|c| {
                let dash = || t().none.to_string();
                view! {
                    <tr>
                        <td>{c.name.clone().unwrap_or_else(dash)}</td>
                        <td>{c.email.clone().unwrap_or_else(dash)}</td>
                        <td>{c.phone.clone().unwrap_or_else(dash)}</td>
                        <td>{format::date_time(c.created)}</td>
                        <td class="mono">{c.id.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <table class="list" id="customers">
                <thead><tr><th scope="col">{t().name}</th><th scope="col">{t().email}</th><th scope="col">{t().phone}</th>
                    <th scope="col">{t().created}</th><th scope="col">"ID"</th></tr></thead>
                <tbody>{body}</tbody>
            </table>
        }.into_any())
    };
    view! {
        <section>
            <h1>{t().customers}</h1>
            {move || rows.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {table}
            <Show when=move || has_more.get()>
                <button type="button" class="quiet" on:click=move |_| load(true)>{t().more}</button>
            </Show>
        </section>
    }
}
