//! The JWE interop check with jwcrypto (PyPI), in a virtualenv under target/till/venv.

use crate::{python, root, run, Cmd};
use std::path::Path;

pub fn check(edge_url: &str, artifacts: &Path) -> Result<(), String> {
    let python = python::venv("venv", "tests/interop/requirements.txt")?;
    run(Cmd::new(&python)
        .arg(root().join("tests/interop/jwe_interop.py"))
        .env("TILL_EDGE_URL", edge_url)
        .env("TILL_ARTIFACTS", artifacts))
}
