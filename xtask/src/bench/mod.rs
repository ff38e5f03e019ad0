//! `cargo xtask bench`: Till against its floors and its competitors, in one run on a fresh local
//! stack. Sizes: the widget and the worker against Braintree's and Adyen's merchant-side
//! downloads and a one-input Leptos form built as the widget is (`anchors`). Latency and throughput: a confirm and its replay against the
//! storage-free route and the direct gateway call (the floors), and the tokenization before a
//! confirm (a customer's press of Pay is both), measured by the `bench` binary
//! of the end-to-end crate. Time to interactive: the demo shop's checkout page to the widget's
//! ready event, in fresh browser profiles, and its floor: the same page, loader and `/pay` with
//! a frame that is ready at once (`floor_assets`). The first request after an edge restart, a
//! few restarts. Risk evaluation: what `till_core::risk::assess` costs
//! per attempt with the default rules and a few more, velocity counters included, measured in
//! process before the stack starts (`risk_eval::evaluation_cost`). The confirm's storage path
//! alone: a JavaScript probe Worker (`tests/probes/confirm_shape`) under its own `wrangler
//! dev` makes today's round trips and those of the single shard object in docs/scaling.md §4,
//! so the table shows how much of the confirm is storage and how much is Till's own work. Writes
//! `target/till/bench/report.json` and `report.svg` and prints the table with each target.

mod anchors;
mod chart;
pub mod sizes;

use crate::{risk_eval, root, secrets, stack, Cmd};
use serde_json::{json, Value};

/// Checkout page to widget ready, cold, this many times.
const INTERACTIVE_RUNS: usize = 15;

/// The first requests after a restart, this many restarts (one sample each).
const FIRST_REQUEST_RUNS: usize = 5;

/// Where the confirm-shape probe listens (beside the test stack's ports).
const PROBE_PORT: u16 = 18797;

/// Each of `fields` as its median over `runs`, with every sample kept beside it.
fn median_of(runs: &[Value], fields: &[&str]) -> Value {
    let mut summary = serde_json::Map::new();
    for field in fields {
        let mut samples: Vec<f64> = runs.iter().map(|run| ms(&run[*field])).collect();
        samples.sort_by(f64::total_cmp);
        let median = samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN);
        summary.insert(field.to_string(), json!(median));
        summary.insert(format!("{field}_samples"), json!(samples));
    }
    Value::Object(summary)
}

/// Runs the end-to-end crate's `bench` binary against `stack`; its JSON.
fn measure(stack: &stack::Stack, args: &[&str]) -> Result<Value, String> {
    measure_with(stack, args, &[])
}

/// [`measure`], with more settings in the binary's environment.
fn measure_with(
    stack: &stack::Stack,
    args: &[&str],
    settings: &[(&str, String)],
) -> Result<Value, String> {
    let mut command = Cmd::new("cargo")
        .args([
            "run",
            "--quiet",
            "--package",
            "till-e2e",
            "--bin",
            "bench",
            "--",
        ])
        .args(args)
        .env("TILL_EDGE_URL", stack.edge_url())
        .env("TILL_GATEWAY_URL", stack.gateway_url())
        .env("TILL_SHOP_URL", stack.shop_url())
        .env("TILL_STRIPE_URL", stack.stripe_url())
        .env("TILL_CHROMEDRIVER_URL", stack.chromedriver_url())
        .env("TILL_ARTIFACTS", stack.artifacts())
        .dir(root())
        .into_inner();
    command.envs(settings.iter().map(|(name, value)| (name, value)));
    let shown = format!("{command:?}");
    eprintln!("xtask: {shown}");
    let output = command.output().map_err(|e| format!("{shown}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{shown}: not JSON: {e}"))
}

