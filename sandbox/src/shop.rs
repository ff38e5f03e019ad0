//! The demo shop: a merchant with a small cart. Its server side creates the checkout session with
//! the merchant's secret key; its page mounts the Till widget in an iframe on the edge's origin.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use till_core::api::{CaptureMethod, CheckoutSession, CreateCheckoutSession, LineItem, Purpose};
use till_core::money::{Currency, Money};
use till_core::payment_method_type::PaymentMethodType;

#[derive(Clone)]
pub struct Shop {
    pub edge_url: String,
    pub secret_key: String,
    pub publishable_key: String,
    pub http: reqwest::Client,
}

struct Product {
    name: &'static str,
    unit_amount: i64,
    quantity: u32,
}

const CART: [Product; 3] = [
    Product {
        name: "Till enamel mug",
        unit_amount: 1800,
        quantity: 1,
    },
    Product {
        name: "Edge sticker pack",
        unit_amount: 450,
        quantity: 2,
    },
    Product {
        name: "Checkout tee",
        unit_amount: 2500,
        quantity: 1,
    },
];

fn usd() -> Currency {
    Currency::parse("USD").expect("USD is in the currency table")
}

fn line_items() -> Vec<LineItem> {
    CART.iter()
        .map(|p| LineItem {
            name: p.name.to_string(),
            quantity: p.quantity,
            unit_amount: p.unit_amount,
        })
        .collect()
}

fn cart_total() -> i64 {
    CART.iter()
        .map(|p| p.unit_amount * i64::from(p.quantity))
        .sum()
}

