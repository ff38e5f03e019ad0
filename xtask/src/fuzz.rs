//! `cargo xtask fuzz [seconds]`: the libFuzzer targets in `fuzz/` (one per till-core parser of
//! untrusted input), built once with the pinned nightly and cargo-fuzz, then each run for a
//! bounded time.
//!
//! The committed seeds in `fuzz/corpus/<target>` are only read: libFuzzer writes new inputs to
//! the first corpus directory, so that is a scratch directory under `target/fuzz/corpus`, emptied
//! before every run. Crash inputs go to `target/fuzz/artifacts/<target>`, full logs to
//! `target/fuzz/logs/<target>.log`.

use crate::{root, run as run_cmd, tools, Cmd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Seconds per target for `cargo xtask fuzz` without an argument.
pub const DEFAULT_SECONDS: u64 = 60;
/// Seconds per target in `cargo xtask test`.
pub const SMOKE_SECONDS: u64 = 10;

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// The repository's one target folder: fuzz builds, scratch corpora, artifacts and logs.
fn target_dir() -> PathBuf {
    root().join("target").join("fuzz")
}

/// The fuzz targets, in the order `fuzz/Cargo.toml` declares them (`[[bin]]` names).
fn targets() -> Result<Vec<String>, String> {
    let manifest = fuzz_dir().join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut targets = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(name) = line.strip_prefix("name = \"").filter(|_| in_bin) {
            targets.push(name.trim_end_matches('"').to_string());
        }
    }
    if targets.is_empty() {
        return Err(format!("{} declares no fuzz targets", manifest.display()));
    }
    Ok(targets)
}

