//! Customers, wallets, transfers and the ledger, through the real edge and the sandbox gateway.

use futures_util::StreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use till_e2e::wallet::{self, unique_phone};
use till_e2e::{new_key, Till};

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn customers_are_normalized_listed_updated_and_kept_to_their_merchant() {
    let till = wallet::till();
    let phone = unique_phone();
    let spaced = format!("{} ({}) {}", &phone[..2], &phone[2..5], &phone[5..]);
    let email = format!("Minsu.{}@Example.COM", &phone[5..]);
    let created = till
        .create_customer(json!({ "email": email, "phone": spaced, "name": " 김민수 ",
                                 "locale": "ko-KR", "metadata": { "app_user": "8812" } }))
        .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["phone"], phone.as_str());
    assert_eq!(created["email"], email.to_lowercase());
    assert_eq!(created["name"], "김민수");

    // The same phone or email (in any spelling) is someone else's: refused, nothing written.
    for taken in [
        json!({ "phone": phone }),
        json!({ "email": email.to_uppercase() }),
    ] {
        let (status, body) = till.post("/v1/customers", &till.secret_key, &taken).await;
        assert_eq!((status, code(&body)), (409, "customer_exists"), "{body}");
    }
    for (bad, expected) in [
        (json!({ "phone": "010-1234-5678" }), "phone_invalid"),
        (json!({ "email": "not-an-email" }), "email_invalid"),
        (json!({ "locale": "Korean" }), "locale_invalid"),
        (json!({ "name": "a\u{7}b" }), "name_invalid"),
        (json!({ "metadata": { "": "x" } }), "metadata_invalid"),
        (json!({ "nickname": "x" }), "parameter_invalid"),
        (json!({ "phone": 821012345678u64 }), "parameter_invalid"),
    ] {
        let (status, body) = till.post("/v1/customers", &till.secret_key, &bad).await;
        assert_eq!((status, code(&body)), (400, expected), "{bad}: {body}");
    }

    // An update replaces what it names, clears what it empties, keeps the rest.
    let response = till
        .http
        .patch(till.url(&format!("/v1/customers/{id}")))
        .bearer_auth(&till.secret_key)
        .json(
            &json!({ "name": "", "locale": "en", "metadata": { "app_user": "", "tier": "gold" } }),
        )
        .send()
        .await
        .unwrap();
    let (status, updated) = till_e2e::json_of(response).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], Value::Null);
    assert_eq!(updated["locale"], "en");
    assert_eq!(updated["phone"], phone.as_str());
    assert_eq!(updated["metadata"], json!({ "tier": "gold" }));

    // Contact lookup: hashes in, matching customers out; the list itself never sent in clear.
    let stranger = unique_phone();
    let (status, found) = till
        .post(
            "/v1/customers/lookup",
            &till.secret_key,
            &json!({ "hashes": [sha256_hex(&phone).to_uppercase(), sha256_hex(&stranger),
                                sha256_hex(&email.to_lowercase())] }),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let matched: Vec<(&str, &str)> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["hash"].as_str().unwrap(), m["customer"].as_str().unwrap()))
        .collect();
    let (phone_hash, email_hash) = (sha256_hex(&phone), sha256_hex(&email.to_lowercase()));
    assert_eq!(
        matched,
        vec![(phone_hash.as_str(), id), (email_hash.as_str(), id)]
    );
    let (status, body) = till
        .post(
            "/v1/customers/lookup",
            &till.secret_key,
            &json!({ "hashes": [phone] }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "parameter_invalid"), "{body}");

    // Another merchant sees none of it.
    let demo = Till::default();
    for path in [
        format!("/v1/customers/{id}"),
        format!("/v1/customers/{id}/balance"),
    ] {
        let (status, body) = demo.get(&path, &demo.secret_key).await;
        assert_eq!((status, code(&body)), (404, "resource_missing"), "{path}");
    }
    let (_, theirs) = demo
        .post(
            "/v1/customers/lookup",
            &demo.secret_key,
            &json!({ "hashes": [sha256_hex(&phone)] }),
        )
        .await;
    assert_eq!(theirs["data"], json!([]));
    // Publishable keys cannot read customers.
    let (status, body) = till
        .get(&format!("/v1/customers/{id}"), &till.publishable_key)
        .await;
    assert_eq!((status, code(&body)), (403, "secret_key_required"));
}

