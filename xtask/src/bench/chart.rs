//! The bench report as a picture: downloads (gzip) and p50 latencies as horizontal bars, Till's
//! own bars in one colour, floors and competitors in another.

use serde_json::Value;
use std::fmt::Write;

const WIDTH: f64 = 880.0;
const LABEL: f64 = 330.0;
const BAR: f64 = 22.0;
const GAP: f64 = 10.0;

struct Bar {
    label: String,
    value: f64,
    unit: &'static str,
    ours: bool,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One titled group of bars, scaled to its largest value; returns the height it took.
fn group(svg: &mut String, top: f64, title: &str, bars: &[Bar]) -> f64 {
    let largest = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(1.0);
    let _ = write!(
        svg,
        r#"<text x="10" y="{}" font-size="16" font-weight="bold">{}</text>"#,
        top + 18.0,
        escape(title)
    );
    let mut y = top + 32.0;
    for bar in bars {
        let length = (WIDTH - LABEL - 120.0) * bar.value / largest;
        let colour = if bar.ours { "#1f6feb" } else { "#8b949e" };
        let _ = write!(
            svg,
            r#"<text x="10" y="{}" font-size="13">{}</text><rect x="{LABEL}" y="{y}" width="{length:.1}" height="{BAR}" fill="{colour}"/><text x="{}" y="{}" font-size="13">{:.1} {}</text>"#,
            y + 16.0,
            escape(&bar.label),
            LABEL + length + 6.0,
            y + 16.0,
            bar.value,
            bar.unit
        );
        y += BAR + GAP;
    }
    y - top + 10.0
}

pub fn svg(report: &Value) -> String {
    let kb = |value: &Value| value.as_f64().unwrap_or(0.0) / 1000.0;
    let mut downloads = vec![
        Bar {
            label: "Till widget, first download".into(),
            value: kb(&report["widget"]["first_download"]["gzip"]),
            unit: "KB",
            ours: true,
        },
        Bar {
            label: "Till widget, card payment".into(),
            value: kb(&report["widget"]["card_payment"]["gzip"]),
            unit: "KB",
            ours: true,
        },
    ];
    for anchor in report["anchors"].as_array().into_iter().flatten() {
        downloads.push(Bar {
            label: anchor["name"].as_str().unwrap_or("anchor").to_string(),
            value: kb(&anchor["gzip"]),
            unit: "KB",
            ours: false,
        });
    }
    let latency = &report["stack"]["latency"];
    let p50 = |key: &str| latency[key]["p50_ms"].as_f64().unwrap_or(0.0);
    let latencies = vec![
        Bar {
            label: "GET /v1/keys (storage-free floor)".into(),
            value: p50("floor_route"),
            unit: "ms",
            ours: false,
        },
        Bar {
            label: "sandbox authorization (gateway floor)".into(),
            value: p50("direct_gateway"),
            unit: "ms",
            ours: false,
        },
        Bar {
            label: "confirm".into(),
            value: p50("confirm"),
            unit: "ms",
            ours: true,
        },
        Bar {
            label: "confirm replay".into(),
            value: p50("replay"),
            unit: "ms",
            ours: true,
        },
        Bar {
            label: "checkout page to a frame ready at once (floor)".into(),
            value: report["stack"]["interactive_floor"]["p50_ms"]
                .as_f64()
                .unwrap_or(0.0),
            unit: "ms",
            ours: false,
        },
        Bar {
            label: "checkout page to widget ready".into(),
            value: report["stack"]["interactive"]["p50_ms"]
                .as_f64()
                .unwrap_or(0.0),
            unit: "ms",
            ours: true,
        },
    ];
    let mut body = String::new();
    let mut top = 10.0;
    top += group(&mut body, top, "Download, gzip -9", &downloads);
    top += group(
        &mut body,
        top,
        "Latency p50 (wrangler dev, loopback)",
        &latencies,
    );
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{top}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>{body}</svg>"#
    )
}
