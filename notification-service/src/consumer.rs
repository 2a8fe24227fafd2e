//! The consumer of complaint events (`notification-service.complaint-events`, bound to
//! `complaints.events` `#`): for each event, in one transaction, record it in the inbox
//! (a redelivered event does nothing), fold it into the complaint view, look up the facts
//! the policy needs, and store what the policy plans: pending notifications (the delivery
//! worker sends them), notifications that can never be delivered as FAILED with their
//! NOTIFICATION_FAILED, and for a compensation the withdrawals and NOTIFICATION_COMPENSATION.
//! Only then is the message acked.
//!
//! The deliveries the consumer loop hands over together are handled in one transaction, set
//! by set rather than event by event (issue 11): the batch's views are locked in one read and
//! moved in memory in the events' order ([`working_set`]), the directory is asked once, and
//! each table is written in one statement, so a batch costs about the same few statements
//! however many events it holds. A single event is a batch of one. Should the transaction
//! fail, the batch is rolled back and its events handled one by one, so only the event at
//! fault is retried or dead-lettered.

mod working_set;

use crate::{
    agents::Agent,
    events::{self, Cause, NotificationCompensation, NotificationOutcome},
    model::{Channel, Step},
    policy::{self, Compensation, Facts, Plan, Planned, Recipient, UNKNOWN_AGENT},
    retry::FailureKind,
    store::{self, notifications::NewNotification},
    telemetry,
    template::TemplateError,
};
use chrono::{DateTime, Utc};
use shared::{
    complaint::{ComplaintEvent, EventCodec},
    event::{exchanges, Envelope},
    messaging::{Handler, HandlerError, QueueSpec},
};
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;
use working_set::{Lookups, Views};

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
    /// One event is a batch of one: the same code path, the same statements.
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        match self.apply_batch(std::slice::from_ref(envelope)).await {
            Ok(mut results) => results.pop().unwrap_or(Ok(())),
            Err(error) => Err(error.into()),
        }
    }

    /// The whole batch in one transaction (one commit instead of one per event); should any
    /// event fail, the batch is rolled back and handled event by event, so only that one
    /// is retried or dead-lettered.
    async fn handle_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        match self.apply_batch(envelopes).await {
            Ok(results) => results,
            Err(error) if envelopes.len() > 1 => {
                tracing::warn!(%error, size = envelopes.len(), "batch failed; handling its events one by one");
                let mut results = Vec::with_capacity(envelopes.len());
                for envelope in envelopes {
                    results.push(self.handle(envelope).await);
                }
                results
            }
            Err(error) => vec![Err(error.into())],
        }
    }
}

impl ComplaintEvents {
    /// Handles `envelopes` in one transaction with a number of statements that does not grow
    /// with the batch (issue 11): one inbox insert, one lock of the complaint views, one
    /// look-up of the agents and at most one of the supervisors, one upsert of the views, one
    /// insert of the notifications, one outbox insert, one wake-up. A compensation adds its
    /// own look-up of what it withdraws, and the two updates that withdraw it.
    ///
    /// One result per envelope (an undecodable one fails alone), or the error that aborted
    /// the transaction (nothing committed).
    async fn apply_batch(
        &self,
        envelopes: &[Envelope],
    ) -> Result<Vec<Result<(), HandlerError>>, ApplyError> {
        let mut results = Vec::with_capacity(envelopes.len());
        let mut decoded = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            match decode(envelope) {
                Ok(Some(event)) => {
                    decoded.push((envelope, event));
                    results.push(Ok(()));
                }
                Ok(None) => results.push(Ok(())),
                Err(undecodable) => results.push(Err(undecodable)),
            }
        }
        if decoded.is_empty() {
            return Ok(results);
        }
        let mut tx = self.pool.begin().await?;
        let effects = apply_all(&mut tx, decoded).await?;
        wake_if_pending(&mut tx, &effects).await?;
        tx.commit().await?;
        effects.record();
        Ok(results)
    }
}

