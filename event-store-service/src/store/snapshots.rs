//! The `snapshots` collection: the latest folded state of each long stream, so `/state` folds
//! the events after it rather than the whole stream. Derived data: a document may be deleted
//! at any time (the next read folds the whole stream and writes it again).
//!
//! ```text
//! { _id: "Complaint-…",            // the stream id: one snapshot per stream
//!   version: 500,                  // the last event folded into it
//!   stateVersion: 1,               // shared::complaint::snapshot::STATE_VERSION of the writer
//!   lastEventAt: "…",              // RFC 3339, full precision: that event's metadata.timestamp
//!   state: "{…}" }                 // the state as JSON text, exactly as the shared code wrote it
//! ```
//!
//! The state is kept as text rather than a BSON document so that it reads back byte for byte
//! (BSON has no unsigned integers and cuts timestamps to milliseconds).

use super::{shapes, EventStore};
use crate::error::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(super) const SNAPSHOTS: &str = "snapshots";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDocument {
    #[serde(rename = "_id")]
    pub stream_id: String,
    pub version: i64,
    pub state_version: i32,
    pub last_event_at: DateTime<Utc>,
    pub state: String,
}

impl EventStore {
    /// The snapshot of `stream_id`, if one was kept (of any state version).
    pub async fn snapshot(&self, stream_id: &str) -> Result<Option<SnapshotDocument>> {
        Ok(self
            .snapshots
            .find_one(shapes::snapshot_of(stream_id))
            .with_options(shapes::find_one_whole())
            .await?)
    }

    /// Keeps `snapshot` as the one of its stream (replacing any older one).
    pub async fn save_snapshot(&self, snapshot: &SnapshotDocument) -> Result<()> {
        self.snapshots
            .replace_one(shapes::snapshot_of(&snapshot.stream_id), snapshot)
            .upsert(true)
            .await?;
        Ok(())
    }
}
