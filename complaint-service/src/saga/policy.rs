//! How a saga moves, as pure functions: started by a complaint event, moved on by the replies
//! of other services (matched by their causation id), failed by a deadline. Each transition
//! says what to announce (SAGA_* events, and ERROR_MANUAL_INTERVENTION_REQUIRED when a person
//! must step in) and whether the complaint must be compensated.

use super::model::{Failure, Saga, SagaKind, SagaStatus, Step, StepStatus};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::event::{
    errors::{ErrorKind, ErrorReport, FailingMessage, ManualInterventionRequired},
    notification::{self, Audience, StepFailed, StepSent},
    to_data, CompensationDone, Envelope, EventType, MalformedPayload, RetryInitiator,
    SagaAbandoned, SagaChanged, SagaRetried,
};
use uuid::Uuid;

pub const ACKNOWLEDGE: &str = "acknowledge-complainant";
pub const NOTIFY_ASSIGNEE: &str = "notify-assignee";
pub const NOTIFY_SUPERVISORS: &str = "notify-supervisors";
pub const REVERT_ASSIGNMENT: &str = "revert-assignment";
pub const RETRACT_NOTIFICATIONS: &str = "retract-notifications";
pub const MARK_AUDIT: &str = "mark-audit-compensated";

/// What another service answered, read off its event. Kept on a failed saga when it comes
/// late (see [`on_late_reply`]), hence serde.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "reply",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Reply {
    NotificationSent {
        step: notification::Step,
        audience: Audience,
    },
    NotificationFailed {
        step: notification::Step,
        audience: Audience,
        reason: String,
    },
    NotificationsRetracted,
    AuditCompensated,
}

impl Reply {
    /// The reply an event carries and the event it answers (its causation id); `None` for
    /// events no saga waits for (other types, or no causation to match). A reply whose data
    /// is not the contract's (`shared::event::notification`, `CompensationDone`) is
    /// malformed: the consumer dead-letters it with the reason.
    pub fn from_envelope(event: &Envelope) -> Result<Option<(Uuid, Reply)>, MalformedPayload> {
        let Some(cause) = event
            .metadata
            .causation_id
            .as_deref()
            .and_then(|c| c.parse().ok())
        else {
            return Ok(None);
        };
        let Some(event_type) = event.known_type() else {
            return Ok(None);
        };
        let reply = match event_type {
            EventType::NotificationSent => {
                let StepSent { step, audience } = event.payload(event_type)?;
                Reply::NotificationSent { step, audience }
            }
            EventType::NotificationFailed => {
                let StepFailed {
                    step,
                    audience,
                    reason,
                } = event.payload(event_type)?;
                Reply::NotificationFailed {
                    step,
                    audience,
                    reason,
                }
            }
            EventType::NotificationCompensation => {
                event.payload::<CompensationDone>(event_type)?;
                Reply::NotificationsRetracted
            }
            EventType::AuditCompensation => {
                event.payload::<CompensationDone>(event_type)?;
                Reply::AuditCompensated
            }
            _ => return Ok(None),
        };
        Ok(Some((cause, reply)))
    }
}

/// An event to publish about a saga.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub event_type: EventType,
    pub data: Value,
}

/// The complaint must be put back: COMPLAINT_COMPENSATION_REQUIRED then
/// COMPLAINT_ASSIGNMENT_REVERTED.
#[derive(Debug, Clone, PartialEq)]
pub struct Compensation {
    pub agent_id: String,
    pub reason: String,
    pub failed_step: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub saga: Saga,
    pub announcements: Vec<Announcement>,
    pub compensate: Option<Compensation>,
}

/// What starts a saga: the kind, from the complaint event's type.
pub fn kind_started_by(event_type: EventType) -> Option<SagaKind> {
    match event_type {
        EventType::ComplaintCreated => Some(SagaKind::Acknowledgement),
        EventType::ComplaintAssigned => Some(SagaKind::Assignment),
        EventType::ComplaintEscalated => Some(SagaKind::Escalation),
        _ => None,
    }
}

/// A new saga for `trigger`, its first step waiting for an answer until `now + timeout`.
pub fn start(
    kind: SagaKind,
    trigger: &Envelope,
    agent_id: Option<String>,
    now: DateTime<Utc>,
    timeout: TimeDelta,
) -> Transition {
    let first_step = match kind {
        SagaKind::Acknowledgement => ACKNOWLEDGE,
        SagaKind::Assignment => NOTIFY_ASSIGNEE,
        SagaKind::Escalation => NOTIFY_SUPERVISORS,
    };
    let saga = Saga {
        saga_id: Uuid::now_v7(),
        kind,
        complaint_id: trigger.aggregate_id.clone(),
        status: SagaStatus::Running,
        correlation_id: trigger.metadata.correlation_id.clone(),
        trigger_event_id: trigger.event_id,
        compensation_event_id: None,
        agent_id,
        steps: vec![pending(first_step, now)],
        started_at: now,
        updated_at: now,
        finished_at: None,
        deadline: Some(now + timeout),
        version: 0,
        attempt: 1,
        late_replies: Vec::new(),
        abandon_reason: None,
        failure: None,
    };
    let announcements = if announces_routine(&saga) {
        vec![announce(
            EventType::SagaStarted,
            &saga,
            Some(first_step),
            None,
        )]
    } else {
        Vec::new()
    };
    Transition {
        saga,
        announcements,
        compensate: None,
    }
}

