//! The event envelope and catalogue (DESIGN.md, "Event envelope" and "Event catalogue").
//!
//! Every event of every service travels as an [`Envelope`]: a JSON document with camelCase
//! fields whose `eventData` is free-form and whose `eventType` names one entry of the
//! catalogue ([`EventType`]). The type stays a plain string in the envelope so that an event
//! of a type added later still decodes: consumers ask [`Envelope::known_type`] and ignore what
//! they do not know. The catalogue says where each type is published ([`EventType::exchange`],
//! [`EventType::routing_key`]) and in which Redis stream it is kept ([`EventType::stream`]).
//! Readers pass `eventData` through [`upcast::upcast`] before decoding it, so they only ever
//! see the latest schema version of each type; [`Envelope::payload`] does both and refuses
//! what does not decode ([`MalformedPayload`]). The payloads that cross service boundaries
//! are typed here, one module per publishing domain (`notification`, `audit`, `saga`,
//! `errors`, `monitoring`, `command`).

pub mod audit;
mod catalogue;
pub mod command;
mod compensation;
mod envelope;
pub mod errors;
pub mod exchanges;
pub mod monitoring;
pub mod notification;
mod payload;
mod saga;
pub mod streams;
pub mod upcast;

pub use catalogue::{EventType, UnknownEventType};
pub use compensation::CompensationDone;
pub use envelope::{Envelope, Metadata};
pub use payload::{to_data, MalformedPayload};
pub use saga::{RetryInitiator, SagaAbandoned, SagaChanged, SagaRetried};
