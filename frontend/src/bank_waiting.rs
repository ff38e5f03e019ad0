//! While the customer is at their bank: the widget asks the edge about the payment every two
//! seconds (the edge asks the bank), and at once when Till's return page in the bank's popup
//! says the customer is back (a message from this exact origin). The customer may reopen the
//! bank's window, or give up and pay another way.

use crate::api::{Edge, Payment, Session};
use crate::bank_form::{leave_for_bank, open_popup};
use crate::launch::{self, Launch, Mode};
use crate::lazy::{door, SplitLoaderError};
use crate::stage::Stage;
use crate::timer::sleep;
use crate::{attempt, i18n};
use futures_util::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use std::cell::Cell;
use std::rc::Rc;
use till_core::payment::PaymentStatus;
use till_core::payment_method_type::PaymentMethodType;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;

const POLL_EVERY_MS: i32 = 2_000;

/// Where the payment went: on to the receipt or back to the form, or still waiting.
fn settle(session: &Session, payment: Payment, stage: RwSignal<Stage>) -> bool {
    let done = |next: Stage| {
        attempt::clear(&session.id);
        stage.set(next);
        true
    };
    match payment.status {
        PaymentStatus::Succeeded | PaymentStatus::RequiresCapture => {
            done(Stage::Paid(session.clone(), payment))
        }
        PaymentStatus::Failed => {
            let reason = i18n::bank_decline(payment.failure_code, payment.failure_message);
            done(Stage::Ready(session.clone(), Some(reason)))
        }
        PaymentStatus::Canceled => done(Stage::Ready(
            session.clone(),
            Some(i18n::t().bank_canceled.into()),
        )),
        _ => false,
    }
}

door! { bank;
    /// Where a session this browser left for the bank stands (back from the bank, or reloaded
    /// while it waited): the payment is read instead of showing the form again; `None` when
    /// it is not a bank payment this browser can follow. In the `bank` chunk.
    pub fn resumed_bank_payment(
        edge: Edge,
        launch: Launch,
        session: Session,
    ) -> Result<LocalBoxFuture<'static, Option<Stage>>, SplitLoaderError> {
        Ok(Box::pin(async move {
            let payment = edge
                .session_payment(&session.id, &launch.client_secret)
                .await
                .ok()?;
            if payment.payment_method_type != PaymentMethodType::BankRedirect {
                return None;
            }
            Some(match payment.status {
                PaymentStatus::Succeeded | PaymentStatus::RequiresCapture => {
                    attempt::clear(&session.id);
                    Stage::Paid(session, payment)
                }
                PaymentStatus::RequiresAction | PaymentStatus::Processing => {
                    Stage::BankWaiting(session, payment)
                }
                PaymentStatus::Canceled => {
                    attempt::clear(&session.id);
                    Stage::Ready(session, Some(i18n::t().bank_canceled.into()))
                }
                _ => {
                    attempt::clear(&session.id);
                    let reason = i18n::bank_decline(payment.failure_code, payment.failure_message);
                    Stage::Ready(session, Some(reason))
                }
            })
        }))
    }
}

door! { bank;
    /// The door to the wait for the bank, in the `bank` chunk.
    pub fn bank_waiting(
        session: Session,
        payment: Payment,
        stage: RwSignal<Stage>,
    ) -> Result<AnyView, SplitLoaderError> {
        Ok(view! { <BankWaiting session=session payment=payment stage=stage /> }.into_any())
    }
}

