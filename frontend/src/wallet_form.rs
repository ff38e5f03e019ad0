//! Paying from the customer's Till wallet: all of it when the balance covers the total (the
//! form is then one Pay button), otherwise the balance with a card for the rest (the card form,
//! paying only its part). The edge holds the wallet's part when the payment starts and moves
//! both parts to the merchant together, so a declined card leaves the wallet as it was.

use crate::api::Session;
use crate::card_form::CardForm;
use crate::i18n;
use crate::lazy::{door, SplitLoaderError};
use crate::locale::amount_of;
use crate::stage::Stage;
use leptos::prelude::*;

door! { wallet;
    /// The door to the wallet's form, in the `wallet` chunk: only a customer who picks the
    /// wallet downloads it.
    pub fn wallet_form(
        session: Session,
        notice: Option<String>,
        stage: RwSignal<Stage>,
    ) -> Result<AnyView, SplitLoaderError> {
        Ok(view! { <WalletForm session=session notice=notice stage=stage /> }.into_any())
    }
}

#[component]
fn WalletForm(session: Session, notice: Option<String>, stage: RwSignal<Stage>) -> impl IntoView {
    let t = i18n::t();
    let balance = session.wallet_balance.unwrap_or(0);
    let held = (t.wallet_balance)(&amount_of(&session, balance));
    let pays = (balance > 0).then(|| balance.min(session.amount));
    let empty = pays.is_none().then_some(t.wallet_empty);
    view! {
        <div class="wallet-form">
            <p class="wallet-balance">{held}</p>
            <p class="error form-error" role="alert">{empty}</p>
            {pays.map(|part| view! { <CardForm session=session notice=notice stage=stage wallet_amount=part /> })}
        </div>
    }
}
