//! One event as a Redis stream entry, and back.
//!
//! Fields: `envelope` (the event as JSON, exactly as published) plus flat copies a consumer
//! can filter on without parsing: `eventId`, `eventType`, `streamId`, and `position` (the
//! global position, which is also the entry id `<position>-0` in the domain streams) or
//! `replay` = `true` in a replay target.

use crate::{
    error::{Error, Result},
    store::EventDocument,
};
use serde::{Deserialize, Serialize};
use shared::event::Envelope;
use utoipa::ToSchema;

/// The fields of the entry for a stored event.
pub fn fields(event: &EventDocument, origin: Origin) -> Result<Vec<(&'static str, String)>> {
    let envelope =
        serde_json::to_string(&event.envelope()?).map_err(|e| Error::Corrupt(e.to_string()))?;
    let mut fields = vec![
        ("eventId", event.event_id.clone()),
        ("eventType", event.event_type.clone()),
        ("streamId", event.stream_id.clone()),
    ];
    match origin {
        Origin::Log => fields.push(("position", event.position.to_string())),
        Origin::Replay => fields.push(("replay", "true".to_owned())),
    }
    fields.push(("envelope", envelope));
    Ok(fields)
}

/// Why an entry is written: mirrored from the log, or re-published by a replay.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    Log,
    Replay,
}

/// An entry as a consumer receives it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The entry id, to acknowledge it with.
    #[schema(example = "42-0")]
    pub id: String,
    /// The global position of the event, for entries mirrored from the log.
    pub position: Option<i64>,
    /// True for entries written by a replay.
    pub replay: bool,
    /// The event; absent if the entry was not written by this service.
    pub envelope: Option<Envelope>,
}

impl From<&redis::streams::StreamId> for Entry {
    fn from(entry: &redis::streams::StreamId) -> Self {
        Self {
            id: entry.id.clone(),
            position: entry.get::<String>("position").and_then(|p| p.parse().ok()),
            replay: entry.get::<String>("replay").as_deref() == Some("true"),
            envelope: entry
                .get::<String>("envelope")
                .and_then(|json| serde_json::from_str(&json).ok()),
        }
    }
}