#[tokio::test]
async fn customers_are_listed_newest_first_page_by_page() {
    let till = wallet::till();
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(till.new_customer().await);
    }
    // Other tests add customers meanwhile: read pages of 2 after the newest of ours until the
    // oldest comes, and find ours in the order they were made, newest first.
    let mut cursor = made[4].clone();
    let mut seen = Vec::new();
    while !seen.contains(&made[0]) {
        let path = format!("/v1/customers?limit=2&starting_after={cursor}");
        let (status, page) = till.get(&path, &till.secret_key).await;
        assert_eq!(status, 200, "{page}");
        let ids: Vec<String> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!ids.is_empty() && ids.len() <= 2, "{page}");
        if !ids.contains(&made[0]) {
            assert_eq!(page["has_more"], true, "ours follow: {page}");
        }
        cursor = ids.last().unwrap().clone();
        seen.extend(ids);
    }
    let ours: Vec<&String> = seen.iter().filter(|id| made.contains(id)).collect();
    assert_eq!(ours, vec![&made[3], &made[2], &made[1], &made[0]]);
    for (query, expected) in [
        ("limit=0", "parameter_invalid"),
        ("limit=101", "parameter_invalid"),
        ("starting_after=cus_nope", "cursor_invalid"),
        (
            "starting_after=pay_0123456789abcdef0123456789abcdef",
            "cursor_invalid",
        ),
    ] {
        let (status, body) = till
            .get(&format!("/v1/customers?{query}"), &till.secret_key)
            .await;
        assert_eq!((status, code(&body)), (400, expected), "{query}");
    }
    // Another merchant's customer is no cursor here.
    let demo = Till::default();
    let (status, body) = demo
        .get(
            &format!("/v1/customers?starting_after={}", made[0]),
            &demo.secret_key,
        )
        .await;
    assert_eq!((status, code(&body)), (400, "cursor_invalid"));
}

#[tokio::test]
async fn a_top_up_fills_the_wallet_only_when_its_payment_succeeds() {
    let till = wallet::till();
    let customer = till.new_customer().await;

    let declined = till.top_up_with(&customer, 7_000, "4000000000000002").await;
    assert_eq!(declined["status"], "failed");
    assert_eq!(
        till.wallet(&customer).await,
        0,
        "a declined card adds nothing"
    );

    let paid = till.top_up(&customer, 7_000).await;
    assert_eq!(paid["customer"], customer.as_str());
    assert_eq!(paid["purpose"], "wallet_top_up");
    assert_eq!(till.wallet(&customer).await, 7_000);

    // The ledger shows where it came from, and the wallet's balance is the sum of its entries.
    let entries = till.entries_of(&format!("wallet:{customer}:USD")).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["kind"], "top_up");
    assert_eq!(entries[0]["source"], paid["id"]);
    assert_eq!(entries[0]["amount"], 7_000);
    assert_eq!(entries[0]["balance_after"], 7_000);

    // A refund of the top-up takes the money back out of the wallet...
    let (status, refund) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": paid["id"], "amount": 2_000 }),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(till.wallet(&customer).await, 5_000);
    // ...and cannot take what the customer has already sent on.
    let friend = till.new_customer().await;
    let (status, sent) = till.transfer(&customer, &friend, 4_500).await;
    assert_eq!(status, 200, "{sent}");
    let (status, refused) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": paid["id"], "amount": 1_000 }),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (402, "balance_insufficient"),
        "{refused}"
    );
    let (_, payment) = till
        .get(
            &format!("/v1/payments/{}", paid["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(
        payment["amount_refunded"], 2_000,
        "the refused refund reserved nothing"
    );
    assert_eq!(till.wallet(&customer).await, 500);

    // A top-up needs a customer of this merchant.
    let (status, body) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({ "amount": 100, "currency": "USD", "purpose": "wallet_top_up" }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "parameter_invalid"));
    let demo = Till::default();
    let (status, body) = demo
        .post(
            "/v1/checkout_sessions",
            &demo.secret_key,
            &json!({ "amount": 100, "currency": "USD", "purpose": "wallet_top_up",
                     "customer": customer }),
        )
        .await;
    assert_eq!((status, code(&body)), (404, "resource_missing"), "{body}");
}

