//! The local stack: sandbox gateway + demo shop, localstripe (a fake Stripe), `wrangler dev`
//! with local KV/D1, and (for tests) ChromeDriver. Started in order, checked for readiness, stopped with SIGINT then SIGKILL.

use crate::{node_bin, root, run, Cmd};
use signal_hook::consts::{SIGHUP, SIGTERM};
use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
pub struct Ports {
    edge: u16,
    gateway: u16,
    shop: u16,
    /// localstripe, the fake Stripe the Stripe connector is tested against.
    stripe: u16,
    chromedriver: u16,
    name: &'static str,
    /// Tests use short timeouts so fault tests finish quickly.
    gateway_timeout_ms: u32,
    stale_seconds: u32,
    poll_after_seconds: u32,
    poll_backoff_seconds: u32,
    poll_max_attempts: u32,
    /// How long a bank payment waits for its customer before the poller cancels it.
    bank_redirect_expiry_seconds: u32,
    /// How long a transfer to someone not yet a customer waits before it goes back.
    claim_seconds: u32,
}

impl Ports {
    pub const DEV: Ports = Ports {
        edge: 8787,
        gateway: 8790,
        shop: 8791,
        stripe: 8792,
        chromedriver: 0,
        name: "dev",
        gateway_timeout_ms: 5000,
        stale_seconds: 30,
        poll_after_seconds: 60,
        poll_backoff_seconds: 30,
        poll_max_attempts: 8,
        bank_redirect_expiry_seconds: 30 * 60,
        claim_seconds: 7 * 24 * 60 * 60,
    };
    /// Tests use other ports, so they run while `cargo xtask dev` is up.
    pub const TEST: Ports = Ports {
        edge: 18787,
        gateway: 18790,
        shop: 18791,
        stripe: 18792,
        chromedriver: 19515,
        name: "test",
        gateway_timeout_ms: 2000,
        stale_seconds: 8,
        poll_after_seconds: 2,
        poll_backoff_seconds: 1,
        poll_max_attempts: 3,
        bank_redirect_expiry_seconds: 20,
        claim_seconds: 20,
    };
}

struct Service {
    name: &'static str,
    child: Child,
}

pub struct Stack {
    ports: Ports,
    artifacts: PathBuf,
    services: Vec<Service>,
    /// Tests run each service in its own process group so that stopping reaches grandchildren
    /// (wrangler's workerd); `dev` keeps them in the terminal's group so Ctrl-C stops them all.
    own_groups: bool,
    /// The edge's static files, when not the build's `dist/` (the benchmark's floor page).
    assets: Option<PathBuf>,
    /// Settings the edge runs with in place of its own, until the next restart: a test's
    /// misconfiguration (`restart_edge_with`).
    overrides: Vec<(String, String)>,
}

