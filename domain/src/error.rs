//! Why `decide` refuses a command.

use chrono::{DateTime, Utc};

use super::{priority::Priority, status::Status, values::AgentId};

/// A command the complaint's current state does not allow. These are the user's mistakes or
/// races, never failures: an HTTP layer answers 404 for [`DomainError::DoesNotExist`] and 409
/// for the others, with [`DomainError::code`] as the stable error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the complaint does not exist")]
    DoesNotExist,
    #[error("the complaint already exists")]
    AlreadyExists,
    #[error("cannot {action} a complaint that is {from}")]
    InvalidTransition { from: Status, action: &'static str },
    #[error("the complaint is already assigned to {0}")]
    AlreadyAssignedTo(AgentId),
    #[error("the complaint is not assigned to anyone")]
    NotAssigned,
    /// A compensation for an assignment that has since been replaced by another one.
    #[error("the complaint is not assigned to {0}")]
    NotAssignedTo(AgentId),
    #[error("the complaint could be reopened only until {window_ended_at}")]
    ReopenWindowExpired { window_ended_at: DateTime<Utc> },
    #[error("the complaint already has priority {0}")]
    SamePriority(Priority),
    /// A stale or repeated SLA timer: the deadline has moved since it was set.
    #[error("the complaint is not due for escalation before {deadline}")]
    EscalationNotDue { deadline: DateTime<Utc> },
}

impl DomainError {
    /// A stable, machine-readable code for API clients and metrics labels.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::DoesNotExist => "COMPLAINT_NOT_FOUND",
            Self::AlreadyExists => "COMPLAINT_ALREADY_EXISTS",
            Self::InvalidTransition { .. } => "INVALID_TRANSITION",
            Self::AlreadyAssignedTo(_) => "ALREADY_ASSIGNED",
            Self::NotAssigned => "NOT_ASSIGNED",
            Self::NotAssignedTo(_) => "ASSIGNMENT_CHANGED",
            Self::ReopenWindowExpired { .. } => "REOPEN_WINDOW_EXPIRED",
            Self::SamePriority(_) => "SAME_PRIORITY",
            Self::EscalationNotDue { .. } => "ESCALATION_NOT_DUE",
        }
    }
}
