//! The API against its own contract: schemathesis (PyPI) generates requests from
//! `api/openapi.json` (its examples, boundary values, random data and linked sequences) and
//! sends them to the live edge. Any 5xx, any status the document does not list for the
//! operation, and any response body or content type that does not match it, fails the run.

use crate::{python, root, run, Cmd};
use std::path::Path;

/// Checks every response is held to.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance";

/// `examples` bounds the cases per operation and phase; `seconds` the whole run.
pub fn check(edge_url: &str, artifacts: &Path, examples: u32, seconds: u32) -> Result<(), String> {
    let report = artifacts.join("contract");
    std::fs::create_dir_all(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    // Real resources (made with jwcrypto, as a browser would) for the operations that need ids.
    let config = report.join("schemathesis.toml");
    let interop = python::venv("venv", "tests/interop/requirements.txt")?;
    run(Cmd::new(interop)
        .arg(root().join("tests/contract/fixtures.py"))
        .arg(&config)
        .env("TILL_EDGE_URL", edge_url))?;
    let python = python::venv("venv-contract", "tests/contract/requirements.txt")?;
    let schemathesis = python.with_file_name("schemathesis");
    run(Cmd::new(schemathesis)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(root().join("api/openapi.json"))
        .args(["--url", edge_url])
        // The demo merchant's secret key works on every merchant endpoint; the Origin makes
        // publishable-key rules apply as for Till's own pages.
        .args([
            "-H",
            "Authorization: Bearer sk_test_till_demo_merchant_secret",
        ])
        .args(["-H", &format!("Origin: {edge_url}")])
        .args(["--checks", CHECKS])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", &examples.to_string()])
        .args(["--max-time", &seconds.to_string()])
        .args(["--seed", "20261125"])
        .args(["--workers", "2"])
        .args(["--request-timeout", "20"])
        .args(["--suppress-health-check", "all"])
        .args(["--report", "junit"])
        .arg("--report-dir")
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", root().join("tests/contract/hooks.py"))
        // Its cache of past failures goes with the run's artifacts, not into the repository.
        .dir(&report)
        .env("NO_COLOR", "1"))
}
