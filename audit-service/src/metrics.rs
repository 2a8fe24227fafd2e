//! The service's own metrics, recorded in one place. Labels are bounded: event types outside
//! the catalogue are counted as `OTHER`.

use chrono::{DateTime, Utc};
use shared::event::EventType;

/// One event newly recorded in the trail, `lag` after it happened.
pub fn recorded(event_type: &str, occurred_at: DateTime<Utc>, now: DateTime<Utc>) {
    let label = event_type
        .parse::<EventType>()
        .map_or("OTHER", EventType::as_str);
    metrics::counter!("audit_events_recorded_total", "event_type" => label).increment(1);
    let lag = (now - occurred_at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
    metrics::histogram!("audit_lag_seconds").record(lag.max(0.0));
    metrics::gauge!("audit_last_lag_seconds").set(lag.max(0.0));
}

/// Entries newly marked compensated.
pub fn compensated(entries: usize) {
    metrics::counter!("audit_entries_compensated_total").increment(entries as u64);
}

/// Outcome of one verification run: `valid`, `broken` or `error`.
pub fn verification(outcome: &'static str) {
    metrics::counter!("audit_verifications_total", "outcome" => outcome).increment(1);
    if outcome == "broken" {
        metrics::counter!("audit_verification_failures_total").increment(1);
    }
}
