//! SLA deadlines: set at creation, recomputed on priority change, renewed by escalation.

use super::*;

#[test]
fn a_priority_change_recomputes_the_deadline_from_creation() {
    let state = given(&[created()]);
    let events = when(&state, change_priority(Priority::High), hours(10)).unwrap();
    assert_eq!(
        events,
        [ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
            from: Priority::Medium,
            to: Priority::High,
            reason: Some(reason("Customer is a hospital.")),
            sla_deadline: hours(24),
        })]
    );
    let state = after(state, change_priority(Priority::Low), hours(10));
    assert_eq!(state.priority, Priority::Low);
    assert_eq!(state.sla_deadline, Some(days(7)));
}

#[test]
fn a_late_priority_raise_makes_the_complaint_overdue_at_once() {
    let state = after(
        given(&[created()]),
        change_priority(Priority::Critical),
        hours(10),
    );
    assert_eq!(state.sla_deadline, Some(hours(4)));
    assert!(state.is_overdue(hours(10)));
}

#[test]
fn changing_to_the_same_priority_is_refused() {
    let state = given(&[created()]);
    let error = when(&state, change_priority(Priority::Medium), t0()).unwrap_err();
    assert_eq!(error, DomainError::SamePriority(Priority::Medium));
    assert_eq!(error.code(), "SAME_PRIORITY");
}

#[test]
fn escalation_raises_the_priority_and_level_with_a_fresh_deadline() {
    let state = given(&[created(), assigned("a1")]);
    assert!(state.is_overdue(hours(72)));
    let events = when(&state, escalate(), hours(73)).unwrap();
    assert_eq!(
        events,
        [ComplaintEvent::Escalated(ComplaintEscalated {
            from: Priority::Medium,
            to: Priority::High,
            escalation_level: 1,
            sla_deadline: hours(73 + 24),
        })]
    );
    let state = after(state, escalate(), hours(73));
    assert_eq!(state.priority, Priority::High);
    assert_eq!(state.escalation_level, 1);
    assert_eq!(state.status, Status::Assigned);
    assert!(!state.is_overdue(hours(74)));

    let state = after(state, escalate(), hours(97));
    let state = after(state, escalate(), hours(101));
    assert_eq!(
        state.priority,
        Priority::Critical,
        "critical stays critical"
    );
    assert_eq!(state.escalation_level, 3);
    assert_eq!(state.sla_deadline, Some(hours(105)));
}

#[test]
fn an_escalation_before_the_deadline_is_refused() {
    let state = given(&[created()]);
    let error = when(&state, escalate(), hours(71)).unwrap_err();
    assert_eq!(
        error,
        DomainError::EscalationNotDue {
            deadline: hours(72)
        }
    );
    assert_eq!(error.code(), "ESCALATION_NOT_DUE");

    // A repeated timer finds the deadline moved by the first escalation.
    let state = after(state, escalate(), hours(72));
    assert!(when(&state, escalate(), hours(72)).is_err());
}

#[test]
fn after_an_escalation_a_priority_change_counts_from_the_escalation() {
    let state = after(given(&[created()]), escalate(), hours(80));
    let state = after(state, change_priority(Priority::Low), hours(81));
    assert_eq!(state.sla_deadline, Some(hours(80) + TimeDelta::days(7)));
}

#[test]
fn resolved_and_closed_complaints_are_never_overdue() {
    let resolved = given(&[created(), assigned("a1"), processed("a1"), resolved("a1")]);
    assert!(!resolved.is_overdue(days(100)));
    assert!(!Complaint::empty(ID).is_overdue(days(100)));
}

#[test]
fn sla_targets_come_from_the_policy() {
    let policy = Policy {
        sla: SlaTargets {
            critical: TimeDelta::minutes(30),
            ..SlaTargets::default()
        },
        ..Policy::default()
    };
    let events = decide(
        &Complaint::empty(ID),
        create(Priority::Critical),
        &policy,
        t0(),
    )
    .unwrap();
    let ComplaintEvent::Created(data) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(data.sla_deadline, t0() + TimeDelta::minutes(30));
}
