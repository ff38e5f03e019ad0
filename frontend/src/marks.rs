//! User Timing marks at the widget's start-up milestones, for `cargo xtask bench` (and the
//! browser's performance panel) to show where the time to interactive goes.

/// Marks `name` (a `till:` name) on the page's performance timeline.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}
