//! HTTP basics every service shares: the JSON error shape and page cursors, extractors that reject with it,
//! correlation ids, probes and metrics, dead-letter operations, and the server itself with
//! what it enforces on every request (control characters refused, a deadline).

pub mod control_characters;
pub mod correlation;
pub mod cursor;
pub mod dead_letters;
pub mod deadline;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod probes;
pub mod server;

pub use correlation::CorrelationId;
pub use error::{ApiError, ErrorBody};
pub use extract::{Json, OptionalJson, Path, Query};
pub use probes::Readiness;
pub use server::{serve, service_router, HttpSettings, Operations};
