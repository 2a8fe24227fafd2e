//! What a user (or a saga reacting to an event) asks of a complaint.

use super::{
    priority::Priority,
    values::{AgentId, Category, ComplaintTitle, Customer, Description, Reason, Resolution},
};

/// A request to change one complaint, already parsed into valid values. Facts that need IO
/// (does this agent exist?) are looked up before and put into the command; the complaint's id
/// is the id of the state the command is decided against ([`super::Complaint::empty`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Create {
        title: ComplaintTitle,
        description: Description,
        category: Category,
        priority: Priority,
        customer: Customer,
    },
    /// Assign, or reassign while ASSIGNED or IN_PROGRESS (the new agent starts over).
    Assign {
        agent_id: AgentId,
    },
    /// The assignee starts working on it.
    Process,
    Resolve {
        resolution: Resolution,
    },
    Close,
    /// Within the policy's window after being resolved or closed.
    Reopen {
        reason: Reason,
    },
    ChangePriority {
        priority: Priority,
        reason: Option<Reason>,
    },
    /// The SLA timer fired: one priority level up, only once the deadline has passed.
    Escalate,
    /// A saga step failed for the assignment of `agent_id` (e.g. the agent could not be
    /// notified); refused if the complaint has been reassigned since.
    RequireCompensation {
        agent_id: AgentId,
        reason: Reason,
        failed_step: String,
    },
    /// Undo the assignment of `agent_id`: back to OPEN with no assignee.
    RevertAssignment {
        agent_id: AgentId,
        reason: Reason,
    },
}

impl Command {
    /// The action's name, as errors and logs show it (`cannot close a complaint that is OPEN`).
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Create { .. } => "create",
            Self::Assign { .. } => "assign",
            Self::Process => "process",
            Self::Resolve { .. } => "resolve",
            Self::Close => "close",
            Self::Reopen { .. } => "reopen",
            Self::ChangePriority { .. } => "change the priority of",
            Self::Escalate => "escalate",
            Self::RequireCompensation { .. } => "compensate",
            Self::RevertAssignment { .. } => "revert the assignment of",
        }
    }
}
