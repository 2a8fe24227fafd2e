//! The queries of the read side: only the view tables, never the event store.

use chrono::{DateTime, Utc};
use shared::complaint::Complaint;
use sqlx::{types::Json, PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::{
    listing::{Cursor, ListFilter},
    projection::TimelineEntry,
};

/// A `complaint_view` row as the JSON of [`Complaint`] (camelCase), the one mapping between
/// the table and the type; `store::projection` writes rows back from the same JSON.
pub(super) const VIEW_JSON: &str = "jsonb_build_object(
    'id', id, 'version', version, 'status', status, 'priority', priority,
    'category', category, 'title', title, 'description', description,
    'customerId', customer_id, 'customerName', customer_name, 'customerEmail', customer_email,
    'assignee', assignee, 'escalationLevel', escalation_level, 'reopenCount', reopen_count,
    'resolution', resolution, 'createdAt', created_at, 'updatedAt', updated_at,
    'resolvedAt', resolved_at, 'closedAt', closed_at, 'slaStartedAt', sla_started_at,
    'slaDeadline', sla_deadline)";

/// The view of complaint `id` with its timeline, read in one statement (one snapshot, so
/// the timeline never runs ahead of the view).
pub async fn get(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<(Complaint, Vec<TimelineEntry>)>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {VIEW_JSON} AS view,
                COALESCE((
                    SELECT jsonb_agg(jsonb_build_object(
                               'eventId', t.event_id, 'version', t.version,
                               'eventType', t.event_type, 'occurredAt', t.occurred_at,
                               'userId', t.user_id, 'correlationId', t.correlation_id,
                               'data', t.data)
                           ORDER BY t.version, t.position)
                    FROM complaint_timeline t WHERE t.complaint_id = v.id), '[]') AS timeline
         FROM complaint_view v WHERE v.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Json(view): Json<Complaint> = row.try_get("view")?;
    let Json(timeline): Json<Vec<TimelineEntry>> = row.try_get("timeline")?;
    Ok(Some((view, timeline)))
}

/// The version the read model has of complaint `id`, if any.
pub async fn version(pool: &PgPool, id: Uuid) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM complaint_view WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Up to `limit` complaints matching `filter`, newest first, after `after`.
pub async fn list(
    pool: &PgPool,
    filter: &ListFilter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Complaint>, sqlx::Error> {
    let mut query: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("SELECT {VIEW_JSON} FROM complaint_view WHERE TRUE"));
    if !filter.statuses.is_empty() {
        let names: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        query.push(" AND status = ANY(").push_bind(names).push(")");
    }
    if !filter.priorities.is_empty() {
        let names: Vec<&str> = filter.priorities.iter().map(|p| p.as_str()).collect();
        query
            .push(" AND priority = ANY(")
            .push_bind(names)
            .push(")");
    }
    if let Some(category) = &filter.category {
        query
            .push(" AND category = ")
            .push_bind(category.to_lowercase());
    }
    if let Some(assignee) = &filter.assignee {
        query.push(" AND assignee = ").push_bind(assignee.clone());
    }
    if let Some(customer) = &filter.customer {
        query
            .push(" AND customer_id = ")
            .push_bind(customer.clone());
    }
    if let Some(from) = filter.created_from {
        query.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.created_to {
        query.push(" AND created_at < ").push_bind(to);
    }
    if let Some(search) = &filter.search {
        query
            .push(" AND search @@ to_tsquery('simple', ")
            .push_bind(search.clone())
            .push(")");
    }
    if let Some(cursor) = after {
        query
            .push(" AND (created_at, id) < (")
            .push_bind(cursor.created_at)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    query
        .push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(limit);
    let rows: Vec<Json<Complaint>> = query.build_query_scalar().fetch_all(pool).await?;
    Ok(rows.into_iter().map(|Json(view)| view).collect())
}

/// How many complaints have each (status, priority).
#[derive(Debug, sqlx::FromRow)]
pub struct CountRow {
    pub status: String,
    pub priority: String,
    pub count: i64,
}

pub async fn counts(pool: &PgPool) -> Result<Vec<CountRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, priority, count(*) AS count FROM complaint_view GROUP BY status, priority",
    )
    .fetch_all(pool)
    .await
}

/// Resolution times of the complaints resolved now (resolved or closed).
#[derive(Debug, sqlx::FromRow)]
pub struct ResolutionRow {
    pub resolved: i64,
    pub mean_seconds: Option<f64>,
}

pub async fn resolution_times(pool: &PgPool) -> Result<ResolutionRow, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) AS resolved,
                avg(EXTRACT(EPOCH FROM resolved_at - created_at))::float8 AS mean_seconds
         FROM complaint_view WHERE resolved_at IS NOT NULL",
    )
    .fetch_one(pool)
    .await
}

/// Unresolved complaints past their SLA deadline at `now`.
pub async fn overdue(pool: &PgPool, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM complaint_view
         WHERE status IN ('OPEN', 'ASSIGNED', 'IN_PROGRESS') AND sla_deadline <= $1",
    )
    .bind(now)
    .fetch_one(pool)
    .await
}
