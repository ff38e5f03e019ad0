//! The team: who may sign in, with which role; owners invite people by e-mail, change roles
//! and remove people.

use crate::api::{self, Listed};
use crate::app::Dashboard;
use crate::format;
use crate::strings::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use till_core::team::{InvitationView, MemberView, Role};

const ROLES: [Role; 3] = [Role::Owner, Role::Developer, Role::Analyst];

#[component]
pub fn Team() -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let members = RwSignal::new(Vec::<MemberView>::new());
    let invitations = RwSignal::new(Vec::<InvitationView>::new());
    let reload = move || {
        spawn_local(async move {
            match api::get::<Listed<MemberView>>("/v1/team/members").await {
                Ok(list) => members.set(list.data),
                Err(error) => return dashboard.fail(&error),
            }
            if let Ok(list) = api::get::<Listed<InvitationView>>("/v1/team/invitations").await {
                invitations.set(list.data);
            }
        });
    };
    reload();
    let change =
        move |method: &'static str, path: String, body: serde_json::Value, done: &'static str| {
            dashboard.change(method, path, body, done, move |_| reload())
        };
    let role_options = move |current: Role| {
        ROLES
            .iter()
            .map(|r| view! { <option value=r.as_str() selected=*r == current>{t().role(*r)}</option> })
            .collect_view()
    };
    let member_rows = move || {
        members
            .get()
            .into_iter()
            .map(|m| {
                let path = format!("/v1/team/members/{}", m.id);
                let remove_path = path.clone();
                let owner = dashboard.is_owner();
                view! {
                    <tr>
                        <td>{m.name.clone()}</td>
                        <td>{m.email.clone()}</td>
                        <td>{if owner {
                            view! {
                                <select aria-label=format!("{} {}", t().role, m.email)
                                    on:change=move |ev| change("POST", path.clone(), json!({ "role": event_target_value(&ev) }), t().role_changed)>
                                    {role_options(m.role)}
                                </select>
                            }.into_any()
                        } else {
                            view! { <span>{t().role(m.role)}</span> }.into_any()
                        }}</td>
                        <td>{if m.totp_enabled { t().on } else { t().off }}</td>
                        <td>{owner.then(|| view! {
                            <button type="button" class="quiet" on:click=move |_| change("DELETE", remove_path.clone(), json!({}), t().removed)>{t().remove}</button>
                        })}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let invitation_rows = move || {
        invitations
            .get()
            .into_iter()
            .map(|i| view! {
                <tr><td>{i.email.clone()}</td><td>{t().role(i.role)}</td><td>{i.status.clone()}</td><td>{format::date_time(i.expires)}</td></tr>
            })
            .collect_view()
    };
    let (email, role) = (
        RwSignal::new(String::new()),
        RwSignal::new("developer".to_string()),
    );
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change(
            "POST",
            "/v1/team/invitations".into(),
            json!({ "email": email.get_untracked(), "role": role.get_untracked() }),
            t().invited,
        );
        email.set(String::new());
    };
    view! {
        <section>
            <h1>{t().team}</h1>
            <h2>{t().members}</h2>
            <table class="list" id="members">
                <thead><tr><th scope="col">{t().name}</th><th scope="col">{t().email}</th><th scope="col">{t().role}</th>
                    <th scope="col">{t().second_factor}</th><th scope="col"></th></tr></thead>
                <tbody>{member_rows}</tbody>
            </table>
            <Show when=move || dashboard.is_owner()>
                <h2>{t().invitations}</h2>
                <form class="filters" on:submit=invite>
                    <div class="field">
                        <label for="invite-email">{t().email}</label>
                        <input id="invite-email" type="email" required prop:value=move || email.get()
                            on:input=move |ev| email.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="invite-role">{t().role}</label>
                        <select id="invite-role" on:change=move |ev| role.set(event_target_value(&ev))>
                            {role_options(Role::Developer)}
                        </select>
                    </div>
                    <button type="submit">{t().invite}</button>
                </form>
                <table class="list" id="invitations"><tbody>{invitation_rows}</tbody></table>
            </Show>
        </section>
    }
}
