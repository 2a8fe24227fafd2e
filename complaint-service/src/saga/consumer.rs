//! The saga keeper: one queue that hears the complaint's own events (which start sagas and
//! move SLA timers) and the other services' replies (which move sagas on). Every change to a
//! saga commits with its SAGA_* announcements (outbox) and the inbox entry of the event that
//! caused it; compensating the complaint runs as commands caused by the failure event, each
//! done at most once, so a redelivery finishes what a crash interrupted and repeats nothing.
//!
//! The deliveries the consumer loop hands over together are kept in one transaction, in
//! their order (so one complaint's events still apply in order), with one outbox insert for
//! all their announcements: one commit per batch instead of one per message. An event that is
//! refused before it wrote anything (a reply that came early) fails alone; a failure that
//! aborts the transaction rolls the batch back, and its events are then kept one by one, so
//! only the event at fault is retried or dead-lettered. Compensating commands run after the
//! commit, each in its own transaction, as before.

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
    complaint::{AgentId, Command, ComplaintEvent, EventCodec, Reason},
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
        match self.keep_together(std::slice::from_ref(event)).await {
            Ok(mut results) => results.pop().unwrap_or(Ok(())),
            Err(error) => Err(error.into_handler_error()),
        }
    }

    async fn handle_batch(&self, events: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        match self.keep_together(events).await {
            Ok(results) => results,
            Err(error) if events.len() > 1 => {
                tracing::warn!(%error, size = events.len(), "saga batch failed; keeping its events one by one");
                let mut results = Vec::with_capacity(events.len());
                for event in events {
                    results.push(self.handle(event).await);
                }
                results
            }
            Err(error) => vec![Err(error.into_handler_error())],
        }
    }
}

/// What a batch's transaction does besides its own statements, carried to the commit.
#[derive(Default)]
struct Pending {
    /// SAGA_* announcements in order: one outbox insert for the whole batch.
    announced: Vec<Envelope>,
    started: Vec<SagaKind>,
    finished: Vec<Saga>,
    /// Compensations to run once the batch has committed: the event that asks for it (its
    /// index in the batch), the saga, and what to undo.
    compensations: Vec<(usize, Saga, Compensation)>,
}

impl Pending {
    /// Metrics only for what committed.
    fn record_metrics(&self) {
        for kind in &self.started {
            metrics::started(*kind);
        }
        for saga in &self.finished {
            metrics::finished(saga);
        }
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
    /// Refused before the event wrote anything: the rest of its batch may commit.
    fn wrote_nothing(&self) -> bool {
        matches!(self, KeeperError::NotYet(_) | KeeperError::Undecodable(_))
    }

    fn into_handler_error(self) -> HandlerError {
        if self.is_transient() {
            HandlerError::Transient(self.into())
        } else {
            HandlerError::Permanent(self.into())
        }
    }

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
    /// Keeps `events` in one transaction; one result per event, or the error that aborted the
    /// transaction (nothing committed).
    async fn keep_together(
        &self,
        events: &[Envelope],
    ) -> Result<Vec<Result<(), HandlerError>>, KeeperError> {
        let mut tx = self.pool.begin().await?;
        let mut pending = Pending::default();
        let mut results = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            match self.keep(&mut tx, event, &mut pending).await {
                Ok(None) => results.push(Ok(())),
                Ok(Some((saga, compensation))) => {
                    pending.compensations.push((index, saga, compensation));
                    results.push(Ok(()));
                }
                Err(error) if error.wrote_nothing() => {
                    results.push(Err(error.into_handler_error()))
                }
                Err(error) => return Err(error),
            }
        }
        shared::outbox::enqueue(&mut tx, &pending.announced).await?;
        tx.commit().await?;
        pending.record_metrics();
        // After a crash between that commit and the commands below, the redelivered failure
        // finds the saga compensating with nothing asked yet, and asks again; each command
        // runs at most once per cause.
        for (index, saga, compensation) in &pending.compensations {
            let failure = &events[*index];
            if let Err(error) = self.compensate(saga, compensation, failure, now()).await {
                results[*index] = Err(error.into_handler_error());
            }
        }
        Ok(results)
    }

    /// One event inside the batch's transaction; says what to compensate after the commit.
    async fn keep(
        &self,
        tx: &mut PgConnection,
        event: &Envelope,
        pending: &mut Pending,
    ) -> Result<Option<(Saga, Compensation)>, KeeperError> {
        let Some(event_type) = event.known_type() else {
            return Ok(None); // a type this build does not know
        };
        if event_type.is_complaint_event() {
            self.on_complaint_event(tx, event_type, event, pending)
                .await?;
            Ok(None)
        } else {
            self.on_reply(tx, event, pending).await
        }
    }

