//! Applying a recorded event to the state.

use chrono::{DateTime, Utc};

use super::{event::ComplaintEvent, state::Complaint, status::Status};

/// The state after `event`, recorded at `at`. Total: it never fails and never checks rules
/// (`decide` did, when the event was recorded); it applies the event's facts, so replaying a
/// stream always gives the state the stream describes. Every event adds one to the version.
pub fn evolve(mut state: Complaint, event: &ComplaintEvent, at: DateTime<Utc>) -> Complaint {
    match event {
        ComplaintEvent::Created(data) => {
            state.status = Status::Open;
            state.priority = data.priority;
            state.title = data.title.to_string();
            state.description = data.description.to_string();
            state.category = data.category.to_string();
            state.customer_id = data.customer.id.to_string();
            state.customer_name = data.customer.name.to_string();
            state.customer_email = data.customer.contact.email.to_string();
            state.created_at = Some(at);
            state.sla_started_at = Some(at);
            state.sla_deadline = Some(data.sla_deadline);
        }
        ComplaintEvent::Assigned(data) => {
            state.status = Status::Assigned;
            state.assignee = Some(data.agent_id.clone());
        }
        ComplaintEvent::Processed(data) => {
            state.status = Status::InProgress;
            state.assignee = Some(data.agent_id.clone());
        }
        ComplaintEvent::Resolved(data) => {
            state.status = Status::Resolved;
            state.resolution = Some(data.resolution.to_string());
            state.resolved_at = Some(at);
        }
        ComplaintEvent::Closed(_) => {
            state.status = Status::Closed;
            state.closed_at = Some(at);
        }
        ComplaintEvent::Reopened(data) => {
            state.status = match data.agent_id {
                Some(_) => Status::Assigned,
                None => Status::Open,
            };
            state.assignee = data.agent_id.clone();
            state.reopen_count = state.reopen_count.saturating_add(1);
            state.resolution = None;
            state.resolved_at = None;
            state.closed_at = None;
            state.sla_started_at = Some(at);
            state.sla_deadline = Some(data.sla_deadline);
        }
        ComplaintEvent::PriorityChanged(data) => {
            state.priority = data.to;
            state.sla_deadline = Some(data.sla_deadline);
        }
        ComplaintEvent::Escalated(data) => {
            state.priority = data.to;
            state.escalation_level = data.escalation_level;
            state.sla_started_at = Some(at);
            state.sla_deadline = Some(data.sla_deadline);
        }
        ComplaintEvent::CompensationRequired(_) => {}
        ComplaintEvent::AssignmentReverted(_) => {
            state.status = Status::Open;
            state.assignee = None;
        }
    }
    state.version = state.version.saturating_add(1);
    state.updated_at = Some(at);
    state
}
