//! Paying from a bank account: the customer chooses their bank, and the widget sends them to it
//! to sign in and approve. Inside a merchant's page the bank opens in a popup (a bank's pages
//! cannot be framed, and the shop stays where it is); on a full page (hosted checkout, mobile
//! webview) the page itself goes to the bank, and Till's return page brings it back here. The
//! bank list is asked for only when this method is chosen.

use crate::api::{Bank, Session};
use crate::attempt::{self, Attempt};
use crate::checkout::{Checkout, PayResult};
use crate::i18n;
use crate::launch::{self, Mode};
use crate::lazy::{door, SplitLoaderError};
use crate::locale::amount_text;
use crate::stage::Stage;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The popup's name: a second Pay reuses the same window.
pub const POPUP_NAME: &str = "till-bank";
const POPUP_FEATURES: &str = "popup,width=480,height=720";

/// Opens (or reuses) the bank's window; must run inside the customer's click.
pub fn open_popup(url: &str) -> Option<web_sys::Window> {
    web_sys::window()?
        .open_with_url_and_target_and_features(url, POPUP_NAME, POPUP_FEATURES)
        .ok()
        .flatten()
}

/// Sends this page to the bank, remembering where to come back to for Till's return page on
/// this origin (without storage it falls back to the merchant's `return_url`).
pub fn leave_for_bank(url: &str, payment_id: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let (Ok(Some(storage)), Ok(here)) = (window.local_storage(), window.location().href()) {
        let _ = storage.set_item(&format!("till:bank_return:{payment_id}"), &here);
    }
    let _ = window.location().set_href(url);
}

/// The attempt for `bank`: the one kept for this session when it was for the same bank (a
/// retry must not make a second payment), else a new one.
fn bank_attempt(session_id: &str, bank: &str) -> Option<Attempt> {
    if let Some(kept) = attempt::load(session_id).filter(|a| a.bank.as_deref() == Some(bank)) {
        return Some(kept);
    }
    let fresh = Attempt {
        idempotency_key: attempt::new_key()?,
        token: String::new(),
        saved_card: false,
        save: false,
        encrypted_cvc: None,
        bank: Some(bank.to_string()),
        wallet_amount: None,
    };
    attempt::save(session_id, &fresh);
    Some(fresh)
}

/// Confirms the attempt and goes where it leads: the bank (popup or this page), or the reason
/// on the form.
async fn go_to_bank(
    checkout: Checkout,
    attempt: Attempt,
    popup: Option<web_sys::Window>,
    full_page: bool,
    stage: RwSignal<Stage>,
    form_error: RwSignal<String>,
) {
    let session_id = checkout.session.id.clone();
    let close_popup = || {
        if let Some(popup) = &popup {
            let _ = popup.close();
        }
    };
    match checkout.confirm(&attempt).await {
        PayResult::Redirect(payment) => {
            let url = payment
                .next_action
                .as_ref()
                .and_then(|action| action.url.clone())
                .unwrap_or_default();
            if full_page {
                leave_for_bank(&url, &payment.id);
            } else if let Some(popup) = &popup {
                let _ = popup.location().set_href(&url);
            }
            stage.set(Stage::BankWaiting(checkout.session, payment));
        }
        // A retry of an attempt the bank already settled.
        PayResult::Paid(payment) => {
            close_popup();
            attempt::clear(&session_id);
            stage.set(Stage::Paid(checkout.session, payment));
        }
        PayResult::Challenge(payment) => {
            close_popup();
            stage.set(Stage::BankWaiting(checkout.session, payment));
        }
        // Not answered yet: the attempt is kept, so Pay again asks for the same payment.
        PayResult::Pending(message) => {
            close_popup();
            form_error.set(format!("{message} {}", i18n::t().retry_hint));
        }
        PayResult::Declined(message) => {
            close_popup();
            attempt::clear(&session_id);
            form_error.set(message);
        }
        PayResult::Failed(error) => {
            close_popup();
            attempt::clear(&session_id);
            form_error.set(error.message());
        }
    }
}

