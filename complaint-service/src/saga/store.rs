//! The SQL of sagas and SLA timers. A saga row keeps its searchable columns beside the whole
//! saga as JSON, so the model can grow steps without migrations.

use super::model::{Saga, SagaKind, SagaStatus};
use crate::listing::Cursor;
use chrono::{DateTime, Utc};
use sqlx::{types::Json, PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

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

/// The sagas a batch of events touches, locked: those answering `causes` (by trigger or
/// compensation event) and those already started by one of them (a redelivered trigger).
pub async fn lock_all(tx: &mut PgConnection, causes: &[Uuid]) -> Result<Vec<Saga>, sqlx::Error> {
    if causes.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Json<Saga>,)> = sqlx::query_as(
        "SELECT state FROM sagas
         WHERE trigger_event_id = ANY($1) OR compensation_event_id = ANY($1)
         FOR UPDATE",
    )
    .bind(causes)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(|(Json(saga),)| saga).collect())
}

/// Records new sagas in one statement; returns how many were new (a saga for the same trigger
/// already there is left as it is).
pub async fn insert_all(tx: &mut PgConnection, sagas: &[&Saga]) -> Result<u64, sqlx::Error> {
    if sagas.is_empty() {
        return Ok(0);
    }
    let columns = Columns::of(sagas);
    let inserted = sqlx::query(
        "INSERT INTO sagas (saga_id, kind, complaint_id, status, trigger_event_id,
                            compensation_event_id, deadline, started_at, updated_at, state)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[],
                              $6::uuid[], $7::timestamptz[], $8::timestamptz[],
                              $9::timestamptz[], $10::jsonb[])
         ON CONFLICT (trigger_event_id) DO NOTHING",
    )
    .bind(columns.saga_ids)
    .bind(columns.kinds)
    .bind(columns.complaint_ids)
    .bind(columns.statuses)
    .bind(columns.trigger_event_ids)
    .bind(columns.compensation_event_ids)
    .bind(columns.deadlines)
    .bind(columns.started_at)
    .bind(columns.updated_at)
    .bind(columns.states)
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected())
}

/// Stores the new state of existing sagas in one statement.
pub async fn update_all(tx: &mut PgConnection, sagas: &[&Saga]) -> Result<(), sqlx::Error> {
    if sagas.is_empty() {
        return Ok(());
    }
    let columns = Columns::of(sagas);
    sqlx::query(
        "UPDATE sagas SET status = t.status, compensation_event_id = t.compensation_event_id,
                          deadline = t.deadline, updated_at = t.updated_at, state = t.state
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::timestamptz[], $5::timestamptz[],
                     $6::jsonb[])
              AS t(saga_id, status, compensation_event_id, deadline, updated_at, state)
         WHERE sagas.saga_id = t.saga_id",
    )
    .bind(columns.saga_ids)
    .bind(columns.statuses)
    .bind(columns.compensation_event_ids)
    .bind(columns.deadlines)
    .bind(columns.updated_at)
    .bind(columns.states)
    .execute(tx)
    .await?;
    Ok(())
}

/// Sagas as one array per column, for the UNNEST statements.
struct Columns {
    saga_ids: Vec<Uuid>,
    kinds: Vec<&'static str>,
    complaint_ids: Vec<String>,
    statuses: Vec<&'static str>,
    trigger_event_ids: Vec<Uuid>,
    compensation_event_ids: Vec<Option<Uuid>>,
    deadlines: Vec<Option<DateTime<Utc>>>,
    started_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    states: Vec<Json<Saga>>,
}

impl Columns {
    fn of(sagas: &[&Saga]) -> Self {
        Columns {
            saga_ids: sagas.iter().map(|s| s.saga_id).collect(),
            kinds: sagas.iter().map(|s| s.kind.as_str()).collect(),
            complaint_ids: sagas.iter().map(|s| s.complaint_id.clone()).collect(),
            statuses: sagas.iter().map(|s| s.status.as_str()).collect(),
            trigger_event_ids: sagas.iter().map(|s| s.trigger_event_id).collect(),
            compensation_event_ids: sagas.iter().map(|s| s.compensation_event_id).collect(),
            deadlines: sagas.iter().map(|s| s.deadline).collect(),
            started_at: sagas.iter().map(|s| s.started_at).collect(),
            updated_at: sagas.iter().map(|s| s.updated_at).collect(),
            states: sagas.iter().map(|s| Json((*s).clone())).collect(),
        }
    }
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

/// Arms or moves many SLA timers in one statement (one entry per complaint).
pub async fn arm_timers(
    tx: &mut PgConnection,
    timers: &[(Uuid, DateTime<Utc>)],
) -> Result<(), sqlx::Error> {
    if timers.is_empty() {
        return Ok(());
    }
    let (complaint_ids, deadlines): (Vec<Uuid>, Vec<DateTime<Utc>>) =
        timers.iter().copied().unzip();
    sqlx::query(
        "INSERT INTO sla_timers (complaint_id, deadline)
         SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[])
         ON CONFLICT (complaint_id) DO UPDATE SET deadline = EXCLUDED.deadline",
    )
    .bind(complaint_ids)
    .bind(deadlines)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn disarm_timers(
    tx: &mut PgConnection,
    complaint_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    if complaint_ids.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM sla_timers WHERE complaint_id = ANY($1)")
        .bind(complaint_ids)
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
