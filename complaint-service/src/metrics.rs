//! The metrics of complaint-service, recorded in one place with bounded labels. Publishing
//! (`events_published_total`, `event_publishing_duration_seconds`) is recorded by the shared
//! publisher the outbox relay uses; HTTP request metrics by the shared router.

use chrono::{DateTime, Utc};
use std::time::Duration;

use crate::store::projection::Lag;

/// `command_executions_total{command,outcome}` and `command_duration_seconds{command}`.
pub fn command_executed(command: &'static str, outcome: &'static str, took: Duration) {
    metrics::counter!("command_executions_total", "command" => command, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("command_duration_seconds", "command" => command)
        .record(took.as_secs_f64());
}

/// `query_executions_total{query}`.
pub fn query_executed(query: &'static str) {
    metrics::counter!("query_executions_total", "query" => query).increment(1);
}

/// `projection_updates_total`: events applied to the read model.
pub fn projected(events: usize) {
    metrics::counter!("projection_updates_total").increment(events as u64);
}

/// An event the projector could not decode and skipped.
pub fn undecodable_event() {
    metrics::counter!("projection_undecodable_events_total").increment(1);
}

/// `projection_lag_events` (last position − checkpoint, and the pending events in commit
/// order) and `projection_lag_seconds` (age of the oldest pending event).
pub fn projection_lag(lag: &Lag, now: DateTime<Utc>) {
    let behind = (lag.last_position - lag.checkpoint.position).max(0);
    metrics::gauge!("projection_lag_positions").set(behind as f64);
    metrics::gauge!("projection_lag_events").set(lag.pending_events as f64);
    let seconds = lag.oldest_pending_at.map_or(0.0, |at| {
        (now - at).num_milliseconds().max(0) as f64 / 1000.0
    });
    metrics::gauge!("projection_lag_seconds").set(seconds);
}
