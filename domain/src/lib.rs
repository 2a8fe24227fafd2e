//! The pure complaint aggregate: commands, events, state, `decide`, `evolve` and the one fold.
//!
//! No IO, and no way to do any: this crate depends on chrono, serde and thiserror only, so the
//! compiler (not a convention) keeps databases, brokers and the messaging envelope out. The
//! clock (`now`, `at`), the ids and the configurable rules ([`Policy`]) are passed in, so every
//! rule is unit-tested given/when/then and every service folds a stream the same way.
//!
//! - [`decide`]`(&state, command, &policy, now)` checks a [`Command`] against the lifecycle
//!   and returns the [`ComplaintEvent`]s it records, or a [`DomainError`].
//! - [`evolve`]`(state, &event, at)` applies one event recorded at `at`. The time is an
//!   argument rather than a field of every event because the envelope already carries it
//!   (`metadata.timestamp`): the event data holds only the facts of the event, and the
//!   state's timestamps (`createdAt`, `resolvedAt`, …) come from when events were recorded.
//!   Events that `decide` returns are recorded at the `now` they were decided at.
//! - [`Complaint::fold`] folds the [`Recorded`] events of a stream (a whole stream, or the
//!   tail after a snapshot) into the state. It is the one fold of the suite: complaint-service
//!   (to handle commands and to project its read model), event-store-service (to rebuild
//!   state) and notification-service (for its view) all go through it, so they agree on what
//!   a stream means, including the version after an event of a type this build does not know.
//! - A complaint's version counts its events: after a stream the state's version is the
//!   `metadata.version` of its last event, and the next event's is one more.
//! - Deadlines (SLA, reopen window) are computed by `decide` from the policy and carried in
//!   the events, so a replay reproduces them even after the policy has changed.
//!
//! At the edges (in the `shared` crate, which knows the envelope): the events' JSON and the
//! snapshots of the state. Input is parsed into the value types of this crate
//! (`ComplaintTitle::parse`, …) before it reaches a command. Closed sets of names that travel
//! on the wire ([`Priority`], [`Status`], and the services' own) are declared with
//! [`wire_enum!`].
//!
//! Features: `openapi` derives utoipa's `ToSchema` for the types the HTTP APIs show;
//! `test-support` exposes the fixtures of the given/when/then tests (`test_support`).

mod command;
mod decide;
mod error;
mod event;
mod evolve;
mod fold;
mod policy;
mod priority;
pub mod requests;
mod state;
mod status;
mod values;
mod wire;

#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
#[cfg(test)]
mod tests;

pub use command::Command;
pub use decide::decide;
pub use error::DomainError;
pub use event::{
    ComplaintAssigned, ComplaintAssignmentReverted, ComplaintClosed, ComplaintCompensationRequired,
    ComplaintCreated, ComplaintEscalated, ComplaintEvent, ComplaintPriorityChanged,
    ComplaintProcessed, ComplaintReopened, ComplaintResolved,
};
pub use evolve::evolve;
pub use fold::Recorded;
pub use policy::{Policy, SlaTargets};
pub use priority::Priority;
pub use state::Complaint;
pub use status::Status;
pub use values::{
    AgentId, Category, ComplaintTitle, Contact, Customer, CustomerId, CustomerName, Description,
    Email, Reason, Resolution, ValidationError,
};
pub use wire::UnknownName;

/// What [`wire_enum!`] expands to refers to, so the crates that call it need nothing in scope.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}
