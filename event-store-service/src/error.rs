//! The one error type of the service; `http/error.rs` maps each variant to a status and code.

use shared::messaging::PublishError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query or path parameter that is well-formed but not acceptable (400).
    #[error("{field}: {reason}")]
    InvalidParameter { field: &'static str, reason: String },
    /// A request body that is well-formed but asks for nothing possible (422).
    #[error("{field}: {reason}")]
    Validation { field: &'static str, reason: String },
    #[error("{0}")]
    NotFound(String),
    /// A request whose answer would cost more than the service does for one request (422).
    #[error("{field}: {reason}")]
    TooLarge { field: &'static str, reason: String },
    /// Stored events that the shared `evolve` cannot fold (their data has the wrong shape).
    #[error("event {event_id} (version {version}) cannot be applied: {reason}")]
    Unreconstructible {
        event_id: String,
        version: i64,
        reason: String,
    },
    #[error("MongoDB: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("RabbitMQ: {0}")]
    Publish(#[from] PublishError),
    /// A stored document that does not read back as an event (written by something else).
    #[error("corrupt stored event: {0}")]
    Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            field,
            reason: reason.into(),
        }
    }

    pub fn validation(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Validation {
            field,
            reason: reason.into(),
        }
    }
}
