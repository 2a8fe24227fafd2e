//! An audit entry: what the trail keeps about one event, and how it is made from the envelope.

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use shared::event::Envelope;
use uuid::Uuid;

/// Everything stored about an event except the hashes: exactly what `content_hash` covers.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryContent {
    /// The entry's place in the chain.
    pub sequence: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// `metadata.version`.
    pub aggregate_version: i64,
    /// `metadata.userId`: who did it, if a user did.
    pub actor: Option<String>,
    /// `metadata.source`: the service that published the event.
    pub service: String,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    /// `metadata.timestamp`, to the microsecond (PostgreSQL's precision).
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// `eventData`.
    pub payload: Value,
}

/// An entry as stored: its content and the two hashes written with it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub content: EntryContent,
    /// The [`crate::chain::HashScheme`] the content hash was computed with, as stored.
    pub hash_scheme: i16,
    pub content_hash: Vec<u8>,
    pub chain_hash: Vec<u8>,
}

impl EntryContent {
    /// The entry for `envelope`, placed at `sequence` and recorded at `recorded_at`.
    /// Timestamps are cut to microseconds here, so what is hashed is what PostgreSQL keeps.
    pub fn from_envelope(envelope: &Envelope, sequence: i64, recorded_at: DateTime<Utc>) -> Self {
        let metadata = &envelope.metadata;
        Self {
            sequence,
            event_id: envelope.event_id,
            event_type: envelope.event_type.clone(),
            aggregate_type: envelope.aggregate_type.clone(),
            aggregate_id: envelope.aggregate_id.clone(),
            aggregate_version: metadata.version,
            actor: metadata.user_id.clone(),
            service: metadata.source.clone(),
            correlation_id: metadata.correlation_id.clone(),
            causation_id: metadata.causation_id.clone(),
            occurred_at: to_micros(metadata.timestamp),
            recorded_at: to_micros(recorded_at),
            payload: envelope.event_data.clone(),
        }
    }
}

/// `at` without its nanoseconds, the precision of a `TIMESTAMPTZ`.
pub fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::event::{EventType, Metadata};

    #[test]
    fn an_entry_takes_its_fields_from_the_envelope_and_metadata() {
        let at: DateTime<Utc> = "2024-05-01T10:00:00.123456789Z".parse().unwrap();
        let envelope = Envelope::new(
            EventType::ComplaintAssigned,
            "c-1",
            "Complaint",
            json!({ "agentId": "agent-7" }),
            Metadata::new("complaint-service", "req-1".into(), at)
                .with_version(2)
                .with_user("user-3")
                .with_causation("cmd-9"),
        );
        let entry = EntryContent::from_envelope(&envelope, 42, at);
        assert_eq!(entry.sequence, 42);
        assert_eq!(entry.event_id, envelope.event_id);
        assert_eq!(entry.event_type, "COMPLAINT_ASSIGNED");
        assert_eq!(entry.aggregate_id, "c-1");
        assert_eq!(entry.aggregate_version, 2);
        assert_eq!(entry.actor.as_deref(), Some("user-3"));
        assert_eq!(entry.service, "complaint-service");
        assert_eq!(entry.correlation_id, "req-1");
        assert_eq!(entry.causation_id.as_deref(), Some("cmd-9"));
        assert_eq!(entry.payload, json!({ "agentId": "agent-7" }));
        assert_eq!(
            entry.occurred_at,
            "2024-05-01T10:00:00.123456Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
        );
    }
}
