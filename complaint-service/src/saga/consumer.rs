//! The saga keeper: one queue that hears the complaint's own events (which start sagas and
//! move SLA timers) and the other services' replies (which move sagas on). Every change to a
//! saga commits with its SAGA_* announcements (outbox) and the inbox entry of the event that
//! caused it; compensating the complaint runs as commands caused by the failure event, each
//! done at most once, so a redelivery finishes what a crash interrupted and repeats nothing.

use super::{
    metrics,
    model::{Saga, SagaKind, SagaStatus},
    policy::{self, Announcement, Compensation, Reply, Transition},
    store,
};
use crate::{
    commands::{CommandContext, CommandService},
    config::SERVICE,
    error::ServiceError,
};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use shared::{
    complaint::{AgentId, Command, ComplaintEvent, Reason},
    event::{exchanges, Envelope, EventType, Metadata},
    messaging::{Handler, HandlerError, QueueSpec},
};
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

pub const QUEUE: &str = "complaint-service.sagas";

/// The queue: complaint events, notification replies, audit replies.
pub fn queue() -> QueueSpec {
    QueueSpec::new(QUEUE)
        .bind(exchanges::COMPLAINTS, "#")
        .bind(exchanges::NOTIFICATIONS, "#")
        .bind(exchanges::AUDIT, "#")
}

pub struct SagaKeeper {
    pub pool: PgPool,
    pub commands: Arc<CommandService>,
    /// How long a step may wait for its answer.
    pub step_timeout: TimeDelta,
}

impl Handler for SagaKeeper {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let Some(event_type) = event.known_type() else {
            return Ok(()); // a type this build does not know
        };
        let outcome = if event_type.is_complaint_event() {
            self.on_complaint_event(event_type, event).await
        } else {
            self.on_reply(event).await
        };
        outcome.map_err(|error| {
            if error.is_transient() {
                HandlerError::Transient(error.into())
            } else {
                HandlerError::Permanent(error.into())
            }
        })
    }
}

