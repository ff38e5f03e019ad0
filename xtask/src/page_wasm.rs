//! Finishes Trunk's release build of a page (the checkout, the wallet, the dashboard). Trunk
//! compiles the crate and writes the page; what it cannot do is done here, on cargo's wasm:
//!
//! 1. `wasm-split-cli` cuts the wasm at its `#[wasm_split]` doors: the code behind each door
//!    goes to a chunk the page fetches when the door is first used (the checkout's first
//!    download is what shows the form; `frontend/src/lazy.rs`). A page without doors is one
//!    wasm, as before. The exports of classes no code can make are first pointed at functions
//!    that only trap (`glue_boundary.rs`), so the split leaves out what only they reached.
//! 2. wasm-bindgen and wasm-opt make the page's wasm and its JS glue, under the names Trunk
//!    linked; classes no code can make are dropped from both, and the names the two know each
//!    other by are shortened in both (`glue_boundary.rs`); each chunk is optimized and named
//!    after the page's files.
//! 3. esbuild bundles the chunks' loader into the glue (no second script to wait for) and
//!    minifies it (Trunk's minifier fails on wasm-bindgen's glue and ships it as is).
//! 4. The page's `integrity` of the glue and the wasm are renewed, and the loader fetches each
//!    chunk with its own.
//! 5. The glue, the wasm and the chunks are renamed after a hash of their final bytes, so the
//!    static files can tell browsers to keep them for good (`frontend/_headers`).

use crate::glue_boundary;
use base64::Engine;
use sha2::{Digest, Sha256, Sha384};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What wasm-opt does to the page's wasm and chunks: size first, and no custom sections.
const WASM_OPT_FLAGS: [&str; 6] = [
    "-Oz",
    "--converge",
    "--strip-debug",
    "--strip-producers",
    "--strip-target-features",
    "--low-memory-unused",
];

/// The tools the finishing steps run.
pub struct Tools {
    pub wasm_split: PathBuf,
    pub wasm_bindgen: PathBuf,
    pub wasm_opt: PathBuf,
    pub esbuild: PathBuf,
}

/// Finishes `page` (a path under `dist`, the site's root), whose crate cargo compiled to
/// `cargo_wasm` (linked with `--emit-relocs`, which the split needs).
pub fn finish(dist: &Path, page: &str, cargo_wasm: &Path, tools: &Tools) -> Result<(), String> {
    let index_path = dist.join(page);
    let mut index = read_text(&index_path)?;
    let glue_name = glue_file(&index).ok_or(format!("{page} links no wasm-bindgen glue module"))?;
    let glue_path = dist.join(&glue_name);
    let stem = glue_path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or(format!("{glue_name}: no file name"))?
        .to_string();
    let out_dir = glue_path
        .parent()
        .ok_or(format!("{glue_name}: no folder"))?
        .to_path_buf();
    let wasm_path = out_dir.join(format!("{stem}_bg.wasm"));
    // What Trunk wrote, to find its integrity values in the page.
    let trunk_glue = integrity(&read(&glue_path)?);
    let trunk_wasm = integrity(&read(&wasm_path)?);

    let work = crate::root().join("target/till/pages").join(&stem);
    let _ = std::fs::remove_dir_all(&work);
    let bindgen_dir = work.join("bindgen");
    std::fs::create_dir_all(&bindgen_dir).map_err(|e| format!("{}: {e}", work.display()))?;

    let probe = work.join("probe");
    let unrooted = probe.join("unrooted.wasm");
    unroot_unmade_classes(tools, cargo_wasm, &unrooted, &probe)?;
    crate::run(
        crate::Cmd::new(&tools.wasm_split)
            .args(["--target", "web", "--out-name", &stem])
            .arg(&unrooted)
            .arg(&work),
    )?;
    bindgen(
        tools,
        &work.join(format!("{stem}.wasm")),
        &bindgen_dir,
        &stem,
    )?;
    let loader_path = work.join(LOADER);
    let bindgen_wasm = bindgen_dir.join(format!("{stem}_bg.wasm"));
    let bindgen_glue = bindgen_dir.join(format!("{stem}.js"));
    let loader_text = if loader_path.exists() {
        read_text(&loader_path)?
    } else {
        String::new()
    };
    let (made_wasm, made_glue) = glue_boundary::drop_unmade_classes(
        &read(&bindgen_wasm)?,
        &read_text(&bindgen_glue)?,
        &loader_text,
    )?;
    let (short_wasm, short_glue) = glue_boundary::shorten_names(
        &made_wasm,
        &made_glue,
        &format!("./{stem}_bg.js"),
        &loader_text,
    )?;
    std::fs::write(&bindgen_wasm, short_wasm)
        .map_err(|e| format!("{}: {e}", bindgen_wasm.display()))?;
    std::fs::write(&bindgen_glue, short_glue)
        .map_err(|e| format!("{}: {e}", bindgen_glue.display()))?;
    optimize(tools, &bindgen_wasm, &wasm_path, true)?;

    if loader_path.exists() {
        let mut loader = loader_text;
        let doors_of_page = doors(&loader);
        for chunk in chunks(&work, &stem)? {
            let name = chunk
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or(format!("{}: no file name", chunk.display()))?
                .to_string();
            let served = format!("{stem}.{name}");
            let served_path = out_dir.join(&served);
            optimize(tools, &chunk, &served_path, false)?;
            loader =
                fetch_with_integrity(&loader, &name, &served, &integrity(&read(&served_path)?))?;
        }
        let manifest = serde_json::to_string_pretty(&doors_of_page).map_err(|e| e.to_string())?;
        let manifest_path = doors_manifest(page);
        std::fs::write(&manifest_path, manifest)
            .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
        std::fs::write(bindgen_dir.join(LOADER), loader).map_err(|e| format!("{LOADER}: {e}"))?;
    }
    crate::run(
        crate::Cmd::new(&tools.esbuild)
            .arg(&bindgen_glue)
            .args([
                "--bundle",
                "--minify",
                "--format=esm",
                "--log-level=warning",
                "--allow-overwrite",
            ])
            .arg(format!("--outfile={}", glue_path.display())),
    )?;

    let (glue_path, wasm_path) = name_by_content(&out_dir, &stem, &mut index)?;
    for (old, file) in [(trunk_glue, &glue_path), (trunk_wasm, &wasm_path)] {
        if !index.contains(&old) {
            return Err(format!(
                "{page} lacks the integrity {old} Trunk gave {}",
                file.display()
            ));
        }
        index = index.replace(&old, &integrity(&read(file)?));
    }
    std::fs::write(&index_path, index).map_err(|e| format!("{}: {e}", index_path.display()))
}

