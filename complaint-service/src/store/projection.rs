//! The projector's side of the read model: reading the event store in commit-safe order,
//! loading and saving views and timeline entries, the checkpoint, and the lag.
//!
//! Order: a position is handed out at insert, before commit, so a reader following
//! positions alone could pass over a row whose transaction commits later. Events are read
//! by `(transaction_id, position)` instead, and only below a horizon under which every
//! transaction that may append has committed: the lowest id of the transactions appending
//! now (they hold ROW EXCLUSIVE on `complaint_events`, taken before they got their id, see
//! `store::events::begin`), or else the next transaction id to be handed out. Long
//! transactions elsewhere in the cluster do not hold the projection back; only appenders do.
//! One complaint's events always come in version order (a writer of version n+1 read
//! version n after it committed, so its transaction id is larger).

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::{complaint::Complaint, event::Metadata};
use sqlx::{types::Json, PgConnection, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;
use uuid::Uuid;

use super::views::VIEW_JSON;
use crate::projection::{ProjectedEntry, RecordedEvent};

const PROJECTION: &str = "complaint_view";
/// Counting pending events stops here: past it the exact figure does not matter.
const PENDING_COUNT_CAP: i64 = 100_000;

/// How far the projection has read, in the order above.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub transaction_id: i64,
    pub position: i64,
}

/// What a projector (or a rebuild) holds once it has claimed the projection: where it had read
/// to, and how far it may read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub checkpoint: Checkpoint,
    pub horizon: Horizon,
}

/// Claims the projection for the transaction, in one statement: locks its checkpoint row
/// (one projector at a time per schema, and a rebuild excludes them all), reads it, and
/// reads the [`horizon`]. `None` if another holds it and `wait` is false. The lock is the
/// row's, not an advisory lock taken first, so that one statement does it all: a row
/// locked `FOR UPDATE` is read as its last committed version, even one committed after the
/// statement began, where an advisory lock taken in the statement would leave the
/// checkpoint read at the statement's start, before the previous holder's commit.
pub async fn claim(conn: &mut PgConnection, wait: bool) -> Result<Option<Claim>, sqlx::Error> {
    let skip = if wait { "" } else { " SKIP LOCKED" };
    let row: Option<(i64, i64, i64, i64)> = sqlx::query_as(&format!(
        "WITH {HORIZON_CTES},
         claimed AS (
             SELECT transaction_id::text::bigint AS transaction_id, position
             FROM projection_checkpoints WHERE projection = $1 FOR UPDATE{skip})
         SELECT c.transaction_id, c.position, h.horizon, h.xmax
         FROM claimed c CROSS JOIN ({HORIZON_SELECT}) h"
    ))
    .bind(PROJECTION)
    .fetch_optional(conn)
    .await?;
    let Some((transaction_id, position, horizon, xmax)) = row else {
        return Ok(None);
    };
    Ok(Some(Claim {
        checkpoint: Checkpoint {
            transaction_id,
            position,
        },
        horizon: Horizon::new(horizon, xmax)?,
    }))
}

pub async fn save_checkpoint(conn: &mut PgConnection, at: Checkpoint) -> Result<(), sqlx::Error> {
    let mut query = QueryBuilder::new("");
    push_checkpoint_update(&mut query, at);
    query.build().execute(conn).await?;
    Ok(())
}

fn push_checkpoint_update(query: &mut QueryBuilder<'_, Postgres>, at: Checkpoint) {
    query
        .push("UPDATE projection_checkpoints SET transaction_id = ")
        .push_bind(at.transaction_id.to_string())
        .push("::text::xid8, position = ")
        .push_bind(at.position)
        .push(", updated_at = now() WHERE projection = ")
        .push_bind(PROJECTION);
}

/// Where a batch may read up to: below `transaction_id` every appender has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub transaction_id: i64,
    /// An appender still running set it (below the snapshot's xmax): events committed after
    /// that appender's id are held back until it ends.
    pub held_by_appender: bool,
}

