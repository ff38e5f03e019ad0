//! The merchant's dashboard in headless Chromium against the edge: a person invited by e-mail
//! signs up, sees the overview's charts, finds a payment by its card's last four digits,
//! refunds part of it and sees the chart change; signs out and in again; switches to Korean; and
//! the page is as locked down as the widget (CSP, never framed).

use fantoccini::{Client, Locator};
use serde_json::Value;
use till_e2e::browser::{click, fits_a_phone, open, screenshot, wait_for, wait_for_text};
use till_e2e::merchants::onboard;
use till_e2e::people::{invitation_token, invite_with_key, unique_email, PASSWORD};
use till_e2e::{new_key, Till};

async fn type_into(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect(css);
    field.send_keys(text).await.expect(css);
}

/// A payment of `amount` cents with `number`; its answer.
async fn pay(till: &Till, amount: i64, number: &str) -> Value {
    let session = till.create_session(amount).await;
    let token = till.token(&session, number).await;
    let (status, _, body) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "confirm: {body}");
    body
}

/// Opens the invitation's link and signs up as `name`; the overview follows.
async fn sign_up_in_browser(client: &Client, till: &Till, invitation: &Value, name: &str) {
    let link = format!(
        "{}/dashboard/#invitation={}",
        till.edge,
        invitation_token(invitation)
    );
    client.goto(&link).await.unwrap();
    wait_for_text(client, "h1", "Join your team").await;
    type_into(client, "#name", name).await;
    type_into(client, "#new-password", PASSWORD).await;
    click(client, "button[type=submit]").await;
    wait_for(client, "#volume-chart").await;
}

