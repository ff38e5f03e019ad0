//! The widget's top level: read the launch parameters, load the session, show the form, then the
//! receipt. It provides the launch parameters and the edge client to every component below it.

use crate::api::{Edge, Payment, Session};
use crate::attempt;
use crate::bank_form::bank_form;
use crate::bank_waiting::{bank_waiting, resumed_bank_payment};
use crate::card_form::CardForm;
use crate::challenge::otp_challenge;
use crate::host;
use crate::i18n;
use crate::json::{ToJson, Writer};
use crate::launch::{self, Launch, Mode};
use crate::lazy::when_loaded;
use crate::locale;
use crate::marks;
use crate::method_picker::{self, MethodPicker};
use crate::receipt::receipt;
use crate::saved_cards::saved_cards_of;
use crate::stage::Stage;
use crate::wallet_form::wallet_form;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::api::SessionStatus;
use till_core::payment::PaymentStatus;
use till_core::payment_method_type::PaymentMethodType;
use wasm_bindgen::JsCast;

/// Applies the merchant's validated appearance as CSS custom properties.
fn apply_appearance(launch: &Launch) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    for (name, value) in launch.appearance.css_variables() {
        let _ = root.style().set_property(name, value);
    }
    // Screen readers pronounce the page in the customer's language.
    let _ = root.set_attribute("lang", &locale::current());
}

struct PaymentResult<'a> {
    id: &'a str,
    status: PaymentStatus,
    amount: i64,
    currency: &'a str,
    checkout_session: &'a str,
}

impl ToJson for PaymentResult<'_> {
    fn to_json(&self) -> wasm_bindgen::JsValue {
        Writer::new()
            .field("id", self.id)
            .field("status", self.status.as_str())
            .integer("amount", Some(self.amount))
            .field("currency", self.currency)
            .field("checkout_session", self.checkout_session)
            .done()
    }
}

#[component]
pub fn App() -> impl IntoView {
    let stage = RwSignal::new(Stage::Loading);
    let hosted = match launch::current() {
        None => {
            stage.set(Stage::Unavailable(i18n::t().link_incomplete.into()));
            false
        }
        Some(launch) => {
            apply_appearance(launch);
            host::report_height_changes(launch.mode);
            start(launch, stage);
            launch.mode == Mode::Hosted
        }
    };

    view! {
        <main class="till">
            {move || match stage.get() {
                Stage::Loading => view! { <p class="status" aria-live="polite">{i18n::t().loading}</p> }.into_any(),
                Stage::Unavailable(message) => view! { <p class="status error" role="alert">{message}</p> }.into_any(),
                Stage::Unreachable(message) => view! {
                    <div class="status error" role="alert">
                        <p>{message}</p>
                        <button id="try-again" type="button" on:click=move |_| try_again(stage)>{i18n::t().try_again}</button>
                    </div>
                }.into_any(),
                Stage::Ready(session, notice) => view! { <PayForm session=session notice=notice stage=stage /> }.into_any(),
                Stage::BankWaiting(session, payment) => when_loaded(Box::pin(bank_waiting(session, payment, stage))),
                Stage::Challenge(session, payment) => when_loaded(Box::pin(otp_challenge(session, payment, stage))),
                Stage::Paid(session, payment) => {
                    send_result(&session, &payment, hosted);
                    when_loaded(Box::pin(receipt(session, payment)))
                }
            }}
        </main>
    }
}

/// Tells the host page (and a webview's app) that the checkout is paid, and leaves a hosted page
/// for the merchant's `return_url`. The result leaves the widget in this one place, whichever
/// path led to it: the App calls it as the stage becomes `Paid` (where it shows the receipt; an
/// `Effect` watching the stage would link Leptos's effect scheduling for this alone).
fn send_result(session: &Session, payment: &Payment, hosted: bool) {
    let result = PaymentResult {
        id: &payment.id,
        status: payment.status,
        amount: payment.amount,
        currency: payment.currency.code(),
        checkout_session: &session.id,
    };
    host::post("success", &result);
    host::tell_app(&result);
    // Only a full page leaves; inside a merchant's iframe the page decides what is next.
    if let (true, Some(url)) = (hosted, &session.return_url) {
        host::return_to(url, result.id, result.status.as_str(), &session.id);
    }
}

