//! Payments: a searchable list (status, card last 4, reference), and one payment with its
//! timeline and the actions its state allows — refund, capture, cancel.

use crate::api;
use crate::app::{Dashboard, Page};
use crate::strings::t;
use crate::{disputes, format};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::api::{List, Payment};
use till_core::dispute::Dispute;
use till_core::money::Money;
use till_core::payment::{PaymentStatus, ALL_STATUSES};
use till_core::risk::ReviewStatus;
use till_core::timeline::TimelineEntry;

/// The list's query from the filters (empty ones left out).
fn query(status: &str, last4: &str, reference: &str, after: Option<&str>) -> String {
    let mut pairs = vec![("limit", "25".to_string())];
    for (name, value) in [
        ("status", status),
        ("last4", last4.trim()),
        ("merchant_reference", reference.trim()),
    ] {
        if !value.is_empty() {
            pairs.push((name, api::encode(value)));
        }
    }
    if let Some(after) = after {
        pairs.push(("starting_after", api::encode(after)));
    }
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("/v1/payments?{}", joined.join("&"))
}

#[component]
pub fn Payments() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let (status, last4, reference) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let rows = RwSignal::new(Vec::<Payment>::new());
    let has_more = RwSignal::new(false);
    let loaded = RwSignal::new(false);
    let load = move |more: bool| {
        let after = more
            .then(|| rows.get_untracked().last().map(|p| p.id.clone()))
            .flatten();
        let path = query(
            &status.get_untracked(),
            &last4.get_untracked(),
            &reference.get_untracked(),
            after.as_deref(),
        );
        spawn_local(async move {
            match api::get::<List<Payment>>(&path).await {
                Ok(page) => {
                    has_more.set(page.has_more);
                    if more {
                        rows.update(|r| r.extend(page.data));
                    } else {
                        rows.set(page.data);
                    }
                    dashboard.notice.set(None);
                }
                Err(error) => dashboard.fail(&error),
            }
            loaded.set(true);
        });
    };
    load(false);
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        load(false);
    };
    let statuses = ALL_STATUSES
        .iter()
        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
        .collect_view();
    let table = move || {
        let data = rows.get();
        if loaded.get() && data.is_empty() {
            return view! { <p class="empty">{t().no_payments}</p> }.into_any();
        }
        let body = data
            .into_iter()
            .map(|p| {
                let href = Page::Payment(p.id.clone()).href();
                view! {
                    <tr>
                        <td><a href=href>{format::money(p.amount, p.currency)}</a></td>
                        <td><span class=format!("badge {}", p.status.as_str())>{p.status.as_str()}</span></td>
                        <td class="card">{p.paid_with()}</td>
                        <td>{format::date_time(p.created)}</td>
                        <td class="mono">{p.id.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="list" id="payments">
                <thead><tr>
                    <th scope="col">{t().amount}</th><th scope="col">{t().status}</th>
                    <th scope="col">{t().card}</th><th scope="col">{t().created}</th><th scope="col">"ID"</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        }.into_any()
    };
    view! {
        <section>
            <h1>{t().payments}</h1>
            <form class="filters" role="search" on:submit=search>
                <div class="field">
                    <label for="last4">{t().last4}</label>
                    <input id="last4" inputmode="numeric" maxlength="4" prop:value=move || last4.get()
                        on:input=move |ev| last4.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="status">{t().status}</label>
                    <select id="status" on:change=move |ev| status.set(event_target_value(&ev))>
                        <option value="">{t().any_status}</option>
                        {statuses}
                    </select>
                </div>
                <div class="field">
                    <label for="reference">{t().reference}</label>
                    <input id="reference" prop:value=move || reference.get()
                        on:input=move |ev| reference.set(event_target_value(&ev)) />
                </div>
                <button type="submit">{t().search}</button>
            </form>
            {table}
            <Show when=move || has_more.get()>
                <button type="button" class="quiet" on:click=move |_| load(true)>{t().more}</button>
            </Show>
        </section>
    }
}

#[component]
pub fn PaymentDetail(id: String) -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let payment = RwSignal::new(None::<Payment>);
    let timeline = RwSignal::new(Vec::<TimelineEntry>::new());
    let dispute = RwSignal::new(None::<Dispute>);
    let reload = {
        let id = id.clone();
        move || {
            let id = id.clone();
            spawn_local(async move {
                let path = format!("/v1/payments/{}", api::encode(&id));
                match api::get::<Payment>(&path).await {
                    Ok(found) => payment.set(Some(found)),
                    Err(error) => return dashboard.fail(&error),
                }
                if let Ok(list) = api::get::<List<TimelineEntry>>(&format!("{path}/timeline")).await
                {
                    timeline.set(list.data);
                }
                let disputes = format!("/v1/disputes?payment={}", api::encode(&id));
                if let Ok(list) = api::get::<List<Dispute>>(&disputes).await {
                    dispute.set(list.data.into_iter().next());
                }
            });
        }
    };
    reload();
    let details = move || {
        let p = payment.get()?;
        Some(view! {
            <h1>{t().payment}" "{format::money(p.amount, p.currency)}
                " "<span class=format!("badge {}", p.status.as_str()) id="payment-status">{p.status.as_str()}</span></h1>
            <dl class="details">
                <dt>"ID"</dt><dd class="mono">{p.id.clone()}</dd>
                <dt>{t().card}</dt><dd>{p.paid_with()}</dd>
                <dt>{t().captured}</dt><dd id="captured">{format::money(p.amount_captured, p.currency)}</dd>
                <dt>{t().refunded}</dt><dd id="refunded">{format::money(p.amount_refunded, p.currency)}</dd>
                {p.conversion.clone().map(|c| {
                    let settlement = c.settlement.currency;
                    let rate = format!(
                        "1 {} = {} {} + {} bps",
                        settlement.code(),
                        c.rate,
                        p.currency.code(),
                        c.markup_bps
                    );
                    view! {
                        <dt>{t().settled_as}</dt>
                        <dd id="settlement">{format::money(c.settlement.amount, settlement)}" · "{rate}</dd>
                        <dt>{t().settled_refunded}</dt>
                        <dd>{format::money(p.settlement_refunded.unwrap_or(0), settlement)}</dd>
                    }
                })}
                <dt>{t().customer}</dt><dd class="mono">{p.customer.clone().unwrap_or_else(|| t().none.into())}</dd>
                <dt>{t().created}</dt><dd>{format::date_time(p.created)}</dd>
                {p.risk.clone().map(|r| view! {
                    <dt>{t().risk_score}</dt>
                    <dd id="risk">{r.score}" · "{r.level}" "{r.rules.join(" · ")}</dd>
                })}
                {p.review.map(|review| view! {
                    <dt>{t().review}</dt><dd id="review">{review.as_str()}</dd>
                })}
                {dispute.get().map(|d| view! {
                    <dt>{t().dispute}</dt>
                    <dd id="dispute"><a href=Page::Disputes.href()>{disputes::status_label(d.status)}</a>
                        " · "{format::money(d.amount, d.currency)}</dd>
                })}
            </dl>
        })
    };
    let entries = move || {
        timeline
            .get()
            .into_iter()
            .map(|e| {
                let amount = e
                    .amount
                    .zip(payment.get().map(|p| p.currency))
                    .map(|(a, c)| format::money(a, c));
                view! {
                    <li><time>{format::date_time(e.at)}</time>" "<strong>{e.kind.clone()}</strong>
                        " "{amount}" "{e.delivery_status.clone()}</li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="payment">
            <p><a href=Page::Payments.href()>"← "{t().back}</a></p>
            {details}
            <Show when=move || dashboard.may_change()
                fallback=|| view! { <p class="hint">{t().read_only}</p> }>
                <Actions payment=payment disputed=Signal::derive(move || dispute.get().is_some()) reload=reload.clone() />
            </Show>
            <h2>{t().timeline}</h2>
            <ol class="timeline" id="timeline">{entries}</ol>
        </section>
    }
}

/// Refund, capture and cancel, as the payment's state allows.
#[component]
fn Actions<F: Fn() + Clone + Send + Sync + 'static>(
    payment: RwSignal<Option<Payment>>,
    /// A disputed payment cannot be refunded: the network took the money back.
    disputed: Signal<bool>,
    reload: F,
) -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let amount = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let refundable = move || {
        payment
            .get()
            .filter(|p| p.status == PaymentStatus::Succeeded && !disputed.get())
            .map(|p| p.amount_captured - p.amount_refunded)
            .filter(|left| *left > 0)
    };
    let act = {
        let reload = reload.clone();
        move |path: String, body: serde_json::Value, done: &'static str| {
            let reload = reload.clone();
            busy.set(true);
            spawn_local(async move {
                let key = api::new_key();
                let result = dashboard
                    .send::<serde_json::Value, _>("POST", &path, &body, Some(&key))
                    .await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        dashboard.tell(done);
                        amount.set(String::new());
                        reload();
                    }
                    Err(error) => dashboard.fail(&error),
                }
            });
        }
    };
    let refund = {
        let act = act.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(p) = payment.get_untracked() else {
                return;
            };
            let typed = amount.get_untracked();
            let minor = if typed.trim().is_empty() {
                None
            } else {
                match Money::from_decimal_str(typed.trim(), p.currency) {
                    Some(money) if money.amount > 0 => Some(money.amount),
                    _ => return dashboard.tell(t().amount_invalid),
                }
            };
            let mut body = json!({ "payment": p.id });
            if let Some(minor) = minor {
                body["amount"] = json!(minor);
            }
            act("/v1/refunds".into(), body, t().refund_done);
        }
    };
    let capture = {
        let act = act.clone();
        move |_| {
            if let Some(p) = payment.get_untracked() {
                act(
                    format!("/v1/payments/{}/capture", p.id),
                    json!({}),
                    t().captured_done,
                );
            }
        }
    };
    let cancel = move |_: leptos::ev::MouseEvent| {
        if let Some(p) = payment.get_untracked() {
            act(
                format!("/v1/payments/{}/cancel", p.id),
                json!({}),
                t().canceled_done,
            );
        }
    };
    let held = move || {
        payment
            .get()
            .is_some_and(|p| p.review == Some(ReviewStatus::Open))
    };
    let awaiting_capture = move || {
        payment
            .get()
            .is_some_and(|p| p.status == PaymentStatus::RequiresCapture)
            && !held()
    };
    view! {
        <div class="actions">
            <Show when=move || refundable().is_some()>
                <form class="refund" on:submit=refund.clone()>
                    <label for="refund-amount">{t().refund_amount}</label>
                    <input id="refund-amount" inputmode="decimal"
                        placeholder=move || refundable().zip(payment.get()).map(|(left, p)| format::money(left, p.currency))
                        prop:value=move || amount.get() on:input=move |ev| amount.set(event_target_value(&ev)) />
                    <button type="submit" id="refund" disabled=move || busy.get()>{t().refund}</button>
                </form>
            </Show>
            <Show when=held>
                <p class="hint">{t().held_for_review}" "<a href=Page::Risk.href()>{t().risk}</a></p>
            </Show>
            <Show when=awaiting_capture>
                <button type="button" id="capture" disabled=move || busy.get() on:click=capture.clone()>{t().capture}</button>
                <button type="button" id="cancel" class="quiet" disabled=move || busy.get() on:click=cancel.clone()>{t().cancel_payment}</button>
            </Show>
        </div>
    }
}
