//! The cards a returning customer saved, offered above the card form when the merchant opened
//! the widget with a customer session. Choosing one pays without typing the card again.

use crate::api::SavedCard;
use crate::i18n;
use leptos::prelude::*;

/// The radio group: one option per saved card, then "a new card". `choice` holds the chosen
/// card's id, `None` for a new card; `on_choose` is told of every choice the customer makes.
#[component]
pub fn SavedCards(
    cards: Vec<SavedCard>,
    choice: RwSignal<Option<String>>,
    on_choose: impl Fn(Option<String>) + Copy + 'static,
) -> impl IntoView {
    let t = i18n::t();
    let options = cards
        .into_iter()
        .map(|saved| {
            let id = saved.id.clone();
            let chosen = {
                let id = id.clone();
                move || choice.get().as_deref() == Some(id.as_str())
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
                        on:change=move |_| on_choose(Some(id.clone())) />
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
                    prop:checked=move || choice.get().is_none()
                    on:change=move |_| on_choose(None) />
                <span class="face">{t.new_card}</span>
            </label>
        </fieldset>
    }
}
