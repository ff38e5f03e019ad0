//! The latency and throughput half of `cargo xtask bench`, run against a local stack that xtask
//! started (addresses in `TILL_*`, as for the end-to-end tests). Prints one JSON object.
//!
//! `bench latency`: the storage-free route and the direct gateway call (the floors), a
//! tokenization and the confirm after it (with the steps their answers report in
//! `Server-Timing`), the same confirm by a new customer each time, without the gateway's
//! webhook about it (the echo), and with a saved card whose security code is typed again; the
//! confirm's idempotent replay, and confirms per second at 32 clients against the floor route
//! at the same concurrency; a wallet-to-wallet transfer, alone and per second at 32 clients.
//! `bench first-request`: one request right after the edge (re)started.
//! `bench interactive [runs]`: checkout page navigation to the widget's ready event, each run in
//! a fresh browser profile (cold cache) that has rested on the cart page first, with when each
//! piece of the page arrived (p50).
//! `bench shape`: the confirm's storage round trips alone, in the JavaScript probe worker at
//! `TILL_PROBE_URL` (`tests/probes/confirm_shape`), today's shape and the single shard object's,
//! in turns with that worker's storage-free route and the direct gateway call.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use till_e2e::{card, new_key, send, setting, Session, Till, GATEWAY_KEY};

/// Requests timed per sequential measurement, after `WARM_UP` untimed ones.
const SAMPLES: usize = 200;
const CONFIRM_SAMPLES: usize = 100;
const WARM_UP: usize = 20;
const CLIENTS: usize = 32;
const CONFIRMS_AT_ONCE: usize = 320;
const FLOOR_REQUESTS_AT_ONCE: usize = 3200;
const TRANSFER_SENDERS: usize = 8;
const TRANSFERS_AT_ONCE: usize = 320;
/// Long enough for the sandbox's webhooks about the last confirms to be handled.
const WEBHOOKS_SETTLE: Duration = Duration::from_secs(2);
/// How long each fresh browser rests on the cart page before the customer checks out. A
/// browser that has just started is still busy with its own start (it preloads a new-tab page
/// in another renderer, among other work); on two cores that took about 90 ms from the
/// checkout page's median, the widget's and its floor's alike. No customer clicks within
/// milliseconds of starting their browser; the caches stay cold.
const CART_PAGE_REST: Duration = Duration::from_secs(1);

/// Milliseconds at the `p`th percentile (nearest rank) of `samples`.
fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

fn mean(samples: &[f64]) -> f64 {
    samples.iter().sum::<f64>() / samples.len().max(1) as f64
}

fn summary(mut samples: Vec<f64>) -> Value {
    json!({
        "n": samples.len(),
        "mean_ms": mean(&samples),
        "p50_ms": percentile(&mut samples, 50.0),
        "p90_ms": percentile(&mut samples, 90.0),
        "p99_ms": percentile(&mut samples, 99.0),
    })
}