impl Horizon {
    fn new(horizon: i64, xmax: i64) -> Result<Self, sqlx::Error> {
        if horizon <= 0 {
            return Err(sqlx::Error::Protocol(format!(
                "computed an impossible transaction horizon {horizon}"
            )));
        }
        Ok(Self {
            transaction_id: horizon,
            held_by_appender: horizon < xmax,
        })
    }
}

/// The transaction id below which every appender has finished. Must be read in a statement
/// of its own, before the events are read with a later snapshot.
pub async fn horizon(conn: &mut PgConnection) -> Result<Horizon, sqlx::Error> {
    let (horizon, xmax): (i64, i64) =
        sqlx::query_as(&format!("WITH {HORIZON_CTES} {HORIZON_SELECT}"))
            .fetch_one(&mut *conn)
            .await?;
    Horizon::new(horizon, xmax)
}

/// The CTEs of [`horizon`]'s query. pg_locks gives 32-bit ids. Each is widened to 64 bits
/// next to the snapshot's xmax: a running transaction's id is within 2^31 of it, below or
/// above (it may have been handed out after the last completed one).
const HORIZON_CTES: &str = "snapshot AS (
         SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax),
     locks AS MATERIALIZED (
         SELECT locktype, relation, mode, granted, virtualtransaction, transactionid
         FROM pg_locks),
     appenders AS (
         SELECT own.transactionid::text::bigint AS xid
         FROM locks l
         JOIN locks own ON own.virtualtransaction = l.virtualtransaction
                       AND own.locktype = 'transactionid'
                       AND own.mode = 'ExclusiveLock' AND own.granted
         WHERE l.locktype = 'relation' AND l.relation = 'complaint_events'::regclass
           AND l.mode = 'RowExclusiveLock'),
     distances AS (
         SELECT s.xmax, ((a.xid - s.xmax % 4294967296) % 4294967296 + 4294967296)
                        % 4294967296 AS d
         FROM snapshot s LEFT JOIN appenders a ON TRUE)";

/// The horizon and the snapshot's xmax, from [`HORIZON_CTES`].
const HORIZON_SELECT: &str =
    "SELECT LEAST(xmax, min(xmax + CASE WHEN d >= 2147483648 THEN d - 4294967296
                                       ELSE d END)) AS horizon, xmax
     FROM distances GROUP BY xmax";

#[derive(sqlx::FromRow)]
struct EventRow {
    position: i64,
    transaction_id: i64,
    aggregate_id: Uuid,
    version: i64,
    event_id: Uuid,
    event_type: String,
    data: Value,
    metadata: Json<Metadata>,
    recorded_at: DateTime<Utc>,
}

/// Up to `limit` committed events after `after` and below `horizon`, in commit-safe order.
pub async fn events_after(
    conn: &mut PgConnection,
    after: Checkpoint,
    horizon: i64,
    limit: i64,
) -> Result<Vec<RecordedEvent>, sqlx::Error> {
    // The columns are qualified: a bare `ORDER BY transaction_id` names the bigint output
    // column, which no index orders, so every event after the checkpoint was read and sorted
    // for each batch (a rebuild read the table once per batch).
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT e.position, e.transaction_id::text::bigint AS transaction_id, e.aggregate_id,
                e.version, e.event_id, e.event_type, e.data, e.metadata, e.recorded_at
         FROM complaint_events e
         WHERE (e.transaction_id, e.position) > ($1::text::xid8, $2)
           AND e.transaction_id < $3::text::xid8
         ORDER BY e.transaction_id, e.position
         LIMIT $4",
    )
    .bind(after.transaction_id.to_string())
    .bind(after.position)
    .bind(horizon.to_string())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| RecordedEvent {
            position: row.position,
            transaction_id: row.transaction_id,
            complaint_id: row.aggregate_id,
            version: row.version,
            event_id: row.event_id,
            event_type: row.event_type,
            data: row.data,
            metadata: row.metadata.0,
            recorded_at: row.recorded_at,
        })
        .collect())
}

