//! The edge dies while transfers are in flight (wrangler dev is killed and started again on the
//! same state): retried with their keys, every transfer happens exactly once and no money is
//! made or lost. Its own test binary, so the restart disturbs no other test.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use till_e2e::wallet;
use till_e2e::{new_key, restart_edge};

const WALLETS: usize = 6;
const TRANSFERS: usize = 120;
const FUNDING: i64 = 20_000;

#[tokio::test]
async fn transfers_cut_by_an_edge_restart_complete_once_when_retried() {
    let till = wallet::till();
    let mut wallets = Vec::new();
    for _ in 0..WALLETS {
        let customer = till.new_customer().await;
        till.top_up(&customer, FUNDING).await;
        wallets.push(customer);
    }
    // Each wallet sends 20 and receives 20, of at most 899: none can run dry whatever order
    // they land in.
    let requests: Vec<(String, usize, usize, i64)> = (0..TRANSFERS)
        .map(|n| {
            let from = n % WALLETS;
            let to = (from + 1 + n / WALLETS % (WALLETS - 1)) % WALLETS;
            (new_key(), from, to, 100 + (n as i64 * 37) % 800)
        })
        .collect();
    let body = |from: usize, to: usize, amount: i64| {
        json!({ "from_customer": wallets[from], "to": wallets[to], "amount": amount,
                "currency": "USD", "source": "wallet" })
    };

    let in_flight: Vec<_> = requests
        .iter()
        .map(|(key, from, to, amount)| {
            let request = till
                .http
                .post(till.url("/v1/transfers"))
                .bearer_auth(wallet::SECRET_KEY)
                .header("Idempotency-Key", key)
                .json(&body(*from, *to, *amount));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    restart_edge().await;
    let mut cut = 0;
    for request in in_flight {
        if request.await.unwrap().ok() != Some(200) {
            cut += 1;
        }
    }
    assert!(
        cut > 0,
        "the restart came after every transfer: nothing was cut"
    );

    // Every key again until it has its final answer: "in progress" while a dead attempt's
    // record is fresh, then run (or replayed) once.
    let mut applied: BTreeMap<&str, Value> = BTreeMap::new();
    for (key, from, to, amount) in &requests {
        let mut answer = None;
        for _ in 0..60 {
            let (status, _, body) = till
                .transfer_with_key(&body(*from, *to, *amount), key)
                .await;
            if status == 200 {
                answer = Some(body);
                break;
            }
            assert_eq!(status, 409, "{body}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let transfer = answer.expect("a final answer after the restart");
        assert_eq!(transfer["amount"], *amount);
        applied.insert(key, transfer);
    }

    // Each transfer applied once: every wallet holds exactly what the transfers leave it.
    let mut expected = [FUNDING; WALLETS];
    for (_, from, to, amount) in &requests {
        expected[*from] -= amount;
        expected[*to] += amount;
    }
    for (n, customer) in wallets.iter().enumerate() {
        assert_eq!(till.wallet(customer).await, expected[n], "wallet {n}");
        let entries = till.entries_of(&format!("wallet:{customer}:USD")).await;
        assert_eq!(
            entries.len(),
            1 + 2 * TRANSFERS / WALLETS,
            "wallet {n}'s entries"
        );
    }
}
