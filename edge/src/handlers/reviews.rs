//! The review queue: payments a `review` rule held (authorized, not captured). Approving
//! captures an automatic-capture payment (a manual-capture one stays for the merchant to
//! capture); rejecting voids it. Each decision closes the review once, with `review.closed`.

use super::payments::{at_gateway, load, Move};
use crate::auth::Caller;
use crate::http::{json, page_param, ApiResult};
use crate::payments::view;
use crate::{clock, store};
use till_core::api::{CaptureMethod, List};
use till_core::api_keys::hash_secret;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::payment::PaymentStatus;
use till_core::risk::ReviewStatus;
use worker::{Env, Request};

/// `GET /v1/reviews?limit=&starting_after=`: the open reviews, oldest first (the queue's order).
pub async fn list(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Payment)?;
    let rows = store::payments::open_reviews(
        env,
        &caller.merchant_id,
        page.starting_after.as_deref(),
        page.limit + 1,
    )
    .await?
    .ok_or_else(ApiError::cursor_invalid)?;
    let payments = rows.iter().map(view).collect::<Result<Vec<_>, _>>()?;
    json(200, &List::page(payments, page.limit))
}

/// `POST /v1/reviews/:payment/approve`.
pub async fn approve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    decide(env, caller, id, ReviewStatus::Approved).await
}

/// `POST /v1/reviews/:payment/reject`.
pub async fn reject(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    decide(env, caller, id, ReviewStatus::Rejected).await
}

/// The gateway move is made first, keyed by the payment and the decision: a retry (or a
/// concurrent copy) repeats nothing at the gateway, and the review closes once.
async fn decide(env: &Env, caller: &Caller, id: &str, decision: ReviewStatus) -> ApiResult {
    let mut payment = load(env, caller, id).await?;
    match payment
        .review_status
        .as_deref()
        .and_then(ReviewStatus::parse)
    {
        Some(ReviewStatus::Open) => {}
        // The same decision again (a retry, a double click): what it decided.
        Some(decided) if decided == decision => return json(200, &view(&payment)?),
        _ => return Err(ApiError::new(ErrorCode::ReviewNotOpen)),
    }
    if payment.status == PaymentStatus::RequiresCapture {
        let asked = match decision {
            ReviewStatus::Approved if payment.capture_method == CaptureMethod::Automatic => {
                // The card's part: the wallet's was held from the start.
                Some(Move::Capture(payment.amount - payment.wallet_amount))
            }
            ReviewStatus::Rejected => Some(Move::Void),
            _ => None,
        };
        if let Some(asked) = asked {
            let key = hash_secret(&format!("{}\nreview\n{}", payment.id, decision.as_str()));
            at_gateway(env, &mut payment, asked, &key).await??;
        }
    }
    let now = clock::now_seconds();
    let mut closed = payment.clone();
    closed.review_status = Some(decision.as_str().to_string());
    let event =
        crate::merchant_webhooks::new_event(&caller.merchant_id, "review.closed", &view(&closed)?)?;
    match store::payments::close_review(env, &payment.id, decision.as_str(), &event, now).await? {
        Some(endpoints) => crate::merchant_webhooks::deliver(env, &event, endpoints).await,
        None => {
            // Another decision closed it meanwhile: answer with what stands.
            let current = load(env, caller, id).await?;
            if current.review_status.as_deref() != Some(decision.as_str()) {
                return Err(ApiError::new(ErrorCode::ReviewNotOpen));
            }
            return json(200, &view(&current)?);
        }
    }
    json(200, &view(&load(env, caller, id).await?)?)
}