/// The current views of `ids` (those that have one).
pub async fn load_views(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Complaint>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT id, {VIEW_JSON} AS view FROM complaint_view WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let id: Uuid = row.try_get("id")?;
            let Json(view): Json<Complaint> = row.try_get("view")?;
            Ok((id, view))
        })
        .collect()
}

/// Saves what a batch did in one statement: the views it changed, its timeline entries, and
/// the checkpoint it moved to.
pub async fn save_batch(
    conn: &mut PgConnection,
    views: &[&Complaint],
    timeline: &[ProjectedEntry],
    checkpoint: Checkpoint,
) -> Result<(), sqlx::Error> {
    let mut query = QueryBuilder::new("WITH ");
    if !views.is_empty() {
        query.push("saved_views AS (");
        push_views_upsert(&mut query, views);
        query.push("), ");
    }
    if !timeline.is_empty() {
        query.push("added_entries AS (");
        push_timeline_insert(&mut query, timeline);
        query.push("), ");
    }
    query.push("moved AS (");
    push_checkpoint_update(&mut query, checkpoint);
    query.push(" RETURNING 1) SELECT count(*) FROM moved");
    query.build().execute(conn).await?;
    Ok(())
}

/// Inserts or replaces the views.
pub async fn save_views(conn: &mut PgConnection, views: &[&Complaint]) -> Result<(), sqlx::Error> {
    if views.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::new("");
    push_views_upsert(&mut query, views);
    query.build().execute(conn).await?;
    Ok(())
}

pub async fn insert_timeline(
    conn: &mut PgConnection,
    entries: &[ProjectedEntry],
) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::new("");
    push_timeline_insert(&mut query, entries);
    query.build().execute(conn).await?;
    Ok(())
}

/// Pushes the upsert of the views.
fn push_views_upsert<'a>(query: &mut QueryBuilder<'a, Postgres>, views: &'a [&'a Complaint]) {
    query.push(
        r#"INSERT INTO complaint_view (
               id, version, status, priority, category, title, description,
               customer_id, customer_name, customer_email, assignee, escalation_level,
               reopen_count, resolution, created_at, updated_at, resolved_at, closed_at,
               sla_started_at, sla_deadline)
           SELECT id, version, status, priority, category, title, description,
                  "customerId", "customerName", "customerEmail", assignee, "escalationLevel",
                  "reopenCount", resolution, "createdAt", "updatedAt", "resolvedAt", "closedAt",
                  "slaStartedAt", "slaDeadline"
           FROM jsonb_to_recordset("#,
    );
    // Serialized straight into the statement's buffer, with no JSON tree in between.
    query.push_bind(Json(views));
    query.push(
        r#") AS v(
               id uuid, version bigint, status text, priority text, category text, title text,
               description text, "customerId" text, "customerName" text, "customerEmail" text,
               assignee text, "escalationLevel" integer, "reopenCount" integer,
               resolution text, "createdAt" timestamptz, "updatedAt" timestamptz,
               "resolvedAt" timestamptz, "closedAt" timestamptz, "slaStartedAt" timestamptz,
               "slaDeadline" timestamptz)
           ON CONFLICT (id) DO UPDATE SET
               version = EXCLUDED.version, status = EXCLUDED.status,
               priority = EXCLUDED.priority, category = EXCLUDED.category,
               title = EXCLUDED.title, description = EXCLUDED.description,
               customer_id = EXCLUDED.customer_id, customer_name = EXCLUDED.customer_name,
               customer_email = EXCLUDED.customer_email, assignee = EXCLUDED.assignee,
               escalation_level = EXCLUDED.escalation_level,
               reopen_count = EXCLUDED.reopen_count, resolution = EXCLUDED.resolution,
               created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
               resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at,
               sla_started_at = EXCLUDED.sla_started_at, sla_deadline = EXCLUDED.sla_deadline
           RETURNING 1"#,
    );
}

