//! Pinned tools, installed only when missing or at another version.

use crate::{root, run, Cmd};
use std::process::Command;

pub const TRUNK_VERSION: &str = "0.21.14";
pub const WORKER_BUILD_VERSION: &str = "0.8.7";
/// `wasm-split-cli`, from the crate that pairs with Leptos's `wasm_split_helpers` 0.2.
pub const WASM_SPLIT_VERSION: &str = "0.2.4";

/// The first line a tool prints for `--version`, or `None` when it is not installed.
fn version_of(tool: &str) -> Option<String> {
    let output = Command::new(tool).arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// `cargo install --list`: each installed crate as `name vX.Y.Z:`, its binaries under it.
fn installed_crates() -> Result<String, String> {
    let output = Command::new("cargo")
        .args(["install", "--list"])
        .output()
        .map_err(|e| format!("cargo install --list: {e}"))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn cargo_install(krate: &str, version: &str, locked: bool) -> Result<(), String> {
    let mut cmd = Cmd::new("cargo").args(["install", krate, "--version", version]);
    if locked {
        cmd = cmd.arg("--locked");
    }
    run(cmd)
}

/// Everything the build needs; each step is skipped when already in place.
pub fn ensure_build_tools() -> Result<(), String> {
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if !String::from_utf8_lossy(&targets.stdout).contains("wasm32-unknown-unknown") {
        run(Cmd::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }

    let bindgen = locked_wasm_bindgen_version()?;
    if version_of("wasm-bindgen").is_none_or(|v| v != format!("wasm-bindgen {bindgen}")) {
        // Its own lockfile names a crate the registry lacks, so no --locked (see TOOLCHAIN.md).
        cargo_install("wasm-bindgen-cli", &bindgen, false)?;
    }
    if version_of("trunk").is_none_or(|v| v != format!("trunk {TRUNK_VERSION}")) {
        cargo_install("trunk", TRUNK_VERSION, true)?;
    }
    if version_of("worker-build").is_none_or(|v| !v.ends_with(WORKER_BUILD_VERSION)) {
        cargo_install("worker-build", WORKER_BUILD_VERSION, true)?;
    }
    // It has no `--version`: cargo's list of installed crates says which one is there.
    let split_crate = format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}:");
    if !installed_crates()?.lines().any(|line| line == split_crate) {
        run(Cmd::new("cargo").args([
            "install",
            "wasm_split_cli_support",
            "--version",
            WASM_SPLIT_VERSION,
            "--locked",
            "--features",
            "build-binary",
        ]))?;
    }

    ensure_widget_toolchain()?;
    ensure_node_tools()
}

/// The npm packages in `package-lock.json` (wrangler, binaryen), when missing or older.
pub fn ensure_node_tools() -> Result<(), String> {
    let node_modules = root().join("node_modules");
    let lock = root().join("package-lock.json");
    let installed = node_modules.join(".package-lock.json");
    let stale = match (std::fs::metadata(&lock), std::fs::metadata(&installed)) {
        (Ok(lock), Ok(installed)) => lock.modified().ok() > installed.modified().ok(),
        _ => true,
    };
    if stale || !node_modules.join(".bin/wrangler").exists() {
        run(Cmd::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .dir(root()))?;
    }
    Ok(())
}

/// Debian's Chromium and ChromeDriver for the browser tests, and the Noto CJK fonts without
/// which Korean renders as boxes in their screenshots.
pub fn ensure_browser() -> Result<(), String> {
    let present = |path: &str| std::path::Path::new(path).exists();
    if present("/usr/bin/chromium")
        && present("/usr/bin/chromedriver")
        && present("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    {
        return Ok(());
    }
    run(Cmd::new("apt-get").arg("update"))?;
    run(Cmd::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
            "fonts-noto-cjk",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// cargo-fuzz, for `cargo xtask fuzz` (the newest release that builds with stable here).
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The nightly the fuzz targets and the widget build with: the commit date `rustc +nightly -V`
/// shows (the channel is `nightly-2026-05-20`). Only `nightly` is installed, so this is checked,
/// not chosen.
pub const NIGHTLY_DATE: &str = "2026-05-19";

/// Fails unless `nightly` is the pinned one.
fn check_nightly(needed_for: &str) -> Result<(), String> {
    let rustc = Command::new("rustc")
        .args(["+nightly", "-V"])
        .output()
        .map_err(|e| format!("rustc +nightly: {e}"))?;
    let version = String::from_utf8_lossy(&rustc.stdout).trim().to_string();
    if !rustc.status.success() {
        return Err(format!(
            "{needed_for} needs a nightly toolchain (pinned: commit date {NIGHTLY_DATE}); \
             `rustc +nightly -V` failed: {}",
            String::from_utf8_lossy(&rustc.stderr).trim()
        ));
    }
    if !version.contains(NIGHTLY_DATE) {
        return Err(format!(
            "{needed_for} is pinned to the nightly of {NIGHTLY_DATE}, but `rustc +nightly -V` is \
             `{version}`: install that nightly as `nightly`, or move NIGHTLY_DATE in \
             xtask/src/tools.rs after checking the fuzz targets and the widget build with it"
        ));
    }
    Ok(())
}

/// The widget is built with the pinned nightly so it can rebuild the standard library for size
/// (`-Zbuild-std`, panics that abort without formatting): its source, the wasm target, and the
/// crates the standard library depends on, fetched once so Trunk's offline build finds them.
fn ensure_widget_toolchain() -> Result<(), String> {
    check_nightly("the widget's build")?;
    let installed = |what: &str| -> Result<String, String> {
        let output = Command::new("rustup")
            .args(["+nightly", what, "list", "--installed"])
            .output()
            .map_err(|e| format!("rustup: {e}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    if !installed("component")?.contains("rust-src") {
        run(Cmd::new("rustup").args(["component", "add", "rust-src", "--toolchain", "nightly"]))?;
    }
    if !installed("target")?.contains("wasm32-unknown-unknown") {
        run(Cmd::new("rustup").args([
            "target",
            "add",
            "wasm32-unknown-unknown",
            "--toolchain",
            "nightly",
        ]))?;
    }
    let sysroot = Command::new("rustc")
        .args(["+nightly", "--print", "sysroot"])
        .output()
        .map_err(|e| format!("rustc +nightly: {e}"))?;
    let library = std::path::PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim())
        .join("lib/rustlib/src/rust/library/Cargo.toml");
    run(Cmd::new("cargo")
        .args(["+nightly", "fetch", "--quiet", "--manifest-path"])
        .arg(library))
}

/// The pinned nightly (checked) and cargo-fuzz (installed when missing or at another version).
pub fn ensure_fuzz_tools() -> Result<(), String> {
    check_nightly("fuzzing")?;
    if version_of("cargo-fuzz").is_none_or(|v| v != format!("cargo-fuzz {CARGO_FUZZ_VERSION}")) {
        cargo_install("cargo-fuzz", CARGO_FUZZ_VERSION, true)?;
    }
    Ok(())
}
