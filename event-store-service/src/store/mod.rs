//! The MongoDB side of the service, and nothing else: the `events` collection, its indexes,
//! appending (append.rs) and reading (queries.rs).
//!
//! Written for MongoDB 6+, using only what the test stand-in (nx-27017) also supports: no
//! transactions, change streams, `distinct` or UUID binaries. Where the two differ:
//! - the stand-in ignores `partialFilterExpression`; the partial unique index on
//!   `(streamId, uniqueVersion)` still behaves the same there, because it stores indexes in
//!   SQLite, where a missing field is NULL and NULLs never collide;
//! - the stand-in renames indexes and words duplicate-key errors its own way, so the
//!   appender never parses error messages: it asks the collection which key was taken.

mod append;
mod document;
mod queries;

pub use append::Appended;
pub use document::{bson_date, chrono_date, EventDocument};
pub use queries::{AllFilter, Statistics, StreamCursor};

use crate::error::Result;
use mongodb::{
    bson::{doc, Document},
    options::IndexOptions,
    Collection, Database, IndexModel,
};
use tokio::sync::Mutex;

const EVENTS: &str = "events";

/// The event log; cheap to share behind an `Arc`.
pub struct EventStore {
    events: Collection<EventDocument>,
    raw: Collection<Document>,
    /// The next free position, once known (see append.rs); `None` means "ask the collection".
    next_position: Mutex<Option<i64>>,
}

impl EventStore {
    pub fn new(database: &Database) -> Self {
        Self {
            events: database.collection(EVENTS),
            raw: database.collection(EVENTS),
            next_position: Mutex::new(None),
        }
    }

    /// Creates the indexes (idempotent; run at every start).
    pub async fn create_indexes(&self) -> Result<()> {
        let unique = |name: &str| {
            IndexOptions::builder()
                .name(name.to_owned())
                .unique(true)
                .build()
        };
        let named = |name: &str| IndexOptions::builder().name(name.to_owned()).build();
        let indexes = vec![
            // Redelivery dedupe.
            IndexModel::builder()
                .keys(doc! { "eventId": 1 })
                .options(unique("eventId_unique"))
                .build(),
            // One event per version of an event-sourced stream.
            IndexModel::builder()
                .keys(doc! { "streamId": 1, "uniqueVersion": 1 })
                .options(
                    IndexOptions::builder()
                        .name("streamId_uniqueVersion_unique".to_owned())
                        .unique(true)
                        .partial_filter_expression(doc! { "uniqueVersion": { "$exists": true } })
                        .build(),
                )
                .build(),
            // The global order; unique so two writers can never share a position.
            IndexModel::builder()
                .keys(doc! { "position": 1 })
                .options(unique("position_unique"))
                .build(),
            // GET /stream and /state, replay.
            IndexModel::builder()
                .keys(doc! { "streamId": 1, "version": 1, "position": 1 })
                .options(named("stream_order"))
                .build(),
            // GET /all filters, each followed by the cursor.
            IndexModel::builder()
                .keys(doc! { "eventType": 1, "position": 1 })
                .options(named("eventType_position"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "aggregateType": 1, "position": 1 })
                .options(named("aggregateType_position"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "correlationId": 1, "position": 1 })
                .options(named("correlationId_position"))
                .build(),
            IndexModel::builder()
                .keys(doc! { "timestamp": 1 })
                .options(named("timestamp"))
                .build(),
        ];
        self.raw.create_indexes(indexes).await?;
        Ok(())
    }

    /// Whether MongoDB answers.
    pub async fn ping(&self) -> bool {
        self.raw.estimated_document_count().await.is_ok()
    }
}
