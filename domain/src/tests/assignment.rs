//! Assigning, reassigning, and the compensation saga that reverts an assignment.

use super::*;

#[test]
fn reassigning_names_the_previous_agent_and_starts_over() {
    for state in [
        given(&[created(), assigned("a1")]),
        given(&[created(), assigned("a1"), processed("a1")]),
    ] {
        let events = when(&state, assign("a2"), hours(1)).unwrap();
        assert_eq!(
            events,
            [ComplaintEvent::Assigned(ComplaintAssigned {
                agent_id: agent("a2"),
                previous_agent_id: Some(agent("a1")),
            })]
        );
        let state = after(state, assign("a2"), hours(1));
        assert_eq!(state.status, Status::Assigned);
        assert_eq!(state.assignee, Some(agent("a2")));
    }
}

#[test]
fn assigning_the_current_assignee_again_is_refused() {
    let state = given(&[created(), assigned("a1"), processed("a1")]);
    let error = when(&state, assign("a1"), hours(1)).unwrap_err();
    assert_eq!(error, DomainError::AlreadyAssignedTo(agent("a1")));
    assert_eq!(error.code(), "ALREADY_ASSIGNED");
}

#[test]
fn a_failed_assignment_is_compensated_then_reverted_to_open() {
    let state = given(&[created(), assigned("ghost")]);

    let events = when(&state, require_compensation("ghost"), hours(1)).unwrap();
    assert_eq!(
        events,
        [ComplaintEvent::CompensationRequired(
            ComplaintCompensationRequired {
                agent_id: agent("ghost"),
                reason: reason("unknown agent"),
                failed_step: "NOTIFY_ASSIGNEE".into(),
            }
        )]
    );
    let state = after(state, require_compensation("ghost"), hours(1));
    assert_eq!(
        state.status,
        Status::Assigned,
        "compensation alone changes nothing"
    );
    assert_eq!(state.version, 3);

    let state = after(state, revert_assignment("ghost"), hours(1));
    assert_eq!(state.status, Status::Open);
    assert_eq!(state.assignee, None);
    assert_eq!(state.version, 4);

    // Back to OPEN, it can be assigned again, and not reverted twice.
    assert_eq!(
        when(&state, revert_assignment("ghost"), hours(2)),
        Err(DomainError::InvalidTransition {
            from: Status::Open,
            action: "revert the assignment of"
        })
    );
    assert_eq!(
        after(state, assign("a1"), hours(2)).status,
        Status::Assigned
    );
}

#[test]
fn a_compensation_for_a_replaced_assignment_is_refused() {
    let state = given(&[created(), assigned("ghost"), assigned("a2")]);
    for command in [require_compensation("ghost"), revert_assignment("ghost")] {
        let error = when(&state, command, hours(1)).unwrap_err();
        assert_eq!(error, DomainError::NotAssignedTo(agent("ghost")));
        assert_eq!(error.code(), "ASSIGNMENT_CHANGED");
    }
}
