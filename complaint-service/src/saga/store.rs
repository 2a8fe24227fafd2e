//! The SQL of sagas and SLA timers. A saga row keeps its searchable columns beside the whole
//! saga as JSON, so the model can grow steps without migrations.

use super::model::{Saga, SagaKind, SagaStatus};
use crate::listing::Cursor;
use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

/// Records a new saga; `false` if one already exists for its trigger (a redelivery).
pub async fn insert(tx: &mut PgConnection, saga: &Saga) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO sagas (saga_id, kind, complaint_id, status, trigger_event_id,
                            compensation_event_id, deadline, started_at, updated_at, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (trigger_event_id) DO NOTHING",
    )
    .bind(saga.saga_id)
    .bind(saga.kind.as_str())
    .bind(&saga.complaint_id)
    .bind(saga.status.as_str())
    .bind(saga.trigger_event_id)
    .bind(saga.compensation_event_id)
    .bind(saga.deadline)
    .bind(saga.started_at)
    .bind(saga.updated_at)
    .bind(Json(saga))
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn update(tx: &mut PgConnection, saga: &Saga) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sagas SET status = $2, compensation_event_id = $3, deadline = $4,
                          updated_at = $5, state = $6
         WHERE saga_id = $1",
    )
    .bind(saga.saga_id)
    .bind(saga.status.as_str())
    .bind(saga.compensation_event_id)
    .bind(saga.deadline)
    .bind(saga.updated_at)
    .bind(Json(saga))
    .execute(tx)
    .await?;
    Ok(())
}

/// The saga waiting for a reply to `cause` (its trigger, or its compensation event), locked.
pub async fn awaiting(tx: &mut PgConnection, cause: Uuid) -> Result<Option<Saga>, sqlx::Error> {
    let row: Option<(Json<Saga>,)> = sqlx::query_as(
        "SELECT state FROM sagas
         WHERE trigger_event_id = $1 OR compensation_event_id = $1
         FOR UPDATE",
    )
    .bind(cause)
    .fetch_optional(tx)
    .await?;
    Ok(row.map(|(Json(saga),)| saga))
}

/// The complaint's saga that started compensating and has not yet heard of the
/// COMPLAINT_COMPENSATION_REQUIRED it asked for, locked.
pub async fn compensating(
    tx: &mut PgConnection,
    complaint_id: &str,
) -> Result<Option<Saga>, sqlx::Error> {
    let row: Option<(Json<Saga>,)> = sqlx::query_as(
        "SELECT state FROM sagas
         WHERE complaint_id = $1 AND status = $2 AND compensation_event_id IS NULL
         ORDER BY started_at DESC LIMIT 1
         FOR UPDATE",
    )
    .bind(complaint_id)
    .bind(SagaStatus::Compensating.as_str())
    .fetch_optional(tx)
    .await?;
    Ok(row.map(|(Json(saga),)| saga))
}

/// Sagas whose pending step is overdue, locked; other instances skip them.
pub async fn overdue(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Saga>, sqlx::Error> {
    let rows: Vec<(Json<Saga>,)> = sqlx::query_as(
        "SELECT state FROM sagas WHERE deadline <= $1
         ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(|(Json(saga),)| saga).collect())
}

pub async fn of_complaint(pool: &PgPool, complaint_id: &str) -> Result<Vec<Saga>, sqlx::Error> {
    let rows: Vec<(Json<Saga>,)> = sqlx::query_as(
        "SELECT state FROM sagas WHERE complaint_id = $1 ORDER BY started_at, saga_id",
    )
    .bind(complaint_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(Json(saga),)| saga).collect())
}

pub async fn by_id(pool: &PgPool, saga_id: Uuid) -> Result<Option<Saga>, sqlx::Error> {
    let row: Option<(Json<Saga>,)> = sqlx::query_as("SELECT state FROM sagas WHERE saga_id = $1")
        .bind(saga_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|(Json(saga),)| saga))
}

/// One saga, locked for a change (retry, abandon).
pub async fn lock(tx: &mut PgConnection, saga_id: Uuid) -> Result<Option<Saga>, sqlx::Error> {
    let row: Option<(Json<Saga>,)> =
        sqlx::query_as("SELECT state FROM sagas WHERE saga_id = $1 FOR UPDATE")
            .bind(saga_id)
            .fetch_optional(tx)
            .await?;
    Ok(row.map(|(Json(saga),)| saga))
}

/// Which sagas to list; empty means any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SagaFilter {
    pub statuses: Vec<SagaStatus>,
    pub kinds: Vec<SagaKind>,
}

/// A page of sagas, newest first (by start, then id), after `after`; `limit + 1` rows are
/// read so the caller knows whether another page follows.
pub async fn list(
    pool: &PgPool,
    filter: &SagaFilter,
    after: Option<Cursor>,
    limit: u32,
) -> Result<Vec<Saga>, sqlx::Error> {
    let mut query: QueryBuilder<Postgres> = QueryBuilder::new("SELECT state FROM sagas WHERE TRUE");
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        query
            .push(" AND status = ANY(")
            .push_bind(statuses)
            .push(")");
    }
    if !filter.kinds.is_empty() {
        let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
        query.push(" AND kind = ANY(").push_bind(kinds).push(")");
    }
    if let Some(cursor) = after {
        query
            .push(" AND (started_at, saga_id) < (")
            .push_bind(cursor.created_at)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    query
        .push(" ORDER BY started_at DESC, saga_id DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let rows: Vec<(Json<Saga>,)> = query.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(Json(saga),)| saga).collect())
}

/// Arms (or moves) the SLA timer of a complaint.
pub async fn arm_timer(
    tx: &mut PgConnection,
    complaint_id: Uuid,
    deadline: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sla_timers (complaint_id, deadline) VALUES ($1, $2)
         ON CONFLICT (complaint_id) DO UPDATE SET deadline = EXCLUDED.deadline",
    )
    .bind(complaint_id)
    .bind(deadline)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn disarm_timer(tx: &mut PgConnection, complaint_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sla_timers WHERE complaint_id = $1")
        .bind(complaint_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Timers due by `now`, locked; other instances skip them.
pub async fn due_timers(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT complaint_id, deadline FROM sla_timers WHERE deadline <= $1
         ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(tx)
    .await
}

/// Removes a fired timer, unless it was moved meanwhile (the escalation re-armed it).
pub async fn remove_fired_timer(
    tx: &mut PgConnection,
    complaint_id: Uuid,
    deadline: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sla_timers WHERE complaint_id = $1 AND deadline = $2")
        .bind(complaint_id)
        .bind(deadline)
        .execute(tx)
        .await?;
    Ok(())
}
