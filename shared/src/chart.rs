//! The geometry of the dashboard's charts, in whole SVG user units: bars scaled to a round axis
//! maximum, with the axis' ticks. The dashboard draws them; the arithmetic is tested here.

/// One bar: `value` drawn from `(x, y)` with `width` and `height`, bottom-aligned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// A horizontal axis line with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub value: i64,
    pub y: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    pub width: i64,
    pub height: i64,
    /// The value at the top of the plot.
    pub axis_max: i64,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
}

/// Space left of the plot for tick labels, and below it for bar labels.
pub const LEFT_MARGIN: i64 = 56;
pub const BOTTOM_MARGIN: i64 = 24;
const TOP_MARGIN: i64 = 8;
const TICKS: i64 = 4;

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (at least 1), so ticks fall on round values.
pub fn round_axis_max(max: i64) -> i64 {
    let max = max.max(1);
    let mut magnitude: i64 = 1;
    loop {
        for step in [1i64, 2, 5] {
            let candidate = step.saturating_mul(magnitude);
            if candidate >= max {
                return candidate;
            }
        }
        if magnitude > i64::MAX / 10 {
            return i64::MAX;
        }
        magnitude *= 10;
    }
}

/// Vertical bars for `points` (negative values drawn as zero) in a `width` × `height` box.
/// `fixed_max` pins the axis (a rate's 100 %); otherwise it is rounded up from the data.
pub fn bar_chart(
    points: &[(String, i64)],
    width: i64,
    height: i64,
    fixed_max: Option<i64>,
) -> BarChart {
    let data_max = points.iter().map(|(_, v)| *v).max().unwrap_or(0);
    let axis_max = fixed_max.unwrap_or_else(|| round_axis_max(data_max)).max(1);
    let plot_height = (height - TOP_MARGIN - BOTTOM_MARGIN).max(1);
    let plot_width = (width - LEFT_MARGIN).max(1);
    let count = i64::try_from(points.len()).unwrap_or(i64::MAX).max(1);
    let slot = plot_width / count;
    let bar_width = (slot * 3 / 4).max(1);
    let scale = |value: i64| -> i64 {
        let clamped = i128::from(value.clamp(0, axis_max));
        let scaled = clamped * i128::from(plot_height) / i128::from(axis_max);
        i64::try_from(scaled).unwrap_or(plot_height)
    };
    let baseline = TOP_MARGIN + plot_height;
    let bars = points
        .iter()
        .zip(0i64..)
        .map(|((label, value), index)| {
            let bar_height = scale(*value);
            Bar {
                label: label.clone(),
                value: *value,
                x: LEFT_MARGIN + index * slot + (slot - bar_width) / 2,
                y: baseline - bar_height,
                width: bar_width,
                height: bar_height,
            }
        })
        .collect();
    let ticks = (0..=TICKS)
        .map(|i| {
            let value = axis_max / TICKS * i;
            Tick {
                value,
                y: baseline - scale(value),
            }
        })
        .collect();
    BarChart {
        width,
        height,
        axis_max,
        bars,
        ticks,
    }
}

/// Horizontal bars for ranked counts (decline reasons): the longest fills `width`.
pub fn ranked_bars(points: &[(String, i64)], width: i64, row_height: i64) -> Vec<Bar> {
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    points
        .iter()
        .zip(0i64..)
        .map(|((label, value), index)| {
            let length = i128::from((*value).clamp(0, max)) * i128::from(width) / i128::from(max);
            Bar {
                label: label.clone(),
                value: *value,
                x: 0,
                y: index * row_height,
                width: i64::try_from(length).unwrap_or(width),
                height: row_height * 2 / 3,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[i64]) -> Vec<(String, i64)> {
        values.iter().map(|v| (format!("d{v}"), *v)).collect()
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(round_axis_max(0), 1);
        assert_eq!(round_axis_max(1), 1);
        assert_eq!(round_axis_max(3), 5);
        assert_eq!(round_axis_max(7), 10);
        assert_eq!(round_axis_max(1_234), 2_000);
        assert_eq!(round_axis_max(250_000), 500_000);
        assert_eq!(round_axis_max(i64::MAX), i64::MAX);
    }

    #[test]
    fn bars_are_proportional_and_bottom_aligned() {
        let chart = bar_chart(&points(&[0, 500, 1_000]), 356, 232, None);
        assert_eq!(chart.axis_max, 1_000);
        let plot = 232 - 8 - 24;
        let heights: Vec<i64> = chart.bars.iter().map(|b| b.height).collect();
        assert_eq!(heights, vec![0, plot / 2, plot]);
        for bar in &chart.bars {
            assert_eq!(bar.y + bar.height, 8 + plot, "{bar:?}");
            assert!(bar.x >= LEFT_MARGIN && bar.x + bar.width <= 356);
        }
        assert!(chart.bars.windows(2).all(|w| w[0].x < w[1].x));
        assert_eq!(chart.ticks.first().unwrap().value, 0);
        assert_eq!(chart.ticks.last().unwrap().value, 1_000);
        assert_eq!(chart.ticks.last().unwrap().y, 8);
    }

    #[test]
    fn a_fixed_axis_caps_bars_and_odd_input_stays_in_the_box() {
        let chart = bar_chart(&points(&[10_000, 12_000, -5]), 300, 200, Some(10_000));
        let full = 200 - 8 - 24;
        assert_eq!(chart.bars[0].height, full);
        assert_eq!(chart.bars[1].height, full, "clamped to the axis");
        assert_eq!(chart.bars[2].height, 0, "negative drawn as zero");
        let empty = bar_chart(&[], 10, 10, None);
        assert!(empty.bars.is_empty());
        let huge = bar_chart(&points(&[i64::MAX, 1]), 300, 200, None);
        assert!(huge.bars.iter().all(|b| b.height >= 0 && b.height <= full));
    }

    #[test]
    fn ranked_bars_fill_the_width_for_the_largest() {
        let bars = ranked_bars(&points(&[8, 2, 4]), 200, 24);
        let widths: Vec<i64> = bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, vec![200, 50, 100]);
        assert_eq!(bars[2].y, 48);
    }
}
