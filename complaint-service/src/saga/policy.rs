//! How a saga moves, as pure functions: started by a complaint event, moved on by the replies
//! of other services (matched by their causation id), failed by a deadline. Each transition
//! says what to announce (SAGA_* events, and ERROR_MANUAL_INTERVENTION_REQUIRED when a person
//! must step in) and whether the complaint must be compensated.

use super::model::{Saga, SagaKind, SagaStatus, Step, StepStatus};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use shared::event::{
    errors::{ErrorKind, ErrorReport, FailingMessage, ManualInterventionRequired},
    Envelope, EventType,
};
use uuid::Uuid;

pub const ACKNOWLEDGE: &str = "acknowledge-complainant";
pub const NOTIFY_ASSIGNEE: &str = "notify-assignee";
pub const NOTIFY_SUPERVISORS: &str = "notify-supervisors";
pub const REVERT_ASSIGNMENT: &str = "revert-assignment";
pub const RETRACT_NOTIFICATIONS: &str = "retract-notifications";
pub const MARK_AUDIT: &str = "mark-audit-compensated";

/// What another service answered, read off its event.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    NotificationSent {
        step: String,
        audience: String,
    },
    NotificationFailed {
        step: String,
        audience: String,
        reason: String,
    },
    NotificationsRetracted,
    AuditCompensated,
}

impl Reply {
    /// The reply an event carries and the event it answers (its causation id); `None` for
    /// events no saga waits for.
    pub fn from_envelope(event: &Envelope) -> Option<(Uuid, Reply)> {
        let cause = event.metadata.causation_id.as_deref()?.parse().ok()?;
        let text = |key: &str| {
            event.event_data[key]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        let reply = match event.known_type()? {
            EventType::NotificationSent => Reply::NotificationSent {
                step: text("step"),
                audience: text("audience"),
            },
            EventType::NotificationFailed => Reply::NotificationFailed {
                step: text("step"),
                audience: text("audience"),
                reason: text("reason"),
            },
            EventType::NotificationCompensation => Reply::NotificationsRetracted,
            EventType::AuditCompensation => Reply::AuditCompensated,
            _ => return None,
        };
        Some((cause, reply))
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
    };
    let announcements = vec![announce(
        EventType::SagaStarted,
        &saga,
        Some(first_step),
        None,
    )];
    Transition {
        saga,
        announcements,
        compensate: None,
    }
}

/// The saga after `reply`; `None` when the reply changes nothing (a final saga, a reply for
/// another audience, a duplicate).
pub fn on_reply(saga: &Saga, reply: &Reply, now: DateTime<Utc>) -> Option<Transition> {
    match (saga.status, reply) {
        (SagaStatus::Running, Reply::NotificationSent { step, audience })
            if answers_first_step(saga.kind, step, audience) =>
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
            Some(Transition {
                announcements: vec![
                    announce(EventType::SagaStepCompleted, &next, Some(&name), None),
                    announce(EventType::SagaCompleted, &next, None, None),
                ],
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
        ) if answers_first_step(saga.kind, step, audience) => {
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
                _ => Some(fail(next, &name, reason, now)),
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
    fail(saga.clone(), REVERT_ASSIGNMENT, reason, now)
}

/// The pending step got no answer by the deadline.
pub fn on_timeout(saga: &Saga, now: DateTime<Utc>) -> Option<Transition> {
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
    for name in &waiting {
        finish_step(
            &mut next,
            name,
            StepStatus::Failed,
            now,
            Some(reason.clone()),
        );
    }
    let step = waiting.first().cloned().unwrap_or_default();
    Some(fail(next, &step, &reason, now))
}

fn answers_first_step(kind: SagaKind, step: &str, audience: &str) -> bool {
    match kind {
        SagaKind::Acknowledgement => step == "acknowledgement" && audience == "complainant",
        SagaKind::Assignment => step == "assignment" && audience == "assignee",
        SagaKind::Escalation => step == "escalation" && audience == "supervisor",
    }
}

fn compensation_step_done(saga: &Saga, name: &str, now: DateTime<Utc>) -> Option<Transition> {
    if saga.step(name)?.status != StepStatus::Pending {
        return None; // a duplicate reply
    }
    let mut next = saga.clone();
    finish_step(&mut next, name, StepStatus::Completed, now, None);
    next.updated_at = now;
    let mut announcements = vec![announce(
        EventType::SagaStepCompleted,
        &next,
        Some(name),
        None,
    )];
    let all_done = [RETRACT_NOTIFICATIONS, MARK_AUDIT].iter().all(|s| {
        next.step(s)
            .is_some_and(|s| s.status == StepStatus::Completed)
    });
    if all_done {
        finish(&mut next, SagaStatus::Compensated, now);
        announcements.push(announce(EventType::SagaCompensated, &next, None, None));
    }
    Some(Transition {
        saga: next,
        announcements,
        compensate: None,
    })
}

fn fail(mut saga: Saga, step: &str, reason: &str, now: DateTime<Utc>) -> Transition {
    finish(&mut saga, SagaStatus::Failed, now);
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
    let mut data = json!({
        "sagaId": saga.saga_id,
        "sagaType": saga.kind.as_str(),
        "complaintId": saga.complaint_id,
        "status": saga.status.as_str(),
    });
    if let Some(step) = step {
        data["step"] = step.into();
    }
    if let Some(reason) = reason {
        data["reason"] = reason.into();
    }
    Announcement { event_type, data }
}

#[cfg(test)]
mod tests {
    use super::*;
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
            step: step.into(),
            audience: audience.into(),
        }
    }

    fn failed(step: &str, audience: &str) -> Reply {
        Reply::NotificationFailed {
            step: step.into(),
            audience: audience.into(),
            reason: "unknown agent".into(),
        }
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
        assert_eq!(types(&started), [EventType::SagaStarted]);
        assert_eq!(started.saga.deadline, Some(now() + TimeDelta::minutes(5)));

        let done = on_reply(
            &started.saga,
            &sent("acknowledgement", "complainant"),
            now(),
        )
        .unwrap();
        assert_eq!(done.saga.status, SagaStatus::Completed);
        assert_eq!(
            types(&done),
            [EventType::SagaStepCompleted, EventType::SagaCompleted]
        );
        assert!(on_reply(&done.saga, &sent("acknowledgement", "complainant"), now()).is_none());
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
        assert_eq!(
            types(&done),
            [EventType::SagaStepCompleted, EventType::SagaCompensated]
        );
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
        assert!(on_timeout(&saga, now() + TimeDelta::minutes(4)).is_none());
        let timed_out = on_timeout(&saga, now() + TimeDelta::minutes(6)).unwrap();
        assert_eq!(timed_out.saga.status, SagaStatus::Failed);
        assert_eq!(timed_out.saga.steps[0].status, StepStatus::Failed);
        assert_eq!(
            types(&timed_out),
            [
                EventType::SagaFailed,
                EventType::ErrorManualInterventionRequired
            ]
        );
        assert!(on_timeout(&timed_out.saga, now() + TimeDelta::hours(1)).is_none());
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
            Reply::from_envelope(&reply),
            Some((cause.event_id, failed("assignment", "assignee")))
        );
        assert_eq!(Reply::from_envelope(&cause), None);
    }
}