#[tokio::test]
async fn a_transfer_moves_money_once_and_refuses_overdrafts_limits_and_strangers() {
    let till = wallet::till();
    let (ana, bo) = (till.new_customer().await, till.new_customer().await);
    till.top_up(&ana, 60_000).await;

    let body = json!({ "from_customer": ana, "to": bo, "amount": 12_345, "currency": "USD",
                       "source": "wallet", "note": "점심 🍜" });
    let key = new_key();
    let (status, replayed, first) = till.transfer_with_key(&body, &key).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["note"], "점심 🍜");
    let (status, replayed, again) = till.transfer_with_key(&body, &key).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again["id"], first["id"]);
    let mut other = body.clone();
    other["amount"] = json!(1);
    let (status, _, reused) = till.transfer_with_key(&other, &key).await;
    assert_eq!((status, code(&reused)), (422, "idempotency_key_reused"));
    assert_eq!(till.wallet(&ana).await, 60_000 - 12_345);
    assert_eq!(till.wallet(&bo).await, 12_345);

    // Refusals write nothing.
    let before = (till.wallet(&ana).await, till.wallet(&bo).await);
    let (status, body) = till.transfer(&bo, &ana, 12_346).await;
    assert_eq!(
        (status, code(&body)),
        (402, "balance_insufficient"),
        "{body}"
    );
    let (status, body) = till.transfer(&ana, &bo, 50_001).await;
    assert_eq!((status, code(&body)), (402, "limit_exceeded"), "{body}");
    let (status, body) = till.transfer(&ana, &ana, 1).await;
    assert_eq!((status, code(&body)), (400, "transfer_to_self"));
    let outsider = Till::default()
        .create_customer(json!({ "name": "Demo customer" }))
        .await;
    let (status, body) = till
        .transfer(&ana, outsider["id"].as_str().unwrap(), 1)
        .await;
    assert_eq!(
        (status, code(&body)),
        (404, "recipient_unknown"),
        "another merchant's customer"
    );
    let (status, body) = till
        .transfer(outsider["id"].as_str().unwrap(), &ana, 1)
        .await;
    assert_eq!((status, code(&body)), (404, "resource_missing"), "{body}");
    for (to, expected) in [("bob", "recipient_invalid"), ("+12", "recipient_invalid")] {
        let (status, body) = till.transfer(&ana, to, 1).await;
        assert_eq!((status, code(&body)), (400, expected), "{to}");
    }
    for amount in [0, -5] {
        let (status, body) = till.transfer(&ana, &bo, amount).await;
        assert_eq!((status, code(&body)), (400, "amount_invalid"));
    }
    let (status, body) = till
        .post(
            "/v1/transfers",
            &till.secret_key,
            &json!({ "from_customer": ana, "to": bo, "amount": 1, "currency": "USD",
                     "source": "wallet" }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "idempotency_key_missing"));
    assert_eq!((till.wallet(&ana).await, till.wallet(&bo).await), before);
}

