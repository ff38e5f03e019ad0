//! The merchant's dashboard (`/dashboard/`, built by Trunk from `dashboard.html`): sign-in for
//! the merchant's people, an overview with charts, payments with search, detail and actions,
//! customers' refund requests, fraud rules and reviews, disputes with their evidence,
//! customers, reconciliation runs, webhook endpoints with their deliveries, API keys and
//! origins, per-route latency, the team, and the person's own second factor. It calls the same
//! API as the merchant's servers, with the person's session cookie instead of a key; the edge
//! enforces their role.

mod account;
mod api;
mod app;
mod charts;
mod customers;
mod disputes;
mod format;
mod keys;
mod overview;
mod payments;
mod performance;
mod reconciliation;
mod refund_requests;
mod risk;
mod sign_in;
mod strings;
mod subscriptions;
mod team;
mod webhooks;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
