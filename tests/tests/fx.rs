//! Currency conversion quotes through the real edge, from the sandbox's rates published in the
//! European Central Bank's format: exact to the minor unit (0, 2 and 3 decimals), locked for 15
//! minutes, the merchant's own, and refused when the rates are stale.

use serde_json::{json, Value};
use till_core::fx::{convert, IntradayRate, ReferenceRates, QUOTE_LIFETIME_SECONDS};
use till_core::money::Currency;
use till_e2e::merchants::onboard;
use till_e2e::{json_of, send, Till, GATEWAY_KEY};

/// The markup the test stack adds (`FX_MARKUP_BPS` in edge/wrangler.toml).
const MARKUP_BPS: u32 = 150;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn published_rates(till: &Till) -> ReferenceRates {
    let response = send(
        till.http
            .get(format!("{}/v1/rates/eurofxref-daily.xml", till.gateway)),
    )
    .await;
    assert_eq!(response.status(), 200);
    ReferenceRates::parse_ecb(&response.text().await.unwrap()).unwrap()
}

async fn publish_as_of(till: &Till, date: Value) {
    let response = send(
        till.http
            .post(format!("{}/v1/control/rates", till.gateway))
            .bearer_auth(GATEWAY_KEY)
            .json(&json!({ "date": date })),
    )
    .await;
    assert_eq!(response.status(), 200);
}

/// Sets the sandbox's intraday feed: a fixed drift from the reference rates, or down.
async fn intraday_feed(till: &Till, drift_bps: Value, available: bool) {
    let response = send(
        till.http
            .post(format!("{}/v1/control/intraday", till.gateway))
            .bearer_auth(GATEWAY_KEY)
            .json(&json!({ "drift_bps": drift_bps, "available": available })),
    )
    .await;
    assert_eq!(response.status(), 200);
}

async fn quote(till: &Till, body: Value) -> (u16, Value) {
    till.post("/v1/fx_quotes", &till.secret_key, &body).await
}

