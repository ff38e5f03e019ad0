//! Till's domain core, compiled by the widget (wasm), the edge (wasm) and natively for tests.
//!
//! Nothing here does I/O: callers pass in the clock, randomness and storage results.
//!
//! Outside tests nothing may panic on input: no indexing, slicing, `unwrap` or `expect`.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::string_slice,
        clippy::unwrap_used,
        clippy::expect_used
    )
)]

pub mod api;
pub mod api_keys;
pub mod appearance;
pub mod backoff;
pub mod billing_period;
pub mod bin_table;
pub mod card;
pub mod catalogue;
pub mod chart;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod customer;
pub mod dispute;
pub mod dunning_email;
pub mod error;
pub mod fx;
pub mod idempotency;
pub mod ids;
pub mod invoice;
pub mod json;
pub mod jwe;
pub mod ledger;
pub mod listing;
pub(crate) mod mac;
pub mod merchant;
pub mod metrics;
pub mod money;
#[cfg(feature = "crypto")]
pub mod password;
pub mod payment;
pub mod payment_method_type;
pub mod payout;
pub mod proration;
pub mod rate_limit;
pub mod receipt;
pub mod reconciliation;
pub mod refund_request;
pub mod reports;
pub mod retention;
pub mod risk;
pub mod risk_rules;
pub mod routes;
pub mod secret;
pub mod server_timing;
pub mod spread;
pub mod subscription;
pub mod team;
pub mod test_clock;
pub mod timeline;
#[cfg(feature = "crypto")]
pub mod totp;
pub mod transfer;
pub mod urls;
pub mod velocity;
pub mod wallet_payment;
pub mod webhook;