door! { bank;
    /// The door to the bank's form, in the `bank` chunk: a card checkout never downloads it.
    pub fn bank_form(
        session: Session,
        notice: Option<String>,
        stage: RwSignal<Stage>,
    ) -> Result<AnyView, SplitLoaderError> {
        Ok(view! { <BankForm session=session notice=notice stage=stage /> }.into_any())
    }
}

#[component]
fn BankForm(session: Session, notice: Option<String>, stage: RwSignal<Stage>) -> impl IntoView {
    let t = i18n::t();
    let amount = amount_text(&session);
    let form_error = RwSignal::new(notice.unwrap_or_default());
    let banks = RwSignal::new(None::<Vec<Bank>>);
    let chosen = RwSignal::new(None::<String>);
    let launch = launch::current();
    let full_page = launch.is_none_or(|l| l.mode != Mode::Embedded);
    let checkout = launch.map(|launch| Checkout {
        edge: launch.edge(),
        session,
        client_secret: launch.client_secret.clone(),
        wallet_amount: None,
    });
    // The list is asked for now, when the customer chose to pay from a bank.
    if let Some(checkout) = checkout.clone() {
        spawn_local(async move {
            let listed = checkout
                .edge
                .banks(&checkout.session.id, &checkout.client_secret)
                .await;
            match listed {
                Ok(list) => {
                    chosen.set(list.first().map(|bank| bank.id.clone()));
                    banks.set(Some(list));
                }
                Err(error) => {
                    banks.set(Some(Vec::new()));
                    form_error.set(error.message());
                }
            }
        });
    }
    // A plain task rather than an `Action`: each `Action` type costs the widget its own code.
    let paying = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if paying.get_untracked() {
            return;
        }
        form_error.set(String::new());
        let (Some(checkout), Some(bank)) = (checkout.clone(), chosen.get_untracked()) else {
            return;
        };
        let Some(attempt) = bank_attempt(&checkout.session.id, &bank) else {
            form_error.set(i18n::t().no_payment_key.into());
            return;
        };
        // Browsers open popups only inside the click: the window opens now and is sent to the
        // bank once the bank made the payment.
        let popup = if full_page {
            None
        } else {
            open_popup("about:blank")
        };
        paying.set(true);
        spawn_local(async move {
            go_to_bank(checkout, attempt, popup, full_page, stage, form_error).await;
            // The form may be gone (the stage moved on): then there is nothing to release.
            paying.try_set(false);
        });
    };
    let choose = move |bank: String| {
        chosen.set(Some(bank));
    };
    let pay_label = (t.pay_at_bank)(&amount);
    view! {
        <form class="bank-form" on:submit=submit novalidate>
            <p class="total">{t.total} " " <strong>{amount}</strong></p>
            <fieldset class="banks">
                <legend>{t.choose_bank}</legend>
                {move || match banks.get() {
                    None => view! { <p class="status" aria-live="polite">{t.loading_banks}</p> }.into_any(),
                    Some(list) if list.is_empty() => view! { <p class="error">{t.no_banks}</p> }.into_any(),
                    Some(list) => list.into_iter().map(|bank| {
                        let id = bank.id.clone();
                        let is_chosen = {
                            let id = id.clone();
                            move || chosen.get().as_deref() == Some(id.as_str())
                        };
                        view! {
                            <label class="bank-option">
                                <input type="radio" name="bank" value=id.clone() prop:checked=is_chosen
                                    on:change=move |_| choose(id.clone()) />
                                <span>{bank.name}</span>
                            </label>
                        }
                    }).collect_view().into_any(),
                }}
            </fieldset>
            <p id="form-error" class="error form-error" role="alert">{move || form_error.get()}</p>
            <button id="pay" type="submit" disabled=move || paying.get() || chosen.get().is_none()
                aria-busy=move || paying.get().to_string()>
                {move || if paying.get() { t.to_bank.to_string() } else { pay_label.clone() }}
            </button>
            <p class="secure">{t.bank_note}</p>
        </form>
    }
}