#[tokio::test]
async fn quotes_are_exact_locked_and_refused_when_the_rates_are_stale() {
    let (_, till) = onboard("FX Quote Shop", &[]).await;
    let (_, stranger) = onboard("FX Stranger Shop", &[]).await;
    publish_as_of(&till, Value::Null).await;
    // The day's reference rates first: the live feed is down, so quotes fall back to them.
    intraday_feed(&till, Value::Null, false).await;
    let rates = published_rates(&till).await;
    let currency = |code: &str| Currency::parse(code).unwrap();

    // US$100.00 in won, ¥12,345 in Bahraini dinar (0 to 3 decimals), ₩45,000 in dollars.
    for (from, to, amount) in [
        ("USD", "KRW", 10_000),
        ("JPY", "BHD", 12_345),
        ("KRW", "USD", 45_000),
        ("EUR", "JPY", 1_000),
    ] {
        let (status, quoted) =
            quote(&till, json!({ "from": from, "to": to, "amount": amount })).await;
        assert_eq!(status, 200, "{quoted}");
        let rate = rates.rate(currency(from), currency(to)).unwrap();
        let expected = convert(amount, &rate, MARKUP_BPS).unwrap();
        assert_eq!(
            quoted["from"],
            json!({ "amount": amount, "currency": from })
        );
        assert_eq!(
            quoted["to"],
            json!({ "amount": expected.converted, "currency": to }),
            "{from} -> {to}"
        );
        assert_eq!(quoted["margin"], expected.margin);
        assert!(
            expected.margin > 0,
            "{from} -> {to}: the markup adds something"
        );
        assert_eq!(quoted["markup_bps"], MARKUP_BPS);
        assert_eq!(quoted["rates_date"], rates.date.to_string());
        assert_eq!(quoted["rate_source"], "reference");
        assert_eq!(
            quoted["expires_at"].as_i64().unwrap() - quoted["created"].as_i64().unwrap(),
            QUOTE_LIFETIME_SECONDS
        );
        let id = quoted["id"].as_str().unwrap();
        let (status, read) = till
            .get(&format!("/v1/fx_quotes/{id}"), &till.secret_key)
            .await;
        assert_eq!((status, &read), (200, &quoted));
        let (status, _) = stranger
            .get(&format!("/v1/fx_quotes/{id}"), &stranger.secret_key)
            .await;
        assert_eq!(status, 404, "another merchant's quote");
    }
    // ¥12,345 is 40.720 BHD at the rate, 41.330 with 1.5 % (three decimals, rounded once).
    let (_, dinar) = quote(
        &till,
        json!({ "from": "JPY", "to": "BHD", "amount": 12_345 }),
    )
    .await;
    assert_eq!(dinar["to"]["amount"], 41_330);
    assert_eq!(dinar["margin"], 41_330 - 40_720);

    for (body, expected) in [
        (
            json!({ "from": "USD", "to": "USD", "amount": 100 }),
            "parameter_invalid",
        ),
        (
            json!({ "from": "USD", "to": "XYZ", "amount": 100 }),
            "parameter_invalid",
        ),
        (
            json!({ "from": "USD", "to": "KRW", "amount": 0 }),
            "amount_invalid",
        ),
        (
            json!({ "from": "USD", "to": "KRW", "amount": -5 }),
            "amount_invalid",
        ),
        (
            json!({ "from": "USD", "to": "KRW", "amount": 100_000_000_000i64 }),
            "amount_invalid",
        ),
        (
            json!({ "from": "KRW", "to": "USD", "amount": 1 }),
            "amount_invalid",
        ),
        (
            json!({ "from": "USD", "to": "KRW", "amount": 100, "rate": "1" }),
            "parameter_invalid",
        ),
        (
            json!({ "from": "USD", "to": "KRW", "amount": "100" }),
            "parameter_invalid",
        ),
    ] {
        let (status, refused) = quote(&till, body.clone()).await;
        assert_eq!(
            (status, code(&refused)),
            (400, expected),
            "{body}: {refused}"
        );
    }

    // Rates published long ago quote nothing, until fresh ones are out.
    publish_as_of(&till, json!("2020-01-02")).await;
    // Sent without `send`'s guard, which takes any 503 from Till for a fault: this one is meant.
    let stale = till
        .http
        .post(till.url("/v1/fx_quotes"))
        .bearer_auth(&till.secret_key)
        .json(&json!({ "from": "USD", "to": "KRW", "amount": 10_000 }))
        .send()
        .await
        .unwrap();
    let (status, stale) = json_of(stale).await;
    publish_as_of(&till, Value::Null).await;
    assert_eq!(
        (status, code(&stale)),
        (503, "fx_rates_unavailable"),
        "{stale}"
    );
    let (status, _) = quote(
        &till,
        json!({ "from": "USD", "to": "KRW", "amount": 10_000 }),
    )
    .await;
    assert_eq!(status, 200);

    // With the live feed up, a quote takes its rate for the pair, exactly, markup on top.
    intraday_feed(&till, json!(12), true).await;
    let feed = send(till.http.get(format!(
        "{}/v1/rates/intraday?from=USD&to=KRW",
        till.gateway
    )))
    .await;
    let feed: IntradayRate = feed.json().await.unwrap();
    let live = feed
        .usable(currency("USD"), currency("KRW"), feed.as_of)
        .unwrap();
    let reference = rates.rate(currency("USD"), currency("KRW")).unwrap();
    assert_ne!(live, reference, "the feed stands 12 bps from the reference");
    let (status, quoted) = quote(
        &till,
        json!({ "from": "USD", "to": "KRW", "amount": 10_000 }),
    )
    .await;
    assert_eq!(status, 200, "{quoted}");
    assert_eq!(quoted["rate_source"], "intraday");
    assert_eq!(
        quoted["to"]["amount"],
        convert(10_000, &live, MARKUP_BPS).unwrap().converted
    );
    // The feed down: the reference rate, never a guess.
    intraday_feed(&till, Value::Null, false).await;
    let (_, quoted) = quote(
        &till,
        json!({ "from": "USD", "to": "KRW", "amount": 10_000 }),
    )
    .await;
    assert_eq!(quoted["rate_source"], "reference");
    assert_eq!(
        quoted["to"]["amount"],
        convert(10_000, &reference, MARKUP_BPS).unwrap().converted
    );
    intraday_feed(&till, Value::Null, true).await;
}
