//! Customers' refund and return requests from the hosted pages: approving one issues the
//! refund; declining tells the customer why.

use crate::api;
use crate::app::{Dashboard, Page};
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::api::List;
use till_core::money::Currency;
use till_core::refund_request::{RefundRequestView, RequestStatus};

#[component]
pub fn RefundRequests() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let requests = RwSignal::new(None::<Vec<RefundRequestView>>);
    let reload = move || {
        spawn_local(async move {
            match api::get::<List<RefundRequestView>>("/v1/refund_requests?limit=100").await {
                Ok(list) => requests.set(Some(list.data)),
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    reload();
    let decide = move |id: String, verdict: &'static str, reason: Option<String>| {
        let path = format!("/v1/refund_requests/{id}/{verdict}");
        let body = reason.map_or_else(|| json!({}), |r| json!({ "reason": r }));
        let done = if verdict == "approve" {
            t().approved_done
        } else {
            t().declined_done
        };
        dashboard.change("POST", path, body, done, move |_| reload());
    };
    let rows = move || {
        let list = requests.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_requests}</p> }.into_any());
        }
        let items = list
            .into_iter()
            .map(|r| {
                let amount = Currency::parse(&r.currency).map(|c| format::money(r.amount, c)).unwrap_or_default();
                let open = r.status == RequestStatus::Open && dashboard.may_change();
                let reason = RwSignal::new(String::new());
                let (approve_id, decline_id) = (r.id.clone(), r.id.clone());
                view! {
                    <li class="request" data-id=r.id.clone()>
                        <p><strong>{amount}</strong>" · "{t().kind}": "{r.kind.as_str()}" · "
                            <span class="badge">{r.status.as_str()}</span>" · "
                            <a href=Page::Payment(r.payment.clone()).href()>{r.payment.clone()}</a></p>
                        <p class="reason">{t().reason}": "{r.reason.clone()}</p>
                        <p class="meta">{format::date_time(r.created)}</p>
                        <Show when=move || open>
                            <div class="actions">
                                <button type="button" class="approve" on:click={
                                    let id = approve_id.clone();
                                    move |_| decide(id.clone(), "approve", None)
                                }>{t().approve}</button>
                                <label class="inline">{t().decline_reason}
                                    <input prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) />
                                </label>
                                <button type="button" class="quiet decline" on:click={
                                    let id = decline_id.clone();
                                    move |_| {
                                        let why = reason.get_untracked();
                                        decide(id.clone(), "decline", (!why.trim().is_empty()).then_some(why))
                                    }
                                }>{t().decline}</button>
                            </div>
                        </Show>
                    </li>
                }
            })
            .collect_view();
        Some(view! { <ul class="requests">{items}</ul> }.into_any())
    };
    view! {
        <section>
            <h1>{t().refund_requests}</h1>
            {move || requests.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {rows}
        </section>
    }
}
