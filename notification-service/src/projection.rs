//! This service's own view of a complaint: just what its messages need (the title, where it
//! stands, who complained and how to reach them, who handles it). Folded from complaint
//! events by the domain's one fold (`Complaint::apply`), so it moves exactly as the
//! aggregate's state does: the view is a part of that state, read back into it for each
//! event. Pure.

use chrono::{DateTime, Utc};
use shared::complaint::{AgentId, Complaint, ComplaintEvent, Priority, Recorded, Status};

#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintView {
    pub id: String,
    /// The `metadata.version` of the latest event applied.
    pub version: i64,
    pub title: String,
    pub status: Status,
    pub priority: Priority,
    /// Whose complaint it is: a customer reads only the notifications about its own.
    pub customer_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub assignee: Option<AgentId>,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub escalation_level: u32,
}

/// The view after `event` (version `version`, recorded at `at`) of complaint `id`.
///
/// A complaint is known from its COMPLAINT_CREATED on; an event for a complaint never seen
/// leaves it unknown (`None`). An event not newer than the view is ignored (the domain's
/// rule): events of one complaint arrive in order, so an older one can only be a replay.
pub fn apply(
    current: Option<ComplaintView>,
    id: &str,
    event: &ComplaintEvent,
    version: i64,
    at: DateTime<Utc>,
) -> Option<ComplaintView> {
    let state = match current {
        Some(view) => view.into_state(),
        None if matches!(event, ComplaintEvent::Created(_)) => Complaint::empty(id),
        None => return None,
    };
    let recorded = Recorded {
        version,
        at,
        event: Some(event.clone()),
    };
    Some(ComplaintView::of(state.apply(&recorded)))
}

impl ComplaintView {
    /// The part of `state` this service keeps.
    fn of(state: Complaint) -> Self {
        Self {
            id: state.id,
            version: state.version,
            title: state.title,
            status: state.status,
            priority: state.priority,
            customer_id: state.customer_id,
            customer_name: state.customer_name,
            customer_email: state.customer_email,
            assignee: state.assignee,
            sla_deadline: state.sla_deadline,
            escalation_level: state.escalation_level,
        }
    }

    /// The state this view is a part of, for the fold. What the view does not keep is left
    /// empty: `evolve` computes none of the fields the view keeps from those, so the part the
    /// view keeps comes out as the whole state's would.
    fn into_state(self) -> Complaint {
        Complaint {
            version: self.version,
            title: self.title,
            status: self.status,
            priority: self.priority,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            customer_email: self.customer_email,
            assignee: self.assignee,
            sla_deadline: self.sla_deadline,
            escalation_level: self.escalation_level,
            ..Complaint::empty(self.id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{assigned, created, reverted};

    fn at() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_created_complaint_is_open_with_its_complainant() {
        let view = apply(None, "c-1", &created("ada@example.com"), 1, at()).unwrap();
        assert_eq!(view.status, Status::Open);
        assert_eq!(view.customer_email, "ada@example.com");
        assert_eq!(view.version, 1);
    }

    #[test]
    fn assignment_and_its_revert_move_the_assignee() {
        let view = apply(None, "c-1", &created("ada@example.com"), 1, at());
        let view = apply(view, "c-1", &assigned("agent-001"), 2, at()).unwrap();
        assert_eq!(
            view.assignee.as_ref().map(AgentId::as_str),
            Some("agent-001")
        );
        assert_eq!(view.status, Status::Assigned);
        let view = apply(Some(view), "c-1", &reverted("agent-001"), 3, at()).unwrap();
        assert_eq!(view.assignee, None);
        assert_eq!(view.status, Status::Open);
    }

    #[test]
    fn an_event_for_an_unknown_complaint_leaves_it_unknown() {
        assert_eq!(apply(None, "c-1", &assigned("agent-001"), 2, at()), None);
    }

    #[test]
    fn an_old_event_does_not_move_the_view_back() {
        let view = apply(None, "c-1", &created("ada@example.com"), 1, at());
        let view = apply(view, "c-1", &assigned("agent-001"), 2, at());
        let again = apply(view.clone(), "c-1", &reverted("agent-001"), 2, at());
        assert_eq!(again, view);
    }
}
