//! Subscriptions billed on a test clock: a year of monthly periods from a trial that ends on
//! the 31st, with a lost gateway answer, a renewal declined three times and paid on the third
//! retry, and a cancellation at a period's end — on the sandbox and on Stripe (localstripe).
//! Every period has one invoice of the exact total and exactly one successful charge at the
//! gateway; running the cron again (twice at once) bills nothing more.

use serde_json::{json, Value};
use till_e2e::gateways::Gateway;
use till_e2e::{new_key, on_every_gateway, Session, Till};

/// 2027-01-17 09:00 UTC: a 14-day trial ends on 31 January.
const START: i64 = 1_800_176_400;
/// Each period's end at 09:00 UTC, from 31 January 2027 (the trial's end) to 29 February 2028:
/// the last day of every shorter month.
const PERIOD_ENDS: [i64; 14] = [
    1_801_386_000,
    1_803_805_200,
    1_806_483_600,
    1_809_075_600,
    1_811_754_000,
    1_814_346_000,
    1_817_024_400,
    1_819_702_800,
    1_822_294_800,
    1_824_973_200,
    1_827_565_200,
    1_830_243_600,
    1_832_922_000,
    1_835_427_600,
];
const DAY: i64 = 86_400;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn create(till: &Till, path: &str, body: Value) -> Value {
    let (status, created) = till.post(path, &till.secret_key, &body).await;
    assert_eq!(status, 200, "{path}: {created}");
    created
}

