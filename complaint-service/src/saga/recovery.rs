//! Saga recovery for operators: which sagas stand where, resuming a failed one at its failed
//! step, closing one for good with a reason. Each change locks the saga row, applies the pure
//! [`policy`] transition and commits it with its SAGA_* announcements (outbox), so the audit
//! trail and the event store hear of it exactly as of any other saga move.

use super::{
    consumer::numbered,
    metrics,
    model::Saga,
    policy::{self, AlreadyClosed, NotRetryable, Transition},
    store::{self, SagaFilter},
};
use crate::{error::ServiceError, listing::Cursor};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde::Serialize;
use shared::complaint::Reason;
use shared::http::cursor::Keyset;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// One page of the saga list.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SagaPage {
    pub items: Vec<Saga>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("no saga has the id {0}")]
    NotFound(Uuid),
    #[error(transparent)]
    NotRetryable(#[from] NotRetryable),
    #[error(transparent)]
    AlreadyClosed(#[from] AlreadyClosed),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for RecoveryError {
    fn from(error: sqlx::Error) -> Self {
        Self::Service(ServiceError::Database(error))
    }
}

pub struct SagaRecovery {
    pool: PgPool,
    /// The deadline of a resumed step.
    step_timeout: TimeDelta,
}

impl SagaRecovery {
    pub fn new(pool: PgPool, step_timeout: TimeDelta) -> Self {
        Self { pool, step_timeout }
    }

    /// Sagas newest first, `limit` at a time.
    pub async fn list(
        &self,
        filter: &SagaFilter,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<SagaPage, ServiceError> {
        let mut items = store::list(&self.pool, filter, after, limit).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = more
            .then(|| items.last())
            .flatten()
            .map(|last| Cursor {
                created_at: last.started_at,
                id: last.saga_id,
            })
            .map(|c| c.encode());
        Ok(SagaPage { items, next_cursor })
    }

    /// Resumes a FAILED saga at its failed step (same id, next attempt).
    pub async fn retry(&self, saga_id: Uuid) -> Result<Saga, RecoveryError> {
        let timeout = self.step_timeout;
        let saga = self
            .change(saga_id, |saga, now| Ok(policy::retry(saga, now, timeout)?))
            .await?;
        metrics::retried(saga.kind, "operator");
        if saga.status.is_final() {
            metrics::finished(&saga); // a late answer completed it at once
        }
        tracing::info!(%saga_id, attempt = saga.attempt, status = saga.status.as_str(), "saga retried");
        Ok(saga)
    }

    /// Closes a saga for good, with the operator's reason.
    pub async fn abandon(&self, saga_id: Uuid, reason: &Reason) -> Result<Saga, RecoveryError> {
        let saga = self
            .change(saga_id, |saga, now| {
                Ok(policy::abandon(saga, reason.as_str(), now)?)
            })
            .await?;
        metrics::finished(&saga);
        tracing::info!(%saga_id, reason = reason.as_str(), "saga abandoned");
        Ok(saga)
    }

    /// Locks the saga, applies `transition`, stores it with its announcements, commits.
    async fn change(
        &self,
        saga_id: Uuid,
        transition: impl FnOnce(&Saga, DateTime<Utc>) -> Result<Transition, RecoveryError>,
    ) -> Result<Saga, RecoveryError> {
        let now = Utc::now().trunc_subsecs(6);
        let mut tx = self.pool.begin().await?;
        let saga = store::lock(&mut tx, saga_id)
            .await?
            .ok_or(RecoveryError::NotFound(saga_id))?;
        let next = transition(&saga, now)?;
        // The announcements name the trigger as their cause: the work they resume or close.
        let (after, announced) = numbered(next, saga.trigger_event_id, now);
        store::update(&mut tx, &after).await?;
        shared::outbox::enqueue(&mut tx, &announced).await?;
        tx.commit().await?;
        Ok(after)
    }
}
