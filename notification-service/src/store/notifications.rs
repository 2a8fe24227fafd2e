//! The `notifications` table: the delivery queue (PENDING rows, claimed with
//! `FOR UPDATE SKIP LOCKED` so several instances share the work) and the history.

use super::corrupt;
use crate::{
    events::Cause,
    model::{Audience, Channel, NotificationStatus, Step},
    notification::Notification,
    policy::Retractable,
};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use std::collections::HashSet;
use uuid::Uuid;

/// The NOTIFY channel that wakes the delivery worker (one per schema, like the outbox's).
pub const WAKE_CHANNEL_SQL: &str = "current_schema() || '_notifications'";

/// A notification to create.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub id: Uuid,
    pub complaint_id: String,
    pub cause: Cause,
    pub step: Step,
    pub audience: Audience,
    pub agent_id: Option<String>,
    pub recipient: String,
    pub recipient_name: String,
    pub channel: Channel,
    pub subject: String,
    pub body: String,
    /// `Some(reason)`: it can never be delivered, so it is stored FAILED at once.
    pub failure: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    complaint_id: String,
    event_id: Uuid,
    event_type: String,
    correlation_id: String,
    user_id: Option<String>,
    step: String,
    audience: String,
    agent_id: Option<String>,
    recipient: String,
    recipient_name: String,
    channel: String,
    subject: String,
    body: String,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    failure_reason: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
    retracted_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, complaint_id, event_id, event_type, correlation_id, user_id, step,
    audience, agent_id, recipient, recipient_name, channel, subject, body, status, attempts,
    next_attempt_at, last_error, failure_reason, created_at, sent_at, failed_at, retracted_at";

impl TryFrom<Row> for Notification {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, Self::Error> {
        Ok(Notification {
            id: row.id,
            complaint_id: row.complaint_id,
            cause: Cause {
                event_id: row.event_id,
                event_type: row.event_type,
                correlation_id: row.correlation_id,
                user_id: row.user_id,
            },
            step: row.step.parse().map_err(corrupt)?,
            audience: row.audience.parse().map_err(corrupt)?,
            agent_id: row.agent_id,
            recipient: row.recipient,
            recipient_name: row.recipient_name,
            channel: row.channel.parse().map_err(corrupt)?,
            subject: row.subject,
            body: row.body,
            status: row.status.parse().map_err(corrupt)?,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            failure_reason: row.failure_reason,
            created_at: row.created_at,
            sent_at: row.sent_at,
            failed_at: row.failed_at,
            retracted_at: row.retracted_at,
        })
    }
}

fn rows(rows: Vec<Row>) -> Result<Vec<Notification>, sqlx::Error> {
    rows.into_iter().map(Notification::try_from).collect()
}

/// Creates the notifications of `new` in one statement, in their order; one that addresses
/// the same recipient on the same channel for the same event as a stored one, or as one
/// earlier in `new`, is left out. Returns the ids of those created.
pub async fn insert_all(
    conn: &mut PgConnection,
    new: &[NewNotification],
) -> Result<HashSet<Uuid>, sqlx::Error> {
    if new.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<Uuid> = new.iter().map(|n| n.id).collect();
    let complaints: Vec<&str> = new.iter().map(|n| n.complaint_id.as_str()).collect();
    let event_ids: Vec<Uuid> = new.iter().map(|n| n.cause.event_id).collect();
    let event_types: Vec<&str> = new.iter().map(|n| n.cause.event_type.as_str()).collect();
    let correlations: Vec<&str> = new
        .iter()
        .map(|n| n.cause.correlation_id.as_str())
        .collect();
    let users: Vec<Option<&str>> = new.iter().map(|n| n.cause.user_id.as_deref()).collect();
    let steps: Vec<&str> = new.iter().map(|n| n.step.as_str()).collect();
    let audiences: Vec<&str> = new.iter().map(|n| n.audience.as_str()).collect();
    let agents: Vec<Option<&str>> = new.iter().map(|n| n.agent_id.as_deref()).collect();
    let recipients: Vec<&str> = new.iter().map(|n| n.recipient.as_str()).collect();
    let names: Vec<&str> = new.iter().map(|n| n.recipient_name.as_str()).collect();
    let channels: Vec<&str> = new.iter().map(|n| n.channel.as_str()).collect();
    let subjects: Vec<&str> = new.iter().map(|n| n.subject.as_str()).collect();
    let bodies: Vec<&str> = new.iter().map(|n| n.body.as_str()).collect();
    let statuses: Vec<&str> = new
        .iter()
        .map(|n| match n.failure {
            Some(_) => NotificationStatus::Failed.as_str(),
            None => NotificationStatus::Pending.as_str(),
        })
        .collect();
    let failures: Vec<Option<&str>> = new.iter().map(|n| n.failure.as_deref()).collect();
    // In the order given (ORDINALITY), so that of two rows for the same event, recipient and
    // channel the first is kept, as inserting them one by one would.
    let inserted: Vec<(Uuid,)> = sqlx::query_as(
        "INSERT INTO notifications (id, complaint_id, event_id, event_type, correlation_id,
             user_id, step, audience, agent_id, recipient, recipient_name, channel, subject, body,
             status, failure_reason, failed_at)
         SELECT id, complaint_id, event_id, event_type, correlation_id, user_id, step, audience,
             agent_id, recipient, recipient_name, channel, subject, body, status, failure_reason,
             CASE WHEN failure_reason IS NULL THEN NULL ELSE now() END
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
             $13::text[], $14::text[], $15::text[], $16::text[])
             WITH ORDINALITY AS t(id, complaint_id, event_id, event_type, correlation_id,
                 user_id, step, audience, agent_id, recipient, recipient_name, channel, subject,
                 body, status, failure_reason, n)
         ORDER BY n
         ON CONFLICT (event_id, recipient, channel) DO NOTHING
         RETURNING id",
    )
    .bind(&ids)
    .bind(&complaints)
    .bind(&event_ids)
    .bind(&event_types)
    .bind(&correlations)
    .bind(&users)
    .bind(&steps)
    .bind(&audiences)
    .bind(&agents)
    .bind(&recipients)
    .bind(&names)
    .bind(&channels)
    .bind(&subjects)
    .bind(&bodies)
    .bind(&statuses)
    .bind(&failures)
    .fetch_all(conn)
    .await?;
    Ok(inserted.into_iter().map(|(id,)| id).collect())
}