/// Whether the saga announces its start and its success. The acknowledgement saga does not
/// while all goes well: COMPLAINT_CREATED starts it and the NOTIFICATION_SENT that answers it
/// (its causation id is the created event) ends it, both in the log already, so SAGA_STARTED
/// and SAGA_COMPLETED would only repeat them, at two of a complaint's five events through
/// the broker, the event store and the audit trail. Its state is in the saga API all along.
/// Trouble is always announced (SAGA_FAILED, SAGA_RETRIED, SAGA_ABANDONED); a saga that has
/// been resumed, or has announced anything (one started before this rule), announces the
/// rest too, so its stream also tells how the trouble ended.
fn announces_routine(saga: &Saga) -> bool {
    saga.kind != SagaKind::Acknowledgement || saga.attempt > 1 || saga.version > 0
}

/// The saga after `reply`; `None` when the reply changes nothing (a final saga, a reply for
/// another audience, a duplicate).
pub fn on_reply(saga: &Saga, reply: &Reply, now: DateTime<Utc>) -> Option<Transition> {
    match (saga.status, reply) {
        (SagaStatus::Running, Reply::NotificationSent { step, audience })
            if answers_first_step(saga.kind, *step, *audience) =>
        {
            let mut next = saga.clone();
            let name = next.steps[0].name.clone();
            finish_step(
                &mut next,
                &name,
                StepStatus::Completed,
                now,
                Some(format!("{audience} notified")),
            );
            finish(&mut next, SagaStatus::Completed, now);
            // The announcement that ends a saga names the step that ended it; a
            // SAGA_STEP_COMPLETED besides would say the same again (one message fewer per
            // saga through the broker, the event store and the audit trail).
            let announcements = if announces_routine(saga) {
                vec![announce(EventType::SagaCompleted, &next, Some(&name), None)]
            } else {
                Vec::new()
            };
            Some(Transition {
                announcements,
                saga: next,
                compensate: None,
            })
        }
        (
            SagaStatus::Running,
            Reply::NotificationFailed {
                step,
                audience,
                reason,
            },
        ) if answers_first_step(saga.kind, *step, *audience) => {
            let mut next = saga.clone();
            let name = next.steps[0].name.clone();
            finish_step(
                &mut next,
                &name,
                StepStatus::Failed,
                now,
                Some(reason.clone()),
            );
            next.updated_at = now;
            match (saga.kind, &saga.agent_id) {
                (SagaKind::Assignment, Some(agent_id)) => {
                    next.status = SagaStatus::Compensating;
                    next.deadline = None;
                    Some(Transition {
                        saga: next,
                        announcements: Vec::new(),
                        compensate: Some(Compensation {
                            agent_id: agent_id.clone(),
                            reason: reason.clone(),
                            failed_step: name,
                        }),
                    })
                }
                // The participant said no: waiting again would not change its answer.
                _ => Some(fail(next, &name, reason, false, now)),
            }
        }
        (SagaStatus::Compensating, Reply::NotificationsRetracted) => {
            compensation_step_done(saga, RETRACT_NOTIFICATIONS, now)
        }
        (SagaStatus::Compensating, Reply::AuditCompensated) => {
            compensation_step_done(saga, MARK_AUDIT, now)
        }
        _ => None,
    }
}

/// The complaint recorded COMPLAINT_COMPENSATION_REQUIRED (`event_id`) and reverted the
/// assignment: wait for the other services to compensate their side.
pub fn compensation_started(
    saga: &Saga,
    event_id: Uuid,
    now: DateTime<Utc>,
    timeout: TimeDelta,
) -> Transition {
    let mut next = saga.clone();
    next.compensation_event_id = Some(event_id);
    let mut reverted = pending(REVERT_ASSIGNMENT, now);
    reverted.status = StepStatus::Completed;
    reverted.finished_at = Some(now);
    next.steps.push(reverted);
    next.steps.push(pending(RETRACT_NOTIFICATIONS, now));
    next.steps.push(pending(MARK_AUDIT, now));
    next.updated_at = now;
    next.deadline = Some(now + timeout);
    Transition {
        announcements: vec![announce(
            EventType::SagaStepCompleted,
            &next,
            Some(REVERT_ASSIGNMENT),
            None,
        )],
        saga: next,
        compensate: None,
    }
}