#[derive(Debug, thiserror::Error)]
enum KeeperError {
    /// A reply came before the saga it answers was recorded: try again shortly.
    #[error("no saga waits for this reply yet: {0}")]
    NotYet(String),
    #[error("undecodable complaint event: {0}")]
    Undecodable(#[from] shared::complaint::DecodeError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl KeeperError {
    /// Worth another try: the database failed, the reply came early, or a compensation lost
    /// the race with a user's command on the same complaint (the next try reads the newer
    /// version, as the SLA timers do).
    fn is_transient(&self) -> bool {
        matches!(
            self,
            KeeperError::NotYet(_)
                | KeeperError::Service(
                    ServiceError::Database(_) | ServiceError::VersionConflict { .. }
                )
        )
    }
}

impl From<sqlx::Error> for KeeperError {
    fn from(error: sqlx::Error) -> Self {
        KeeperError::Service(ServiceError::Database(error))
    }
}

impl SagaKeeper {
    async fn on_complaint_event(
        &self,
        event_type: EventType,
        event: &Envelope,
    ) -> Result<(), KeeperError> {
        let Some(complaint_event) = ComplaintEvent::from_envelope(event)? else {
            return Ok(());
        };
        let Ok(complaint_id) = event.aggregate_id.parse::<Uuid>() else {
            return Ok(()); // not one of ours
        };
        let now = now();
        let mut tx = self.pool.begin().await?;
        if !shared::inbox::first_time(&mut tx, QUEUE, event.event_id).await? {
            return Ok(());
        }
        move_timer(&mut tx, complaint_id, &complaint_event).await?;
        if let Some(kind) = policy::kind_started_by(event_type) {
            let agent = match &complaint_event {
                ComplaintEvent::Assigned(assigned) => Some(assigned.agent_id.to_string()),
                _ => None,
            };
            let started = policy::start(kind, event, agent, now, self.step_timeout);
            let (saga, announced) = numbered(started, event.event_id, now);
            if store::insert(&mut tx, &saga).await? {
                shared::outbox::enqueue(&mut tx, &announced).await?;
                metrics::started(kind);
            }
        }
        if let ComplaintEvent::CompensationRequired(_) = complaint_event {
            if let Some(saga) = store::compensating(&mut tx, &event.aggregate_id).await? {
                let next =
                    policy::compensation_started(&saga, event.event_id, now, self.step_timeout);
                self.record(&mut tx, &saga, next, event.event_id, now)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn on_reply(&self, event: &Envelope) -> Result<(), KeeperError> {
        let Some((cause, reply)) = Reply::from_envelope(event) else {
            return Ok(());
        };
        let now = now();
        let mut tx = self.pool.begin().await?;
        let Some(saga) = store::awaiting(&mut tx, cause).await? else {
            return if expects_a_saga(&reply) {
                Err(KeeperError::NotYet(format!(
                    "{} caused by {cause}",
                    event.event_type
                )))
            } else {
                Ok(()) // a status notification, say: no saga waits for it
            };
        };
        let first_time = shared::inbox::first_time(&mut tx, QUEUE, event.event_id).await?;
        let mut current = saga.clone();
        let mut compensation = None;
        if first_time {
            if let Some(next) = policy::on_reply(&saga, &reply, now) {
                compensation = next.compensate.clone();
                current = self
                    .record(&mut tx, &saga, next, event.event_id, now)
                    .await?;
            }
        }
        tx.commit().await?;
        // After a crash between that commit and the commands below, the redelivered failure
        // finds the saga compensating with nothing asked yet, and asks again; each command
        // runs at most once per cause.
        if compensation.is_none() && awaits_its_compensation(&current, &reply) {
            compensation = current.agent_id.clone().map(|agent_id| Compensation {
                agent_id,
                reason: failure_reason(&reply),
                failed_step: policy::NOTIFY_ASSIGNEE.to_owned(),
            });
        }
        if let Some(compensation) = compensation {
            self.compensate(&current, &compensation, event, now).await?;
        }
        Ok(())
    }

    /// COMPLAINT_COMPENSATION_REQUIRED then COMPLAINT_ASSIGNMENT_REVERTED, caused by the
    /// failure. If the complaint refuses (it was reassigned since), a person must look.
    async fn compensate(
        &self,
        saga: &Saga,
        compensation: &Compensation,
        failure: &Envelope,
        now: DateTime<Utc>,
    ) -> Result<(), KeeperError> {
        let complaint_id: Uuid = saga
            .complaint_id
            .parse()
            .map_err(|_| ServiceError::Inconsistent("a saga of a complaint with a non-UUID id"))?;
        let refused = match self
            .run_compensation(complaint_id, compensation, failure)
            .await
        {
            Ok(()) => return Ok(()),
            Err(ServiceError::Refused(refusal)) => refusal.to_string(),
            Err(other) => return Err(other.into()),
        };
        let mut tx = self.pool.begin().await?;
        if let Some(locked) = store::awaiting(&mut tx, saga.trigger_event_id).await? {
            if locked.status == SagaStatus::Compensating && locked.compensation_event_id.is_none() {
                let next = policy::compensation_refused(&locked, &refused, now);
                self.record(&mut tx, &locked, next, failure.event_id, now)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn run_compensation(
        &self,
        complaint_id: Uuid,
        compensation: &Compensation,
        failure: &Envelope,
    ) -> Result<(), ServiceError> {
        let agent_id = AgentId::parse(compensation.agent_id.clone())?;
        let reason = Reason::parse(short_reason(&compensation.reason))?;
        let require = Command::RequireCompensation {
            agent_id: agent_id.clone(),
            reason: reason.clone(),
            failed_step: compensation.failed_step.clone(),
        };
        self.commands
            .execute_once(
                complaint_id,
                require,
                &CommandContext::caused_by(failure, "complaint-service.saga-compensation"),
            )
            .await?;
        let revert = Command::RevertAssignment { agent_id, reason };
        self.commands
            .execute_once(
                complaint_id,
                revert,
                &CommandContext::caused_by(failure, "complaint-service.saga-revert"),
            )
            .await?;
        metrics::compensated(SagaKind::Assignment);
        Ok(())
    }

    /// Stores `next` (replacing `before`) with its announcements; returns the stored saga.
    async fn record(
        &self,
        tx: &mut PgConnection,
        before: &Saga,
        next: Transition,
        cause: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Saga, KeeperError> {
        let (saga, announced) = numbered(next, cause, now);
        store::update(tx, &saga).await?;
        shared::outbox::enqueue(tx, &announced).await?;
        if saga.status.is_final() && !before.status.is_final() {
            metrics::finished(&saga);
        }
        Ok(saga)
    }
}

/// The transition's saga and its announcements as envelopes, numbered in the saga's own
/// stream (SAGA_STARTED is version 1).
pub(super) fn numbered(
    transition: Transition,
    cause: Uuid,
    now: DateTime<Utc>,
) -> (Saga, Vec<Envelope>) {
    let mut saga = transition.saga;
    let envelopes = transition
        .announcements
        .into_iter()
        .map(|announcement| {
            saga.version += 1;
            envelope(&saga, announcement, cause, now)
        })
        .collect();
    (saga, envelopes)
}

/// Keeps the SLA timer in step with the complaint: armed at its deadline while unresolved.
async fn move_timer(
    tx: &mut PgConnection,
    complaint_id: Uuid,
    event: &ComplaintEvent,
) -> Result<(), sqlx::Error> {
    let deadline = match event {
        ComplaintEvent::Created(e) => Some(e.sla_deadline),
        ComplaintEvent::PriorityChanged(e) => Some(e.sla_deadline),
        ComplaintEvent::Escalated(e) => Some(e.sla_deadline),
        ComplaintEvent::Reopened(e) => Some(e.sla_deadline),
        ComplaintEvent::Resolved(_) | ComplaintEvent::Closed(_) => {
            return store::disarm_timer(tx, complaint_id).await;
        }
        _ => None,
    };
    match deadline {
        Some(deadline) => store::arm_timer(tx, complaint_id, deadline).await,
        None => Ok(()),
    }
}

fn envelope(saga: &Saga, announcement: Announcement, cause: Uuid, now: DateTime<Utc>) -> Envelope {
    let metadata = Metadata::new(SERVICE, saga.correlation_id.clone(), now)
        .with_version(saga.version)
        .with_causation(cause.to_string());
    Envelope::new(
        announcement.event_type,
        saga.saga_id.to_string(),
        "Saga",
        announcement.data,
        metadata,
    )
}

/// Replies to the steps sagas are made of must find their saga; others need not.
fn expects_a_saga(reply: &Reply) -> bool {
    match reply {
        Reply::NotificationSent { step, .. } | Reply::NotificationFailed { step, .. } => {
            matches!(
                step.as_str(),
                "acknowledgement" | "assignment" | "escalation"
            )
        }
        Reply::NotificationsRetracted | Reply::AuditCompensated => true,
    }
}

fn awaits_its_compensation(saga: &Saga, reply: &Reply) -> bool {
    saga.kind == SagaKind::Assignment
        && saga.status == SagaStatus::Compensating
        && saga.compensation_event_id.is_none()
        && matches!(reply, Reply::NotificationFailed { step, audience, .. } if step == "assignment" && audience == "assignee")
}

fn failure_reason(reply: &Reply) -> String {
    match reply {
        Reply::NotificationFailed { reason, .. } => reason.clone(),
        _ => String::new(),
    }
}

/// A reason the complaint accepts: 1 to 500 characters.
fn short_reason(reason: &str) -> String {
    let trimmed = reason.trim();
    if trimmed.is_empty() {
        return "the assignee could not be notified".to_owned();
    }
    trimmed.chars().take(500).collect()
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
