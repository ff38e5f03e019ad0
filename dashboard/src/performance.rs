//! How the merchant's own requests fare at the edge, per route: p50 and p99 latency and the
//! rate of Till's errors over a chosen window (`GET /v1/metrics/routes`).

use crate::api;
use crate::app::Dashboard;
use crate::charts::RankedBars;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::metrics::RouteMetrics;

const WINDOWS: [(u32, &str); 3] = [(15, "15 min"), (60, "1 h"), (1440, "24 h")];

#[component]
pub fn Performance() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let metrics = RwSignal::new(None::<RouteMetrics>);
    let minutes = RwSignal::new(60u32);
    let load = move || {
        let path = format!("/v1/metrics/routes?minutes={}", minutes.get_untracked());
        spawn_local(async move {
            match api::get::<RouteMetrics>(&path).await {
                Ok(found) => metrics.set(Some(found)),
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    load();
    let windows = WINDOWS
        .iter()
        .map(|(value, label)| {
            let value = *value;
            view! {
                <button type="button" class="quiet" aria-pressed=move || (minutes.get() == value).to_string()
                    on:click=move |_| { minutes.set(value); load(); }>{*label}</button>
            }
        })
        .collect_view();
    let body = move || {
        let found = metrics.get()?;
        if found.routes.is_empty() {
            return Some(view! { <p class="empty">{t().no_requests_seen}</p> }.into_any());
        }
        let slowest: Vec<(String, i64)> = found
            .routes
            .iter()
            .map(|r| (r.route.clone(), r.p99_ms))
            .collect();
        let rows = found
            .routes
            .into_iter()
            .map(|r| {
                view! {
                    <tr data-route=r.route.clone()>
                        <td class="mono">{r.route.clone()}</td>
                        <td>{r.requests}</td>
                        <td>{format::percent(r.error_rate_bps)}</td>
                        <td>{r.p50_ms}" ms"</td>
                        <td>{r.p99_ms}" ms"</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <table class="list" id="routes">
                <thead><tr><th scope="col">{t().route}</th><th scope="col">{t().requests}</th><th scope="col">{t().error_rate}</th>
                    <th scope="col">"p50"</th><th scope="col">"p99"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <RankedBars id="p99-chart" title=t().p99_by_route points=slowest />
        }.into_any())
    };
    view! {
        <section>
            <h1>{t().performance}</h1>
            <div class="languages" role="group" aria-label=t().window>{windows}</div>
            {move || metrics.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {body}
        </section>
    }
}
