//! Reading an envelope's `eventData` as the typed payload of its event type: upcast to the
//! latest schema version, then decoded by serde. A payload that does not decode is malformed,
//! a permanent failure (the consumer dead-letters it with [`MalformedPayload`]'s message,
//! which names the field at fault), never read as defaults.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use super::{
    upcast::{self, UpcastError},
    Envelope, EventType,
};

/// `eventData` that is not a payload of its type, or of a schema version this build does not
/// know.
#[derive(Debug, thiserror::Error)]
pub enum MalformedPayload {
    /// The error names the field: `step: unknown variant …`, or `missing field \`reason\``.
    #[error("malformed {event_type} data: {reason}")]
    Invalid {
        event_type: EventType,
        reason: String,
    },
    #[error(transparent)]
    Version(#[from] UpcastError),
}

impl Envelope {
    /// The payload of this envelope, which is of `event_type`, as `T`.
    pub fn payload<T: DeserializeOwned>(
        &self,
        event_type: EventType,
    ) -> Result<T, MalformedPayload> {
        let data = upcast::upcast(event_type, self.metadata.schema_version, &self.event_data)?;
        serde_path_to_error::deserialize(data.as_ref()).map_err(|error| MalformedPayload::Invalid {
            event_type,
            reason: error.to_string(),
        })
    }
}

/// The `eventData` of a typed payload. Payloads are plain structs of strings, numbers, ids
/// and timestamps with string keys, so encoding cannot fail (as `serde_json::json!` assumes).
pub fn to_data(payload: &impl Serialize) -> Value {
    serde_json::to_value(payload).unwrap_or_else(|error| {
        // Unreachable for the payload types; should one ever fail, say so in the event
        // rather than publish an empty one.
        serde_json::json!({ "encodingError": error.to_string() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Metadata;
    use chrono::Utc;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // read only by serde here
    struct Data {
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn envelope(data: serde_json::Value) -> Envelope {
        Envelope::new(
            EventType::NotificationSent,
            "n-1",
            "Notification",
            data,
            Metadata::new("test", "corr".into(), Utc::now()),
        )
    }

    #[test]
    fn a_payload_that_does_not_decode_is_refused_naming_the_field() {
        let wrong = envelope(json!({ "inner": { "count": "three" } }));
        let error = wrong
            .payload::<Data>(EventType::NotificationSent)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("malformed NOTIFICATION_SENT data: inner.count: invalid type"),
            "{error}"
        );
        let missing = envelope(json!({}));
        let error = missing
            .payload::<Data>(EventType::NotificationSent)
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing field `inner`"), "{error}");
    }

    #[test]
    fn a_schema_version_this_build_does_not_know_is_refused() {
        let mut newer = envelope(json!({ "inner": { "count": 3 } }));
        newer.metadata.schema_version = 9;
        assert!(matches!(
            newer.payload::<Data>(EventType::NotificationSent),
            Err(MalformedPayload::Version(_))
        ));
        newer.metadata.schema_version = 1;
        assert!(newer.payload::<Data>(EventType::NotificationSent).is_ok());
    }
}
