//! The widget's top level: load the session, show the form, then the receipt.

use crate::api::Edge;
use crate::card_form::CardForm;
use crate::challenge::OtpChallenge;
use crate::host;
use crate::i18n;
use crate::launch::{self, Launch};
use crate::locale::{self, format_amount};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use till_core::api::{CheckoutSession, Payment, SessionStatus};
use till_core::money::Money;
use till_core::payment::PaymentStatus;
use wasm_bindgen::JsCast;

#[derive(Clone)]
pub enum Stage {
    Loading,
    Unavailable(String),
    /// The form, with the reason the last attempt failed, if any.
    Ready(CheckoutSession, Option<String>),
    /// The issuer asks for a one-time code (3-D Secure).
    Challenge(CheckoutSession, Payment),
    Paid(CheckoutSession, Payment),
}

/// Waits `ms` milliseconds (between retries).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

pub fn amount_text(session: &CheckoutSession) -> String {
    format_amount(
        &Money {
            amount: session.amount,
            currency: session.currency,
        },
        &locale::current(),
    )
}

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

#[derive(Serialize)]
struct PaymentResult<'a> {
    id: &'a str,
    status: PaymentStatus,
    amount: i64,
    currency: &'a str,
    checkout_session: &'a str,
}

#[component]
pub fn App() -> impl IntoView {
    let stage = RwSignal::new(Stage::Loading);
    match launch::current() {
        None => stage.set(Stage::Unavailable(i18n::t().link_incomplete.into())),
        Some(launch) => {
            apply_appearance(&launch);
            host::report_height_changes();
            spawn_local(load(launch, stage));
        }
    }
    // The result leaves the widget in one place, whichever path led to it.
    Effect::new(move |_| {
        if let Stage::Paid(session, payment) = stage.get() {
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
            let hosted = launch::current().is_some_and(|l| l.mode == launch::Mode::Hosted);
            if let (true, Some(url)) = (hosted, &session.return_url) {
                host::return_to(url, result.id, result.status.as_str(), &session.id);
            }
        }
    });

    view! {
        <main class="till">
            {move || match stage.get() {
                Stage::Loading => view! { <p class="status" aria-live="polite">{i18n::t().loading}</p> }.into_any(),
                Stage::Unavailable(message) => view! { <p class="status error" role="alert">{message}</p> }.into_any(),
                Stage::Ready(session, notice) => view! { <CardForm session=session notice=notice stage=stage /> }.into_any(),
                Stage::Challenge(session, payment) => view! { <OtpChallenge session=session payment=payment stage=stage /> }.into_any(),
                Stage::Paid(session, payment) => view! { <Receipt session=session payment=payment /> }.into_any(),
            }}
        </main>
    }
}

async fn load(launch: Launch, stage: RwSignal<Stage>) {
    let edge = Edge {
        publishable_key: launch.publishable_key.clone(),
    };
    stage.set(
        match edge
            .session(&launch.session_id, &launch.client_secret)
            .await
        {
            Ok(session) if session.status == SessionStatus::Complete => {
                Stage::Unavailable(i18n::t().already_paid.into())
            }
            Ok(session) => {
                host::post("ready", ());
                Stage::Ready(session, None)
            }
            Err(error) => Stage::Unavailable(error.message()),
        },
    );
}

#[component]
fn Receipt(session: CheckoutSession, payment: Payment) -> impl IntoView {
    let amount = amount_text(&session);
    let card = format!(
        "{} •••• {}",
        payment.card.brand.display_name(),
        payment.card.last4
    );
    let t = i18n::t();
    view! {
        <section class="receipt" role="status" aria-live="polite">
            <h1>{t.payment_successful}</h1>
            <p class="amount">{amount}</p>
            <dl>
                <dt>{t.paid_to}</dt><dd>{session.merchant_name}</dd>
                <dt>{t.card}</dt><dd>{card}</dd>
                <dt>{t.payment}</dt><dd class="payment-id">{payment.id}</dd>
            </dl>
        </section>
    }
}
