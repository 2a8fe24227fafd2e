//! The consumer of complaint events (`notification-service.complaint-events`, bound to
//! `complaints.events` `#`): for each event, in one transaction, record it in the inbox
//! (a redelivered event does nothing), fold it into the complaint view, look up the facts
//! the policy needs, and store what the policy plans: pending notifications (the delivery
//! worker sends them), notifications that can never be delivered as FAILED with their
//! NOTIFICATION_FAILED, and for a compensation the withdrawals and NOTIFICATION_COMPENSATION.
//! Only then is the message acked.

use crate::{
    events::{self, Cause, NotificationCompensation, NotificationOutcome},
    model::{Channel, Step},
    policy::{self, Facts, Plan, Planned, Recipient, UNKNOWN_AGENT},
    projection::{self, ComplaintView},
    retry::FailureKind,
    store::{self, notifications::NewNotification},
    telemetry,
    template::TemplateError,
};
use chrono::Utc;
use shared::{
    complaint::{ComplaintEvent, EventCodec},
    event::{exchanges, Envelope},
    messaging::{Handler, HandlerError, QueueSpec},
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub const QUEUE: &str = "notification-service.complaint-events";

pub fn queue() -> QueueSpec {
    QueueSpec::new(QUEUE).bind(exchanges::COMPLAINTS, "#")
}

pub struct ComplaintEvents {
    pool: PgPool,
}

impl ComplaintEvents {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[derive(Debug, thiserror::Error)]
enum ApplyError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template: {0}")]
    Template(#[from] TemplateError),
}

impl From<ApplyError> for HandlerError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::Database(e) => HandlerError::Transient(e.into()),
            // A template that does not fit its event will not fit it next time either.
            ApplyError::Template(e) => HandlerError::Permanent(e.into()),
        }
    }
}

/// What a committed transaction did, for metrics.
#[derive(Default)]
struct Effects {
    /// Notifications created PENDING: the delivery worker must be woken.
    pending: u64,
    failed: u64,
    compensated: Vec<Step>,
}

impl Effects {
    fn record(self) {
        for _ in 0..self.failed {
            telemetry::failed(Channel::Email, FailureKind::UnknownAgent);
        }
        for step in self.compensated {
            telemetry::compensated(step);
        }
    }

    fn merge(&mut self, other: Effects) {
        self.pending += other.pending;
        self.failed += other.failed;
        self.compensated.extend(other.compensated);
    }
}

/// A complaint event of a known type with valid data; `Ok(None)` to ignore the envelope.
fn decode(envelope: &Envelope) -> Result<Option<ComplaintEvent>, HandlerError> {
    ComplaintEvent::from_envelope(envelope).map_err(|e| HandlerError::Permanent(e.into()))
}

impl Handler for ComplaintEvents {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let Some(event) = decode(envelope)? else {
            return Ok(());
        };
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| HandlerError::Transient(e.into()))?;
        let effects = apply(&mut tx, envelope, &event).await?;
        wake_if_pending(&mut tx, &effects)
            .await
            .map_err(|e| HandlerError::Transient(e.into()))?;
        tx.commit()
            .await
            .map_err(|e| HandlerError::Transient(e.into()))?;
        effects.record();
        Ok(())
    }

    /// The whole batch in one transaction (one commit instead of one per event); should any
    /// event fail, the batch is rolled back and handled event by event, so only that one
    /// is retried or dead-lettered.
    async fn handle_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        if envelopes.len() > 1 {
            match self.apply_batch(envelopes).await {
                Ok(results) => return results,
                Err(error) => {
                    tracing::warn!(%error, size = envelopes.len(), "batch failed; handling its events one by one");
                }
            }
        }
        let mut results = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            results.push(self.handle(envelope).await);
        }
        results
    }
}

impl ComplaintEvents {
    async fn apply_batch(
        &self,
        envelopes: &[Envelope],
    ) -> Result<Vec<Result<(), HandlerError>>, ApplyError> {
        let mut tx = self.pool.begin().await?;
        let mut effects = Effects::default();
        let mut results = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            match decode(envelope) {
                Ok(Some(event)) => {
                    effects.merge(apply(&mut tx, envelope, &event).await?);
                    results.push(Ok(()));
                }
                Ok(None) => results.push(Ok(())),
                Err(undecodable) => results.push(Err(undecodable)),
            }
        }
        wake_if_pending(&mut tx, &effects).await?;
        tx.commit().await?;
        effects.record();
        Ok(results)
    }
}

