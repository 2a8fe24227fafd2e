//! What every service of the complaint suite shares: the complaint domain (the pure
//! `complaint-domain` crate, re-exported as [`complaint`], with its envelope codec and
//! snapshots), the event envelope and catalogue, messaging on RabbitMQ, configuration,
//! telemetry and HTTP basics.

pub mod auth;
pub mod backoff;
pub mod complaint;
pub mod config;
pub mod event;
pub mod http;
pub mod inbox;
pub mod lifecycle;
pub mod messaging;
pub mod monitoring;
pub mod outbox;
pub mod postgres;
pub mod service;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod wire;

/// Closed sets of wire names (`as_str`, `Display`, `FromStr`, serde): the domain's macro.
pub use domain::wire_enum;