    async fn on_complaint_event(
        &self,
        tx: &mut PgConnection,
        event_type: EventType,
        event: &Envelope,
        pending: &mut Pending,
    ) -> Result<(), KeeperError> {
        let Some(complaint_event) = ComplaintEvent::from_envelope(event)? else {
            return Ok(());
        };
        let Ok(complaint_id) = event.aggregate_id.parse::<Uuid>() else {
            return Ok(()); // not one of ours
        };
        let now = now();
        if !shared::inbox::first_time(tx, QUEUE, event.event_id).await? {
            return Ok(());
        }
        move_timer(tx, complaint_id, &complaint_event).await?;
        if let Some(kind) = policy::kind_started_by(event_type) {
            let agent = match &complaint_event {
                ComplaintEvent::Assigned(assigned) => Some(assigned.agent_id.to_string()),
                _ => None,
            };
            let started = policy::start(kind, event, agent, now, self.step_timeout);
            let (saga, announced) = numbered(started, event.event_id, now);
            if store::insert(tx, &saga).await? {
                pending.announced.extend(announced);
                pending.started.push(kind);
            }
        }
        if let ComplaintEvent::CompensationRequired(_) = complaint_event {
            if let Some(saga) = store::compensating(tx, &event.aggregate_id).await? {
                let next =
                    policy::compensation_started(&saga, event.event_id, now, self.step_timeout);
                record(tx, pending, &saga, next, event.event_id, now).await?;
            }
        }
        Ok(())
    }

    async fn on_reply(
        &self,
        tx: &mut PgConnection,
        event: &Envelope,
        pending: &mut Pending,
    ) -> Result<Option<(Saga, Compensation)>, KeeperError> {
        let Some((cause, reply)) = Reply::from_envelope(event) else {
            return Ok(None);
        };
        let now = now();
        let Some(saga) = store::awaiting(tx, cause).await? else {
            return if expects_a_saga(&reply) {
                Err(KeeperError::NotYet(format!(
                    "{} caused by {cause}",
                    event.event_type
                )))
            } else {
                Ok(None) // a status notification, say: no saga waits for it
            };
        };
        let first_time = shared::inbox::first_time(tx, QUEUE, event.event_id).await?;
        let mut current = saga.clone();
        let mut compensation = None;
        if first_time {
            if let Some(next) = policy::on_reply(&saga, &reply, now) {
                compensation = next.compensate.clone();
                current = record(tx, pending, &saga, next, event.event_id, now).await?;
            } else if let Some(late) = policy::on_late_reply(&saga, &reply, now) {
                // The saga failed before this answer came: kept for a retry.
                store::update(tx, &late).await?;
                current = late;
            }
        }
        if compensation.is_none() && awaits_its_compensation(&current, &reply) {
            compensation = current.agent_id.clone().map(|agent_id| Compensation {
                agent_id,
                reason: failure_reason(&reply),
                failed_step: policy::NOTIFY_ASSIGNEE.to_owned(),
            });
        }
        Ok(compensation.map(|compensation| (current, compensation)))
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
        let mut pending = Pending::default();
        if let Some(locked) = store::awaiting(&mut tx, saga.trigger_event_id).await? {
            if locked.status == SagaStatus::Compensating && locked.compensation_event_id.is_none() {
                let next = policy::compensation_refused(&locked, &refused, now);
                record(&mut tx, &mut pending, &locked, next, failure.event_id, now).await?;
            }
        }
        shared::outbox::enqueue(&mut tx, &pending.announced).await?;
        tx.commit().await?;
        pending.record_metrics();
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
}

/// Stores `next` (replacing `before`); its announcements go out with the transaction's outbox
/// insert. Returns the stored saga.
async fn record(
    tx: &mut PgConnection,
    pending: &mut Pending,
    before: &Saga,
    next: Transition,
    cause: Uuid,
    now: DateTime<Utc>,
) -> Result<Saga, KeeperError> {
    let (saga, announced) = numbered(next, cause, now);
    store::update(tx, &saga).await?;
    pending.announced.extend(announced);
    if saga.status.is_final() && !before.status.is_final() {
        pending.finished.push(saga.clone());
    }
    Ok(saga)
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
