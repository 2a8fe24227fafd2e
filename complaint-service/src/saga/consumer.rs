//! The saga keeper: one queue that hears the complaint's own events (which start sagas and
//! move SLA timers) and the other services' replies (which move sagas on). Every change to a
//! saga commits with its SAGA_* announcements (outbox) and the inbox entry of the event that
//! caused it; compensating the complaint runs as commands caused by the failure event, each
//! done at most once, so a redelivery finishes what a crash interrupted and repeats nothing.
//!
//! The deliveries the consumer loop hands over together are kept in one transaction, in
//! their order (so one complaint's events still apply in order): the sagas they touch are
//! locked in one read, moved in memory ([`super::working_set`]), and written back with the
//! batch's inbox entries, SLA timers and announcements in one statement per table: a few
//! round trips per batch instead of three per event. An event that is refused before it
//! wrote anything (undecodable, or a reply that came before its saga) fails alone; a failure
//! that aborts the transaction rolls the batch back, and its events are then kept one by one,
//! so only the event at fault is retried or dead-lettered. Compensating commands run after
//! the commit, each in its own transaction.

use super::{
    metrics,
    model::{Saga, SagaKind, SagaStatus},
    policy::{self, Announcement, Compensation, Reply, Transition},
    store,
    working_set::{Raced, TimerMoves, WorkingSet},
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
use std::{collections::HashSet, sync::Arc};
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

/// What the events of one batch work on: the sagas, the announcements and the timers they
/// move, and the time they are kept at.
struct Batch {
    sagas: WorkingSet,
    pending: Pending,
    timers: TimerMoves,
    now: DateTime<Utc>,
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
    #[error("undecodable reply: {0}")]
    MalformedReply(#[from] shared::event::MalformedPayload),
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// A saga for the same trigger was stored meanwhile: the next try reads it.
    #[error(transparent)]
    Raced(#[from] Raced),
}

impl KeeperError {
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
                | KeeperError::Raced(_)
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
    /// transaction (nothing committed). The sagas the batch touches are read once and written
    /// once ([`WorkingSet`]); the events move them in order, so one complaint's events still
    /// apply in order.
    async fn keep_together(
        &self,
        events: &[Envelope],
    ) -> Result<Vec<Result<(), HandlerError>>, KeeperError> {
        let now = now();
        let mut results: Vec<Option<Result<(), HandlerError>>> = Vec::with_capacity(events.len());
        let mut incoming = Vec::with_capacity(events.len());
        for event in events {
            match Incoming::read(event) {
                Ok(item) => {
                    results.push(None);
                    incoming.push(item);
                }
                Err(error) => {
                    results.push(Some(Err(error.into_handler_error())));
                    incoming.push(Incoming::Ignored);
                }
            }
        }
        let mut tx = self.pool.begin().await?;
        let causes: Vec<Uuid> = incoming
            .iter()
            .zip(events)
            .filter_map(|(item, event)| item.saga_key(event))
            .collect();
        let sagas = WorkingSet::lock(&mut tx, &causes).await?;
        // A reply whose saga is neither stored nor started earlier in this batch came early:
        // it writes nothing and is tried again shortly.
        let mut started_here = HashSet::new();
        for ((item, event), result) in incoming.iter_mut().zip(events).zip(&mut results) {
            match item {
                Incoming::Complaint { event_type, .. }
                    if policy::kind_started_by(*event_type).is_some() =>
                {
                    started_here.insert(event.event_id);
                }
                Incoming::Reply { cause, reply }
                    if sagas.answering(*cause).is_none() && !started_here.contains(cause) =>
                {
                    if policy::expects_a_saga(reply) {
                        let early =
                            KeeperError::NotYet(format!("{} caused by {cause}", event.event_type));
                        *result = Some(Err(early.into_handler_error()));
                    }
                    *item = Incoming::Ignored; // a status notification, say: no saga waits for it
                }
                _ => {}
            }
        }
        let handled: Vec<Uuid> = incoming
            .iter()
            .zip(events)
            .filter(|(item, _)| !matches!(item, Incoming::Ignored))
            .map(|(_, event)| event.event_id)
            .collect();
        let first_time = shared::inbox::first_times(&mut tx, QUEUE, &handled).await?;

        let mut batch = Batch {
            sagas,
            pending: Pending::default(),
            timers: TimerMoves::default(),
            now,
        };
        for (index, (item, event)) in incoming.into_iter().zip(events).enumerate() {
            let first_time = first_time.contains(&event.event_id);
            match item {
                Incoming::Ignored => {}
                Incoming::Complaint { .. } if !first_time => {}
                Incoming::Complaint {
                    event_type,
                    complaint_id,
                    event: complaint_event,
                } => {
                    batch.timers.follow(complaint_id, &complaint_event);
                    self.on_complaint_event(
                        &mut tx,
                        &mut batch,
                        event_type,
                        event,
                        &complaint_event,
                    )
                    .await?;
                }
                Incoming::Reply { cause, reply } => {
                    if let Some((saga, compensation)) =
                        self.on_reply(&mut batch, event, cause, &reply, first_time)
                    {
                        batch
                            .pending
                            .compensations
                            .push((index, saga, compensation));
                    }
                }
            }
        }
        let Batch {
            sagas,
            pending,
            timers,
            ..
        } = batch;
        sagas.save(&mut tx).await??;
        timers.save(&mut tx).await?;
        shared::outbox::enqueue(&mut tx, &pending.announced).await?;
        tx.commit().await?;
        pending.record_metrics();
        let mut results: Vec<Result<(), HandlerError>> =
            results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect();
        // After a crash between that commit and the commands below, the redelivered failure
        // finds the saga compensating with nothing asked yet, and asks again; each command
        // runs at most once per cause.
        for (index, saga, compensation) in &pending.compensations {
            let failure = &events[*index];
            if let Err(error) = self.compensate(saga, compensation, failure, now).await {
                results[*index] = Err(error.into_handler_error());
            }
        }
        Ok(results)
    }

    async fn on_complaint_event(
        &self,
        tx: &mut PgConnection,
        batch: &mut Batch,
        event_type: EventType,
        event: &Envelope,
        complaint_event: &ComplaintEvent,
    ) -> Result<(), KeeperError> {
        let Batch {
            sagas,
            pending,
            now,
            ..
        } = batch;
        let now = *now;
        if let Some(kind) = policy::kind_started_by(event_type) {
            // A saga already there for this trigger (a redelivery whose inbox entry was
            // purged) is left as it is.
            if sagas.answering(event.event_id).is_none() {
                let agent = match complaint_event {
                    ComplaintEvent::Assigned(assigned) => Some(assigned.agent_id.to_string()),
                    _ => None,
                };
                let started = policy::start(kind, event, agent, now, self.step_timeout);
                let (saga, announced) = numbered(started, event.event_id, now);
                sagas.start(saga);
                pending.announced.extend(announced);
                pending.started.push(kind);
            }
        }
        if let ComplaintEvent::CompensationRequired(_) = complaint_event {
            let compensating = match sagas.compensating(&event.aggregate_id) {
                Some(saga) => Some(saga.clone()),
                // Read apart (and locked); one this batch already holds is in the branch above.
                None => store::compensating(tx, &event.aggregate_id)
                    .await?
                    .filter(|saga| !sagas.holds(saga.saga_id)),
            };
            if let Some(saga) = compensating {
                let next =
                    policy::compensation_started(&saga, event.event_id, now, self.step_timeout);
                record(sagas, pending, &saga, next, event.event_id, now);
            }
        }
        Ok(())
    }

    /// A reply to a saga this batch holds; says what to compensate after the commit.
    fn on_reply(
        &self,
        batch: &mut Batch,
        event: &Envelope,
        cause: Uuid,
        reply: &Reply,
        first_time: bool,
    ) -> Option<(Saga, Compensation)> {
        let Batch {
            sagas,
            pending,
            now,
            ..
        } = batch;
        let now = *now;
        let saga = sagas.answering(cause)?.clone();
        let mut current = saga.clone();
        let mut compensation = None;
        if first_time {
            if let Some(next) = policy::on_reply(&saga, reply, now) {
                compensation = next.compensate.clone();
                current = record(sagas, pending, &saga, next, event.event_id, now);
            } else if let Some(late) = policy::on_late_reply(&saga, reply, now) {
                // The saga failed before this answer came: kept for a retry.
                sagas.put(late.clone());
                current = late;
            }
        }
        if compensation.is_none() && policy::awaits_its_compensation(&current, reply) {
            compensation = current.agent_id.clone().map(|agent_id| Compensation {
                agent_id,
                reason: failure_reason(reply),
                failed_step: policy::NOTIFY_ASSIGNEE.to_owned(),
            });
        }
        compensation.map(|compensation| (current, compensation))
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
        let mut sagas = WorkingSet::lock(&mut tx, &[saga.trigger_event_id]).await?;
        if let Some(locked) = sagas.answering(saga.trigger_event_id).cloned() {
            if locked.status == SagaStatus::Compensating && locked.compensation_event_id.is_none() {
                let next = policy::compensation_refused(&locked, &refused, now);
                record(
                    &mut sagas,
                    &mut pending,
                    &locked,
                    next,
                    failure.event_id,
                    now,
                );
            }
        }
        sagas.save(&mut tx).await??;
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

/// Moves a saga to `next` (replacing `before`) in the batch; its announcements go out with the
/// transaction's outbox insert. Returns the new saga.
fn record(
    sagas: &mut WorkingSet,
    pending: &mut Pending,
    before: &Saga,
    next: Transition,
    cause: Uuid,
    now: DateTime<Utc>,
) -> Saga {
    let (saga, announced) = numbered(next, cause, now);
    sagas.put(saga.clone());
    pending.announced.extend(announced);
    if saga.status.is_final() && !before.status.is_final() {
        pending.finished.push(saga.clone());
    }
    saga
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

/// What one delivery is to the saga keeper, read before the batch's transaction begins.
enum Incoming {
    /// Nothing for the sagas: a type they do not follow, not a complaint of ours, or a reply
    /// no saga waits for.
    Ignored,
    Complaint {
        event_type: EventType,
        complaint_id: Uuid,
        event: ComplaintEvent,
    },
    Reply {
        /// The event it answers.
        cause: Uuid,
        reply: Reply,
    },
}

impl Incoming {
    fn read(event: &Envelope) -> Result<Incoming, KeeperError> {
        let Some(event_type) = event.known_type() else {
            return Ok(Incoming::Ignored); // a type this build does not know
        };
        if !event_type.is_complaint_event() {
            return Ok(match Reply::from_envelope(event)? {
                Some((cause, reply)) => Incoming::Reply { cause, reply },
                None => Incoming::Ignored,
            });
        }
        let Some(complaint_event) = ComplaintEvent::from_envelope(event)? else {
            return Ok(Incoming::Ignored);
        };
        let Ok(complaint_id) = event.aggregate_id.parse::<Uuid>() else {
            return Ok(Incoming::Ignored); // not one of ours
        };
        Ok(Incoming::Complaint {
            event_type,
            complaint_id,
            event: complaint_event,
        })
    }

    /// The event id under which a stored saga this delivery touches is found: the one a reply
    /// answers, or the one a trigger would start (a redelivered trigger finds its saga).
    fn saga_key(&self, event: &Envelope) -> Option<Uuid> {
        match self {
            Incoming::Complaint { event_type, .. } => {
                policy::kind_started_by(*event_type).map(|_| event.event_id)
            }
            Incoming::Reply { cause, .. } => Some(*cause),
            Incoming::Ignored => None,
        }
    }
}

impl TimerMoves {
    /// Keeps the SLA timer in step with the complaint: armed at its deadline while unresolved.
    fn follow(&mut self, complaint_id: Uuid, event: &ComplaintEvent) {
        match event {
            ComplaintEvent::Created(e) => self.arm(complaint_id, e.sla_deadline),
            ComplaintEvent::PriorityChanged(e) => self.arm(complaint_id, e.sla_deadline),
            ComplaintEvent::Escalated(e) => self.arm(complaint_id, e.sla_deadline),
            ComplaintEvent::Reopened(e) => self.arm(complaint_id, e.sla_deadline),
            ComplaintEvent::Resolved(_) | ComplaintEvent::Closed(_) => self.disarm(complaint_id),
            _ => {}
        }
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
