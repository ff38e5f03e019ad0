//! Helpers for the subscription tests.

use crate::Till;
use serde_json::Value;

impl Till {
    /// A new product named `name` and a price of it (`price`: the price's fields but the
    /// product); both as answered.
    pub async fn product_price(&self, name: &str, mut price: Value) -> (Value, Value) {
        let (status, product) = self
            .post(
                "/v1/products",
                &self.secret_key,
                &serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(status, 200, "product: {product}");
        price["product"] = product["id"].clone();
        let (status, price) = self.post("/v1/prices", &self.secret_key, &price).await;
        assert_eq!(status, 200, "price: {price}");
        (product, price)
    }
}
