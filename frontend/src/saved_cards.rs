//! The cards a returning customer saved, offered above the card form when the merchant opened
//! the widget with a customer session. Choosing one pays without typing the card again.
//!
//! Reading and showing them is in the `saved_cards` chunk: a guest's checkout never downloads
//! it. The chunk is fetched alongside the session, so the form shows with the cards.

use crate::api::{Edge, SavedCard};
use crate::i18n;
use crate::lazy::{door, SplitLoaderError};
use futures_util::future::LocalBoxFuture;
use leptos::prelude::*;

door! { saved_cards;
    /// The door to the customer's saved cards, in the `saved_cards` chunk: fetches the chunk,
    /// then the cards the customer session (`cuss_…_secret_…`) may see. A customer whose cards
    /// cannot be read types a card, as a guest does.
    pub fn saved_cards_of(
        edge: Edge,
        customer_session: String,
    ) -> Result<LocalBoxFuture<'static, Vec<SavedCard>>, SplitLoaderError> {
        Ok(Box::pin(async move {
            edge.saved_cards(&customer_session).await.unwrap_or_default()
        }))
    }
}

door! { saved_cards;
    /// The door to the list of saved cards, in the `saved_cards` chunk (already fetched when
    /// there are cards to list: they were read through it).
    pub fn saved_cards_list(
        cards: Vec<SavedCard>,
        choice: RwSignal<String>,
        on_choose: Callback<String>,
    ) -> Result<AnyView, SplitLoaderError> {
        Ok(view! { <SavedCards cards=cards choice=choice on_choose=on_choose /> }.into_any())
    }
}

/// The radio group: one option per saved card, then "a new card". `choice` holds the chosen
/// card's id, empty for a new card; `on_choose` is told of every choice the customer makes.
#[component]
fn SavedCards(
    cards: Vec<SavedCard>,
    choice: RwSignal<String>,
    on_choose: Callback<String>,
) -> impl IntoView {
    let t = i18n::t();
    let options = cards
        .into_iter()
        .map(|saved| {
            let id = saved.id.clone();
            let chosen = {
                let id = id.clone();
                move || choice.get() == id
            };
            let face = format!(
                "{} •••• {}",
                saved.card.brand.display_name(),
                saved.card.last4
            );
            let expiry = format!(
                "{} {:02}/{:02}",
                t.expires,
                saved.card.exp_month,
                saved.card.exp_year % 100
            );
            view! {
                <label class="saved-card">
                    <input type="radio" name="saved-card" value=id.clone() prop:checked=chosen
                        on:change=move |_| on_choose.run(id.clone()) />
                    <span class="face">{face}</span>
                    <span class="expiry">{expiry}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="saved-cards">
            <legend>{t.saved_cards}</legend>
            {options}
            <label class="saved-card">
                <input id="new-card" type="radio" name="saved-card" value="new"
                    prop:checked=move || choice.get().is_empty()
                    on:change=move |_| on_choose.run(String::new()) />
                <span class="face">{t.new_card}</span>
            </label>
        </fieldset>
    }
}
