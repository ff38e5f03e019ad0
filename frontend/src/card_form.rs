//! The card form: formats and validates as the customer types, encrypts on Pay, confirms once.

use crate::api::{CallError, Session};
use crate::attempt::{self, Attempt};
use crate::card_field::{CardField, Field};
use crate::challenge::preload_challenge;
use crate::checkout::{Checkout, PayResult};
use crate::host;
use crate::i18n;
use crate::json::{ToJson, Writer};
use crate::launch;
use crate::lazy::{door, when_loaded, SplitLoaderError};
use crate::locale::{amount_of, amount_text, conversion_text};
use crate::saved_cards::saved_cards_list;
use crate::stage::Stage;
use futures_util::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::card::{
    self, format_expiry, format_number, parse_expiry, validate_cvc, validate_expiry,
    validate_number, Brand, CardDetails, CardError, YearMonth,
};
use till_core::secret::Secret;
use wasm_bindgen::JsValue;

/// What the host page learns as the customer types: never the card itself.
struct FormState {
    complete: bool,
    brand: Option<Brand>,
}

impl ToJson for FormState {
    fn to_json(&self) -> JsValue {
        Writer::new()
            .field("complete", self.complete)
            // The host reads `null` for a number no brand matches yet.
            .field(
                "brand",
                self.brand.map_or(JsValue::NULL, |b| b.as_str().into()),
            )
            .done()
    }
}

struct HostError<'a> {
    code: &'a str,
    message: &'a str,
}

