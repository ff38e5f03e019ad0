//! The card form: formats and validates as the customer types, encrypts on Pay, confirms once.

use crate::api::{CallError, Edge};
use crate::app::sleep;
use crate::app::{amount_text, Stage};
use crate::attempt::{self, Attempt};
use crate::encrypt::encrypt_card;
use crate::host;
use crate::i18n;
use crate::launch;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use till_core::api::{CheckoutSession, ConfirmCheckoutSession, CreateToken, Payment};
use till_core::card::{
    self, format_expiry, format_number, parse_expiry, validate_cvc, validate_expiry,
    validate_number, Brand, CardDetails, CardError, CardPayload, YearMonth,
};
use till_core::payment::PaymentStatus;
use till_core::secret::Secret;

/// What the host page learns as the customer types: never the card itself.
#[derive(Serialize)]
struct FormState {
    complete: bool,
    brand: Option<Brand>,
}

#[derive(Serialize)]
struct HostError<'a> {
    code: &'a str,
    message: &'a str,
}

/// Retries of a confirm whose answer did not arrive (same key, so never a second charge).
const CONFIRM_ATTEMPTS: u32 = 6;
/// 800 ms, 1.6 s, 3.2 s, … between confirm attempts whose answer is not final yet.
const CONFIRM_RETRIES: till_core::backoff::Backoff = till_core::backoff::Backoff {
    first: 800,
    max: 6_400,
};

#[derive(Clone, Copy)]
struct Field {
    value: RwSignal<String>,
    error: RwSignal<Option<String>>,
}

impl Field {
    fn new() -> Self {
        Field {
            value: RwSignal::new(String::new()),
            error: RwSignal::new(None),
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    number: Field,
    expiry: Field,
    cvc: Field,
    name: Field,
}

fn this_month() -> YearMonth {
    let now = js_sys::Date::new_0();
    YearMonth {
        year: now.get_full_year() as u16,
        month: now.get_month() as u8 + 1,
    }
}

impl Fields {
    fn brand(&self) -> Option<Brand> {
        Brand::detect(&card::digits_only(&self.number.value.get()))
    }

    fn check_number(&self) -> Result<Brand, CardError> {
        validate_number(&self.number.value.get_untracked())
    }

    fn check_expiry(&self) -> Result<(u8, u16), CardError> {
        let (month, year) = parse_expiry(&self.expiry.value.get_untracked())?;
        validate_expiry(month, year, this_month())?;
        Ok((month, year))
    }

    fn check_cvc(&self) -> Result<(), CardError> {
        let brand = Brand::detect(&card::digits_only(&self.number.value.get_untracked()))
            .unwrap_or(Brand::Visa);
        validate_cvc(&self.cvc.value.get_untracked(), brand)
    }

    fn check_name(&self) -> Result<(), CardError> {
        card::validate_name(&self.name.value.get_untracked()).map(|_| ())
    }

    fn show<T>(field: Field, result: Result<T, CardError>) -> Option<T> {
        field.error.set(
            result
                .as_ref()
                .err()
                .map(|e| i18n::card_error(*e).to_string()),
        );
        result.ok()
    }

    /// Validates every field, showing each error inline; the card when all are valid.
    fn validated(&self) -> Option<CardDetails> {
        let number = Self::show(self.number, self.check_number());
        let expiry = Self::show(self.expiry, self.check_expiry());
        let cvc = Self::show(self.cvc, self.check_cvc());
        let name = Self::show(self.name, self.check_name());
        let ((exp_month, exp_year), ..) = (expiry?, number?, cvc?, name?);
        Some(CardDetails {
            number: Secret::new(card::digits_only(&self.number.value.get_untracked())),
            exp_month,
            exp_year,
            cvc: Secret::new(self.cvc.value.get_untracked()),
            name: self.name.value.get_untracked().trim().to_string(),
        })
    }

    /// Whether every field is valid, without showing errors (for the host's `change` event).
    fn complete(&self) -> bool {
        self.check_number().is_ok()
            && self.check_expiry().is_ok()
            && self.check_cvc().is_ok()
            && self.check_name().is_ok()
    }

    fn by_param(&self, param: &str) -> Option<Field> {
        match param {
            "number" => Some(self.number),
            "expiry" => Some(self.expiry),
            "cvc" => Some(self.cvc),
            "name" => Some(self.name),
            _ => None,
        }
    }
}

/// 16 random bytes, base64url: makes each encrypted card single use.
fn random_nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    web_sys::window()?
        .crypto()
        .ok()?
        .get_random_values_with_u8_array(&mut bytes)
        .ok()?;
    Some(till_core::jwe::b64(&bytes))
}

/// Everything one Pay press needs, owned so it can move into the async task.
struct Checkout {
    edge: Edge,
    session: CheckoutSession,
    client_secret: String,
}

enum PayResult {
    Paid(Payment),
    Challenge(Payment),
    Declined(String),
    /// Retry later with the same attempt.
    Pending(String),
    Failed(CallError),
}

impl Checkout {
    async fn tokenize(&self, card: &CardDetails) -> Result<String, CallError> {
        let keys = self.edge.keys().await?;
        let key = keys.keys.first().ok_or(CallError::Network)?;
        let payload = CardPayload {
            card: card.clone(),
            iat: (js_sys::Date::now() / 1000.0) as i64,
            nonce: random_nonce().ok_or(CallError::Network)?,
        };
        let plaintext = serde_json::to_vec(&payload).map_err(|_| CallError::Network)?;
        let encrypted_card = encrypt_card(key, &self.session.id, &plaintext)
            .await
            .map_err(|e| CallError::Api {
                status: 0,
                code: "encryption_failed".into(),
                message: format!("Your browser could not encrypt the card ({}).", e.0),
                param: None,
            })?;
        let token = self
            .edge
            .tokenize(&CreateToken {
                checkout_session: self.session.id.clone(),
                client_secret: self.client_secret.clone(),
                encrypted_card,
            })
            .await?;
        Ok(token.id)
    }

