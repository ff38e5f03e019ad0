//! Reconciliation runs — Till's records against the gateway's settlement file — with what each
//! found.

use crate::api;
use crate::app::Dashboard;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use till_core::reconciliation::Finding;

#[derive(Clone, Deserialize)]
struct Run {
    id: String,
    date: String,
    settlement_lines: i64,
    till_records: i64,
    findings: Vec<Finding>,
    #[serde(default)]
    error: Option<String>,
    created: i64,
}

#[derive(Clone, Deserialize)]
struct Runs {
    data: Vec<Run>,
}

#[component]
pub fn Reconciliation() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let runs = RwSignal::new(None::<Vec<Run>>);
    spawn_local(async move {
        match api::get::<Runs>("/v1/reconciliation/runs").await {
            Ok(list) => runs.set(Some(list.data)),
            Err(error) => dashboard.fail(&error),
        }
    });
    let items = move || {
        let list = runs.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_runs}</p> }.into_any());
        }
        let items = list
            .into_iter()
            .map(|run| {
                let findings = run
                    .findings
                    .iter()
                    .map(|f| {
                        let kind = serde_json::to_value(f.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        view! { <li><strong>{kind}</strong>" "<span class="mono">{f.reference.clone()}</span>" — "{f.detail.clone()}</li> }
                    })
                    .collect_view();
                let clean = run.findings.is_empty() && run.error.is_none();
                view! {
                    <li class="request" data-id=run.id.clone()>
                        <p><strong>{run.date.clone()}</strong>" · "{run.settlement_lines}" "{t().settlement_lines}
                            " · "{run.till_records}" "{t().till_records}" · "
                            <span class=if clean { "badge succeeded" } else { "badge failed" }>
                                {if clean { t().matched.to_string() } else { format!("{} {}", run.findings.len(), t().findings) }}
                            </span></p>
                        {run.error.clone().map(|e| view! { <p class="error">{e}</p> })}
                        <ul>{findings}</ul>
                        <p class="meta">{format::date_time(run.created)}</p>
                    </li>
                }
            })
            .collect_view();
        Some(view! { <ul class="requests" id="runs">{items}</ul> }.into_any())
    };
    view! {
        <section>
            <h1>{t().reconciliation}</h1>
            {move || runs.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {items}
        </section>
    }
}
