//! The query side: reads only the view tables the projector keeps. A read may ask for a
//! version it has just written (`minVersion`); it then waits, within a bound, for the
//! projector to get there, and else says so ([`ServiceError::ReadModelBehind`]) rather than
//! answer with an older state. A version never written is told apart at once, by the event
//! stream's own version ([`ServiceError::VersionNotWritten`]).

use chrono::Utc;
use serde::Serialize;
use shared::complaint::{Complaint, Priority, Status};
use shared::http::cursor::Keyset;
use sqlx::PgPool;
use std::{collections::BTreeMap, time::Duration};
use tokio::time::Instant;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::ServiceError,
    listing::{Cursor, ListFilter},
    metrics,
    projection::{projector::ProjectionSignals, TimelineEntry},
    store::{events, views},
};

/// Between two looks at the read model while waiting, in case another instance projects.
const WAIT_POLL: Duration = Duration::from_millis(100);

/// A complaint as the read model has it, with its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplaintDetails {
    #[serde(flatten)]
    pub complaint: Complaint,
    pub timeline: Vec<TimelineEntry>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplaintPage {
    pub items: Vec<Complaint>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Counts by status and priority, and resolution times.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    pub total: i64,
    /// Every status, with 0 where there are none.
    pub by_status: BTreeMap<String, i64>,
    /// Every priority, with 0 where there are none.
    pub by_priority: BTreeMap<String, i64>,
    /// Complaints resolved now (RESOLVED or CLOSED).
    pub resolved: i64,
    /// Mean time from creation to the latest resolution of those, in seconds; absent if
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_time_to_resolution_seconds: Option<f64>,
    /// Unresolved complaints past their SLA deadline.
    pub overdue: i64,
}

pub struct QueryService {
    pool: PgPool,
    signals: ProjectionSignals,
    max_wait: Duration,
}

impl QueryService {
    pub fn new(pool: PgPool, signals: ProjectionSignals, max_wait: Duration) -> Self {
        Self {
            pool,
            signals,
            max_wait,
        }
    }

    /// Complaint `id`; with `min_version`, once the read model has reached it.
    pub async fn get(
        &self,
        id: Uuid,
        min_version: Option<i64>,
    ) -> Result<ComplaintDetails, ServiceError> {
        metrics::query_executed("get");
        if let Some(min_version) = min_version {
            self.wait_for(id, min_version).await?;
        }
        let (complaint, timeline) = views::get(&self.pool, id)
            .await?
            .ok_or(ServiceError::NotFound(id))?;
        Ok(ComplaintDetails {
            complaint,
            timeline,
        })
    }

    /// Returns once the read model has `min_version` of `id`. The event stream says first
    /// whether that version exists at all: a client holding a version a command answered
    /// with always finds it there, so waiting only ever covers the projector's lag.
    async fn wait_for(&self, id: Uuid, min_version: i64) -> Result<(), ServiceError> {
        let written = events::current_version(&self.pool, id).await?;
        if written == 0 {
            return Err(ServiceError::NotFound(id));
        }
        if written < min_version {
            return Err(ServiceError::VersionNotWritten {
                requested: min_version,
                current: written,
            });
        }
        let deadline = Instant::now() + self.max_wait;
        let mut progress = self.signals.progress();
        loop {
            progress.borrow_and_update();
            let version = views::version(&self.pool, id).await?;
            if version.is_some_and(|v| v >= min_version) {
                return Ok(());
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ServiceError::ReadModelBehind {
                    requested: min_version,
                    shown: version.unwrap_or(0),
                });
            }
            let wait = remaining.min(WAIT_POLL);
            match tokio::time::timeout(wait, progress.changed()).await {
                Ok(Ok(())) | Err(_) => {}
                // The projector is gone (shutting down): just poll.
                Ok(Err(_)) => tokio::time::sleep(wait).await,
            }
        }
    }

    pub async fn list(
        &self,
        filter: &ListFilter,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<ComplaintPage, ServiceError> {
        metrics::query_executed("list");
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // One more than asked tells whether there is a next page.
        let mut items = views::list(
            &self.pool,
            filter,
            after,
            i64::try_from(limit).unwrap_or(100) + 1,
        )
        .await?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().and_then(cursor_after)
        } else {
            None
        };
        Ok(ComplaintPage { items, next_cursor })
    }

    pub async fn statistics(&self) -> Result<Statistics, ServiceError> {
        metrics::query_executed("statistics");
        let counts = views::counts(&self.pool).await?;
        let resolution = views::resolution_times(&self.pool).await?;
        let overdue = views::overdue(&self.pool, Utc::now()).await?;
        let mut by_status: BTreeMap<String, i64> = Status::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        let mut by_priority: BTreeMap<String, i64> = Priority::ALL
            .iter()
            .map(|p| (p.as_str().to_owned(), 0))
            .collect();
        let mut total = 0;
        for row in counts {
            total += row.count;
            *by_status.entry(row.status).or_default() += row.count;
            *by_priority.entry(row.priority).or_default() += row.count;
        }
        Ok(Statistics {
            total,
            by_status,
            by_priority,
            resolved: resolution.resolved,
            mean_time_to_resolution_seconds: resolution.mean_seconds,
            overdue,
        })
    }
}

fn cursor_after(last: &Complaint) -> Option<String> {
    Some(
        Cursor {
            created_at: last.created_at?,
            id: last.id.parse().ok()?,
        }
        .encode(),
    )
}
