//! Property: for any history of commands, the state read from a snapshot taken at any version
//! plus the events after it is the state the whole stream folds into, at every version.

use chrono::TimeDelta;
use proptest::prelude::*;

use super::*;

/// One step of a random history: a command, and how long after the previous step it comes.
fn any_command() -> impl Strategy<Value = Command> {
    let agent = prop::sample::select(vec!["a1", "a2", "a3"]).prop_map(super::agent);
    let priority = prop::sample::select(vec![
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Critical,
    ]);
    prop_oneof![
        agent
            .clone()
            .prop_map(|agent_id| Command::Assign { agent_id }),
        Just(Command::Process),
        Just(Command::Resolve {
            resolution: Resolution::parse("Refunded.").unwrap()
        }),
        Just(Command::Close),
        Just(Command::Reopen {
            reason: reason("Still broken.")
        }),
        priority.prop_map(|priority| Command::ChangePriority {
            priority,
            reason: None
        }),
        Just(Command::Escalate),
        agent
            .clone()
            .prop_map(|agent_id| Command::RequireCompensation {
                agent_id,
                reason: reason("unreachable"),
                failed_step: "NOTIFY_ASSIGNEE".into(),
            }),
        agent.prop_map(|agent_id| Command::RevertAssignment {
            agent_id,
            reason: reason("unreachable"),
        }),
    ]
}

fn create() -> Command {
    Command::Create {
        title: ComplaintTitle::parse("Invoice charged twice").unwrap(),
        description: Description::parse("Debited twice.").unwrap(),
        category: Category::parse("billing").unwrap(),
        priority: Priority::Medium,
        customer: customer(),
    }
}

/// The events a history records, each with its time; refused commands record nothing.
fn record(history: Vec<(Command, i64)>) -> Vec<(ComplaintEvent, DateTime<Utc>)> {
    let mut state = Complaint::empty(ID);
    let mut now = t0();
    let mut recorded = Vec::new();
    for (command, minutes) in std::iter::once((create(), 0)).chain(history) {
        now += TimeDelta::minutes(minutes);
        if let Ok(events) = decide(&state, command, &Policy::default(), now) {
            for event in events {
                state = evolve(state, &event, now);
                recorded.push((event, now));
            }
        }
    }
    recorded
}

proptest! {
    #[test]
    fn snapshot_plus_tail_is_the_full_fold_at_every_version(
        history in prop::collection::vec((any_command(), 0i64..6_000), 0..40)
    ) {
        let events = record(history);
        for version in 0..=events.len() {
            let full = given_at(&events[..version]);
            for covered in 0..=version {
                let stored = snapshot::encode(&given_at(&events[..covered]));
                let restored = snapshot::decode(snapshot::STATE_VERSION, &stored);
                prop_assert!(restored.is_some(), "a snapshot of this code reads back");
                let resumed = events[covered..version]
                    .iter()
                    .fold(restored.unwrap(), |state, (event, at)| evolve(state, event, *at));
                prop_assert_eq!(&resumed, &full, "snapshot at {}, state at {}", covered, version);
            }
        }
    }
}