fn millis(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Times `SAMPLES` sequential calls of `call` over one keep-alive client.
async fn sequential<F, Fut>(mut call: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    for _ in 0..WARM_UP {
        call().await;
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let status = call().await;
        samples.push(millis(started));
        assert!((200..300).contains(&status), "status {status}");
    }
    summary(samples)
}

/// `GET /v1/keys`. A connection `wrangler dev`'s local proxy resets under the 32-client load
/// (it ended one whole bench run; the Worker logged no error) is opened again, at most twice:
/// the request is safe to repeat, and the time the retry takes stays in the measurement.
async fn floor_route(till: &Till) -> u16 {
    let mut resent = 0;
    let response = loop {
        match till.http.get(till.url("/v1/keys")).send().await {
            Ok(response) => break response,
            Err(error) if resent < 2 && error.is_request() => resent += 1,
            Err(error) => panic!("edge reachable: {error}"),
        }
    };
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    status
}

/// What the direct gateway call authorizes.
const DIRECT_GATEWAY_AMOUNT: i64 = 1234;
/// What the probe worker authorizes (`PROBE_AMOUNT` in `tests/probes/confirm_shape/index.js`).
const PROBE_AMOUNT: i64 = 4321;
/// What the confirms without their gateway echo pay ([`echoless_confirms`]).
const ECHOLESS_AMOUNT: i64 = 2468;

/// Has the sandbox drop its webhooks about authorizations of `amount`.
async fn drop_webhooks(http: &reqwest::Client, gateway: &str, amount: i64) {
    let dropped = http
        .post(format!("{gateway}/v1/control/faults"))
        .bearer_auth(GATEWAY_KEY)
        .json(&json!({ "amount": amount, "webhook_drop": true }))
        .send()
        .await
        .expect("sandbox reachable");
    assert!(dropped.status().is_success(), "sandbox fault");
}

async fn direct_gateway(http: &reqwest::Client, gateway: &str) -> u16 {
    let response = http
        .post(format!("{gateway}/v1/authorizations"))
        .bearer_auth(GATEWAY_KEY)
        .header("Idempotency-Key", new_key())
        .json(&json!({
            "amount": DIRECT_GATEWAY_AMOUNT,
            "currency": "USD",
            "reference": format!("bench_{}", new_key()),
            "capture": true,
            "card": card("4242424242424242"),
        }))
        .send()
        .await
        .expect("sandbox reachable");
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    status
}

/// A session and a token, ready to confirm (not timed).
async fn prepared(till: &Till, amount: i64) -> (Session, String) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, "4242424242424242").await;
    (session, token)
}

/// The confirm body of a Pay with a token.
fn with_token((session, token): (Session, String)) -> (Session, Value) {
    let body = json!({ "client_secret": session.client_secret, "token": token });
    (session, body)
}

/// The `Server-Timing` steps of many answers: each step's samples, in the order the edge ran
/// them.
#[derive(Default)]
struct Steps(Vec<(String, Vec<f64>)>);

impl Steps {
    fn add(&mut self, response: &reqwest::Response) {
        let header = response
            .headers()
            .get("Server-Timing")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        for (name, millis) in till_core::server_timing::parse(header) {
            match self.0.iter_mut().find(|(known, _)| *known == name) {
                Some((_, samples)) => samples.push(millis),
                None => self.0.push((name, vec![millis])),
            }
        }
    }

    /// `[[step, mean ms], …]`, in order. Means, not medians: the runtime's clock moves in whole
    /// milliseconds during a request, so a step's median is a whole number, and only the mean
    /// of many answers resolves a fraction of one.
    fn means(self) -> Value {
        let rows: Vec<Value> = self
            .0
            .iter()
            .map(|(name, samples)| json!([name, mean(samples)]))
            .collect();
        json!(rows)
    }
}

/// `summary` of `samples`, with the mean of each step the answers named.
fn summary_with_steps(samples: Vec<f64>, steps: Steps) -> Value {
    let mut report = summary(samples);
    report["steps_mean_ms"] = steps.means();
    report
}

