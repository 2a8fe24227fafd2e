//! What one batch of complaint events works on, held in memory between one read and one write
//! (issue 11): the views of the complaints the batch touches, locked in one statement, moved
//! by the events in the batch's order (several events of one complaint may come together,
//! each seeing the view as the ones before it left it), and written back in one statement;
//! and what the batch needs from the agent directory, looked up once for all its events.
//! Pure: the consumer does the reading and the writing.

use crate::{
    policy::Needs,
    projection::{self, ComplaintView},
};
use chrono::{DateTime, Utc};
use shared::complaint::ComplaintEvent;
use std::collections::{BTreeSet, HashMap};

/// The ids of `complaints`, sorted and each once: the order their views are locked in, so two
/// batches that touch the same complaints wait for each other instead of deadlocking.
pub(super) fn lock_order<'a>(complaints: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    complaints
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The complaint views of one batch.
#[derive(Default)]
pub(super) struct Views {
    held: HashMap<String, Held>,
}

struct Held {
    /// `None`: its creation was never seen.
    view: Option<ComplaintView>,
    /// Moved by an event of this batch: to be written back.
    changed: bool,
}

impl Views {
    /// The views read (and locked) for the batch; a complaint not among them is unknown.
    pub fn new(locked: Vec<ComplaintView>) -> Self {
        Views {
            held: locked
                .into_iter()
                .map(|view| {
                    let id = view.id.clone();
                    let held = Held {
                        view: Some(view),
                        changed: false,
                    };
                    (id, held)
                })
                .collect(),
        }
    }

    /// Folds `event` (version `version`, recorded at `at`) into complaint `complaint_id`'s
    /// view; the view as the event leaves it (`None`: the complaint is unknown).
    pub fn apply(
        &mut self,
        complaint_id: &str,
        event: &ComplaintEvent,
        version: i64,
        at: DateTime<Utc>,
    ) -> Option<ComplaintView> {
        let held = self.held.entry(complaint_id.to_owned()).or_insert(Held {
            view: None,
            changed: false,
        });
        let after = projection::apply(held.view.clone(), complaint_id, event, version, at);
        if after.is_some() && after != held.view {
            held.changed = true;
            held.view.clone_from(&after);
        }
        after
    }

    /// The views some event of the batch moved, by id: what to write back.
    pub fn changed(&self) -> Vec<&ComplaintView> {
        let mut changed: Vec<&ComplaintView> = self
            .held
            .values()
            .filter(|held| held.changed)
            .filter_map(|held| held.view.as_ref())
            .collect();
        changed.sort_by(|a, b| a.id.cmp(&b.id));
        changed
    }
}

/// What the batch's events need from the directory, looked up once for all of them (the
/// directory does not change while the batch runs).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Lookups {
    /// The agents any event needs, sorted, each once.
    pub agents: Vec<String>,
    /// Some event needs the active supervisors.
    pub supervisors: bool,
}

impl Lookups {
    pub fn of<'a>(needs: impl IntoIterator<Item = &'a Needs>) -> Self {
        let mut agents = BTreeSet::new();
        let mut supervisors = false;
        for need in needs {
            agents.extend(need.agent.iter().cloned());
            supervisors |= need.supervisors;
        }
        Lookups {
            agents: agents.into_iter().collect(),
            supervisors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{assigned, created, reverted};
    use shared::complaint::{AgentId, Status};

    fn at() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    fn assignee(view: &ComplaintView) -> Option<&str> {
        view.assignee.as_ref().map(AgentId::as_str)
    }

    #[test]
    fn complaints_are_locked_in_id_order_each_once() {
        assert_eq!(
            lock_order(["c-2", "c-1", "c-2", "c-3"]),
            ["c-1", "c-2", "c-3"]
        );
    }

    #[test]
    fn each_event_sees_the_view_as_the_events_before_it_left_it() {
        let mut views = Views::default();
        let opened = views.apply("c-1", &created("ada@example.com"), 1, at());
        assert_eq!(opened.unwrap().status, Status::Open);
        let assigned = views.apply("c-1", &assigned("agent-001"), 2, at()).unwrap();
        assert_eq!(assignee(&assigned), Some("agent-001"));
        let reverted = views.apply("c-1", &reverted("agent-001"), 3, at()).unwrap();
        assert_eq!(assignee(&reverted), None);
        assert_eq!(reverted.status, Status::Open);
        // Written back once, as the last event left it.
        assert_eq!(views.changed(), vec![&reverted]);
    }

    #[test]
    fn a_locked_view_moves_on_from_where_it_was_stored() {
        let stored = projection::apply(None, "c-1", &created("ada@example.com"), 1, at()).unwrap();
        let mut views = Views::new(vec![stored.clone()]);
        let after = views.apply("c-1", &assigned("agent-002"), 2, at()).unwrap();
        assert_eq!(after.version, 2);
        assert_eq!(after.customer_email, stored.customer_email);
        assert_eq!(views.changed(), vec![&after]);
    }

    #[test]
    fn a_replayed_event_changes_nothing_and_nothing_is_written() {
        let stored = projection::apply(None, "c-1", &created("ada@example.com"), 1, at());
        let stored = projection::apply(stored, "c-1", &assigned("agent-001"), 2, at()).unwrap();
        let mut views = Views::new(vec![stored.clone()]);
        let again = views.apply("c-1", &assigned("agent-001"), 2, at());
        assert_eq!(again, Some(stored));
        assert!(views.changed().is_empty());
    }

    #[test]
    fn events_of_an_unknown_complaint_leave_it_unknown_and_unwritten() {
        let mut views = Views::default();
        assert_eq!(views.apply("c-9", &assigned("agent-001"), 2, at()), None);
        assert!(views.changed().is_empty());
    }

    #[test]
    fn complaints_of_one_batch_move_apart() {
        let mut views = Views::default();
        views.apply("c-2", &created("bob@example.com"), 1, at());
        views.apply("c-1", &created("ada@example.com"), 1, at());
        views.apply("c-2", &assigned("agent-001"), 2, at());
        let changed = views.changed();
        let ids: Vec<&str> = changed.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ["c-1", "c-2"]);
        assert_eq!(assignee(changed[0]), None);
        assert_eq!(assignee(changed[1]), Some("agent-001"));
    }

    #[test]
    fn the_directory_is_asked_once_for_every_agent_the_batch_needs() {
        let needs = [
            Needs {
                agent: Some("agent-002".into()),
                ..Needs::default()
            },
            Needs::default(),
            Needs {
                agent: Some("agent-001".into()),
                supervisors: true,
                ..Needs::default()
            },
            Needs {
                agent: Some("agent-002".into()),
                ..Needs::default()
            },
        ];
        assert_eq!(
            Lookups::of(&needs),
            Lookups {
                agents: vec!["agent-001".into(), "agent-002".into()],
                supervisors: true,
            }
        );
        assert_eq!(Lookups::of(&[Needs::default()]), Lookups::default());
    }
}