/// Wakes the delivery workers when the caller's transaction commits.
pub async fn wake_delivery(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("SELECT pg_notify({WAKE_CHANNEL_SQL}, '')"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The notifications of `step` about `agent_id` for complaint `complaint_id` that a
/// compensation may withdraw: those of the latest event of that step, not yet withdrawn.
/// Locked, so a delivery in flight finishes first and its outcome is seen.
pub async fn retractable(
    conn: &mut PgConnection,
    complaint_id: &str,
    step: Step,
    agent_id: &str,
) -> Result<Vec<Retractable>, sqlx::Error> {
    let found: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE event_id = (SELECT event_id FROM notifications
                           WHERE complaint_id = $1 AND step = $2 AND agent_id = $3
                           ORDER BY id DESC LIMIT 1)
           AND retracted_at IS NULL
         ORDER BY id FOR UPDATE"
    ))
    .bind(complaint_id)
    .bind(step.as_str())
    .bind(agent_id)
    .fetch_all(conn)
    .await?;
    Ok(rows(found)?
        .into_iter()
        .map(|n| Retractable {
            id: n.id,
            status: n.status,
            audience: n.audience,
            recipient: n.recipient,
            recipient_name: n.recipient_name,
        })
        .collect())
}

/// Withdraws notifications: pending ones are cancelled, the others marked retracted.
pub async fn withdraw(
    conn: &mut PgConnection,
    cancel: &[Uuid],
    retract: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET status = 'CANCELLED', retracted_at = now(), updated_at = now(),
             failure_reason = 'cancelled by a compensation'
         WHERE id = ANY($1) AND status = 'PENDING'",
    )
    .bind(cancel)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE notifications SET retracted_at = now(), updated_at = now() WHERE id = ANY($1)",
    )
    .bind(retract)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Up to `limit` pending notifications whose attempt is due, oldest due first, locked for
/// the caller's transaction; rows another worker holds are skipped.
pub async fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    let found: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE status = 'PENDING' AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1
         FOR UPDATE SKIP LOCKED"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows(found)
}

/// Marks the notifications of a round sent, in one statement: `(id, attempts)` each.
pub async fn mark_sent(
    conn: &mut PgConnection,
    sent: &[(Uuid, u32)],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if sent.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = sent.iter().map(|(id, _)| *id).collect();
    let attempts: Vec<i32> = sent.iter().map(|(_, n)| attempts_column(*n)).collect();
    sqlx::query(
        "UPDATE notifications SET status = 'SENT', attempts = t.attempts, sent_at = $3,
             updated_at = $3, last_error = NULL
         FROM UNNEST($1::uuid[], $2::int[]) AS t(id, attempts)
         WHERE notifications.id = t.id",
    )
    .bind(ids)
    .bind(attempts)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn schedule_retry(
    conn: &mut PgConnection,
    id: Uuid,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET attempts = $2, next_attempt_at = $3, last_error = $4,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(attempts_column(attempts))
    .bind(next_attempt_at)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    attempts: u32,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notifications SET status = 'FAILED', attempts = $2, failure_reason = $3,
             failed_at = $4, updated_at = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(attempts_column(attempts))
    .bind(reason)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

fn attempts_column(attempts: u32) -> i32 {
    i32::try_from(attempts).unwrap_or(i32::MAX)
}

/// How many notifications wait for delivery, and when the next one is due.
pub async fn pending(pool: &PgPool) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    // Sent notifications leave dead entries in the `notifications_due` index.
    let mut tx = shared::postgres::begin_queue_read(pool).await?;
    let pending = sqlx::query_as(
        "SELECT count(*), min(next_attempt_at) FROM notifications WHERE status = 'PENDING'",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(pending)
}

/// What the history is filtered by.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub complaint_id: Option<String>,
    pub status: Option<NotificationStatus>,
    pub step: Option<Step>,
    /// Only notifications older than this one (the cursor of the next page).
    pub before: Option<Uuid>,
    pub limit: i64,
}

/// Notifications, newest first (ids are time-ordered UUIDv7).
pub async fn history(
    pool: &PgPool,
    filter: &HistoryFilter,
) -> Result<Vec<Notification>, sqlx::Error> {
    let found: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE ($1::text IS NULL OR complaint_id = $1)
           AND ($2::text IS NULL OR status = $2)
           AND ($3::text IS NULL OR step = $3)
           AND ($4::uuid IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5"
    ))
    .bind(&filter.complaint_id)
    .bind(filter.status.map(NotificationStatus::as_str))
    .bind(filter.step.map(Step::as_str))
    .bind(filter.before)
    .bind(filter.limit)
    .fetch_all(pool)
    .await?;
    rows(found)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Notification>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(Notification::try_from)
    .transpose()
}