    async fn confirm(&self, attempt: &Attempt) -> PayResult {
        let body = ConfirmCheckoutSession {
            client_secret: self.client_secret.clone(),
            token: attempt.token.clone(),
        };
        let mut last = String::new();
        for round in 0..CONFIRM_ATTEMPTS {
            if round > 0 {
                let wait = CONFIRM_RETRIES.delay(round);
                sleep(i32::try_from(wait).unwrap_or(i32::MAX)).await;
            }
            match self
                .edge
                .confirm(&self.session.id, &body, &attempt.idempotency_key)
                .await
            {
                Ok(payment)
                    if matches!(
                        payment.status,
                        PaymentStatus::Succeeded | PaymentStatus::RequiresCapture
                    ) =>
                {
                    return PayResult::Paid(payment)
                }
                Ok(payment) if payment.status == PaymentStatus::RequiresAction => {
                    return PayResult::Challenge(payment)
                }
                Ok(payment) => {
                    return PayResult::Declined(i18n::decline(
                        payment.failure_code.as_deref(),
                        payment.failure_message,
                    ))
                }
                Err(CallError::Network) => last = CallError::Network.message(),
                Err(CallError::Api {
                    status,
                    code,
                    message,
                    ..
                }) if status >= 500 || code == "idempotency_request_in_progress" => last = message,
                Err(other) => return PayResult::Failed(other),
            }
        }
        PayResult::Pending(last)
    }
}

#[component]
pub fn CardForm(
    session: CheckoutSession,
    notice: Option<String>,
    stage: RwSignal<Stage>,
) -> impl IntoView {
    let fields = Fields {
        number: Field::new(),
        expiry: Field::new(),
        cvc: Field::new(),
        name: Field::new(),
    };
    let paying = RwSignal::new(false);
    let form_error = RwSignal::new(notice);
    let session_id = StoredValue::new(session.id.clone());
    let amount = amount_text(&session);
    let t = i18n::t();
    let pay_label = (t.pay)(&amount);

    let checkout = move || {
        let launch = launch::current()?;
        Some(Checkout {
            edge: Edge {
                publishable_key: launch.publishable_key,
            },
            session: session.clone(),
            client_secret: launch.client_secret,
        })
    };

    let finish = move |checkout: Checkout, attempt: Attempt| async move {
        let session_id = checkout.session.id.clone();
        match checkout.confirm(&attempt).await {
            PayResult::Paid(payment) => {
                attempt::clear(&session_id);
                stage.set(Stage::Paid(checkout.session, payment));
            }
            // The attempt stays saved: a reload replays it and shows the challenge again.
            PayResult::Challenge(payment) => stage.set(Stage::Challenge(checkout.session, payment)),
            PayResult::Declined(message) => {
                attempt::clear(&session_id);
                host::post(
                    "error",
                    HostError {
                        code: "card_declined",
                        message: &message,
                    },
                );
                form_error.set(Some(message));
            }
            PayResult::Pending(message) => {
                form_error.set(Some(format!("{message} {}", i18n::t().retry_hint)))
            }
            PayResult::Failed(error) => {
                attempt::clear(&session_id);
                let message = error.message();
                host::post(
                    "error",
                    HostError {
                        code: "payment_failed",
                        message: &message,
                    },
                );
                form_error.set(Some(message));
            }
        }
        paying.set(false);
    };

    // A reload in the middle of a payment finishes the same attempt.
    if let (Some(saved), Some(checkout)) =
        (session_id.with_value(|id| attempt::load(id)), checkout())
    {
        paying.set(true);
        spawn_local(finish(checkout, saved));
    }

    let pay = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if paying.get_untracked() {
            return;
        }
        form_error.set(None);
        let Some(card) = fields.validated() else {
            return;
        };
        let Some(checkout) = checkout() else {
            form_error.set(Some("This checkout link is incomplete.".into()));
            return;
        };
        paying.set(true);
        spawn_local(async move {
            let session_id = checkout.session.id.clone();
            let attempt = match attempt::load(&session_id) {
                Some(existing) => existing,
                None => match checkout.tokenize(&card).await {
                    Ok(token) => {
                        let Some(idempotency_key) = attempt::new_key() else {
                            form_error.set(Some(
                                "Your browser cannot make a secure payment key.".into(),
                            ));
                            paying.set(false);
                            return;
                        };
                        let fresh = Attempt {
                            idempotency_key,
                            token,
                        };
                        attempt::save(&session_id, &fresh);
                        fresh
                    }
                    Err(CallError::Api {
                        message,
                        param: Some(param),
                        ..
                    }) if fields.by_param(&param).is_some() => {
                        if let Some(field) = fields.by_param(&param) {
                            field.error.set(Some(message));
                        }
                        paying.set(false);
                        return;
                    }
                    Err(error) => {
                        form_error.set(Some(error.message()));
                        paying.set(false);
                        return;
                    }
                },
            };
            finish(checkout, attempt).await;
        });
    };