/// Handles the decoded events of a batch, in their order, inside the caller's transaction.
async fn apply_all(
    tx: &mut PgConnection,
    decoded: Vec<(&Envelope, ComplaintEvent)>,
) -> Result<Effects, ApplyError> {
    // 1. The inbox: a redelivered event does nothing, and neither does the second copy of an
    //    event the batch holds twice.
    let mut ids: Vec<Uuid> = decoded
        .iter()
        .map(|(envelope, _)| envelope.event_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut first_time = shared::inbox::first_times(tx, QUEUE, &ids).await?;
    let events: Vec<(&Envelope, ComplaintEvent)> = decoded
        .into_iter()
        .filter(|(envelope, _)| {
            let fresh = first_time.remove(&envelope.event_id);
            if !fresh {
                tracing::debug!(event_id = %envelope.event_id, "already handled; skipped");
            }
            fresh
        })
        .collect();
    if events.is_empty() {
        return Ok(Effects::default());
    }

    // 2. Lock every view the batch touches, then 3. fold the events in memory, in order.
    let complaints = working_set::lock_order(
        events
            .iter()
            .map(|(envelope, _)| envelope.aggregate_id.as_str()),
    );
    let mut views = Views::new(store::complaints::lock_all(tx, &complaints).await?);
    let mut steps = Vec::with_capacity(events.len());
    for (envelope, event) in &events {
        let complaint_id = envelope.aggregate_id.as_str();
        let after = views.apply(
            complaint_id,
            event,
            envelope.metadata.version,
            envelope.metadata.timestamp,
        );
        if after.is_none() {
            tracing::warn!(
                complaint_id,
                event_type = %envelope.event_type,
                "event for a complaint whose creation was never seen; no one to notify"
            );
        }
        let needs = policy::needs(event, after.as_ref());
        steps.push((*envelope, event, after, needs));
    }
    store::complaints::save_all(tx, &views.changed()).await?;

    // 4. The directory, once for the whole batch.
    let lookups = Lookups::of(steps.iter().map(|(_, _, _, needs)| needs));
    let agents: HashMap<String, Agent> = store::agents::get_all(tx, &lookups.agents)
        .await?
        .into_iter()
        .map(|agent| (agent.id.clone(), agent))
        .collect();
    let supervisors = if lookups.supervisors {
        store::agents::active_supervisors(tx).await?
    } else {
        Vec::new()
    };

    // 5. Plan each event, and store the plans together. A compensation (rare) looks up what
    //    it withdraws among the stored notifications, which must include those the events
    //    before it in this batch create, and exclude those they withdraw: so the plans
    //    waiting to be stored are flushed before that look-up. A batch without a
    //    compensation flushes once, at the end.
    let mut unsaved = Vec::new();
    let mut written = Written::default();
    for (envelope, event, complaint, needs) in steps {
        let complaint_id = envelope.aggregate_id.as_str();
        let retractable = match &needs.retractable {
            Some((step, agent_id)) => {
                written.flush(tx, std::mem::take(&mut unsaved)).await?;
                store::notifications::retractable(tx, complaint_id, *step, agent_id).await?
            }
            None => Vec::new(),
        };
        let facts = Facts {
            agent: needs.agent.as_ref().and_then(|id| agents.get(id).cloned()),
            supervisors: if needs.supervisors {
                supervisors.clone()
            } else {
                Vec::new()
            },
            retractable,
            complaint,
        };
        let plan = policy::plan(complaint_id, event, &facts)?;
        unsaved.push(Unsaved::of(envelope, plan));
    }
    written.flush(tx, unsaved).await?;

    // 6. What the batch publishes, in the order of the events that caused it.
    shared::outbox::enqueue(tx, &written.published).await?;
    Ok(written.effects)
}

/// An event's plan, not stored yet: its notifications and its compensation.
struct Unsaved<'a> {
    envelope: &'a Envelope,
    notifications: Vec<NewNotification>,
    compensation: Option<Compensation>,
}

impl<'a> Unsaved<'a> {
    fn of(envelope: &'a Envelope, plan: Plan) -> Self {
        let cause = Cause::of(envelope);
        let complaint_id = envelope.aggregate_id.as_str();
        Unsaved {
            envelope,
            notifications: plan
                .notifications
                .into_iter()
                .map(|planned| new_notification(complaint_id, &cause, planned))
                .collect(),
            compensation: plan.compensation,
        }
    }
}

