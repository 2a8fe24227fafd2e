//! The complaint domain as the services use it: the pure aggregate of the `complaint-domain`
//! crate (`domain`), re-exported here so `shared::complaint::X` names it, plus what needs the
//! messaging envelope or JSON and so stays out of the domain:
//!
//! - the [`EventCodec`] of complaint events in and out of the [`Envelope`](crate::event::Envelope)
//!   (`event.to_envelope(..)`, `ComplaintEvent::from_envelope(..)`: bring the trait into
//!   scope), and [`fold_envelopes`], the domain's one fold over a stream of envelopes;
//! - [`snapshot`]s of the state, as JSON.
//!
//! See the `domain` crate's documentation for the aggregate itself: `decide`, `evolve`, and
//! [`Complaint::fold`] with its rule for events of types this build does not know.

mod codec;
pub mod snapshot;

#[cfg(test)]
mod tests;

pub use codec::{fold_envelopes, DecodeError, EventCodec, AGGREGATE_TYPE};
/// The domain's given/when/then fixtures, for tests that speak of the same complaint.
#[cfg(feature = "test-support")]
pub use domain::test_support;
pub use domain::{
    decide, evolve, requests, AgentId, Category, Command, Complaint, ComplaintAssigned,
    ComplaintAssignmentReverted, ComplaintClosed, ComplaintCompensationRequired, ComplaintCreated,
    ComplaintEscalated, ComplaintEvent, ComplaintPriorityChanged, ComplaintProcessed,
    ComplaintReopened, ComplaintResolved, ComplaintTitle, Contact, Customer, CustomerId,
    CustomerName, Description, DomainError, Email, Policy, Priority, Reason, Recorded, Resolution,
    SlaTargets, Status, UnknownName, ValidationError,
};
