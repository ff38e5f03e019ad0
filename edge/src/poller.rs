//! The cron trigger: payments left `processing` and refunds left `pending` (no answer, no
//! webhook) are settled from the gateway, bank payments abandoned at the bank are canceled, and
//! payouts the bank has not finished are sent again
//! or looked up. Each item backs off exponentially; after the last
//! attempt it is flagged `requires_review` for a person. One item that fails (a gateway error,
//! an answer the state machine refuses, a storage error) is recorded and skipped: it never
//! stops the others.

use crate::connectors::RefundAnswer;
use crate::payments::{self, refunds, Recovered};
use crate::store::payouts::PayoutRow;
use crate::store::polls::Watched;
use crate::store::{self, payments::PaymentRow, refunds::RefundRow};
use crate::{clock, config};
use till_core::backoff::Backoff;
use till_core::error::ApiError;
use till_core::payment::PaymentStatus;
use worker::Env;

/// However many polls went unanswered, the next one is at most a day away.
const MAX_POLL_INTERVAL_SECONDS: i64 = 24 * 60 * 60;

fn setting(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(default)
}

struct Schedule {
    now: i64,
    after: i64,
    backoff: i64,
    max_attempts: i64,
}

impl Schedule {
    /// When to ask again after `attempts` unanswered polls; `None`: a person must look.
    fn next(&self, attempts: i64) -> Option<i64> {
        let backoff = Backoff {
            first: self.backoff,
            max: MAX_POLL_INTERVAL_SECONDS,
        };
        (attempts < self.max_attempts).then(|| {
            self.now
                .saturating_add(backoff.delay(u32::try_from(attempts).unwrap_or(u32::MAX)))
        })
    }
}

