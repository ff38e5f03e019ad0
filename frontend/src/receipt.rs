//! What the customer sees once the payment went through.

use crate::api::{Payment, Session};
use crate::i18n;
use crate::lazy::{door, SplitLoaderError};
use crate::locale::{amount_of, amount_text};
use leptos::prelude::*;

door! { pay;
    /// The door to the receipt, in the `pay` chunk (fetched while the customer types).
    pub fn receipt(session: Session, payment: Payment) -> Result<AnyView, SplitLoaderError> {
        Ok(view! { <Receipt session=session payment=payment /> }.into_any())
    }
}

#[component]
fn Receipt(session: Session, payment: Payment) -> impl IntoView {
    let amount = amount_text(&session);
    let t = i18n::t();
    // A card payment names the card; a bank payment the bank; the wallet says what it paid.
    let (paid_with, source) = match (&payment.card, &payment.bank) {
        (Some(card), _) => (
            t.card,
            format!("{} •••• {}", card.brand.display_name(), card.last4),
        ),
        (None, Some(bank)) => (t.bank, bank.name.clone()),
        (None, None) => (t.method_wallet, amount.clone()),
    };
    let from_wallet = (payment.wallet_amount > 0 && payment.card.is_some()).then(|| {
        view! { <dt>{t.method_wallet}</dt><dd class="wallet-part">{amount_of(&session, payment.wallet_amount)}</dd> }
    });
    view! {
        <section class="receipt" role="status" aria-live="polite">
            <h1>{t.payment_successful}</h1>
            <p class="amount">{amount}</p>
            <dl>
                <dt>{t.paid_to}</dt><dd>{session.merchant_name}</dd>
                {from_wallet}
                <dt>{paid_with}</dt><dd>{source}</dd>
                <dt>{t.payment}</dt><dd class="payment-id">{payment.id}</dd>
            </dl>
        </section>
    }
}