#[tokio::test]
async fn the_daily_limit_holds_across_concurrent_transfers() {
    let till = wallet::till();
    let (sender, receiver) = (till.new_customer().await, till.new_customer().await);
    for _ in 0..6 {
        till.top_up(&sender, 50_000).await;
    }
    // Six transfers of 50,000 at once against a 200,000 daily limit: exactly four pass.
    let sends = (0..6).map(|_| till.transfer(&sender, &receiver, 50_000));
    let answers = futures_util::future::join_all(sends).await;
    let passed = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused: Vec<&str> = answers
        .iter()
        .filter(|(status, _)| *status != 200)
        .map(|(_, body)| code(body))
        .collect();
    assert_eq!(passed, 4, "{answers:?}");
    assert_eq!(refused, vec!["limit_exceeded"; 2]);
    assert_eq!(till.wallet(&receiver).await, 200_000);
    assert_eq!(till.wallet(&sender).await, 100_000);
}

#[tokio::test]
async fn money_for_a_stranger_waits_for_them_and_is_theirs_when_they_sign_up() {
    let till = wallet::till();
    let sender = till.new_customer().await;
    till.top_up(&sender, 9_000).await;
    let phone = unique_phone();

    let (status, held) = till.transfer(&sender, &phone, 4_000).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["status"], "awaiting_claim");
    assert_eq!(held["to_customer"], Value::Null);
    assert!(held["claim_expires_at"].as_i64().unwrap() > held["created"].as_i64().unwrap());
    assert_eq!(
        till.wallet(&sender).await,
        5_000,
        "the money left the sender"
    );
    let (_, balance) = till.get("/v1/balance", &till.secret_key).await;
    assert!(
        balance["pending_claims"][0]["amount"].as_i64().unwrap() >= 4_000,
        "{balance}"
    );

    // They sign up with that phone (typed their own way): the transfer is theirs.
    let spaced = format!("{} {} {}", &phone[..2], &phone[2..5], &phone[5..]);
    let receiver = till.create_customer(json!({ "phone": spaced })).await;
    let receiver = receiver["id"].as_str().unwrap();
    assert_eq!(till.wallet(receiver).await, 4_000);
    let (_, claimed) = till
        .get(
            &format!("/v1/transfers/{}", held["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(claimed["status"], "succeeded");
    assert_eq!(claimed["to_customer"], receiver);

    // Now a customer, the phone reaches them directly.
    let (status, direct) = till.transfer(&sender, &phone, 1_000).await;
    assert_eq!(status, 200, "{direct}");
    assert_eq!(
        (direct["status"].as_str(), direct["to_customer"].as_str()),
        (Some("succeeded"), Some(receiver))
    );
    assert_eq!(till.wallet(receiver).await, 5_000);
}

#[tokio::test]
async fn an_unclaimed_transfer_goes_back_to_its_sender() {
    let till = wallet::till();
    let sender = till.new_customer().await;
    till.top_up(&sender, 3_000).await;
    let email = format!("nobody-{}@example.com", &unique_phone()[5..]);
    let (status, held) = till.transfer(&sender, &email, 2_500).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["recipient_type"], "email");
    assert_eq!(till.wallet(&sender).await, 500);

    // The test stack's claims expire after 20 s; the every-minute cron returns them.
    let expires = held["claim_expires_at"].as_i64().unwrap();
    let wait = (expires - till_e2e::now() + 1).max(0) as u64;
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    let path = format!("/v1/transfers/{}", held["id"].as_str().unwrap());
    let mut returned = Value::Null;
    for _ in 0..20 {
        till.run_poller().await;
        returned = till.get(&path, &till.secret_key).await.1;
        if returned["status"] == "returned" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(returned["status"], "returned", "{returned}");
    assert_eq!(till.wallet(&sender).await, 3_000);
    // Signing up later finds nothing waiting.
    let late = till.create_customer(json!({ "email": email })).await;
    assert_eq!(till.wallet(late["id"].as_str().unwrap()).await, 0);
}

/// Hundreds of concurrent random transfers among 20 wallets, with retries of the same
/// `Idempotency-Key` among them: no money made or lost, no wallet below zero, each request
/// applied once, and every balance equal to the sum of its ledger entries.
#[tokio::test]
async fn concurrent_random_transfers_conserve_money_and_apply_once() {
    const WALLETS: usize = 20;
    const TRANSFERS: usize = 300;
    const FUNDING: i64 = 20_000;
    let till = wallet::till();
    let mut wallets = Vec::new();
    for _ in 0..WALLETS {
        let customer = till.new_customer().await;
        till.top_up(&customer, FUNDING).await;
        wallets.push(customer);
    }

    // A deterministic shuffle of senders, receivers and amounts (up to 9,000 of a 20,000 wallet,
    // so overdrafts happen); every fifth request is a retry of an earlier one.
    let mut seed: u64 = 0x7111_2026;
    let mut next = |bound: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % bound
    };
    let mut requests: Vec<(String, Value)> = Vec::new();
    for n in 0..TRANSFERS {
        if n % 5 == 4 {
            let earlier = requests[next(requests.len() as u64) as usize].clone();
            requests.push(earlier);
            continue;
        }
        let from = next(WALLETS as u64) as usize;
        let to = (from + 1 + next(WALLETS as u64 - 1) as usize) % WALLETS;
        let amount = 1 + next(9_000) as i64;
        requests.push((
            new_key(),
            json!({ "from_customer": wallets[from], "to": wallets[to], "amount": amount,
                    "currency": "USD", "source": "wallet" }),
        ));
    }
    let sends = requests.iter().map(|(key, body)| {
        let till = &till;
        async move {
            let (status, _, answer) = till.transfer_with_key(body, key).await;
            (key.clone(), status, answer)
        }
    });
    // 16 at a time.
    let answers: Vec<(String, u16, Value)> = futures_util::stream::iter(sends)
        .buffer_unordered(16)
        .collect()
        .await;

    let mut applied: BTreeMap<String, String> = BTreeMap::new();
    for (key, status, answer) in &answers {
        match status {
            200 => {
                let id = answer["id"].as_str().unwrap().to_string();
                if let Some(before) = applied.insert(key.clone(), id.clone()) {
                    assert_eq!(before, id, "one key, two transfers");
                }
            }
            402 => assert_eq!(code(answer), "balance_insufficient", "{answer}"),
            // A retry racing its original is told to wait; it never runs twice.
            409 => assert_eq!(code(answer), "idempotency_request_in_progress"),
            _ => panic!("{status}: {answer}"),
        }
    }
    assert!(
        applied.len() > TRANSFERS / 4,
        "only {} transfers passed",
        applied.len()
    );
    let transfers: BTreeSet<&String> = applied.values().collect();
    assert_eq!(transfers.len(), applied.len(), "each key applied once");

    let mut total = 0;
    for customer in &wallets {
        let balance = till.wallet(customer).await;
        assert!(balance >= 0, "{customer}: {balance}");
        let entries = till.entries_of(&format!("wallet:{customer}:USD")).await;
        let sum: i64 = entries.iter().map(|e| e["amount"].as_i64().unwrap()).sum();
        assert_eq!(
            sum, balance,
            "{customer}: the balance is the sum of its entries"
        );
        let last = entries
            .last()
            .map_or(0, |e| e["balance_after"].as_i64().unwrap());
        assert_eq!(last, balance);
        total += balance;
    }
    assert_eq!(total, FUNDING * WALLETS as i64, "money is conserved");
}

#[tokio::test]
async fn ledger_entries_are_filtered_and_paged() {
    let till = wallet::till();
    for (query, expected) in [
        ("account=wallet", "parameter_invalid"),
        ("account=wallet:cus_1:usd", "parameter_invalid"),
        ("created_gte=yesterday", "parameter_invalid"),
        ("starting_after=le_0123", "cursor_invalid"),
        ("limit=1000", "parameter_invalid"),
    ] {
        let (status, body) = till
            .get(&format!("/v1/ledger/entries?{query}"), &till.secret_key)
            .await;
        assert_eq!((status, code(&body)), (400, expected), "{query}: {body}");
    }
    let customer = till.new_customer().await;
    till.top_up(&customer, 1_000).await;
    till.top_up(&customer, 2_000).await;
    let account = format!("wallet:{customer}:USD");
    let (_, page) = till
        .get(
            &format!("/v1/ledger/entries?account={account}&limit=1"),
            &till.secret_key,
        )
        .await;
    assert_eq!(page["data"][0]["amount"], 2_000, "newest first");
    assert_eq!(page["has_more"], true);
    let after = page["data"][0]["id"].as_str().unwrap();
    let (_, rest) = till
        .get(
            &format!("/v1/ledger/entries?account={account}&starting_after={after}"),
            &till.secret_key,
        )
        .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0]["amount"], 1_000);
    assert_eq!(rest["has_more"], false);
    // Each entry has its other side in the same transaction.
    let transaction = &rest["data"][0]["transaction"];
    let since = rest["data"][0]["created"].as_i64().unwrap();
    let (_, clearing) = till
        .get(
            &format!(
                "/v1/ledger/entries?account=gateway_clearing:USD&created_gte={since}&limit=100"
            ),
            &till.secret_key,
        )
        .await;
    let other_side: Vec<&Value> = clearing["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| &e["transaction"] == transaction)
        .collect();
    assert_eq!(other_side.len(), 1);
    assert_eq!(other_side[0]["amount"], -1_000);
    // Another merchant's entries are not a cursor here.
    let demo = Till::default();
    let (status, body) = demo
        .get(
            &format!("/v1/ledger/entries?starting_after={after}"),
            &demo.secret_key,
        )
        .await;
    assert_eq!((status, code(&body)), (400, "cursor_invalid"));
}

