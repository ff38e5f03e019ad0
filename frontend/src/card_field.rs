//! One card input with its label and its error line: the markup every card field shares.

use leptos::prelude::*;

/// What the customer typed in one field, and what is wrong with it (shown under the input;
/// empty when nothing is). Errors are plain strings, as the DOM's `validationMessage` is: a
/// signal of another type would cost the widget its own copy of the signal code.
#[derive(Clone, Copy)]
pub struct Field {
    pub value: RwSignal<String>,
    pub error: RwSignal<String>,
}

impl Field {
    pub fn new() -> Self {
        Field {
            value: RwSignal::new(String::new()),
            error: RwSignal::new(String::new()),
        }
    }
}

/// A labelled text input whose error line, `{id}-error`, describes it and is announced as it
/// changes.
#[component]
pub fn CardField(
    /// The input's `id`, which the label points at.
    id: &'static str,
    label: &'static str,
    /// The input's `name`; with `autocomplete`, what lets browsers fill a saved card.
    name: &'static str,
    autocomplete: &'static str,
    /// `numeric` brings up the digit keypad on phones.
    #[prop(optional)]
    inputmode: Option<&'static str>,
    #[prop(optional, into)] placeholder: Option<Signal<String>>,
    #[prop(optional, into)] maxlength: Option<Signal<String>>,
    field: Field,
    /// Receives the input's text on every keystroke.
    #[prop(into)]
    on_input: Callback<String>,
    /// Shows the field's error when it loses focus with something typed in it.
    #[prop(optional, into)]
    check_on_blur: Option<Callback<()>>,
    /// The card brand's name, shown beside the input as soon as it is known (empty until
    /// then; a string like the other text props, so no signal of another type is linked).
    #[prop(optional, into)]
    brand: Option<Signal<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let input = view! {
        <input id=id name=name type="text" inputmode=inputmode autocomplete=autocomplete
            placeholder=move || placeholder.map(|text| text.get())
            maxlength=move || maxlength.map(|length| length.get())
            aria-invalid=move || (!field.error.get().is_empty()).to_string()
            aria-describedby=error_id.clone()
            prop:value=move || field.value.get()
            on:input=move |ev| on_input.run(event_target_value(&ev))
            on:blur=move |_| {
                if let Some(check) = check_on_blur {
                    if !field.value.get_untracked().is_empty() {
                        check.run(());
                    }
                }
            } />
    };
    let control = match brand {
        Some(brand) => view! {
            <div class="with-brand">
                {input}
                <span class="brand" aria-live="polite">{move || brand.get()}</span>
            </div>
        }
        .into_any(),
        None => input.into_any(),
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {control}
            <p id=error_id class="error" aria-live="polite">{move || field.error.get()}</p>
        </div>
    }
}