impl ToJson for HostError<'_> {
    fn to_json(&self) -> JsValue {
        Writer::new()
            .field("code", self.code)
            .field("message", self.message)
            .done()
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
                .map_or_else(String::new, |e| i18n::card_error(*e).to_string()),
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

/// What a Pay starts from: the card just typed (and whether to keep it), a saved card, or the
/// attempt a reload interrupted.
#[derive(Clone)]
enum PayWith {
    Card(CardDetails, bool),
    /// A saved card, with its security code when the merchant asks for it again.
    SavedCard(String, Option<String>),
    SavedAttempt(Attempt),
    /// The customer's wallet, for all of it.
    Wallet,
}

/// The attempt that pays all of it from the wallet: the one kept for this session if it was
/// that (a retry must not start a second payment), else a new one.
fn wallet_attempt(checkout: &Checkout, form_error: RwSignal<String>) -> Option<Attempt> {
    let session_id = &checkout.session.id;
    let kept = attempt::load(session_id)
        .filter(|a| a.token.is_empty() && a.wallet_amount == checkout.wallet_amount);
    if kept.is_some() {
        return kept;
    }
    let Some(idempotency_key) = attempt::new_key() else {
        form_error.set(i18n::t().no_payment_key.into());
        return None;
    };
    let fresh = Attempt {
        idempotency_key,
        token: String::new(),
        saved_card: false,
        save: false,
        encrypted_cvc: None,
        bank: None,
        wallet_amount: checkout.wallet_amount,
    };
    attempt::save(session_id, &fresh);
    Some(fresh)
}

/// The attempt for a saved card: the one kept for this session when it was for the same card,
/// else a new one with a fresh key (and the code, encrypted, when one was typed).
async fn saved_card_attempt(
    checkout: &Checkout,
    card: String,
    cvc: Option<String>,
    form_error: RwSignal<String>,
) -> Option<Attempt> {
    let session_id = &checkout.session.id;
    if let Some(existing) = attempt::load(session_id).filter(|a| a.saved_card && a.token == card) {
        return Some(existing);
    }
    let Some(idempotency_key) = attempt::new_key() else {
        form_error.set(i18n::t().no_payment_key.into());
        return None;
    };
    let encrypted_cvc = match cvc {
        Some(cvc) => match checkout.encrypt_cvc(&cvc).await {
            Ok(sealed) => Some(sealed),
            Err(error) => {
                form_error.set(error.message());
                return None;
            }
        },
        None => None,
    };
    let fresh = Attempt {
        idempotency_key,
        token: card,
        saved_card: true,
        save: false,
        encrypted_cvc,
        bank: None,
        wallet_amount: checkout.wallet_amount,
    };
    attempt::save(session_id, &fresh);
    Some(fresh)
}

/// The attempt to confirm: the one saved for this session, else a new one with a fresh token and
/// key. `None` when it could not be made; the reason is then shown on the form.
async fn start_attempt(
    checkout: &Checkout,
    card: &CardDetails,
    save: bool,
    fields: Fields,
    form_error: RwSignal<String>,
) -> Option<Attempt> {
    let session_id = &checkout.session.id;
    if let Some(existing) = attempt::load(session_id).filter(|a| a.bank.is_none()) {
        return Some(existing);
    }
    match checkout.tokenize(card).await {
        Ok(token) => {
            let Some(idempotency_key) = attempt::new_key() else {
                form_error.set(i18n::t().no_payment_key.into());
                return None;
            };
            let fresh = Attempt {
                idempotency_key,
                token,
                saved_card: false,
                save,
                encrypted_cvc: None,
                bank: None,
                wallet_amount: checkout.wallet_amount,
            };
            attempt::save(session_id, &fresh);
            Some(fresh)
        }
        Err(CallError::Api {
            message,
            param: Some(param),
            ..
        }) if fields.by_param(&param).is_some() => {
            if let Some(field) = fields.by_param(&param) {
                field.error.set(message);
            }
            None
        }
        Err(error) => {
            form_error.set(error.message());
            None
        }
    }
}

/// Confirms the attempt and shows where it led: the receipt, the challenge, or the reason on the
/// form.
async fn finish(
    checkout: Checkout,
    attempt: Attempt,
    stage: RwSignal<Stage>,
    form_error: RwSignal<String>,
) {
    let session_id = checkout.session.id.clone();
    match checkout.confirm(&attempt).await {
        PayResult::Paid(payment) => {
            attempt::clear(&session_id);
            stage.set(Stage::Paid(checkout.session, payment));
        }
        // The attempt stays saved: a reload, or Pay again when the challenge's code could not be
        // fetched, replays it and shows the challenge again.
        PayResult::Challenge(payment) | PayResult::Redirect(payment) => {
            match preload_challenge().await {
                Ok(()) => stage.set(Stage::Challenge(checkout.session, payment)),
                Err(_) => form_error.set(i18n::t().network_error.into()),
            }
        }
        PayResult::Declined(message) => {
            attempt::clear(&session_id);
            host::post(
                "error",
                HostError {
                    code: "card_declined",
                    message: &message,
                },
            );
            form_error.set(message);
        }
        PayResult::Pending(message) => {
            form_error.set(format!("{message} {}", i18n::t().retry_hint))
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
            form_error.set(message);
        }
    }
}

/// What paying reports to: the card fields (a field the edge refuses shows its error), the
/// stage, and the form's error line.
#[derive(Clone, Copy)]
struct PayingForm {
    fields: Fields,
    stage: RwSignal<Stage>,
    form_error: RwSignal<String>,
}

door! { pay, preload(preload_pay);
    /// The door to paying, in the `pay` chunk: makes or resumes the attempt, confirms it and
    /// shows where it led. The chunk is fetched while the customer types (`preload_pay`).
    fn pay(
        checkout: Checkout,
        with: PayWith,
        form: PayingForm,
    ) -> Result<LocalBoxFuture<'static, ()>, SplitLoaderError> {
        let PayingForm {
            fields,
            stage,
            form_error,
        } = form;
        Ok(Box::pin(async move {
            let attempt = match with {
                PayWith::SavedAttempt(saved) => Some(saved),
                PayWith::Wallet => wallet_attempt(&checkout, form_error),
                PayWith::SavedCard(card, cvc) => {
                    saved_card_attempt(&checkout, card, cvc, form_error).await
                }
                PayWith::Card(card, save) => {
                    start_attempt(&checkout, &card, save, fields, form_error).await
                }
            };
            if let Some(attempt) = attempt {
                finish(checkout, attempt, stage, form_error).await;
            }
        }))
    }
}