/// What the batch has stored so far: the events to publish, in order, and the effects.
#[derive(Default)]
struct Written {
    published: Vec<Envelope>,
    effects: Effects,
}

impl Written {
    /// Stores the plans of `unsaved`: their notifications in one statement, then the
    /// withdrawals of their compensations.
    async fn flush(
        &mut self,
        tx: &mut PgConnection,
        unsaved: Vec<Unsaved<'_>>,
    ) -> Result<(), sqlx::Error> {
        let new: Vec<NewNotification> = unsaved
            .iter()
            .flat_map(|u| u.notifications.iter().cloned())
            .collect();
        let inserted = store::notifications::insert_all(tx, &new).await?;
        let settled = settle(unsaved, &inserted, Utc::now());
        for (cancel, retract) in &settled.withdrawals {
            store::notifications::withdraw(tx, cancel, retract).await?;
        }
        self.published.extend(settled.published);
        self.effects.merge(settled.effects);
        Ok(())
    }
}

/// What stored plans lead to, given which of their notifications were `inserted`.
#[derive(Default)]
struct Settled {
    /// NOTIFICATION_FAILED and NOTIFICATION_COMPENSATION, in the order of the events.
    published: Vec<Envelope>,
    effects: Effects,
    /// `(cancel, retract)` of each compensation, in order.
    withdrawals: Vec<(Vec<Uuid>, Vec<Uuid>)>,
}

