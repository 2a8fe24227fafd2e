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

/// The view of complaint `id`, locked until the caller's transaction ends.
pub async fn lock(conn: &mut PgConnection, id: &str) -> Result<Option<ComplaintView>, sqlx::Error> {
    sqlx::query_as::<_, ViewRow>(
        "SELECT id, version, title, status, priority, customer_id, customer_name, customer_email,
                assignee, sla_deadline, escalation_level
         FROM complaints WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(ComplaintView::try_from)
    .transpose()
}

pub async fn save(conn: &mut PgConnection, view: &ComplaintView) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO complaints (id, version, title, status, priority, customer_name,
             customer_email, assignee, sla_deadline, escalation_level, customer_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title,
             status = EXCLUDED.status, priority = EXCLUDED.priority,
             customer_name = EXCLUDED.customer_name, customer_email = EXCLUDED.customer_email,
             assignee = EXCLUDED.assignee, sla_deadline = EXCLUDED.sla_deadline,
             escalation_level = EXCLUDED.escalation_level,
             customer_id = EXCLUDED.customer_id, updated_at = now()",
    )
    .bind(&view.id)
    .bind(view.version)
    .bind(&view.title)
    .bind(view.status.as_str())
    .bind(view.priority.as_str())
    .bind(&view.customer_name)
    .bind(&view.customer_email)
    .bind(view.assignee.as_ref().map(AgentId::as_str))
    .bind(view.sla_deadline)
    .bind(i32::try_from(view.escalation_level).unwrap_or(i32::MAX))
    .bind(&view.customer_id)
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
