//! The merchant's `appearance` embed option, parsed and sanitized for the widget's CSS.
//!
//! Invariants: nothing panics; every kept value matches its strict shape (checked here
//! independently of the parser) and so can never carry CSS syntax; sanitizing is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_core::appearance::Appearance;

/// As the widget reads the option: parsed (nothing when it is not an appearance), then sanitized.
fn from_json(text: &str) -> Appearance {
    serde_json::from_str::<Appearance>(text)
        .unwrap_or_default()
        .validated()
}

/// `#` and 3, 4, 6 or 8 hex digits.
fn hex_color(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.first() == Some(&b'#')
        && [4, 5, 7, 9].contains(&bytes.len())
        && bytes[1..].iter().all(u8::is_ascii_hexdigit)
}

/// One or two digits then `px`.
fn radius(value: &str) -> bool {
    let bytes = value.as_bytes();
    (3..=4).contains(&bytes.len())
        && bytes.ends_with(b"px")
        && bytes[..bytes.len() - 2].iter().all(u8::is_ascii_digit)
}

/// 1 to 100 of: letters, digits, space, comma, hyphen, underscore, quotes.
fn font_family(value: &str) -> bool {
    (1..=100).contains(&value.len())
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b' ' | b',' | b'-' | b'_' | b'\'' | b'"')
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let appearance = from_json(text);
    let colors = [
        &appearance.color_primary,
        &appearance.color_text,
        &appearance.color_background,
        &appearance.color_danger,
    ];
    for color in colors.into_iter().flatten() {
        assert!(hex_color(color), "kept color {color:?}");
    }
    if let Some(font) = &appearance.font_family {
        assert!(font_family(font), "kept font {font:?}");
    }
    if let Some(r) = &appearance.border_radius {
        assert!(radius(r), "kept radius {r:?}");
    }
    for (name, value) in appearance.css_variables() {
        assert!(name.starts_with("--"));
        assert!(
            !value.contains([';', '{', '}', '(', ')', '<', '>', '\\', ':', '/', '\n']),
            "{name}: {value:?}"
        );
    }
    let again = serde_json::to_string(&appearance).expect("an appearance serializes");
    assert_eq!(from_json(&again), appearance, "idempotent");
});
