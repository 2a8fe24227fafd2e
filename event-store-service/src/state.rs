//! Rebuilding a complaint from its stored events with the domain's one fold
//! ([`Complaint::fold`], the fold complaint-service and its read model use too, so all say the
//! same state and version for a stream), and the snapshots that spare long streams a fold
//! from the first event. Pure.
//!
//! Every event is read through the shared upcasters (`ComplaintEvent::from_envelope`), so
//! events stored at an older schema version fold like new ones; the stored documents are
//! never rewritten.

use crate::{
    error::{Error, Result},
    store::{EventDocument, SnapshotDocument},
};
use chrono::{DateTime, Utc};
use shared::complaint::{snapshot, Complaint, ComplaintEvent, EventCodec, Recorded};

/// The state after `events` (one complaint's, in version order).
pub fn rebuild(aggregate_id: &str, events: &[EventDocument]) -> Result<Complaint> {
    rebuild_from(Complaint::empty(aggregate_id), events)
}

/// `state` (a snapshot's) after the `events` that follow it. An event of a type the domain
/// does not know counts for the version and changes nothing else (the domain's rule); one
/// whose data does not decode stops the fold, since a state built without it would be wrong.
pub fn rebuild_from(state: Complaint, events: &[EventDocument]) -> Result<Complaint> {
    state.fold(events.iter().map(recorded))
}

/// A stored event as the fold reads it.
fn recorded(stored: &EventDocument) -> Result<Recorded> {
    let envelope = stored.envelope()?;
    let event =
        ComplaintEvent::from_envelope(&envelope).map_err(|error| Error::Unreconstructible {
            event_id: stored.event_id.clone(),
            version: stored.version,
            reason: error.to_string(),
        })?;
    Ok(Recorded {
        version: stored.version,
        at: envelope.metadata.timestamp,
        event,
    })
}

/// The state `snapshot` holds, if it can start a fold up to `at_version` / `as_of`: written
/// by this state version, and covering no event past the point asked for.
pub fn start_from(
    snapshot: &SnapshotDocument,
    at_version: Option<i64>,
    as_of: Option<DateTime<Utc>>,
) -> Option<Complaint> {
    if at_version.is_some_and(|at| at < snapshot.version)
        || as_of.is_some_and(|as_of| as_of < snapshot.last_event_at)
    {
        return None;
    }
    let state = serde_json::from_str(&snapshot.state).ok()?;
    snapshot::decode(snapshot.state_version, &state)
}

/// The snapshot to keep for `state`, folded up to `last` (the last event read), when one is
/// due: `every` events past `covered` (what the fold started from), and newer than `kept`
/// unless `kept` is of another state version.
pub fn snapshot_to_keep(
    every: u32,
    covered: i64,
    kept: Option<&SnapshotDocument>,
    last: &EventDocument,
    state: &Complaint,
) -> Option<SnapshotDocument> {
    if !snapshot::is_due(every, covered, last.version) {
        return None;
    }
    if kept.is_some_and(|kept| {
        kept.state_version == snapshot::STATE_VERSION && kept.version >= last.version
    }) {
        return None;
    }
    Some(SnapshotDocument {
        stream_id: last.stream_id.clone(),
        version: last.version,
        state_version: snapshot::STATE_VERSION,
        last_event_at: last.metadata.timestamp,
        state: snapshot::encode(state).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use shared::{
        complaint::{
            decide, evolve, AgentId, Category, Command, ComplaintTitle, Contact, Customer,
            CustomerId, CustomerName, Description, Email, Policy, Priority, Status,
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

    /// The domain's rule: an event of a type this build does not know counts for the version
    /// (complaint-service's next append does not collide with it) and changes nothing else.
    #[test]
    fn an_event_of_an_unknown_type_counts_for_the_version_and_changes_nothing_else() {
        let (created, mut stored) = stream("c-1", vec![create()]);
        let mut unknown = stored[0].envelope().unwrap();
        unknown.event_id = uuid::Uuid::now_v7();
        unknown.event_type = "COMPLAINT_ARCHIVED".into();
        unknown.metadata.version = 2;
        stored.push(EventDocument::new(&unknown, t0()));
        let rebuilt = rebuild("c-1", &stored).unwrap();
        assert_eq!(rebuilt.version, 2);
        assert_eq!(
            Complaint {
                version: 1,
                ..rebuilt
            },
            created
        );
    }

    #[test]
    fn a_snapshot_plus_the_rest_of_the_stream_is_the_whole_fold() {
        let agent = AgentId::parse("agent-7").unwrap();
        let (expected, stored) = stream(
            "c-1",
            vec![
                create(),
                Command::Assign { agent_id: agent },
                Command::Process,
            ],
        );
        let at_two = rebuild("c-1", &stored[..2]).unwrap();
        let kept = snapshot_to_keep(2, 0, None, &stored[1], &at_two).expect("due at 2");
        assert_eq!(kept.version, 2);
        let start = start_from(&kept, None, None).expect("usable");
        assert_eq!(rebuild_from(start, &stored[2..]).unwrap(), expected);
        // Not for a state before the snapshot, nor from another state version.
        assert_eq!(start_from(&kept, Some(1), None), None);
        assert_eq!(start_from(&kept, None, Some(t0())), None);
        let older = SnapshotDocument {
            state_version: snapshot::STATE_VERSION - 1,
            ..kept.clone()
        };
        assert_eq!(start_from(&older, None, None), None);
        // Kept only when due and newer than the one there (of this state version).
        assert!(snapshot_to_keep(2, 2, Some(&kept), &stored[2], &expected).is_none());
        assert!(snapshot_to_keep(1, 0, Some(&kept), &stored[1], &at_two).is_none());
        assert!(snapshot_to_keep(1, 0, Some(&older), &stored[1], &at_two).is_some());
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
