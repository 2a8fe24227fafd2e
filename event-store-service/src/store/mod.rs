//! The MongoDB side of the service, and nothing else: the `events` collection, its indexes,
//! appending (append.rs), reading (queries.rs), counting (statistics.rs), the `snapshots`
//! of long streams (snapshots.rs), and the shape of every query it sends (shapes.rs:
//! index-served on MongoDB and on the stand-in alike).
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
pub mod shapes;
mod snapshots;
mod statistics;

pub use append::Appended;
pub use document::{bson_date, chrono_date, EventDocument};
pub use queries::{AllFilter, LogPage, StreamCursor};
pub use snapshots::SnapshotDocument;
pub use statistics::Statistics;

use crate::error::{Error, Result};
use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, Bson, Document},
    options::IndexOptions,
    Collection, Database, IndexModel,
};
use tokio::sync::Mutex;

const EVENTS: &str = "events";
/// Documents the time-field backfill updates per round.
const BACKFILL_BATCH: i64 = 500;

/// The event log; cheap to share behind an `Arc`.
pub struct EventStore {
    events: Collection<EventDocument>,
    raw: Collection<Document>,
    snapshots: Collection<SnapshotDocument>,
    /// The next free position, once known (see append.rs); `None` means "ask the collection".
    next_position: Mutex<Option<i64>>,
    limits: ReadLimits,
    /// The last statistics and when they were counted (see statistics.rs).
    statistics: Mutex<Option<statistics::Counted>>,
}

/// How much one read may cost, whatever the request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Positions a page of the global log scans when no single index answers its filters
    /// (a time range, or several exact filters): such a page may come back short.
    pub scan_window: i64,
    /// A time range (the only filter) holding at most this many events is read through the
    /// `timestampMs` index, then sorted by position: full pages wherever it lies in the log.
    pub small_time_range: u64,
    /// Events a state is folded from.
    pub fold_max_events: usize,
    /// `/state` keeps a snapshot of a stream once this many events followed the last one
    /// (0: no snapshots, every state is folded from the first event).
    pub snapshot_every: u32,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            scan_window: 10_000,
            small_time_range: 5_000,
            fold_max_events: 10_000,
            snapshot_every: 100,
        }
    }
}

impl EventStore {
    pub fn new(database: &Database) -> Self {
        Self::with_limits(database, ReadLimits::default())
    }

    pub fn with_limits(database: &Database, limits: ReadLimits) -> Self {
        Self {
            events: database.collection(EVENTS),
            raw: database.collection(EVENTS),
            snapshots: database.collection(snapshots::SNAPSHOTS),
            next_position: Mutex::new(None),
            limits,
            statistics: Mutex::new(None),
        }
    }

    pub fn limits(&self) -> ReadLimits {
        self.limits
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
                .keys(doc! { "aggregateId": 1, "position": 1 })
                .options(named("aggregateId_position"))
                .build(),
            // `from`/`to`/`asOf`. (Databases from before it also keep an index on the BSON
            // date `timestamp`, which no query uses any more; drop it by hand if you like.)
            IndexModel::builder()
                .keys(doc! { "timestampMs": 1 })
                .options(named("timestampMs"))
                .build(),
        ];
        self.raw.create_indexes(indexes).await?;
        Ok(())
    }

    /// Gives documents stored before `timestampMs` existed their `timestampMs` (from their
    /// BSON date `timestamp`), so time filters find them. Run at start, before ingestion,
    /// in rounds of `BACKFILL_BATCH`; a no-op once done (one indexed lookup). Returns how
    /// many documents it updated.
    pub async fn backfill_time_field(&self) -> Result<u64> {
        let mut updated = 0;
        loop {
            let options = mongodb::options::FindOptions::builder()
                .projection(doc! { "_id": 1, "timestamp": 1 })
                .limit(BACKFILL_BATCH)
                .max_time(shapes::READ_TIME_LIMIT)
                .build();
            let missing: Vec<Document> = self
                .raw
                .find(shapes::without_time_field())
                .with_options(options)
                .await?
                .try_collect()
                .await?;
            if missing.is_empty() {
                return Ok(updated);
            }
            for document in &missing {
                let id = document.get("_id").cloned().unwrap_or(Bson::Null);
                let Ok(timestamp) = document.get_datetime("timestamp") else {
                    return Err(Error::Corrupt(format!(
                        "document {id} has no BSON date `timestamp`"
                    )));
                };
                self.raw
                    .update_one(
                        doc! { "_id": id },
                        doc! { "$set": { "timestampMs": timestamp.timestamp_millis() } },
                    )
                    .await?;
                updated += 1;
            }
        }
    }

    /// Whether MongoDB answers.
    pub async fn ping(&self) -> bool {
        self.raw
            .estimated_document_count()
            .with_options(shapes::estimated_count())
            .await
            .is_ok()
    }
}
