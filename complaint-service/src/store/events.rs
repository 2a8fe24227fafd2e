//! The event store (write side): each complaint's stream in `complaint_events`, appended
//! under optimistic concurrency.

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::event::Envelope;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Transaction};
use uuid::Uuid;

use super::idempotency::{self, Answer};

/// The NOTIFY channel that wakes the projectors of this schema (one per schema, so services
/// and tests sharing a database never wake each other).
pub const CHANNEL_SQL: &str = "current_schema() || '_projection'";

/// Starts a transaction that may append events. It takes the table's ROW EXCLUSIVE lock
/// first, before anything gives the transaction an id: the projector finds the transactions
/// that may still append by that lock (see `store::projection::horizon`). Every transaction
/// that writes `complaint_events` must begin here, or be the one statement of [`start`].
/// One round trip, like a plain BEGIN.
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
    let mut query = QueryBuilder::new("WITH inserted AS (");
    push_insert(&mut query, events.iter().map(|event| (id, event)))?;
    query.push(format!(
        ") SELECT pg_notify({CHANNEL_SQL}, ''), (SELECT count(*) FROM inserted)"
    ));
    match query.build().execute(conn).await {
        Ok(_) => Ok(Appended::Done),
        Err(error) if is_version_taken(&error) => Ok(Appended::VersionTaken),
        Err(error) => Err(error),
    }
}

/// A new complaint's first events, and the answer to keep under the create's
/// `Idempotency-Key` (if it had one).
#[derive(Debug, Clone)]
pub struct NewStream {
    pub id: Uuid,
    pub events: Vec<Envelope>,
    pub answer: Option<Answer>,
}

/// What became of a statement that starts streams: all of them, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    Done,
    /// One of the keys was taken by another request that committed first.
    KeyTaken,
    /// One of the streams already existed.
    VersionTaken,
}

/// Starts the streams of new complaints, outside any transaction, in one statement: the
/// answers kept under their keys, the events and their outbox rows commit together or not at
/// all. One round trip where a transaction takes five (BEGIN, key, append, outbox, COMMIT),
/// for the command most sent, and one commit for as many creates as `store::group_commit`
/// brings together. The statement takes its ROW EXCLUSIVE lock on `complaint_events` when it
/// starts, before a row gives it a transaction id, as [`begin`] does for a transaction. Its
/// text does not depend on how many streams it starts (arrays), so it is prepared once.
pub async fn start(pool: &PgPool, streams: &[NewStream]) -> Result<Started, sqlx::Error> {
    let mut query = QueryBuilder::new("WITH answered AS (");
    idempotency::push_insert(&mut query, streams.iter().filter_map(|s| s.answer.as_ref()));
    query.push("), inserted AS (");
    push_insert(
        &mut query,
        streams
            .iter()
            .flat_map(|s| s.events.iter().map(|event| (s.id, event))),
    )?;
    query.push("), queued AS (");
    shared::outbox::push_insert(&mut query, streams.iter().flat_map(|s| &s.events))?;
    query.push(format!(
        ") SELECT pg_notify({CHANNEL_SQL}, ''), {}, (SELECT count(*) FROM inserted),
                  (SELECT count(*) FROM queued)",
        shared::outbox::NOTIFY_SQL
    ));
    match query.build().execute(pool).await {
        Ok(_) => Ok(Started::Done),
        Err(error) if idempotency::is_taken(&error) => Ok(Started::KeyTaken),
        Err(error) if is_version_taken(&error) => Ok(Started::VersionTaken),
        Err(error) => Err(error),
    }
}

/// Pushes the `INSERT` of `events`, each into the stream of the complaint it is paired with,
/// in the order given (each stream's in version order), `RETURNING 1` per row.
fn push_insert<'e>(
    query: &mut QueryBuilder<'_, Postgres>,
    events: impl IntoIterator<Item = (Uuid, &'e Envelope)>,
) -> Result<(), sqlx::Error> {
    let mut ids = vec![];
    let mut versions = vec![];
    let mut event_ids = vec![];
    let mut types = vec![];
    let mut data = vec![];
    let mut metadata = vec![];
    let mut recorded_at = vec![];
    for (id, event) in events {
        ids.push(id);
        versions.push(event.metadata.version);
        event_ids.push(event.event_id);
        types.push(event.event_type.clone());
        data.push(event.event_data.clone());
        metadata.push(
            serde_json::to_value(&event.metadata).map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
        );
        recorded_at.push(event.metadata.timestamp);
    }
    query
        .push(
            "INSERT INTO complaint_events
                 (aggregate_id, version, event_id, event_type, data, metadata, recorded_at)
             SELECT aggregate_id, version, event_id, event_type, data, metadata, recorded_at
             FROM UNNEST(",
        )
        .push_bind(ids)
        .push("::uuid[], ")
        .push_bind(versions)
        .push("::bigint[], ")
        .push_bind(event_ids)
        .push("::uuid[], ")
        .push_bind(types)
        .push("::text[], ")
        .push_bind(data)
        .push("::jsonb[], ")
        .push_bind(metadata)
        .push("::jsonb[], ")
        .push_bind(recorded_at)
        .push(
            "::timestamptz[]) WITH ORDINALITY
                  AS t(aggregate_id, version, event_id, event_type, data, metadata, recorded_at, n)
             ORDER BY n RETURNING 1",
        );
    Ok(())
}

/// The error of a statement whose events found one of their versions taken.
fn is_version_taken(error: &sqlx::Error) -> bool {
    super::violates(error, "complaint_events_stream_version")
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
