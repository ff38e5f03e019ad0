//! What any Leptos page built the widget's way costs before it does anything of its own: one
//! labelled input bound to a signal, its error line and a submit button. `cargo xtask bench`
//! builds it with the widget's toolchain, flags and finishing steps and prints its size beside
//! the widget's, so the widget's own share of its bytes is visible in every run.

use leptos::prelude::*;

#[component]
fn OneInputForm() -> impl IntoView {
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<&'static str>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if code.get_untracked().len() < 4 {
            error.set(Some("Enter at least 4 characters."));
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <label for="code">"Code"</label>
            <input id="code" type="text" prop:value=move || code.get()
                on:input=move |ev| {
                    code.set(event_target_value(&ev));
                    error.set(None);
                } />
            <p class="error" aria-live="polite">{move || error.get()}</p>
            <button type="submit">"Send"</button>
        </form>
    }
}

fn main() {
    leptos::mount::mount_to_body(OneInputForm);
}