    // Any edit to the card makes the next Pay a new attempt with a new key.
    let edited = move |field: Field, value: String| {
        field.value.set(value);
        field.error.set(None);
        session_id.with_value(|id| attempt::clear(id));
        host::post(
            "change",
            FormState {
                complete: fields.complete(),
                brand: Brand::detect(&card::digits_only(&fields.number.value.get_untracked())),
            },
        );
    };

    view! {
        <form class="card-form" on:submit=pay novalidate>
            <p class="total">{t.total} " " <strong>{amount}</strong></p>
            <div class="field">
                <label for="card-number">{t.card_number}</label>
                <div class="with-brand">
                    <input id="card-number" name="cardnumber" type="text" inputmode="numeric" autocomplete="cc-number"
                        placeholder="1234 1234 1234 1234"
                        aria-invalid=move || fields.number.error.get().is_some().to_string()
                        aria-describedby="card-number-error"
                        prop:value=move || fields.number.value.get()
                        on:input=move |ev| edited(fields.number, format_number(&event_target_value(&ev)))
                        on:blur=move |_| if !fields.number.value.get_untracked().is_empty() { Fields::show(fields.number, fields.check_number()); } />
                    <span class="brand" aria-live="polite">{move || fields.brand().map(Brand::display_name)}</span>
                </div>
                <p id="card-number-error" class="error" aria-live="polite">{move || fields.number.error.get()}</p>
            </div>
            <div class="row">
                <div class="field">
                    <label for="card-expiry">{t.expiry}</label>
                    <input id="card-expiry" name="exp-date" type="text" inputmode="numeric" autocomplete="cc-exp" placeholder="MM/YY"
                        aria-invalid=move || fields.expiry.error.get().is_some().to_string()
                        aria-describedby="card-expiry-error"
                        prop:value=move || fields.expiry.value.get()
                        on:input=move |ev| edited(fields.expiry, format_expiry(&event_target_value(&ev)))
                        on:blur=move |_| if !fields.expiry.value.get_untracked().is_empty() { Fields::show(fields.expiry, fields.check_expiry()); } />
                    <p id="card-expiry-error" class="error" aria-live="polite">{move || fields.expiry.error.get()}</p>
                </div>
                <div class="field">
                    <label for="card-cvc">{t.security_code}</label>
                    <input id="card-cvc" name="cvc" type="text" inputmode="numeric" autocomplete="cc-csc"
                        placeholder=move || (t.cvc_placeholder)(fields.brand().map_or(3, Brand::cvc_length))
                        maxlength=move || fields.brand().map_or(3, Brand::cvc_length).to_string()
                        aria-invalid=move || fields.cvc.error.get().is_some().to_string()
                        aria-describedby="card-cvc-error"
                        prop:value=move || fields.cvc.value.get()
                        on:input=move |ev| {
                            let digits: String = event_target_value(&ev).chars().filter(char::is_ascii_digit).take(4).collect();
                            edited(fields.cvc, digits)
                        }
                        on:blur=move |_| if !fields.cvc.value.get_untracked().is_empty() { Fields::show(fields.cvc, fields.check_cvc()); } />
                    <p id="card-cvc-error" class="error" aria-live="polite">{move || fields.cvc.error.get()}</p>
                </div>
            </div>
            <div class="field">
                <label for="card-name">{t.name_on_card}</label>
                <input id="card-name" name="ccname" type="text" autocomplete="cc-name"
                    aria-invalid=move || fields.name.error.get().is_some().to_string()
                    aria-describedby="card-name-error"
                    prop:value=move || fields.name.value.get()
                    on:input=move |ev| edited(fields.name, event_target_value(&ev)) />
                <p id="card-name-error" class="error" aria-live="polite">{move || fields.name.error.get()}</p>
            </div>
            <p id="form-error" class="error form-error" role="alert">{move || form_error.get()}</p>
            <button id="pay" type="submit" disabled=move || paying.get() aria-busy=move || paying.get().to_string()>
                {move || if paying.get() { t.processing.to_string() } else { pay_label.clone() }}
            </button>
            <p class="secure">{t.secure_note}</p>
        </form>
    }
}