/// Tokenizations and the confirms that follow them (a customer's press of Pay is both), then
/// the confirms' replays, each timed alone, with the steps each answer reports
/// (`Server-Timing`). Each replay follows one request to the storage-free route, timed too: the
/// replay's target is a ratio to that route, and taken in turns the two see the same machine
/// (measured minutes apart, a machine that slowed in between moved the ratio by 0.3). The
/// replays run after every confirm, once the gateway's webhooks about those payments were
/// handled: right after a confirm, the local runtime's one thread is busy with the sandbox's
/// webhook for it, which in production runs on another isolate.
async fn tokens_confirms_and_replays(till: &Till) -> (Value, Value, Value) {
    let mut tokens = Vec::with_capacity(CONFIRM_SAMPLES);
    let mut token_steps = Steps::default();
    let mut first = Vec::with_capacity(CONFIRM_SAMPLES);
    let mut confirm_steps = Steps::default();
    let mut confirmed = Vec::with_capacity(WARM_UP + CONFIRM_SAMPLES);
    for n in 0..(WARM_UP + CONFIRM_SAMPLES) {
        let session = till.create_session(20_000 + n as i64).await;
        // The widget encrypts the card in the browser before it asks; only the request is timed.
        let encrypted_card = till.encrypt(&session.id, &card("4242424242424242")).await;
        let started = Instant::now();
        let response = till.send_token_request(&session, &encrypted_card).await;
        let token_ms = millis(started);
        if n >= WARM_UP {
            tokens.push(token_ms);
            token_steps.add(&response);
        }
        let (status, body) = till_e2e::json_of(response).await;
        assert_eq!(status, 200, "{body}");
        let token = body["id"].as_str().expect("token id").to_string();
        let key = new_key();
        let started = Instant::now();
        let response = till
            .send_confirm(&session, &session.client_secret, &token, &key)
            .await;
        let confirm_ms = millis(started);
        if n >= WARM_UP {
            first.push(confirm_ms);
            confirm_steps.add(&response);
        }
        let replayed = response.headers().contains_key("Idempotent-Replayed");
        let (status, body) = till_e2e::json_of(response).await;
        assert_eq!((status, replayed), (200, false), "{body}");
        confirmed.push((session, token, key));
    }
    tokio::time::sleep(WEBHOOKS_SETTLE).await;
    let mut replays = Vec::with_capacity(CONFIRM_SAMPLES);
    let mut floors = Vec::with_capacity(CONFIRM_SAMPLES);
    for (n, (session, token, key)) in confirmed.iter().enumerate() {
        let started = Instant::now();
        let status = floor_route(till).await;
        let floor_ms = millis(started);
        assert_eq!(status, 200);
        let started = Instant::now();
        let (status, replayed, _) = till.confirm(session, token, key).await;
        let replay_ms = millis(started);
        assert_eq!((status, replayed), (200, true));
        if n >= WARM_UP {
            floors.push(floor_ms);
            replays.push(replay_ms);
        }
    }
    (
        summary_with_steps(tokens, token_steps),
        summary_with_steps(first, confirm_steps),
        json!({ "replay": summary(replays), "floor": summary(floors) }),
    )
}

/// `WARM_UP + CONFIRM_SAMPLES` confirms timed as in [`tokens_confirms_and_replays`], each of
/// the session and confirm body `prepare(n)` made untimed: the times after the warm-up, with
/// steps.
async fn timed_confirms<F, Fut>(till: &Till, mut prepare: F) -> Value
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = (Session, Value)>,
{
    let mut times = Vec::with_capacity(CONFIRM_SAMPLES);
    let mut steps = Steps::default();
    for n in 0..(WARM_UP + CONFIRM_SAMPLES) {
        let (session, body) = prepare(n).await;
        let started = Instant::now();
        let response = till.send_confirm_body(&session, &body, &new_key()).await;
        if n >= WARM_UP {
            times.push(millis(started));
            steps.add(&response);
        }
        let (status, body) = till_e2e::json_of(response).await;
        assert_eq!(status, 200, "{body}");
    }
    summary_with_steps(times, steps)
}

/// Confirms each by a customer Till has not seen (an email of their own): most checkouts are
/// someone's first, and a new customer is new velocity history for the risk rules.
async fn new_customer_confirms(till: &Till) -> Value {
    let run = new_key();
    timed_confirms(till, |n| {
        let email = format!("customer-{run}-{n}@example.com");
        async move {
            let session = till.create_session_for(30_000 + n as i64, &email).await;
            let token = till.token(&session, "4242424242424242").await;
            with_token((session, token))
        }
    })
    .await
}

/// Confirms with a returning customer's saved card whose security code the merchant asks for
/// again (`require_cvc`): the widget encrypts the code alone (`encrypted_cvc`), and the edge
/// opens it with the same key agreement as a tokenization's card. The card was saved by the
/// customer's first payment, untimed.
async fn saved_card_confirms(till: &Till) -> Value {
    let (customer, card) = customer_with_saved_card(till, 40_000).await;
    timed_confirms(till, |n| {
        let (customer, card) = (&customer, &card);
        async move {
            let session = till
                .customer_checkout(customer, 40_001 + n as i64, true)
                .await;
            // The widget encrypts the code in the browser before it asks.
            let encrypted_cvc = till.encrypt_cvc(&session, "123").await;
            let body = json!({ "client_secret": session.client_secret, "payment_method": card,
                               "encrypted_cvc": encrypted_cvc });
            (session, body)
        }
    })
    .await
}