async fn get(till: &Till, path: &str) -> Value {
    let (status, body) = till.get(path, &till.secret_key).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn advance(till: &Till, clock: &str, to: i64) -> Value {
    let advanced = create(
        till,
        &format!("/v1/test_clocks/{clock}/advance"),
        json!({ "frozen_time": to }),
    )
    .await;
    assert_eq!(advanced["frozen_time"], to);
    assert_eq!(advanced["status"], "ready", "{advanced}");
    advanced
}

/// A test clock at [`START`].
async fn new_clock(till: &Till) -> String {
    let clock = create(till, "/v1/test_clocks", json!({ "frozen_time": START })).await;
    clock["id"].as_str().expect("clock id").to_string()
}

/// Creates a subscription that answers `status`; the answer.
async fn subscribe(till: &Till, body: &Value, status: &str) -> Value {
    let (code, _, subscription) = till.post_keyed("/v1/subscriptions", body, &new_key()).await;
    assert_eq!(
        (code, subscription["status"].as_str()),
        (200, Some(status)),
        "{subscription}"
    );
    subscription
}

/// The invoice a subscription (as answered) billed last.
async fn latest_invoice(till: &Till, subscription: &Value) -> Value {
    let id = subscription["latest_invoice"].as_str().expect("an invoice");
    get(till, &format!("/v1/invoices/{id}")).await
}

async fn invoices(till: &Till, subscription: &str) -> Vec<Value> {
    let list = get(
        till,
        &format!("/v1/invoices?subscription={subscription}&limit=100"),
    )
    .await;
    let mut invoices = list["data"].as_array().cloned().unwrap_or_default();
    invoices.reverse();
    invoices
}

/// Charges the gateway made successfully for this invoice's payments.
async fn captured_for(till: &Till, gateway: Gateway, invoice: &str) -> usize {
    let payments = get(
        till,
        &format!("/v1/payments?merchant_reference={invoice}&limit=100"),
    )
    .await;
    let mut captured = 0;
    for payment in payments["data"].as_array().into_iter().flatten() {
        let id = payment["id"].as_str().expect("payment id");
        captured += gateway
            .charges(till, id)
            .await
            .iter()
            .filter(|charge| charge["status"] == "captured")
            .count();
    }
    captured
}

async fn a_year_of_billing_charges_each_period_once(gateway: Gateway) {
    let till = gateway.merchant().await;
    let cards = gateway.cards();
    let unit_amount = gateway.amount(1_237);
    let customer = till.new_customer().await;
    let card = till
        .save_card(&customer, gateway.amount(1_236), cards.succeeds)
        .await;
    let (_, price) = till
        .product_price(
            "Premium",
            json!({ "unit_amount": unit_amount, "currency": "USD",
                "interval": "month", "trial_days": 14 }),
        )
        .await;
    let clock = create(
        &till,
        "/v1/test_clocks",
        json!({ "frozen_time": START, "name": "a year" }),
    )
    .await;
    let clock = clock["id"].as_str().expect("clock id").to_string();

    let body = json!({ "customer": customer, "price": price["id"], "payment_method": card,
                       "quantity": 2, "test_clock": clock });
    let key = new_key();
    let (status, _, subscription) = till.post_keyed("/v1/subscriptions", &body, &key).await;
    assert_eq!(status, 200, "{subscription}");
    assert_eq!(subscription["status"], "trialing");
    assert_eq!(subscription["amount"], unit_amount * 2);
    assert_eq!(
        (
            subscription["current_period_end"].as_i64(),
            subscription["trial_end"].as_i64()
        ),
        (Some(PERIOD_ENDS[0]), Some(PERIOD_ENDS[0]))
    );
    let id = subscription["id"].as_str().expect("id").to_string();
    let (status, replayed, again) = till.post_keyed("/v1/subscriptions", &body, &key).await;
    assert_eq!(
        (status, replayed, &again["id"]),
        (200, true, &subscription["id"])
    );
    assert!(
        invoices(&till, &id).await.is_empty(),
        "nothing billed in the trial"
    );

    // The trial ends on 31 January; the first two months are paid at once.
    for end in &PERIOD_ENDS[..2] {
        advance(&till, &clock, *end).await;
        let now = get(&till, &format!("/v1/subscriptions/{id}")).await;
        assert_eq!(now["status"], "active", "{now}");
        assert_eq!(now["current_period_start"], *end);
    }

    // 31 March: the gateway charges but its answer is lost; the run asks and finds it.
    gateway.lose_answer(&till, unit_amount * 2).await;
    advance(&till, &clock, PERIOD_ENDS[2]).await;

    // 30 April: the card is declined, and again on the first two retries (1 and 3 days
    // later); the third retry (day 5) pays.
    gateway.decline_next(&till, unit_amount * 2, 3).await;
    advance(&till, &clock, PERIOD_ENDS[3]).await;
    let past_due = get(&till, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(past_due["status"], "past_due");
    let open = latest_invoice(&till, &past_due).await;
    assert_eq!(
        (
            open["status"].as_str(),
            open["attempt_count"].as_i64(),
            open["next_payment_attempt"].as_i64(),
            open["amount_due"].as_i64()
        ),
        (
            Some("open"),
            Some(1),
            Some(PERIOD_ENDS[3] + DAY),
            Some(unit_amount * 2)
        )
    );
    for (day, attempts, status) in [(1, 2, "past_due"), (3, 3, "past_due"), (5, 4, "active")] {
        advance(&till, &clock, PERIOD_ENDS[3] + day * DAY).await;
        let now = get(&till, &format!("/v1/subscriptions/{id}")).await;
        assert_eq!(now["status"], status, "day {day}: {now}");
        let invoice = get(
            &till,
            &format!("/v1/invoices/{}", open["id"].as_str().expect("id")),
        )
        .await;
        assert_eq!(invoice["attempt_count"], attempts, "day {day}: {invoice}");
    }

    // The cron running twice at once, right after, bills nothing more.
    let before = invoices(&till, &id).await.len();
    futures_util::future::join(till.run_poller(), till.run_poller()).await;
    assert_eq!(invoices(&till, &id).await.len(), before);

    for end in &PERIOD_ENDS[4..12] {
        advance(&till, &clock, *end).await;
    }
    // In the twelfth period (from 31 December), the customer cancels at its end.
    let canceling = create(
        &till,
        &format!("/v1/subscriptions/{id}/cancel"),
        json!({ "at_period_end": true }),
    )
    .await;
    assert_eq!(
        (
            canceling["status"].as_str(),
            canceling["cancel_at_period_end"].as_bool()
        ),
        (Some("active"), Some(true))
    );
    advance(&till, &clock, PERIOD_ENDS[12]).await;
    let ended = get(&till, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(
        (ended["status"].as_str(), ended["ended_at"].as_i64()),
        (Some("canceled"), Some(PERIOD_ENDS[12]))
    );
    advance(&till, &clock, PERIOD_ENDS[13]).await;

    // Twelve periods, twelve paid invoices of the exact total, one charge each.
    let billed = invoices(&till, &id).await;
    assert_eq!(billed.len(), 12, "{billed:?}");
    for (n, invoice) in billed.iter().enumerate() {
        assert_eq!(invoice["status"], "paid", "{invoice}");
        assert_eq!(
            (
                invoice["period_start"].as_i64(),
                invoice["period_end"].as_i64()
            ),
            (Some(PERIOD_ENDS[n]), Some(PERIOD_ENDS[n + 1]))
        );
        assert_eq!(
            (
                invoice["subtotal"].as_i64(),
                invoice["tax"].as_i64(),
                invoice["total"].as_i64(),
                invoice["amount_paid"].as_i64()
            ),
            (
                Some(unit_amount * 2),
                Some(0),
                Some(unit_amount * 2),
                Some(unit_amount * 2)
            )
        );
        assert_eq!(invoice["lines"][0]["quantity"], 2);
        let id = invoice["id"].as_str().expect("invoice id");
        assert_eq!(
            captured_for(&till, gateway, id).await,
            1,
            "period {n}: {invoice}"
        );
    }
    assert_eq!(billed[3]["attempt_count"], 4);

    // The merchant heard of each step.
    let failed = get(&till, "/v1/events?type=invoice.payment_failed&limit=100").await;
    let of_this = |events: &Value| {
        events["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|event| event["data"]["object"]["subscription"] == id.as_str())
            .count()
    };
    assert_eq!(of_this(&failed), 3);
    let paid = get(&till, "/v1/events?type=invoice.paid&limit=100").await;
    assert_eq!(of_this(&paid), 12);
}

/// A first charge that is declined leaves the subscription `incomplete` until a new card pays;
/// a schedule spent ends `unpaid`, and a working card brings it back; canceling now voids what
/// is owed. Requests that name what is not the merchant's, or are malformed, change nothing.
#[tokio::test]
async fn first_charges_spent_schedules_and_refusals() {
    // A merchant of its own: the risk rules count declines of a card per merchant.
    let (_, till) =
        till_e2e::merchants::onboard("Subscriptions shop", &["https://subscriptions.example"])
            .await;
    let cards = Gateway::Sandbox.cards();
    let unit_amount = 2_143;
    let customer = till.new_customer().await;
    let good = till.save_card(&customer, 2_142, cards.succeeds).await;
    let (product, price) = till
        .product_price(
            "Basic",
            json!({ "unit_amount": unit_amount, "currency": "USD",
                "interval": "week" }),
        )
        .await;
    let clock = new_clock(&till).await;
    let subscribe = |body: Value| {
        let till = &till;
        async move {
            let (status, _, answer) = till
                .post_keyed("/v1/subscriptions", &body, &new_key())
                .await;
            (status, answer)
        }
    };

    // Refusals.
    let (_, other_till) =
        till_e2e::merchants::onboard("Other subscriptions shop", &["https://other.example"]).await;
    let other_customer = other_till.new_customer().await;
    let other_product = create(&other_till, "/v1/products", json!({ "name": "Theirs" })).await;
    let other_price = create(
        &other_till,
        "/v1/prices",
        json!({ "product": other_product["id"], "unit_amount": 500, "currency": "USD", "interval": "month" }),
    )
    .await;
    let other_clock = create(
        &other_till,
        "/v1/test_clocks",
        json!({ "frozen_time": START }),
    )
    .await;
    let base = json!({ "customer": customer, "price": price["id"], "payment_method": good, "test_clock": clock });
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (body, status, expected, param) in [
        (
            with("price", other_price["id"].clone()),
            404,
            "resource_missing",
            "price",
        ),
        (
            with("customer", json!(other_customer)),
            404,
            "resource_missing",
            "customer",
        ),
        (
            with(
                "payment_method",
                json!("pm_00000000000040008000000000000000"),
            ),
            404,
            "resource_missing",
            "payment_method",
        ),
        (
            with("test_clock", other_clock["id"].clone()),
            404,
            "resource_missing",
            "test_clock",
        ),
        (
            with("quantity", json!(0)),
            400,
            "parameter_invalid",
            "quantity",
        ),
        (
            with("quantity", json!(50_000_000)),
            400,
            "parameter_invalid",
            "quantity",
        ),
        (
            with("trial_days", json!(731)),
            400,
            "parameter_invalid",
            "trial_days",
        ),
    ] {
        let (got, answer) = subscribe(body.clone()).await;
        assert_eq!((got, code(&answer)), (status, expected), "{body}: {answer}");
        assert_eq!(answer["error"]["param"], param, "{answer}");
    }
    for body in [
        with(
            "dunning",
            json!({ "retry_days": [5, 1], "after_retries": "cancel" }),
        ),
        with("colour", json!("red")),
        with("quantity", json!("two")),
    ] {
        let (got, answer) = subscribe(body.clone()).await;
        assert_eq!(
            (got, code(&answer)),
            (400, "parameter_invalid"),
            "{body}: {answer}"
        );
    }
    let archived = create(
        &till,
        "/v1/prices",
        json!({ "product": product["id"], "unit_amount": 700, "currency": "USD", "interval": "day" }),
    )
    .await;
    create(
        &till,
        &format!("/v1/prices/{}", archived["id"].as_str().expect("id")),
        json!({ "active": false }),
    )
    .await;
    let (got, answer) = subscribe(with("price", archived["id"].clone())).await;
    assert_eq!((got, code(&answer)), (409, "price_inactive"));
    let (got, answer) = till
        .post(
            &format!("/v1/test_clocks/{clock}/advance"),
            &till.secret_key,
            &json!({ "frozen_time": START - 1 }),
        )
        .await;
    assert_eq!((got, code(&answer)), (400, "test_clock_advance_invalid"));
    let listed = get(&till, &format!("/v1/subscriptions?customer={customer}")).await;
    assert_eq!(listed["data"], json!([]), "refusals created nothing");

    // The first charge is declined: incomplete, nothing paid; a new card pays it.
    Gateway::Sandbox.decline_next(&till, unit_amount, 1).await;
    let (status, incomplete) = subscribe(with(
        "dunning",
        json!({ "retry_days": [1, 2], "after_retries": "mark_unpaid" }),
    ))
    .await;
    assert_eq!(
        (status, incomplete["status"].as_str()),
        (200, Some("incomplete")),
        "{incomplete}"
    );
    let id = incomplete["id"].as_str().expect("id").to_string();
    let first = latest_invoice(&till, &incomplete).await;
    assert_eq!(
        (first["status"].as_str(), first["amount_due"].as_i64()),
        (Some("open"), Some(unit_amount))
    );
    let second_card = till.save_card(&customer, 2_144, cards.succeeds).await;
    let active = create(
        &till,
        &format!("/v1/subscriptions/{id}"),
        json!({ "payment_method": second_card }),
    )
    .await;
    assert_eq!(active["status"], "active", "{active}");
    assert_eq!(active["payment_method"], second_card.as_str());

    // A week on, the renewal and both retries are declined: unpaid, the invoice still open.
    Gateway::Sandbox.decline_next(&till, unit_amount, 3).await;
    let week = START + 7 * DAY;
    advance(&till, &clock, week).await;
    advance(&till, &clock, week + 2 * DAY).await;
    let unpaid = get(&till, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(unpaid["status"], "unpaid", "{unpaid}");
    let owed = latest_invoice(&till, &unpaid).await;
    assert_eq!(
        (
            owed["status"].as_str(),
            owed["attempt_count"].as_i64(),
            owed["next_payment_attempt"].as_i64()
        ),
        (Some("open"), Some(3), None)
    );
    // Nothing more is billed while unpaid.
    advance(&till, &clock, week + 9 * DAY).await;
    assert_eq!(invoices(&till, &id).await.len(), 2);
    // The customer's card works again: the invoice is paid and the subscription resumes in
    // the period it is now in.
    let resumed = create(
        &till,
        &format!("/v1/subscriptions/{id}"),
        json!({ "payment_method": good }),
    )
    .await;
    assert_eq!(resumed["status"], "active", "{resumed}");
    assert_eq!(resumed["current_period_start"], START + 14 * DAY);
    let paid = get(
        &till,
        &format!("/v1/invoices/{}", owed["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(
        (paid["status"].as_str(), paid["amount_paid"].as_i64()),
        (Some("paid"), Some(unit_amount))
    );

    // Canceling now ends it; again answers the same; nothing moves it after.
    let canceled = create(&till, &format!("/v1/subscriptions/{id}/cancel"), json!({})).await;
    assert_eq!(canceled["status"], "canceled");
    let again = create(&till, &format!("/v1/subscriptions/{id}/cancel"), json!({})).await;
    assert_eq!(again, canceled);
    let (got, answer) = till
        .post(
            &format!("/v1/subscriptions/{id}"),
            &till.secret_key,
            &json!({ "payment_method": good }),
        )
        .await;
    assert_eq!((got, code(&answer)), (409, "subscription_invalid_state"));
    advance(&till, &clock, week + 30 * DAY).await;
    assert_eq!(invoices(&till, &id).await.len(), 2);
    let (got, _) = other_till
        .get(&format!("/v1/subscriptions/{id}"), &other_till.secret_key)
        .await;
    assert_eq!(got, 404, "another merchant cannot see it");
    let (got, answer) = till
        .get("/v1/subscriptions?status=sleeping", &till.secret_key)
        .await;
    assert_eq!((got, code(&answer)), (400, "parameter_invalid"));
}

/// `round(amount × num / den)`, half to even: the proration formula's rounding.
fn share(amount: i64, num: i64, den: i64) -> i64 {
    let (n, d) = (i128::from(amount) * i128::from(num), i128::from(den));
    let (q, r) = (n / d, n % d);
    let rounded = match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q % 2),
    };
    i64::try_from(rounded).expect("fits")
}

/// Mid-period changes are prorated onto the next invoice to the minor unit; credits that
/// outweigh a period are carried until used; a paused subscription bills nothing and resumes in
/// the period it is then in.
async fn changes_are_prorated_and_pauses_bill_nothing(gateway: Gateway) {
    let till = gateway.merchant().await;
    let cards = gateway.cards();
    let (gold, basic) = (gateway.amount(3_011), gateway.amount(1_013));
    let customer = till.new_customer().await;
    let card = till
        .save_card(&customer, gateway.amount(3_012), cards.succeeds)
        .await;
    let product = create(&till, "/v1/products", json!({ "name": "Gold" })).await;
    let monthly = |amount: i64| json!({ "product": product["id"], "unit_amount": amount, "currency": "USD", "interval": "month" });
    let gold_price = create(&till, "/v1/prices", monthly(gold)).await;
    let basic_price = create(&till, "/v1/prices", monthly(basic)).await;
    let yearly = create(
        &till,
        "/v1/prices",
        json!({ "product": product["id"], "unit_amount": gold, "currency": "USD", "interval": "year" }),
    )
    .await;
    let clock = new_clock(&till).await;
    let body = json!({ "customer": customer, "price": gold_price["id"], "payment_method": card,
                       "test_clock": clock });
    let subscription = subscribe(&till, &body, "active").await;
    let id = subscription["id"].as_str().expect("id").to_string();
    let path = format!("/v1/subscriptions/{id}");
    let (feb17, mar17) = (START + 31 * DAY, START + 59 * DAY);
    let (apr17, may17, jun17) = (mar17 + 31 * DAY, mar17 + 61 * DAY, mar17 + 92 * DAY);

    // Another currency or recurrence is refused, and changes nothing.
    let (got, answer) = till
        .post(&path, &till.secret_key, &json!({ "price": yearly["id"] }))
        .await;
    assert_eq!((got, code(&answer)), (400, "price_incompatible"));

    // Ten days into the 31-day period: one unit becomes two.
    advance(&till, &clock, START + 10 * DAY).await;
    let upgraded = create(&till, &path, json!({ "quantity": 2 })).await;
    let (credit, charge) = (share(gold, 21, 31), share(gold * 2, 21, 31));
    let pending: Vec<i64> = upgraded["pending_lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| line["amount"].as_i64().expect("amount"))
        .collect();
    assert_eq!(pending, [-credit, charge]);
    advance(&till, &clock, feb17).await;
    let billed = invoices(&till, &id).await;
    assert_eq!(
        billed[1]["total"],
        gold * 2 - credit + charge,
        "{}",
        billed[1]
    );
    assert_eq!(billed[1]["status"], "paid");

    // A week into the 28-day February period: down to one unit of the basic price. The credit
    // outweighs March's charge, and what is left is carried until used up.
    advance(&till, &clock, feb17 + 7 * DAY).await;
    let downgraded = create(
        &till,
        &path,
        json!({ "price": basic_price["id"], "quantity": 1 }),
    )
    .await;
    assert_eq!(downgraded["amount"], basic);
    let mut carried = basic - share(gold * 2, 21, 28) + share(basic, 21, 28);
    for end in [mar17, apr17, may17, jun17] {
        advance(&till, &clock, end).await;
        let latest = invoices(&till, &id).await.pop().expect("an invoice");
        assert_eq!(latest["period_start"], end);
        assert_eq!(
            (latest["subtotal"].as_i64(), latest["status"].as_str()),
            (Some(carried), Some("paid")),
            "{latest}"
        );
        assert_eq!(latest["total"], carried.max(0));
        let charged = captured_for(&till, gateway, latest["id"].as_str().expect("id")).await;
        assert_eq!(charged, usize::from(carried > 0), "{latest}");
        carried = basic + carried.min(0);
    }

    // Paused on 20 June: July is not billed. Resumed on 1 August: the period it is in
    // (from 17 July) is billed at once.
    advance(&till, &clock, jun17 + 3 * DAY).await;
    let paused = create(&till, &format!("{path}/pause"), json!({})).await;
    assert_eq!(paused["status"], "paused");
    let before = invoices(&till, &id).await.len();
    let aug1 = jun17 + 45 * DAY;
    advance(&till, &clock, aug1).await;
    assert_eq!(invoices(&till, &id).await.len(), before);
    let resumed = create(&till, &format!("{path}/resume"), json!({})).await;
    assert_eq!(resumed["status"], "active", "{resumed}");
    let latest = invoices(&till, &id).await.pop().expect("an invoice");
    assert_eq!(
        (
            latest["period_start"].as_i64(),
            latest["total"].as_i64(),
            latest["status"].as_str()
        ),
        (Some(jun17 + 30 * DAY), Some(basic), Some("paid"))
    );
    assert_eq!(resumed["current_period_end"], mar17 + 153 * DAY);
    let (got, answer) = till
        .post(&format!("{path}/resume"), &till.secret_key, &json!({}))
        .await;
    assert_eq!((got, code(&answer)), (409, "subscription_invalid_state"));
}

on_every_gateway!(
    a_year_of_billing_charges_each_period_once,
    changes_are_prorated_and_pauses_bill_nothing
);

/// The same create sent twice at once makes one subscription; two advances of one clock at
/// once move it once and bill the period once.
#[tokio::test]
async fn concurrent_duplicates_make_one_subscription_and_bill_once() {
    let (_, till) = till_e2e::merchants::onboard(
        "Concurrent subscriptions shop",
        &["https://concurrent.example"],
    )
    .await;
    let customer = till.new_customer().await;
    let card = till
        .save_card(&customer, 2_151, Gateway::Sandbox.cards().succeeds)
        .await;
    let (_, price) = till
        .product_price(
            "Daily",
            json!({ "unit_amount": 2_152, "currency": "USD", "interval": "day" }),
        )
        .await;
    let clock = new_clock(&till).await;
    let body = json!({ "customer": customer, "price": price["id"], "payment_method": card,
                       "test_clock": clock });
    let key = new_key();
    let (first, second) = futures_util::future::join(
        till.post_keyed("/v1/subscriptions", &body, &key),
        till.post_keyed("/v1/subscriptions", &body, &key),
    )
    .await;
    let answers = [first, second];
    assert!(answers.iter().any(|(status, _, _)| *status == 200));
    for (status, _, answer) in &answers {
        assert!(
            *status == 200 || (*status == 409 && code(answer) == "idempotency_request_in_progress"),
            "{status}: {answer}"
        );
    }
    let listed = get(&till, &format!("/v1/subscriptions?customer={customer}")).await;
    let subscriptions = listed["data"].as_array().expect("data");
    assert_eq!(subscriptions.len(), 1, "{listed}");
    let id = subscriptions[0]["id"].as_str().expect("id").to_string();

    let advance_to = |to: i64| {
        let (till, clock) = (&till, &clock);
        async move {
            till.post(
                &format!("/v1/test_clocks/{clock}/advance"),
                &till.secret_key,
                &json!({ "frozen_time": to }),
            )
            .await
        }
    };
    let (a, b) = futures_util::future::join(advance_to(START + DAY), advance_to(START + DAY)).await;
    let moved = [&a, &b].iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(moved, 1, "{a:?} {b:?}");
    for (status, answer) in [&a, &b] {
        assert!(
            *status == 200
                || ["test_clock_busy", "test_clock_advance_invalid"].contains(&code(answer)),
            "{status}: {answer}"
        );
    }
    let billed = invoices(&till, &id).await;
    assert_eq!(billed.len(), 2, "the first day and the second, once each");
    assert!(billed.iter().all(|invoice| invoice["status"] == "paid"));
    assert_eq!(
        captured_for(
            &till,
            Gateway::Sandbox,
            billed[1]["id"].as_str().expect("id")
        )
        .await,
        1
    );
}

/// The customer's own view through a customer session made with `subscriptions: true`: the
/// plan, the next charge and the invoices; they switch to another saved card and cancel at the
/// period's end. Another customer's subscription, a session without the flag and a wrong
/// secret are refused.
#[tokio::test]
async fn a_customer_sees_their_subscriptions_switches_card_and_cancels() {
    let till = Gateway::Sandbox.merchant().await;
    let succeeds = Gateway::Sandbox.cards().succeeds;
    let customer = till.new_customer().await;
    let first_card = till.save_card(&customer, 2_161, succeeds).await;
    let (_, price) = till
        .product_price(
            "프리미엄",
            json!({ "unit_amount": 9_900, "currency": "KRW", "interval": "month" }),
        )
        .await;
    let clock = new_clock(&till).await;
    let body = json!({ "customer": customer, "price": price["id"], "payment_method": first_card,
                       "quantity": 2, "test_clock": clock });
    let subscription = subscribe(&till, &body, "active").await;
    let id = subscription["id"].as_str().expect("id").to_string();
    let second_card = till.save_card(&customer, 2_162, succeeds).await;

    let session = create(
        &till,
        "/v1/customer_sessions",
        json!({ "customer": customer, "subscriptions": true }),
    )
    .await;
    assert_eq!(session["subscriptions"], true);
    let (session_id, secret) = (
        session["id"].as_str().expect("id").to_string(),
        session["client_secret"]
            .as_str()
            .expect("secret")
            .to_string(),
    );
    let path = format!("/v1/customer_sessions/{session_id}/subscriptions");
    let (status, mine) = till
        .get(
            &format!("{path}?client_secret={secret}"),
            &till.publishable_key,
        )
        .await;
    assert_eq!(status, 200, "{mine}");
    let mine = &mine["data"][0];
    assert_eq!(
        (
            mine["id"].as_str(),
            mine["product_name"].as_str(),
            mine["amount"].as_i64()
        ),
        (Some(id.as_str()), Some("프리미엄"), Some(19_800))
    );
    assert_eq!(
        mine["next_charge"],
        json!({ "amount": 19_800, "at": START + 31 * DAY })
    );
    assert_eq!(mine["card"]["id"], first_card.as_str());
    assert_eq!(mine["invoices"][0]["status"], "paid");

    // Another card of theirs, then cancel at the period's end.
    let change = |extra: Value| {
        let mut body = json!({ "client_secret": secret, "subscription": id });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let (till, path) = (&till, &path);
        async move { till.post(path, &till.publishable_key, &body).await }
    };
    let (status, switched) = change(json!({ "payment_method": second_card })).await;
    assert_eq!(
        (status, switched["card"]["id"].as_str()),
        (200, Some(second_card.as_str())),
        "{switched}"
    );
    let (status, canceling) = change(json!({ "cancel_at_period_end": true })).await;
    assert_eq!(status, 200, "{canceling}");
    assert_eq!(
        (
            canceling["cancel_at_period_end"].as_bool(),
            &canceling["next_charge"]
        ),
        (Some(true), &Value::Null)
    );
    let seen = get(&till, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(
        (
            seen["payment_method"].as_str(),
            seen["cancel_at_period_end"].as_bool()
        ),
        (Some(second_card.as_str()), Some(true))
    );

    // Refusals change nothing.
    let stranger = till.new_customer().await;
    let stranger_card = till.save_card(&stranger, 2_163, succeeds).await;
    let (status, answer) = change(json!({ "payment_method": stranger_card })).await;
    assert_eq!(
        (status, code(&answer)),
        (404, "resource_missing"),
        "{answer}"
    );
    let theirs = create(
        &till,
        "/v1/customer_sessions",
        json!({ "customer": stranger, "subscriptions": true }),
    )
    .await;
    let (status, answer) = till
        .post(
            &format!("/v1/customer_sessions/{}/subscriptions", theirs["id"].as_str().expect("id")),
            &till.publishable_key,
            &json!({ "client_secret": theirs["client_secret"], "subscription": id, "cancel_at_period_end": false }),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (404, "resource_missing"),
        "{answer}"
    );
    let wallet_only = create(
        &till,
        "/v1/customer_sessions",
        json!({ "customer": customer }),
    )
    .await;
    let (status, answer) = till
        .get(
            &format!(
                "/v1/customer_sessions/{}/subscriptions?client_secret={}",
                wallet_only["id"].as_str().expect("id"),
                wallet_only["client_secret"].as_str().expect("secret")
            ),
            &till.publishable_key,
        )
        .await;
    assert_eq!((status, code(&answer)), (403, "subscriptions_not_enabled"));
    let (status, answer) = till
        .get(
            &format!("{path}?client_secret={session_id}_secret_wrong"),
            &till.publishable_key,
        )
        .await;
    assert_eq!((status, code(&answer)), (400, "client_secret_invalid"));
    let (status, answer) = change(json!({ "price": price["id"] })).await;
    assert_eq!(
        (status, code(&answer)),
        (400, "parameter_invalid"),
        "customers cannot change the price"
    );
    let after = get(&till, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(
        (
            after["cancel_at_period_end"].as_bool(),
            after["quantity"].as_i64()
        ),
        (Some(true), Some(2))
    );
}

/// A first charge the bank wants the customer to authenticate: the subscription is
/// `incomplete` and its creation hands over the checkout session; the customer pays it on the
/// hosted page, passes the challenge, and the subscription is `active` with one charge.
#[tokio::test]
async fn a_first_charge_needing_authentication_is_paid_by_the_customer() {
    let till = Gateway::Sandbox.merchant().await;
    let cards = Gateway::Sandbox.cards();
    let customer = till.new_customer().await;
    let card = till.save_card(&customer, 2_181, cards.challenges).await;
    let (_, price) = till
        .product_price(
            "Secure",
            json!({ "unit_amount": 2_182, "currency": "USD", "interval": "month" }),
        )
        .await;
    let body = json!({ "customer": customer, "price": price["id"], "payment_method": card });
    let (status, _, created) = till
        .post_keyed("/v1/subscriptions", &body, &new_key())
        .await;
    assert_eq!(
        (status, created["status"].as_str()),
        (200, Some("incomplete")),
        "{created}"
    );
    let id = created["id"].as_str().expect("id").to_string();
    let action = &created["customer_action"];
    let (session, secret) = (
        action["checkout_session"]
            .as_str()
            .expect("a session to pay"),
        action["client_secret"].as_str().expect("its secret"),
    );
    let response = till
        .http
        .post(till.url(&format!("/v1/checkout_sessions/{session}/confirm")))
        .bearer_auth(&till.publishable_key)
        .header("Idempotency-Key", new_key())
        .json(&json!({ "client_secret": secret, "payment_method": card }))
        .send()
        .await
        .expect("edge reachable");
    let (status, present) = till_e2e::json_of(response).await;
    assert_eq!(
        (status, present["status"].as_str()),
        (200, Some("requires_action")),
        "{present}"
    );
    let (_, passed) = till
        .post(
            &format!(
                "/v1/payments/{}/challenge",
                present["id"].as_str().expect("id")
            ),
            &till.publishable_key,
            &json!({ "client_secret": secret, "otp": "123456" }),
        )
        .await;
    assert_eq!(passed["status"], "succeeded", "{passed}");

    let now = get(&till, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(now["status"], "active", "{now}");
    let invoice = latest_invoice(&till, &now).await;
    assert_eq!(
        (
            invoice["status"].as_str(),
            invoice["payment"].as_str(),
            invoice["amount_paid"].as_i64()
        ),
        (Some("paid"), passed["id"].as_str(), Some(2_182))
    );
    assert_eq!(
        captured_for(&till, Gateway::Sandbox, invoice["id"].as_str().expect("id")).await,
        1
    );
}

/// After a failed renewal the customer pays the open invoice themselves, on the hosted
/// checkout, with a new card they keep: the subscription is active again, charged to that card
/// from then on, and the retry that was due charges nothing. When they take the session but a
/// retry comes first, the retry closes it: the invoice is paid once.
#[tokio::test]
async fn a_customer_pays_a_failed_renewal_with_a_new_card_and_it_is_paid_once() {
    let (_, till) =
        till_e2e::merchants::onboard("Pay-it-yourself shop", &["https://pay-it-yourself.example"])
            .await;
    let succeeds = Gateway::Sandbox.cards().succeeds;
    let unit_amount = 2_192;
    let customer = till.new_customer().await;
    let card = till.save_card(&customer, 2_191, succeeds).await;
    let (_, price) = till
        .product_price(
            "Plus",
            json!({ "unit_amount": unit_amount, "currency": "USD", "interval": "month" }),
        )
        .await;
    let clock = new_clock(&till).await;
    let body = json!({ "customer": customer, "price": price["id"], "payment_method": card,
                       "test_clock": clock });
    let subscription = subscribe(&till, &body, "active").await;
    let id = subscription["id"].as_str().expect("id").to_string();
    let (feb17, mar17, apr17) = (START + 31 * DAY, START + 59 * DAY, START + 90 * DAY);

    Gateway::Sandbox.decline_next(&till, unit_amount, 1).await;
    advance(&till, &clock, feb17).await;
    let past_due = get(&till, &format!("/v1/subscriptions/{id}")).await;
    assert_eq!(past_due["status"], "past_due");
    let owed = latest_invoice(&till, &past_due).await;

    let session = create(
        &till,
        "/v1/customer_sessions",
        json!({ "customer": customer, "subscriptions": true }),
    )
    .await;
    let (session_id, secret) = (
        session["id"].as_str().expect("id").to_string(),
        session["client_secret"]
            .as_str()
            .expect("secret")
            .to_string(),
    );
    let pay_path = format!("/v1/customer_sessions/{session_id}/invoice_payments");
    let pay = |invoice: &Value| {
        let body = json!({ "client_secret": secret, "invoice": invoice["id"] });
        let (till, pay_path) = (&till, &pay_path);
        async move { till.post(pay_path, &till.publishable_key, &body).await }
    };
    let (status, action) = pay(&owed).await;
    assert_eq!(status, 200, "{action}");
    let checkout = Session {
        id: action["checkout_session"].as_str().expect("session").into(),
        client_secret: action["client_secret"].as_str().expect("secret").into(),
        body: json!({}),
    };
    let token = till.token(&checkout, "5555555555554444").await;
    let confirm = |checkout: &Session, body: Value| {
        let mut body = body;
        body["client_secret"] = json!(checkout.client_secret);
        let request = till
            .http
            .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", checkout.id)))
            .bearer_auth(&till.publishable_key)
            .header("Idempotency-Key", new_key())
            .json(&body);
        async move { till_e2e::json_of(till_e2e::send(request).await).await }
    };
    let (status, paid) = confirm(
        &checkout,
        json!({ "token": token, "save_payment_method": true }),
    )
    .await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (200, Some("succeeded")),
        "{paid}"
    );

    // Their page shows it taken in: active, on the new card.
    let (_, mine) = till
        .get(
            &format!("/v1/customer_sessions/{session_id}/subscriptions?client_secret={secret}"),
            &till.publishable_key,
        )
        .await;
    assert_eq!(
        (
            mine["data"][0]["status"].as_str(),
            mine["data"][0]["card"]["last4"].as_str()
        ),
        (Some("active"), Some("4444")),
        "{mine}"
    );
    let invoice = get(
        &till,
        &format!("/v1/invoices/{}", owed["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(
        (invoice["status"].as_str(), invoice["payment"].as_str()),
        (Some("paid"), paid["id"].as_str())
    );
    // The retry that was due charges nothing; the next period goes to the new card.
    advance(&till, &clock, feb17 + 2 * DAY).await;
    assert_eq!(
        captured_for(&till, Gateway::Sandbox, owed["id"].as_str().expect("id")).await,
        1
    );
    let (_, again) = pay(&owed).await;
    assert_eq!(
        code(&again),
        "subscription_invalid_state",
        "a paid invoice is not paid again"
    );
    advance(&till, &clock, mar17).await;
    let march = latest_invoice(&till, &get(&till, &format!("/v1/subscriptions/{id}")).await).await;
    let charge = get(
        &till,
        &format!(
            "/v1/payments/{}",
            march["payment"].as_str().expect("payment")
        ),
    )
    .await;
    assert_eq!(
        (march["status"].as_str(), charge["card"]["last4"].as_str()),
        (Some("paid"), Some("4444")),
        "{charge}"
    );

    // April fails too; the customer opens the checkout but the retry comes first.
    Gateway::Sandbox.decline_next(&till, unit_amount, 1).await;
    advance(&till, &clock, apr17).await;
    let april = latest_invoice(&till, &get(&till, &format!("/v1/subscriptions/{id}")).await).await;
    assert_eq!(april["status"], "open");
    let (status, action) = pay(&april).await;
    assert_eq!(status, 200, "{action}");
    advance(&till, &clock, apr17 + DAY).await;
    let late = Session {
        id: action["checkout_session"].as_str().expect("session").into(),
        client_secret: action["client_secret"].as_str().expect("secret").into(),
        body: json!({}),
    };
    let (status, refused) = confirm(&late, json!({ "payment_method": card })).await;
    assert_eq!(
        (status, code(&refused)),
        (409, "checkout_session_locked"),
        "{refused}"
    );
    let april = get(
        &till,
        &format!("/v1/invoices/{}", april["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(
        (april["status"].as_str(), april["attempt_count"].as_i64()),
        (Some("paid"), Some(2))
    );
    assert_eq!(
        captured_for(&till, Gateway::Sandbox, april["id"].as_str().expect("id")).await,
        1
    );
}

#[tokio::test]
async fn subscriptions_follow_the_merchants_dunning_schedule_unless_given_their_own() {
    let (_, till) =
        till_e2e::merchants::onboard("Dunning settings shop", &["https://dunning.example"]).await;
    let (_, other) =
        till_e2e::merchants::onboard("Other dunning shop", &["https://other-dunning.example"])
            .await;
    let till_default = json!({ "retry_days": [1, 3, 5, 7], "after_retries": "mark_unpaid" });
    let settings = get(&till, "/v1/billing_settings").await;
    assert_eq!(
        settings,
        json!({ "object": "billing_settings", "dunning": till_default })
    );

    // Refused: nothing changes.
    for body in [
        json!({}),
        json!({ "dunning": { "retry_days": [], "after_retries": "cancel" } }),
        json!({ "dunning": { "retry_days": [3, 3], "after_retries": "cancel" } }),
        json!({ "dunning": { "retry_days": [61], "after_retries": "cancel" } }),
        json!({ "dunning": { "retry_days": [2], "after_retries": "forgive" } }),
        json!({ "dunning": { "retry_days": [2], "after_retries": "cancel" }, "mode": "x" }),
    ] {
        let (status, answer) = till
            .post("/v1/billing_settings", &till.secret_key, &body)
            .await;
        assert_eq!(
            (status, code(&answer)),
            (400, "parameter_invalid"),
            "{body}: {answer}"
        );
    }
    let (status, answer) = till
        .post(
            "/v1/billing_settings",
            &till.publishable_key,
            &json!({ "dunning": { "retry_days": [2], "after_retries": "cancel" } }),
        )
        .await;
    assert_eq!((status, code(&answer)), (403, "secret_key_required"));
    assert_eq!(get(&till, "/v1/billing_settings").await, settings);

    let schedule = json!({ "retry_days": [2], "after_retries": "mark_unpaid" });
    let set = create(
        &till,
        "/v1/billing_settings",
        json!({ "dunning": schedule }),
    )
    .await;
    assert_eq!(set["dunning"], schedule);
    assert_eq!(
        get(&other, "/v1/billing_settings").await["dunning"],
        till_default,
        "another merchant's settings are its own"
    );

    // One subscription follows the merchant's schedule, one has its own.
    let cards = Gateway::Sandbox.cards();
    let customer = till.new_customer().await;
    let card = till.save_card(&customer, 2_151, cards.succeeds).await;
    let (_, follower_price) = till
        .product_price(
            "Weekly follower",
            json!({ "unit_amount": 2_152, "currency": "USD", "interval": "week" }),
        )
        .await;
    let (_, own_price) = till
        .product_price(
            "Weekly own",
            json!({ "unit_amount": 2_153, "currency": "USD", "interval": "week" }),
        )
        .await;
    let clock = new_clock(&till).await;
    let own_schedule = json!({ "retry_days": [1, 2], "after_retries": "mark_unpaid" });
    let follower = subscribe(
        &till,
        &json!({ "customer": customer, "price": follower_price["id"], "payment_method": card,
                 "test_clock": clock }),
        "active",
    )
    .await;
    assert_eq!(follower["dunning"], schedule);
    let own = subscribe(
        &till,
        &json!({ "customer": customer, "price": own_price["id"], "payment_method": card,
                 "test_clock": clock, "dunning": own_schedule }),
        "active",
    )
    .await;
    let (follower_id, own_id) = (
        follower["id"].as_str().expect("id").to_string(),
        own["id"].as_str().expect("id").to_string(),
    );

    // The merchant changes its schedule: the follower takes it, the other keeps its own.
    let cancel_after_three = json!({ "retry_days": [3], "after_retries": "cancel" });
    create(
        &till,
        "/v1/billing_settings",
        json!({ "dunning": cancel_after_three }),
    )
    .await;
    let follower_now = get(&till, &format!("/v1/subscriptions/{follower_id}")).await;
    assert_eq!(follower_now["dunning"], cancel_after_three);
    let own_now = get(&till, &format!("/v1/subscriptions/{own_id}")).await;
    assert_eq!(own_now["dunning"], own_schedule);

    // The follower's renewal fails twice: retried 3 days on, then canceled, the invoice void.
    Gateway::Sandbox.decline_next(&till, 2_152, 2).await;
    advance(&till, &clock, START + 7 * DAY).await;
    let past_due = get(&till, &format!("/v1/subscriptions/{follower_id}")).await;
    assert_eq!(past_due["status"], "past_due", "{past_due}");
    let owed = latest_invoice(&till, &past_due).await;
    assert_eq!(
        owed["next_payment_attempt"].as_i64(),
        Some(owed["created"].as_i64().expect("created") + 3 * DAY),
        "{owed}"
    );
    advance(&till, &clock, START + 10 * DAY).await;
    let canceled = get(&till, &format!("/v1/subscriptions/{follower_id}")).await;
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    assert_eq!(latest_invoice(&till, &canceled).await["status"], "void");
    let kept = get(&till, &format!("/v1/subscriptions/{own_id}")).await;
    assert_eq!(kept["status"], "active", "{kept}");

    // A subscription given its own schedule later keeps it through the merchant's changes.
    let (status, answer) = till
        .post(
            &format!("/v1/subscriptions/{own_id}"),
            &till.secret_key,
            &json!({ "dunning": { "retry_days": [9, 8], "after_retries": "cancel" } }),
        )
        .await;
    assert_eq!((status, code(&answer)), (400, "parameter_invalid"));
    let second = subscribe(
        &till,
        &json!({ "customer": customer, "price": follower_price["id"], "payment_method": card,
                 "test_clock": clock }),
        "active",
    )
    .await;
    let second_id = second["id"].as_str().expect("id");
    let its_own = json!({ "retry_days": [4, 6], "after_retries": "cancel" });
    let updated = create(
        &till,
        &format!("/v1/subscriptions/{second_id}"),
        json!({ "dunning": its_own }),
    )
    .await;
    assert_eq!(updated["dunning"], its_own);
    create(
        &till,
        "/v1/billing_settings",
        json!({ "dunning": schedule }),
    )
    .await;
    let still = get(&till, &format!("/v1/subscriptions/{second_id}")).await;
    assert_eq!(still["dunning"], its_own);
    assert_eq!(
        get(&till, &format!("/v1/subscriptions/{follower_id}")).await["dunning"],
        cancel_after_three,
        "an ended subscription keeps the schedule it ended under"
    );

    let log = get(&till, "/v1/audit_log?limit=100").await;
    let changes = log["data"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["action"] == "billing_settings.updated")
        .count();
    assert_eq!(changes, 3, "{log}");
}
