//! Events as the services of the suite would publish them, built one field at a time:
//! `event(EventType::NotificationSent, id, &correlation()).at(at(500)).build()`.

use super::unique;
use crate::event::{Envelope, EventType, Metadata};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

/// A fixed instant, so tests can place events in time.
pub fn t0() -> DateTime<Utc> {
    "2024-05-01T10:00:00Z".parse().expect("a timestamp")
}

/// `t0` plus `millis`.
pub fn at(millis: i64) -> DateTime<Utc> {
    t0() + TimeDelta::milliseconds(millis)
}

/// A correlation id no other test uses.
pub fn correlation() -> String {
    unique("corr-")
}

/// The aggregate type conventionally used with an event type.
fn aggregate_type(event_type: EventType) -> &'static str {
    match event_type.as_str().split('_').next() {
        Some("COMPLAINT") => "Complaint",
        Some("NOTIFICATION") => "Notification",
        Some("SAGA") => "Saga",
        Some("AUDIT") => "AuditCompensation",
        _ => "DeadLetterQueue",
    }
}

/// The service conventionally publishing an event type.
fn source(event_type: EventType) -> &'static str {
    match event_type.as_str().split('_').next() {
        Some("NOTIFICATION") => "notification-service",
        Some("AUDIT") => "audit-service",
        _ => "complaint-service",
    }
}

/// Builds events for the tests, one field at a time.
#[derive(Clone)]
pub struct EventBuilder {
    envelope: Envelope,
}

/// A new event of `event_type` about `aggregate_id`, in `correlation_id`, at `t0`.
pub fn event(event_type: EventType, aggregate_id: &str, correlation_id: &str) -> EventBuilder {
    EventBuilder {
        envelope: Envelope::new(
            event_type,
            aggregate_id,
            aggregate_type(event_type),
            json!({}),
            Metadata::new(source(event_type), correlation_id.to_owned(), t0()),
        ),
    }
}

impl EventBuilder {
    pub fn data(mut self, data: Value) -> Self {
        self.envelope.event_data = data;
        self
    }

    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.envelope.metadata.timestamp = at;
        self
    }

    pub fn by(mut self, user: &str) -> Self {
        self.envelope.metadata.user_id = Some(user.to_owned());
        self
    }

    pub fn published_by(mut self, source: &str) -> Self {
        self.envelope.metadata.source = source.to_owned();
        self
    }

    pub fn version(mut self, version: i64) -> Self {
        self.envelope.metadata.version = version;
        self
    }

    /// Caused by `cause` (its event id as causation id).
    pub fn caused_by(mut self, cause: &Envelope) -> Self {
        self.envelope.metadata.causation_id = Some(cause.event_id.to_string());
        self
    }

    pub fn caused_by_command(mut self, command_id: &str) -> Self {
        self.envelope.metadata.causation_id = Some(command_id.to_owned());
        self
    }

    pub fn build(self) -> Envelope {
        self.envelope
    }
}
