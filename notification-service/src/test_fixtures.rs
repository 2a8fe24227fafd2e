//! Complaint events for unit tests, with plausible data: the domain's fixtures, and the
//! events notification-service's tests need with other data (a given e-mail, say).

pub use shared::complaint::test_support::{assigned, closed, processed};

use chrono::{DateTime, Utc};
use shared::{
    complaint::{
        AgentId, Category, ComplaintAssignmentReverted, ComplaintCompensationRequired,
        ComplaintCreated, ComplaintEscalated, ComplaintEvent, ComplaintPriorityChanged,
        ComplaintReopened, ComplaintResolved, ComplaintTitle, Contact, Customer, CustomerId,
        CustomerName, Description, Email, Priority, Reason, Resolution,
    },
    event::EventType,
};

fn deadline() -> DateTime<Utc> {
    "2024-05-04T10:00:00Z".parse().unwrap()
}

fn agent(id: &str) -> AgentId {
    AgentId::parse(id).unwrap()
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

pub fn created(email: &str) -> ComplaintEvent {
    ComplaintEvent::Created(ComplaintCreated {
        title: ComplaintTitle::parse("Broken invoice").unwrap(),
        description: Description::parse("Charged twice").unwrap(),
        category: Category::parse("billing").unwrap(),
        priority: Priority::Medium,
        customer: Customer {
            id: CustomerId::parse("customer-1").unwrap(),
            name: CustomerName::parse("Ada Lovelace").unwrap(),
            contact: Contact {
                email: Email::parse(email).unwrap(),
            },
        },
        sla_deadline: deadline(),
    })
}

pub fn resolved() -> ComplaintEvent {
    ComplaintEvent::Resolved(ComplaintResolved {
        resolution: Resolution::parse("Refunded").unwrap(),
        resolved_by: Some(agent("agent-001")),
    })
}

pub fn reopened() -> ComplaintEvent {
    ComplaintEvent::Reopened(ComplaintReopened {
        reason: reason("Still charged twice"),
        agent_id: Some(agent("agent-001")),
        sla_deadline: deadline(),
    })
}

pub fn priority_changed() -> ComplaintEvent {
    ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
        from: Priority::Medium,
        to: Priority::High,
        reason: None,
        sla_deadline: deadline(),
    })
}

pub fn escalated() -> ComplaintEvent {
    ComplaintEvent::Escalated(ComplaintEscalated {
        from: Priority::Medium,
        to: Priority::High,
        escalation_level: 1,
        sla_deadline: deadline(),
    })
}

pub fn compensation_required(agent_id: &str) -> ComplaintEvent {
    ComplaintEvent::CompensationRequired(ComplaintCompensationRequired {
        agent_id: agent(agent_id),
        reason: reason("unknown agent"),
        failed_step: "NOTIFY_ASSIGNEE".into(),
    })
}

pub fn reverted(agent_id: &str) -> ComplaintEvent {
    ComplaintEvent::AssignmentReverted(ComplaintAssignmentReverted {
        agent_id: agent(agent_id),
        reason: reason("unknown agent"),
    })
}

/// An event of `event_type` (a complaint event type).
pub fn of_type(event_type: EventType) -> ComplaintEvent {
    match event_type {
        EventType::ComplaintCreated => created("ada@example.com"),
        EventType::ComplaintAssigned => assigned("agent-001"),
        EventType::ComplaintProcessed => processed("agent-001"),
        EventType::ComplaintResolved => resolved(),
        EventType::ComplaintClosed => closed(),
        EventType::ComplaintReopened => reopened(),
        EventType::ComplaintPriorityChanged => priority_changed(),
        EventType::ComplaintEscalated => escalated(),
        EventType::ComplaintCompensationRequired => compensation_required("agent-001"),
        EventType::ComplaintAssignmentReverted => reverted("agent-001"),
        other => panic!("{other} is not a complaint event"),
    }
}
