//! The service's own metrics, in one place; labels are bounded (channel, step, kind).

use crate::{
    model::{Channel, Step},
    retry::FailureKind,
};
use std::time::Duration;

pub fn sent(channel: Channel, step: Step) {
    metrics::counter!("notifications_sent_total", "channel" => channel.as_str(), "step" => step.as_str())
        .increment(1);
}

pub fn failed(channel: Channel, kind: FailureKind) {
    metrics::counter!("notifications_failed_total", "channel" => channel.as_str(), "reason_kind" => kind.as_str())
        .increment(1);
}

pub fn retried(channel: Channel) {
    metrics::counter!("notifications_retried_total", "channel" => channel.as_str()).increment(1);
}

/// One delivery attempt, whatever its outcome (`sent`, `retry`, `failed`).
pub fn attempt(channel: Channel, outcome: &'static str, took: Duration) {
    metrics::histogram!("notification_delivery_duration_seconds", "channel" => channel.as_str(), "outcome" => outcome)
        .record(took.as_secs_f64());
}

pub fn pending(count: i64) {
    metrics::gauge!("notifications_pending").set(count as f64);
}

pub fn compensated(step: Step) {
    metrics::counter!("notification_compensations_total", "step" => step.as_str()).increment(1);
}

/// A delivery held back because the mail server's circuit is open.
pub fn held() {
    metrics::counter!("notifications_held_total").increment(1);
}

/// Shows the held counter from the start, at zero.
pub fn none_held_yet() {
    metrics::counter!("notifications_held_total").increment(0);
}