/// wasm-bindgen's glue and wasm for `wasm`, written to `out_dir` as `<stem>.js` and
/// `<stem>_bg.wasm`.
fn bindgen(tools: &Tools, wasm: &Path, out_dir: &Path, stem: &str) -> Result<(), String> {
    crate::run(
        crate::Cmd::new(&tools.wasm_bindgen)
            .args([
                "--target",
                "web",
                "--keep-lld-exports",
                "--no-demangle",
                "--no-typescript",
                "--out-name",
                stem,
            ])
            .arg("--out-dir")
            .arg(out_dir)
            .arg(wasm),
    )
}

/// Writes `cargo_wasm` to `unrooted` with the exports of the classes no code can make pointed
/// elsewhere (`glue_boundary::unroot_exports`), so the split leaves out all only they reached:
/// the wasm-streams adapters' futures and the table slots of their closures, which removing
/// the exports after wasm-bindgen could not free (every table slot is a root of the split
/// module; −3.9 KB gzip in the checkout). wasm-bindgen is run once on the whole wasm, in
/// `probe`, to learn which classes those are.
fn unroot_unmade_classes(
    tools: &Tools,
    cargo_wasm: &Path,
    unrooted: &Path,
    probe: &Path,
) -> Result<(), String> {
    bindgen(tools, cargo_wasm, probe, "probe")?;
    let unmade = glue_boundary::unmade_class_exports(&read_text(&probe.join("probe.js"))?);
    let (wasm, pointed) = glue_boundary::unroot_exports(&read(cargo_wasm)?, &unmade)?;
    println!(
        "xtask: {pointed} of {} exports of classes no code can make unrooted",
        unmade.len()
    );
    std::fs::write(unrooted, wasm).map_err(|e| format!("{}: {e}", unrooted.display()))
}

/// The loader `wasm-split-cli` writes beside the page's wasm when it found doors.
const LOADER: &str = "__wasm_split.js";

/// Which chunks each door of `page` fetches (for the benchmark's sizes), kept with the builds'
/// work.
fn doors_manifest(page: &str) -> PathBuf {
    crate::root()
        .join("target/till/pages")
        .join(format!("{}.doors.json", page.replace('/', "_")))
}