/// A transfer paid by the sender's saved card: the charge and the transfer are one operation.
#[tokio::test]
async fn a_transfer_paid_by_card_happens_with_its_charge_or_not_at_all() {
    let till = wallet::till();
    let (sender, receiver) = (till.new_customer().await, till.new_customer().await);
    let card = till.save_card(&sender, 1_000, "4242424242424242").await;

    let body = json!({ "from_customer": sender, "to": receiver, "amount": 4_321,
                       "currency": "USD", "source": card });
    let key = new_key();
    let (status, _, sent) = till.transfer_with_key(&body, &key).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["status"], "succeeded");
    assert_eq!(sent["source"], card.as_str());
    assert_eq!(till.wallet(&receiver).await, 4_321);
    assert_eq!(
        till.wallet(&sender).await,
        0,
        "the card paid, not the wallet"
    );
    let (_, replayed, again) = till.transfer_with_key(&body, &key).await;
    assert!(replayed);
    assert_eq!(again["id"], sent["id"]);
    let entries = till.entries_of(&format!("wallet:{receiver}:USD")).await;
    assert_eq!(entries.len(), 1, "credited once: {entries:?}");
    assert_eq!(entries[0]["kind"], "transfer_from_card");

    // The gateway does not answer the first time: the transfer waits, the retry finishes it
    // with one charge.
    till.fault(json!({ "amount": 4_322, "fail_times": 1 }))
        .await;
    let body = json!({ "from_customer": sender, "to": receiver, "amount": 4_322,
                       "currency": "USD", "source": card });
    let key = new_key();
    let (status, _, first) = till.transfer_with_key(&body, &key).await;
    assert_eq!(
        (status, code(&first)),
        (502, "gateway_unavailable"),
        "{first}"
    );
    assert_eq!(till.wallet(&receiver).await, 4_321, "nothing moved yet");
    let (status, _, finished) = till.transfer_with_key(&body, &key).await;
    assert_eq!(status, 200, "{finished}");
    assert_eq!(finished["status"], "succeeded");
    assert_eq!(till.wallet(&receiver).await, 4_321 + 4_322);

    // A card whose bank wants its holder fails the transfer, and nothing moves.
    let strong = till.save_card(&sender, 1_100, "4000002760003184").await;
    let body = json!({ "from_customer": sender, "to": receiver, "amount": 1_234,
                       "currency": "USD", "source": strong });
    let (status, _, refused) = till.transfer_with_key(&body, &new_key()).await;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(refused["status"], "failed");
    assert_eq!(till.wallet(&receiver).await, 4_321 + 4_322);

    // Only the sender's own saved cards.
    let stranger_card = {
        let other = till.new_customer().await;
        till.save_card(&other, 1_200, "4242424242424242").await
    };
    let body = json!({ "from_customer": sender, "to": receiver, "amount": 100,
                       "currency": "USD", "source": stranger_card });
    let (status, _, refused) = till.transfer_with_key(&body, &new_key()).await;
    assert_eq!(
        (status, code(&refused)),
        (404, "resource_missing"),
        "{refused}"
    );

    // To someone not a customer yet: the card is charged, and the money waits in the transfer's
    // claim until they sign up with that phone.
    let phone = unique_phone();
    let body = json!({ "from_customer": sender, "to": phone, "amount": 2_468,
                       "currency": "USD", "source": card });
    let (status, _, held) = till.transfer_with_key(&body, &new_key()).await;
    assert_eq!(
        (status, held["status"].as_str()),
        (200, Some("awaiting_claim")),
        "{held}"
    );
    let id = held["id"].as_str().unwrap();
    let claim: Vec<Value> = till.entries_of(&format!("pending_claim:{id}:USD")).await;
    assert_eq!(claim.len(), 1, "{claim:?}");
    assert_eq!(
        (&claim[0]["kind"], &claim[0]["amount"]),
        (&json!("hold_from_card"), &json!(2_468))
    );
    let newcomer = till.create_customer(json!({ "phone": phone })).await;
    let newcomer = newcomer["id"].as_str().unwrap();
    assert_eq!(till.wallet(newcomer).await, 2_468);
    let (_, settled) = till
        .get(&format!("/v1/transfers/{id}"), &till.secret_key)
        .await;
    assert_eq!(
        (settled["status"].as_str(), settled["to_customer"].as_str()),
        (Some("succeeded"), Some(newcomer))
    );
    assert_eq!(till.wallet(&sender).await, 0, "the card paid it");
}

