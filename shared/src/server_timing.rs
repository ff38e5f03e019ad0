//! The `Server-Timing` header (W3C Server Timing): the steps a request waited on, each with its
//! duration in milliseconds, as `reads;dur=12, gateway;dur=4`. The edge writes it on the answers
//! of the calls a customer's press of Pay makes; the benchmark reads it to show where their time
//! goes.

/// The header's value for `steps` (names are fixed tokens the edge chooses); `None` when the
/// request marked no step.
pub fn header(steps: &[(&str, f64)]) -> Option<String> {
    if steps.is_empty() {
        return None;
    }
    let metrics: Vec<String> = steps
        .iter()
        .map(|(name, millis)| format!("{name};dur={millis}"))
        .collect();
    Some(metrics.join(", "))
}

/// The named durations in a `Server-Timing` value, in order; a metric without a readable
/// `dur` is left out.
pub fn parse(value: &str) -> Vec<(String, f64)> {
    value
        .split(',')
        .filter_map(|metric| {
            let mut parts = metric.split(';').map(str::trim);
            let name = parts.next().filter(|name| !name.is_empty())?;
            let millis = parts
                .find_map(|param| param.strip_prefix("dur="))?
                .trim_matches('"')
                .parse::<f64>()
                .ok()
                .filter(|millis| millis.is_finite())?;
            Some((name.to_string(), millis))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_written_in_order_and_read_back() {
        let value = header(&[("reads", 12.0), ("gateway", 3.5)]).unwrap();
        assert_eq!(value, "reads;dur=12, gateway;dur=3.5");
        assert_eq!(
            parse(&value),
            vec![("reads".to_string(), 12.0), ("gateway".to_string(), 3.5)]
        );
    }

    #[test]
    fn no_steps_no_header() {
        assert_eq!(header(&[]), None);
    }

    #[test]
    fn other_servers_metrics_are_read_and_unreadable_ones_skipped() {
        let value =
            r#"cfExtPri, miss;desc="cache", db;dur="53.2", app;desc=x;dur=7, ;dur=1, bad;dur=NaN"#;
        assert_eq!(
            parse(value),
            vec![("db".to_string(), 53.2), ("app".to_string(), 7.0)]
        );
    }
}
