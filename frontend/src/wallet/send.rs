//! Send money from the wallet to a contact: a customer's phone number or email (someone not yet
//! a customer gets a claim, and the money waits for them).

use super::wallet_api::Moved;
use super::{settle, strings::t, Attempt, Page, WalletEvent};
use crate::card_field::{CardField, Field};
use crate::host;
use leptos::prelude::*;
use till_core::money::Money;

#[derive(Clone)]
struct Request {
    to: String,
    money: Money,
    note: Option<String>,
    key: String,
}

#[component]
pub fn Send() -> impl IntoView {
    let page = expect_context::<Page>();
    let to = Field::new();
    let amount = Field::new();
    let note = Field::new();
    let error = RwSignal::new(None::<String>);
    let attempt = Attempt::new();
    let send = {
        let page = page.clone();
        Action::new_local(move |request: &Request| {
            let (page, request) = (page.clone(), request.clone());
            async move {
                let result = page
                    .api
                    .transfer(&request.to, request.money, request.note, &request.key)
                    .await;
                settle(attempt, &result);
                match result {
                    Ok(Moved { id, status }) => {
                        let amount_text = page.money_text(request.money.amount);
                        let news = if status == "awaiting_claim" {
                            (t().waiting_for_sign_up)(&amount_text, &request.to)
                        } else {
                            (t().sent)(&amount_text, &request.to)
                        };
                        page.notice.set(Some(news));
                        host::tell_app(&WalletEvent {
                            event: "transfer",
                            id: &id,
                            status: &status,
                        });
                        to.value.set(String::new());
                        amount.value.set(String::new());
                        note.value.set(String::new());
                        page.reload();
                    }
                    Err(failure) => error.set(Some(t().error(&failure))),
                }
            }
        })
    };
    let pending = send.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let recipient = to.value.get_untracked().trim().to_string();
        to.error.set(if recipient.is_empty() {
            t().recipient_required.to_string()
        } else {
            String::new()
        });
        let money = page.typed_amount(&amount);
        let (Some(money), false) = (money, recipient.is_empty()) else {
            return;
        };
        let note = Some(note.value.get_untracked().trim().to_string()).filter(|n| !n.is_empty());
        let what = format!(
            "{recipient}|{}|{}",
            money.amount,
            note.clone().unwrap_or_default()
        );
        let Some(key) = attempt.key_for(what) else {
            error.set(Some(t().network_error.into()));
            return;
        };
        send.dispatch(Request {
            to: recipient,
            money,
            note,
            key,
        });
    };
    view! {
        <form on:submit=submit novalidate>
            <CardField id="send-to" label=t().recipient name="to" autocomplete="tel"
                placeholder=Signal::derive(|| t().recipient_hint.to_string()) field=to
                on_input=move |text: String| to.value.set(text) />
            <CardField id="send-amount" label=t().amount name="amount" autocomplete="off"
                inputmode="decimal" field=amount
                on_input=move |text: String| amount.value.set(text) />
            <CardField id="send-note" label=t().note name="note" autocomplete="off"
                maxlength=Signal::derive(|| "140".to_string()) field=note
                on_input=move |text: String| note.value.set(text) />
            <p class="error form-error" role="alert">{move || error.get()}</p>
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { t().sending } else { t().send_money }}
            </button>
        </form>
    }
}
