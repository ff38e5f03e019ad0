//! `cargo xtask <command>`:
//! - `setup`: install the pinned tools that are missing (wasm32 target, wasm-bindgen-cli, trunk,
//!   worker-build, npm packages).
//! - `dev`: setup, build, start the sandbox gateway, the demo shop and `wrangler dev`.
//! - `test`: setup, formatting and lints, unit tests, a fuzz smoke, then the end-to-end tests
//!   (HTTP API and headless Chromium) against a freshly started stack, the JWE interop check,
//!   schemathesis against `api/openapi.json`, and a scan of logs and state for card data.
//! - `e2e [filter…]`: only the build and the end-to-end tests (those matching a filter), for
//!   working on one test.
//! - `bench`: sizes (widget, worker, Braintree and Adyen bundled from npm), edge latency and
//!   throughput against their floors, time to interactive, on a fresh stack, and the cost of a
//!   risk assessment (in process, before the stack starts); writes
//!   `target/till/bench/report.json` and `report.svg`. `test` also fails when the widget is over
//!   its size budget (`bench/sizes.rs`).
//! - `fuzz [seconds]`: build the fuzz targets of till-core's parsers (`fuzz/`, pinned nightly and
//!   cargo-fuzz) and run each for `seconds` (default 60) from the committed seeds; `test` runs
//!   every target for 10 seconds.
//! - `risk-eval [--seed N] [--attempts N]`: the default fraud rules against a seeded, labelled
//!   stream of simulated attempts (precision and recall, when card-testing bursts are blocked)
//!   and the cost of one assessment; pure, no stack (`risk_eval.rs`).

mod bench;
mod contract;
mod fuzz;
mod glue_boundary;
mod interop;
mod leaks;
mod merchant;
mod page_wasm;
mod python;
mod risk_eval;
mod secrets;
mod stack;
mod tools;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A command line with a readable echo.
pub struct Cmd(Command);

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Cmd(Command::new(program))
    }
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.0.arg(arg);
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.0.args(args);
        self
    }
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.0.env(key, value);
        self
    }
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.0.current_dir(dir);
        self
    }
    pub fn into_inner(self) -> Command {
        self.0
    }
}

