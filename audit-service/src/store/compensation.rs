//! Compensation marks, inside the recording transaction (the rule is in
//! `crate::compensation`): store new requests, find the requests the new entries may extend,
//! compute their steps again, insert the missing marks and announce them through the outbox.

use crate::{
    compensation::{announcement, CompensationMark, CompensationRequest, MarkedEntry},
    entry::EntryContent,
    error::AuditError,
};
use chrono::{DateTime, Utc};
use shared::event::{Envelope, EventType};
use sqlx::PgConnection;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The step of each request, computed by the rule of `crate::compensation`, minus the
/// entries already marked; inserts those marks and returns them with their event types.
const MARK_STEPS: &str = "
WITH RECURSIVE
requests AS (
    SELECT event_id, aggregate_id, agent_id, reason, failed_step, requested_at
    FROM compensation_requests WHERE event_id = ANY($1)
),
anchors AS (
    SELECT DISTINCT ON (r.event_id) r.event_id AS request_id, e.event_id, e.sequence
    FROM requests r
    JOIN audit_entries e
      ON e.aggregate_id = r.aggregate_id
     AND e.event_type = 'COMPLAINT_ASSIGNED'
     AND e.payload ->> 'agentId' = r.agent_id
     AND e.occurred_at <= r.requested_at
    ORDER BY r.event_id, e.occurred_at DESC, e.sequence DESC
),
step (request_id, event_id, sequence) AS (
    SELECT request_id, event_id, sequence FROM anchors
    UNION
    SELECT s.request_id, e.event_id, e.sequence
    FROM step s
    JOIN audit_entries e ON e.causation_id = s.event_id::text
    WHERE e.event_id <> s.request_id
),
marked AS (
    INSERT INTO audit_compensations
        (entry_event_id, entry_sequence, compensating_event_id, reason, failed_step)
    SELECT s.event_id, s.sequence, r.event_id, r.reason, r.failed_step
    FROM step s JOIN requests r ON r.event_id = s.request_id
    ON CONFLICT DO NOTHING
    RETURNING compensating_event_id, entry_sequence, entry_event_id
)
SELECT m.compensating_event_id, m.entry_sequence, m.entry_event_id, e.event_type
FROM marked m JOIN audit_entries e ON e.sequence = m.entry_sequence
ORDER BY m.compensating_event_id, m.entry_sequence";

/// Lays the marks that the new entries (`fresh`, recorded as `entries`) call for; returns how
/// many entries were marked.
pub(super) async fn mark(
    tx: &mut PgConnection,
    fresh: &[&Envelope],
    entries: &[EntryContent],
    now: DateTime<Utc>,
) -> Result<usize, AuditError> {
    let requests = new_requests(fresh);
    insert_requests(tx, &requests).await?;

    let mut affected: Vec<Uuid> = requests.iter().map(|r| r.event_id).collect();
    affected.extend(requests_extended_by(tx, entries).await?);
    affected.sort_unstable();
    affected.dedup();
    if affected.is_empty() {
        return Ok(0);
    }

    let rows: Vec<(Uuid, i64, Uuid, String)> = sqlx::query_as(MARK_STEPS)
        .bind(&affected)
        .fetch_all(&mut *tx)
        .await?;
    let mut marks: BTreeMap<Uuid, Vec<MarkedEntry>> =
        requests.iter().map(|r| (r.event_id, Vec::new())).collect();
    for (request, sequence, event_id, event_type) in rows.iter().cloned() {
        marks.entry(request).or_default().push(MarkedEntry {
            sequence,
            event_id,
            event_type,
        });
    }
    announce(tx, &marks, now).await?;
    Ok(rows.len())
}

/// The compensation requests among the new events. One that cannot be read is recorded like
/// any event but compensates nothing; it is logged for an operator.
fn new_requests(fresh: &[&Envelope]) -> Vec<CompensationRequest> {
    fresh
        .iter()
        .filter_map(|event| match CompensationRequest::from_envelope(event) {
            Ok(request) => request,
            Err(error) => {
                tracing::warn!(event_id = %event.event_id, %error, "unreadable compensation request: recorded, nothing marked");
                None
            }
        })
        .collect()
}

