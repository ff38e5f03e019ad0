//! Request bodies through `till_core::json::parse_strict`: serde_json, but duplicate member names
//! (at any depth) and deep nesting are refused.
//!
//! Invariants: nothing panics; what strict parsing accepts, serde_json reads the same way; what
//! serde_json refuses, strict parsing refuses; valid JSON is never called a syntax error; accepted
//! values nest at most 32 containers deep; adding a member that repeats an existing top-level
//! name is refused, naming that member.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use till_core::json::{parse_strict, JsonError};

/// Containers nested in `value` (a scalar is 0).
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let strict = parse_strict(data);
    let lenient = serde_json::from_slice::<Value>(data);
    match (&strict, &lenient) {
        (Ok(ours), Ok(theirs)) => {
            assert_eq!(ours, theirs);
            assert!(depth(ours) <= 32, "depth {}", depth(ours));
        }
        (Ok(ours), Err(e)) => panic!("strict accepted what serde_json refuses ({e}): {ours:?}"),
        (Err(JsonError::Syntax), Ok(_)) => panic!("valid JSON refused as a syntax error"),
        // Duplicates or depth; depth cannot be checked on `theirs`: with duplicate names the
        // deep value may be the one serde_json's "last one wins" dropped.
        (Err(_), _) => {}
    }

    // `{..., "k": 0}` with a name the object already has must be refused, naming it.
    if let Ok(Value::Object(map)) = &strict {
        let Some(key) = map.keys().next() else {
            return;
        };
        let text = std::str::from_utf8(data).expect("accepted JSON is UTF-8");
        let body = text.trim_end_matches([' ', '\t', '\n', '\r']);
        let Some(open) = body.strip_suffix('}') else {
            return;
        };
        let name = serde_json::to_string(key).expect("a string serializes");
        let repeated = format!("{open},{name}:0}}");
        assert_eq!(
            parse_strict(repeated.as_bytes()),
            Err(JsonError::DuplicateKey(key.clone())),
            "{repeated}"
        );
    }
});