/// The complaint refused the compensation (it changed meanwhile): a person must look.
pub fn compensation_refused(saga: &Saga, reason: &str, now: DateTime<Utc>) -> Transition {
    fail(saga.clone(), REVERT_ASSIGNMENT, reason, false, now)
}

/// What the saga clock does with a step past its deadline: resume it (SAGA_RETRIED, a new
/// attempt and deadline) while the saga has had no more than `auto_resumes` attempts, then
/// fail it (SAGA_FAILED and ERROR_MANUAL_INTERVENTION_REQUIRED).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overdue {
    pub auto_resumes: u32,
    pub step_timeout: TimeDelta,
}

/// The pending step got no answer by the deadline: resumed or failed, never left waiting.
pub fn on_timeout(saga: &Saga, now: DateTime<Utc>, overdue: Overdue) -> Option<Transition> {
    if saga.status.is_final() || saga.deadline.is_none_or(|d| d > now) {
        return None;
    }
    let mut next = saga.clone();
    let waiting: Vec<String> = next
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .map(|s| s.name.clone())
        .collect();
    let reason = format!(
        "no answer by {}",
        saga.deadline.map(|d| d.to_rfc3339()).unwrap_or_default()
    );
    let step = waiting.first().cloned().unwrap_or_default();
    if saga.attempt <= overdue.auto_resumes {
        next.attempt += 1;
        next.deadline = Some(now + overdue.step_timeout);
        next.updated_at = now;
        for pending in next
            .steps
            .iter_mut()
            .filter(|s| s.status == StepStatus::Pending)
        {
            pending.started_at = now;
        }
        let announced = retried(&next, &step, RetryInitiator::Recovery, &reason);
        return Some(Transition {
            saga: next,
            announcements: vec![announced],
            compensate: None,
        });
    }
    for name in &waiting {
        finish_step(
            &mut next,
            name,
            StepStatus::Failed,
            now,
            Some(reason.clone()),
        );
    }
    Some(fail(next, &step, &reason, true, now))
}

/// Why a saga cannot be retried.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotRetryable {
    #[error("the saga is {}: only a FAILED saga can be retried", .0.as_str())]
    NotFailed(SagaStatus),
    #[error("the saga failed because {0}; waiting again would not change that: abandon it")]
    Refused(String),
}

/// Why a saga cannot be abandoned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the saga is already {}: there is nothing to abandon", .0.as_str())]
pub struct AlreadyClosed(pub SagaStatus);

/// An answer that came after the saga failed for want of it: kept, so that a retry starts
/// from it instead of waiting for an answer that was already given. `None` when the reply
/// is not such an answer (a refusal, a duplicate, another audience, a saga not failed).
pub fn on_late_reply(saga: &Saga, reply: &Reply, now: DateTime<Utc>) -> Option<Saga> {
    if saga.status != SagaStatus::Failed || saga.late_replies.contains(reply) {
        return None;
    }
    let answers_a_failed_step = |name: &str| {
        saga.step(name)
            .is_some_and(|s| s.status == StepStatus::Failed)
    };
    let useful = match reply {
        Reply::NotificationSent { step, audience } => {
            answers_first_step(saga.kind, *step, *audience)
                && saga
                    .steps
                    .first()
                    .is_some_and(|s| answers_a_failed_step(&s.name))
        }
        Reply::NotificationsRetracted => answers_a_failed_step(RETRACT_NOTIFICATIONS),
        Reply::AuditCompensated => answers_a_failed_step(MARK_AUDIT),
        Reply::NotificationFailed { .. } => false,
    };
    useful.then(|| {
        let mut next = saga.clone();
        next.late_replies.push(reply.clone());
        next.updated_at = now;
        next
    })
}

/// An operator resumes a FAILED saga at its failed step(s): same saga, a new attempt, a new
/// deadline, SAGA_RETRIED. Answers that came after it failed are applied at once, so a saga
/// whose participant answered late completes here.
pub fn retry(
    saga: &Saga,
    now: DateTime<Utc>,
    timeout: TimeDelta,
) -> Result<Transition, NotRetryable> {
    if saga.status != SagaStatus::Failed {
        return Err(NotRetryable::NotFailed(saga.status));
    }
    let failure = saga.failure.clone().unwrap_or_else(|| legacy_failure(saga));
    if !failure.retryable {
        return Err(NotRetryable::Refused(failure.reason));
    }
    let mut next = saga.clone();
    let mut resumed = Vec::new();
    for step in next
        .steps
        .iter_mut()
        .filter(|s| s.status == StepStatus::Failed)
    {
        step.status = StepStatus::Pending;
        step.started_at = now;
        step.finished_at = None;
        step.detail = None;
        resumed.push(step.name.clone());
    }
    let compensating = resumed
        .iter()
        .any(|s| s == RETRACT_NOTIFICATIONS || s == MARK_AUDIT);
    next.status = if compensating {
        SagaStatus::Compensating
    } else {
        SagaStatus::Running
    };
    next.attempt += 1;
    next.failure = None;
    next.finished_at = None;
    next.updated_at = now;
    next.deadline = Some(now + timeout);
    let step = resumed.first().cloned().unwrap_or(failure.step);
    let mut announcements = vec![retried(
        &next,
        &step,
        RetryInitiator::Operator,
        &failure.reason,
    )];
    for late in std::mem::take(&mut next.late_replies) {
        if let Some(answered) = on_reply(&next, &late, now) {
            next = answered.saga;
            announcements.extend(answered.announcements);
        }
    }
    Ok(Transition {
        saga: next,
        announcements,
        compensate: None,
    })
}

