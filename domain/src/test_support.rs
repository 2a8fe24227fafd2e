//! The fixtures of the given/when/then tests of the aggregate, without a framework: `given`
//! the events so far, `when` a command is decided at some time, `then` compare the events,
//! refusal or state. Shared with the crates that build on the domain (feature
//! `test-support`), so their tests speak of the same complaint.

use std::convert::Infallible;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{
    decide, evolve, AgentId, Category, Command, Complaint, ComplaintAssigned, ComplaintClosed,
    ComplaintCreated, ComplaintEvent, ComplaintProcessed, ComplaintResolved, ComplaintTitle,
    Contact, Customer, CustomerId, CustomerName, Description, DomainError, Email, Policy, Priority,
    Reason, Recorded, Resolution,
};

pub const ID: &str = "0190a6f2-7c3e-7b1a-9a4e-000000000001";

/// When the complaint of every test was created: 2024-05-01 10:00 UTC.
pub fn t0() -> DateTime<Utc> {
    "2024-05-01T10:00:00Z".parse().unwrap()
}

pub fn hours(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::hours(n)
}

pub fn days(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::days(n)
}

/// The state after `events`, all recorded at [`t0`].
pub fn given(events: &[ComplaintEvent]) -> Complaint {
    given_at(
        &events
            .iter()
            .map(|event| (event.clone(), t0()))
            .collect::<Vec<_>>(),
    )
}

/// The state after `events` (versions 1, 2, …), each recorded at its own time.
pub fn given_at(events: &[(ComplaintEvent, DateTime<Utc>)]) -> Complaint {
    let stream = events.iter().zip(1..).map(|((event, at), version)| {
        Ok::<_, Infallible>(Recorded {
            version,
            at: *at,
            event: Some(event.clone()),
        })
    });
    match Complaint::empty(ID).fold(stream) {
        Ok(state) => state,
        Err(never) => match never {},
    }
}

/// `decide` with the default policy.
pub fn when(
    state: &Complaint,
    command: Command,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintEvent>, DomainError> {
    decide(state, command, &Policy::default(), now)
}

/// The state after deciding `command` at `now` and recording its events; panics if refused.
pub fn after(state: Complaint, command: Command, now: DateTime<Utc>) -> Complaint {
    let events = when(&state, command, now).unwrap();
    events
        .iter()
        .fold(state, |state, event| evolve(state, event, now))
}

// Values.

pub fn agent(id: &str) -> AgentId {
    AgentId::parse(id).unwrap()
}

pub fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

pub fn customer() -> Customer {
    Customer {
        id: CustomerId::parse("customer-42").unwrap(),
        name: CustomerName::parse("Ada Lovelace").unwrap(),
        contact: Contact {
            email: Email::parse("ada@example.com").unwrap(),
        },
    }
}

// Events.

/// A MEDIUM complaint created at t0, due 72 hours later.
pub fn created() -> ComplaintEvent {
    ComplaintEvent::Created(ComplaintCreated {
        title: ComplaintTitle::parse("Invoice charged twice").unwrap(),
        description: Description::parse("May's invoice was debited twice.").unwrap(),
        category: Category::parse("billing").unwrap(),
        priority: Priority::Medium,
        customer: customer(),
        sla_deadline: hours(72),
    })
}

pub fn assigned(agent_id: &str) -> ComplaintEvent {
    ComplaintEvent::Assigned(ComplaintAssigned {
        agent_id: agent(agent_id),
        previous_agent_id: None,
    })
}

pub fn processed(agent_id: &str) -> ComplaintEvent {
    ComplaintEvent::Processed(ComplaintProcessed {
        agent_id: agent(agent_id),
    })
}

pub fn resolved(agent_id: &str) -> ComplaintEvent {
    ComplaintEvent::Resolved(ComplaintResolved {
        resolution: Resolution::parse("Refunded the second debit.").unwrap(),
        resolved_by: Some(agent(agent_id)),
    })
}

pub fn closed() -> ComplaintEvent {
    ComplaintEvent::Closed(ComplaintClosed {})
}

// Commands.

pub fn create(priority: Priority) -> Command {
    Command::Create {
        title: ComplaintTitle::parse("Invoice charged twice").unwrap(),
        description: Description::parse("May's invoice was debited twice.").unwrap(),
        category: Category::parse("billing").unwrap(),
        priority,
        customer: customer(),
    }
}

pub fn assign(agent_id: &str) -> Command {
    Command::Assign {
        agent_id: agent(agent_id),
    }
}

pub fn process() -> Command {
    Command::Process
}

pub fn resolve() -> Command {
    Command::Resolve {
        resolution: Resolution::parse("Refunded the second debit.").unwrap(),
    }
}

pub fn close() -> Command {
    Command::Close
}

pub fn reopen() -> Command {
    Command::Reopen {
        reason: reason("The refund never arrived."),
    }
}

pub fn change_priority(priority: Priority) -> Command {
    Command::ChangePriority {
        priority,
        reason: Some(reason("Customer is a hospital.")),
    }
}

pub fn escalate() -> Command {
    Command::Escalate
}

pub fn require_compensation(agent_id: &str) -> Command {
    Command::RequireCompensation {
        agent_id: agent(agent_id),
        reason: reason("unknown agent"),
        failed_step: "NOTIFY_ASSIGNEE".into(),
    }
}

pub fn revert_assignment(agent_id: &str) -> Command {
    Command::RevertAssignment {
        agent_id: agent(agent_id),
        reason: reason("unknown agent"),
    }
}
