//! Finishes Trunk's release build of the widget: Trunk cannot minify wasm-bindgen's JS glue (its
//! minifier fails on it and ships it as is), so esbuild minifies it here, and the glue's
//! `integrity` hash in `index.html` is recomputed to match.

use base64::Engine;
use sha2::{Digest, Sha384};
use std::path::Path;

/// `page` (a path under `dist`, the site's root) links exactly one glue module; it is minified in
/// place and its hash renewed.
pub fn minify(dist: &Path, page: &str, esbuild: &Path) -> Result<(), String> {
    let index_path = dist.join(page);
    let index = std::fs::read_to_string(&index_path)
        .map_err(|e| format!("{}: {e}", index_path.display()))?;
    let glue_name = glue_file(&index).ok_or(format!("{page} links no wasm-bindgen glue module"))?;
    let glue_path = dist.join(&glue_name);
    let original = std::fs::read(&glue_path).map_err(|e| format!("{glue_name}: {e}"))?;

    crate::run(
        crate::Cmd::new(esbuild.as_os_str())
            .arg(&glue_path)
            .args([
                "--minify",
                "--format=esm",
                "--log-level=warning",
                "--allow-overwrite",
            ])
            .arg(format!("--outfile={}", glue_path.display())),
    )?;
    let minified = std::fs::read(&glue_path).map_err(|e| format!("{glue_name}: {e}"))?;
    let old = integrity(&original);
    if !index.contains(&old) {
        return Err(format!("{page} lacks the integrity {old} of {glue_name}"));
    }
    std::fs::write(&index_path, index.replace(&old, &integrity(&minified)))
        .map_err(|e| format!("{}: {e}", index_path.display()))
}

/// The glue module's path from the site's root, from Trunk's `<link ... href=/NAME.js ...
/// rel=modulepreload>`.
fn glue_file(index: &str) -> Option<String> {
    let tag = index.split('<').find(|tag| tag.contains("modulepreload"))?;
    let href = tag
        .split_whitespace()
        .find_map(|a| a.strip_prefix("href="))?;
    let name = href.trim_matches(['"', '\'', '>']).trim_start_matches('/');
    name.ends_with(".js").then(|| name.to_string())
}

/// Subresource Integrity as Trunk writes it.
fn integrity(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_glue_trunk_links() {
        let index = "<link href=/style-1.css rel=stylesheet><link nonce=\"n\" crossorigin \
                     href=/till-widget-6981.js integrity=sha384-x rel=modulepreload>";
        assert_eq!(glue_file(index).as_deref(), Some("till-widget-6981.js"));
        assert_eq!(glue_file("<link href=/till.js rel=stylesheet>"), None);
        assert_eq!(
            glue_file("<link href=\"/w-1.js\" rel=\"modulepreload\">").as_deref(),
            Some("w-1.js")
        );
        // The wallet page is served under /wallet/.
        assert_eq!(
            glue_file("<link href=/wallet/till-wallet-2.js rel=modulepreload>").as_deref(),
            Some("wallet/till-wallet-2.js")
        );
    }

    #[test]
    fn integrity_is_sri_sha384() {
        // `printf abc | openssl dgst -sha384 -binary | base64`
        assert_eq!(
            integrity(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }
}