#[component]
fn BankWaiting(session: Session, payment: Payment, stage: RwSignal<Stage>) -> impl IntoView {
    let t = i18n::t();
    let status = RwSignal::new(payment.status);
    // Empty while there is nothing to say (as the card fields' errors).
    let error = RwSignal::new(String::new());
    let url = payment.next_action.and_then(|action| action.url);
    let bank_name = payment
        .bank
        .map(|bank| bank.name)
        .unwrap_or_else(|| t.bank.to_string());
    let launch = launch::current();
    let edge = launch.map(Launch::edge);
    let full_page = launch.is_none_or(|l| l.mode != Mode::Embedded);
    let secret = launch.map(|launch| launch.client_secret.clone());
    let payment_id = payment.id.clone();
    let session = StoredValue::new(session);
    let waiting = Rc::new(Cell::new(true));

    // One look at the payment; true once it left the bank's hands.
    let check = {
        let (edge, secret, waiting) = (edge.clone(), secret.clone(), waiting.clone());
        move || {
            let (edge, secret, waiting) = (edge.clone(), secret.clone(), waiting.clone());
            async move {
                let (Some(edge), Some(secret)) = (edge, secret) else {
                    return true;
                };
                if !waiting.get() {
                    return true;
                }
                let id = session.with_value(|s| s.id.clone());
                match edge.session_payment(&id, &secret).await {
                    Ok(payment) if waiting.get() => {
                        status.set(payment.status);
                        let ended = session.with_value(|s| settle(s, payment, stage));
                        if ended {
                            waiting.set(false);
                        }
                        ended
                    }
                    Ok(_) => true,
                    // Unreachable for now: asked again on the next round.
                    Err(_) => false,
                }
            }
        }
    };
    {
        let check = check.clone();
        let waiting = waiting.clone();
        spawn_local(async move {
            while waiting.get() {
                sleep(POLL_EVERY_MS).await;
                if check().await {
                    break;
                }
            }
        });
    }
    // The return page in the popup tells this window the customer is back.
    let on_message = {
        let check = check.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let own_origin = web_sys::window().and_then(|w| w.location().origin().ok());
            if Some(event.origin()) != own_origin {
                return;
            }
            let check = check.clone();
            spawn_local(async move {
                check().await;
            });
        })
    };
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    }
    {
        // The browser's objects stay on this thread: the wrapper only satisfies the bound.
        let owned = SendWrapper::new((waiting.clone(), on_message));
        on_cleanup(move || {
            let (waiting, on_message) = owned.take();
            waiting.set(false);
            if let Some(window) = web_sys::window() {
                let _ = window.remove_event_listener_with_callback(
                    "message",
                    on_message.as_ref().unchecked_ref(),
                );
            }
        });
    }

    let canceling = RwSignal::new(false);
    let cancel = move || {
        let (Some(edge), Some(secret)) = (edge.clone(), secret.clone()) else {
            return;
        };
        canceling.set(true);
        spawn_local(async move {
            let id = session.with_value(|s| s.id.clone());
            match edge.reopen(&id, &secret).await {
                Ok(payment) => {
                    session.with_value(|s| settle(s, payment, stage));
                }
                Err(failure) => {
                    error.set(failure.message());
                    canceling.set(false);
                }
            }
        });
    };
    let reopen_url = url.clone();
    let message = {
        let bank_name = bank_name.clone();
        move || {
            if status.get() == PaymentStatus::Processing {
                t.bank_processing.to_string()
            } else {
                (t.bank_waiting)(&bank_name)
            }
        }
    };
    view! {
        <section class="bank-waiting">
            <h1>{bank_name.clone()}</h1>
            <p id="bank-status" role="status" aria-live="polite">{message}</p>
            <p class="error" role="alert">{move || error.get()}</p>
            {reopen_url.map(|url| view! {
                <button id="open-bank" type="button" class="secondary"
                    hidden=move || status.get() != PaymentStatus::RequiresAction
                    on:click=move |_| {
                        if full_page {
                            leave_for_bank(&url, &payment_id);
                        } else {
                            open_popup(&url);
                        }
                    }>
                    {t.open_bank_again}
                </button>
            })}
            <button id="cancel-bank" type="button" class="secondary"
                hidden=move || status.get() != PaymentStatus::RequiresAction
                disabled=move || canceling.get()
                on:click=move |_| cancel()>
                {t.cancel_bank}
            </button>
        </section>
    }
}