/// An operator closes a saga that is not over (or failed) for good, with a reason:
/// SAGA_ABANDONED. Its pending steps fail with that reason.
pub fn abandon(saga: &Saga, reason: &str, now: DateTime<Utc>) -> Result<Transition, AlreadyClosed> {
    if saga.status.is_final() && saga.status != SagaStatus::Failed {
        return Err(AlreadyClosed(saga.status));
    }
    let mut next = saga.clone();
    let step = next
        .steps
        .iter()
        .find(|s| s.status != StepStatus::Completed)
        .map(|s| s.name.clone());
    for pending in next
        .steps
        .iter_mut()
        .filter(|s| s.status == StepStatus::Pending)
    {
        pending.status = StepStatus::Failed;
        pending.finished_at = Some(now);
        pending.detail = Some(format!("abandoned: {reason}"));
    }
    finish(&mut next, SagaStatus::Abandoned, now);
    next.abandon_reason = Some(reason.to_owned());
    let payload = SagaAbandoned {
        saga_id: next.saga_id,
        saga_type: next.kind.as_str().to_owned(),
        complaint_id: next.complaint_id.clone(),
        status: next.status.as_str().to_owned(),
        step,
        attempt: next.attempt,
        reason: reason.to_owned(),
    };
    Ok(Transition {
        announcements: vec![typed(EventType::SagaAbandoned, &payload)],
        saga: next,
        compensate: None,
    })
}

/// A saga stored before failures were recorded: it failed for want of an answer if a failed
/// step says so (the clock writes "no answer by …").
fn legacy_failure(saga: &Saga) -> Failure {
    let failed = saga.steps.iter().find(|s| s.status == StepStatus::Failed);
    let reason = failed
        .and_then(|s| s.detail.clone())
        .unwrap_or_else(|| "unknown".to_owned());
    Failure {
        step: failed.map(|s| s.name.clone()).unwrap_or_default(),
        retryable: reason.starts_with("no answer by"),
        reason,
    }
}

fn retried(saga: &Saga, step: &str, by: RetryInitiator, previous_failure: &str) -> Announcement {
    let payload = SagaRetried {
        saga_id: saga.saga_id,
        saga_type: saga.kind.as_str().to_owned(),
        complaint_id: saga.complaint_id.clone(),
        status: saga.status.as_str().to_owned(),
        step: step.to_owned(),
        attempt: saga.attempt,
        initiated_by: by,
        previous_failure: previous_failure.to_owned(),
    };
    typed(EventType::SagaRetried, &payload)
}

/// A typed payload as event data. A struct of strings and numbers always serializes.
fn typed(event_type: EventType, payload: &impl Serialize) -> Announcement {
    Announcement {
        event_type,
        data: to_data(payload),
    }
}

/// Replies to the steps sagas are made of must find their saga; others (a status
/// notification, say) need not.
pub fn expects_a_saga(reply: &Reply) -> bool {
    match reply {
        Reply::NotificationSent { step, .. } | Reply::NotificationFailed { step, .. } => {
            SagaKind::ALL
                .iter()
                .any(|kind| first_answer(*kind).0 == *step)
        }
        Reply::NotificationsRetracted | Reply::AuditCompensated => true,
    }
}

/// An assignment saga that compensates but has not yet asked the complaint to (a crash came
/// between), and the failure that started its compensation.
pub fn awaits_its_compensation(saga: &Saga, reply: &Reply) -> bool {
    saga.kind == SagaKind::Assignment
        && saga.status == SagaStatus::Compensating
        && saga.compensation_event_id.is_none()
        && matches!(reply, Reply::NotificationFailed { step, audience, .. }
            if (*step, *audience) == first_answer(SagaKind::Assignment))
}

/// The notification that answers a saga's first step: its step, to its audience.
fn answers_first_step(kind: SagaKind, step: notification::Step, audience: Audience) -> bool {
    (step, audience) == first_answer(kind)
}