/// The gateway's event that the bank wants the card's holder can reach the edge before the
/// authorization's answer. Nobody can answer a challenge for a transfer, so it still fails
/// (`authentication_required`), at once and on a retry, and nothing moves.
#[tokio::test]
async fn a_challenge_reported_before_the_answer_still_fails_the_transfer() {
    let till = wallet::till();
    let (sender, receiver) = (till.new_customer().await, till.new_customer().await);
    let strong = till.save_card(&sender, 1_110, "4000002760003184").await;
    till.fault(json!({ "amount": 1_237, "answer_delay_ms": 400 }))
        .await;
    let body = json!({ "from_customer": sender, "to": receiver, "amount": 1_237,
                       "currency": "USD", "source": strong });
    let key = new_key();
    let (status, _, refused) = till.transfer_with_key(&body, &key).await;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(refused["status"], "failed", "{refused}");
    let payment_id = refused["payment"].as_str().expect("the transfer's payment");
    let (status, payment) = till
        .get(&format!("/v1/payments/{payment_id}"), wallet::SECRET_KEY)
        .await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "failed", "{payment}");
    assert_eq!(
        payment["failure_code"], "authentication_required",
        "{payment}"
    );
    // Nobody could have answered that challenge: the merchant hears of the failure only.
    let (status, events) = till
        .get(
            &format!("/v1/events?payment={payment_id}"),
            wallet::SECRET_KEY,
        )
        .await;
    assert_eq!(status, 200, "{events}");
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|event| event["type"].as_str())
        .collect();
    assert_eq!(kinds, ["payment.failed"], "{events}");
    let (_, _, again) = till.transfer_with_key(&body, &key).await;
    assert_eq!(again["status"], "failed", "{again}");
    assert_eq!(till.wallet(&receiver).await, 0, "nothing moved");
}