/// Pushes the insert of timeline entries (an entry already there is left as it is).
fn push_timeline_insert<'a>(query: &mut QueryBuilder<'a, Postgres>, entries: &'a [ProjectedEntry]) {
    let complaint_ids: Vec<Uuid> = entries.iter().map(|e| e.complaint_id).collect();
    let positions: Vec<i64> = entries.iter().map(|e| e.position).collect();
    let event_ids: Vec<Uuid> = entries.iter().map(|e| e.entry.event_id).collect();
    let versions: Vec<i64> = entries.iter().map(|e| e.entry.version).collect();
    let types: Vec<&str> = entries
        .iter()
        .map(|e| e.entry.event_type.as_str())
        .collect();
    let occurred: Vec<DateTime<Utc>> = entries.iter().map(|e| e.entry.occurred_at).collect();
    let users: Vec<Option<&str>> = entries.iter().map(|e| e.entry.user_id.as_deref()).collect();
    let correlations: Vec<&str> = entries
        .iter()
        .map(|e| e.entry.correlation_id.as_str())
        .collect();
    let data: Vec<&Value> = entries.iter().map(|e| &e.entry.data).collect();
    query
        .push(
            "INSERT INTO complaint_timeline
                 (complaint_id, position, event_id, version, event_type, occurred_at, user_id,
                  correlation_id, data)
             SELECT * FROM UNNEST(",
        )
        .push_bind(complaint_ids)
        .push("::uuid[], ")
        .push_bind(positions)
        .push("::bigint[], ")
        .push_bind(event_ids)
        .push("::uuid[], ")
        .push_bind(versions)
        .push("::bigint[], ")
        .push_bind(types)
        .push("::text[], ")
        .push_bind(occurred)
        .push("::timestamptz[], ")
        .push_bind(users)
        .push("::text[], ")
        .push_bind(correlations)
        .push("::text[], ")
        .push_bind(data)
        .push("::jsonb[]) ON CONFLICT (event_id) DO NOTHING RETURNING 1");
}

/// How far behind the projection is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lag {
    pub checkpoint: Checkpoint,
    /// The highest position in the event store.
    pub last_position: i64,
    /// Events after the checkpoint (committed or not yet), counted up to a cap.
    pub pending_events: i64,
    /// When the oldest pending event was recorded.
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// Every part of it walks an index from the checkpoint on (the count in commit order, with
/// the cap written in: under a generic plan an unknown `LIMIT $n` and a correlated bound made
/// PostgreSQL count by reading the whole table), so its cost is the pending events', not
/// the history's.
pub async fn lag(pool: &PgPool) -> Result<Lag, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT c.transaction_id::text::bigint AS transaction_id, c.position,
                (SELECT COALESCE(max(position), 0) FROM complaint_events) AS last_position,
                (SELECT count(*) FROM (
                     SELECT 1 FROM complaint_events e
                     WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
                     ORDER BY e.transaction_id, e.position
                     LIMIT {PENDING_COUNT_CAP}) pending) AS pending_events,
                (SELECT e.recorded_at FROM complaint_events e
                 WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
                 ORDER BY e.transaction_id, e.position LIMIT 1) AS oldest_pending_at
         FROM projection_checkpoints c WHERE c.projection = $1"
    ))
    .bind(PROJECTION)
    .fetch_one(pool)
    .await?;
    Ok(Lag {
        checkpoint: Checkpoint {
            transaction_id: row.try_get("transaction_id")?,
            position: row.try_get("position")?,
        },
        last_position: row.try_get("last_position")?,
        pending_events: row.try_get("pending_events")?,
        oldest_pending_at: row.try_get("oldest_pending_at")?,
    })
}
