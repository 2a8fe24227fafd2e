//! Test events: realistic complaint streams decided by the shared aggregate, and a mix of the
//! other domains' events.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use shared::{
    complaint::{
        decide, evolve, AgentId, Category, Command, Complaint, ComplaintTitle, Customer,
        CustomerId, CustomerName, Description, Email, EventCodec, Policy, Priority, Reason,
        Resolution,
    },
    event::{Envelope, EventType, Metadata},
};

/// A complaint's events as complaint-service would publish them, and the aggregate's state
/// after each of them.
pub struct ComplaintStream {
    pub id: String,
    pub envelopes: Vec<Envelope>,
    pub states: Vec<Complaint>,
}

impl ComplaintStream {
    pub fn stream_id(&self) -> String {
        format!("Complaint-{}", self.id)
    }

    pub fn last_state(&self) -> &Complaint {
        self.states.last().expect("at least one event")
    }
}

/// Decides `commands` in turn, one hour apart from `start`, recording every event.
pub fn decided(id: &str, start: DateTime<Utc>, commands: Vec<Command>) -> ComplaintStream {
    let mut state = Complaint::empty(id);
    let mut stream = ComplaintStream {
        id: id.to_owned(),
        envelopes: Vec::new(),
        states: Vec::new(),
    };
    let correlation = format!("corr-{id}");
    for (n, command) in commands.into_iter().enumerate() {
        let now = start + TimeDelta::hours(n as i64) + TimeDelta::microseconds(123_456);
        let events = decide(&state, command, &Policy::default(), now).expect("a valid command");
        for event in events {
            state = evolve(state, &event, now);
            let metadata = Metadata::new("complaint-service", correlation.clone(), now)
                .with_version(state.version)
                .with_user("agent-1");
            stream.envelopes.push(event.to_envelope(id, metadata));
            stream.states.push(state.clone());
        }
    }
    stream
}

/// A complaint that goes through the whole lifecycle and back: eight events.
pub fn full_lifecycle(id: &str) -> ComplaintStream {
    let start: DateTime<Utc> = "2024-05-01T08:00:00Z".parse().expect("a time");
    let agent = |a: &str| AgentId::parse(a).expect("an agent");
    decided(
        id,
        start,
        vec![
            create(Priority::Medium),
            Command::Assign {
                agent_id: agent("agent-7"),
            },
            Command::Process,
            Command::ChangePriority {
                priority: Priority::High,
                reason: Some(Reason::parse("customer is a hospital").expect("a reason")),
            },
            Command::Resolve {
                resolution: Resolution::parse("Refunded the second debit.").expect("a resolution"),
            },
            Command::Close,
            Command::Reopen {
                reason: Reason::parse("the refund bounced").expect("a reason"),
            },
            Command::Assign {
                agent_id: agent("agent-9"),
            },
        ],
    )
}

/// A short complaint stream: created, then assigned.
pub fn created_and_assigned(id: &str) -> ComplaintStream {
    let start: DateTime<Utc> = "2024-05-02T08:00:00Z".parse().expect("a time");
    decided(
        id,
        start,
        vec![
            create(Priority::Low),
            Command::Assign {
                agent_id: AgentId::parse("agent-1").expect("an agent"),
            },
        ],
    )
}

pub fn create(priority: Priority) -> Command {
    Command::Create {
        title: ComplaintTitle::parse("Invoice charged twice").expect("a title"),
        description: Description::parse("May's invoice was debited twice.").expect("a text"),
        category: Category::parse("billing").expect("a category"),
        priority,
        customer: Customer {
            id: CustomerId::parse("customer-42").expect("an id"),
            name: CustomerName::parse("Ada Lovelace").expect("a name"),
            contact: shared::complaint::Contact {
                email: Email::parse("ada@example.com").expect("an email"),
            },
        },
    }
}

/// `n` events of the other domains (sagas, notifications, audit, errors), each its own
/// aggregate, so versions never clash.
pub fn mixed(n: usize) -> Vec<Envelope> {
    let types = [
        (EventType::SagaStarted, "Saga"),
        (EventType::NotificationSent, "Notification"),
        (EventType::AuditCompensation, "AuditEntry"),
        (EventType::SagaStepCompleted, "Saga"),
        (EventType::ErrorManualInterventionRequired, "Saga"),
    ];
    (0..n)
        .map(|i| {
            let (event_type, aggregate_type) = types[i % types.len()];
            Envelope::new(
                event_type,
                uuid::Uuid::now_v7().to_string(),
                aggregate_type,
                json!({ "n": i }),
                Metadata::new("test", format!("corr-{}", i % 3), Utc::now()),
            )
        })
        .collect()
}
