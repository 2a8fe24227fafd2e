//! notification-service: notifications for complaint events, with their delivery history.
//!
//! Rooms: `consumer` (complaint events in), `policy` + `template` + `projection` + `retry`
//! (pure rules), `delivery` (transports and the worker), `store` (SQL), `http` (the API),
//! `events` (what it publishes), `app` and `config`.

pub mod agents;
pub mod app;
pub mod config;
mod consumer;
pub mod delivery;
pub mod events;
mod http;
pub mod model;
mod notification;
mod policy;
mod projection;
mod retry;
mod store;
mod telemetry;
mod template;
#[cfg(test)]
mod test_fixtures;

pub use consumer::QUEUE;
/// The delivery schedule's old name; it is the shared [`shared::backoff::RetryPolicy`].
pub use shared::backoff::RetryPolicy as RetrySettings;
