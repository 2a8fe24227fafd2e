//! The bodies of the commands, as clients send them. They live in `shared::complaint::requests`
//! because a command message (`complaints.commands`) carries the same bodies as its payload.

pub use shared::complaint::requests::{
    AssignRequest, ChangePriorityRequest, CreateComplaintRequest, EmptyRequest, ReopenRequest,
    ResolveRequest,
};