/// A new customer who paid `amount` US cents and kept the card (untimed), and the card's id.
async fn customer_with_saved_card(till: &Till, amount: i64) -> (String, String) {
    let customer = till.new_customer().await;
    let first = till.customer_checkout(&customer, amount, false).await;
    let token = till.token(&first, "4242424242424242").await;
    let body = json!({ "client_secret": first.client_secret, "token": token,
                       "save_payment_method": true });
    let response = till.send_confirm_body(&first, &body, &new_key()).await;
    let (status, paid) = till_e2e::json_of(response).await;
    assert_eq!(status, 200, "{paid}");
    let saved = till.saved_cards(&customer).await;
    let card = saved[0]["id"].as_str().expect("a saved card").to_string();
    (customer, card)
}

/// Charges of a returning customer's saved card by the merchant's server (`POST /v1/payments`,
/// off-session): no widget, no security code. Renewals and transfers paid by card charge the
/// same way.
async fn off_session_charges(till: &Till) -> Value {
    let (customer, card) = customer_with_saved_card(till, 50_000).await;
    let mut times = Vec::with_capacity(CONFIRM_SAMPLES);
    let mut steps = Steps::default();
    for n in 0..(WARM_UP + CONFIRM_SAMPLES) {
        let body = json!({ "customer": customer, "payment_method": card,
                           "amount": 50_001 + n as i64, "currency": "USD", "off_session": true });
        let started = Instant::now();
        let response = send(
            till.http
                .post(till.url("/v1/payments"))
                .bearer_auth(&till.secret_key)
                .header("Idempotency-Key", new_key())
                .json(&body),
        )
        .await;
        if n >= WARM_UP {
            times.push(millis(started));
            steps.add(&response);
        }
        let (status, body) = till_e2e::json_of(response).await;
        assert_eq!(
            (status, &body["status"]),
            (200, &json!("succeeded")),
            "{body}"
        );
    }
    summary_with_steps(times, steps)
}

/// Confirms of an amount whose webhook the sandbox drops. The sandbox sends each
/// authorization's webhook as it answers, so locally the echo reaches the edge during the
/// confirm's last steps and shares the runtime's one thread with them; on Cloudflare it runs in
/// another isolate. The probe's storage path has no echo either: these are the confirms its
/// steps are set against.
async fn echoless_confirms(till: &Till, http: &reqwest::Client, gateway: &str) -> Value {
    drop_webhooks(http, gateway, ECHOLESS_AMOUNT).await;
    timed_confirms(till, |_| async {
        with_token(prepared(till, ECHOLESS_AMOUNT).await)
    })
    .await
}

