//! Rebuilding a complaint from its stored events with the shared `evolve`: the same fold
//! complaint-service uses, so both agree on what a stream means. Pure.

use crate::{
    error::{Error, Result},
    store::EventDocument,
};
use shared::complaint::{evolve, Complaint, ComplaintEvent};

/// The state after `events` (one complaint's, in version order). Events of types the
/// aggregate does not know are skipped, as complaint-service skips them; one whose data does
/// not decode stops the fold, since a state built without it would be wrong.
pub fn rebuild(aggregate_id: &str, events: &[EventDocument]) -> Result<Complaint> {
    let mut state = Complaint::empty(aggregate_id);
    for stored in events {
        let envelope = stored.envelope()?;
        match ComplaintEvent::from_envelope(&envelope) {
            Ok(Some(event)) => state = evolve(state, &event, envelope.metadata.timestamp),
            Ok(None) => {}
            Err(error) => {
                return Err(Error::Unreconstructible {
                    event_id: stored.event_id.clone(),
                    version: stored.version,
                    reason: error.to_string(),
                })
            }
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeDelta, Utc};
    use shared::{
        complaint::{
            decide, AgentId, Category, Command, ComplaintTitle, Contact, Customer, CustomerId,
            CustomerName, Description, Email, Policy, Priority, Status,
        },
        event::Metadata,
    };

    fn t0() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    /// Decides `commands` one after the other and stores each event as the log would.
    fn stream(id: &str, commands: Vec<Command>) -> (Complaint, Vec<EventDocument>) {
        let mut state = Complaint::empty(id);
        let mut stored = Vec::new();
        for (n, command) in commands.into_iter().enumerate() {
            let now = t0() + TimeDelta::hours(n as i64);
            for event in decide(&state, command, &Policy::default(), now).unwrap() {
                state = evolve(state, &event, now);
                let metadata =
                    Metadata::new("complaint-service", "c".into(), now).with_version(state.version);
                stored.push(EventDocument::new(&event.to_envelope(id, metadata), now));
            }
        }
        (state, stored)
    }

    fn create() -> Command {
        Command::Create {
            title: ComplaintTitle::parse("Invoice charged twice").unwrap(),
            description: Description::parse("Debited twice in May.").unwrap(),
            category: Category::parse("billing").unwrap(),
            priority: Priority::High,
            customer: Customer {
                id: CustomerId::parse("customer-1").unwrap(),
                name: CustomerName::parse("Ada Lovelace").unwrap(),
                contact: Contact {
                    email: Email::parse("ada@example.com").unwrap(),
                },
            },
        }
    }

    #[test]
    fn the_rebuilt_state_is_the_aggregates_own() {
        let agent = AgentId::parse("agent-7").unwrap();
        let (expected, stored) = stream(
            "c-1",
            vec![
                create(),
                Command::Assign { agent_id: agent },
                Command::Process,
            ],
        );
        let rebuilt = rebuild("c-1", &stored).unwrap();
        assert_eq!(rebuilt, expected);
        assert_eq!(rebuilt.status, Status::InProgress);
        assert_eq!(rebuilt.version, 3);
    }

    #[test]
    fn data_of_the_wrong_shape_stops_the_fold() {
        let (_, mut stored) = stream("c-1", vec![create()]);
        stored[0].event_data = serde_json::json!({ "title": 42 });
        assert!(matches!(
            rebuild("c-1", &stored),
            Err(Error::Unreconstructible { version: 1, .. })
        ));
    }
}
