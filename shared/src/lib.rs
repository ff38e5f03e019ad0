//! Till's domain core, compiled by the widget (wasm), the edge (wasm) and natively for tests.
//!
//! Nothing here does I/O: callers pass in the clock, randomness and storage results.

pub mod api;
pub mod api_keys;
pub mod appearance;
pub mod card;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod error;
pub mod idempotency;
pub mod ids;
pub mod jwe;
pub mod money;
pub mod payment;
pub mod reconciliation;
pub mod secret;
pub mod webhook;
