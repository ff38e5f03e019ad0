//! The signed-in person's own account: the optional second factor (an authenticator app's
//! codes at sign-in), set up with the secret shown once and confirmed with a code.

use crate::app::Dashboard;
use crate::sign_in::Input;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::team::{DashboardSessionView, TotpSetupView};

#[component]
pub fn Account() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let setup = RwSignal::new(None::<TotpSetupView>);
    let code = RwSignal::new(String::new());
    let enabled = move || dashboard.session.get().is_some_and(|s| s.user.totp_enabled);
    let start = move |_| {
        spawn_local(async move {
            match dashboard
                .send::<TotpSetupView, _>("POST", "/v1/dashboard/totp", &json!({}), None)
                .await
            {
                Ok(found) => setup.set(Some(found)),
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let path = if enabled() {
            "/v1/dashboard/totp/disable"
        } else {
            "/v1/dashboard/totp/enable"
        };
        let body = json!({ "code": code.get_untracked() });
        spawn_local(async move {
            match dashboard
                .send::<DashboardSessionView, _>("POST", path, &body, None)
                .await
            {
                Ok(session) => {
                    let on = session.user.totp_enabled;
                    dashboard.session.set(Some(session));
                    setup.set(None);
                    code.set(String::new());
                    dashboard.tell(if on {
                        t().second_factor_on
                    } else {
                        t().second_factor_off
                    });
                }
                Err(error) => dashboard.fail(&error),
            }
        });
    };
    view! {
        <section>
            <h1>{t().account}</h1>
            <h2>{t().second_factor}</h2>
            <p id="totp-state">{move || if enabled() { t().on } else { t().off }}</p>
            <Show when=move || !enabled() && setup.get().is_none()>
                <button type="button" id="totp-start" on:click=start>{t().set_up}</button>
            </Show>
            {move || setup.get().map(|s| view! {
                <div class="actions">
                    <p>{t().totp_instructions}</p>
                    <p class="mono" id="totp-secret">{s.secret.clone()}</p>
                    <p><a href=s.uri.clone()>{t().open_in_app}</a></p>
                </div>
            })}
            <Show when=move || enabled() || setup.get().is_some()>
                <form class="filters" on:submit=confirm>
                    <Input id="totp-code" label=t().code kind="text" autocomplete="one-time-code" value=code numeric=true />
                    <button type="submit">{move || if enabled() { t().turn_off } else { t().turn_on }}</button>
                </form>
            </Show>
        </section>
    }
}
