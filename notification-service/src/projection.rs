//! This service's own view of a complaint: just what its messages need (the title, where it
//! stands, who complained and how to reach them, who handles it). Folded from complaint
//! events; pure.

use chrono::{DateTime, Utc};
use shared::complaint::{ComplaintEvent, Priority, Status};

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
    pub assignee: Option<String>,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub escalation_level: u32,
}

/// The view after `event` (version `version`) of complaint `id`.
///
/// A complaint is known from its COMPLAINT_CREATED on; an event for a complaint never seen
/// leaves it unknown (`None`). An event not newer than the view is ignored: events of one
/// complaint arrive in order, so an older one can only be a replay.
pub fn apply(
    current: Option<ComplaintView>,
    id: &str,
    event: &ComplaintEvent,
    version: i64,
) -> Option<ComplaintView> {
    if let Some(view) = &current {
        if version <= view.version {
            return current;
        }
    }
    if let ComplaintEvent::Created(data) = event {
        return Some(ComplaintView {
            id: id.to_owned(),
            version,
            title: data.title.to_string(),
            status: Status::Open,
            priority: data.priority,
            customer_id: data.customer.id.to_string(),
            customer_name: data.customer.name.to_string(),
            customer_email: data.customer.contact.email.to_string(),
            assignee: None,
            sla_deadline: Some(data.sla_deadline),
            escalation_level: 0,
        });
    }
    let mut view = current?;
    view.version = version;
    match event {
        ComplaintEvent::Created(_) | ComplaintEvent::CompensationRequired(_) => {}
        ComplaintEvent::Assigned(data) => {
            view.status = Status::Assigned;
            view.assignee = Some(data.agent_id.to_string());
        }
        ComplaintEvent::Processed(data) => {
            view.status = Status::InProgress;
            view.assignee = Some(data.agent_id.to_string());
        }
        ComplaintEvent::Resolved(_) => view.status = Status::Resolved,
        ComplaintEvent::Closed(_) => view.status = Status::Closed,
        ComplaintEvent::Reopened(data) => {
            view.assignee = data.agent_id.as_ref().map(ToString::to_string);
            view.status = if view.assignee.is_some() {
                Status::Assigned
            } else {
                Status::Open
            };
            view.sla_deadline = Some(data.sla_deadline);
        }
        ComplaintEvent::PriorityChanged(data) => {
            view.priority = data.to;
            view.sla_deadline = Some(data.sla_deadline);
        }
        ComplaintEvent::Escalated(data) => {
            view.priority = data.to;
            view.escalation_level = data.escalation_level;
            view.sla_deadline = Some(data.sla_deadline);
        }
        ComplaintEvent::AssignmentReverted(_) => {
            view.status = Status::Open;
            view.assignee = None;
        }
    }
    Some(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{assigned, created, reverted};

    #[test]
    fn a_created_complaint_is_open_with_its_complainant() {
        let view = apply(None, "c-1", &created("ada@example.com"), 1).unwrap();
        assert_eq!(view.status, Status::Open);
        assert_eq!(view.customer_email, "ada@example.com");
        assert_eq!(view.version, 1);
    }

    #[test]
    fn assignment_and_its_revert_move_the_assignee() {
        let view = apply(None, "c-1", &created("ada@example.com"), 1);
        let view = apply(view, "c-1", &assigned("agent-001"), 2).unwrap();
        assert_eq!(view.assignee.as_deref(), Some("agent-001"));
        assert_eq!(view.status, Status::Assigned);
        let view = apply(Some(view), "c-1", &reverted("agent-001"), 3).unwrap();
        assert_eq!(view.assignee, None);
        assert_eq!(view.status, Status::Open);
    }

    #[test]
    fn an_event_for_an_unknown_complaint_leaves_it_unknown() {
        assert_eq!(apply(None, "c-1", &assigned("agent-001"), 2), None);
    }

    #[test]
    fn an_old_event_does_not_move_the_view_back() {
        let view = apply(None, "c-1", &created("ada@example.com"), 1);
        let view = apply(view, "c-1", &assigned("agent-001"), 2);
        let again = apply(view.clone(), "c-1", &reverted("agent-001"), 2);
        assert_eq!(again, view);
    }
}