/// Only a notification that was inserted counts: one that was not is there already (the same
/// event already addressed this recipient), and was published and counted when it was.
/// Pure.
fn settle(unsaved: Vec<Unsaved<'_>>, inserted: &HashSet<Uuid>, now: DateTime<Utc>) -> Settled {
    let mut settled = Settled::default();
    for Unsaved {
        envelope,
        notifications,
        compensation,
    } in unsaved
    {
        let cause = Cause::of(envelope);
        let mut retractions = Vec::new();
        for new in notifications.iter().filter(|n| inserted.contains(&n.id)) {
            if new.step == Step::Compensation {
                retractions.push(new.id);
            }
            match &new.failure {
                Some(reason) => {
                    let outcome = outcome_of(new, reason);
                    settled
                        .published
                        .push(events::failed(&outcome, &cause, now));
                    settled.effects.failed += 1;
                }
                None => settled.effects.pending += 1,
            }
        }
        if let Some(compensation) = compensation {
            settled
                .withdrawals
                .push((compensation.cancel.clone(), compensation.retract.clone()));
            settled.effects.compensated.push(compensation.step);
            let data = NotificationCompensation {
                complaint_id: envelope.aggregate_id.clone(),
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
            settled
                .published
                .push(events::compensation(&data, &cause, now));
        }
    }
    settled
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::Audience,
        template::Rendered,
        test_fixtures::{assigned, compensation_required, created},
    };
    use shared::event::Metadata;

    fn now() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    fn envelope(event: &ComplaintEvent, version: i64) -> Envelope {
        let metadata =
            Metadata::new("complaint-service", "corr-1".into(), now()).with_version(version);
        event.to_envelope("c-1", metadata)
    }

    fn to(step: Step, audience: Audience, recipient: Recipient) -> Planned {
        Planned {
            step,
            audience,
            recipient,
            agent_id: None,
            message: Rendered {
                subject: "subject".into(),
                body: "body".into(),
            },
        }
    }

    fn address(address: &str) -> Recipient {
        Recipient::Address {
            address: address.into(),
            name: "Someone".into(),
        }
    }

    fn unsaved(envelope: &Envelope, notifications: Vec<Planned>) -> Unsaved<'_> {
        Unsaved::of(
            envelope,
            Plan {
                notifications,
                compensation: None,
            },
        )
    }

    fn ids(unsaved: &[Unsaved<'_>]) -> Vec<Uuid> {
        unsaved
            .iter()
            .flat_map(|u| u.notifications.iter().map(|n| n.id))
            .collect()
    }

    fn published_types(settled: &Settled) -> Vec<&str> {
        settled
            .published
            .iter()
            .map(|e| e.event_type.as_str())
            .collect()
    }

    #[test]
    fn only_inserted_notifications_are_published_and_counted_in_the_events_order() {
        let created = envelope(&created("ada@example.com"), 1);
        let first = envelope(&assigned("ghost-1"), 2);
        let second = envelope(&assigned("ghost-2"), 3);
        let unknown = |agent: &str| Recipient::UnknownAgent {
            agent_id: agent.into(),
        };
        let batch = vec![
            unsaved(
                &created,
                vec![to(
                    Step::Acknowledgement,
                    Audience::Complainant,
                    address("ada@example.com"),
                )],
            ),
            unsaved(
                &first,
                vec![
                    to(Step::Assignment, Audience::Assignee, unknown("ghost-1")),
                    to(
                        Step::Assignment,
                        Audience::Complainant,
                        address("ada@example.com"),
                    ),
                ],
            ),
            unsaved(
                &second,
                vec![
                    to(Step::Assignment, Audience::Assignee, unknown("ghost-2")),
                    to(
                        Step::Assignment,
                        Audience::Complainant,
                        address("ada@example.com"),
                    ),
                ],
            ),
        ];
        let all = ids(&batch);
        // The first assignment's notifications were there already (its redelivery).
        let inserted: HashSet<Uuid> = [all[0], all[3], all[4]].into_iter().collect();

        let settled = settle(batch, &inserted, now());

        assert_eq!(settled.effects.pending, 2);
        assert_eq!(settled.effects.failed, 1);
        assert_eq!(published_types(&settled), ["NOTIFICATION_FAILED"]);
        let failed = &settled.published[0];
        assert_eq!(failed.event_data["notificationId"], all[3].to_string());
        assert_eq!(failed.event_data["recipient"], "ghost-2");
        assert_eq!(failed.event_data["reason"], UNKNOWN_AGENT);
        assert_eq!(
            failed.metadata.causation_id,
            Some(second.event_id.to_string())
        );
        assert!(settled.withdrawals.is_empty());
    }

    #[test]
    fn a_compensation_is_published_after_the_failures_before_it_with_its_inserted_retractions() {
        let assigned = envelope(&assigned("ghost-1"), 2);
        let compensation = envelope(&compensation_required("agent-001"), 3);
        let (cancelled, retracted) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let batch = vec![
            unsaved(
                &assigned,
                vec![to(
                    Step::Assignment,
                    Audience::Assignee,
                    Recipient::UnknownAgent {
                        agent_id: "ghost-1".into(),
                    },
                )],
            ),
            Unsaved::of(
                &compensation,
                Plan {
                    notifications: vec![
                        to(
                            Step::Compensation,
                            Audience::Complainant,
                            address("ada@example.com"),
                        ),
                        to(
                            Step::Compensation,
                            Audience::Assignee,
                            address("al@example.com"),
                        ),
                    ],
                    compensation: Some(Compensation {
                        step: Step::Assignment,
                        failed_step: "NOTIFY_ASSIGNEE".into(),
                        agent_id: "agent-001".into(),
                        reason: "unreachable".into(),
                        cancel: vec![cancelled],
                        retract: vec![retracted],
                    }),
                },
            ),
        ];
        let all = ids(&batch);
        let inserted: HashSet<Uuid> = [all[0], all[1]].into_iter().collect();

        let settled = settle(batch, &inserted, now());

        assert_eq!(
            published_types(&settled),
            ["NOTIFICATION_FAILED", "NOTIFICATION_COMPENSATION"]
        );
        let data = &settled.published[1].event_data;
        assert_eq!(
            data["retractionNotificationIds"],
            serde_json::json!([all[1]])
        );
        assert_eq!(
            data["cancelledNotificationIds"],
            serde_json::json!([cancelled])
        );
        assert_eq!(
            data["retractedNotificationIds"],
            serde_json::json!([retracted])
        );
        assert_eq!(data["triggeringEventId"], compensation.event_id.to_string());
        assert_eq!(
            settled.withdrawals,
            vec![(vec![cancelled], vec![retracted])]
        );
        assert_eq!(settled.effects.compensated, vec![Step::Assignment]);
        assert_eq!((settled.effects.pending, settled.effects.failed), (1, 1));
    }
}
