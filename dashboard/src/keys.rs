//! API keys (made, rolled, revoked; a new key is shown once) and the page origins allowed to
//! embed the checkout.

use crate::api::{self, Listed};
use crate::app::Dashboard;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::merchant::{ApiKeyView, OriginView};

#[component]
pub fn Keys() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let keys = RwSignal::new(Vec::<ApiKeyView>::new());
    let origins = RwSignal::new(Vec::<OriginView>::new());
    let shown_once = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match api::get::<Listed<ApiKeyView>>("/v1/api_keys").await {
                Ok(list) => keys.set(list.data),
                Err(error) => return dashboard.fail(&error),
            }
            if let Ok(list) = api::get::<Listed<OriginView>>("/v1/origins").await {
                origins.set(list.data);
            }
        });
    };
    reload();
    let change =
        move |method: &'static str, path: String, body: serde_json::Value, done: &'static str| {
            dashboard.change(method, path, body, done, move |answer| {
                let secret = answer.get("secret").and_then(|s| s.as_str());
                shown_once.set(secret.map(str::to_string));
                reload();
            })
        };
    let key_rows = move || {
        keys.get()
            .into_iter()
            .map(|k| {
                let active = k.revoked.is_none() && k.rolled_to.is_none();
                let (roll, revoke) = (format!("/v1/api_keys/{}/roll", k.id), format!("/v1/api_keys/{}/revoke", k.id));
                let state = if k.revoked.is_some() {
                    t().revoked.to_string()
                } else if let Some(expires) = k.expires {
                    format!("{} {}", t().expires, format::date_time(expires))
                } else {
                    t().active.to_string()
                };
                view! {
                    <tr>
                        <td>{k.kind.as_str()}</td>
                        <td class="mono">{k.redacted.clone()}</td>
                        <td>{k.name.clone()}</td>
                        <td>{k.scopes.clone().map(|s| s.join(", "))}</td>
                        <td>{state}</td>
                        <td>{(active && dashboard.may_change()).then(|| view! {
                            <button type="button" class="quiet" on:click=move |_| change("POST", roll.clone(), json!({ "expires_in": 86_400 }), t().rolled)>{t().roll}</button>
                            <button type="button" class="quiet" on:click=move |_| change("POST", revoke.clone(), json!({}), t().revoked)>{t().revoke}</button>
                        })}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let origin_rows = move || {
        origins
            .get()
            .into_iter()
            .map(|o| {
                let path = format!("/v1/origins/{}", api::encode(&o.origin));
                view! {
                    <li><span class="mono">{o.origin.clone()}</span>" "
                        {dashboard.may_change().then(|| view! {
                            <button type="button" class="quiet" on:click=move |_| change("DELETE", path.clone(), json!({}), t().removed)>{t().remove}</button>
                        })}</li>
                }
            })
            .collect_view()
    };
    let (kind, name) = (
        RwSignal::new("secret".to_string()),
        RwSignal::new(String::new()),
    );
    let scopes = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut body = json!({ "kind": kind.get_untracked() });
        if !name.get_untracked().trim().is_empty() {
            body["name"] = json!(name.get_untracked().trim());
        }
        if kind.get_untracked() == "restricted" {
            let list: Vec<String> = scopes
                .get_untracked()
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            body["scopes"] = json!(list);
        }
        change("POST", "/v1/api_keys".into(), body, t().key_created);
    };
    let origin = RwSignal::new(String::new());
    let add_origin = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change(
            "POST",
            "/v1/origins".into(),
            json!({ "origin": origin.get_untracked().trim() }),
            t().origin_added,
        );
        origin.set(String::new());
    };
    view! {
        <section>
            <h1>{t().keys}</h1>
            <Show when=move || shown_once.get().is_some()>
                <div class="actions" role="alert">
                    <p>{t().shown_once}</p>
                    <p class="mono" id="new-key">{move || shown_once.get()}</p>
                </div>
            </Show>
            <table class="list" id="keys">
                <thead><tr><th scope="col">{t().kind}</th><th scope="col">{t().key}</th><th scope="col">{t().key_name}</th>
                    <th scope="col">{t().scopes}</th><th scope="col">{t().status}</th><th scope="col"></th></tr></thead>
                <tbody>{key_rows}</tbody>
            </table>
            <Show when=move || dashboard.may_change()>
                <form class="filters" on:submit=create>
                    <div class="field">
                        <label for="key-kind">{t().kind}</label>
                        <select id="key-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="secret">"secret"</option>
                            <option value="publishable">"publishable"</option>
                            <option value="restricted">"restricted"</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="key-name">{t().key_name}</label>
                        <input id="key-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="key-scopes">{t().scopes}</label>
                        <input id="key-scopes" placeholder="payments:read refunds:write" prop:value=move || scopes.get()
                            on:input=move |ev| scopes.set(event_target_value(&ev)) />
                    </div>
                    <button type="submit">{t().create_key}</button>
                </form>
            </Show>
            <h2>{t().origins}</h2>
            <ul class="origins" id="origins">{origin_rows}</ul>
            <Show when=move || dashboard.may_change()>
                <form class="filters" on:submit=add_origin>
                    <div class="field">
                        <label for="origin">{t().origin}</label>
                        <input id="origin" type="url" required placeholder="https://shop.example" prop:value=move || origin.get()
                            on:input=move |ev| origin.set(event_target_value(&ev)) />
                    </div>
                    <button type="submit">{t().add_origin}</button>
                </form>
            </Show>
        </section>
    }
}
