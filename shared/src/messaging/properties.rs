//! The AMQP side of an event: properties from the envelope (DESIGN.md, "Event envelope"),
//! and the headers that carry a message's retry count and failure reason.

use crate::event::Envelope;
use lapin::{
    types::{AMQPValue, FieldTable, LongString, ShortString},
    BasicProperties,
};

/// Delivery attempts already failed (absent on the first delivery).
pub const RETRY_COUNT: &str = "x-retry-count";
/// Why a message was dead-lettered, in words an operator can act on.
pub const FAILURE_REASON: &str = "x-failure-reason";
/// `undecodable`, `rejected` (a permanent failure) or `retries-exhausted`.
pub const FAILURE_KIND: &str = "x-failure-kind";
/// The work queue a dead-lettered message came from (to re-drive it there).
pub const ORIGINAL_QUEUE: &str = "x-original-queue";
pub const ORIGINAL_EXCHANGE: &str = "x-original-exchange";
pub const ORIGINAL_ROUTING_KEY: &str = "x-original-routing-key";
pub const DEAD_LETTERED_AT: &str = "x-dead-lettered-at";
/// What a partition exchange hashes (`topology.rs`): the complaint an event is about
/// ([`partition_key`]), so all of a complaint's events, and the replies about it, reach the
/// same partition in the order they were published.
pub const PARTITION_KEY: &str = "x-partition-key";
/// Set on events re-published by a replay.
pub const REPLAY: &str = "x-replay";

const PERSISTENT: u8 = 2;

/// Properties for publishing `envelope`: persistent JSON with its ids, type and source, and
/// its [`partition_key`] as a header for the partition exchanges.
pub fn for_envelope(envelope: &Envelope) -> BasicProperties {
    let timestamp = envelope.metadata.timestamp.timestamp().max(0) as u64;
    let mut headers = FieldTable::default();
    headers.insert(PARTITION_KEY.into(), text(partition_key(envelope)));
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(PERSISTENT)
        .with_message_id(envelope.event_id.to_string().into())
        .with_correlation_id(short(&envelope.metadata.correlation_id))
        .with_type(short(&envelope.event_type))
        .with_app_id(short(&envelope.metadata.source))
        .with_timestamp(timestamp)
        .with_headers(headers)
}

/// The complaint an event is about: the `complaintId` of its data when it has one (a
/// notification's outcome, an audit reply: their aggregate is the notification or the request,
/// but the saga keeper must see them after the complaint's event that caused them, so they go
/// to the complaint's partition), else its aggregate id. Every aggregate belongs to one
/// complaint, so each aggregate's events stay in one partition too.
pub fn partition_key(envelope: &Envelope) -> &str {
    envelope
        .event_data
        .get("complaintId")
        .and_then(|id| id.as_str())
        .unwrap_or(&envelope.aggregate_id)
}

/// Properties for the answer to a request (request/reply): JSON, transient (a reply whose
/// requester is gone is worth nothing), with the request's `correlation_id`.
pub fn for_reply(correlation_id: &str, source: &str, kind: &str) -> BasicProperties {
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_message_id(uuid::Uuid::now_v7().to_string().into())
        .with_correlation_id(short(correlation_id))
        .with_type(short(kind))
        .with_app_id(short(source))
}

/// A short string, cut to AMQP's 255-byte limit at a character boundary.
fn short(value: &str) -> ShortString {
    let mut end = value.len().min(255);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].into()
}

pub fn headers(properties: &BasicProperties) -> FieldTable {
    properties.headers().clone().unwrap_or_default()
}

pub fn retry_count(properties: &BasicProperties) -> u32 {
    match headers(properties).inner().get(RETRY_COUNT) {
        Some(value) => integer(value).map_or(0, |n| n.clamp(0, u32::MAX as i64) as u32),
        None => 0,
    }
}

pub fn header_str(properties: &BasicProperties, key: &str) -> Option<String> {
    match headers(properties).inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        other => integer(other).map(|n| n.to_string()),
    }
}

fn integer(value: &AMQPValue) -> Option<i64> {
    match value {
        AMQPValue::LongLongInt(n) => Some(*n),
        AMQPValue::LongInt(n) => Some(i64::from(*n)),
        AMQPValue::LongUInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortUInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortShortInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortShortUInt(n) => Some(i64::from(*n)),
        _ => None,
    }
}

/// The same properties with some headers set.
pub fn with_headers(
    properties: &BasicProperties,
    set: impl IntoIterator<Item = (&'static str, AMQPValue)>,
) -> BasicProperties {
    let mut table = headers(properties);
    for (key, value) in set {
        table.insert(key.into(), value);
    }
    properties.clone().with_headers(table)
}

pub fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

pub fn number(value: i64) -> AMQPValue {
    AMQPValue::LongLongInt(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_delivery_has_no_retries_and_headers_round_trip() {
        let plain = BasicProperties::default();
        assert_eq!(retry_count(&plain), 0);
        let retried = with_headers(
            &plain,
            [(RETRY_COUNT, number(3)), (FAILURE_REASON, text("db down"))],
        );
        assert_eq!(retry_count(&retried), 3);
        assert_eq!(
            header_str(&retried, FAILURE_REASON).as_deref(),
            Some("db down")
        );
    }

    #[test]
    fn a_reply_about_a_complaint_goes_to_the_complaints_partition() {
        let metadata = crate::event::Metadata::new("test", "corr".into(), chrono::Utc::now());
        let created = Envelope::new(
            crate::event::EventType::ComplaintCreated,
            "c-1",
            "Complaint",
            serde_json::json!({ "title": "t" }),
            metadata.clone(),
        );
        let sent = Envelope::new(
            crate::event::EventType::NotificationSent,
            "5b0c7a52-notification",
            "Notification",
            serde_json::json!({ "complaintId": "c-1" }),
            metadata,
        );
        assert_eq!(partition_key(&created), "c-1");
        assert_eq!(partition_key(&sent), "c-1");
        assert_eq!(
            header_str(&for_envelope(&sent), PARTITION_KEY).as_deref(),
            Some("c-1")
        );
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let long = "é".repeat(200);
        assert!(short(&long).as_str().len() <= 255);
    }
}
