//! The issuer's one-time-code challenge (3-D Secure), inside the widget.

use crate::api::Edge;
use crate::api::{Payment, Session};
use crate::launch::{self, Launch};
use crate::lazy::{door, SplitLoaderError};
use crate::locale::amount_text;
use crate::stage::Stage;
use crate::{attempt, i18n};
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::api::CompleteChallenge;
use till_core::payment::PaymentStatus;

fn attempts_left(payment: &Payment) -> u8 {
    payment
        .next_action
        .as_ref()
        .map_or(0, |challenge| challenge.attempts_remaining)
}

door! { challenge, preload(preload_challenge);
    /// The door to the challenge, in the `challenge` chunk: fetched only for a payment the
    /// issuer challenges (`preload_challenge`, before the stage moves to it).
    pub fn otp_challenge(
        session: Session,
        payment: Payment,
        stage: RwSignal<Stage>,
    ) -> Result<AnyView, SplitLoaderError> {
        Ok(view! { <OtpChallenge session=session payment=payment stage=stage /> }.into_any())
    }
}

#[component]
fn OtpChallenge(session: Session, payment: Payment, stage: RwSignal<Stage>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    // Empty while there is nothing to say (as the card fields' errors).
    let error = RwSignal::new(String::new());
    let amount = amount_text(&session);
    let session = StoredValue::new(session);
    let payment_id = StoredValue::new(payment.id.clone());
    let launch = launch::current();
    let edge = launch.map(Launch::edge);
    let client_secret = launch.map(|launch| launch.client_secret.clone());

    // A plain task with its own pending flag (see the card form).
    let verifying = RwSignal::new(false);
    let verify = move |edge: Edge, body: CompleteChallenge| {
        verifying.set(true);
        spawn_local(async move {
            let result = edge.challenge(&payment_id.get_value(), &body).await;
            let session = session.get_value();
            match result {
                Ok(payment)
                    if matches!(
                        payment.status,
                        PaymentStatus::Succeeded | PaymentStatus::RequiresCapture
                    ) =>
                {
                    attempt::clear(&session.id);
                    stage.set(Stage::Paid(session, payment));
                }
                Ok(payment) if payment.status == PaymentStatus::RequiresAction => {
                    code.set(String::new());
                    let left = attempts_left(&payment);
                    error.set((i18n::t().otp_wrong)(left));
                }
                Ok(payment) => {
                    attempt::clear(&session.id);
                    let reason = i18n::decline(payment.failure_code, payment.failure_message);
                    stage.set(Stage::Ready(session, Some(reason)));
                }
                Err(other) => error.set(other.message()),
            }
            verifying.try_set(false);
        });
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let otp = code.get_untracked();
        if otp.len() != 6 {
            error.set(i18n::t().otp_six_digits.into());
            return;
        }
        let (Some(edge), Some(client_secret)) = (edge.clone(), client_secret.clone()) else {
            return;
        };
        verify(edge, CompleteChallenge { client_secret, otp });
    };

    let t = i18n::t();
    view! {
        <form class="challenge" on:submit=submit novalidate>
            <h1>{t.confirm_title}</h1>
            <p>{(t.otp_intro)(&amount)}</p>
            <div class="field">
                <label for="otp">{t.verification_code}</label>
                <input id="otp" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
                    aria-invalid=move || (!error.get().is_empty()).to_string()
                    aria-describedby="otp-error"
                    prop:value=move || code.get()
                    on:input=move |ev| {
                        let digits: String = event_target_value(&ev).chars().filter(char::is_ascii_digit).take(6).collect();
                        code.set(digits);
                        error.set(String::new());
                    } />
                <p id="otp-error" class="error" role="alert">{move || error.get()}</p>
            </div>
            <button id="verify" type="submit" disabled=move || verifying.get()>
                {move || if verifying.get() { t.verifying } else { t.verify }}
            </button>
        </form>
    }
}
