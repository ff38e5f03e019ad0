//! What a customer's browser downloads for the widget, and what an edge loads for the worker,
//! raw and compressed the way CDNs serve them.

use crate::root;
use serde_json::{json, Value};
use std::io::Write;

/// The most a card payment may download, gzip -9, all files together (loader, HTML, CSS, JS
/// glue, wasm, and since the split the `pay` door's chunks). `cargo xtask test` fails past it, so a feature that grows the widget has to say so
/// here. Lower it whenever the widget shrinks. (127,500: saved cards, measured one piece at a
/// time: the saved-card list 4.2 KB, the consent checkbox and hiding the form 2.3 KB, choosing,
/// attempts and the customer-session call 4.8 KB; the wallet's error codes 0.4 KB. 129,500: a
/// saved card's security code typed again when the merchant requires it, 2.0 KB: its field,
/// encrypting it and keeping it with the attempt. 128,700: the widget compares the error codes
/// it handles by their wire names, made at compile time, instead of decoding every code of the
/// API, -0.9 KB; new codes of the API no longer grow it. 128,760: a payment the merchant's
/// fraud rules block, told to a Korean customer in Korean, and the decline code it carries,
/// +114 B. 132,060: a checkout in the customer's currency shows the merchant's amount beside
/// the total and tells screen readers the rate, markup and expiry in the locale's format
/// (`Intl` number and time formatting, the conversion read from the session, both languages'
/// sentences), +3.2 KB; reading only the four fields it shows instead of the API's whole
/// object saved 0.5 KB of that. 150,260: paying from a bank account: the method picker (a
/// radio group, the last choice remembered), the bank form, the waiting screen (polling, the
/// return page's message, "cancel and pay another way"), resuming a payment after the page
/// came back from the bank, and their words in both languages, +25.7 KB as first written, of
/// which 7.4 KB were won back by replacing Leptos `Action`s (the card form's and the
/// challenge's too) with plain tasks and a pending flag: +18.2 KB. The bank list itself is
/// fetched only when the customer chooses a bank; splitting the bank screens' code into a
/// lazily loaded chunk needs Leptos's `#[lazy]` with `wasm-split`, which Trunk does not run.
/// 154,500: paying from the Till wallet, alone or with a card for the rest: the balance line,
/// the split sentence, the wallet's attempt and Pay button inside the card form, the receipt's
/// wallet row and their words in both languages, +4.2 KB; a separate wallet form of its own
/// first cost +6.6 KB.
/// 146,600: Leptos's `erase_components` (each component returns a type-erased view), −7.9 KB
/// with the locale warm-up and start-up marks it came with.
/// 146,700: a merchant's `locale` read as the language tag it means (`ko_KR`) or ignored, never
/// thrown on by `Intl`: +0.14 KB.
/// 127,800: the API's answers, the saved attempt and the appearance read field by field from
/// the browser's parsed object instead of through serde's derived deserializers, −18.9 KB.
/// 124,450: what the widget writes set field by field into a browser object, the JWE header
/// and base64url through the browser's `JSON` and `btoa`, `fetch` called directly instead of
/// through gloo-net, −3.4 KB.)
/// 125,450: the checkout cut at doors (`frontend/src/lazy.rs`): the bank's, the wallet's and
/// paying's code in chunks fetched when first needed, the first download 124.4 → 103.3 KB;
/// a card payment fetches the pay chunk while the customer types, +1.0 KB in all (the chunks'
/// loader in the glue, the doors, a gzip stream per file).)
/// 125,750: "Try again" where the checkout could not reach the payment service (a webview has
/// no reload button): the screen's button, reading the session again, its words in both
/// languages: +0.7 KB in the first download, +0.3 KB in a card payment's downloads (a flag on
/// the one error screen instead of a screen of its own: +0.9 KB in the first download).
/// 116,750: the names the wasm and its glue know each other by shortened in both
/// (`xtask/src/glue_boundary.rs`: wasm-bindgen's hashed import names and the module name,
/// the exports the glue reads): −6.4 KB; one `when_loaded` for every door instead of one per
/// door, and the launch parameters read from `launch::current` instead of Leptos's context
/// (its lookups and provides per type): −2.5 KB. The first download 104.1 → 95.1 KB.
/// 114,600: the edge's answers read by one non-generic function (`api::answer`) instead of one
/// copy per answer type: −2.1 KB (the first download −0.6 KB).
/// 113,000: the classes no code can make (wasm-streams' stream adapters, which Leptos links)
/// dropped from the glue and their exports from the wasm (`glue_boundary.rs`): −1.6 KB.
/// 108,800: the issuer's challenge in a `challenge` chunk of its own, fetched only for a
/// payment the issuer challenges, instead of in the `pay` chunk: −4.2 KB (the first download
/// +0.3 KB: the chunk's fetch and `integrity` in the loader).
/// 107,250: a customer's saved cards read and listed from a `saved_cards` chunk, fetched
/// alongside the session only when the widget has a customer session: −1.5 KB (the first
/// download −2.0 KB).
/// 103,700: the exports of the classes no code can make pointed at functions that only trap
/// before the split, so the split leaves out the wasm-streams adapters' code and their
/// closures' table slots (`glue_boundary::unroot_exports`): −3.9 KB (the first download
/// −3.8 KB).
/// 102,400: errors (the fields', the form's, the challenge's) and the chosen saved card held as
/// plain strings, empty for none, so no signal of `Option<String>` is linked: −1.0 KB (the
/// first download −1.0 KB).
/// 99,650: the card's brand beside its number passed as a string signal like the field's other
/// text, not as one of `Option<&str>` (which linked its own signal, memo and text-rendering
/// code), −2.4 KB; the form's notice, the session's id and the method picker's key no longer
/// kept in stored values of types of their own, −0.6 KB. Each generic Leptos type the widget
/// instantiates costs it that type's copy of the reactive code: keep to `String`, `bool` and
/// the few types already in use.
/// 99,250: the result told to the host where the App shows the receipt, not by an `Effect`
/// watching the stage (the widget's only one, which linked Leptos's effect scheduling): −0.4 KB.
pub const WIDGET_GZIP_BUDGET: usize = 99_250;