/// Runs `jobs` with `CLIENTS` at a time; completed jobs per second.
async fn per_second<T, F, Fut>(jobs: Vec<T>, run: F) -> f64
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let count = jobs.len();
    let queue = Arc::new(tokio::sync::Mutex::new(jobs));
    let run = Arc::new(run);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (queue, run) = (queue.clone(), run.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let job = queue.lock().await.pop();
                match job {
                    Some(job) => run(job).await,
                    None => return,
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("bench client");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn throughput(till: Arc<Till>) -> Value {
    let mut jobs = Vec::with_capacity(CONFIRMS_AT_ONCE);
    for n in 0..CONFIRMS_AT_ONCE {
        jobs.push(prepared(&till, 30_000 + n as i64).await);
    }
    let confirming = till.clone();
    let confirms = per_second(jobs, move |(session, token): (Session, String)| {
        let till = confirming.clone();
        async move {
            let (status, _, body) = till.confirm(&session, &token, &new_key()).await;
            assert_eq!(status, 200, "{body}");
        }
    })
    .await;
    let reading = till.clone();
    let floor = per_second(vec![(); FLOOR_REQUESTS_AT_ONCE], move |()| {
        let till = reading.clone();
        async move {
            assert_eq!(floor_route(&till).await, 200);
        }
    })
    .await;
    json!({
        "clients": CLIENTS,
        "confirms_per_second": confirms,
        "floor_per_second": floor,
        "ratio": confirms / floor,
    })
}

/// Wallet transfers of one cent: timed alone, then per second with `CLIENTS` at a time from
/// `TRANSFER_SENDERS` wallets (the demo merchant's default limits allow them all).
async fn transfers(till: Arc<Till>) -> Value {
    let receiver = till.new_customer().await;
    let mut senders = Vec::with_capacity(TRANSFER_SENDERS);
    for _ in 0..TRANSFER_SENDERS {
        let sender = till.new_customer().await;
        till.top_up(&sender, 10_000).await;
        senders.push(sender);
    }
    let mut alone = Vec::with_capacity(CONFIRM_SAMPLES);
    for n in 0..(WARM_UP + CONFIRM_SAMPLES) {
        let started = Instant::now();
        let (status, body) = till.transfer(&senders[0], &receiver, 1).await;
        let transfer_ms = millis(started);
        assert_eq!(status, 200, "{body}");
        if n >= WARM_UP {
            alone.push(transfer_ms);
        }
    }
    let jobs: Vec<String> = (0..TRANSFERS_AT_ONCE)
        .map(|n| senders[n % TRANSFER_SENDERS].clone())
        .collect();
    let (sending, to) = (till.clone(), receiver.clone());
    let per_second = per_second(jobs, move |sender: String| {
        let (till, to) = (sending.clone(), to.clone());
        async move {
            let (status, body) = till.transfer(&sender, &to, 1).await;
            assert_eq!(status, 200, "{body}");
        }
    })
    .await;
    let mut report = summary(alone);
    report["clients"] = json!(CLIENTS);
    report["per_second"] = json!(per_second);
    report
}

async fn latency() -> Value {
    let till = Till::default();
    let gateway = setting("TILL_GATEWAY_URL");
    let floor = sequential(|| floor_route(&till)).await;
    let http = reqwest::Client::new();
    let direct = sequential(|| direct_gateway(&http, &gateway)).await;
    let (token, confirm, replays) = tokens_confirms_and_replays(&till).await;
    let confirm_new_customer = new_customer_confirms(&till).await;
    let confirm_without_echo = echoless_confirms(&till, &http, &gateway).await;
    let confirm_saved_card = saved_card_confirms(&till).await;
    let off_session_charge = off_session_charges(&till).await;
    let throughput = throughput(Arc::new(Till::default())).await;
    let transfers = transfers(Arc::new(Till::default())).await;
    json!({
        "transfer": transfers,
        "floor_route": floor,
        "direct_gateway": direct,
        "token": token,
        "confirm": confirm,
        "confirm_new_customer": confirm_new_customer,
        "confirm_without_echo": confirm_without_echo,
        "confirm_saved_card_with_code": confirm_saved_card,
        "off_session_charge": off_session_charge,
        "replay": replays["replay"],
        "replay_floor": replays["floor"],
        "throughput": throughput,
    })
}

/// The first request after a restart: the storage-free route, then one that reads D1.
async fn first_request() -> Value {
    let till = Till::default();
    let started = Instant::now();
    assert_eq!(floor_route(&till).await, 200);
    let floor = millis(started);
    let started = Instant::now();
    till.create_session(1000).await;
    json!({ "floor_route_ms": floor, "create_session_ms": millis(started) })
}

/// Navigation start of the shop's checkout page to the widget's ready event.
async fn checkout_until_ready(browser: &fantoccini::Client, shop: &str) -> f64 {
    browser.goto(shop).await.expect("shop page");
    let check_out = till_e2e::browser::wait_for(browser, "#checkout").await;
    tokio::time::sleep(CART_PAGE_REST).await;
    check_out.click().await.expect("check out");
    let ready = browser
        .execute_async(WAIT_FOR_READY_SCRIPT, vec![])
        .await
        .expect("script runs");
    ready.as_f64().expect("the widget reported ready")
}

/// Navigation start of the checkout page to the widget's ready event, per cold run; then the
/// same customer's next checkout in the same browser (`returning`), which may use the files
/// its browser kept.
async fn interactive(runs: usize) -> Value {
    let shop = setting("TILL_SHOP_URL");
    let mut samples = Vec::with_capacity(runs);
    let mut returning = Vec::with_capacity(runs);
    let mut phases: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for _ in 0..runs {
        let browser = till_e2e::browser::open().await;
        samples.push(checkout_until_ready(&browser, &shop).await);
        let marks = browser
            .execute(PHASES_SCRIPT, vec![])
            .await
            .expect("script runs");
        let page_origin = browser
            .execute("return performance.timeOrigin;", vec![])
            .await
            .expect("script runs");
        for (name, at) in marks.as_object().into_iter().flatten() {
            if let Some(at) = at.as_f64() {
                phases.entry(name.clone()).or_default().push(at);
            }
        }
        let frame = browser
            .find(fantoccini::Locator::Css("#till-checkout iframe"))
            .await;
        if let Ok(frame) = frame {
            frame.enter_frame().await.expect("enter the widget's frame");
            let marks = browser
                .execute(FRAME_PHASES_SCRIPT, vec![json!(page_origin)])
                .await
                .expect("script runs");
            for (name, at) in marks.as_object().into_iter().flatten() {
                if let Some(at) = at.as_f64() {
                    phases.entry(name.clone()).or_default().push(at);
                }
            }
        }
        returning.push(checkout_until_ready(&browser, &shop).await);
        let _ = browser.close().await;
    }
    let mut report = summary(samples);
    report["returning"] = summary(returning);
    report["phases_p50_ms"] = phases
        .into_iter()
        .map(|(name, mut times)| (name, json!(percentile(&mut times, 50.0))))
        .collect();
    report
}

/// When the shop page heard the widget's ready event, waited for inside the page: asking over
/// WebDriver again and again while the widget starts would take the page's main thread and the
/// two cores from what is being measured.
const WAIT_FOR_READY_SCRIPT: &str = "
    const done = arguments[arguments.length - 1];
    const ready = () => (window.tillEvents || []).find(e => e.type === 'ready');
    const check = () => {
        const event = ready();
        if (event) return done(event.at);
        if (performance.now() > 10000) return done(null);
        setTimeout(check, 5);
    };
    check();
";

/// When the checkout page's own pieces arrived, in ms since its navigation started: the page
/// itself (the shop creates the session while serving it) and the loader.
const PHASES_SCRIPT: &str = "
    const page = performance.getEntriesByType('navigation')[0];
    const resource = (part) => performance.getEntriesByType('resource')
        .find((e) => e.name.includes(part));
    return {
        page_served: page && page.responseEnd,
        loader_loaded: resource('/till.js') && resource('/till.js').responseEnd,
    };";

/// Inside the widget's frame, on the page's clock (its time origin is the first argument): when
/// its page, glue and wasm arrived, when the session was asked for and answered, and the
/// widget's own marks (`frontend/src/marks.rs`): its start, the session read, ready posted.
const FRAME_PHASES_SCRIPT: &str = "
    const shift = performance.timeOrigin - arguments[0];
    const resource = (part) => performance.getEntriesByType('resource')
        .find((e) => e.name.includes(part));
    const arrived = (part) => resource(part) && resource(part).responseEnd + shift;
    const started = (part) => resource(part) && resource(part).startTime + shift;
    const page = performance.getEntriesByType('navigation')[0];
    const mark = (name) => {
        const found = performance.getEntriesByName('till:' + name, 'mark')[0];
        return found && found.startTime + shift;
    };
    return {
        frame_widget_started: mark('started'),
        frame_session_read: mark('session'),
        frame_ready_posted: mark('ready'),
        frame_page_served: page && page.responseEnd + shift,
        frame_glue_loaded: arrived('.js'),
        frame_wasm_requested: started('.wasm'),
        frame_wasm_loaded: arrived('.wasm'),
        frame_session_requested: started('/v1/checkout_sessions/'),
        frame_session_answered: arrived('/v1/checkout_sessions/'),
    };";

/// A checkout session in the probe worker (not timed).
async fn probe_session(http: &reqwest::Client, probe: &str) -> String {
    let session = format!("cs_{}", new_key());
    let made = http
        .post(format!("{probe}/session?session={session}"))
        .send()
        .await
        .expect("probe reachable");
    assert!(
        made.status().is_success(),
        "probe session: {}",
        made.status()
    );
    let _ = made.bytes().await;
    session
}

/// One confirm of `session` in the probe worker's `shape` (`today` or `single`): its time, and
/// its answer's `Server-Timing` steps added to `steps` when `kept`. Each answer is read to its
/// end, so the connection is used again.
async fn probe_confirm(
    http: &reqwest::Client,
    probe: &str,
    (shape, session): (&str, &str),
    steps: &mut Steps,
    kept: bool,
) -> f64 {
    let started = Instant::now();
    let response = http
        .post(format!(
            "{probe}/{shape}?session={session}&key={}",
            new_key()
        ))
        .send()
        .await
        .expect("probe reachable");
    let status = response.status().as_u16();
    if kept {
        steps.add(&response);
    }
    let _ = response.bytes().await;
    let elapsed = millis(started);
    assert_eq!(status, 200, "probe {shape}");
    elapsed
}

/// The probe's storage-free route.
async fn probe_floor(http: &reqwest::Client, probe: &str) -> u16 {
    let response = http
        .get(format!("{probe}/floor"))
        .send()
        .await
        .expect("probe reachable");
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    status
}

/// The confirm's storage path without Till's code: the probe worker's two shapes, each request
/// in turn with its storage-free route and the direct gateway call, so all four see the same
/// machine. The sessions are made first in each turn: the work the last confirm left for after
/// its answer is then done before anything is timed.
async fn shape() -> Value {
    let probe = setting("TILL_PROBE_URL");
    let gateway = setting("TILL_GATEWAY_URL");
    let http = reqwest::Client::new();
    // The gateway's webhooks about these authorizations would reach the edge, idle now, and
    // compete with the probe for the cores: the sandbox drops them.
    for amount in [DIRECT_GATEWAY_AMOUNT, PROBE_AMOUNT] {
        drop_webhooks(&http, &gateway, amount).await;
    }
    let (mut floor, mut direct) = (Vec::new(), Vec::new());
    let (mut today_samples, mut single_samples) = (Vec::new(), Vec::new());
    let (mut today_steps, mut single_steps) = (Steps::default(), Steps::default());
    for n in 0..(WARM_UP + SAMPLES) {
        let kept = n >= WARM_UP;
        let today_session = probe_session(&http, &probe).await;
        let single_session = probe_session(&http, &probe).await;
        let started = Instant::now();
        let status = probe_floor(&http, &probe).await;
        let floor_ms = millis(started);
        assert!((200..300).contains(&status), "probe floor: {status}");
        let started = Instant::now();
        let status = direct_gateway(&http, &gateway).await;
        let direct_ms = millis(started);
        assert!((200..300).contains(&status), "sandbox: {status}");
        let today = ("today", today_session.as_str());
        let today_ms = probe_confirm(&http, &probe, today, &mut today_steps, kept).await;
        let single = ("single", single_session.as_str());
        let single_ms = probe_confirm(&http, &probe, single, &mut single_steps, kept).await;
        if kept {
            floor.push(floor_ms);
            direct.push(direct_ms);
            today_samples.push(today_ms);
            single_samples.push(single_ms);
        }
    }
    json!({
        "floor_route": summary(floor),
        "direct_gateway": summary(direct),
        "today": summary_with_steps(today_samples, today_steps),
        "single_object": summary_with_steps(single_samples, single_steps),
    })
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("latency") => latency().await,
        Some("first-request") => first_request().await,
        Some("shape") => shape().await,
        Some("interactive") => {
            let runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(15);
            interactive(runs).await
        }
        _ => {
            eprintln!("usage: bench <latency|first-request|interactive [runs]|shape>");
            std::process::exit(2);
        }
    };
    println!("{result}");
}