fn first_answer(kind: SagaKind) -> (notification::Step, Audience) {
    use notification::Step as Notified;
    match kind {
        SagaKind::Acknowledgement => (Notified::Acknowledgement, Audience::Complainant),
        SagaKind::Assignment => (Notified::Assignment, Audience::Assignee),
        SagaKind::Escalation => (Notified::Escalation, Audience::Supervisor),
    }
}

fn compensation_step_done(saga: &Saga, name: &str, now: DateTime<Utc>) -> Option<Transition> {
    if saga.step(name)?.status != StepStatus::Pending {
        return None; // a duplicate reply
    }
    let mut next = saga.clone();
    finish_step(&mut next, name, StepStatus::Completed, now, None);
    next.updated_at = now;
    let all_done = [RETRACT_NOTIFICATIONS, MARK_AUDIT].iter().all(|s| {
        next.step(s)
            .is_some_and(|s| s.status == StepStatus::Completed)
    });
    // As on completion: the last step is named by SAGA_COMPENSATED itself.
    let announcements = if all_done {
        finish(&mut next, SagaStatus::Compensated, now);
        vec![announce(
            EventType::SagaCompensated,
            &next,
            Some(name),
            None,
        )]
    } else {
        vec![announce(
            EventType::SagaStepCompleted,
            &next,
            Some(name),
            None,
        )]
    };
    Some(Transition {
        saga: next,
        announcements,
        compensate: None,
    })
}

/// `retryable`: the saga failed for want of an answer, so waiting again may help.
fn fail(
    mut saga: Saga,
    step: &str,
    reason: &str,
    retryable: bool,
    now: DateTime<Utc>,
) -> Transition {
    finish(&mut saga, SagaStatus::Failed, now);
    saga.failure = Some(Failure {
        step: step.to_owned(),
        reason: reason.to_owned(),
        retryable,
    });
    let announcements = vec![
        announce(EventType::SagaFailed, &saga, Some(step), Some(reason)),
        manual_intervention(&saga, step, reason),
    ];
    Transition {
        saga,
        announcements,
        compensate: None,
    }
}

/// ERROR_MANUAL_INTERVENTION_REQUIRED with its classification: a saga that failed while
/// compensating is a compensation failure, any other a saga failure (both CRITICAL).
fn manual_intervention(saga: &Saga, step: &str, reason: &str) -> Announcement {
    let kind = if saga.compensation_event_id.is_some() {
        ErrorKind::Compensation
    } else {
        ErrorKind::Saga
    };
    let report = ErrorReport::new(
        kind,
        crate::config::SERVICE,
        FailingMessage {
            event_id: Some(saga.trigger_event_id.to_string()),
            aggregate_id: Some(saga.complaint_id.clone()),
            correlation_id: Some(saga.correlation_id.clone()),
            ..FailingMessage::default()
        },
        ManualInterventionRequired {
            saga_id: saga.saga_id.to_string(),
            saga_type: saga.kind.as_str().to_owned(),
            complaint_id: saga.complaint_id.clone(),
            status: saga.status.as_str().to_owned(),
            step: Some(step.to_owned()),
            reason: Some(reason.to_owned()),
        },
    );
    Announcement {
        event_type: EventType::ErrorManualInterventionRequired,
        data: report.to_value(),
    }
}

fn pending(name: &str, now: DateTime<Utc>) -> Step {
    Step {
        name: name.to_owned(),
        status: StepStatus::Pending,
        started_at: now,
        finished_at: None,
        detail: None,
    }
}

fn finish_step(
    saga: &mut Saga,
    name: &str,
    status: StepStatus,
    now: DateTime<Utc>,
    detail: Option<String>,
) {
    if let Some(step) = saga.step_mut(name) {
        step.status = status;
        step.finished_at = Some(now);
        step.detail = detail;
    }
}

fn finish(saga: &mut Saga, status: SagaStatus, now: DateTime<Utc>) {
    saga.status = status;
    saga.updated_at = now;
    saga.finished_at = Some(now);
    saga.deadline = None;
}