pub fn run(cmd: Cmd) -> Result<(), String> {
    let mut command = cmd.into_inner();
    let shown = format!("{command:?}");
    eprintln!("xtask: {shown}");
    let status = command.status().map_err(|e| format!("{shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn node_bin() -> PathBuf {
    root().join("node_modules/.bin")
}

/// PATH with the npm tools (binaryen 132's wasm-opt) first.
fn path_with_node_bin() -> std::ffi::OsString {
    let mut paths = vec![node_bin()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap_or_default()
}

fn which(tool: &str) -> Result<PathBuf, String> {
    std::env::split_paths(&path_with_node_bin())
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{tool} is not installed; run `cargo xtask setup`"))
}

/// esbuild from npm (wrangler's), for worker-build and the widget's glue.
fn esbuild() -> PathBuf {
    root().join("node_modules/@esbuild/linux-x64/bin/esbuild")
}

/// Trunk's release build of one page; `more` picks the page and where it goes.
pub(crate) fn trunk_release(more: &[&str]) -> Result<(), String> {
    run(Cmd::new("trunk")
        .arg("build")
        .args(more)
        .arg("--release")
        .env("PATH", path_with_node_bin())
        // Size: the standard library rebuilt with the widget's profile, panics that trap
        // without formatting a message or carrying source locations, and components that
        // return Leptos's type-erased view rather than one concrete type per view tree
        // (`erase_components`; docs/architecture.md).
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        // `--emit-relocs` keeps what `wasm-split-cli` needs to cut the wasm (`page_wasm.rs`).
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none \
             --cfg=erase_components -Clink-args=--emit-relocs",
        )
        .dir(root()))
}

/// The tools that finish a page after Trunk (`page_wasm`).
pub(crate) fn page_tools() -> Result<page_wasm::Tools, String> {
    Ok(page_wasm::Tools {
        wasm_split: which("wasm-split-cli")?,
        wasm_bindgen: which("wasm-bindgen")?,
        wasm_opt: node_bin().join("wasm-opt"),
        esbuild: esbuild(),
    })
}

/// The wasm cargo links for a page's `bin` in a release build.
pub(crate) fn cargo_wasm(bin: &str) -> PathBuf {
    root().join(format!("target/wasm32-unknown-unknown/release/{bin}.wasm"))
}

/// Builds the widget (Trunk), the edge (worker-build) and the sandbox, offline.
fn build() -> Result<(), String> {
    let dist = root().join("dist");
    // The checkout (index.html) replaces dist/, so it goes first; the wallet page goes to
    // dist/wallet/, served under /wallet/, the dashboard to dist/dashboard/ (/dashboard/).
    let tools = page_tools()?;
    trunk_release(&[])?;
    page_wasm::finish(&dist, "index.html", &cargo_wasm("till-widget"), &tools)?;
    trunk_release(&[
        "wallet.html",
        "--dist",
        "dist/wallet",
        "--public-url",
        "/wallet/",
    ])?;
    page_wasm::finish(
        &dist,
        "wallet/index.html",
        &cargo_wasm("till-wallet"),
        &tools,
    )?;
    trunk_release(&[
        "dashboard.html",
        "--dist",
        "dist/dashboard",
        "--public-url",
        "/dashboard/",
    ])?;
    page_wasm::finish(
        &dist,
        "dashboard/index.html",
        &cargo_wasm("till-dashboard"),
        &tools,
    )?;
    run(Cmd::new("worker-build")
        .arg("--release")
        .env("WASM_BINDGEN_BIN", which("wasm-bindgen")?)
        .env("WASM_OPT_BIN", node_bin().join("wasm-opt"))
        .env("ESBUILD_BIN", esbuild())
        .dir(root().join("edge")))?;
    if std::env::var_os("TILL_DEVTOOLS").is_none() {
        strip_worker_names()?;
    }
    run(Cmd::new("cargo")
        .args(["build", "--package", "till-sandbox"])
        .dir(root()))
}

/// worker-build keeps the name section in the worker's wasm (it passes `--debuginfo` to
/// wasm-opt): about 450 KB of function names that every deployment uploads and every isolate
/// loads. A panic's message and source location are in the data section, not there, so the log
/// keeps what it needs. The features are those worker-build enables for workerd. With
/// `TILL_DEVTOOLS=1` the names stay, so the inspector's profiles name Till's functions.
fn strip_worker_names() -> Result<(), String> {
    let wasm = root().join("edge/build/index_bg.wasm");
    let stripped = root().join("edge/build/index_bg.stripped.wasm");
    run(Cmd::new(node_bin().join("wasm-opt"))
        .args([
            "--enable-mutable-globals",
            "--enable-sign-ext",
            "--enable-nontrapping-float-to-int",
            "--enable-bulk-memory",
            "--enable-multivalue",
            "--enable-reference-types",
            "--enable-exception-handling",
            "--strip-debug",
            "--strip-producers",
        ])
        .arg(&wasm)
        .arg("-o")
        .arg(&stripped))?;
    std::fs::rename(&stripped, &wasm).map_err(|e| format!("{}: {e}", wasm.display()))
}

fn lint() -> Result<(), String> {
    run(Cmd::new("cargo")
        .args(["fmt", "--all", "--check"])
        .dir(root()))?;
    run(Cmd::new("cargo")
        .args([
            "clippy",
            "--workspace",
            "--exclude",
            "till-edge",
            "--exclude",
            "till-widget",
            "--exclude",
            "till-dashboard",
            "--exclude",
            "till-leptos-floor",
        ])
        .args(["--all-targets", "--", "-D", "warnings"])
        .dir(root()))?;
    run(Cmd::new("cargo")
        .args([
            "clippy",
            "--package",
            "till-edge",
            "--package",
            "till-widget",
            "--package",
            "till-dashboard",
            "--package",
            "till-leptos-floor",
        ])
        .args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])
        .dir(root()))?;
    // The widget's unit tests, which only build for the browser.
    run(Cmd::new("cargo")
        .args([
            "clippy",
            "--package",
            "till-widget",
            "--bin",
            "till-widget",
            "--tests",
        ])
        .args(["--target", "wasm32-unknown-unknown", "--", "-D", "warnings"])
        .dir(root()))
}

fn unit_tests() -> Result<(), String> {
    run(Cmd::new("cargo")
        .args(["test", "--package", "till-core", "--all-features"])
        .dir(root()))?;
    run(Cmd::new("cargo")
        .args(["test", "--package", "till-sandbox", "--package", "xtask"])
        .dir(root()))?;
    // The edge's pure parts (connector transformers) also build and run natively.
    run(Cmd::new("cargo")
        .args(["test", "--package", "till-edge", "--lib"])
        .dir(root()))?;
    // The widget's readers and stored attempt use the browser's JSON and storage, so its unit
    // tests run in headless Chromium (wasm-bindgen's runner, driving the system chromedriver).
    run(Cmd::new("cargo")
        .args(["test", "--package", "till-widget", "--bin", "till-widget"])
        .args(["--target", "wasm32-unknown-unknown"])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            which("wasm-bindgen-test-runner")?,
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .dir(root()))
}

fn test() -> Result<(), String> {
    tools::ensure_build_tools()?;
    tools::ensure_browser()?;
    lint()?;
    unit_tests()?;
    fuzz::smoke()?;
    system_tests(&[])
}

