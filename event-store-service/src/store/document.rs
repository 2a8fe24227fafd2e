//! One event as a MongoDB document, and back.
//!
//! ```text
//! { _id: ObjectId, position: 42,                      // global order (see append.rs)
//!   eventId: "…", eventType, aggregateId, aggregateType,
//!   streamId: "Complaint-…", version: 3,
//!   uniqueVersion: 3,                                  // only where versions are unique
//!   domainStream: "complaints-stream",                 // the Redis stream it is mirrored to
//!   correlationId, timestamp: Date, storedAt: Date,    // for queries
//!   timestampMs: 1714557600123,                        // `timestamp` as an integer, for ranges
//!   eventData: { … }, metadata: { … } }                // the envelope, exactly as received
//! ```
//!
//! Ids are strings (the stand-in cannot query UUID binaries). The query fields are copies of
//! envelope fields at the top level, where indexes can reach them. Time ranges compare
//! `timestampMs` (milliseconds since the epoch, indexed): both MongoDB and the stand-in answer
//! an integer range from the index, while the stand-in compares BSON dates row by row.
//! `timestamp` keeps the same instant as a BSON date for people reading the collection, and
//! `metadata.timestamp` the RFC 3339 text with its full precision (BSON dates stop at
//! milliseconds), so a replayed or folded envelope is the one that was published.

use crate::{
    error::{Error, Result},
    placement,
};
use chrono::{DateTime, Utc};
use mongodb::bson::DateTime as BsonDateTime;
use serde::{Deserialize, Serialize};
use shared::event::{Envelope, Metadata};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDocument {
    /// 0 until the appender numbers it.
    pub position: i64,
    pub event_id: String,
    pub event_type: String,
    pub aggregate_id: String,
    pub aggregate_type: String,
    pub stream_id: String,
    pub version: i64,
    /// `version`, present only for streams whose versions are unique (the partial unique index
    /// `(streamId, uniqueVersion)` covers only those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_version: Option<i64>,
    pub domain_stream: String,
    pub correlation_id: String,
    pub timestamp: BsonDateTime,
    /// `timestamp` in milliseconds since the epoch. Documents stored before the field existed
    /// read as 0 until the backfill at start (`EventStore::backfill_time_field`) sets it.
    #[serde(default)]
    pub timestamp_ms: i64,
    pub stored_at: BsonDateTime,
    pub event_data: serde_json::Value,
    pub metadata: Metadata,
}

impl EventDocument {
    /// The document for `envelope`, received at `now`, not yet numbered.
    pub fn new(envelope: &Envelope, now: DateTime<Utc>) -> Self {
        let stream_id = placement::stream_id(&envelope.aggregate_type, &envelope.aggregate_id);
        let unique_version = placement::has_unique_versions(&envelope.aggregate_type)
            .then_some(envelope.metadata.version);
        Self {
            position: 0,
            event_id: envelope.event_id.to_string(),
            event_type: envelope.event_type.clone(),
            aggregate_id: envelope.aggregate_id.clone(),
            aggregate_type: envelope.aggregate_type.clone(),
            stream_id,
            version: envelope.metadata.version,
            unique_version,
            domain_stream: placement::domain_stream(&envelope.event_type).to_owned(),
            correlation_id: envelope.metadata.correlation_id.clone(),
            timestamp: bson_date(envelope.metadata.timestamp),
            timestamp_ms: envelope.metadata.timestamp.timestamp_millis(),
            stored_at: bson_date(now),
            event_data: envelope.event_data.clone(),
            metadata: envelope.metadata.clone(),
        }
    }

    /// The envelope as it was published.
    pub fn envelope(&self) -> Result<Envelope> {
        let event_id = self
            .event_id
            .parse()
            .map_err(|_| Error::Corrupt(format!("eventId {:?} is not a UUID", self.event_id)))?;
        Ok(Envelope {
            event_id,
            event_type: self.event_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            aggregate_type: self.aggregate_type.clone(),
            event_data: self.event_data.clone(),
            metadata: self.metadata.clone(),
        })
    }

    pub fn stored_at(&self) -> DateTime<Utc> {
        chrono_date(self.stored_at)
    }
}

pub fn bson_date(at: DateTime<Utc>) -> BsonDateTime {
    BsonDateTime::from_millis(at.timestamp_millis())
}

pub fn chrono_date(at: BsonDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::event::EventType;

    fn envelope(aggregate_type: &str) -> Envelope {
        let at = "2024-05-01T10:00:00.123456789Z".parse().unwrap();
        Envelope::new(
            EventType::ComplaintCreated,
            "c-1",
            aggregate_type,
            json!({"title": "t", "n": 3, "x": 1.5, "list": [1, "a", null]}),
            Metadata::new("complaint-service", "corr".into(), at).with_version(2),
        )
    }

    #[test]
    fn a_document_keeps_the_envelope_exactly_even_through_bson() {
        let original = envelope("Complaint");
        let document = EventDocument::new(&original, Utc::now());
        let bson = mongodb::bson::to_document(&document).unwrap();
        let back: EventDocument = mongodb::bson::from_document(bson).unwrap();
        assert_eq!(back, document);
        assert_eq!(back.envelope().unwrap(), original);
    }

    #[test]
    fn query_fields_are_copied_to_the_top() {
        let document = EventDocument::new(&envelope("Complaint"), Utc::now());
        assert_eq!(document.stream_id, "Complaint-c-1");
        assert_eq!(document.unique_version, Some(2));
        assert_eq!(document.domain_stream, "complaints-stream");
        assert_eq!(document.correlation_id, "corr");
        assert_eq!(document.timestamp.timestamp_millis() % 1000, 123);
        assert_eq!(document.timestamp_ms, document.timestamp.timestamp_millis());
    }

    #[test]
    fn streams_without_unique_versions_carry_no_unique_version() {
        let document = EventDocument::new(&envelope("Saga"), Utc::now());
        assert_eq!(document.unique_version, None);
        let bson = mongodb::bson::to_document(&document).unwrap();
        assert!(!bson.contains_key("uniqueVersion"));
    }
}
