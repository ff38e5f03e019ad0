//! Disputes (chargebacks): what the gateway reported, what each took from the balance, and
//! the merchant's answer. A dispute that needs a response can be answered once with evidence
//! (text and up to three PDF, PNG or JPEG files, read in the browser and sent as base64) or
//! accepted; what was submitted stays readable, files included.

use crate::api;
use crate::app::{Dashboard, Page};
use crate::format;
use crate::strings::t;
use base64::Engine as _;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::api::List;
use till_core::dispute::{Dispute, DisputeStatus, EvidenceSummary, MAX_FILES};
use wasm_bindgen::JsCast;

#[component]
pub fn Disputes() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let disputes = RwSignal::new(None::<Vec<Dispute>>);
    let reload = move || {
        spawn_local(async move {
            match api::get::<List<Dispute>>("/v1/disputes?limit=100").await {
                Ok(list) => disputes.set(Some(list.data)),
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    reload();
    let rows = move || {
        let list = disputes.get()?;
        if list.is_empty() {
            return Some(view! { <p class="empty">{t().no_disputes}</p> }.into_any());
        }
        let items = list
            .into_iter()
            .map(|d| view! { <DisputeItem dispute=d reload=Callback::new(move |()| reload()) /> })
            .collect_view();
        Some(view! { <ul class="disputes">{items}</ul> }.into_any())
    };
    view! {
        <section class="disputes-page">
            <h1>{t().disputes}</h1>
            <p class="hint">{t().disputes_hint}</p>
            {move || disputes.get().is_none().then(|| view! { <p class="status">{t().loading}</p> })}
            {rows}
        </section>
    }
}

/// A status as people read it.
pub fn status_label(status: DisputeStatus) -> &'static str {
    match status {
        DisputeStatus::NeedsResponse => t().dispute_needs_response,
        DisputeStatus::UnderReview => t().dispute_under_review,
        DisputeStatus::Won => t().dispute_won,
        DisputeStatus::Lost => t().dispute_lost,
    }
}

#[component]
fn DisputeItem(dispute: Dispute, reload: Callback<()>) -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let answering = RwSignal::new(false);
    let open = dispute.status == DisputeStatus::NeedsResponse;
    let id = dispute.id.clone();
    let accept = {
        let id = id.clone();
        move |_| {
            let confirmed = web_sys::window()
                .and_then(|w| w.confirm_with_message(t().accept_dispute_confirm).ok())
                .unwrap_or(false);
            if !confirmed {
                return;
            }
            let path = format!("/v1/disputes/{}/close", api::encode(&id));
            spawn_local(async move {
                let key = api::new_key();
                match dashboard
                    .send::<Dispute, _>("POST", &path, &json!({}), Some(&key))
                    .await
                {
                    Ok(_) => {
                        dashboard.tell(t().dispute_accepted);
                        reload.run(());
                    }
                    Err(error) => dashboard.fail(&error),
                }
            });
        }
    };
    let evidence = dispute.evidence.clone();
    view! {
        <li class="dispute" data-id=dispute.id.clone()>
            <p>
                <strong>{format::money(dispute.amount, dispute.currency)}</strong>" · "
                <span class=format!("badge {}", dispute.status.as_str())>{status_label(dispute.status)}</span>" · "
                {dispute.reason.as_str().replace('_', " ")}" · "
                <a href=Page::Payment(dispute.payment.clone()).href()>{dispute.payment.clone()}</a>
            </p>
            <p class="meta">
                {t().dispute_fee}": "{format::money(dispute.fee, dispute.fee_currency)}" · "
                {t().created}": "{format::date_time(dispute.created)}
                {open.then(|| view! { " · "<strong>{t().evidence_due}": "{format::date_time(dispute.evidence_due_by)}</strong> })}
            </p>
            {evidence.map(|e| view! { <Submitted evidence=e /> })}
            <Show when=move || open && dashboard.may_change() && !answering.get()>
                <div class="actions">
                    <button type="button" class="answer" on:click=move |_| answering.set(true)>{t().answer_dispute}</button>
                    <button type="button" class="quiet accept" on:click=accept.clone()>{t().accept_dispute}</button>
                </div>
            </Show>
            <Show when=move || answering.get()>
                <EvidenceForm id=id.clone() reload=reload cancel=Callback::new(move |()| answering.set(false)) />
            </Show>
        </li>
    }
}

/// What the merchant submitted: the text as written, and links to the files.
#[component]
fn Submitted(evidence: EvidenceSummary) -> impl IntoView {
    let text = evidence.text;
    let fields = [
        (t().product_description, text.product_description),
        (t().customer_communication, text.customer_communication),
        (t().shipping_tracking_number, text.shipping_tracking_number),
        (t().refund_policy, text.refund_policy),
        (t().cancellation_rebuttal, text.cancellation_rebuttal),
        (t().other_evidence, text.uncategorized_text),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.map(|v| view! { <dt>{label}</dt><dd class="pre">{v}</dd> }))
    .collect_view();
    let files = evidence
        .files
        .into_iter()
        .map(|f| {
            let href = format!("/v1/dispute_files/{}", api::encode(&f.id));
            view! { <li><a href=href download=f.filename.clone()>{f.filename.clone()}</a>" ("{f.size.div_ceil(1024)}" KiB)"</li> }
        })
        .collect_view();
    view! {
        <div class="evidence">
            <p class="meta">{t().evidence_submitted}": "{format::date_time(evidence.submitted)}</p>
            <dl>{fields}</dl>
            <ul class="files">{files}</ul>
        </div>
    }
}

/// The files chosen in `input`, each as the API takes it (name, type, base64).
async fn chosen_files(input: &web_sys::HtmlInputElement) -> Result<Vec<serde_json::Value>, ()> {
    let Some(list) = input.files() else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for index in 0..list.length() {
        let Some(file) = list.item(index) else {
            continue;
        };
        let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
            .await
            .map_err(|_| ())?;
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        files.push(json!({
            "filename": file.name(),
            "content_type": file.type_(),
            "data": base64::engine::general_purpose::STANDARD.encode(bytes),
        }));
    }
    Ok(files)
}

#[component]
fn EvidenceForm(id: String, reload: Callback<()>, cancel: Callback<()>) -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let product = RwSignal::new(String::new());
    let communication = RwSignal::new(String::new());
    let tracking = RwSignal::new(String::new());
    let policy = RwSignal::new(String::new());
    let rebuttal = RwSignal::new(String::new());
    let other = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let file_input = NodeRef::<html::Input>::new();
    // One key per form: a double click or a retry after a lost answer is the same submission.
    let key = api::new_key();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        let path = format!("/v1/disputes/{}/evidence", api::encode(&id));
        let key = key.clone();
        let input: Option<web_sys::HtmlInputElement> =
            file_input.get_untracked().map(|i| i.unchecked_into());
        spawn_local(async move {
            let files = match &input {
                Some(input) => chosen_files(input).await,
                None => Ok(Vec::new()),
            };
            let Ok(files) = files else {
                sending.set(false);
                dashboard.tell(t().file_unreadable);
                return;
            };
            let text = |signal: RwSignal<String>| {
                let value = signal.get_untracked();
                (!value.trim().is_empty()).then_some(value)
            };
            let body = json!({
                "text": {
                    "product_description": text(product),
                    "customer_communication": text(communication),
                    "shipping_tracking_number": text(tracking),
                    "refund_policy": text(policy),
                    "cancellation_rebuttal": text(rebuttal),
                    "uncategorized_text": text(other),
                },
                "files": files,
            });
            match dashboard
                .send::<Dispute, _>("POST", &path, &body, Some(&key))
                .await
            {
                Ok(_) => {
                    dashboard.tell(t().evidence_sent);
                    reload.run(());
                }
                Err(error) => dashboard.fail(&error),
            }
            sending.set(false);
        });
    };
    let area = |label: &'static str, name: &'static str, value: RwSignal<String>| {
        view! {
            <label for=name>{label}</label>
            <textarea id=name name=name maxlength="5000" rows="3"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
        }
    };
    view! {
        <form class="evidence-form" on:submit=submit>
            <p class="hint">{t().evidence_hint}</p>
            {area(t().product_description, "product_description", product)}
            {area(t().customer_communication, "customer_communication", communication)}
            <label for="shipping_tracking_number">{t().shipping_tracking_number}</label>
            <input id="shipping_tracking_number" maxlength="100"
                prop:value=move || tracking.get() on:input=move |ev| tracking.set(event_target_value(&ev)) />
            {area(t().refund_policy, "refund_policy", policy)}
            {area(t().cancellation_rebuttal, "cancellation_rebuttal", rebuttal)}
            {area(t().other_evidence, "uncategorized_text", other)}
            <label for="evidence_files">{t().evidence_files(MAX_FILES)}</label>
            <input id="evidence_files" type="file" multiple accept="application/pdf,image/png,image/jpeg" node_ref=file_input />
            <div class="actions">
                <button type="submit" id="send-evidence" disabled=move || sending.get()>{t().send_evidence}</button>
                <button type="button" class="quiet" on:click=move |_| cancel.run(())>{t().cancel}</button>
            </div>
        </form>
    }
}