/// What one poll of one item came to.
enum Polled {
    Settled(&'static str),
    Unanswered(Option<String>),
}

pub async fn poll(env: &Env) -> Result<(), ApiError> {
    let schedule = Schedule {
        now: clock::now_seconds(),
        after: setting(env, "POLL_AFTER_SECONDS", 60),
        backoff: setting(env, "POLL_BACKOFF_SECONDS", 30),
        max_attempts: setting(env, "POLL_MAX_ATTEMPTS", 8),
    };
    // A missing configuration stops the run: no item could be polled.
    config::platform_gateway(env)?;
    for mut payment in
        store::polls::due::<PaymentRow>(env, Watched::Payments, schedule.now, schedule.after)
            .await?
    {
        let polled = poll_payment(env, &mut payment).await;
        record(
            env,
            &schedule,
            Watched::Payments,
            &payment.id,
            payment.poll_attempts,
            polled,
        )
        .await;
    }
    // A customer who never came back from their bank: after the bank's page has waited long
    // enough, the payment is canceled at the bank (or applied, if they did approve) and the
    // session opens again.
    let abandoned_after = setting(env, "BANK_REDIRECT_EXPIRY_SECONDS", 30 * 60);
    for mut payment in
        store::polls::due::<PaymentRow>(env, Watched::BankRedirects, schedule.now, abandoned_after)
            .await?
    {
        let polled = match payments::bank_redirect::cancel_waiting(env, &mut payment).await {
            Ok(()) => Polled::Settled(payment.status.as_str()),
            Err(error) => Polled::Unanswered(Some(error.to_string())),
        };
        record(
            env,
            &schedule,
            Watched::BankRedirects,
            &payment.id,
            payment.poll_attempts,
            polled,
        )
        .await;
    }
    for mut refund in
        store::polls::due::<RefundRow>(env, Watched::Refunds, schedule.now, schedule.after).await?
    {
        let polled = poll_refund(env, &mut refund).await;
        record(
            env,
            &schedule,
            Watched::Refunds,
            &refund.id,
            refund.poll_attempts,
            polled,
        )
        .await;
    }
    // Banks take days, not minutes: a payout the bank has not finished is looked up on the same
    // backoff for longer before a person is asked to look.
    let payouts = Schedule {
        max_attempts: setting(env, "PAYOUT_POLL_MAX_ATTEMPTS", 20),
        ..schedule
    };
    for mut payout in
        store::polls::due::<PayoutRow>(env, Watched::Payouts, payouts.now, payouts.after).await?
    {
        let polled = match crate::payouts::poll(env, &mut payout).await {
            Ok(()) => Polled::Settled(payout.status.as_str()),
            Err(reason) => Polled::Unanswered(Some(reason)),
        };
        record(
            env,
            &payouts,
            Watched::Payouts,
            &payout.id,
            payout.poll_attempts,
            polled,
        )
        .await;
    }
    Ok(())
}

async fn poll_payment(env: &Env, payment: &mut PaymentRow) -> Polled {
    match payments::recover(env, payment).await {
        // A bank still finishing a payment the customer approved: asked again on the backoff.
        Ok(Recovered::Applied) if payment.status == PaymentStatus::Processing => {
            Polled::Unanswered(Some("the bank is still processing".into()))
        }
        Ok(Recovered::Applied) => Polled::Settled(payment.status.as_str()),
        Ok(Recovered::Unknown) => Polled::Unanswered(None),
        Ok(Recovered::Unanswered(reason)) => Polled::Unanswered(Some(reason)),
        Err(error) => Polled::Unanswered(Some(error.to_string())),
    }
}

async fn poll_refund(env: &Env, refund: &mut RefundRow) -> Polled {
    match refunds::resend(env, refund).await {
        // A bank paying a refund back takes its time: asked again on the backoff.
        Ok(RefundAnswer::Pending(_)) => {
            Polled::Unanswered(Some("the bank is still paying it back".into()))
        }
        Ok(answer) => match refunds::settle(env, refund, answer).await {
            Ok(()) => Polled::Settled(refund.status.as_str()),
            Err(error) => Polled::Unanswered(Some(error.to_string())),
        },
        Err(error) => Polled::Unanswered(Some(error.to_string())),
    }
}

/// Logs the outcome and, for an unanswered poll, records the attempt and the error.
async fn record(
    env: &Env,
    schedule: &Schedule,
    watched: Watched,
    id: &str,
    attempts_before: i64,
    polled: Polled,
) {
    let Some(poll) = unanswered(schedule, id, attempts_before, polled) else {
        return;
    };
    let written = store::polls::record(
        env,
        watched,
        id,
        poll.attempts,
        poll.next,
        poll.error.as_deref(),
    )
    .await;
    if let Err(failure) = written {
        crate::log_error!("poller: {id}: poll not recorded: {failure}");
    }
}

/// An unanswered poll to record: the attempt count, when to ask again (`None`: a person must
/// look) and the error met, if any.
struct UnansweredPoll {
    attempts: i64,
    next: Option<i64>,
    error: Option<String>,
}

/// Logs the outcome; for an unanswered poll, what to record.
fn unanswered(
    schedule: &Schedule,
    id: &str,
    attempts_before: i64,
    polled: Polled,
) -> Option<UnansweredPoll> {
    let error = match polled {
        Polled::Settled(status) => {
            worker::console_log!("poller: {id} is {status}");
            return None;
        }
        Polled::Unanswered(error) => error,
    };
    if let Some(error) = &error {
        crate::log_warn!("poller: {id}: {error}");
    }
    let attempts = attempts_before + 1;
    let next = schedule.next(attempts);
    if next.is_none() {
        crate::log_warn!("poller: {id} needs review");
    }
    Some(UnansweredPoll {
        attempts,
        next,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long an item is polled before it is handed to a person: the sum of the waits
    /// between its unanswered polls, in seconds.
    fn until_review(max_attempts: i64) -> i64 {
        let schedule = Schedule {
            now: 0,
            after: 60,
            backoff: 30,
            max_attempts,
        };
        (1..).map_while(|attempts| schedule.next(attempts)).sum()
    }

    #[test]
    fn payouts_are_looked_up_for_days_payments_for_hours() {
        let payments = until_review(8);
        let payouts = until_review(20);
        assert!(payments < 6 * 3600, "{payments}");
        assert!(payouts > 7 * 24 * 3600, "{payouts}");
        assert!(payouts < 12 * 24 * 3600, "{payouts}");
    }
}
