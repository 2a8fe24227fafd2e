//! Every command from every status: exactly the lifecycle's transitions are allowed.

use super::*;

/// A complaint in each status, reached the ordinary way, with `a1` as its assignee.
fn in_status(status: Status) -> Complaint {
    let path = [
        created(),
        assigned("a1"),
        processed("a1"),
        resolved("a1"),
        closed(),
    ];
    let steps = Status::ALL.iter().position(|s| *s == status).unwrap() + 1;
    let state = given(&path[..steps]);
    assert_eq!(state.status, status);
    state
}

/// Every command, each one that could succeed from some status (another agent to assign,
/// another priority, a compensation for the current assignee).
fn every_command() -> Vec<Command> {
    vec![
        create(Priority::Medium),
        assign("a2"),
        process(),
        resolve(),
        close(),
        reopen(),
        change_priority(Priority::High),
        escalate(),
        require_compensation("a1"),
        revert_assignment("a1"),
    ]
}

/// The status each allowed command leads to, per status; `None` where it is refused.
fn expected(status: Status, command: &Command) -> Option<Status> {
    use Status::*;
    match (status, command) {
        (Open | Assigned | InProgress, Command::Assign { .. }) => Some(Assigned),
        (Assigned, Command::Process) => Some(InProgress),
        (InProgress, Command::Resolve { .. }) => Some(Resolved),
        (Resolved, Command::Close) => Some(Closed),
        (Resolved | Closed, Command::Reopen { .. }) => Some(Assigned),
        (Open | Assigned | InProgress | Resolved, Command::ChangePriority { .. }) => Some(status),
        (Open | Assigned | InProgress, Command::Escalate) => Some(status),
        (Assigned | InProgress, Command::RequireCompensation { .. }) => Some(status),
        (Assigned | InProgress, Command::RevertAssignment { .. }) => Some(Open),
        _ => None,
    }
}

#[test]
fn exactly_the_lifecycle_transitions_are_allowed() {
    // Past the SLA deadline (72 h) and within the reopen window (30 days).
    let now = days(4);
    let mut allowed = 0;
    for &status in Status::ALL {
        for command in every_command() {
            let state = in_status(status);
            let name = command.name();
            let is_create = matches!(command, Command::Create { .. });
            let outcome = when(&state, command.clone(), now);
            match expected(status, &command) {
                Some(next) => {
                    allowed += 1;
                    let events =
                        outcome.unwrap_or_else(|e| panic!("{name} from {status} was refused: {e}"));
                    assert_eq!(events.len(), 1, "{name} from {status}");
                    let after = evolve(state.clone(), &events[0], now);
                    assert_eq!(after.status, next, "{name} from {status}");
                    assert_eq!(after.version, state.version + 1);
                }
                None if is_create => assert_eq!(outcome, Err(DomainError::AlreadyExists)),
                None => assert_eq!(
                    outcome,
                    Err(DomainError::InvalidTransition {
                        from: status,
                        action: name
                    }),
                    "{name} from {status}"
                ),
            }
        }
    }
    assert_eq!(allowed, 19);
}

#[test]
fn a_complaint_that_does_not_exist_only_accepts_create() {
    for command in every_command() {
        let is_create = matches!(command, Command::Create { .. });
        let outcome = when(&Complaint::empty(ID), command, t0());
        if is_create {
            assert!(outcome.is_ok());
        } else {
            assert_eq!(outcome, Err(DomainError::DoesNotExist));
        }
    }
}
