//! The customer's orders with this shop: what they bought, whether it is paid or refunded, and
//! a request for a refund or a return, which the shop approves or declines.

use super::history::local_time;
use super::wallet_api::{OrderView, RequestView};
use super::{strings, strings::t, Page};
use crate::card_field::{CardField, Field};
use crate::locale::format_amount;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::money::Money;

#[component]
pub fn Orders() -> impl IntoView {
    let page = expect_context::<Page>();
    let orders = RwSignal::new(None::<Vec<OrderView>>);
    let load = {
        let page = page.clone();
        move || {
            let page = page.clone();
            spawn_local(async move {
                match page.api.orders().await {
                    Ok(list) => orders.set(Some(list.data)),
                    Err(error) => page.notice.set(Some(t().error(&error))),
                }
            });
        }
    };
    load();
    let list = move || match orders.get() {
        None => view! { <p class="status">{t().loading}</p> }.into_any(),
        Some(list) if list.is_empty() => view! { <p class="empty">{t().no_orders}</p> }.into_any(),
        Some(list) => {
            let items = list
                .into_iter()
                .map(|order| view! { <OrderItem order=order reload=load.clone() /> })
                .collect_view();
            view! { <ul class="orders">{items}</ul> }.into_any()
        }
    };
    view! { <div>{list}</div> }
}

#[component]
fn OrderItem(order: OrderView, reload: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let total = format_amount(
        &Money {
            amount: order.amount,
            currency: order.currency,
        },
        &strings::locale(),
    );
    let what = order
        .line_items
        .iter()
        .map(|line| format!("{} × {}", line.name, line.quantity))
        .collect::<Vec<_>>()
        .join(", ");
    let title = order
        .merchant_reference
        .clone()
        .unwrap_or_else(|| local_time(order.created, true));
    let status = t().order_status(&order.status, order.amount_refunded, order.amount);
    let can_ask = order.status == "succeeded"
        && order.refundable > 0
        && order.request.as_ref().is_none_or(|r| r.status != "open");
    let request = order.request.clone().map(|r: RequestView| {
        let text = match (&r.status[..], r.decline_reason) {
            ("declined", Some(reason)) => format!("{}: {reason}", t().request_status(&r.status)),
            _ => t().request_status(&r.status).to_string(),
        };
        view! { <p class=format!("request {}", r.status)>{text}</p> }
    });
    let asking = RwSignal::new(false);
    let id = order.id.clone();
    view! {
        <li id=order.id.clone()>
            <span class="what">{title}</span>
            <span class="how-much">{total}</span>
            <span class="items">{what}</span>
            <span class="order-status">{status}</span>
            {request}
            <Show when=move || can_ask && !asking.get()>
                <button type="button" class="secondary ask" on:click=move |_| asking.set(true)>
                    {t().ask_refund}
                </button>
            </Show>
            <Show when=move || asking.get()>
                <RequestForm payment=id.clone() asking=asking reload=reload.clone() />
            </Show>
        </li>
    }
}

/// Refund or return, and why: one radio group and one text field.
#[component]
fn RequestForm(
    payment: String,
    asking: RwSignal<bool>,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let page = expect_context::<Page>();
    let kind = RwSignal::new("refund");
    let reason = Field::new();
    let error = RwSignal::new(None::<String>);
    let send = {
        let page = page.clone();
        Action::new_local(
            move |(payment, kind, reason): &(String, &'static str, String)| {
                let (page, payment, kind, reason, reload) = (
                    page.clone(),
                    payment.clone(),
                    *kind,
                    reason.clone(),
                    reload.clone(),
                );
                async move {
                    match page.api.request_refund(&payment, kind, &reason).await {
                        Ok(_) => {
                            page.notice.set(Some(t().request_sent.into()));
                            asking.set(false);
                            reload();
                        }
                        Err(failure) => error.set(Some(t().error(&failure))),
                    }
                }
            },
        )
    };
    let pending = send.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = reason.value.get_untracked().trim().to_string();
        reason.error.set(if text.is_empty() {
            t().reason_required.to_string()
        } else {
            String::new()
        });
        if !text.is_empty() {
            send.dispatch((payment.clone(), kind.get_untracked(), text));
        }
    };
    let choice = move |value: &'static str, label: &'static str| {
        view! {
            <label class="choice">
                <input type="radio" name="kind" value=value
                    prop:checked=move || kind.get() == value
                    on:change=move |_| kind.set(value) />
                {label}
            </label>
        }
    };
    view! {
        <form class="request" on:submit=submit novalidate>
            <fieldset>
                <legend>{t().kind_label}</legend>
                {choice("refund", t().kind_refund)}
                {choice("return", t().kind_return)}
            </fieldset>
            <CardField id="request-reason" label=t().reason name="reason" autocomplete="off"
                maxlength=Signal::derive(|| "500".to_string()) field=reason
                on_input=move |text: String| {
                    reason.error.set(String::new());
                    reason.value.set(text);
                } />
            <p class="error form-error" role="alert">{move || error.get()}</p>
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { t().sending_request } else { t().send_request }}
            </button>
        </form>
    }
}
