//! Signing in (email and password, then the authenticator code when the account has one) and
//! signing up from an invitation link.

use crate::api::{self, CallResult};
use crate::app::Dashboard;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::team::DashboardSessionView;

/// A labelled input bound to `value`.
#[component]
pub fn Input(
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] numeric: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete=autocomplete required
                inputmode=numeric.then_some("numeric")
                aria-describedby=hint.map(|_| hint_id.clone())
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev)) />
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
        </div>
    }
}

/// Turns the answer to a sign-in or sign-up into the session, or the words for what failed.
fn settle(
    dashboard: Dashboard,
    error: RwSignal<Option<String>>,
    result: CallResult<DashboardSessionView>,
) {
    match result {
        Ok(session) => {
            // The invitation's token leaves the address once used.
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_hash("/overview");
            }
            dashboard.session.set(Some(session));
        }
        Err(failure) => error.set(Some(t().error(&failure))),
    }
}

#[component]
pub fn SignIn() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let (email, password, code) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let asks_code = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let mut body =
            json!({ "email": email.get_untracked(), "password": password.get_untracked() });
        if asks_code.get_untracked() {
            body["code"] = json!(code.get_untracked());
        }
        spawn_local(async move {
            let result = api::send("POST", "/v1/dashboard/sign_in", &body, None, None).await;
            busy.set(false);
            match result {
                Err(failure) if failure.is("totp_required") => {
                    asks_code.set(true);
                    error.set(None);
                }
                other => settle(dashboard, error, other),
            }
        });
    };
    view! {
        <main class="card">
            <crate::app::Languages />
            <h1>{t().sign_in_title}</h1>
            <form on:submit=submit>
                <Input id="email" label=t().email kind="email" autocomplete="username" value=email />
                <Input id="password" label=t().password kind="password" autocomplete="current-password" value=password />
                <Show when=move || asks_code.get()>
                    <Input id="code" label=t().code kind="text" autocomplete="one-time-code" value=code hint=t().code_hint numeric=true />
                </Show>
                <p class="error" role="alert">{move || error.get()}</p>
                <button type="submit" disabled=move || busy.get()>{t().sign_in}</button>
            </form>
        </main>
    }
}

#[component]
pub fn SignUp(token: String) -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let (name, password) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let body = json!({ "invitation": token, "name": name.get_untracked(), "password": password.get_untracked() });
        spawn_local(async move {
            let result = api::send("POST", "/v1/dashboard/sign_up", &body, None, None).await;
            busy.set(false);
            settle(dashboard, error, result);
        });
    };
    view! {
        <main class="card">
            <h1>{t().sign_up_title}</h1>
            <form on:submit=submit>
                <Input id="name" label=t().name kind="text" autocomplete="name" value=name />
                <Input id="new-password" label=t().password kind="password" autocomplete="new-password" value=password hint=t().new_password_hint />
                <p class="error" role="alert">{move || error.get()}</p>
                <button type="submit" disabled=move || busy.get()>{t().create_account}</button>
            </form>
        </main>
    }
}
