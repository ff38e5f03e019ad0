//! Merchant styling for the widget. Every value is checked against a strict shape, so a merchant
//! (or anyone who can edit the embed options) can change colours, font and corner radius, but can
//! never inject CSS or script.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Appearance {
    #[serde(default)]
    pub color_primary: Option<String>,
    #[serde(default)]
    pub color_text: Option<String>,
    #[serde(default)]
    pub color_background: Option<String>,
    #[serde(default)]
    pub color_danger: Option<String>,
    #[serde(default)]
    pub font_family: Option<String>,
    #[serde(default)]
    pub border_radius: Option<String>,
}

fn is_hex_color(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| {
        matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn is_radius(value: &str) -> bool {
    value
        .strip_suffix("px")
        .is_some_and(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Font family lists like `Inter, "Helvetica Neue", sans-serif`: names, spaces, commas, quotes.
fn is_font_family(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ,-_'\"".contains(&b))
}

impl Appearance {
    /// What may be applied of the embed option: malformed values are dropped, never applied.
    /// (Unknown keys are ignored when it is parsed; a value of the wrong type fails the parse.)
    pub fn validated(self) -> Appearance {
        let keep = |value: Option<String>, valid: fn(&str) -> bool| value.filter(|v| valid(v));
        Appearance {
            color_primary: keep(self.color_primary, is_hex_color),
            color_text: keep(self.color_text, is_hex_color),
            color_background: keep(self.color_background, is_hex_color),
            color_danger: keep(self.color_danger, is_hex_color),
            font_family: keep(self.font_family, is_font_family),
            border_radius: keep(self.border_radius, is_radius),
        }
    }

    /// CSS custom properties to set on the widget's root, as (name, value).
    pub fn css_variables(&self) -> Vec<(&'static str, &str)> {
        [
            ("--accent", &self.color_primary),
            ("--text", &self.color_text),
            ("--bg", &self.color_background),
            ("--error", &self.color_danger),
            ("--font", &self.font_family),
            ("--radius", &self.border_radius),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the widget reads the embed option: parsed (or nothing), then validated.
    fn from_json(text: &str) -> Appearance {
        serde_json::from_str::<Appearance>(text)
            .unwrap_or_default()
            .validated()
    }

    #[test]
    fn valid_values_are_kept() {
        let a = from_json(
            r##"{"colorPrimary":"#0a7","colorText":"#111111","fontFamily":"Inter, \"Helvetica Neue\", sans-serif","borderRadius":"12px"}"##,
        );
        assert_eq!(
            a.css_variables(),
            vec![
                ("--accent", "#0a7"),
                ("--text", "#111111"),
                ("--font", "Inter, \"Helvetica Neue\", sans-serif"),
                ("--radius", "12px"),
            ]
        );
    }

    #[test]
    fn injection_attempts_are_dropped() {
        let a = from_json(
            r##"{"colorPrimary":"red;} body{display:none","fontFamily":"x;background:url(https://evil)","borderRadius":"1px;x","colorText":"#12345g"}"##,
        );
        assert!(a.css_variables().is_empty());
        assert_eq!(from_json("not json"), Appearance::default());
        assert_eq!(from_json(r#"{"colorPrimary": 5}"#), Appearance::default());
    }
}
