//! Python tools from PyPI (jwcrypto, schemathesis), each in its own virtualenv under
//! target/till, installed from a fully pinned requirements file and reinstalled only when that
//! file changes.

use crate::{root, run, Cmd};
use std::path::PathBuf;

/// The Python of the virtualenv `name`, with `requirements` (relative to the repo) installed.
pub fn venv(name: &str, requirements: &str) -> Result<PathBuf, String> {
    let venv = root().join("target/till").join(name);
    let python = venv.join("bin/python");
    let requirements = root().join(requirements);
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
    Ok(python)
}
