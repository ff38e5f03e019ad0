//! What the customer sees once the payment went through.

use crate::api::{Payment, Session};
use crate::i18n;
use crate::locale::amount_text;
use leptos::prelude::*;

#[component]
pub fn Receipt(session: Session, payment: Payment) -> impl IntoView {
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
