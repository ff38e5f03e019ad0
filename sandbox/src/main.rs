//! `till-sandbox`: the local payment gateway and the demo shop, for development and tests.
//!
//! Configuration comes from the environment (all optional, defaults for local use):
//! `SANDBOX_GATEWAY_ADDR` (127.0.0.1:8790), `SANDBOX_SHOP_ADDR` (127.0.0.1:8791),
//! `SANDBOX_GATEWAY_KEY`, `SANDBOX_WEBHOOK_URL` (the edge's `/v1/webhooks/gateway`),
//! `SANDBOX_WEBHOOK_SECRET`, `SANDBOX_BANK_WEBHOOK_URL` (the edge's `/v1/webhooks/bank`),
//! `SANDBOX_BANK_DELAY_MS` (how long the bank takes to pay, 1000), `SANDBOX_BANK_LATE_MS`
//! (how long the `slow_bank` customer's bank takes to pay a bank payment, 5000),
//! `TILL_EDGE_URL` (http://127.0.0.1:8787), `TILL_DEMO_SECRET_KEY`,
//! `TILL_DEMO_PUBLISHABLE_KEY`.

mod analytics;
mod bank;
mod bank_redirect;
mod bins;
mod disputes;
mod gateway;
mod mail;
mod rates;
mod settlement;
mod shop;
mod test_cards;

use std::env;

/// Keys seeded for local development only (see `edge/seed/demo.sql` and the README).
pub const DEMO_SECRET_KEY: &str = "sk_test_till_demo_merchant_secret";
pub const DEMO_PUBLISHABLE_KEY: &str = "pk_test_till_demo_merchant_publishable";
pub const DEMO_GATEWAY_KEY: &str = "gw_test_till_sandbox_key";
pub const DEMO_WEBHOOK_SECRET: &str = "gwhsec_till_sandbox_local";

fn setting(name: &str, default: &str) -> String {
    env::var(name).unwrap_or_else(|_| default.to_string())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let gateway_addr = setting("SANDBOX_GATEWAY_ADDR", "127.0.0.1:8790");
    let shop_addr = setting("SANDBOX_SHOP_ADDR", "127.0.0.1:8791");
    let edge_url = setting("TILL_EDGE_URL", "http://127.0.0.1:8787");
    let webhooks = gateway::Webhooks {
        url: setting(
            "SANDBOX_WEBHOOK_URL",
            &format!("{edge_url}/v1/webhooks/gateway"),
        ),
        secret: setting("SANDBOX_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET).into(),
        http: reqwest::Client::new(),
    };
    let bank_webhooks = gateway::Webhooks {
        url: setting(
            "SANDBOX_BANK_WEBHOOK_URL",
            &format!("{edge_url}/v1/webhooks/bank"),
        ),
        ..webhooks.clone()
    };
    let gateway = gateway::Gateway::new(
        &setting("SANDBOX_GATEWAY_KEY", DEMO_GATEWAY_KEY),
        Some(webhooks),
    )
    .with_bank_webhooks(bank_webhooks);
    let shop = shop::Shop {
        edge_url,
        secret_key: setting("TILL_DEMO_SECRET_KEY", DEMO_SECRET_KEY),
        publishable_key: setting("TILL_DEMO_PUBLISHABLE_KEY", DEMO_PUBLISHABLE_KEY),
        http: reqwest::Client::new(),
    };

    let gateway_listener = tokio::net::TcpListener::bind(&gateway_addr).await?;
    let shop_listener = tokio::net::TcpListener::bind(&shop_addr).await?;
    println!("sandbox gateway on http://{gateway_addr}");
    println!("demo shop on http://{shop_addr}");

    let gateway_server = axum::serve(gateway_listener, gateway.router());
    let shop_server = axum::serve(shop_listener, shop.router());
    tokio::select! {
        result = gateway_server => result,
        result = shop_server => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
