//! The subscription catalogue through the real edge: products and their recurring prices,
//! checked, the merchant's own, listed newest first, archived and never deleted.

use serde_json::{json, Value};
use till_core::ids::{new_id, IdKind};
use till_e2e::merchants::onboard;
use till_e2e::Till;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn create(till: &Till, path: &str, body: Value) -> Value {
    let (status, created) = till.post(path, &till.secret_key, &body).await;
    assert_eq!(status, 200, "{path} {body}: {created}");
    created
}

#[tokio::test]
async fn products_and_prices_are_checked_listed_and_archived_never_deleted() {
    let (_, till) = onboard("Membership Shop", &[]).await;
    let (_, stranger) = onboard("Membership Stranger", &[]).await;
    let product = create(
        &till,
        "/v1/products",
        json!({ "name": "  프리미엄 멤버십 ", "description": "Ad-free, early access" }),
    )
    .await;
    assert_eq!(product["name"], "프리미엄 멤버십", "trimmed");
    assert_eq!(product["active"], true);
    let product_id = product["id"].as_str().unwrap();

    let monthly = create(
        &till,
        "/v1/prices",
        json!({ "product": product_id, "unit_amount": 9_900, "currency": "KRW", "interval": "month" }),
    )
    .await;
    assert_eq!(
        monthly["recurring"],
        json!({ "interval": "month", "interval_count": 1 })
    );
    assert_eq!(
        (&monthly["unit_amount"], &monthly["currency"]),
        (&json!(9_900), &json!("KRW"))
    );
    assert_eq!(monthly["trial_days"], Value::Null);
    let yearly = create(
        &till,
        "/v1/prices",
        json!({
            "product": product_id, "unit_amount": 99_000, "currency": "KRW",
            "interval": "year", "trial_days": 14,
        }),
    )
    .await;
    assert_eq!(yearly["trial_days"], 14);

    // Bad prices change nothing.
    let unknown_product = new_id(IdKind::Product, [7; 16]);
    for (body, expected) in [
        (
            json!({ "product": product_id, "unit_amount": 0, "currency": "KRW", "interval": "month" }),
            (400, "amount_invalid"),
        ),
        (
            json!({ "product": product_id, "unit_amount": 9_900, "currency": "KRW", "interval": "month", "interval_count": 13 }),
            (400, "parameter_invalid"),
        ),
        (
            json!({ "product": product_id, "unit_amount": 9_900, "currency": "KRW", "interval": "fortnight" }),
            (400, "parameter_invalid"),
        ),
        (
            json!({ "product": product_id, "unit_amount": 9_900, "currency": "KRW", "interval": "week", "trial_days": 731 }),
            (400, "parameter_invalid"),
        ),
        (
            json!({ "product": product_id, "unit_amount": 9.5, "currency": "KRW", "interval": "day" }),
            (400, "parameter_invalid"),
        ),
        (
            json!({ "product": unknown_product, "unit_amount": 100, "currency": "USD", "interval": "day" }),
            (404, "resource_missing"),
        ),
        (
            json!({ "product": "prod_../../x", "unit_amount": 100, "currency": "USD", "interval": "day" }),
            (404, "resource_missing"),
        ),
    ] {
        let (status, refused) = till.post("/v1/prices", &till.secret_key, &body).await;
        assert_eq!((status, code(&refused)), expected, "{body}: {refused}");
    }
    for body in [
        json!({ "name": "" }),
        json!({ "name": "x".repeat(201) }),
        json!({ "name": "Gold\u{7}" }),
        json!({ "name": "Gold", "price": 5 }),
    ] {
        let (status, refused) = till.post("/v1/products", &till.secret_key, &body).await;
        assert_eq!(
            (status, code(&refused)),
            (400, "parameter_invalid"),
            "{body}"
        );
    }

    // Another merchant sees none of it and cannot price it or archive it.
    let (status, _) = stranger
        .get(&format!("/v1/products/{product_id}"), &stranger.secret_key)
        .await;
    assert_eq!(status, 404);
    let (status, refused) = stranger
        .post(
            "/v1/prices",
            &stranger.secret_key,
            &json!({ "product": product_id, "unit_amount": 1, "currency": "USD", "interval": "day" }),
        )
        .await;
    assert_eq!((status, code(&refused)), (404, "resource_missing"));
    let monthly_id = monthly["id"].as_str().unwrap();
    let (status, _) = stranger
        .post(
            &format!("/v1/prices/{monthly_id}"),
            &stranger.secret_key,
            &json!({ "active": false }),
        )
        .await;
    assert_eq!(status, 404);

    // Listed newest first, filtered by product and by active; archived, then back.
    let (status, list) = till
        .get(
            &format!("/v1/prices?product={product_id}"),
            &till.secret_key,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [yearly["id"].as_str().unwrap(), monthly_id]);
    let archived = create(
        &till,
        &format!("/v1/prices/{monthly_id}"),
        json!({ "active": false }),
    )
    .await;
    assert_eq!(archived["active"], false);
    let (_, active) = till.get("/v1/prices?active=true", &till.secret_key).await;
    assert_eq!(active["data"].as_array().unwrap().len(), 1, "{active}");
    let (_, page) = till.get("/v1/prices?limit=1", &till.secret_key).await;
    assert_eq!(page["has_more"], true);
    let (status, _) = till.get("/v1/prices?active=maybe", &till.secret_key).await;
    assert_eq!(status, 400);
    let (status, _) = till.get("/v1/prices?product=nope", &till.secret_key).await;
    assert_eq!(status, 400);

    // An archived product takes no new price, and comes back when asked.
    create(
        &till,
        &format!("/v1/products/{product_id}"),
        json!({ "active": false }),
    )
    .await;
    let (status, refused) = till
        .post(
            "/v1/prices",
            &till.secret_key,
            &json!({ "product": product_id, "unit_amount": 1_000, "currency": "KRW", "interval": "week" }),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["param"].as_str()),
        (400, Some("product")),
        "{refused}"
    );
    let (_, products) = till
        .get("/v1/products?active=false", &till.secret_key)
        .await;
    assert_eq!(products["data"][0]["id"], product_id);
    let back = create(
        &till,
        &format!("/v1/products/{product_id}"),
        json!({ "active": true }),
    )
    .await;
    assert_eq!(back["active"], true);
    let (status, read) = till
        .get(&format!("/v1/prices/{monthly_id}"), &till.secret_key)
        .await;
    assert_eq!(
        (status, &read["active"]),
        (200, &json!(false)),
        "archived, still there"
    );
}