/// The files the page's `door` fetches the first time it is used, as served (its chunk and the
/// chunks it shares with other doors); none for a page built without doors.
pub fn door_files(dist: &Path, page: &str, door: &str) -> Result<Vec<String>, String> {
    let index = read_text(&dist.join(page))?;
    let glue = glue_file(&index).ok_or(format!("{page} links no wasm-bindgen glue module"))?;
    let stem = glue
        .trim_end_matches(".js")
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let manifest = doors_manifest(page);
    if !manifest.exists() {
        return Ok(Vec::new());
    }
    let doors: BTreeMap<String, Vec<String>> = serde_json::from_str(&read_text(&manifest)?)
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    let chunks = doors.get(door).ok_or(format!(
        "{page} has no door `{door}` (its doors: {:?})",
        doors.keys()
    ))?;
    Ok(chunks
        .iter()
        .map(|chunk| format!("{stem}.{chunk}"))
        .collect())
}

/// Gives the page's glue, wasm and chunks names made from their content, and points the page
/// (`index`) and the glue at them; the new paths of the glue and the wasm. Browsers keep these
/// files for good (`frontend/_headers`), so a name must never be reused for other bytes: Trunk's
/// hash is of its own build, which the steps above change (a new wasm-opt, say, changes the
/// bytes and not Trunk's name). The wasm's import module is only the key the glue hands the
/// imports under (shortened to `a` where the glue allows it).
fn name_by_content(
    out_dir: &Path,
    stem: &str,
    index: &mut String,
) -> Result<(PathBuf, PathBuf), String> {
    let glue_path = out_dir.join(format!("{stem}.js"));
    let wasm_path = out_dir.join(format!("{stem}_bg.wasm"));
    let chunk_prefix = format!("{stem}.");
    let mut chunks: Vec<String> = std::fs::read_dir(out_dir)
        .map_err(|e| format!("{}: {e}", out_dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with(&chunk_prefix) && name.ends_with(".wasm"))
        .collect();
    chunks.sort();
    let mut hasher = Sha256::new();
    for path in [&glue_path, &wasm_path]
        .into_iter()
        .cloned()
        .chain(chunks.iter().map(|name| out_dir.join(name)))
    {
        hasher.update(read(&path)?);
    }
    let new_stem = content_stem(stem, &hasher.finalize());
    let glue = renamed_references(&read_text(&glue_path)?, stem, &new_stem);
    let new_glue_path = out_dir.join(format!("{new_stem}.js"));
    std::fs::write(&new_glue_path, glue)
        .map_err(|e| format!("{}: {e}", new_glue_path.display()))?;
    if new_glue_path != glue_path {
        std::fs::remove_file(&glue_path).map_err(|e| format!("{}: {e}", glue_path.display()))?;
    }
    let new_wasm_path = out_dir.join(format!("{new_stem}_bg.wasm"));
    rename(&wasm_path, &new_wasm_path)?;
    for chunk in chunks {
        let renamed = chunk.replacen(stem, &new_stem, 1);
        rename(&out_dir.join(&chunk), &out_dir.join(renamed))?;
    }
    *index = index.replace(stem, &new_stem);
    Ok((new_glue_path, new_wasm_path))
}

fn rename(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
}

/// `till-widget-<Trunk's hash>` with the hash replaced by the first 16 hex digits of `digest`.
fn content_stem(stem: &str, digest: &[u8]) -> String {
    let name = stem.rsplit_once('-').map_or(stem, |(name, _)| name);
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{name}-{hash}")
}

/// The glue with its references to the page's wasm and chunks renamed from `old` to `new`.
fn renamed_references(glue: &str, old: &str, new: &str) -> String {
    glue.replace(&format!("{old}_bg.wasm"), &format!("{new}_bg.wasm"))
        .replace(&format!("{old}."), &format!("{new}."))
}

/// Each door of the loader and the files it fetches: its own chunk (`split_NAME.wasm`), and
/// every shared chunk whose comment names it (`/* bank, pay */` before `const __chunk_4`).
fn doors(loader: &str) -> BTreeMap<String, Vec<String>> {
    let mut doors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut users: Vec<String> = Vec::new();
    for line in loader.lines() {
        let line = line.trim();
        if let Some(door) = line
            .strip_prefix("export const __wasm_split_load_")
            .and_then(|rest| rest.split_whitespace().next())
        {
            doors
                .entry(door.to_string())
                .or_default()
                .insert(0, format!("split_{door}.wasm"));
        } else if let Some(list) = line.strip_prefix("/*").and_then(|l| l.strip_suffix("*/")) {
            users = list.split(',').map(|d| d.trim().to_string()).collect();
        } else if let Some(chunk) = line
            .strip_prefix("const __chunk_")
            .and_then(|rest| rest.split_whitespace().next())
        {
            for door in users.drain(..) {
                doors
                    .entry(door)
                    .or_default()
                    .push(format!("chunk_{chunk}.wasm"));
            }
        }
    }
    doors
}

/// The chunks `wasm-split-cli` wrote into `dir` beside the page's wasm (`{stem}.wasm`): one
/// per door's chunk (`split_NAME.wasm`) and one per piece of code several chunks share
/// (`chunk_N.wasm`, fetched with the first of them).
fn chunks(dir: &Path, stem: &str) -> Result<Vec<PathBuf>, String> {
    let main = format!("{stem}.wasm");
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".wasm") && n != main)
        })
        .collect();
    found.sort();
    Ok(found)
}

