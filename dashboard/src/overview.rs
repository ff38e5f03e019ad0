//! The overview: the last 14 days in one currency — net volume per day, the success rate per
//! day and the most frequent decline reasons — from `GET /v1/reports/summary`.

use crate::api;
use crate::app::Dashboard;
use crate::charts::{BarChart, RankedBars};
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::rc::Rc;
use till_core::money::Currency;
use till_core::reports::{Figures, Summary};
use wasm_bindgen::JsValue;

const DAYS: i64 = 14;

/// `YYYY-MM-DD` (UTC, as reports group days) of `days_ago` days before now.
fn day(days_ago: i64) -> String {
    let ms = js_sys::Date::now() - (days_ago * 86_400_000) as f64;
    let iso: String = js_sys::Date::new(&JsValue::from_f64(ms))
        .to_iso_string()
        .into();
    iso.get(..10).unwrap_or_default().to_string()
}

/// One point per day of the period, zero where the report has no group.
fn per_day(groups: &[Figures], currency: &str, value: fn(&Figures) -> i64) -> Vec<(String, i64)> {
    (0..DAYS)
        .rev()
        .map(|ago| {
            let date = day(ago);
            let found = groups
                .iter()
                .find(|g| g.key == date && g.currency == currency)
                .map_or(0, value);
            (date, found)
        })
        .collect()
}

#[component]
pub fn Overview() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let summary = RwSignal::new(None::<Summary>);
    let chosen = RwSignal::new(None::<String>);
    let path = format!(
        "/v1/reports/summary?group_by=day&from={}&to={}",
        day(DAYS - 1),
        day(0)
    );
    spawn_local(async move {
        match api::get::<Summary>(&path).await {
            Ok(found) => {
                chosen.set(found.totals.first().map(|t| t.currency.clone()));
                summary.set(Some(found));
            }
            Err(error) => dashboard.fail(&error),
        }
    });
    let currencies = move || {
        summary
            .get()
            .map(|s| s.totals.into_iter().map(|t| t.currency).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let body = move || {
        let summary = summary.get()?;
        let Some(currency_code) = chosen.get() else {
            return Some(view! { <p class="empty">{t().no_data}</p> }.into_any());
        };
        let currency = Currency::parse(&currency_code).ok()?;
        let totals = summary
            .totals
            .iter()
            .find(|f| f.currency == currency_code)?
            .clone();
        let describe_money: Rc<dyn Fn(i64) -> String> =
            Rc::new(move |amount| format::money(amount, currency));
        let volume = per_day(&summary.groups, &currency_code, |f| f.net);
        let rate = per_day(&summary.groups, &currency_code, |f| {
            f.success_rate_bps.unwrap_or(0)
        });
        let declines: Vec<(String, i64)> = totals
            .top_decline_reasons
            .iter()
            .map(|r| (r.reason.clone(), r.count))
            .collect();
        Some(view! {
            <dl class="figures">
                <div><dt>{t().net_volume}</dt><dd id="net-total">{format::money(totals.net, currency)}</dd></div>
                <div><dt>{t().payments}</dt><dd>{totals.count}" "{t().payments_in_period}</dd></div>
                <div><dt>{t().success_rate_total}</dt><dd>{totals.success_rate_bps.map(format::percent)}</dd></div>
            </dl>
            <BarChart id="volume-chart" title=t().volume points=volume describe=describe_money />
            <BarChart id="success-chart" title=t().success_rate points=rate fixed_max=10_000 describe=Rc::new(format::percent) />
            <RankedBars id="declines-chart" title=t().decline_reasons points=declines />
        }.into_any())
    };
    view! {
        <section class="overview">
            <h1>{t().overview}" · "{t().last_days}</h1>
            <label for="currency">{t().currency}</label>
            <select id="currency" on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                {move || currencies().into_iter().map(|c| {
                    let selected = chosen.get().as_deref() == Some(c.as_str());
                    view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                }).collect_view()}
            </select>
            {move || summary.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {body}
        </section>
    }
}
