//! Where the checkout is. The App shows the stage; the form and the challenge move it on.

use till_core::api::{CheckoutSession, Payment};

#[derive(Clone)]
pub enum Stage {
    Loading,
    Unavailable(String),
    /// The form, with the reason the last attempt failed, if any.
    Ready(CheckoutSession, Option<String>),
    /// The issuer asks for a one-time code (3-D Secure).
    Challenge(CheckoutSession, Payment),
    Paid(CheckoutSession, Payment),
}
