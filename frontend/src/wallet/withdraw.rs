//! Withdraw from the wallet to a bank account. The money leaves the balance at once; the bank
//! pays it later (a failed or returned withdrawal puts it back, as the history shows).

use super::wallet_api::{BankDetails, Moved};
use super::{settle, strings::t, Attempt, Page, WalletEvent};
use crate::card_field::{CardField, Field};
use crate::host;
use leptos::prelude::*;
use till_core::money::Money;

#[component]
pub fn Withdraw() -> impl IntoView {
    let page = expect_context::<Page>();
    let holder = Field::new();
    let routing = Field::new();
    let account = Field::new();
    let amount = Field::new();
    let error = RwSignal::new(None::<String>);
    let attempt = Attempt::new();
    let withdraw = {
        let page = page.clone();
        Action::new_local(move |(money, key): &(Money, String)| {
            let (page, money, key) = (page.clone(), *money, key.clone());
            let details = BankDetails {
                holder_name: holder.value.get_untracked(),
                routing_number: routing.value.get_untracked(),
                account_number: account.value.get_untracked(),
            };
            async move {
                let result = page.api.payout(details, money, &key).await;
                settle(attempt, &result);
                match result {
                    Ok(Moved { id, status }) => {
                        let text = (t().withdrawal_requested)(&page.money_text(money.amount));
                        page.notice.set(Some(text));
                        host::tell_app(&WalletEvent {
                            event: "payout",
                            id: &id,
                            status: &status,
                        });
                        account.value.set(String::new());
                        amount.value.set(String::new());
                        page.reload();
                    }
                    Err(failure) => error.set(Some(t().error(&failure))),
                }
            }
        })
    };
    let pending = withdraw.pending();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let mut complete = true;
        for field in [holder, routing, account] {
            let empty = field.value.get_untracked().trim().is_empty();
            field.error.set(if empty {
                t().required.to_string()
            } else {
                String::new()
            });
            complete &= !empty;
        }
        let Some(money) = page.typed_amount(&amount).filter(|_| complete) else {
            return;
        };
        let what = format!(
            "{}|{}|{}|{}",
            holder.value.get_untracked(),
            routing.value.get_untracked(),
            account.value.get_untracked(),
            money.amount
        );
        match attempt.key_for(what) {
            Some(key) => {
                withdraw.dispatch((money, key));
            }
            None => error.set(Some(t().network_error.into())),
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <CardField id="payout-holder" label=t().holder_name name="holder" autocomplete="name"
                field=holder on_input=move |text: String| holder.value.set(text) />
            <div class="row">
                <CardField id="payout-routing" label=t().routing_number name="routing"
                    autocomplete="off" inputmode="numeric" field=routing
                    on_input=move |text: String| routing.value.set(text) />
                <CardField id="payout-account" label=t().account_number name="account"
                    autocomplete="off" inputmode="numeric" field=account
                    on_input=move |text: String| account.value.set(text) />
            </div>
            <CardField id="payout-amount" label=t().amount name="amount" autocomplete="off"
                inputmode="decimal" field=amount
                on_input=move |text: String| amount.value.set(text) />
            <p class="error form-error" role="alert">{move || error.get()}</p>
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { t().withdrawing } else { t().withdraw_money }}
            </button>
        </form>
    }
}