/// Builds everything and runs the end-to-end tests (only those whose names contain one of
/// `filters`, when given), then with every test the interop and contract checks, and the scan of
/// logs and state for card data.
fn system_tests(filters: &[String]) -> Result<(), String> {
    build()?;
    bench::sizes::check_budget()?;
    // Build the end-to-end tests before the stack starts, so compile time is not spent with it up.
    run(Cmd::new("cargo")
        .args(["test", "--package", "till-e2e", "--no-run"])
        .dir(root()))?;
    secrets::ensure_dev_vars()?;
    let mut stack = stack::Stack::start(stack::Ports::TEST, true)?;
    let e2e = stack.addresses_for(
        Cmd::new("cargo")
            .args([
                "test",
                "--package",
                "till-e2e",
                "--no-fail-fast",
                "--",
                "--test-threads=4",
            ])
            .args(filters)
            .dir(root()),
    );
    let mut result = run_with_restarts(e2e, &mut stack);
    if filters.is_empty() {
        result = result
            .and_then(|()| interop::check(&stack.edge_url(), &stack.artifacts()))
            .and_then(|()| contract::check(&stack.edge_url(), &stack.artifacts(), 25, 240));
    }
    let logs = stack.stop();
    if result.is_err() {
        eprintln!(
            "xtask: end-to-end tests failed; service logs are in {}",
            logs.display()
        );
    }
    result?;
    // Everything the services logged and stored during the run, searched for card data.
    leaks::assert_no_card_data(&logs)
}

/// Runs the end-to-end tests, restarting the edge whenever a test asks for it by creating
/// `<artifacts>/restart-edge` (the file is removed once the edge is back). Each line
/// `NAME=VALUE` of the file is a setting the edge runs with until the next restart.
fn run_with_restarts(tests: Cmd, stack: &mut stack::Stack) -> Result<(), String> {
    let request = stack.artifacts().join("restart-edge");
    let mut command = tests.into_inner();
    let shown = format!("{command:?}");
    eprintln!("xtask: {shown}");
    let mut child = command.spawn().map_err(|e| format!("{shown}: {e}"))?;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("{shown} failed with {status}"))
            };
        }
        if request.exists() {
            eprintln!("xtask: restarting the edge, as a test asked");
            let asked = std::fs::read_to_string(&request).map_err(|e| e.to_string())?;
            let overrides = asked
                .lines()
                .filter_map(|line| line.split_once('='))
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            stack.restart_edge_with(overrides)?;
            std::fs::remove_file(&request).map_err(|e| e.to_string())?;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn dev() -> Result<(), String> {
    tools::ensure_build_tools()?;
    build()?;
    secrets::ensure_dev_vars()?;
    let stack = stack::Stack::start(stack::Ports::DEV, false)?;
    println!();
    println!("Till is running:");
    println!("  demo shop      {}", stack.shop_url());
    println!("  edge (API)     {}", stack.edge_url());
    println!("  sandbox        {}", stack.gateway_url());
    println!("  localstripe    {}", stack.stripe_url());
    println!("  logs           {}", stack.artifacts().display());
    println!(
        "Open the demo shop, check out, and pay with 4242 4242 4242 4242. Ctrl-C stops everything."
    );
    stack.wait_for_interrupt();
    Ok(())
}

fn main() {
    let command = std::env::args().nth(1).unwrap_or_default();
    let result = match command.as_str() {
        "setup" => tools::ensure_build_tools(),
        "build" => tools::ensure_build_tools().and_then(|()| build()),
        "dev" => dev(),
        "test" => test(),
        "e2e" => {
            let filters: Vec<String> = std::env::args().skip(2).collect();
            tools::ensure_build_tools()
                .and_then(|()| tools::ensure_browser())
                .and_then(|()| system_tests(&filters))
        }
        "bench" => tools::ensure_build_tools()
            .and_then(|()| tools::ensure_browser())
            .and_then(|()| build())
            .and_then(|()| bench::run()),
        "fuzz" => match std::env::args().nth(2).map(|s| s.parse::<u64>()) {
            None => fuzz::run(fuzz::DEFAULT_SECONDS),
            Some(Ok(seconds)) => fuzz::run(seconds),
            Some(Err(_)) => Err("usage: cargo xtask fuzz [seconds per target]".into()),
        },
        "merchant" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            tools::ensure_node_tools().and_then(|()| merchant::run_command(&args))
        }
        "risk-eval" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            risk_eval::run(&args)
        }
        _ => Err(
            "usage: cargo xtask <setup|build|dev|test|e2e [filter…]|bench|fuzz [seconds]|merchant create …|risk-eval [--seed N] [--attempts N]>"
                .into(),
        ),
    };
    if let Err(error) = result {
        eprintln!("xtask: {error}");
        std::process::exit(1);
    }
}
