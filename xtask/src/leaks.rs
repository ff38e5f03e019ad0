//! After the end-to-end run: no test card number or CVC may appear in anything the edge, the
//! sandbox or ChromeDriver logged, nor in the local KV, D1 and Durable Object state on disk.

use std::path::{Path, PathBuf};

/// Every test card the tests type or send.
const TEST_PANS: [&str; 14] = [
    "4242424242424242",
    "4000000000000002",
    "4000000000009995",
    "4000000000000069",
    "4000002760003184",
    "4000000000003220",
    "4000008400001629",
    "4242424242424241",
    "5555555555554444",
    "378282246310005",
    "4512773400000019",
    "4512773412345675",
    "4512773476543215",
    "4512773424680242",
];

/// What would betray card data: each PAN plain and as grouped in the form, and CVCs as JSON.
fn needles() -> Vec<String> {
    let mut needles: Vec<String> = Vec::new();
    for pan in TEST_PANS {
        needles.push(pan.to_string());
        needles.push(till_core::card::format_number(pan));
    }
    for cvc in ["123", "1234", "314"] {
        needles.push(format!("\"cvc\":\"{cvc}\""));
        needles.push(format!("\"cvc\": \"{cvc}\""));
    }
    needles
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_none_or(|ext| ext != "png") {
            // Screenshots show the form as the customer saw it; everything else is searched.
            out.push(path);
        }
    }
}

pub fn assert_no_card_data(artifacts: &Path) -> Result<(), String> {
    let mut all = Vec::new();
    files(artifacts, &mut all);
    let needles = needles();
    let mut hits = Vec::new();
    let mut bytes_searched = 0;
    for path in &all {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        bytes_searched += bytes.len();
        for needle in &needles {
            if memchr::memmem::find(&bytes, needle.as_bytes()).is_some() {
                hits.push(format!("{} contains {needle}", path.display()));
            }
        }
    }
    eprintln!(
        "xtask: searched {} files ({bytes_searched} bytes) of logs and local state for card data: {} hits",
        all.len(),
        hits.len()
    );
    if hits.is_empty() {
        Ok(())
    } else {
        Err(format!("card data found:\n{}", hits.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_pan_in_a_log_and_ignores_clean_files() {
        let dir = std::env::temp_dir().join(format!("till-leaks-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("state")).unwrap();
        std::fs::write(
            dir.join("clean.log"),
            "payment pay_1 succeeded, card ending 4242",
        )
        .unwrap();
        assert!(assert_no_card_data(&dir).is_ok());
        std::fs::write(dir.join("state/kv.sqlite"), b"\x00\x01{\"cvc\":\"123\"}").unwrap();
        assert!(assert_no_card_data(&dir).is_err());
        std::fs::remove_file(dir.join("state/kv.sqlite")).unwrap();
        std::fs::write(dir.join("edge.log"), "number=4242 4242 4242 4242").unwrap();
        let error = assert_no_card_data(&dir).unwrap_err();
        assert!(error.contains("edge.log"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