/// The most the checkout's first download may weigh, gzip -9: what the form waits for (the
/// chunks of its doors are fetched later). It sets the time to interactive. 104,150: "Try
/// again", as above. 95,150: the shorter names, one `when_loaded`, no context, as above.
/// 94,550: the answers read by one function, as above. 92,950: the unmade classes, as above.
/// 93,250: the challenge's chunk, as above. 91,200: the saved cards' chunk, as above.
/// 87,350: the unrooted exports, as above. 86,350: errors as plain strings, as above. 83,650:
/// the brand as a string, and no stored values of types of their own, as above. 83,250: no
/// `Effect`, as above.
pub const FIRST_DOWNLOAD_GZIP_BUDGET: usize = 83_250;

/// One file (or bundle) as downloaded.
pub struct Size {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

impl Size {
    pub fn of(name: impl Into<String>, bytes: &[u8]) -> Result<Size, String> {
        Ok(Size {
            name: name.into(),
            raw: bytes.len(),
            gzip: gzip(bytes)?,
            brotli: brotli(bytes)?,
        })
    }

    pub fn json(&self) -> Value {
        json!({ "name": self.name, "raw": self.raw, "gzip": self.gzip, "brotli": self.brotli })
    }
}

fn gzip(bytes: &[u8]) -> Result<usize, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).map_err(|e| e.to_string())?;
    Ok(encoder.finish().map_err(|e| e.to_string())?.len())
}

fn brotli(bytes: &[u8]) -> Result<usize, String> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out.len())
}

/// Files in `dist/` that no checkout downloads: the API's description, which the edge serves,
/// and the static files' headers (`frontend/_headers`).
const NOT_THE_WIDGET: [&str; 2] = ["openapi.json", "_headers"];

/// What a browser downloads for the checkout (`dist/`, its chunks included).
pub struct Widget {
    /// Every file, the chunks of each door included.
    pub files: Vec<Size>,
    /// What the form waits for: the page, its loader, CSS, glue and wasm, without the chunks.
    pub first: Size,
    /// What a card payment downloads: the first download and the `pay` door's chunks (fetched
    /// while the customer types).
    pub card_payment: Size,
    /// All files, the bank's and the wallet's chunks too.
    pub total: Size,
}

/// A chunk of a door, as `page_wasm` names it: the page's wasm is `{stem}_bg.wasm`, each chunk
/// `{stem}.NAME.wasm`.
fn is_chunk(name: &str) -> bool {
    name.ends_with(".wasm") && !name.ends_with("_bg.wasm")
}

/// One row for the files a browser downloads together.
pub fn sum(name: &str, files: &[&Size]) -> Size {
    Size {
        name: name.into(),
        raw: files.iter().map(|f| f.raw).sum(),
        gzip: files.iter().map(|f| f.gzip).sum(),
        brotli: files.iter().map(|f| f.brotli).sum(),
    }
}

pub fn widget() -> Result<Widget, String> {
    let dist = root().join("dist");
    let mut paths: Vec<_> = std::fs::read_dir(&dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .filter(|path| {
            path.file_name()
                .is_none_or(|name| !NOT_THE_WIDGET.iter().any(|n| name == *n))
        })
        .collect();
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        files.push(Size::of(name, &bytes)?);
    }
    let pay = crate::page_wasm::door_files(&dist, "index.html", "pay")?;
    let first: Vec<_> = files.iter().filter(|f| !is_chunk(&f.name)).collect();
    let paying: Vec<_> = files
        .iter()
        .filter(|f| !is_chunk(&f.name) || pay.contains(&f.name))
        .collect();
    Ok(Widget {
        first: sum("widget, first download", &first),
        card_payment: sum("widget, card payment (first + pay chunks)", &paying),
        total: sum("widget, every file", &files.iter().collect::<Vec<_>>()),
        files,
    })
}

/// The worker as uploaded: its wasm and its JS glue.
pub fn worker() -> Result<Vec<Size>, String> {
    let build = root().join("edge/build");
    ["index_bg.wasm", "index.js"]
        .into_iter()
        .map(|file| {
            let path = build.join(file);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Size::of(format!("worker {file}"), &bytes)
        })
        .collect()
}

/// Fails when the widget is heavier than [`WIDGET_GZIP_BUDGET`].
pub fn check_budget() -> Result<(), String> {
    let widget = widget()?;
    for (size, budget) in [
        (&widget.first, FIRST_DOWNLOAD_GZIP_BUDGET),
        (&widget.card_payment, WIDGET_GZIP_BUDGET),
    ] {
        eprintln!(
            "xtask: {} {} bytes gzip (budget {budget})",
            size.name, size.gzip
        );
        if size.gzip > budget {
            return Err(format!(
                "{} is {} bytes gzip, over its budget of {budget} (xtask/src/bench/sizes.rs): \
                 make it smaller, or raise the budget and say why",
                size.name, size.gzip
            ));
        }
    }
    Ok(())
}

pub fn print(rows: &[&Size]) {
    println!(
        "{:<56} {:>10} {:>10} {:>10}",
        "download", "raw", "gzip -9", "brotli 11"
    );
    for row in rows {
        println!(
            "{:<56} {:>10} {:>10} {:>10}",
            row.name, row.raw, row.gzip, row.brotli
        );
    }
}
