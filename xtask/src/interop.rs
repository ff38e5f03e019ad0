//! The JWE interop check with jwcrypto (PyPI), in a virtualenv under target/till/venv.

use crate::{root, run, Cmd};
use std::path::Path;

pub fn check(edge_url: &str, artifacts: &Path) -> Result<(), String> {
    let venv = root().join("target/till/venv");
    let python = venv.join("bin/python");
    let requirements = root().join("tests/interop/requirements.txt");
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(Cmd::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Cmd::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements))?;
        std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    }
    run(Cmd::new(&python)
        .arg(root().join("tests/interop/jwe_interop.py"))
        .env("TILL_EDGE_URL", edge_url)
        .env("TILL_ARTIFACTS", artifacts))
}
