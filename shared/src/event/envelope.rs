//! The envelope every event travels in, on RabbitMQ, in Redis and in the stores.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalogue::{self, EventType};

/// One event as it appears on the wire:
///
/// ```json
/// { "eventId": "…", "eventType": "COMPLAINT_CREATED", "aggregateId": "…",
///   "aggregateType": "Complaint", "eventData": { … }, "metadata": { … } }
/// ```
///
/// `event_type` is a plain string, not an [`EventType`], so that an event of a type this build
/// does not know still decodes; use [`Envelope::known_type`] to act on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Unique per event; consumers dedupe on it.
    pub event_id: Uuid,
    #[schema(example = "COMPLAINT_CREATED")]
    pub event_type: String,
    pub aggregate_id: String,
    #[schema(example = "Complaint")]
    pub aggregate_type: String,
    /// The facts of the event; its shape depends on `eventType`.
    #[schema(value_type = Object)]
    pub event_data: Value,
    pub metadata: Metadata,
}

/// When, by whom and why an event happened, and which version of its aggregate it made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub timestamp: DateTime<Utc>,
    /// The aggregate's version after this event (1 for the first event of a stream).
    pub version: i64,
    /// Shared by every event of one user request or saga, end to end.
    pub correlation_id: String,
    /// The id of the event (or command) that caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The service that published the event, e.g. `complaint-service`.
    pub source: String,
    /// The version of this event type's `eventData` shape; absent means 1.
    #[serde(default = "first_schema_version")]
    pub schema_version: u32,
}

const fn first_schema_version() -> u32 {
    1
}

impl Envelope {
    /// A new event with a fresh, time-ordered (v7) id.
    pub fn new(
        event_type: EventType,
        aggregate_id: impl Into<String>,
        aggregate_type: impl Into<String>,
        event_data: Value,
        metadata: Metadata,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: event_type.as_str().to_owned(),
            aggregate_id: aggregate_id.into(),
            aggregate_type: aggregate_type.into(),
            event_data,
            metadata,
        }
    }

    /// The type, if this build knows it; `None` means "ignore this event".
    pub fn known_type(&self) -> Option<EventType> {
        self.event_type.parse().ok()
    }

    /// The exchange of a known type; an unknown type has none, so it cannot be published.
    pub fn exchange(&self) -> Option<&'static str> {
        self.known_type().map(EventType::exchange)
    }

    /// `COMPLAINT_CREATED` is routed as `complaint.created`, known type or not.
    pub fn routing_key(&self) -> String {
        catalogue::routing_key(&self.event_type)
    }
}

impl Metadata {
    /// Metadata for the first version of an aggregate, with no cause and no user.
    pub fn new(source: &str, correlation_id: String, now: DateTime<Utc>) -> Self {
        Self {
            timestamp: now,
            version: 1,
            correlation_id,
            causation_id: None,
            user_id: None,
            source: source.to_owned(),
            schema_version: first_schema_version(),
        }
    }

    /// Metadata for an event published in reaction to `cause` (a saga step): the same
    /// correlation id and user, and `cause`'s event id as the causation id, so the whole
    /// chain can be followed from any of its events.
    pub fn caused_by(cause: &Envelope, source: &str, now: DateTime<Utc>) -> Self {
        Self {
            causation_id: Some(cause.event_id.to_string()),
            user_id: cause.metadata.user_id.clone(),
            ..Self::new(source, cause.metadata.correlation_id.clone(), now)
        }
    }

    pub fn with_version(self, version: i64) -> Self {
        Self { version, ..self }
    }

    pub fn with_causation(self, causation_id: impl Into<String>) -> Self {
        Self {
            causation_id: Some(causation_id.into()),
            ..self
        }
    }

    pub fn with_user(self, user_id: impl Into<String>) -> Self {
        Self {
            user_id: Some(user_id.into()),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::exchanges;
    use serde_json::json;

    /// Decodes a literal wire document and encodes it again: nothing may be lost or added.
    fn round_trip(wire: Value) -> Envelope {
        let envelope: Envelope = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&envelope).unwrap(), wire);
        envelope
    }

    fn now() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_full_envelope_round_trips() {
        let envelope = round_trip(json!({
            "eventId": "0190a6f2-7c3e-7b1a-9a4e-3f1c2d5e6f70",
            "eventType": "COMPLAINT_CREATED",
            "aggregateId": "0190a6f2-7c3e-7b1a-9a4e-000000000001",
            "aggregateType": "Complaint",
            "eventData": {
                "title": "Broken invoice",
                "priority": "HIGH",
                "customer": { "id": "c-1", "name": "Ada", "email": "ada@example.com" }
            },
            "metadata": {
                "timestamp": "2024-05-01T10:00:00.123Z",
                "version": 1,
                "correlationId": "req-42",
                "causationId": "cmd-7",
                "userId": "agent-9",
                "source": "complaint-service",
                "schemaVersion": 1
            }
        }));
        assert_eq!(envelope.known_type(), Some(EventType::ComplaintCreated));
        assert_eq!(envelope.metadata.causation_id.as_deref(), Some("cmd-7"));
        assert_eq!(envelope.metadata.version, 1);
    }