/// The stack's measurements: latency and throughput, the first request after a restart, and
/// time to interactive.
fn measure_stack() -> Result<Value, String> {
    // The bench binary is built before the stack starts, so compiling is not measured.
    crate::run(
        Cmd::new("cargo")
            .args(["build", "--package", "till-e2e", "--bin", "bench"])
            .dir(root()),
    )?;
    secrets::ensure_dev_vars()?;
    let mut stack = stack::Stack::start(stack::Ports::TEST, true)?;
    let measured = (|| {
        let latency = measure(&stack, &["latency"])?;
        let mut first_requests = Vec::with_capacity(FIRST_REQUEST_RUNS);
        for _ in 0..FIRST_REQUEST_RUNS {
            stack.restart_edge()?;
            first_requests.push(measure(&stack, &["first-request"])?);
        }
        let first_request = median_of(&first_requests, &["floor_route_ms", "create_session_ms"]);
        let runs = INTERACTIVE_RUNS.to_string();
        let interactive = measure(&stack, &["interactive", &runs])?;
        stack.restart_edge_with_assets(&floor_assets()?)?;
        let interactive_floor = measure(&stack, &["interactive", &runs])?;
        let probe = stack.start_probe(PROBE_PORT)?;
        let shape = measure_with(&stack, &["shape"], &[("TILL_PROBE_URL", probe)])?;
        Ok(json!({
            "latency": latency,
            "first_request": first_request,
            "interactive": interactive,
            "interactive_floor": interactive_floor,
            "shape": shape,
        }))
    })();
    stack.stop();
    measured
}

/// The checkout page's frame with no widget in it: it posts `ready` as soon as it runs.
const FLOOR_FRAME: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Till floor</title>
<script nonce="{{__TRUNK NONCE__}}">
  var origin = new URLSearchParams(location.hash.slice(1)).get("origin");
  parent.postMessage({ source: "till", type: "ready", height: 420 }, origin);
</script></head><body></body></html>
"#;

/// Static files for the time-to-interactive floor: the real loader, and in place of the
/// widget's page one that is ready at once. The shop page, the loader, the edge's `/pay` (its
/// nonce and frame-ancestors) and the browser are the same as for the widget, so what the
/// widget adds is the difference.
fn floor_assets() -> Result<std::path::PathBuf, String> {
    let dir = root().join("target/till/bench/floor-assets");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let loader = root().join("dist/till.js");
    std::fs::copy(&loader, dir.join("till.js"))
        .map_err(|e| format!("{}: {e}", loader.display()))?;
    let page = dir.join("index.html");
    std::fs::write(&page, FLOOR_FRAME).map_err(|e| format!("{}: {e}", page.display()))?;
    Ok(dir)
}

