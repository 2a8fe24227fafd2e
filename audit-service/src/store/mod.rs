//! The PostgreSQL side of the trail: every SQL statement of the service lives in this folder.
//!
//! - `record`: appending a batch of events to the chain, in one transaction under the
//!   chain-head lock, with the compensation marks and outbox rows they lead to;
//! - `read`: the trail, searches and correlations, with the marks of their entries;
//! - `verify`: walking the chain page by page.

mod compensation;
mod read;
mod record;
mod verify;

pub use record::Recorded;

use crate::entry::{EntryContent, StoredEntry};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// The trail's tables; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// The columns of an entry, in the order of [`EntryRow`].
const ENTRY_COLUMNS: &str = "sequence, event_id, event_type, aggregate_type, aggregate_id, \
     aggregate_version, actor, service, correlation_id, causation_id, occurred_at, recorded_at, \
     payload, hash_scheme, content_hash, chain_hash";

#[derive(sqlx::FromRow)]
struct EntryRow {
    sequence: i64,
    event_id: Uuid,
    event_type: String,
    aggregate_type: String,
    aggregate_id: String,
    aggregate_version: i64,
    actor: Option<String>,
    service: String,
    correlation_id: String,
    causation_id: Option<String>,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    payload: serde_json::Value,
    hash_scheme: i16,
    content_hash: Vec<u8>,
    chain_hash: Vec<u8>,
}

impl From<EntryRow> for StoredEntry {
    fn from(row: EntryRow) -> Self {
        StoredEntry {
            content: EntryContent {
                sequence: row.sequence,
                event_id: row.event_id,
                event_type: row.event_type,
                aggregate_type: row.aggregate_type,
                aggregate_id: row.aggregate_id,
                aggregate_version: row.aggregate_version,
                actor: row.actor,
                service: row.service,
                correlation_id: row.correlation_id,
                causation_id: row.causation_id,
                occurred_at: row.occurred_at,
                recorded_at: row.recorded_at,
                payload: row.payload,
            },
            hash_scheme: row.hash_scheme,
            content_hash: row.content_hash,
            chain_hash: row.chain_hash,
        }
    }
}