/// Handles one complaint event inside the caller's transaction.
async fn apply(
    tx: &mut PgConnection,
    envelope: &Envelope,
    event: &ComplaintEvent,
) -> Result<Effects, ApplyError> {
    if !shared::inbox::first_time(tx, QUEUE, envelope.event_id).await? {
        tracing::debug!(event_id = %envelope.event_id, "already handled; skipped");
        return Ok(Effects::default());
    }
    let complaint_id = envelope.aggregate_id.as_str();
    let before = store::complaints::lock(tx, complaint_id).await?;
    let after = projection::apply(
        before.clone(),
        complaint_id,
        event,
        envelope.metadata.version,
        envelope.metadata.timestamp,
    );
    match &after {
        Some(view) if after != before => store::complaints::save(tx, view).await?,
        Some(_) => {}
        None => tracing::warn!(
            complaint_id,
            event_type = %envelope.event_type,
            "event for a complaint whose creation was never seen; no one to notify"
        ),
    }
    let facts = look_up(tx, complaint_id, event, after).await?;
    let plan = policy::plan(complaint_id, event, &facts)?;
    record(tx, envelope, plan).await
}

/// The facts the policy needs for `event`, given the complaint as the event leaves it.
async fn look_up(
    tx: &mut PgConnection,
    complaint_id: &str,
    event: &ComplaintEvent,
    complaint: Option<ComplaintView>,
) -> Result<Facts, sqlx::Error> {
    let needs = policy::needs(event, complaint.as_ref());
    Ok(Facts {
        agent: match &needs.agent {
            Some(id) => store::agents::get(tx, id).await?,
            None => None,
        },
        supervisors: if needs.supervisors {
            store::agents::active_supervisors(tx).await?
        } else {
            Vec::new()
        },
        retractable: match &needs.retractable {
            Some((step, agent_id)) => {
                store::notifications::retractable(tx, complaint_id, *step, agent_id).await?
            }
            None => Vec::new(),
        },
        complaint,
    })
}

/// Stores what `plan` says: the notifications (an undeliverable one FAILED, with its
/// NOTIFICATION_FAILED), the withdrawals of a compensation and its NOTIFICATION_COMPENSATION.
async fn record(
    tx: &mut PgConnection,
    envelope: &Envelope,
    plan: Plan,
) -> Result<Effects, ApplyError> {
    let complaint_id = envelope.aggregate_id.as_str();
    let cause = Cause::of(envelope);
    let now = Utc::now();
    let mut effects = Effects::default();
    let mut published = Vec::new();
    let mut retractions = Vec::new();
    for planned in plan.notifications {
        let new = new_notification(complaint_id, &cause, planned);
        if !store::notifications::insert(tx, &new).await? {
            continue; // the same event already addressed this recipient
        }
        if new.step == Step::Compensation {
            retractions.push(new.id);
        }
        match &new.failure {
            Some(reason) => {
                published.push(events::failed(&outcome_of(&new, reason), &cause, now));
                effects.failed += 1;
            }
            None => effects.pending += 1,
        }
    }
    if let Some(compensation) = plan.compensation {
        store::notifications::withdraw(tx, &compensation.cancel, &compensation.retract).await?;
        effects.compensated.push(compensation.step);
        let data = NotificationCompensation {
            complaint_id: complaint_id.to_owned(),
            step: compensation.step,
            failed_step: compensation.failed_step,
            agent_id: compensation.agent_id,
            reason: compensation.reason,
            triggering_event_id: envelope.event_id,
            triggering_event_type: envelope.event_type.clone(),
            retracted_notification_ids: compensation.retract,
            cancelled_notification_ids: compensation.cancel,
            retraction_notification_ids: retractions,
        };
        published.push(events::compensation(&data, &cause, now));
    }
    shared::outbox::enqueue(tx, &published).await?;
    Ok(effects)
}

/// Wakes the delivery worker on commit, once per transaction, if it has work.
async fn wake_if_pending(tx: &mut PgConnection, effects: &Effects) -> Result<(), sqlx::Error> {
    if effects.pending > 0 {
        store::notifications::wake_delivery(tx).await?;
    }
    Ok(())
}

fn new_notification(complaint_id: &str, cause: &Cause, planned: Planned) -> NewNotification {
    let (recipient, recipient_name, failure) = match planned.recipient {
        Recipient::Address { address, name } => (address, name, None),
        Recipient::UnknownAgent { agent_id } => {
            (agent_id.clone(), agent_id, Some(UNKNOWN_AGENT.to_owned()))
        }
    };
    NewNotification {
        id: Uuid::now_v7(),
        complaint_id: complaint_id.to_owned(),
        cause: cause.clone(),
        step: planned.step,
        audience: planned.audience,
        agent_id: planned.agent_id,
        recipient,
        recipient_name,
        channel: Channel::Email,
        subject: planned.message.subject,
        body: planned.message.body,
        failure,
    }
}

/// The NOTIFICATION_FAILED data of a notification that failed before any attempt.
fn outcome_of(new: &NewNotification, reason: &str) -> NotificationOutcome {
    NotificationOutcome {
        notification_id: new.id,
        complaint_id: new.complaint_id.clone(),
        step: new.step,
        audience: new.audience,
        recipient: new.recipient.clone(),
        channel: new.channel,
        triggering_event_id: new.cause.event_id,
        triggering_event_type: new.cause.event_type.clone(),
        reason: Some(reason.to_owned()),
        attempts: 0,
        agent_id: new.agent_id.clone(),
    }
}