/// Reads the session and shows what it calls for: when the page opens, and again when the
/// customer tries again after the payment service could not be reached.
fn start(launch: &Launch, stage: RwSignal<Stage>) {
    stage.set(Stage::Loading);
    spawn_local(load(launch.edge(), launch.clone(), stage));
}

fn try_again(stage: RwSignal<Stage>) {
    if let Some(launch) = launch::current() {
        start(launch, stage);
    }
}

/// The form for the chosen way to pay, under the method picker when the session offers more
/// than one.
#[component]
fn PayForm(session: Session, notice: Option<String>, stage: RwSignal<Stage>) -> impl IntoView {
    let methods = session.payment_method_types.clone();
    let key = launch::current()
        .map(|launch| launch.publishable_key.clone())
        .unwrap_or_default();
    let chosen = RwSignal::new(method_picker::initial(&methods, &key));
    let picker = (methods.len() > 1)
        .then(|| view! { <MethodPicker methods=methods chosen=chosen publishable_key=key /> });
    // Why the last attempt ended stays in view whichever method the customer turns to.
    view! {
        {picker}
        {move || {
            let (session, notice) = (session.clone(), notice.clone());
            match chosen.get() {
                PaymentMethodType::Card => view! { <CardForm session=session notice=notice stage=stage /> }.into_any(),
                PaymentMethodType::BankRedirect => when_loaded(Box::pin(bank_form(session, notice, stage))),
                PaymentMethodType::Wallet => when_loaded(Box::pin(wallet_form(session, notice, stage))),
            }
        }}
    }
}

async fn load(edge: Edge, launch: Launch, stage: RwSignal<Stage>) {
    // The saved cards (and their chunk) are asked for alongside the session, so the form
    // shows with them.
    let saved_cards = async {
        match &launch.customer_session {
            Some(secret) => match saved_cards_of(edge.clone(), secret.clone()).await {
                Ok(read) => read.await,
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        }
    };
    let (session, saved_cards) = futures_util::future::join(
        edge.session(&launch.session_id, &launch.client_secret),
        saved_cards,
    )
    .await;
    marks::mark("till:session");
    let session = session.map(|session| Session {
        saved_cards,
        ..session
    });
    // Only a browser that left for the bank opens the bank's door here.
    let left_for_bank = |session: &Session| {
        attempt::load(&session.id).is_some_and(|attempt| attempt.bank.is_some())
    };
    if let Some(session) = session.as_ref().ok().filter(|s| left_for_bank(s)) {
        let resumed = match resumed_bank_payment(edge, launch, session.clone()).await {
            Ok(resumed) => resumed.await,
            // The form is not shown instead: the payment may still be at the bank.
            Err(_) => Some(Stage::Unreachable(i18n::t().network_error.into())),
        };
        if let Some(resumed) = resumed {
            host::post("ready", ());
            stage.set(resumed);
            return;
        }
    }
    stage.set(match session {
        Ok(session) if session.status == SessionStatus::Complete => {
            Stage::Unavailable(i18n::t().already_paid.into())
        }
        Ok(session) => {
            marks::mark("till:ready");
            host::post("ready", ());
            Stage::Ready(session, None)
        }
        Err(error) if error.may_succeed_later() => Stage::Unreachable(error.message()),
        Err(error) => Stage::Unavailable(error.message()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_host_and_the_app_get_the_result_in_its_documented_shape() {
        let result = PaymentResult {
            id: "pay_1",
            status: PaymentStatus::RequiresCapture,
            amount: 123_456,
            currency: "KRW",
            checkout_session: "cs_1",
        };
        assert_eq!(
            crate::json::to_string(&result).as_deref(),
            Some(
                r#"{"id":"pay_1","status":"requires_capture","amount":123456,"currency":"KRW","checkout_session":"cs_1"}"#
            )
        );
    }
}