fn price(amount: i64) -> String {
    format!(
        "${}",
        Money {
            amount,
            currency: usd()
        }
        .to_decimal_string()
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

impl Shop {
    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(cart_page))
            .route("/checkout", post(checkout_page))
            .route("/returned", get(returned_page))
            .with_state(self)
    }
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title} · Edge Goods (Till demo shop)</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }}
h1 {{ font-size: 1.5rem; }}
table {{ width: 100%; border-collapse: collapse; margin-bottom: 1.5rem; }}
td, th {{ padding: .5rem 0; border-bottom: 1px solid #e5e5e5; text-align: left; }}
td.amount, th.amount {{ text-align: right; }}
button {{ font: inherit; padding: .75rem 1.5rem; border: 0; border-radius: .5rem; background: #1d4ed8; color: white; cursor: pointer; }}
#order-status {{ font-weight: 600; color: #15803d; }}
.note {{ color: #555; font-size: .875rem; }}
</style></head>
<body>{body}</body></html>"#
    ))
}

fn cart_table() -> String {
    let rows: String = CART
        .iter()
        .map(|p| {
            format!(
                "<tr><td>{}</td><td>× {}</td><td class=\"amount\">{}</td></tr>",
                escape(p.name),
                p.quantity,
                price(p.unit_amount * i64::from(p.quantity))
            )
        })
        .collect();
    format!(
        "<table><tr><th>Item</th><th>Qty</th><th class=\"amount\">Price</th></tr>{rows}\
         <tr><th>Total</th><th></th><th class=\"amount\" id=\"total\">{}</th></tr></table>",
        price(cart_total())
    )
}

async fn cart_page() -> Html<String> {
    page(
        "Cart",
        &format!(
            "<h1>Your cart</h1>{}<form method=\"post\" action=\"/checkout\">\
             <button id=\"checkout\" type=\"submit\">Check out</button></form>\
             <p class=\"note\">Demo shop for Till. Use test card 4242 4242 4242 4242, any future expiry, any CVC.</p>",
            cart_table()
        ),
    )
}

async fn checkout_page(
    State(shop): State<Shop>,
) -> Result<Html<String>, (StatusCode, Html<String>)> {
    let request = CreateCheckoutSession {
        amount: cart_total(),
        currency: usd(),
        capture_method: CaptureMethod::Automatic,
        line_items: line_items(),
        return_url: None,
        merchant_reference: Some(format!("order-{}", uuid::Uuid::new_v4().simple())),
        customer: None,
        purpose: Purpose::Payment,
        require_cvc: false,
        receipt_email: None,
        locale: None,
        fx_quote: None,
        // The demo shop takes cards and internet banking.
        payment_method_types: Some(vec![
            PaymentMethodType::Card,
            PaymentMethodType::BankRedirect,
        ]),
    };
    let failed = |what: &str| {
        eprintln!("shop: could not create a checkout session: {what}");
        (
            StatusCode::BAD_GATEWAY,
            page(
                "Checkout unavailable",
                "<h1>Checkout is unavailable</h1><p>Please try again in a moment.</p>",
            ),
        )
    };
    // A request lost on the way (a kept-alive connection the edge closed, say) is sent once
    // more; had the first arrived after all, its open session is never used and expires.
    let send = || {
        shop.http
            .post(format!("{}/v1/checkout_sessions", shop.edge_url))
            .bearer_auth(&shop.secret_key)
            .json(&request)
            .send()
    };
    let response = match send().await {
        Ok(response) => response,
        Err(lost) => {
            eprintln!("shop: sending the checkout session again: {lost}");
            send().await.map_err(|e| failed(&e.to_string()))?
        }
    };
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(failed(&format!("{status} {body}")));
    }
    let session: CheckoutSession = response.json().await.map_err(|e| failed(&e.to_string()))?;
    let client_secret = session
        .client_secret
        .ok_or_else(|| failed("no client secret"))?;
    let mount = serde_json::json!({
        "publishableKey": shop.publishable_key,
        "clientSecret": client_secret,
    });
    Ok(page(
        "Checkout",
        &format!(
            r##"<h1>Checkout</h1>{cart}<div id="till-checkout"></div>
<p id="order-status" role="status"></p>
<script src="{edge}/till.js"></script>
<script>
window.tillEvents = [];
var options = {mount};
options.onReady = function () {{ window.tillEvents.push({{ type: "ready", at: performance.now() }}); }};
options.onChange = function (state) {{ window.tillEvents.push({{ type: "change", state: state }}); }};
options.onError = function (error) {{ window.tillEvents.push({{ type: "error", error: error }}); }};
options.onSuccess = function (payment) {{
  window.tillEvents.push({{ type: "success", payment: payment }});
  document.getElementById("order-status").textContent = "Thank you! Your order is paid (" + payment.id + ").";
}};
Till.mount("#till-checkout", options);
</script>"##,
            cart = cart_table(),
            edge = escape(&shop.edge_url),
            mount = script_json(&mount),
        ),
    ))
}

/// JSON safe to place inside a `<script>` element.
fn script_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

/// Where the hosted checkout sends the customer back (as an app would receive its deep link).
async fn returned_page(
    axum::extract::Query(result): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Html<String> {
    let field = |name: &str| escape(result.get(name).map_or("", String::as_str));
    page(
        "Back from checkout",
        &format!(
            "<h1>Back at Edge Goods</h1><p id=\"returned\">Payment <span id=\"payment\">{}</span> \
             is <strong id=\"status\">{}</strong>.</p>",
            field("payment"),
            field("status")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cart_adds_up_and_validates() {
        let request = CreateCheckoutSession {
            amount: cart_total(),
            currency: usd(),
            capture_method: CaptureMethod::Automatic,
            line_items: line_items(),
            return_url: None,
            merchant_reference: None,
            customer: None,
            purpose: Purpose::Payment,
            require_cvc: false,
            receipt_email: None,
            locale: None,
            fx_quote: None,
            payment_method_types: None,
        };
        assert_eq!(
            request
                .validate(till_core::urls::DevHosts::default())
                .unwrap()
                .amount,
            5200
        );
        assert_eq!(price(5200), "$52.00");
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let text = script_json(&serde_json::json!({ "a": "</script><script>alert(1)" }));
        assert!(!text.contains("</script>"));
    }

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