fn announce(
    event_type: EventType,
    saga: &Saga,
    step: Option<&str>,
    reason: Option<&str>,
) -> Announcement {
    typed(
        event_type,
        &SagaChanged {
            saga_id: saga.saga_id,
            saga_type: saga.kind.as_str().to_owned(),
            complaint_id: saga.complaint_id.clone(),
            status: saga.status.as_str().to_owned(),
            step: step.map(str::to_owned),
            reason: reason.map(str::to_owned),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::event::Metadata;

    fn now() -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn trigger(event_type: EventType) -> Envelope {
        Envelope::new(
            event_type,
            "complaint-1",
            "Complaint",
            json!({}),
            Metadata::new("complaint-service", "corr-1".into(), now()),
        )
    }

    fn assignment() -> Saga {
        start(
            SagaKind::Assignment,
            &trigger(EventType::ComplaintAssigned),
            Some("agent-9".into()),
            now(),
            TimeDelta::minutes(5),
        )
        .saga
    }

    fn sent(step: &str, audience: &str) -> Reply {
        Reply::NotificationSent {
            step: step.parse().unwrap(),
            audience: audience.parse().unwrap(),
        }
    }

    fn failed(step: &str, audience: &str) -> Reply {
        Reply::NotificationFailed {
            step: step.parse().unwrap(),
            audience: audience.parse().unwrap(),
            reason: "unknown agent".into(),
        }
    }

    const NO_RESUME: Overdue = Overdue {
        auto_resumes: 0,
        step_timeout: TimeDelta::minutes(5),
    };

    fn acknowledgement() -> Saga {
        start(
            SagaKind::Acknowledgement,
            &trigger(EventType::ComplaintCreated),
            None,
            now(),
            TimeDelta::minutes(5),
        )
        .saga
    }

    fn later(minutes: i64) -> DateTime<Utc> {
        now() + TimeDelta::minutes(minutes)
    }

    /// The acknowledgement after its step timed out.
    fn timed_out() -> Saga {
        on_timeout(&acknowledgement(), later(6), NO_RESUME)
            .unwrap()
            .saga
    }

    fn types(t: &Transition) -> Vec<EventType> {
        t.announcements.iter().map(|a| a.event_type).collect()
    }

    #[test]
    fn a_created_complaint_starts_an_acknowledgement_that_one_sent_mail_completes() {
        let started = start(
            SagaKind::Acknowledgement,
            &trigger(EventType::ComplaintCreated),
            None,
            now(),
            TimeDelta::minutes(5),
        );
        assert_eq!(
            types(&started),
            [],
            "COMPLAINT_CREATED says it already: no SAGA_STARTED"
        );
        assert_eq!(started.saga.deadline, Some(now() + TimeDelta::minutes(5)));

        let done = on_reply(
            &started.saga,
            &sent("acknowledgement", "complainant"),
            now(),
        )
        .unwrap();
        assert_eq!(done.saga.status, SagaStatus::Completed);
        assert_eq!(
            done.saga.step(ACKNOWLEDGE).unwrap().status,
            StepStatus::Completed
        );
        assert_eq!(
            types(&done),
            [],
            "NOTIFICATION_SENT says it already: no SAGA_COMPLETED"
        );
        assert!(on_reply(&done.saga, &sent("acknowledgement", "complainant"), now()).is_none());
    }

    #[test]
    fn an_assignment_announces_its_start_and_an_end_that_names_the_last_step() {
        let started = start(
            SagaKind::Assignment,
            &trigger(EventType::ComplaintAssigned),
            Some("agent-9".into()),
            now(),
            TimeDelta::minutes(5),
        );
        assert_eq!(types(&started), [EventType::SagaStarted]);
        let done = on_reply(&started.saga, &sent("assignment", "assignee"), now()).unwrap();
        assert_eq!(done.saga.status, SagaStatus::Completed);
        assert_eq!(
            types(&done),
            [EventType::SagaCompleted],
            "the completing step is named by SAGA_COMPLETED, not announced apart"
        );
        assert_eq!(
            done.announcements[0].data["step"],
            serde_json::json!(NOTIFY_ASSIGNEE)
        );
    }

    #[test]
    fn an_acknowledgement_that_was_announced_before_announces_its_end() {
        let mut announced = acknowledgement();
        announced.version = 1; // its SAGA_STARTED went out before the quiet rule
        let done = on_reply(&announced, &sent("acknowledgement", "complainant"), now()).unwrap();
        assert_eq!(types(&done), [EventType::SagaCompleted]);
    }

    #[test]
    fn the_complainants_copy_of_an_assignment_does_not_complete_it() {
        assert!(on_reply(&assignment(), &sent("assignment", "complainant"), now()).is_none());
    }

    #[test]
    fn an_assignee_that_cannot_be_notified_is_compensated_then_the_saga_ends_compensated() {
        let failing = on_reply(&assignment(), &failed("assignment", "assignee"), now()).unwrap();
        assert_eq!(failing.saga.status, SagaStatus::Compensating);
        assert_eq!(
            failing.compensate,
            Some(Compensation {
                agent_id: "agent-9".into(),
                reason: "unknown agent".into(),
                failed_step: NOTIFY_ASSIGNEE.into(),
            })
        );
        let compensating =
            compensation_started(&failing.saga, Uuid::now_v7(), now(), TimeDelta::minutes(5));
        let retracted =
            on_reply(&compensating.saga, &Reply::NotificationsRetracted, now()).unwrap();
        assert_eq!(retracted.saga.status, SagaStatus::Compensating);
        assert!(on_reply(&retracted.saga, &Reply::NotificationsRetracted, now()).is_none());
        let done = on_reply(&retracted.saga, &Reply::AuditCompensated, now()).unwrap();
        assert_eq!(done.saga.status, SagaStatus::Compensated);
        assert_eq!(types(&done), [EventType::SagaCompensated]);
    }

    #[test]
    fn a_failed_acknowledgement_needs_a_person() {
        let saga = start(
            SagaKind::Acknowledgement,
            &trigger(EventType::ComplaintCreated),
            None,
            now(),
            TimeDelta::minutes(5),
        )
        .saga;
        let failed = on_reply(&saga, &failed("acknowledgement", "complainant"), now()).unwrap();
        assert_eq!(failed.saga.status, SagaStatus::Failed);
        assert_eq!(
            types(&failed),
            [
                EventType::SagaFailed,
                EventType::ErrorManualInterventionRequired
            ]
        );
    }

    #[test]
    fn a_step_without_an_answer_by_its_deadline_fails_the_saga() {
        let saga = assignment();
        assert!(on_timeout(&saga, now() + TimeDelta::minutes(4), NO_RESUME).is_none());
        let timed_out = on_timeout(&saga, now() + TimeDelta::minutes(6), NO_RESUME).unwrap();
        assert_eq!(timed_out.saga.status, SagaStatus::Failed);
        assert_eq!(timed_out.saga.steps[0].status, StepStatus::Failed);
        assert_eq!(
            types(&timed_out),
            [
                EventType::SagaFailed,
                EventType::ErrorManualInterventionRequired
            ]
        );
        assert!(on_timeout(&timed_out.saga, now() + TimeDelta::hours(1), NO_RESUME).is_none());
    }

    #[test]
    fn replies_are_read_off_events_by_their_causation() {
        let cause = trigger(EventType::ComplaintAssigned);
        let reply = Envelope::new(
            EventType::NotificationFailed,
            "n-1",
            "Notification",
            json!({"step": "assignment", "audience": "assignee", "reason": "unknown agent"}),
            Metadata::caused_by(&cause, "notification-service", now()),
        );
        assert_eq!(
            Reply::from_envelope(&reply).unwrap(),
            Some((cause.event_id, failed("assignment", "assignee")))
        );
        assert_eq!(Reply::from_envelope(&cause).unwrap(), None);
    }

    #[test]
    fn an_overdue_step_is_resumed_while_automatic_resumes_remain_then_fails() {
        let once = Overdue {
            auto_resumes: 1,
            step_timeout: TimeDelta::minutes(5),
        };
        let resumed = on_timeout(&acknowledgement(), later(6), once).unwrap();
        assert_eq!(types(&resumed), [EventType::SagaRetried]);
        assert_eq!(resumed.saga.status, SagaStatus::Running);
        assert_eq!(resumed.saga.attempt, 2);
        assert_eq!(resumed.saga.deadline, Some(later(11)));
        let data: SagaRetried =
            serde_json::from_value(resumed.announcements[0].data.clone()).unwrap();
        assert_eq!(data.initiated_by, RetryInitiator::Recovery);
        assert_eq!(data.step, ACKNOWLEDGE);

        let failed = on_timeout(&resumed.saga, later(12), once).unwrap();
        assert_eq!(failed.saga.status, SagaStatus::Failed);
        assert_eq!(
            failed.saga.failure.as_ref().map(|f| f.retryable),
            Some(true)
        );
    }

    #[test]
    fn a_retried_saga_waits_again_at_its_failed_step_with_a_new_attempt() {
        let retried = retry(&timed_out(), later(30), TimeDelta::minutes(5)).unwrap();
        assert_eq!(types(&retried), [EventType::SagaRetried]);
        assert_eq!(retried.saga.status, SagaStatus::Running);
        assert_eq!(retried.saga.attempt, 2);
        assert_eq!(retried.saga.failure, None);
        assert_eq!(retried.saga.finished_at, None);
        assert_eq!(retried.saga.deadline, Some(later(35)));
        assert_eq!(retried.saga.steps[0].status, StepStatus::Pending);
        let data: SagaRetried =
            serde_json::from_value(retried.announcements[0].data.clone()).unwrap();
        assert_eq!(data.initiated_by, RetryInitiator::Operator);
        assert!(data.previous_failure.starts_with("no answer by"));

        let done = on_reply(
            &retried.saga,
            &sent("acknowledgement", "complainant"),
            later(31),
        );
        assert_eq!(done.unwrap().saga.status, SagaStatus::Completed);
    }

    #[test]
    fn an_answer_that_came_after_the_failure_completes_the_retry_at_once() {
        let answer = sent("acknowledgement", "complainant");
        let late = on_late_reply(&timed_out(), &answer, later(10)).unwrap();
        assert_eq!(late.status, SagaStatus::Failed);
        assert!(
            on_late_reply(&late, &answer, later(11)).is_none(),
            "kept once"
        );
        assert!(on_late_reply(
            &timed_out(),
            &failed("acknowledgement", "complainant"),
            later(10)
        )
        .is_none());
        assert!(on_late_reply(&acknowledgement(), &answer, later(1)).is_none());

        let retried = retry(&late, later(30), TimeDelta::minutes(5)).unwrap();
        assert_eq!(
            types(&retried),
            [EventType::SagaRetried, EventType::SagaCompleted]
        );
        assert_eq!(retried.saga.status, SagaStatus::Completed);
        assert_eq!(retried.saga.attempt, 2);
        assert!(retried.saga.late_replies.is_empty());
    }

    #[test]
    fn only_a_saga_that_failed_for_want_of_an_answer_can_be_retried() {
        assert_eq!(
            retry(&acknowledgement(), now(), TimeDelta::minutes(5)).unwrap_err(),
            NotRetryable::NotFailed(SagaStatus::Running)
        );
        let refused = on_reply(
            &acknowledgement(),
            &failed("acknowledgement", "complainant"),
            now(),
        )
        .unwrap()
        .saga;
        assert!(matches!(
            retry(&refused, now(), TimeDelta::minutes(5)),
            Err(NotRetryable::Refused(_))
        ));
        let compensating =
            on_reply(&assignment(), &failed("assignment", "assignee"), now()).unwrap();
        let refused = compensation_refused(&compensating.saga, "reassigned meanwhile", now()).saga;
        assert_eq!(
            retry(&refused, now(), TimeDelta::minutes(5)).unwrap_err(),
            NotRetryable::Refused("reassigned meanwhile".into())
        );
    }

    #[test]
    fn a_saga_stored_before_failures_were_recorded_is_retryable_if_it_timed_out() {
        let mut legacy = timed_out();
        legacy.failure = None;
        assert!(retry(&legacy, later(30), TimeDelta::minutes(5)).is_ok());
    }

    #[test]
    fn a_timed_out_compensation_resumes_compensating() {
        let failing = on_reply(&assignment(), &failed("assignment", "assignee"), now()).unwrap();
        let compensating =
            compensation_started(&failing.saga, Uuid::now_v7(), now(), TimeDelta::minutes(5));
        let retracted =
            on_reply(&compensating.saga, &Reply::NotificationsRetracted, now()).unwrap();
        let timed_out = on_timeout(&retracted.saga, later(6), NO_RESUME)
            .unwrap()
            .saga;
        assert_eq!(
            timed_out.step(MARK_AUDIT).unwrap().status,
            StepStatus::Failed
        );

        let retried = retry(&timed_out, later(7), TimeDelta::minutes(5)).unwrap();
        assert_eq!(retried.saga.status, SagaStatus::Compensating);
        assert_eq!(
            retried.saga.step(MARK_AUDIT).unwrap().status,
            StepStatus::Pending
        );
        let done = on_reply(&retried.saga, &Reply::AuditCompensated, later(8)).unwrap();
        assert_eq!(done.saga.status, SagaStatus::Compensated);
    }

    #[test]
    fn an_abandoned_saga_keeps_the_reason_and_is_closed_for_good() {
        let abandoned = abandon(&timed_out(), "customer withdrew", later(10)).unwrap();
        assert_eq!(types(&abandoned), [EventType::SagaAbandoned]);
        assert_eq!(abandoned.saga.status, SagaStatus::Abandoned);
        assert_eq!(
            abandoned.saga.abandon_reason.as_deref(),
            Some("customer withdrew")
        );
        let data: SagaAbandoned =
            serde_json::from_value(abandoned.announcements[0].data.clone()).unwrap();
        assert_eq!(data.reason, "customer withdrew");
        assert_eq!(data.step.as_deref(), Some(ACKNOWLEDGE));

        assert_eq!(
            abandon(&abandoned.saga, "again", later(11)).unwrap_err(),
            AlreadyClosed(SagaStatus::Abandoned)
        );
        assert!(matches!(
            retry(&abandoned.saga, later(11), TimeDelta::minutes(5)),
            Err(NotRetryable::NotFailed(SagaStatus::Abandoned))
        ));
        let running = abandon(&acknowledgement(), "stuck", later(1)).unwrap().saga;
        assert_eq!(running.steps[0].status, StepStatus::Failed);
        assert!(on_reply(&running, &sent("acknowledgement", "complainant"), later(2)).is_none());
    }

    #[test]
    fn a_late_reply_survives_the_saga_row() {
        let late = on_late_reply(
            &timed_out(),
            &sent("acknowledgement", "complainant"),
            later(10),
        )
        .unwrap();
        let stored = serde_json::to_value(&late).unwrap();
        assert_eq!(stored["lateReplies"][0]["reply"], "NOTIFICATION_SENT");
        let back: Saga = serde_json::from_value(stored).unwrap();
        assert_eq!(back, late);
    }
}
