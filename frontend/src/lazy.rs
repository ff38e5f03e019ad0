//! The checkout's first download holds what shows the form; what only some customers need (a
//! bank or wallet payment, a returning customer's saved cards, the issuer's challenge) and
//! what comes after Pay (paying, the receipt) is split into wasm chunks fetched when first
//! needed. Each [`door!`] is a function
//! whose code (and all only it reaches) goes into its chunk; `cargo xtask build` cuts the wasm
//! apart at the doors (`wasm-split-cli`, xtask's `page_wasm.rs`). Doors are fallible: a chunk
//! that cannot be fetched is an error the customer can retry (the next call fetches again),
//! never a crash.

use crate::i18n;
use futures_util::future::LocalBoxFuture;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped;

pub use leptos::wasm_split::SplitLoaderError;

/// `door!(chunk; fn name(args) -> Result<T, SplitLoaderError> { body })` makes `name` an
/// `async fn` that fetches `chunk` (once) and then runs `body` from it; `door!(chunk,
/// preload(fetch_it); ...)` also makes `async fn fetch_it()` that only fetches. The unit tests'
/// wasm is not cut apart, so there the door is a plain `async fn` and fetching succeeds at once.
macro_rules! door {
    ($chunk:ident $(, preload($preload:ident))?; $(#[$doc:meta])* $vis:vis fn $name:ident(
        $($arg:ident: $ty:ty),* $(,)?
    ) -> $ret:ty $body:block) => {
        $(#[$doc])*
        #[cfg(not(test))]
        #[::leptos::wasm_split::wasm_split(
            $chunk,
            wasm_split_path = ::leptos::wasm_split,
            fallible
            $(, preload($preload))?
        )]
        $vis fn $name($($arg: $ty),*) -> $ret $body

        $(#[$doc])*
        #[cfg(test)]
        $vis async fn $name($($arg: $ty),*) -> $ret $body

        $(
            #[cfg(test)]
            $vis async fn $preload() -> Result<(), $crate::lazy::SplitLoaderError> {
                Ok(())
            }
        )?
    };
}
pub(crate) use door;

/// Shows the view `door` makes once its chunk has arrived: "Loading…" until then (on a slow
/// network the customer who picked the bank sees why nothing else is there yet), and the
/// network error if it cannot arrive. A chunk already fetched shows at once: the door finishes
/// before the browser paints. The view is made under the caller's reactive owner, so it is
/// cleaned up with the screen that asked for it. The door comes boxed: one copy of this code serves every
/// door (generic, it was one copy per door, ~1.2 KB of the first download each).
pub fn when_loaded(door: LocalBoxFuture<'static, Result<AnyView, SplitLoaderError>>) -> AnyView {
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
        view.try_update_value(Option::take)
            .flatten()
            .unwrap_or_else(|| {
                view! { <p class="status" aria-live="polite">{i18n::t().loading}</p> }.into_any()
            })
    })
    .into_any()
}
