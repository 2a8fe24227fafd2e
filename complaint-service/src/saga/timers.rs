//! The two clocks of the sagas, one background loop: SLA deadlines that escalate unresolved
//! complaints, and saga steps that waited too long for an answer. Both read their due rows
//! from PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several instances share the work and a
//! deadline that passed while the service was down fires as soon as it is back: the first
//! round runs at start-up. An overdue step is resumed (SAGA_RETRIED) while the saga has
//! automatic resumes left, then failed: no saga is left waiting past its deadline.

use super::{
    consumer::numbered,
    metrics,
    policy::{self, Overdue},
    store,
};
use crate::{
    commands::{CommandContext, CommandService},
    error::ServiceError,
};
use chrono::{SubsecRound, TimeDelta, Utc};
use shared::{
    complaint::{Command, DomainError},
    lifecycle::Background,
};
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// Due rows handled per round.
const BATCH: i64 = 50;

pub struct Clocks {
    pub pool: PgPool,
    pub commands: Arc<CommandService>,
    pub interval: Duration,
    /// The new deadline of a resumed step.
    pub step_timeout: TimeDelta,
    /// How many times an overdue step is resumed before its saga fails.
    pub auto_resumes: u32,
}

impl Clocks {
    pub fn spawn(self, background: &Background) {
        let shutdown = background.shutdown.clone();
        background.tracker.spawn(self.run(shutdown));
    }

    async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.interval);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(error) = self.escalate_overdue_complaints().await {
                tracing::warn!(%error, "SLA timers: will try again");
            }
            if let Err(error) = self.recover_overdue_steps().await {
                tracing::warn!(%error, "saga step timeouts: will try again");
            }
        }
    }

    /// Escalates every complaint whose SLA deadline has passed. The escalation re-arms the
    /// timer at the new deadline (through COMPLAINT_ESCALATED); a timer that finds nothing to
    /// escalate (resolved, or not due after all) is simply removed.
    async fn escalate_overdue_complaints(&self) -> Result<(), ServiceError> {
        let mut tx = self.pool.begin().await?;
        let due = store::due_timers(&mut tx, Utc::now(), BATCH).await?;
        for (complaint_id, deadline) in due {
            let context = CommandContext::new(format!("sla-timer-{complaint_id}"));
            match self
                .commands
                .execute(complaint_id, Command::Escalate, &context)
                .await
            {
                Ok(_) => tracing::info!(%complaint_id, "SLA deadline passed: escalated"),
                Err(ServiceError::Refused(DomainError::EscalationNotDue { .. })) => {}
                Err(ServiceError::Refused(refusal)) => {
                    tracing::info!(%complaint_id, %refusal, "SLA timer found nothing to escalate");
                }
                Err(ServiceError::VersionConflict { .. }) => continue, // next round
                Err(other) => return Err(other),
            }
            store::remove_fired_timer(&mut tx, complaint_id, deadline).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Resumes or fails the sagas whose pending step got no answer in time.
    async fn recover_overdue_steps(&self) -> Result<(), sqlx::Error> {
        let now = Utc::now().trunc_subsecs(6);
        let overdue = Overdue {
            auto_resumes: self.auto_resumes,
            step_timeout: self.step_timeout,
        };
        let mut tx = self.pool.begin().await?;
        let mut finished = Vec::new();
        for saga in store::overdue(&mut tx, now, BATCH).await? {
            if let Some(next) = policy::on_timeout(&saga, now, overdue) {
                let (after, announced) = numbered(next, saga.trigger_event_id, now);
                store::update(&mut tx, &after).await?;
                shared::outbox::enqueue(&mut tx, &announced).await?;
                if after.status.is_final() {
                    tracing::warn!(saga_id = %saga.saga_id, "saga step timed out: manual intervention required");
                    finished.push(after);
                } else {
                    tracing::info!(saga_id = %saga.saga_id, attempt = after.attempt, "saga step timed out: resumed");
                    metrics::retried(after.kind, "recovery");
                }
            }
        }
        tx.commit().await?;
        finished.iter().for_each(metrics::finished);
        Ok(())
    }
}
