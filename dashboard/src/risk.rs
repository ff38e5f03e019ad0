//! Fraud rules and the review queue. A rule is written in Till's rule language, tried against
//! the last 30 days first (the dry run), then added; Till's defaults can be turned off. Held
//! payments wait here for the person to approve (capture) or reject (void).

use crate::api;
use crate::app::{Dashboard, Page};
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::api::{List, Payment};
use till_core::risk::{DryRun, RiskRule};

#[component]
pub fn Risk() -> impl IntoView {
    view! {
        <section class="risk">
            <h1>{t().risk}</h1>
            <Reviews />
            <Rules />
        </section>
    }
}

#[component]
fn Reviews() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let held = RwSignal::new(None::<Vec<Payment>>);
    let reload = move || {
        spawn_local(async move {
            match api::get::<List<Payment>>("/v1/reviews?limit=100").await {
                Ok(list) => held.set(Some(list.data)),
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    reload();
    let decide = move |id: String, verdict: &'static str| {
        let done = if verdict == "approve" {
            t().review_approved
        } else {
            t().review_rejected
        };
        let path = format!("/v1/reviews/{}/{verdict}", api::encode(&id));
        dashboard.change("POST", path, json!({}), done, move |_| reload());
    };
    let rows = move || {
        let list = held.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_reviews}</p> }.into_any());
        }
        let items = list
            .into_iter()
            .map(|p| {
                let (score, fired) = p
                    .risk
                    .as_ref()
                    .map(|r| (r.score, r.rules.join(" · ")))
                    .unwrap_or_default();
                let (approve_id, reject_id) = (p.id.clone(), p.id.clone());
                view! {
                    <li class="review" data-id=p.id.clone()>
                        <p><strong>{format::money(p.amount, p.currency)}</strong>" · "
                            {p.paid_with()}" · "
                            <a href=Page::Payment(p.id.clone()).href()>{p.id.clone()}</a></p>
                        <p class="reason">{t().risk_score}": "{score}" · "{fired}</p>
                        <p class="meta">{format::date_time(p.created)}</p>
                        <Show when=move || dashboard.may_change()>
                            <div class="actions">
                                <button type="button" class="approve" on:click={
                                    let id = approve_id.clone();
                                    move |_| decide(id.clone(), "approve")
                                }>{t().approve}</button>
                                <button type="button" class="quiet reject" on:click={
                                    let id = reject_id.clone();
                                    move |_| decide(id.clone(), "reject")
                                }>{t().reject}</button>
                            </div>
                        </Show>
                    </li>
                }
            })
            .collect_view();
        Some(view! { <ul class="reviews">{items}</ul> }.into_any())
    };
    view! {
        <h2>{t().review_queue}</h2>
        {move || held.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
        {rows}
    }
}

#[component]
fn Rules() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let rules = RwSignal::new(Vec::<RiskRule>::new());
    let draft = RwSignal::new(String::new());
    let tried = RwSignal::new(None::<DryRun>);
    let reload = move || {
        spawn_local(async move {
            match api::get::<List<RiskRule>>("/v1/risk/rules").await {
                Ok(list) => rules.set(list.data),
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    reload();
    let dry_run = move |_| {
        let rule = draft.get_untracked();
        spawn_local(async move {
            match dashboard
                .send::<DryRun, _>("POST", "/v1/risk/dry_runs", &json!({ "rule": rule }), None)
                .await
            {
                Ok(run) => tried.set(Some(run)),
                Err(error) => {
                    tried.set(None);
                    dashboard.fail(&error)
                }
            }
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({ "rule": draft.get_untracked() });
        dashboard.change(
            "POST",
            "/v1/risk/rules".into(),
            body,
            t().rule_added,
            move |_| {
                draft.set(String::new());
                tried.set(None);
                reload();
            },
        );
    };
    let switch = move |id: String, enabled: bool| {
        let path = format!("/v1/risk/rules/{}", api::encode(&id));
        let done = if enabled { t().rule_on } else { t().rule_off };
        dashboard.change(
            "POST",
            path,
            json!({ "enabled": enabled }),
            done,
            move |_| reload(),
        );
    };
    let delete = move |id: String| {
        let path = format!("/v1/risk/rules/{}", api::encode(&id));
        dashboard.change("DELETE", path, json!({}), t().rule_deleted, move |_| {
            reload()
        });
    };
    let rows = move || {
        rules
            .get()
            .into_iter()
            .map(|r| {
                let (switch_id, delete_id) = (r.id.clone(), r.id.clone());
                let enabled = r.enabled;
                let own = !r.default;
                view! {
                    <tr data-id=r.id.clone()>
                        <td class="mono">{r.rule.clone()}</td>
                        <td><span class=format!("badge {}", r.action)>{r.action.clone()}</span></td>
                        <td>{if r.default { t().rule_default } else { t().rule_own }}</td>
                        <td>
                            <label class="inline">
                                <input type="checkbox" prop:checked=enabled
                                    disabled=move || !dashboard.may_change()
                                    on:change=move |ev| switch(switch_id.clone(), event_target_checked(&ev)) />
                                {if enabled { t().on } else { t().off }}
                            </label>
                        </td>
                        <td>
                            <Show when=move || own && dashboard.may_change()>
                                <button type="button" class="quiet delete" on:click={
                                    let id = delete_id.clone();
                                    move |_| delete(id.clone())
                                }>{t().remove}</button>
                            </Show>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    let outcome = move || {
        tried.get().map(|run| {
            let examples = run
                .examples
                .iter()
                .map(|id| view! { <li><a href=Page::Payment(id.clone()).href()>{id.clone()}</a></li> })
                .collect_view();
            view! {
                <div class="dry-run" id="dry-run">
                    <p><strong>{t().would_hit(run.hits, run.attempts)}</strong></p>
                    <ul>{examples}</ul>
                </div>
            }
        })
    };
    view! {
        <h2>{t().rules}</h2>
        <div class="table-scroll"><table class="rules">
            <thead><tr><th>{t().rule}</th><th>{t().action}</th><th></th><th>{t().status}</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        <Show when=move || dashboard.may_change()>
            <form class="new-rule" on:submit=add>
                <label for="rule">{t().new_rule}</label>
                <input id="rule" class="mono" maxlength="500" placeholder="review if declines(card, 1h) >= 3"
                    prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) />
                <p class="hint">{t().rule_hint}</p>
                <button type="button" id="dry-run-button" class="quiet" on:click=dry_run>{t().dry_run}</button>
                <button type="submit" id="add-rule">{t().add_rule}</button>
            </form>
        </Show>
        {outcome}
    }
}
