//! The event store (write side): each complaint's stream in `complaint_events`, appended
//! under optimistic concurrency.

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::event::Envelope;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The NOTIFY channel that wakes the projectors of this schema (one per schema, so services
/// and tests sharing a database never wake each other).
pub const CHANNEL_SQL: &str = "current_schema() || '_projection'";

/// Starts a transaction that may append events. It takes the table's ROW EXCLUSIVE lock
/// first, before anything gives the transaction an id: the projector finds the transactions
/// that may still append by that lock (see `store::projection::horizon`). Every transaction
/// that writes `complaint_events` must begin here. One round trip, like a plain BEGIN.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN; LOCK TABLE complaint_events IN ROW EXCLUSIVE MODE")
        .await
}

/// One event of a stream, as the command side folds it.
#[derive(Debug, sqlx::FromRow)]
pub struct StreamEvent {
    pub version: i64,
    pub event_type: String,
    /// `metadata.schemaVersion` (absent means 1): the shape `data` was written in.
    pub schema_version: i32,
    pub data: Value,
    pub recorded_at: DateTime<Utc>,
}

/// The events of complaint `id` after version `after` (0: all of them), in version order
/// (none if it does not exist). The unique (aggregate_id, version) index serves the range.
pub async fn load_stream_after(
    conn: &mut PgConnection,
    id: Uuid,
    after: i64,
) -> Result<Vec<StreamEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, event_type,
                COALESCE((metadata->>'schemaVersion')::int, 1) AS schema_version,
                data, recorded_at
         FROM complaint_events
         WHERE aggregate_id = $1 AND version > $2 ORDER BY version",
    )
    .bind(id)
    .bind(after)
    .fetch_all(conn)
    .await
}

/// What became of an append.
#[derive(Debug, PartialEq, Eq)]
pub enum Appended {
    Done,
    /// Another writer appended one of these versions first; the transaction is aborted.
    VersionTaken,
}

/// Appends `events` (with their `metadata.version` and `timestamp`) to the stream of `id`, and
/// wakes the projectors on commit.
pub async fn append(
    conn: &mut PgConnection,
    id: Uuid,
    events: &[Envelope],
) -> Result<Appended, sqlx::Error> {
    let mut versions = Vec::with_capacity(events.len());
    let mut event_ids = Vec::with_capacity(events.len());
    let mut types = Vec::with_capacity(events.len());
    let mut data = Vec::with_capacity(events.len());
    let mut metadata = Vec::with_capacity(events.len());
    let mut recorded_at = Vec::with_capacity(events.len());
    for event in events {
        versions.push(event.metadata.version);
        event_ids.push(event.event_id);
        types.push(event.event_type.clone());
        data.push(event.event_data.clone());
        metadata.push(
            serde_json::to_value(&event.metadata).map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
        );
        recorded_at.push(event.metadata.timestamp);
    }
    let inserted = sqlx::query(&format!(
        "WITH inserted AS (
             INSERT INTO complaint_events
                 (aggregate_id, version, event_id, event_type, data, metadata, recorded_at)
             SELECT $1, version, event_id, event_type, data, metadata, recorded_at
             FROM UNNEST($2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[],
                         $7::timestamptz[])
                  AS t(version, event_id, event_type, data, metadata, recorded_at)
             ORDER BY version
             RETURNING 1
         )
         SELECT pg_notify({CHANNEL_SQL}, ''), (SELECT count(*) FROM inserted)"
    ))
    .bind(id)
    .bind(&versions)
    .bind(&event_ids)
    .bind(&types)
    .bind(&data)
    .bind(&metadata)
    .bind(&recorded_at)
    .execute(conn)
    .await;
    match inserted {
        Ok(_) => Ok(Appended::Done),
        Err(error) if super::violates(&error, "complaint_events_stream_version") => {
            Ok(Appended::VersionTaken)
        }
        Err(error) => Err(error),
    }
}

/// The version of complaint `id` now (0 if it does not exist).
pub async fn current_version(pool: &PgPool, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(max(version), 0) FROM complaint_events WHERE aggregate_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}
