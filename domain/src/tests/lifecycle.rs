//! The happy path and the life of a whole stream.

use super::*;

#[test]
fn creating_a_complaint_records_its_facts_and_sla_deadline() {
    let events = when(&Complaint::empty(ID), create(Priority::High), t0()).unwrap();
    let [ComplaintEvent::Created(data)] = &events[..] else {
        panic!("expected one COMPLAINT_CREATED, got {events:?}");
    };
    assert_eq!(data.priority, Priority::High);
    assert_eq!(data.sla_deadline, hours(24));
    assert_eq!(data.customer, customer());

    let state = after(Complaint::empty(ID), create(Priority::High), t0());
    assert!(state.exists());
    assert_eq!(state.id, ID);
    assert_eq!(state.version, 1);
    assert_eq!(state.status, Status::Open);
    assert_eq!(state.title, "Invoice charged twice");
    assert_eq!(state.category, "billing");
    assert_eq!(state.customer_email, "ada@example.com");
    assert_eq!(state.created_at, Some(t0()));
    assert_eq!(state.updated_at, Some(t0()));
    assert_eq!(state.sla_deadline, Some(hours(24)));
    assert_eq!(state.assignee, None);
}

#[test]
fn a_complaint_goes_from_open_to_closed() {
    let state = given(&[created()]);

    let state = after(state, assign("a1"), hours(1));
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.assignee, Some(agent("a1")));

    let state = after(state, process(), hours(2));
    assert_eq!(state.status, Status::InProgress);

    let state = after(state, resolve(), hours(3));
    assert_eq!(state.status, Status::Resolved);
    assert_eq!(
        state.resolution.as_deref(),
        Some("Refunded the second debit.")
    );
    assert_eq!(state.resolved_at, Some(hours(3)));

    let state = after(state, close(), hours(4));
    assert_eq!(state.status, Status::Closed);
    assert_eq!(state.closed_at, Some(hours(4)));
    assert_eq!(state.version, 5);
    assert_eq!(state.created_at, Some(t0()));
    assert_eq!(state.updated_at, Some(hours(4)));
}

#[test]
fn processing_and_resolving_name_the_assignee() {
    let state = given(&[created(), assigned("a1")]);
    assert_eq!(when(&state, process(), t0()), Ok(vec![processed("a1")]));
    let state = given(&[created(), assigned("a1"), processed("a1")]);
    assert_eq!(when(&state, resolve(), t0()), Ok(vec![resolved("a1")]));
}

#[test]
fn nothing_but_create_applies_to_a_complaint_that_does_not_exist() {
    let nothing = Complaint::empty(ID);
    assert!(!nothing.exists());
    assert_eq!(nothing.version, 0);
    assert_eq!(
        when(&nothing, assign("a1"), t0()),
        Err(DomainError::DoesNotExist)
    );
    assert_eq!(DomainError::DoesNotExist.code(), "COMPLAINT_NOT_FOUND");
}

#[test]
fn a_complaint_is_created_only_once() {
    let state = given(&[created()]);
    assert_eq!(
        when(&state, create(Priority::Low), t0()),
        Err(DomainError::AlreadyExists)
    );
}

#[test]
fn refusals_say_what_was_attempted_from_where() {
    let state = given(&[created()]);
    let error = when(&state, close(), t0()).unwrap_err();
    assert_eq!(
        error,
        DomainError::InvalidTransition {
            from: Status::Open,
            action: "close"
        }
    );
    assert_eq!(error.to_string(), "cannot close a complaint that is OPEN");
    assert_eq!(error.code(), "INVALID_TRANSITION");
}

#[test]
fn a_full_stream_folds_to_the_state_it_describes() {
    let stream = [
        (created(), t0()),
        (assigned("a1"), hours(1)),
        (
            ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
                from: Priority::Medium,
                to: Priority::High,
                reason: None,
                sla_deadline: hours(24),
            }),
            hours(2),
        ),
        (processed("a1"), hours(3)),
        (
            ComplaintEvent::Escalated(ComplaintEscalated {
                from: Priority::High,
                to: Priority::Critical,
                escalation_level: 1,
                sla_deadline: hours(28),
            }),
            hours(24),
        ),
        (resolved("a1"), hours(26)),
        (closed(), hours(30)),
        (
            ComplaintEvent::Reopened(ComplaintReopened {
                reason: reason("Still broken."),
                agent_id: Some(agent("a1")),
                sla_deadline: days(3) + TimeDelta::hours(4),
            }),
            days(3),
        ),
        (
            ComplaintEvent::Assigned(ComplaintAssigned {
                agent_id: agent("a2"),
                previous_agent_id: Some(agent("a1")),
            }),
            days(4),
        ),
    ];
    let state = given_at(&stream);
    assert_eq!(
        state,
        Complaint {
            id: ID.into(),
            version: 9,
            status: Status::Assigned,
            priority: Priority::Critical,
            category: "billing".into(),
            title: "Invoice charged twice".into(),
            description: "May's invoice was debited twice.".into(),
            customer_id: "customer-42".into(),
            customer_name: "Ada Lovelace".into(),
            customer_email: "ada@example.com".into(),
            assignee: Some(agent("a2")),
            escalation_level: 1,
            reopen_count: 1,
            resolution: None,
            created_at: Some(t0()),
            updated_at: Some(days(4)),
            resolved_at: None,
            closed_at: None,
            sla_started_at: Some(days(3)),
            sla_deadline: Some(days(3) + TimeDelta::hours(4)),
        }
    );
}

#[test]
fn replaying_the_decided_events_gives_the_same_state() {
    let steps = [
        (create(Priority::Low), t0()),
        (assign("a1"), hours(1)),
        (process(), hours(2)),
        (change_priority(Priority::Critical), hours(3)),
        (escalate(), hours(5)),
        (resolve(), hours(6)),
    ];
    let mut state = Complaint::empty(ID);
    let mut recorded = Vec::new();
    for (command, now) in steps {
        for event in when(&state, command, now).unwrap() {
            state = evolve(state, &event, now);
            recorded.push((event, now));
        }
    }
    assert_eq!(given_at(&recorded), state);
    assert_eq!(state.version, 6);
    assert_eq!(state.priority, Priority::Critical);
    assert_eq!(state.escalation_level, 1);
}
