//! The one error type of the service: what can go wrong serving a request or recording an
//! event. `http::error` turns it into the JSON error of the API, `consumer` into a retry or a
//! dead letter.

use crate::cursor::InvalidCursor;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A query parameter the client got wrong.
    #[error("{field}: {reason}")]
    InvalidParameter { field: &'static str, reason: String },
    #[error("cursor: {0}")]
    InvalidCursor(#[from] InvalidCursor),
    #[error("{0}")]
    NotFound(String),
    /// The chain head row is missing or malformed: the trail cannot be extended safely.
    #[error("the audit chain head is corrupt: {0}")]
    CorruptChainHead(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl AuditError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            field,
            reason: reason.into(),
        }
    }

    /// PostgreSQL refused the data itself (SQLSTATE class 22, e.g. a `\u0000` in a JSON
    /// string, which `jsonb` cannot hold): trying again will not help.
    pub fn is_bad_data(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(db)) => {
                db.code().is_some_and(|code| code.starts_with("22"))
            }
            _ => false,
        }
    }
}
