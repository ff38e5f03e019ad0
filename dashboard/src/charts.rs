//! Charts drawn as SVG by the app (no chart script): the geometry comes from
//! `till_core::chart`; each bar carries its value for assistive technology and tests.

use leptos::prelude::*;
use std::rc::Rc;
use till_core::chart::{bar_chart, ranked_bars, BOTTOM_MARGIN, LEFT_MARGIN};

const WIDTH: i64 = 640;
const HEIGHT: i64 = 240;

/// Vertical bars, one per point, with a labelled value axis. `describe` writes a value as the
/// person reads it (money, a percentage).
#[component]
pub fn BarChart(
    id: &'static str,
    title: &'static str,
    points: Vec<(String, i64)>,
    #[prop(optional)] fixed_max: Option<i64>,
    describe: Rc<dyn Fn(i64) -> String>,
) -> impl IntoView {
    let chart = bar_chart(&points, WIDTH, HEIGHT, fixed_max);
    let baseline = HEIGHT - BOTTOM_MARGIN;
    let ticks = chart
        .ticks
        .iter()
        .map(|tick| {
            view! {
                <line class="grid" x1=LEFT_MARGIN x2=WIDTH y1=tick.y y2=tick.y />
                <text class="tick" x=LEFT_MARGIN - 6 y=tick.y + 4 text-anchor="end">{describe(tick.value)}</text>
            }
        })
        .collect_view();
    let bars = chart
        .bars
        .iter()
        .map(|bar| {
            let words = format!("{}: {}", bar.label, describe(bar.value));
            view! {
                <g class="bar" data-label=bar.label.clone() data-value=bar.value>
                    <rect x=bar.x y=bar.y width=bar.width height=bar.height>
                        <title>{words}</title>
                    </rect>
                    <text class="label" x=bar.x + bar.width / 2 y=baseline + 16 text-anchor="middle">
                        {crate::format::short_day(&bar.label)}
                    </text>
                </g>
            }
        })
        .collect_view();
    let title_id = format!("{id}-title");
    view! {
        <figure class="chart" id=id>
            <figcaption id=title_id.clone()>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=title_id>
                {ticks}
                {bars}
            </svg>
        </figure>
    }
}

/// Ranked horizontal bars with their labels and counts (decline reasons).
#[component]
pub fn RankedBars(
    id: &'static str,
    title: &'static str,
    points: Vec<(String, i64)>,
) -> impl IntoView {
    const ROW: i64 = 28;
    const LABEL: i64 = 200;
    let rows = ranked_bars(&points, WIDTH - LABEL - 48, ROW);
    let height = (ROW * i64::try_from(rows.len()).unwrap_or(0)).max(ROW);
    let bars = rows
        .into_iter()
        .map(|bar| {
            view! {
                <g class="bar" data-label=bar.label.clone() data-value=bar.value>
                    <text class="label" x=0 y=bar.y + 14>{bar.label.clone()}</text>
                    <rect x=LABEL y=bar.y width=bar.width height=bar.height />
                    <text class="count" x=LABEL + bar.width + 6 y=bar.y + 14>{bar.value}</text>
                </g>
            }
        })
        .collect_view();
    let title_id = format!("{id}-title");
    view! {
        <figure class="chart" id=id>
            <figcaption id=title_id.clone()>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-labelledby=title_id>{bars}</svg>
        </figure>
    }
}