fn optimize(tools: &Tools, input: &Path, output: &Path, fresh_memory: bool) -> Result<(), String> {
    let mut cmd = crate::Cmd::new(&tools.wasm_opt).args(WASM_OPT_FLAGS);
    // Only the page's own wasm starts on zeroed memory; a chunk joins memory already in use.
    if fresh_memory {
        cmd = cmd.arg("--zero-filled-memory");
    }
    crate::run(cmd.arg(input).arg("-o").arg(output))
}

/// The loader's fetch of chunk `name`, made to fetch `served` and check it against `integrity`.
fn fetch_with_integrity(
    loader: &str,
    name: &str,
    served: &str,
    integrity: &str,
) -> Result<String, String> {
    let fetch = format!("fetch(new URL(\"./{name}\", import.meta.url))");
    if !loader.contains(&fetch) {
        return Err(format!(
            "{LOADER} does not fetch {name} as expected: {fetch}"
        ));
    }
    Ok(loader.replace(
        &fetch,
        &format!(
            "fetch(new URL(\"./{served}\", import.meta.url), {{ integrity: \"{integrity}\" }})"
        ),
    ))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
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
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_named_after_its_content() {
        let digest = Sha256::digest(b"the page's files");
        let stem = content_stem("till-widget-262d9da53e7e88a4", &digest);
        assert!(stem.starts_with("till-widget-") && stem.len() == "till-widget-".len() + 16);
        assert_ne!(stem, "till-widget-262d9da53e7e88a4");
        assert_eq!(stem, content_stem("till-widget-0000000000000000", &digest));
        let other = content_stem("till-widget-262d9da53e7e88a4", &Sha256::digest(b"other"));
        assert_ne!(stem, other, "other bytes, another name");
    }

    #[test]
    fn the_glue_fetches_the_renamed_files_and_keeps_the_import_key() {
        let glue = "imports[\"./till-widget-aa_bg.js\"]=x;fetch(new URL(\"./till-widget-aa.split_pay.wasm\",import.meta.url));new URL(\"till-widget-aa_bg.wasm\",import.meta.url)";
        let renamed = renamed_references(glue, "till-widget-aa", "till-widget-bb");
        assert!(renamed.contains("./till-widget-aa_bg.js"), "{renamed}");
        assert!(
            renamed.contains("./till-widget-bb.split_pay.wasm"),
            "{renamed}"
        );
        assert!(renamed.contains("\"till-widget-bb_bg.wasm\""), "{renamed}");
        assert!(!renamed.contains("till-widget-aa.") && !renamed.contains("aa_bg.wasm"));
    }

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
    fn the_loader_fetches_the_served_chunk_with_its_integrity() {
        let loader = "const src = fetch(new URL(\"./split_pay_1.wasm\", import.meta.url));";
        assert_eq!(
            fetch_with_integrity(
                loader,
                "split_pay_1.wasm",
                "w-9.split_pay_1.wasm",
                "sha384-x"
            )
            .as_deref(),
            Ok(
                "const src = fetch(new URL(\"./w-9.split_pay_1.wasm\", import.meta.url), \
                { integrity: \"sha384-x\" });"
            )
        );
        // A loader that fetches another way is refused, not left without integrity.
        assert!(fetch_with_integrity("fetch(url)", "split_pay_1.wasm", "x", "y").is_err());
    }

    #[test]
    fn each_door_fetches_its_chunk_and_the_chunks_it_shares() {
        // The shape wasm-split-cli 0.2.4 writes (bodies shortened).
        let loader = "function makeLoad(fetcher, deps) {}
/* bank, pay */
const __chunk_4 = makeLoad(() => {
}, []);
export const __wasm_split_load_wallet = wrapAsyncCb(makeLoad(() => {
}, []));
export const __wasm_split_load_pay = wrapAsyncCb(makeLoad(() => {
}, [__chunk_4]));
export const __wasm_split_load_bank = wrapAsyncCb(makeLoad(() => {
}, [__chunk_4]));";
        let doors = doors(loader);
        assert_eq!(doors["pay"], ["split_pay.wasm", "chunk_4.wasm"]);
        assert_eq!(doors["bank"], ["split_bank.wasm", "chunk_4.wasm"]);
        assert_eq!(doors["wallet"], ["split_wallet.wasm"]);
        assert_eq!(doors.len(), 3);
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