/// The host triple: cargo-fuzz builds for it, into `<target-dir>/<triple>/release`.
fn host_triple() -> Result<String, String> {
    let output = Command::new("rustc")
        .args(["+nightly", "-vV"])
        .output()
        .map_err(|e| format!("rustc +nightly -vV: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc +nightly -vV names no host".into())
}

/// Builds every target once: optimized, with debug assertions and overflow checks (cargo-fuzz's
/// default, made explicit), without a sanitizer: till-core and its dependencies are safe Rust,
/// so AddressSanitizer would only halve the executions.
fn build() -> Result<(), String> {
    run_cmd(
        Cmd::new("cargo")
            .args([
                "+nightly",
                "fuzz",
                "build",
                "--release",
                "--debug-assertions",
            ])
            .args(["--sanitizer", "none", "--fuzz-dir"])
            .arg(fuzz_dir())
            .arg("--target-dir")
            .arg(target_dir())
            .dir(root()),
    )
}

struct Outcome {
    target: String,
    seconds: u64,
    executions: Option<u64>,
    /// `None` when the target ran clean; otherwise what went wrong.
    failure: Option<String>,
}

fn fresh_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Executions from libFuzzer's last words: `stat::number_of_executed_units: N` (with
/// `-print_final_stats=1`), else `Done N runs in S second(s)`, else the last `#N` status line.
fn executions(log: &str) -> Option<u64> {
    let number = |text: &str| text.split_whitespace().next()?.parse::<u64>().ok();
    let lines = || log.lines().rev();
    lines()
        .find_map(|l| {
            l.strip_prefix("stat::number_of_executed_units:")
                .and_then(number)
        })
        .or_else(|| lines().find_map(|l| l.strip_prefix("Done ").and_then(number)))
        .or_else(|| {
            lines().find_map(|l| {
                let rest = l.strip_prefix('#')?;
                let end = rest.find(|c: char| !c.is_ascii_digit())?;
                rest.get(..end)?.parse().ok()
            })
        })
}

/// What a failed run left behind: the panic or libFuzzer's error, and the input that caused it.
fn failure_summary(log: &str) -> String {
    let cause = log
        .lines()
        .find(|l| l.contains("panicked at"))
        .map(|l| {
            // The message is on the next line(s) with recent Rust versions.
            let next = log
                .lines()
                .skip_while(|x| *x != l)
                .nth(1)
                .unwrap_or_default();
            format!("{} {}", l.trim(), next.trim())
        })
        .or_else(|| {
            log.lines()
                .find(|l| l.contains("ERROR: libFuzzer") || l.starts_with("SUMMARY:"))
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "libFuzzer failed".into());
    let artifact = log
        .lines()
        .find_map(|l| {
            l.split_once("Test unit written to ")
                .map(|(_, path)| path.trim())
        })
        .map_or(String::new(), |path| format!("; input saved as {path}"));
    format!("{cause}{artifact}")
}

fn run_target(binary_dir: &Path, target: &str, seconds: u64) -> Result<Outcome, String> {
    let binary = binary_dir.join(target);
    if !binary.is_file() {
        return Err(format!("{} was not built", binary.display()));
    }
    let scratch = target_dir().join("corpus").join(target);
    let artifacts = target_dir().join("artifacts").join(target);
    let logs = target_dir().join("logs");
    fresh_dir(&scratch)?;
    std::fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let log_path = logs.join(format!("{target}.log"));
    let log_file =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;

    let mut command = Command::new(&binary);
    command.arg(&scratch);
    let seeds = fuzz_dir().join("corpus").join(target);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    // The artifact prefix is a directory (trailing slash): crash-<sha1> files land inside.
    let mut prefix = artifacts.into_os_string();
    prefix.push("/");
    let mut artifact_arg = std::ffi::OsString::from("-artifact_prefix=");
    artifact_arg.push(prefix);
    command
        .arg(format!("-max_total_time={seconds}"))
        .arg(artifact_arg)
        .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048"])
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file);
    eprintln!(
        "xtask: fuzzing {target} for {seconds} s (log: {})",
        log_path.display()
    );
    let status = command
        .status()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let failure = (!status.success()).then(|| {
        let tail: Vec<&str> = log.lines().rev().take(25).collect();
        eprintln!("xtask: {target} failed ({status}); the end of its log:");
        for line in tail.into_iter().rev() {
            eprintln!("    {line}");
        }
        failure_summary(&log)
    });
    Ok(Outcome {
        target: target.to_string(),
        seconds,
        executions: executions(&log),
        failure,
    })
}

fn print_table(outcomes: &[Outcome], build: Duration, total: Duration) {
    let width = outcomes
        .iter()
        .map(|o| o.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!();
    println!(
        "{:<width$}  {:>7}  {:>12}  result",
        "target", "seconds", "executions"
    );
    let mut executions = 0;
    let mut seconds = 0;
    for outcome in outcomes {
        executions += outcome.executions.unwrap_or(0);
        seconds += outcome.seconds;
        println!(
            "{:<width$}  {:>7}  {:>12}  {}",
            outcome.target,
            outcome.seconds,
            outcome
                .executions
                .map_or_else(|| "?".to_string(), |n| n.to_string()),
            if outcome.failure.is_some() {
                "CRASH"
            } else {
                "ok"
            }
        );
    }
    println!("{:<width$}  {seconds:>7}  {executions:>12}", "total");
    println!(
        "build {:.0} s, build and runs {:.0} s",
        build.as_secs_f64(),
        total.as_secs_f64()
    );
}

/// Builds every fuzz target once, runs each for `seconds_per_target`, prints a table and fails
/// when any target found a crash (naming the saved input).
pub fn run(seconds_per_target: u64) -> Result<(), String> {
    if seconds_per_target == 0 {
        return Err("fuzz: seconds per target must be at least 1".into());
    }
    tools::ensure_fuzz_tools()?;
    let started = Instant::now();
    let targets = targets()?;
    build()?;
    let built = started.elapsed();
    let binary_dir = target_dir().join(host_triple()?).join("release");
    let mut outcomes = Vec::new();
    for target in &targets {
        outcomes.push(run_target(&binary_dir, target, seconds_per_target)?);
    }
    print_table(&outcomes, built, started.elapsed());
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| Some(format!("{}: {}", o.target, o.failure.as_ref()?)))
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found {} crash(es) (reproduce with the saved input as the binary's argument):\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

/// The bounded run `cargo xtask test` does: every target for [`SMOKE_SECONDS`].
pub fn smoke() -> Result<(), String> {
    run(SMOKE_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_executions_from_libfuzzer_output() {
        let log = "#2\tINITED cov: 10 ft: 10 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #65536\tpulse  cov: 10 ft: 10 corp: 1/1b exec/s: 32768 rss: 30Mb\n\
                   #81234\tDONE   cov: 10 ft: 10 corp: 1/1b exec/s: 8123 rss: 31Mb\n\
                   Done 81234 runs in 11 second(s)\n\
                   stat::number_of_executed_units: 81235\n\
                   stat::average_exec_per_sec:     7385\n";
        assert_eq!(executions(log), Some(81235));
        assert_eq!(executions("Done 7 runs in 1 second(s)\n"), Some(7));
        assert_eq!(
            executions("#12\tNEW    cov: 1\n#30\tREDUCE cov: 2\n"),
            Some(30)
        );
        assert_eq!(executions("nothing"), None);
    }

    #[test]
    fn names_the_panic_and_the_saved_input() {
        let log = "thread '<unnamed>' panicked at fuzz_targets/card.rs:31:5:\n\
                   last4 \"242 \" is not four digits\n\
                   ==1== ERROR: libFuzzer: deadly signal\n\
                   artifact_prefix='target/fuzz/artifacts/card/'; Test unit written to target/fuzz/artifacts/card/crash-abc\n";
        let summary = failure_summary(log);
        assert!(summary.contains("card.rs:31:5") && summary.contains("is not four digits"));
        assert!(summary.ends_with("input saved as target/fuzz/artifacts/card/crash-abc"));
    }

    #[test]
    fn targets_come_from_the_fuzz_manifest() {
        let targets = targets().unwrap();
        assert!(targets.iter().any(|t| t == "jwe"));
        assert!(!targets.iter().any(|t| t == "till-fuzz"));
    }
}
