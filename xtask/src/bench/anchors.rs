//! The bench's anchors: what a merchant page downloads for a competitor's card checkout
//! (Braintree's client + Hosted Fields, Adyen's Card component), bundled from the npm packages
//! pinned in `bench/anchors/` and compressed in the same run as the widget, so the comparison
//! uses the same compressors and settings. Only the merchant-side bundle is counted: the iframes
//! and scripts each provider later loads from its own CDN are not.

use super::sizes::Size;
use crate::{run, Cmd};
use std::path::Path;

/// An entry file in `bench/anchors/`, the npm package whose version names its row, and what
/// the row measures.
struct Entry {
    file: &'static str,
    package: &'static str,
    label: &'static str,
}

const ENTRIES: [Entry; 3] = [
    Entry {
        file: "braintree.js",
        package: "braintree-web",
        label: "client + hosted-fields (JS)",
    },
    Entry {
        file: "adyen.js",
        package: "@adyen/adyen-web",
        label: "Card (JS)",
    },
    // adyen-web v6 asks merchants to load this stylesheet for its components.
    Entry {
        file: "adyen.css",
        package: "@adyen/adyen-web",
        label: "(CSS)",
    },
];

/// Bundles each anchor with the pinned esbuild (minified, browser IIFE, as a merchant would
/// ship it) into `target/till/bench/anchors/` and measures it raw, gzip -9 and brotli 11.
pub fn measure(root: &Path) -> Result<Vec<Size>, String> {
    let anchors_dir = root.join("bench/anchors");
    install_packages(&anchors_dir)?;
    let esbuild = anchors_dir.join("node_modules/.bin/esbuild");
    let out_dir = root.join("target/till/bench/anchors");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;

    ENTRIES
        .iter()
        .map(|entry| {
            let bundle = out_dir.join(entry.file);
            run(Cmd::new(&esbuild)
                .args([
                    entry.file,
                    "--bundle",
                    "--minify",
                    "--format=iife",
                    "--platform=browser",
                    "--log-level=warning",
                ])
                .arg(format!("--outfile={}", bundle.display()))
                .dir(&anchors_dir))?;
            let bytes = std::fs::read(&bundle).map_err(|e| format!("{}: {e}", bundle.display()))?;
            let version = installed_version(&anchors_dir, entry.package)?;
            // The row shows the package without its npm scope.
            let package = entry.package.rsplit('/').next().unwrap_or(entry.package);
            Size::of(format!("{package} {version} {}", entry.label), &bytes)
        })
        .collect()
}

/// The Leptos floor (`bench/leptos_floor`): a one-input form built with the widget's toolchain,
/// flags and finishing steps, measured as the widget's glue and wasm are. What the widget weighs
/// above it is the widget's own code and the parts of Leptos it uses beyond one input.
pub fn leptos_floor(root: &Path) -> Result<Size, String> {
    let page = root.join("bench/leptos_floor");
    let dist = root.join("target/till/bench/leptos-floor");
    crate::trunk_release(&[
        &page.join("index.html").to_string_lossy(),
        "--dist",
        &dist.to_string_lossy(),
    ])?;
    crate::page_wasm::finish(
        &dist,
        "index.html",
        &crate::cargo_wasm("leptos-floor"),
        &crate::page_tools()?,
    )?;
    let mut glue_and_wasm = Vec::new();
    for entry in std::fs::read_dir(&dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path
            .extension()
            .is_some_and(|ext| ext == "js" || ext == "wasm")
        {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            glue_and_wasm.push(Size::of("", &bytes)?);
        }
    }
    if glue_and_wasm.len() != 2 {
        return Err(format!(
            "{}: expected the floor's glue and wasm, found {} files",
            dist.display(),
            glue_and_wasm.len()
        ));
    }
    let manifest = page.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let version = leptos_pin(&text).ok_or(format!("{}: no pinned leptos", manifest.display()))?;
    Ok(super::sizes::sum(
        &format!("leptos {version} one-input form, built as the widget"),
        &glue_and_wasm.iter().collect::<Vec<_>>(),
    ))
}

/// The version `leptos = { version = "=X" ... }` pins in a manifest.
fn leptos_pin(manifest: &str) -> Option<&str> {
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("leptos = { version = \"="))
        .and_then(|rest| rest.split('"').next())
}

/// `npm ci` from the committed lockfile when `node_modules` is missing or older than the
/// lockfile, so the measured versions are the pinned ones.
fn install_packages(anchors_dir: &Path) -> Result<(), String> {
    let lock = std::fs::metadata(anchors_dir.join("package-lock.json"));
    let installed = std::fs::metadata(anchors_dir.join("node_modules/.package-lock.json"));
    let stale = match (lock, installed) {
        (Ok(lock), Ok(installed)) => lock.modified().ok() > installed.modified().ok(),
        _ => true,
    };
    if stale || !anchors_dir.join("node_modules/.bin/esbuild").exists() {
        run(Cmd::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .dir(anchors_dir))?;
    }
    Ok(())
}

/// The version npm installed, read back so a row names exactly what was measured.
fn installed_version(anchors_dir: &Path, package: &str) -> Result<String, String> {
    let manifest = anchors_dir
        .join("node_modules")
        .join(package)
        .join("package.json");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    json["version"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: no version", manifest.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_floor_is_named_after_the_leptos_it_pins() {
        let manifest = std::fs::read_to_string(crate::root().join("bench/leptos_floor/Cargo.toml"))
            .expect("the floor's manifest");
        let widget = std::fs::read_to_string(crate::root().join("frontend/Cargo.toml"))
            .expect("the widget's manifest");
        let pinned = super::leptos_pin(&manifest);
        assert!(pinned.is_some_and(|v| v.starts_with("0.")));
        // The floor only means something built with the widget's Leptos.
        assert_eq!(pinned, super::leptos_pin(&widget));
    }

    #[test]
    #[ignore = "runs npm ci (npm registry) and esbuild"]
    fn every_anchor_is_a_real_bundle() -> Result<(), String> {
        let anchors = super::measure(&crate::root())?;
        assert_eq!(anchors.len(), super::ENTRIES.len());
        println!(
            "{:<48} {:>10} {:>10} {:>10}",
            "anchor", "raw", "gzip -9", "brotli 11"
        );
        for anchor in &anchors {
            println!(
                "{:<48} {:>10} {:>10} {:>10}",
                anchor.name, anchor.raw, anchor.gzip, anchor.brotli
            );
            // An empty or tree-shaken entry would be a few hundred bytes; the real ones are tens of KB.
            assert!(anchor.gzip > 5_000, "{} is too small", anchor.name);
            assert!(anchor.raw > anchor.gzip, "{} did not compress", anchor.name);
        }
        Ok(())
    }
}
