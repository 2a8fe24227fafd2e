//! Deciding what a command means for a complaint: the lifecycle rules, in one place.

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    command::Command,
    error::DomainError,
    event::{
        ComplaintAssigned, ComplaintAssignmentReverted, ComplaintClosed,
        ComplaintCompensationRequired, ComplaintCreated, ComplaintEscalated, ComplaintEvent,
        ComplaintPriorityChanged, ComplaintProcessed, ComplaintReopened, ComplaintResolved,
    },
    policy::Policy,
    priority::Priority,
    state::Complaint,
    status::Status,
    values::{AgentId, Reason, Resolution},
};

/// The events that `command` records on `state` at `now`, or why it is refused.
///
/// ```text
/// OPEN -assign-> ASSIGNED -process-> IN_PROGRESS -resolve-> RESOLVED -close-> CLOSED
/// assign (again)         while ASSIGNED or IN_PROGRESS, to another agent: ASSIGNED
/// reopen                 from RESOLVED or CLOSED, within the reopen window
/// change priority        unless CLOSED
/// escalate               while unresolved, once the SLA deadline has passed
/// require compensation   while ASSIGNED or IN_PROGRESS, for the current assignee
/// revert assignment      likewise: back to OPEN with no assignee
/// ```
///
/// Pure: the clock is `now`, the rules are `policy`. Deadlines are computed here and carried
/// in the events, so [`super::evolve`] and replays never depend on the policy in force.
pub fn decide(
    state: &Complaint,
    command: Command,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintEvent>, DomainError> {
    use Status::{Assigned, Closed, InProgress, Open, Resolved};
    let refuse = DomainError::InvalidTransition {
        from: state.status,
        action: command.name(),
    };
    let event = match command {
        Command::Create {
            title,
            description,
            category,
            priority,
            customer,
        } => {
            if state.exists() {
                return Err(DomainError::AlreadyExists);
            }
            ComplaintEvent::Created(ComplaintCreated {
                title,
                description,
                category,
                priority,
                customer,
                sla_deadline: deadline(now, policy.sla(priority)),
            })
        }
        _ if !state.exists() => return Err(DomainError::DoesNotExist),
        Command::Assign { agent_id } => {
            only_in(state, &[Open, Assigned, InProgress], refuse)?;
            assign(state, agent_id)?
        }
        Command::Process => {
            only_in(state, &[Assigned], refuse)?;
            let agent_id = state.assignee.clone().ok_or(DomainError::NotAssigned)?;
            ComplaintEvent::Processed(ComplaintProcessed { agent_id })
        }
        Command::Resolve { resolution } => {
            only_in(state, &[InProgress], refuse)?;
            resolve(state, resolution)
        }
        Command::Close => {
            only_in(state, &[Resolved], refuse)?;
            ComplaintEvent::Closed(ComplaintClosed {})
        }
        Command::Reopen { reason } => {
            only_in(state, &[Resolved, Closed], refuse)?;
            reopen(state, reason, policy, now)?
        }
        Command::ChangePriority { priority, reason } => {
            only_in(state, &[Open, Assigned, InProgress, Resolved], refuse)?;
            change_priority(state, priority, reason, policy, now)?
        }
        Command::Escalate => {
            only_in(state, &[Open, Assigned, InProgress], refuse)?;
            escalate(state, policy, now)?
        }
        Command::RequireCompensation {
            agent_id,
            reason,
            failed_step,
        } => {
            only_in(state, &[Assigned, InProgress], refuse)?;
            let agent_id = current_assignee(state, agent_id)?;
            ComplaintEvent::CompensationRequired(ComplaintCompensationRequired {
                agent_id,
                reason,
                failed_step,
            })
        }
        Command::RevertAssignment { agent_id, reason } => {
            only_in(state, &[Assigned, InProgress], refuse)?;
            let agent_id = current_assignee(state, agent_id)?;
            ComplaintEvent::AssignmentReverted(ComplaintAssignmentReverted { agent_id, reason })
        }
    };
    Ok(vec![event])
}

/// `Ok(())` if the complaint is in one of `allowed`, else `refusal`.
fn only_in(state: &Complaint, allowed: &[Status], refusal: DomainError) -> Result<(), DomainError> {
    if allowed.contains(&state.status) {
        Ok(())
    } else {
        Err(refusal)
    }
}

/// Assigning the current assignee again would notify them twice for nothing.
fn assign(state: &Complaint, agent_id: AgentId) -> Result<ComplaintEvent, DomainError> {
    if state.assignee.as_ref() == Some(&agent_id) {
        return Err(DomainError::AlreadyAssignedTo(agent_id));
    }
    Ok(ComplaintEvent::Assigned(ComplaintAssigned {
        agent_id,
        previous_agent_id: state.assignee.clone(),
    }))
}

fn resolve(state: &Complaint, resolution: Resolution) -> ComplaintEvent {
    ComplaintEvent::Resolved(ComplaintResolved {
        resolution,
        resolved_by: state.assignee.clone(),
    })
}

/// Reopening restarts the SLA clock: the complaint needs resolving again, and a deadline
/// counted from its creation would usually be long past.
fn reopen(
    state: &Complaint,
    reason: Reason,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<ComplaintEvent, DomainError> {
    // The window counts from closing if it was closed, else from resolving.
    if let Some(since) = state.closed_at.or(state.resolved_at) {
        let window_ended_at = deadline(since, policy.reopen_window);
        if now > window_ended_at {
            return Err(DomainError::ReopenWindowExpired { window_ended_at });
        }
    }
    Ok(ComplaintEvent::Reopened(ComplaintReopened {
        reason,
        agent_id: state.assignee.clone(),
        sla_deadline: deadline(now, policy.sla(state.priority)),
    }))
}

/// The new priority's target counted from when the SLA clock started, so a complaint made
/// more urgent late may be overdue at once (and the SLA timer escalates it).
fn change_priority(
    state: &Complaint,
    priority: Priority,
    reason: Option<Reason>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<ComplaintEvent, DomainError> {
    if priority == state.priority {
        return Err(DomainError::SamePriority(priority));
    }
    let clock_started = state.sla_started_at.or(state.created_at).unwrap_or(now);
    Ok(ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
        from: state.priority,
        to: priority,
        reason,
        sla_deadline: deadline(clock_started, policy.sla(priority)),
    }))
}

/// An escalation gives a fresh deadline counted from now. Counted from creation it would
/// already be past (a higher priority has a shorter target), and the timer would escalate
/// again at once, up to CRITICAL in one go.
fn escalate(
    state: &Complaint,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<ComplaintEvent, DomainError> {
    if let Some(due) = state.sla_deadline {
        if now < due {
            return Err(DomainError::EscalationNotDue { deadline: due });
        }
    }
    let to = state.priority.escalated();
    Ok(ComplaintEvent::Escalated(ComplaintEscalated {
        from: state.priority,
        to,
        escalation_level: state.escalation_level.saturating_add(1),
        sla_deadline: deadline(now, policy.sla(to)),
    }))
}

/// `agent_id` if it is the current assignee: a compensation for an assignment that has since
/// been replaced must not undo the new one.
fn current_assignee(state: &Complaint, agent_id: AgentId) -> Result<AgentId, DomainError> {
    match &state.assignee {
        None => Err(DomainError::NotAssigned),
        Some(current) if *current == agent_id => Ok(agent_id),
        Some(_) => Err(DomainError::NotAssignedTo(agent_id)),
    }
}

/// `from + allowed`, or the end of time for a policy so generous it would overflow.
fn deadline(from: DateTime<Utc>, allowed: TimeDelta) -> DateTime<Utc> {
    from.checked_add_signed(allowed)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