fn ms(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

/// Each target of the performance work, as measured now.
fn targets(widget: &sizes::Widget, stack: &Value) -> Vec<(String, String, bool)> {
    let latency = &stack["latency"];
    let floor = ms(&latency["floor_route"]["p50_ms"]);
    let gateway = ms(&latency["direct_gateway"]["p50_ms"]);
    let confirm = ms(&latency["confirm"]["p50_ms"]);
    let replay = ms(&latency["replay"]["p50_ms"]);
    let replay_floor = ms(&latency["replay_floor"]["p50_ms"]);
    let interactive = ms(&stack["interactive"]["p50_ms"]);
    let interactive_floor = ms(&stack["interactive_floor"]["p50_ms"]);
    let confirm_budget = floor + gateway + 5.0;
    vec![
        (
            "widget gzip ≤ 70,000 bytes (a card payment's downloads)".into(),
            format!(
                "{} bytes (first download {})",
                widget.card_payment.gzip, widget.first.gzip
            ),
            widget.card_payment.gzip <= 70_000,
        ),
        (
            "time to interactive p50 ≤ 150 ms".into(),
            format!("{interactive:.1} ms (floor {interactive_floor:.1})"),
            interactive <= 150.0,
        ),
        (
            format!("confirm p50 ≤ floor + gateway + 5 ms = {confirm_budget:.1} ms"),
            format!("{confirm:.1} ms"),
            confirm <= confirm_budget,
        ),
        (
            format!(
                "replay p50 ≤ 1.5 × floor (taken in turns with it) = {:.1} ms",
                replay_floor * 1.5
            ),
            format!("{replay:.1} ms ({:.2} × floor)", replay / replay_floor),
            replay <= replay_floor * 1.5,
        ),
    ]
}

/// Each row's p50, p90 and p99 from `measured`, and under it the mean of each step its answers
/// said they waited on (`Server-Timing`).
fn print_latency_rows(measured: &Value, rows: &[(&str, &str)]) {
    for (name, key) in rows {
        let row = &measured[*key];
        println!(
            "{name:<44} {:>10.1} {:>10.1} {:>10.1}",
            ms(&row["p50_ms"]),
            ms(&row["p90_ms"]),
            ms(&row["p99_ms"])
        );
        for (name, mean) in step_means(row) {
            println!("{:<44} {mean:>10.2}", format!("  … {name} (mean)"));
        }
    }
}

/// The probe's rows: the confirm's storage path alone, today's and the single object's, and
/// how far Till's confirm is above today's.
fn print_shape(stack: &Value) {
    let shape = &stack["shape"];
    println!();
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "storage path alone (JavaScript probe)", "p50 ms", "p90 ms", "p99 ms"
    );
    print_latency_rows(
        shape,
        &[
            ("probe's storage-free route", "floor_route"),
            ("sandbox authorization", "direct_gateway"),
            ("today's round trips", "today"),
            ("one shard object (scaling.md §4)", "single_object"),
        ],
    );
    let budget = ms(&shape["floor_route"]["p50_ms"]) + ms(&shape["direct_gateway"]["p50_ms"]) + 5.0;
    println!(
        "{:<44} {:>10.1} ms above today's round trips (their confirm target: {budget:.1} ms)",
        "Till's confirm",
        ms(&stack["latency"]["confirm"]["p50_ms"]) - ms(&shape["today"]["p50_ms"]),
    );
    print_step_gap(&stack["latency"]["confirm_without_echo"], &shape["today"]);
}

/// A row's step means (`steps_mean_ms`), in the order the answers named them.
fn step_means(row: &Value) -> Vec<(&str, f64)> {
    row["steps_mean_ms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| (step[0].as_str().unwrap_or("?"), ms(&step[1])))
        .collect()
}

/// Where Till's confirm (without its gateway echo, as the probe has none) spends more than the
/// probe's today, step by step (means), and outside the steps: reading the request before the
/// clock's first step, writing the answer after its last, and the hops between the client and
/// the Worker.
fn print_step_gap(till: &Value, probe: &Value) {
    let (till_steps, probe_steps) = (step_means(till), step_means(probe));
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "  step by step, no echo (means)", "Till ms", "probe ms", "above"
    );
    for (name, till_mean) in &till_steps {
        let probe_mean = probe_steps
            .iter()
            .find(|(probe_name, _)| probe_name == name)
            .map_or(0.0, |(_, mean)| *mean);
        println!(
            "{:<44} {till_mean:>10.2} {probe_mean:>10.2} {:>+10.2}",
            format!("  … {name}"),
            till_mean - probe_mean
        );
    }
    let outside = |row: &Value, steps: &[(&str, f64)]| {
        ms(&row["mean_ms"]) - steps.iter().map(|(_, mean)| mean).sum::<f64>()
    };
    let (till_outside, probe_outside) = (outside(till, &till_steps), outside(probe, &probe_steps));
    println!(
        "{:<44} {till_outside:>10.2} {probe_outside:>10.2} {:>+10.2}",
        "  … outside the steps",
        till_outside - probe_outside
    );
}

