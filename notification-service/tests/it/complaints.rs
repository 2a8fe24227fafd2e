//! Complaint events shaped exactly as complaint-service publishes them: decided by the
//! shared aggregate, folded with `evolve`, wrapped by `ComplaintEvent::to_envelope` with the
//! aggregate's version.

use chrono::{DateTime, Utc};
use shared::{
    complaint::{
        decide, evolve, AgentId, Category, Command, Complaint, ComplaintTitle, Customer,
        CustomerId, CustomerName, Description, Email, EventCodec, Policy, Priority, Reason,
    },
    event::{Envelope, Metadata},
};

pub struct ComplaintScript {
    pub id: String,
    pub correlation_id: String,
    state: Complaint,
    policy: Policy,
}

impl ComplaintScript {
    /// A new complaint titled `title` by a complainant reachable at `email`; its
    /// COMPLAINT_CREATED envelope.
    pub fn create(title: &str, email: &str) -> (ComplaintScript, Envelope) {
        let id = uuid::Uuid::now_v7().to_string();
        let mut script = ComplaintScript {
            state: Complaint::empty(&id),
            correlation_id: format!("corr-{id}"),
            id,
            policy: Policy::default(),
        };
        let created = script.decide(Command::Create {
            title: ComplaintTitle::parse(title).unwrap(),
            description: Description::parse("Charged twice for one order").unwrap(),
            category: Category::parse("billing").unwrap(),
            priority: Priority::Medium,
            customer: Customer {
                id: CustomerId::parse("customer-42").unwrap(),
                name: CustomerName::parse("Ada Lovelace").unwrap(),
                contact: shared::complaint::Contact {
                    email: Email::parse(email).unwrap(),
                },
            },
        });
        (script, created)
    }

    /// The envelope of the one event `command` records now.
    pub fn decide(&mut self, command: Command) -> Envelope {
        self.decide_at(command, Utc::now())
    }

    /// The envelope of the one event `command` records at `now`.
    pub fn decide_at(&mut self, command: Command, now: DateTime<Utc>) -> Envelope {
        let events = decide(&self.state, command, &self.policy, now).expect("a valid command");
        assert_eq!(events.len(), 1);
        let event = &events[0];
        self.state = evolve(self.state.clone(), event, now);
        let metadata = Metadata::new("complaint-service", self.correlation_id.clone(), now)
            .with_version(self.state.version)
            .with_user("test-user");
        event.to_envelope(&self.id, metadata)
    }

    pub fn assign(&mut self, agent: &str) -> Envelope {
        self.decide(Command::Assign {
            agent_id: AgentId::parse(agent).unwrap(),
        })
    }

    pub fn require_compensation(&mut self, agent: &str) -> Envelope {
        self.decide(Command::RequireCompensation {
            agent_id: AgentId::parse(agent).unwrap(),
            reason: Reason::parse("the assignee could not be notified").unwrap(),
            failed_step: "NOTIFY_ASSIGNEE".into(),
        })
    }

    pub fn revert_assignment(&mut self, agent: &str) -> Envelope {
        self.decide(Command::RevertAssignment {
            agent_id: AgentId::parse(agent).unwrap(),
            reason: Reason::parse("the assignee could not be notified").unwrap(),
        })
    }

    /// Escalates as the SLA timer would, once the deadline has passed.
    pub fn escalate(&mut self) -> Envelope {
        let after_deadline =
            self.state.sla_deadline.expect("a deadline") + chrono::TimeDelta::minutes(1);
        self.decide_at(Command::Escalate, after_deadline)
    }
}