/// The card form; with `wallet_amount`, the card pays what the customer's wallet does not (and
/// with all of the amount, the form is only the wallet's Pay button).
#[component]
pub fn CardForm(
    session: Session,
    notice: Option<String>,
    stage: RwSignal<Stage>,
    #[prop(optional)] wallet_amount: Option<i64>,
) -> impl IntoView {
    let fields = Fields {
        number: Field::new(),
        expiry: Field::new(),
        cvc: Field::new(),
        name: Field::new(),
    };
    let form_error = RwSignal::new(notice.unwrap_or_default());
    // A session made for a customer may keep the card; a customer session offers saved ones.
    let may_save = session.customer.is_some();
    let save = RwSignal::new(false);
    let saved_cards = session.saved_cards.clone();
    // The merchant wants a saved card's code typed again: one field under the saved cards.
    let ask_cvc =
        session.require_cvc && !saved_cards.is_empty() && wallet_amount != Some(session.amount);
    let saved_cvc = Field::new();
    let brand_of = {
        let cards = saved_cards.clone();
        move |id: &str| {
            cards
                .iter()
                .find(|saved| saved.id == id)
                .map_or(Brand::Visa, |saved| saved.card.brand)
        }
    };
    // The chosen saved card's id; empty for a new card.
    let choice = RwSignal::new(
        saved_cards
            .first()
            .map(|first| first.id.clone())
            .unwrap_or_default(),
    );
    let amount = amount_text(&session);
    let conversion = conversion_text(&session);
    let t = i18n::t();
    let wallet_pays_all = wallet_amount == Some(session.amount);
    let split = wallet_amount.filter(|_| !wallet_pays_all).map(|wallet| {
        let part = |amount| amount_of(&session, amount);
        (part(wallet), part(session.amount - wallet))
    });
    // Nothing about a card is sent when the wallet pays all.
    let secure_note = if wallet_pays_all { "" } else { t.secure_note };
    let pay_label = match (&split, wallet_pays_all) {
        (_, true) => (t.pay_from_wallet)(&amount),
        (Some((_, card)), _) => (t.pay)(card),
        (None, false) => (t.pay)(&amount),
    };

    let session_id = session.id.clone();
    let checkout = launch::current().map(|launch| Checkout {
        edge: launch.edge(),
        session,
        client_secret: launch.client_secret.clone(),
        wallet_amount,
    });

    // Pay runs as a plain task with its own pending flag: an `Action` would cost the widget
    // its own copy of Leptos's action code.
    let paying = RwSignal::new(false);
    let pay = move |checkout: Checkout, with: PayWith| {
        paying.set(true);
        spawn_local(async move {
            let form = PayingForm {
                fields,
                stage,
                form_error,
            };
            match pay(checkout, with, form).await {
                Ok(paid) => paid.await,
                Err(_) => form_error.set(i18n::t().network_error.into()),
            }
            // The form may be gone (the stage moved on): then there is nothing to release.
            paying.try_set(false);
        });
    };
    // Pay's code is fetched while the customer types; a failure here is retried by Pay.
    spawn_local(async {
        let _ = preload_pay().await;
    });

    // A reload in the middle of a payment finishes the same attempt.
    if let (Some(saved), Some(checkout)) = (
        attempt::load(&session_id).filter(|a| a.bank.is_none()),
        checkout.clone(),
    ) {
        pay(checkout, PayWith::SavedAttempt(saved));
    }

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if paying.get_untracked() {
            return;
        }
        form_error.set(String::new());
        let Some(checkout) = checkout.clone() else {
            form_error.set(i18n::t().link_incomplete.into());
            return;
        };
        if wallet_pays_all {
            pay(checkout, PayWith::Wallet);
            return;
        }
        let card = choice.get_untracked();
        if !card.is_empty() {
            let cvc = if ask_cvc {
                let typed = saved_cvc.value.get_untracked();
                if Fields::show(saved_cvc, validate_cvc(&typed, brand_of(&card))).is_none() {
                    return;
                }
                Some(typed)
            } else {
                None
            };
            pay(checkout, PayWith::SavedCard(card, cvc));
            return;
        }
        let Some(card) = fields.validated() else {
            return;
        };
        pay(
            checkout,
            PayWith::Card(card, may_save && save.get_untracked()),
        );
    };
    // Another card, or another answer about keeping it, is another attempt.
    let choose = move |card: String| {
        choice.set(card);
        attempt::clear_current();
    };
    let consent = move |keep: bool| {
        save.set(keep);
        attempt::clear_current();
    };

    // Any edit to the card makes the next Pay a new attempt with a new key.
    let edited = move |field: Field, value: String| {
        field.value.set(value);
        field.error.set(String::new());
        attempt::clear_current();
        host::post(
            "change",
            FormState {
                complete: fields.complete(),
                brand: Brand::detect(&card::digits_only(&fields.number.value.get_untracked())),
            },
        );
    };
    let cvc_length = move || fields.brand().map_or(3, Brand::cvc_length);

    view! {
        <form class="card-form" on:submit=submit novalidate>
            <p class="total">
                {t.total} " " <strong>{amount}</strong>
                {conversion.map(|text| view! {
                    <span class="converted" aria-hidden="true">" · " {text.visible}</span>
                    <span class="sr-only">{text.spoken}</span>
                })}
            </p>
            {split.map(|(wallet, card)| view! {
                <p class="wallet-split">{(t.wallet_and_card)(&wallet, &card)}</p>
            })}
            {(!saved_cards.is_empty() && !wallet_pays_all)
                .then(|| when_loaded(Box::pin(saved_cards_list(saved_cards, choice, Callback::new(choose)))))}
            {ask_cvc.then(|| view! {
                <div class="saved-cvc" hidden=move || choice.get().is_empty()>
                    <CardField id="saved-card-cvc" label=t.security_code name="cvc" autocomplete="cc-csc"
                        inputmode="numeric" maxlength="4" field=saved_cvc
                        on_input=move |text: String| {
                            edited(saved_cvc, text.chars().filter(char::is_ascii_digit).take(4).collect())
                        } />
                </div>
            })}
            <div class="new-card" hidden=move || wallet_pays_all || !choice.get().is_empty()>
            <CardField id="card-number" label=t.card_number name="cardnumber" autocomplete="cc-number" inputmode="numeric"
                placeholder="1234 1234 1234 1234"
                field=fields.number
                brand=move || fields.brand().map_or("", Brand::display_name).to_string()
                on_input=move |text: String| edited(fields.number, format_number(&text))
                check_on_blur=move |()| { Fields::show(fields.number, fields.check_number()); } />
            <div class="row">
                <CardField id="card-expiry" label=t.expiry name="exp-date" autocomplete="cc-exp" inputmode="numeric"
                    placeholder=t.expiry_placeholder
                    field=fields.expiry
                    on_input=move |text: String| edited(fields.expiry, format_expiry(&text))
                    check_on_blur=move |()| { Fields::show(fields.expiry, fields.check_expiry()); } />
                <CardField id="card-cvc" label=t.security_code name="cvc" autocomplete="cc-csc" inputmode="numeric"
                    placeholder=move || (t.cvc_placeholder)(cvc_length())
                    maxlength=move || cvc_length().to_string()
                    field=fields.cvc
                    on_input=move |text: String| {
                        edited(fields.cvc, text.chars().filter(char::is_ascii_digit).take(4).collect())
                    }
                    check_on_blur=move |()| { Fields::show(fields.cvc, fields.check_cvc()); } />
            </div>
            <CardField id="card-name" label=t.name_on_card name="ccname" autocomplete="cc-name"
                field=fields.name
                on_input=move |text: String| edited(fields.name, text) />
            {may_save.then(|| view! {
                <label class="consent">
                    <input id="save-card" type="checkbox" prop:checked=move || save.get()
                        on:change=move |ev| consent(event_target_checked(&ev)) />
                    {t.save_card}
                </label>
            })}
            </div>
            <p id="form-error" class="error form-error" role="alert">{move || form_error.get()}</p>
            <button id="pay" type="submit" disabled=move || paying.get() aria-busy=move || paying.get().to_string()>
                {move || if paying.get() { t.processing.to_string() } else { pay_label.clone() }}
            </button>
            <p class="secure">{secure_note}</p>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::to_string;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_host_learns_the_forms_state_and_errors_in_its_documented_shape() {
        let unknown = FormState {
            complete: false,
            brand: None,
        };
        assert_eq!(
            to_string(&unknown).as_deref(),
            Some(r#"{"complete":false,"brand":null}"#)
        );
        let amex = FormState {
            complete: true,
            brand: Some(Brand::Amex),
        };
        assert_eq!(
            to_string(&amex).as_deref(),
            Some(r#"{"complete":true,"brand":"amex"}"#)
        );
        let error = HostError {
            code: "card_declined",
            message: "Your card was declined.",
        };
        assert_eq!(
            to_string(&error).as_deref(),
            Some(r#"{"code":"card_declined","message":"Your card was declined."}"#)
        );
    }
}