pub fn run() -> Result<(), String> {
    let widget = sizes::widget()?;
    let worker = sizes::worker()?;
    let mut anchors = anchors::measure(&root())?;
    anchors.push(anchors::leptos_floor(&root())?);
    // CPU only: measured while no stack competes for the cores.
    let risk = risk_eval::evaluation_cost()?;
    let stack = measure_stack()?;

    let mut rows: Vec<&sizes::Size> = widget.files.iter().collect();
    rows.extend([&widget.first, &widget.card_payment, &widget.total]);
    rows.extend(worker.iter());
    rows.extend(anchors.iter());
    sizes::print(&rows);

    let latency = &stack["latency"];
    println!();
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "latency", "p50 ms", "p90 ms", "p99 ms"
    );
    print_latency_rows(
        latency,
        &[
            ("GET /v1/keys (storage-free floor)", "floor_route"),
            ("sandbox authorization (gateway floor)", "direct_gateway"),
            ("tokenize (POST /v1/tokens)", "token"),
            ("confirm", "confirm"),
            ("confirm, a new customer each", "confirm_new_customer"),
            ("confirm, no gateway echo", "confirm_without_echo"),
            (
                "confirm, saved card, code typed again",
                "confirm_saved_card_with_code",
            ),
            ("off-session charge of a saved card", "off_session_charge"),
            ("confirm replay", "replay"),
            ("… floor, taken in turns with the replays", "replay_floor"),
            ("wallet transfer", "transfer"),
        ],
    );
    let throughput = &latency["throughput"];
    println!(
        "{:<44} {:>10.0} confirms/s, floor {:.0}/s, ratio {:.3}",
        format!("throughput at {} clients", throughput["clients"]),
        ms(&throughput["confirms_per_second"]),
        ms(&throughput["floor_per_second"]),
        ms(&throughput["ratio"])
    );
    let transfers = &latency["transfer"];
    println!(
        "{:<44} {:>10.0} transfers/s",
        format!("wallet transfers at {} clients", transfers["clients"]),
        ms(&transfers["per_second"])
    );
    let first = &stack["first_request"];
    println!(
        "{:<44} {:>10.1} ms (a D1 write after it: {:.1} ms; medians of {FIRST_REQUEST_RUNS} restarts)",
        "first request after an edge restart",
        ms(&first["floor_route_ms"]),
        ms(&first["create_session_ms"])
    );
    for (name, key) in [
        ("checkout page to widget ready", "interactive"),
        (
            "… floor: the same page with a frame ready at once",
            "interactive_floor",
        ),
    ] {
        let runs = &stack[key];
        println!(
            "{name:<44} {:>10.1} ms p50, {:.1} ms p90 ({} cold runs)",
            ms(&runs["p50_ms"]),
            ms(&runs["p90_ms"]),
            runs["n"]
        );
    }
    let interactive = &stack["interactive"];
    println!(
        "{:<44} {:>10.1} ms p50, {:.1} ms p90 (the next checkout in each browser)",
        "… a returning customer",
        ms(&interactive["returning"]["p50_ms"]),
        ms(&interactive["returning"]["p90_ms"]),
    );
    let mut phases: Vec<(&String, f64)> = interactive["phases_p50_ms"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(phase, at)| (phase, ms(at)))
        .collect();
    phases.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (phase, at) in phases {
        println!("{:<44} {at:>10.1} ms p50", format!("  … {phase}"));
    }

    print_shape(&stack);

    println!();
    println!("{:<44} {}", "risk evaluation (assess)", risk.summary());

    let targets = targets(&widget, &stack);
    println!();
    for (target, measured, met) in &targets {
        let verdict = if *met { "met" } else { "not yet" };
        println!("{target:<60} {measured:>24}  {verdict}");
    }

    let report = json!({
        "widget": {
            "files": widget.files.iter().map(sizes::Size::json).collect::<Vec<_>>(),
            "first_download": widget.first.json(),
            "card_payment": widget.card_payment.json(),
            "total": widget.total.json(),
        },
        "worker": worker.iter().map(sizes::Size::json).collect::<Vec<_>>(),
        "anchors": anchors.iter().map(sizes::Size::json).collect::<Vec<_>>(),
        "stack": stack,
        "risk_evaluation": risk.json(),
        "targets": targets.iter().map(|(target, measured, met)| json!({ "target": target, "measured": measured, "met": met })).collect::<Vec<_>>(),
    });
    let dir = root().join("target/till/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json_path = dir.join("report.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, text).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let svg_path = dir.join("report.svg");
    std::fs::write(&svg_path, chart::svg(&report))
        .map_err(|e| format!("{}: {e}", svg_path.display()))?;
    println!();
    println!("report: {} and {}", json_path.display(), svg_path.display());
    Ok(())
}