/// The service's log, appended to: a restarted service keeps what it logged before (the
/// card-data scan reads all of it). Every start begins with an empty artifacts folder.
fn log_file(dir: &Path, name: &str) -> Result<(File, File), String> {
    let path = dir.join(format!("{name}.log"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let copy = file.try_clone().map_err(|e| e.to_string())?;
    Ok((file, copy))
}

/// GETs `path` on 127.0.0.1:`port`; true on a 2xx answer.
fn responds(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 2")
}

/// wrangler, with its debug log in `artifacts`. That log is a copy of everything wrangler and
/// the worker print, at every level; by default it goes to `~/.config/.wrangler/logs`, a new
/// file per run that nothing prunes (gigabytes after a day of test runs) and that the card-data
/// scan of the artifacts would not see.
pub fn wrangler(artifacts: &Path) -> Cmd {
    Cmd::new(node_bin().join("wrangler"))
        .env("WRANGLER_LOG_PATH", artifacts.join("wrangler-debug.log"))
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CI", "true")
        .dir(root())
}

/// `wrangler dev` attaches a DevTools inspector to the Worker and forwards every `console.log`
/// through it, which no deployed Worker pays for. Measured on one `bench latency` run each:
/// with it, workerd spent 81 s of CPU and wrangler 50 s (confirm p50 46.6 ms); without it, 52 s
/// and 10 s (31.7 ms). One log line alone cost ~0.7 ms of workerd's CPU and ~1.7 ms of
/// wrangler's. The lines still reach the edge's log, through workerd's structured logs.
/// wrangler 4.86 has no flag for it: it leaves the inspector off in a VS Code debug terminal,
/// which it recognizes by this variable. `TILL_DEVTOOLS=1` keeps the inspector, for debugging
/// the Worker with DevTools.
fn without_devtools(command: Cmd) -> Cmd {
    if std::env::var_os("TILL_DEVTOOLS").is_some() {
        command
    } else {
        command.env("VSCODE_INSPECTOR_OPTIONS", "till-without-devtools")
    }
}

/// Applies the edge's D1 migrations to the local database kept under `persist` (a no-op for
/// those already applied).
pub fn apply_migrations(artifacts: &Path, persist: &str) -> Result<(), String> {
    run(wrangler(artifacts).args([
        "d1",
        "migrations",
        "apply",
        "DB",
        "--local",
        "--persist-to",
        persist,
        "-c",
        "edge/wrangler.toml",
    ]))
}

impl Stack {
    pub fn start(ports: Ports, with_browser: bool) -> Result<Stack, String> {
        let artifacts = root().join("target/till").join(ports.name);
        let state = artifacts.join("state");
        // Every start begins with empty KV, D1 and Durable Object state.
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&state).map_err(|e| format!("{}: {e}", state.display()))?;
        let persist = state.to_string_lossy().to_string();
        let config = "edge/wrangler.toml";

        apply_migrations(&artifacts, &persist)?;
        run(wrangler(&artifacts).args([
            "d1",
            "execute",
            "DB",
            "--local",
            "--persist-to",
            &persist,
            "-c",
            config,
            "--file",
            "edge/seed/demo.sql",
        ]))?;

        let mut stack = Stack {
            ports,
            artifacts,
            services: Vec::new(),
            own_groups: with_browser,
            assets: None,
            overrides: Vec::new(),
        };
        let sandbox = Cmd::new(root().join("target/debug/till-sandbox"))
            .env(
                "SANDBOX_GATEWAY_ADDR",
                format!("127.0.0.1:{}", ports.gateway),
            )
            .env("SANDBOX_SHOP_ADDR", format!("127.0.0.1:{}", ports.shop))
            .env("TILL_EDGE_URL", stack.edge_url())
            // Locally the edge's log is its metrics record (the sandbox answers the SQL API).
            .env("TILL_EDGE_LOG", stack.artifacts.join("edge.log"));
        stack.spawn("sandbox", sandbox)?;
        let localstripe =
            crate::python::venv("venv-localstripe", "tests/localstripe/requirements.txt")?
                .with_file_name("localstripe");
        stack.spawn(
            "localstripe",
            Cmd::new(localstripe).args(["--port", &ports.stripe.to_string(), "--from-scratch"]),
        )?;
        let edge = stack.edge_command(&persist);
        stack.spawn("edge", edge)?;
        if with_browser {
            let driver =
                Cmd::new("/usr/bin/chromedriver").arg(format!("--port={}", ports.chromedriver));
            stack.spawn("chromedriver", driver)?;
        }

        stack.wait_until("sandbox gateway", ports.gateway, "/v1/stats")?;
        stack.wait_until("demo shop", ports.shop, "/")?;
        stack.wait_until("localstripe", ports.stripe, "/js.stripe.com/v3/")?;
        stack.wait_until("edge", ports.edge, "/v1/keys")?;
        if with_browser {
            stack.wait_until("chromedriver", ports.chromedriver, "/status")?;
        }
        Ok(stack)
    }

    fn spawn(&mut self, name: &'static str, cmd: Cmd) -> Result<(), String> {
        let (stdout, stderr) = log_file(&self.artifacts, name)?;
        let mut command: Command = cmd.into_inner();
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        if self.own_groups {
            command.process_group(0);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        self.services.push(Service { name, child });
        Ok(())
    }

    fn wait_until(&mut self, what: &str, port: u16, path: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if responds(port, path) {
                return Ok(());
            }
            for service in &mut self.services {
                if let Ok(Some(status)) = service.child.try_wait() {
                    return Err(format!(
                        "{} exited with {status}; see {}",
                        service.name,
                        self.artifacts
                            .join(format!("{}.log", service.name))
                            .display()
                    ));
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(format!(
            "{what} did not answer on port {port} within 90 s; logs in {}",
            self.artifacts.display()
        ))
    }

    fn edge_command(&self, persist: &str) -> Cmd {
        let ports = self.ports;
        let command = wrangler(&self.artifacts).args([
            "dev",
            "-c",
            "edge/wrangler.toml",
            "--ip",
            "127.0.0.1",
            "--port",
            &ports.edge.to_string(),
            "--persist-to",
            persist,
            "--var",
            &format!("GATEWAY_URL:{}", self.gateway_url()),
            "--var",
            &format!("BANK_URL:{}", self.gateway_url()),
            "--var",
            &format!("MAIL_URL:{}", self.gateway_url()),
            "--var",
            &format!("HOSTED_PAGES_URL:http://127.0.0.1:{}", ports.edge),
            "--var",
            &format!("BIN_LOOKUP_URL:{}", self.gateway_url()),
            "--var",
            &format!(
                "FX_RATES_URL:{}/v1/rates/eurofxref-daily.xml",
                self.gateway_url()
            ),
            "--var",
            &format!("FX_INTRADAY_URL:{}/v1/rates/intraday", self.gateway_url()),
            "--var",
            &format!("ANALYTICS_SQL_URL:{}/v1/analytics/sql", self.gateway_url()),
            "--var",
            &format!("GATEWAY_TIMEOUT_MS:{}", ports.gateway_timeout_ms),
            "--var",
            &format!("IDEMPOTENCY_STALE_SECONDS:{}", ports.stale_seconds),
            "--var",
            &format!("POLL_AFTER_SECONDS:{}", ports.poll_after_seconds),
            "--var",
            &format!("POLL_BACKOFF_SECONDS:{}", ports.poll_backoff_seconds),
            "--var",
            &format!("POLL_MAX_ATTEMPTS:{}", ports.poll_max_attempts),
            "--var",
            &format!(
                "BANK_REDIRECT_EXPIRY_SECONDS:{}",
                ports.bank_redirect_expiry_seconds
            ),
            "--var",
            &format!("TRANSFER_CLAIM_SECONDS:{}", ports.claim_seconds),
            // The local shop and the tests' webhook receivers listen on plain http on loopback.
            "--var",
            "DEV_HTTP_HOSTS:127.0.0.1",
            // Nothing registered locally (by a test or a fuzzer) may make Till call out.
            "--var",
            "OUTBOUND_HOSTS_ALLOWLIST:127.0.0.1",
            // Subscriptions may live on test clocks locally (never in a deployment).
            "--var",
            "TEST_CLOCKS:on",
            // Lets tests run the cron trigger: GET /__scheduled?cron=...
            "--test-scheduled",
            "--show-interactive-dev-session=false",
        ]);
        let mut command = without_devtools(command);
        for (name, value) in &self.overrides {
            command = command.arg("--var").arg(format!("{name}:{value}"));
        }
        match &self.assets {
            Some(assets) => command.arg("--assets").arg(assets),
            None => command,
        }
    }

    /// Kills `wrangler dev` (and its workerd) and starts it again on the same state, as a crash
    /// and redeploy would. Requests in flight die with it.
    pub fn restart_edge(&mut self) -> Result<(), String> {
        let index = self
            .services
            .iter()
            .position(|s| s.name == "edge")
            .ok_or("no edge to restart")?;
        let mut edge = self.services.remove(index);
        let target = if self.own_groups {
            format!("-{}", edge.child.id())
        } else {
            edge.child.id().to_string()
        };
        let _ = Command::new("kill")
            .args(["-KILL", "--", &target])
            .stderr(Stdio::null())
            .status();
        let _ = edge.child.wait();
        let persist = self.artifacts.join("state").to_string_lossy().to_string();
        let command = self.edge_command(&persist);
        self.spawn("edge", command)?;
        // A static file: it answers once workerd serves, without running the Worker's code, so
        // the next request is the Worker's first (the benchmark times it).
        self.wait_until("edge", self.ports.edge, "/till.js")
    }

    /// Starts the confirm-shape probe (`tests/probes/confirm_shape`, a JavaScript Worker that
    /// makes only the confirm's storage round trips) under its own `wrangler dev` on `port`,
    /// against this stack's gateway; it stops with the stack. Its address.
    pub fn start_probe(&mut self, port: u16) -> Result<String, String> {
        let persist = self.artifacts.join("probe-state");
        let command = wrangler(&self.artifacts)
            .env(
                "WRANGLER_LOG_PATH",
                self.artifacts.join("probe-wrangler-debug.log"),
            )
            .args([
                "dev",
                "-c",
                "tests/probes/confirm_shape/wrangler.toml",
                "--ip",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--persist-to",
                &persist.to_string_lossy(),
                "--var",
                &format!("GATEWAY_URL:{}", self.gateway_url()),
                "--show-interactive-dev-session=false",
            ]);
        self.spawn("probe", without_devtools(command))?;
        self.wait_until("probe", port, "/floor")?;
        Ok(format!("http://127.0.0.1:{port}"))
    }

    /// [`restart_edge`](Self::restart_edge), serving the static files in `assets` from now on
    /// (wrangler's `--assets`: the Worker, its routes and its bindings stay as they are).
    /// [`restart_edge`](Self::restart_edge) with the settings (variables or secrets) in
    /// `overrides` in place of the edge's own, until the next restart.
    pub fn restart_edge_with(&mut self, overrides: Vec<(String, String)>) -> Result<(), String> {
        self.overrides = overrides;
        self.restart_edge()
    }

    pub fn restart_edge_with_assets(&mut self, assets: &Path) -> Result<(), String> {
        self.assets = Some(assets.to_path_buf());
        self.restart_edge()
    }

    pub fn edge_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.edge)
    }
    pub fn gateway_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.gateway)
    }
    pub fn stripe_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.stripe)
    }
    pub fn shop_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.shop)
    }
    pub fn chromedriver_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.chromedriver)
    }
    pub fn artifacts(&self) -> PathBuf {
        self.artifacts.clone()
    }

    /// `cmd` with the stack's addresses in the `TILL_*` variables the end-to-end crate reads.
    pub fn addresses_for(&self, cmd: Cmd) -> Cmd {
        cmd.env("TILL_EDGE_URL", self.edge_url())
            .env("TILL_GATEWAY_URL", self.gateway_url())
            .env("TILL_SHOP_URL", self.shop_url())
            .env("TILL_STRIPE_URL", self.stripe_url())
            .env("TILL_CHROMEDRIVER_URL", self.chromedriver_url())
            .env("TILL_ARTIFACTS", self.artifacts())
            // The edge's local secrets (the platform secret, for onboarding tests): the path, not
            // the values, so no secret is echoed with the command line.
            .env("TILL_DEV_VARS", crate::root().join("edge/.dev.vars"))
    }

    /// Blocks until a service exits or xtask is told to stop, then stops them all. Ctrl-C
    /// reaches every service through the terminal; SIGTERM (`kill`) and SIGHUP (a closed
    /// terminal) reach only xtask, which used to end at once and leave wrangler and workerd
    /// running on their ports.
    pub fn wait_for_interrupt(mut self) {
        let told_to_stop = Arc::new(AtomicBool::new(false));
        for signal in [SIGTERM, SIGHUP] {
            if let Err(error) = signal_hook::flag::register(signal, Arc::clone(&told_to_stop)) {
                eprintln!("xtask: signal {signal} would leave the services running: {error}");
            }
        }
        while !told_to_stop.load(Ordering::Relaxed) {
            if self
                .services
                .iter_mut()
                .any(|s| matches!(s.child.try_wait(), Ok(Some(_))))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        self.shutdown();
    }

    /// Stops every service; returns the folder with their logs.
    pub fn stop(mut self) -> PathBuf {
        self.shutdown();
        self.artifacts.clone()
    }

    fn shutdown(&mut self) {
        for service in self.services.iter_mut().rev() {
            let pid = service.child.id().to_string();
            let target = if self.own_groups {
                format!("-{pid}")
            } else {
                pid
            };
            let signal = |name: &str| {
                let _ = Command::new("kill")
                    .args([name, "--", &target])
                    .stderr(Stdio::null())
                    .status();
            };
            signal("-INT");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(service.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
            signal("-KILL");
            let _ = service.child.wait();
        }
        self.services.clear();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown();
    }
}
