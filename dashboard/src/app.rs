//! The dashboard's frame: who is signed in, which page the address names (`#/payments/pay_…`),
//! and the navigation between pages. Without a session it shows sign-in, or sign-up when the
//! address holds an invitation (`#invitation=…`).

use crate::api::{self, CallError};
use crate::strings::t;
use crate::{
    account, customers, disputes, keys, overview, payments, performance, reconciliation,
    refund_requests, risk, sign_in, subscriptions, team, webhooks,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use till_core::team::{DashboardSessionView, Role};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;

/// A page of the dashboard, as named in the address' fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Overview,
    Payments,
    Payment(String),
    RefundRequests,
    Risk,
    Disputes,
    Customers,
    Subscriptions,
    Reconciliation,
    Webhooks,
    Keys,
    Performance,
    Team,
    Account,
}

impl Page {
    pub fn from_fragment(fragment: &str) -> Page {
        let path = fragment.trim_start_matches('#').trim_start_matches('/');
        match path.split_once('/') {
            Some(("payments", id)) if !id.is_empty() => Page::Payment(id.to_string()),
            _ => match path {
                "payments" => Page::Payments,
                "refund_requests" => Page::RefundRequests,
                "risk" => Page::Risk,
                "disputes" => Page::Disputes,
                "customers" => Page::Customers,
                "subscriptions" => Page::Subscriptions,
                "reconciliation" => Page::Reconciliation,
                "webhooks" => Page::Webhooks,
                "keys" => Page::Keys,
                "performance" => Page::Performance,
                "team" => Page::Team,
                "account" => Page::Account,
                _ => Page::Overview,
            },
        }
    }

    pub fn href(&self) -> String {
        match self {
            Page::Overview => "#/overview".into(),
            Page::Payments => "#/payments".into(),
            Page::Payment(id) => format!("#/payments/{id}"),
            Page::RefundRequests => "#/refund_requests".into(),
            Page::Risk => "#/risk".into(),
            Page::Disputes => "#/disputes".into(),
            Page::Customers => "#/customers".into(),
            Page::Subscriptions => "#/subscriptions".into(),
            Page::Reconciliation => "#/reconciliation".into(),
            Page::Webhooks => "#/webhooks".into(),
            Page::Keys => "#/keys".into(),
            Page::Performance => "#/performance".into(),
            Page::Team => "#/team".into(),
            Page::Account => "#/account".into(),
        }
    }
}

/// What every page shares: the session and the latest news for the person.
#[derive(Clone, Copy)]
pub struct Dashboard {
    pub session: RwSignal<Option<DashboardSessionView>>,
    pub notice: RwSignal<Option<String>>,
}

impl Dashboard {
    pub fn csrf(&self) -> Option<String> {
        self.session.get_untracked().map(|s| s.csrf_token)
    }

    /// Whether the person may change things (analysts only read).
    pub fn may_change(&self) -> bool {
        self.session
            .get()
            .is_some_and(|s| s.user.role != Role::Analyst)
    }

    pub fn is_owner(&self) -> bool {
        self.session
            .get()
            .is_some_and(|s| s.user.role == Role::Owner)
    }

    pub fn tell(&self, news: impl Into<String>) {
        self.notice.set(Some(news.into()));
    }

    /// Shows what went wrong; an ended session goes back to sign-in.
    pub fn fail(&self, error: &CallError) {
        if error.is("session_required") {
            self.session.set(None);
        }
        self.notice.set(Some(t().error(error)));
    }

    /// A change the person asked for, sent with the session's CSRF token: on success `done` is
    /// told and `then` runs with the answer; on failure the error is shown.
    pub fn change(
        &self,
        method: &'static str,
        path: String,
        body: serde_json::Value,
        done: &'static str,
        then: impl Fn(serde_json::Value) + 'static,
    ) {
        let dashboard = *self;
        spawn_local(async move {
            match dashboard
                .send::<serde_json::Value, _>(method, &path, &body, None)
                .await
            {
                Ok(answer) => {
                    dashboard.tell(done);
                    then(answer);
                }
                Err(error) => dashboard.fail(&error),
            }
        });
    }

    /// A change with the session's CSRF token.
    pub async fn send<T: serde::de::DeserializeOwned, B: serde::Serialize>(
        &self,
        method: &str,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> api::CallResult<T> {
        api::send(method, path, body, self.csrf().as_deref(), idempotency_key).await
    }
}

fn fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The invitation token in the address (`#invitation=…`), if any.
fn invitation() -> Option<String> {
    fragment()
        .strip_prefix("#invitation=")
        .filter(|token| !token.is_empty())
        .map(str::to_string)
}

fn set_language() {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", t().lang);
    }
}

