//! The `complaints` table: this service's view of each complaint.

use super::corrupt;
use crate::projection::ComplaintView;
use chrono::{DateTime, Utc};
use shared::complaint::AgentId;
use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: String,
    version: i64,
    title: String,
    status: String,
    priority: String,
    customer_id: Option<String>,
    customer_name: String,
    customer_email: String,
    assignee: Option<String>,
    sla_deadline: Option<DateTime<Utc>>,
    escalation_level: i32,
}

impl TryFrom<ViewRow> for ComplaintView {
    type Error = sqlx::Error;

    fn try_from(row: ViewRow) -> Result<Self, Self::Error> {
        Ok(ComplaintView {
            id: row.id,
            version: row.version,
            title: row.title,
            status: row.status.parse().map_err(corrupt)?,
            priority: row.priority.parse().map_err(corrupt)?,
            customer_id: row.customer_id.unwrap_or_default(),
            customer_name: row.customer_name,
            customer_email: row.customer_email,
            assignee: row
                .assignee
                .map(AgentId::parse)
                .transpose()
                .map_err(corrupt)?,
            sla_deadline: row.sla_deadline,
            escalation_level: u32::try_from(row.escalation_level).unwrap_or(0),
        })
    }
}

/// The views of complaints `ids` that exist, locked until the caller's transaction ends. One
/// statement for a whole batch; rows are locked in id order, so two batches touching the
/// same complaints wait for each other instead of deadlocking.
pub async fn lock_all(
    conn: &mut PgConnection,
    ids: &[String],
) -> Result<Vec<ComplaintView>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as::<_, ViewRow>(
        "SELECT id, version, title, status, priority, customer_id, customer_name, customer_email,
                assignee, sla_deadline, escalation_level
         FROM complaints WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(ComplaintView::try_from)
    .collect()
}

/// Inserts or updates `views` in one statement (each complaint at most once).
pub async fn save_all(
    conn: &mut PgConnection,
    views: &[&ComplaintView],
) -> Result<(), sqlx::Error> {
    if views.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = views.iter().map(|v| v.id.as_str()).collect();
    let versions: Vec<i64> = views.iter().map(|v| v.version).collect();
    let titles: Vec<&str> = views.iter().map(|v| v.title.as_str()).collect();
    let statuses: Vec<&str> = views.iter().map(|v| v.status.as_str()).collect();
    let priorities: Vec<&str> = views.iter().map(|v| v.priority.as_str()).collect();
    let names: Vec<&str> = views.iter().map(|v| v.customer_name.as_str()).collect();
    let emails: Vec<&str> = views.iter().map(|v| v.customer_email.as_str()).collect();
    let assignees: Vec<Option<&str>> = views
        .iter()
        .map(|v| v.assignee.as_ref().map(AgentId::as_str))
        .collect();
    let deadlines: Vec<Option<DateTime<Utc>>> = views.iter().map(|v| v.sla_deadline).collect();
    let levels: Vec<i32> = views
        .iter()
        .map(|v| i32::try_from(v.escalation_level).unwrap_or(i32::MAX))
        .collect();
    let customers: Vec<&str> = views.iter().map(|v| v.customer_id.as_str()).collect();
    sqlx::query(
        "INSERT INTO complaints (id, version, title, status, priority, customer_name,
             customer_email, assignee, sla_deadline, escalation_level, customer_id)
         SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::int4[], $11::text[])
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title,
             status = EXCLUDED.status, priority = EXCLUDED.priority,
             customer_name = EXCLUDED.customer_name, customer_email = EXCLUDED.customer_email,
             assignee = EXCLUDED.assignee, sla_deadline = EXCLUDED.sla_deadline,
             escalation_level = EXCLUDED.escalation_level,
             customer_id = EXCLUDED.customer_id, updated_at = now()",
    )
    .bind(&ids)
    .bind(&versions)
    .bind(&titles)
    .bind(&statuses)
    .bind(&priorities)
    .bind(&names)
    .bind(&emails)
    .bind(&assignees)
    .bind(&deadlines)
    .bind(&levels)
    .bind(&customers)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whose complaint `id` is (`None`: not known here, or recorded before customer ids were).
pub async fn customer_of(pool: &sqlx::PgPool, id: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT customer_id FROM complaints WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(|(customer,)| customer))
}