    #[test]
    fn optional_metadata_is_omitted_when_absent() {
        let envelope = round_trip(json!({
            "eventId": "0190a6f2-7c3e-7b1a-9a4e-3f1c2d5e6f71",
            "eventType": "NOTIFICATION_SENT",
            "aggregateId": "n-1",
            "aggregateType": "Notification",
            "eventData": {},
            "metadata": {
                "timestamp": "2024-05-01T10:00:00Z",
                "version": 3,
                "correlationId": "req-42",
                "source": "notification-service",
                "schemaVersion": 2
            }
        }));
        assert_eq!(envelope.metadata.causation_id, None);
        assert_eq!(envelope.metadata.user_id, None);
        assert_eq!(envelope.metadata.schema_version, 2);
    }

    #[test]
    fn a_missing_schema_version_means_one() {
        let envelope: Envelope = serde_json::from_value(json!({
            "eventId": "0190a6f2-7c3e-7b1a-9a4e-3f1c2d5e6f72",
            "eventType": "SAGA_STARTED",
            "aggregateId": "s-1",
            "aggregateType": "Saga",
            "eventData": null,
            "metadata": {
                "timestamp": "2024-05-01T10:00:00Z",
                "version": 1,
                "correlationId": "c",
                "source": "complaint-service"
            }
        }))
        .unwrap();
        assert_eq!(envelope.metadata.schema_version, 1);
    }

    #[test]
    fn an_unknown_event_type_still_decodes_and_is_ignorable() {
        let envelope = round_trip(json!({
            "eventId": "0190a6f2-7c3e-7b1a-9a4e-3f1c2d5e6f73",
            "eventType": "COMPLAINT_ARCHIVED",
            "aggregateId": "x",
            "aggregateType": "Complaint",
            "eventData": { "archivedBy": "robot" },
            "metadata": {
                "timestamp": "2030-01-01T00:00:00Z",
                "version": 12,
                "correlationId": "c",
                "source": "complaint-service-v2",
                "schemaVersion": 1
            }
        }));
        assert_eq!(envelope.known_type(), None);
        assert_eq!(envelope.exchange(), None);
        assert_eq!(envelope.routing_key(), "complaint.archived");
    }

    #[test]
    fn a_new_envelope_is_routed_by_its_type() {
        let metadata = Metadata::new("complaint-service", "req-1".into(), now());
        let envelope = Envelope::new(
            EventType::ComplaintPriorityChanged,
            "c-1",
            "Complaint",
            json!({}),
            metadata,
        );
        assert_eq!(envelope.event_type, "COMPLAINT_PRIORITY_CHANGED");
        assert_eq!(envelope.routing_key(), "complaint.priority.changed");
        assert_eq!(envelope.exchange(), Some(exchanges::COMPLAINTS));
        assert_eq!(envelope.event_id.get_version_num(), 7);
        let other = Envelope::new(
            EventType::ComplaintPriorityChanged,
            "c-1",
            "Complaint",
            json!({}),
            envelope.metadata.clone(),
        );
        assert_ne!(envelope.event_id, other.event_id);
    }

    #[test]
    fn metadata_builders_set_what_they_say() {
        let metadata = Metadata::new("audit-service", "corr".into(), now())
            .with_version(4)
            .with_causation("cause")
            .with_user("u-1");
        assert_eq!(metadata.version, 4);
        assert_eq!(metadata.causation_id.as_deref(), Some("cause"));
        assert_eq!(metadata.user_id.as_deref(), Some("u-1"));
        assert_eq!(metadata.source, "audit-service");
        assert_eq!(metadata.schema_version, 1);
        assert_eq!(metadata.timestamp, now());
    }

    #[test]
    fn a_follow_up_keeps_the_correlation_and_points_at_its_cause() {
        let cause = Envelope::new(
            EventType::ComplaintAssigned,
            "c-1",
            "Complaint",
            json!({}),
            Metadata::new("complaint-service", "req-9".into(), now())
                .with_version(2)
                .with_user("agent-1"),
        );
        let later = now() + chrono::TimeDelta::seconds(5);
        let follow_up = Metadata::caused_by(&cause, "notification-service", later);
        assert_eq!(follow_up.correlation_id, "req-9");
        assert_eq!(follow_up.causation_id, Some(cause.event_id.to_string()));
        assert_eq!(follow_up.user_id.as_deref(), Some("agent-1"));
        assert_eq!(follow_up.source, "notification-service");
        assert_eq!(follow_up.timestamp, later);
        assert_eq!(follow_up.version, 1);
    }
}
