//! The checkout's first download holds what shows the form; what only some customers need (a
//! bank or wallet payment) and what comes after Pay (paying, the issuer's challenge, the
//! receipt) is split into wasm chunks fetched when first needed. Each `#[wasm_split(chunk,
//! ...)]` function is a door into its chunk; `cargo xtask build` cuts the wasm apart at those
//! doors (`wasm-split-cli`). Doors are `fallible`: a chunk that cannot be fetched is an error
//! the customer can retry (the next call fetches again), never a crash.

use crate::i18n;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped;
use std::future::Future;

pub use leptos::wasm_split::{wasm_split, SplitLoaderError};

/// Shows the view `door` makes once its chunk has arrived: nothing until then, and the network
/// error if it cannot arrive. The view is made under the caller's reactive owner, so it finds
/// the contexts the App provides.
pub fn when_loaded<Door>(door: Door) -> AnyView
where
    Door: Future<Output = Result<AnyView, SplitLoaderError>> + 'static,
{
    let view = StoredValue::new_local(None::<AnyView>);
    let arrived = Trigger::new();
    spawn_local_scoped(async move {
        let made = door.await.unwrap_or_else(|_| {
            view! { <p class="error form-error" role="alert">{i18n::t().network_error}</p> }
                .into_any()
        });
        // The stage may have moved on while the chunk was on its way.
        if view.try_set_value(Some(made)).is_none() {
            arrived.notify();
        }
    });
    // Runs again only when the view arrives, and hands it over once.
    (move || {
        arrived.track();
        view.try_update_value(Option::take).flatten()
    })
    .into_any()
}
