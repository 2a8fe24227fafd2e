//! The pure complaint aggregate: commands, events, state, `decide` and `evolve`.
//!
//! No IO: the clock (`now`, `at`), the ids and the configurable rules ([`Policy`]) are passed
//! in, so every rule is unit-tested given/when/then and every service folds a stream the same
//! way (complaint-service to handle commands, event-store-service to rebuild state).
//!
//! - [`decide`]`(&state, command, &policy, now)` checks a [`Command`] against the lifecycle
//!   and returns the [`ComplaintEvent`]s it records, or a [`DomainError`].
//! - [`evolve`]`(state, &event, at)` applies one event recorded at `at`. The time is an
//!   argument rather than a field of every event because the envelope already carries it
//!   (`metadata.timestamp`): the event data holds only the facts of the event, and the
//!   state's timestamps (`createdAt`, `resolvedAt`, …) come from when events were recorded.
//!   Events that `decide` returns are recorded at the `now` they were decided at.
//! - A complaint's version counts its events: `evolve` adds one, so after a stream the state's
//!   version is the `metadata.version` of its last event, and the next event's is one more.
//! - Deadlines (SLA, reopen window) are computed by `decide` from the policy and carried in
//!   the events, so a replay reproduces them even after the policy has changed.
//!
//! - A [`snapshot`] of the state at some version, plus the events after it, folds into the
//!   same complaint as the whole stream; [`snapshot::STATE_VERSION`] says which snapshots
//!   this code can read.
//!
//! At the edges: [`ComplaintEvent::to_envelope`] and [`ComplaintEvent::from_envelope`] convert
//! to and from the wire, and [`Complaint::replay`] / [`Complaint::from_envelopes`] fold a
//! stream. Input is parsed into the value types of this module (`ComplaintTitle::parse`, …)
//! before it reaches a command.

mod codec;
mod command;
mod decide;
mod error;
mod event;
mod evolve;
mod policy;
mod priority;
pub mod requests;
pub mod snapshot;
mod state;
mod status;
mod values;

#[cfg(test)]
mod tests;

pub use codec::{DecodeError, AGGREGATE_TYPE};
pub use command::Command;
pub use decide::decide;
pub use error::DomainError;
pub use event::{
    ComplaintAssigned, ComplaintAssignmentReverted, ComplaintClosed, ComplaintCompensationRequired,
    ComplaintCreated, ComplaintEscalated, ComplaintEvent, ComplaintPriorityChanged,
    ComplaintProcessed, ComplaintReopened, ComplaintResolved,
};
pub use evolve::evolve;
pub use policy::{Policy, SlaTargets};
pub use priority::Priority;
pub use state::Complaint;
pub use status::Status;
pub use values::{
    AgentId, Category, ComplaintTitle, Contact, Customer, CustomerId, CustomerName, Description,
    Email, Reason, Resolution, ValidationError,
};
