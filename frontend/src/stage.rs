//! Where the checkout is. The App shows the stage; the form and the challenge move it on.

use crate::api::{Payment, Session};

#[derive(Clone)]
pub enum Stage {
    Loading,
    Unavailable(String),
    /// The payment service could not be reached, or could not answer yet: nothing was decided,
    /// so the customer may try again from where they are (a webview has no reload button).
    Unreachable(String),
    /// The form, with the reason the last attempt failed, if any.
    Ready(Session, Option<String>),
    /// The issuer asks for a one-time code (3-D Secure).
    Challenge(Session, Payment),
    /// The customer approves the payment at their bank (in a popup, or back from a redirect).
    BankWaiting(Session, Payment),
    Paid(Session, Payment),
}