#[component]
pub fn App() -> impl IntoView {
    set_language();
    let dashboard = Dashboard {
        session: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    provide_context(dashboard);
    let checked = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(session) = api::get::<DashboardSessionView>("/v1/dashboard/session").await {
            dashboard.session.set(Some(session));
        }
        checked.set(true);
    });
    let page = RwSignal::new(Page::from_fragment(&fragment()));
    let on_hash_change = Closure::<dyn Fn()>::new(move || {
        page.set(Page::from_fragment(&fragment()));
        dashboard.notice.set(None);
    });
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback(
            "hashchange",
            on_hash_change.as_ref().unchecked_ref(),
        );
    }
    on_hash_change.forget();
    view! {
        {move || {
            if !checked.get() {
                view! { <p class="status">{t().loading}</p> }.into_any()
            } else if dashboard.session.get().is_some() {
                view! { <Shell page=page /> }.into_any()
            } else if let Some(token) = invitation() {
                view! { <sign_in::SignUp token=token /> }.into_any()
            } else {
                view! { <sign_in::SignIn /> }.into_any()
            }
        }}
    }
}

/// English or Korean, whatever the browser says.
#[component]
pub fn Languages() -> impl IntoView {
    let current = t().lang;
    let choice = move |lang: &'static str, name: &'static str| {
        view! {
            <button type="button" class="quiet lang" lang=lang aria-pressed=(current == lang).to_string()
                on:click=move |_| crate::strings::choose(lang)>{name}</button>
        }
    };
    view! { <span class="languages">{choice("en", "English")}{choice("ko", "한국어")}</span> }
}

#[component]
fn Shell(page: RwSignal<Page>) -> impl IntoView {
    let dashboard = expect_context::<Dashboard>();
    let links = [
        (Page::Overview, t().overview),
        (Page::Payments, t().payments),
        (Page::RefundRequests, t().refund_requests),
        (Page::Risk, t().risk),
        (Page::Disputes, t().disputes),
        (Page::Customers, t().customers),
        (Page::Subscriptions, t().subscriptions),
        (Page::Reconciliation, t().reconciliation),
        (Page::Webhooks, t().webhooks),
        (Page::Keys, t().keys),
        (Page::Performance, t().performance),
        (Page::Team, t().team),
        (Page::Account, t().account),
    ]
    .into_iter()
    .map(|(target, label)| {
        let current = {
            let target = target.clone();
            move || {
                let here = page.get();
                let same = here == target
                    || (target == Page::Payments && matches!(here, Page::Payment(_)));
                same.then_some("page")
            }
        };
        view! { <li><a href=target.href() aria-current=current>{label}</a></li> }
    })
    .collect_view();
    let who = move || {
        dashboard.session.get().map(|s| {
            format!(
                "{} · {} · {}",
                s.user.email,
                t().role(s.user.role),
                s.merchant_name
            )
        })
    };
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = dashboard
                .send::<serde_json::Value, _>(
                    "POST",
                    "/v1/dashboard/sign_out",
                    &serde_json::json!({}),
                    None,
                )
                .await;
            dashboard.session.set(None);
        });
    };
    view! {
        <header class="top">
            <strong class="brand">{t().title}</strong>
            <span class="who">{t().signed_in_as}" "{who}</span>
            <Languages />
            <button type="button" class="quiet" on:click=sign_out>{t().sign_out}</button>
        </header>
        <nav aria-label=t().nav_label><ul>{links}</ul></nav>
        <p class="notice" role="status" aria-live="polite">{move || dashboard.notice.get()}</p>
        <main>
            {move || match page.get() {
                Page::Overview => view! { <overview::Overview /> }.into_any(),
                Page::Payments => view! { <payments::Payments /> }.into_any(),
                Page::Payment(id) => view! { <payments::PaymentDetail id=id /> }.into_any(),
                Page::RefundRequests => view! { <refund_requests::RefundRequests /> }.into_any(),
                Page::Risk => view! { <risk::Risk /> }.into_any(),
                Page::Disputes => view! { <disputes::Disputes /> }.into_any(),
                Page::Customers => view! { <customers::Customers /> }.into_any(),
                Page::Subscriptions => view! { <subscriptions::Subscriptions /> }.into_any(),
                Page::Reconciliation => view! { <reconciliation::Reconciliation /> }.into_any(),
                Page::Webhooks => view! { <webhooks::Webhooks /> }.into_any(),
                Page::Keys => view! { <keys::Keys /> }.into_any(),
                Page::Performance => view! { <performance::Performance /> }.into_any(),
                Page::Team => view! { <team::Team /> }.into_any(),
                Page::Account => view! { <account::Account /> }.into_any(),
            }}
        </main>
    }
}