/// Today's bar of the net volume chart: its value in cents.
async fn todays_net(client: &Client) -> i64 {
    let value = client
        .execute(
            "const bars = document.querySelectorAll('#volume-chart .bar'); \
             return bars.length ? bars[bars.length - 1].getAttribute('data-value') : null",
            vec![],
        )
        .await
        .expect("script");
    value
        .as_str()
        .unwrap_or_else(|| panic!("no bar for today: {value}"))
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn a_person_signs_up_finds_a_payment_by_last4_refunds_it_and_sees_the_chart_change() {
    let (_, till) = onboard("Dashboard Books", &[]).await;
    let visa = pay(&till, 4_200, "4242424242424242").await;
    pay(&till, 1_500, "5555555555554444").await;
    let declined = pay(&till, 900, "4000000000000002").await;
    assert_eq!(declined["status"], "failed", "{declined}");
    let email = unique_email("dash");
    let (status, invitation) = invite_with_key(&till, &till.secret_key, &email, "owner").await;
    assert_eq!(status, 200, "{invitation}");

    let client = open().await;
    sign_up_in_browser(&client, &till, &invitation, "Ana Kim").await;

    // The overview: both payments in today's net volume, the decline among the reasons.
    wait_for(&client, "#volume-chart .bar").await;
    assert_eq!(todays_net(&client).await, 4_200 + 1_500);
    wait_for_text(&client, "#declines-chart", "card_declined").await;
    wait_for_text(&client, "#net-total", "$57.00").await;
    let token_left = client.current_url().await.unwrap().to_string();
    assert!(!token_left.contains("invitation="), "{token_left}");
    screenshot(&client, "dashboard-overview").await;

    // Payments: the search by last 4 finds the Visa payment only.
    click(&client, "nav a[href='#/payments']").await;
    wait_for(&client, "#payments tbody tr").await;
    type_into(&client, "#last4", "4242").await;
    click(&client, "form.filters button[type=submit]").await;
    // The list is replaced by the search's answer: one row, the Visa payment.
    let mut rows = 0;
    for _ in 0..80 {
        rows = client
            .find_all(Locator::Css("#payments tbody tr"))
            .await
            .unwrap()
            .len();
        if rows == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(rows, 1, "only the card ending in 4242");
    wait_for_text(&client, "#payments tbody", "42.00").await;
    screenshot(&client, "dashboard-payments").await;

    // The payment: refund $12.00 of it.
    click(&client, "#payments tbody a").await;
    wait_for_text(&client, "#payment-status", "succeeded").await;
    let visa_id = visa["id"].as_str().unwrap();
    wait_for_text(&client, ".details", visa_id).await;
    type_into(&client, "#refund-amount", "12.00").await;
    click(&client, "#refund").await;
    wait_for_text(&client, ".notice", "Refund issued").await;
    wait_for_text(&client, "#refunded", "$12.00").await;
    wait_for_text(&client, "#timeline", "refund").await;
    screenshot(&client, "dashboard-payment-refunded").await;
    let (_, seen) = till
        .get(&format!("/v1/payments/{visa_id}"), &till.secret_key)
        .await;
    assert_eq!(seen["amount_refunded"], 1_200, "{seen}");

    // Back on the overview, today's bar is lower by the refund.
    click(&client, "nav a[href='#/overview']").await;
    wait_for(&client, "#volume-chart .bar").await;
    assert_eq!(todays_net(&client).await, 4_200 + 1_500 - 1_200);
    wait_for_text(&client, "#net-total", "$45.00").await;

    // The person's change is in the audit log under their name.
    let (_, log) = till.get("/v1/audit_log?limit=100", &till.secret_key).await;
    assert!(
        log["data"].as_array().unwrap().iter().any(|e| {
            e["action"] == "request"
                && e["target"] == "POST /v1/refunds"
                && e["actor"].as_str().unwrap().starts_with("user:usr_")
        }),
        "{log}"
    );

    // Signed out, the page asks to sign in; the password signs in again.
    click(&client, "header button.quiet:not(.lang)").await;
    wait_for_text(&client, "h1", "Sign in to Till").await;
    type_into(&client, "#email", &email).await;
    type_into(&client, "#password", "not the password").await;
    click(&client, "button[type=submit]").await;
    wait_for_text(&client, ".error", "email or password is wrong").await;
    type_into(&client, "#password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    wait_for(&client, "#volume-chart .bar").await;

    // In Korean, on a phone.
    click(&client, "button.lang[lang=ko]").await;
    wait_for_text(&client, "nav", "결제").await;
    wait_for_text(&client, "#volume-chart figcaption", "일별").await;
    let lang = client
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang.as_str(), Some("ko"));
    fits_a_phone(&client).await;
    screenshot(&client, "dashboard-overview-ko-375").await;
    click(&client, "button.lang[lang=en]").await;
    wait_for_text(&client, "nav", "Payments").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_page_is_never_framed_and_runs_under_a_strict_csp() {
    let till = Till::default();
    let response = till.http.get(till.url("/dashboard/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["Content-Security-Policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(
        !html.contains("{{__TRUNK NONCE__}}"),
        "the nonce is filled in"
    );
}

/// A local receiver of webhook deliveries that answers 200.
async fn webhook_receiver() -> String {
    let app = axum::Router::new().route("/hooks", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_developer_turns_on_a_second_factor_makes_keys_and_resends_a_webhook() {
    let (_, till) = onboard("Dashboard Tools", &[]).await;
    let (status, endpoint) = till
        .post(
            "/v1/webhook_endpoints",
            &till.secret_key,
            &serde_json::json!({ "url": webhook_receiver().await, "events": ["payment.succeeded"] }),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    pay(&till, 2_000, "4242424242424242").await;
    let (status, customer) = till
        .post(
            "/v1/customers",
            &till.secret_key,
            &serde_json::json!({ "email": unique_email("customer"), "name": "Min-jun Park" }),
        )
        .await;
    assert_eq!(status, 200, "{customer}");
    let email = unique_email("dev");
    let (_, invitation) = invite_with_key(&till, &till.secret_key, &email, "developer").await;
    let client = open().await;
    sign_up_in_browser(&client, &till, &invitation, "Dev Person").await;

    // The second factor: set up with the secret shown once, confirmed with a code.
    click(&client, "nav a[href='#/account']").await;
    click(&client, "#totp-start").await;
    let secret = wait_for(&client, "#totp-secret")
        .await
        .text()
        .await
        .unwrap();
    let now = till_e2e::now() as u64;
    let code_at = |t: u64| till_core::totp::code_at(&secret, t).unwrap();
    type_into(&client, "#totp-code", &code_at(now)).await;
    click(&client, "form.filters button[type=submit]").await;
    wait_for_text(&client, "#totp-state", "On").await;
    screenshot(&client, "dashboard-account-totp").await;

    // Signing in now asks for the code after the password.
    click(&client, "header button.quiet:not(.lang)").await;
    wait_for(&client, "#email").await;
    type_into(&client, "#email", &email).await;
    type_into(&client, "#password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    wait_for(&client, "#code").await;
    type_into(&client, "#code", &code_at(now + 30)).await;
    click(&client, "button[type=submit]").await;
    wait_for(&client, "#volume-chart").await;

    // Keys: a restricted key is made and shown once; an origin is added.
    click(&client, "nav a[href='#/keys']").await;
    wait_for(&client, "#keys tbody tr").await;
    client
        .find(Locator::Css("#key-kind option[value=restricted]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    type_into(&client, "#key-name", "Reporting").await;
    type_into(&client, "#key-scopes", "payments:read").await;
    click(&client, "form.filters button[type=submit]").await;
    let shown = wait_for_text(&client, "#new-key", "rk_test_").await;
    let (status, _) = till.get("/v1/payments", shown.trim()).await;
    assert_eq!(status, 200, "the key shown works");
    wait_for_text(&client, "#keys", "Reporting").await;
    type_into(&client, "#origin", "https://books.example").await;
    click(&client, "form.filters:last-of-type button[type=submit]").await;
    wait_for_text(&client, "#origins", "https://books.example").await;
    screenshot(&client, "dashboard-keys").await;

    // Webhooks: the payment's delivery is in the log, and is sent again on request.
    click(&client, "nav a[href='#/webhooks']").await;
    wait_for(&client, "#endpoints button").await;
    click(&client, "#endpoints button").await;
    wait_for_text(&client, "#deliveries", "payment.succeeded").await;
    click(&client, "#deliveries .resend").await;
    wait_for_text(&client, ".notice", "Sent again").await;
    let endpoint_id = endpoint["id"].as_str().unwrap();
    let (_, deliveries) = till
        .get(
            &format!("/v1/webhook_endpoints/{endpoint_id}/deliveries"),
            &till.secret_key,
        )
        .await;
    assert_eq!(
        deliveries["data"].as_array().unwrap().len(),
        2,
        "{deliveries}"
    );
    screenshot(&client, "dashboard-webhooks").await;

    // Performance: the person's own calls are among the merchant's routes.
    click(&client, "nav a[href='#/performance']").await;
    wait_for_text(&client, "#routes", "/v1/api_keys").await;
    wait_for(&client, "#p99-chart .bar").await;
    screenshot(&client, "dashboard-performance").await;

    // Customers and reconciliation runs are listed.
    click(&client, "nav a[href='#/customers']").await;
    wait_for_text(&client, "#customers", "Min-jun Park").await;
    click(&client, "nav a[href='#/reconciliation']").await;
    wait_for_text(&client, "main", "No reconciliation runs yet").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_owner_tries_a_rule_on_past_payments_adds_it_and_approves_a_held_payment() {
    let (_, till) = onboard("Dashboard Risk Shop", &[]).await;
    pay(&till, 20_000, "4242424242424242").await;
    pay(&till, 1_000, "4242424242424242").await;
    let email = unique_email("risk");
    let (status, invitation) = invite_with_key(&till, &till.secret_key, &email, "owner").await;
    assert_eq!(status, 200, "{invitation}");
    let client = open().await;
    sign_up_in_browser(&client, &till, &invitation, "Min Park").await;
    client
        .goto(&format!("{}/dashboard/#/risk", till.edge))
        .await
        .unwrap();
    wait_for_text(&client, "table.rules", "declines(card, 1h) >= 5").await;
    wait_for_text(&client, ".empty", "No payments are waiting").await;

    // A malformed rule is refused with where it went wrong; a good one is tried first.
    type_into(&client, "#rule", "review if amount_usd >=").await;
    click(&client, "#dry-run-button").await;
    wait_for_text(&client, ".notice", "character").await;
    type_into(&client, "#rule", "review if amount_usd >= 100").await;
    click(&client, "#dry-run-button").await;
    wait_for_text(&client, "#dry-run", "Would have hit 1 of 2 payments").await;
    click(&client, "#add-rule").await;
    wait_for_text(&client, "table.rules", "review if amount_usd >= 100").await;

    // The rule holds the next large payment; the owner approves it from the queue.
    let held = pay(&till, 15_000, "4242424242424242").await;
    assert_eq!(held["status"], "requires_capture", "{held}");
    client.refresh().await.unwrap();
    wait_for_text(&client, "ul.reviews", "$150.00").await;
    screenshot(&client, "dashboard-risk").await;
    fits_a_phone(&client).await;
    click(&client, "ul.reviews button.approve").await;
    wait_for_text(&client, ".empty", "No payments are waiting").await;
    let id = held["id"].as_str().unwrap();
    let (_, payment) = till
        .get(&format!("/v1/payments/{id}"), &till.secret_key)
        .await;
    assert_eq!(
        (payment["status"].as_str(), payment["review"].as_str()),
        (Some("succeeded"), Some("approved"))
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_owner_answers_a_dispute_with_text_and_a_file_and_sees_it_won() {
    let (_, till) = onboard("Dashboard Dispute Shop", &[]).await;
    let paid = pay(&till, 8_000, "4242424242424242").await;
    let payment = paid["id"].as_str().unwrap().to_string();
    let authorization = till.gateway_authorizations(&payment).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let opened = till
        .http
        .post(format!("{}/v1/control/disputes", till.gateway))
        .bearer_auth(till_e2e::GATEWAY_KEY)
        .json(&serde_json::json!({ "authorization": authorization, "reason": "product_not_received" }))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 201);
    let email = unique_email("disputes");
    let (status, invitation) = invite_with_key(&till, &till.secret_key, &email, "owner").await;
    assert_eq!(status, 200, "{invitation}");
    let client = open().await;
    sign_up_in_browser(&client, &till, &invitation, "Ji-woo Han").await;
    client
        .goto(&format!("{}/dashboard/#/disputes", till.edge))
        .await
        .unwrap();
    wait_for_text(&client, "ul.disputes", "Needs response").await;
    wait_for_text(&client, "ul.disputes", "$80.00").await;
    screenshot(&client, "dashboard-disputes").await;

    click(&client, "li.dispute button.answer").await;
    type_into(
        &client,
        "#uncategorized_text",
        "winning_evidence: delivered on 21 November, signed for.",
    )
    .await;
    type_into(&client, "#shipping_tracking_number", "1Z999AA10123456784").await;
    let mut note = b"\x89PNG\r\n\x1a\n".to_vec();
    note.extend_from_slice(b"signed delivery note");
    let path = std::env::temp_dir().join(format!("signature-{}.png", new_key()));
    std::fs::write(&path, &note).unwrap();
    wait_for(&client, "#evidence_files")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    screenshot(&client, "dashboard-dispute-evidence").await;
    click(&client, "#send-evidence").await;
    wait_for_text(&client, "ul.disputes", "Won").await;
    wait_for_text(&client, ".evidence", "1Z999AA10123456784").await;
    wait_for_text(&client, ".evidence .files", "signature-").await;
    screenshot(&client, "dashboard-dispute-won").await;
    fits_a_phone(&client).await;

    // The payment's page says it is disputed and offers no refund.
    client
        .goto(&format!("{}/dashboard/#/payments/{payment}", till.edge))
        .await
        .unwrap();
    wait_for_text(&client, "#dispute", "Won").await;
    assert!(
        client.find(Locator::Css("#refund")).await.is_err(),
        "a disputed payment offers no refund"
    );

    let (_, list) = till.get("/v1/disputes", &till.secret_key).await;
    let dispute = &list["data"][0];
    assert_eq!(dispute["payment"], payment.as_str());
    assert_eq!(dispute["status"], "won");
    let file = &dispute["evidence"]["files"][0];
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(file["size"], note.len());
    let (_, balance) = till.get("/v1/balance", &till.secret_key).await;
    assert_eq!(balance["available"][0]["amount"], 8_000, "{balance}");
    let _ = std::fs::remove_file(path);
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_analyst_sees_subscriptions_filtered_by_status_and_their_invoices() {
    let (_, till) = onboard("Dashboard Subscriptions Shop", &[]).await;
    let customer = till.new_customer().await;
    let card = till.save_card(&customer, 1_251, "4242424242424242").await;
    let (_, price) = till
        .product_price(
            "Gold",
            serde_json::json!({ "unit_amount": 1_250,
                                 "currency": "USD", "interval": "month" }),
        )
        .await;
    for trial_days in [0, 30] {
        let body = serde_json::json!({ "customer": customer, "price": price["id"],
                                       "payment_method": card, "trial_days": trial_days });
        let (status, _, subscription) = till
            .post_keyed("/v1/subscriptions", &body, &new_key())
            .await;
        assert_eq!(status, 200, "{subscription}");
    }
    let email = unique_email("subscriptions");
    let (status, invitation) = invite_with_key(&till, &till.secret_key, &email, "analyst").await;
    assert_eq!(status, 200, "{invitation}");
    let client = open().await;
    sign_up_in_browser(&client, &till, &invitation, "Ji-woo Han").await;
    client
        .goto(&format!("{}/dashboard/#/subscriptions", till.edge))
        .await
        .unwrap();
    wait_for_text(&client, "#subscriptions", "Active").await;
    wait_for_text(&client, "#subscriptions", "Trial").await;
    wait_for_text(&client, "#invoices", "$12.50").await;
    wait_for_text(&client, "#invoices", "Paid").await;
    screenshot(&client, "dashboard-subscriptions").await;
    fits_a_phone(&client).await;
    client
        .find(Locator::Css("#subscription-status option[value=trialing]"))
        .await
        .expect("the trialing option")
        .click()
        .await
        .expect("choose trialing");
    let rows = || async {
        client
            .execute(
                "return document.querySelectorAll('#subscriptions tbody tr').length",
                vec![],
            )
            .await
            .expect("script")
    };
    for _ in 0..50 {
        if rows().await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows().await, 1);
    wait_for_text(&client, "#subscriptions", "Trial").await;
    // The schedule is there to read, not to change.
    wait_for_text(&client, "#dunning", "again 1, 3, 5, 7 days after").await;
    let forms = client
        .find_all(Locator::Css("#dunning-form"))
        .await
        .expect("query");
    assert!(forms.is_empty(), "an analyst cannot change the schedule");
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_developer_sets_the_dunning_schedule_and_a_wrong_one_changes_nothing() {
    let (_, till) = onboard("Dashboard Dunning Shop", &[]).await;
    // Something for the overview's charts, where signing up lands.
    pay(&till, 1_000, "4242424242424242").await;
    let email = unique_email("dunning");
    let (status, invitation) = invite_with_key(&till, &till.secret_key, &email, "developer").await;
    assert_eq!(status, 200, "{invitation}");
    let client = open().await;
    sign_up_in_browser(&client, &till, &invitation, "Min-jun Park").await;
    client
        .goto(&format!("{}/dashboard/#/subscriptions", till.edge))
        .await
        .unwrap();
    wait_for_text(&client, "#dunning", "again 1, 3, 5, 7 days after").await;
    type_into(&client, "#retry-days", "5, 1").await;
    click(&client, "#dunning-form button[type=submit]").await;
    wait_for_text(&client, ".notice", "increasing days").await;
    let (_, unchanged) = till.get("/v1/billing_settings", &till.secret_key).await;
    assert_eq!(
        unchanged["dunning"]["retry_days"],
        serde_json::json!([1, 3, 5, 7])
    );

    type_into(&client, "#retry-days", "2, 4, 9").await;
    client
        .find(Locator::Css("#after-retries option[value=cancel]"))
        .await
        .expect("the cancel option")
        .click()
        .await
        .expect("choose cancel");
    click(&client, "#dunning-form button[type=submit]").await;
    wait_for_text(&client, ".notice", "Schedule saved").await;
    wait_for_text(
        &client,
        "#dunning",
        "again 2, 4, 9 days after it failed, then the subscription is canceled",
    )
    .await;
    screenshot(&client, "dashboard-dunning").await;
    fits_a_phone(&client).await;
    let (_, saved) = till.get("/v1/billing_settings", &till.secret_key).await;
    assert_eq!(
        saved["dunning"],
        serde_json::json!({ "retry_days": [2, 4, 9], "after_retries": "cancel" })
    );
    let (_, log) = till.get("/v1/audit_log", &till.secret_key).await;
    assert_eq!(
        log["data"][0]["action"], "billing_settings.updated",
        "{log}"
    );
    assert!(
        log["data"][0]["actor"]
            .as_str()
            .unwrap_or_default()
            .starts_with("user:"),
        "{log}"
    );
    client.close().await.unwrap();
}