async fn insert_requests(
    tx: &mut PgConnection,
    requests: &[CompensationRequest],
) -> Result<(), AuditError> {
    if requests.is_empty() {
        return Ok(());
    }
    let texts = |f: fn(&CompensationRequest) -> String| requests.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO compensation_requests
             (event_id, aggregate_id, agent_id, reason, failed_step, correlation_id, requested_at)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::timestamptz[])
         ON CONFLICT DO NOTHING",
    )
    .bind(requests.iter().map(|r| r.event_id).collect::<Vec<_>>())
    .bind(texts(|r| r.complaint_id.clone()))
    .bind(texts(|r| r.agent_id.clone()))
    .bind(texts(|r| r.reason.clone()))
    .bind(texts(|r| r.failed_step.clone()))
    .bind(texts(|r| r.correlation_id.clone()))
    .bind(requests.iter().map(|r| r.requested_at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Earlier requests whose step the new entries may belong to, having arrived late: requests
/// about a complaint of which a COMPLAINT_ASSIGNED arrived (a late anchor), and requests that
/// marked the cause of a new entry (a late descendant).
async fn requests_extended_by(
    tx: &mut PgConnection,
    entries: &[EntryContent],
) -> Result<Vec<Uuid>, AuditError> {
    let assigned: Vec<&str> = entries
        .iter()
        .filter(|e| e.event_type == EventType::ComplaintAssigned.as_str())
        .map(|e| e.aggregate_id.as_str())
        .collect();
    let causes: Vec<Uuid> = entries
        .iter()
        .filter_map(|e| Uuid::parse_str(e.causation_id.as_deref()?).ok())
        .collect();
    if assigned.is_empty() && causes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT event_id FROM compensation_requests WHERE aggregate_id = ANY($1)
         UNION
         SELECT compensating_event_id FROM audit_compensations WHERE entry_event_id = ANY($2)",
    )
    .bind(assigned)
    .bind(causes)
    .fetch_all(&mut *tx)
    .await?)
}

/// One AUDIT_COMPENSATION per request that is new or marked more entries, via the outbox.
async fn announce(
    tx: &mut PgConnection,
    marks: &BTreeMap<Uuid, Vec<MarkedEntry>>,
    now: DateTime<Utc>,
) -> Result<(), AuditError> {
    let to_announce: Vec<Uuid> = marks.keys().copied().collect();
    if to_announce.is_empty() {
        return Ok(());
    }
    let rows: Vec<RequestRow> = sqlx::query_as(
        "UPDATE compensation_requests SET announcements = announcements + 1
         WHERE event_id = ANY($1)
         RETURNING event_id, aggregate_id, agent_id, reason, failed_step, correlation_id,
                   requested_at, announcements",
    )
    .bind(&to_announce)
    .fetch_all(&mut *tx)
    .await?;
    let mut events: Vec<(DateTime<Utc>, Envelope)> = rows
        .into_iter()
        .map(|row| {
            let version = i64::from(row.announcements);
            let request = row.into_request();
            let marked = marks.get(&request.event_id).map_or(&[][..], Vec::as_slice);
            (
                request.requested_at,
                announcement(&request, marked, version, now),
            )
        })
        .collect();
    events.sort_by_key(|(at, _)| *at);
    let events: Vec<Envelope> = events.into_iter().map(|(_, e)| e).collect();
    shared::outbox::enqueue(tx, &events).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    event_id: Uuid,
    aggregate_id: String,
    agent_id: String,
    reason: String,
    failed_step: String,
    correlation_id: String,
    requested_at: DateTime<Utc>,
    announcements: i32,
}

impl RequestRow {
    fn into_request(self) -> CompensationRequest {
        CompensationRequest {
            event_id: self.event_id,
            complaint_id: self.aggregate_id,
            agent_id: self.agent_id,
            reason: self.reason,
            failed_step: self.failed_step,
            correlation_id: self.correlation_id,
            requested_at: self.requested_at,
        }
    }
}

/// The marks on the entries `event_ids`, oldest first.
pub(super) async fn marks_on(
    pool: &sqlx::PgPool,
    event_ids: &[Uuid],
) -> Result<Vec<CompensationMark>, AuditError> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, Uuid, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT entry_event_id, compensating_event_id, reason, failed_step, compensated_at
         FROM audit_compensations WHERE entry_event_id = ANY($1)
         ORDER BY compensated_at, compensating_event_id",
    )
    .bind(event_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(entry_event_id, compensating_event_id, reason, failed_step, compensated_at)| {
                CompensationMark {
                    entry_event_id,
                    compensating_event_id,
                    reason,
                    failed_step,
                    compensated_at,
                }
            },
        )
        .collect())
}
