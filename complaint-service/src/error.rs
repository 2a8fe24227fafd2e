//! The one error type of complaint-service. Users' mistakes, refusals and races are variants
//! of their own, apart from infrastructure failures; `http::error` maps each to a status.

use shared::complaint::{DecodeError, DomainError, ValidationError};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A value that breaks its rules (a title too long, an unknown status…).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The complaint's state does not allow the command.
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// The caller's roles do not allow this command on this complaint.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("complaint {0} not found")]
    NotFound(Uuid),
    /// Someone else changed the complaint since `expected` (from `If-Match`, or read by the
    /// command itself when a concurrent writer got there first).
    #[error("the complaint is at version {current}, not {expected}")]
    VersionConflict { expected: i64, current: i64 },
    /// A read asked for a version (`minVersion`) that no command has written yet.
    #[error("version {requested} was not written: the complaint is at version {current}")]
    VersionNotWritten { requested: i64, current: i64 },
    /// A read asked for a version that is written, but the read model did not reach it
    /// within the wait.
    #[error("the read model has version {shown}, not yet {requested}")]
    ReadModelBehind { requested: i64, shown: i64 },
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("invalid {header} header: {message}")]
    BadHeader {
        header: &'static str,
        message: String,
    },
    #[error(transparent)]
    InvalidCursor(#[from] shared::http::cursor::InvalidCursor),
    /// An event in the store that this build cannot read: a bug, never the user's doing.
    #[error("a stored event cannot be decoded: {0}")]
    CorruptEvent(#[from] DecodeError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Something this code rules out happened anyway: a bug.
    #[error("inconsistent state: {0}")]
    Inconsistent(&'static str),
}

impl ServiceError {
    pub fn bad_header(header: &'static str, message: impl Into<String>) -> Self {
        Self::BadHeader {
            header,
            message: message.into(),
        }
    }

    /// A bounded label for `command_executions_total{outcome}`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Invalid(_) | Self::BadHeader { .. } | Self::InvalidCursor(_) => "invalid",
            Self::Refused(DomainError::DoesNotExist) | Self::NotFound(_) => "not_found",
            Self::Refused(_) => "refused",
            Self::Forbidden(_) => "forbidden",
            Self::VersionConflict { .. } | Self::VersionNotWritten { .. } => "conflict",
            Self::ReadModelBehind { .. } => "unavailable",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::CorruptEvent(_) | Self::Database(_) | Self::Inconsistent(_) => "error",
        }
    }
}
