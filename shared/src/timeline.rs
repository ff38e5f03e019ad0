//! A payment's timeline: what happened to it, in order, for the merchant's dashboard and
//! support. Built from the payment's own times, the events Till recorded about it (each followed
//! by its webhook deliveries) and its refunds.

use serde::{Deserialize, Serialize};

/// One thing that happened. Only the fields that apply to its `kind` are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub object: String,
    /// `payment.created`, an event type (`payment.succeeded`, `refund.succeeded`, ...),
    /// `payment.captured`, `refund.created`, `refund.failed`, or `webhook.delivery` (a
    /// delivery of the event before it).
    pub kind: String,
    /// Unix seconds.
    pub at: i64,
    pub event: Option<String>,
    pub refund: Option<String>,
    pub amount: Option<i64>,
    pub endpoint: Option<String>,
    /// A delivery's state: `pending`, `succeeded`, `failed`.
    pub delivery_status: Option<String>,
    pub attempts: Option<i64>,
    /// The HTTP status the endpoint last answered.
    pub status_code: Option<i64>,
}

pub struct PaymentFacts {
    pub created: i64,
    pub amount: i64,
    pub captured_at: Option<i64>,
    pub amount_captured: i64,
}

/// An event recorded about the payment (or one of its refunds), in the order it was recorded.
pub struct EventFact {
    pub id: String,
    pub kind: String,
    pub created: i64,
}

pub struct DeliveryFact {
    pub event_id: String,
    pub endpoint_id: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub updated: i64,
}

pub struct RefundFact {
    pub id: String,
    pub amount: i64,
    pub created: i64,
    pub failed: bool,
    pub updated: i64,
}

fn entry(kind: &str, at: i64) -> TimelineEntry {
    TimelineEntry {
        object: "timeline_entry".into(),
        kind: kind.to_string(),
        at,
        event: None,
        refund: None,
        amount: None,
        endpoint: None,
        delivery_status: None,
        attempts: None,
        status_code: None,
    }
}

/// Where a kind falls among things recorded in the same second (times are in whole seconds,
/// and a whole payment often takes less than one).
fn rank(kind: &str) -> u8 {
    match kind {
        "payment.created" => 0,
        "payment.requires_action" => 1,
        "payment.succeeded" | "payment.failed" => 2,
        "payment.captured" => 3,
        "refund.created" => 4,
        "refund.succeeded" | "refund.failed" => 5,
        _ => 6,
    }
}

pub fn build(
    payment: &PaymentFacts,
    events: &[EventFact],
    deliveries: &[DeliveryFact],
    refunds: &[RefundFact],
) -> Vec<TimelineEntry> {
    // (time, rank, position) orders the entries; a delivery sorts right after its event.
    let mut keyed: Vec<((i64, u8, usize), TimelineEntry)> = Vec::new();
    let mut push = |key: (i64, u8, usize), entry: TimelineEntry| keyed.push((key, entry));
    push(
        (payment.created, 0, 0),
        TimelineEntry {
            amount: Some(payment.amount),
            ..entry("payment.created", payment.created)
        },
    );
    if let Some(at) = payment.captured_at {
        push(
            (at, rank("payment.captured"), 0),
            TimelineEntry {
                amount: Some(payment.amount_captured),
                ..entry("payment.captured", at)
            },
        );
    }
    for refund in refunds {
        push(
            (refund.created, rank("refund.created"), 0),
            TimelineEntry {
                refund: Some(refund.id.clone()),
                amount: Some(refund.amount),
                ..entry("refund.created", refund.created)
            },
        );
        if refund.failed {
            push(
                (refund.updated, rank("refund.failed"), 0),
                TimelineEntry {
                    refund: Some(refund.id.clone()),
                    ..entry("refund.failed", refund.updated)
                },
            );
        }
    }
    let mut position = 0;
    for event in events {
        let key = (event.created, rank(&event.kind));
        position += 1;
        push(
            (key.0, key.1, position),
            TimelineEntry {
                event: Some(event.id.clone()),
                ..entry(&event.kind, event.created)
            },
        );
        for delivery in deliveries.iter().filter(|d| d.event_id == event.id) {
            position += 1;
            push(
                (key.0, key.1, position),
                TimelineEntry {
                    event: Some(event.id.clone()),
                    endpoint: Some(delivery.endpoint_id.clone()),
                    delivery_status: Some(delivery.status.clone()),
                    attempts: Some(delivery.attempts),
                    status_code: delivery.last_status_code,
                    ..entry("webhook.delivery", delivery.updated)
                },
            );
        }
    }
    keyed.sort_by_key(|(key, _)| *key);
    keyed.into_iter().map(|(_, entry)| entry).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, kind: &str, created: i64) -> EventFact {
        EventFact {
            id: id.into(),
            kind: kind.into(),
            created,
        }
    }

    #[test]
    fn things_of_the_same_second_keep_the_order_they_happen_in() {
        let payment = PaymentFacts {
            created: 100,
            amount: 5000,
            captured_at: Some(100),
            amount_captured: 5000,
        };
        // Recorded out of order within one second, as the store may return them.
        let events = [
            event("evt_2", "payment.succeeded", 100),
            event("evt_3", "refund.succeeded", 100),
            event("evt_1", "payment.requires_action", 100),
        ];
        let deliveries = [DeliveryFact {
            event_id: "evt_2".into(),
            endpoint_id: "we_1".into(),
            status: "succeeded".into(),
            attempts: 1,
            last_status_code: Some(200),
            updated: 101,
        }];
        let refunds = [RefundFact {
            id: "re_1".into(),
            amount: 1000,
            created: 100,
            failed: false,
            updated: 100,
        }];
        let kinds: Vec<String> = build(&payment, &events, &deliveries, &refunds)
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "payment.created",
                "payment.requires_action",
                "payment.succeeded",
                "webhook.delivery",
                "payment.captured",
                "refund.created",
                "refund.succeeded",
            ]
        );
    }

    #[test]
    fn later_things_come_later_and_a_failed_refund_says_so() {
        let payment = PaymentFacts {
            created: 100,
            amount: 5000,
            captured_at: Some(200),
            amount_captured: 4000,
        };
        let events = [event("evt_1", "payment.succeeded", 150)];
        let refunds = [RefundFact {
            id: "re_1".into(),
            amount: 500,
            created: 300,
            failed: true,
            updated: 301,
        }];
        let timeline = build(&payment, &events, &[], &refunds);
        let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "payment.created",
                "payment.succeeded",
                "payment.captured",
                "refund.created",
                "refund.failed"
            ]
        );
        assert_eq!(timeline[2].amount, Some(4000));
        assert_eq!(timeline[3].refund.as_deref(), Some("re_1"));
    }
}
