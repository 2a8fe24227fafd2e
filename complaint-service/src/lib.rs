//! complaint-service: commands and queries on complaints (CQRS, event-sourced).
//!
//! - Write side: [`commands`] decides with the pure aggregate (`shared::complaint`) and
//!   appends to the event store, with the outbox rows, in one transaction.
//! - Read side: [`projection`] folds the event store into views; [`queries`] reads only them.
//! - [`command_messages`] takes the same commands as messages from `complaints.commands`.
//! - [`consumer`] lists the events the service reacts to; [`app`] wires it all.

pub mod access;
pub mod app;
pub mod command_messages;
pub mod commands;
pub mod config;
pub mod consumer;
pub mod error;
mod housekeeping;
mod http;
pub mod listing;
mod metrics;
pub mod projection;
pub mod queries;
pub mod saga;
pub mod store;
