//! The one error type of the service: what can go wrong serving a request or recording an
//! event. `http::error` turns it into the JSON error of the API, `consumer` into a retry or a
//! dead letter.

use crate::cursor::InvalidCursor;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A query parameter the client got wrong.
    #[error("{parameter}: {message}")]
    InvalidParameter {
        parameter: &'static str,
        message: String,
    },
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
    pub fn invalid(parameter: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidParameter {
            parameter,
            message: message.into(),
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

    /// PostgreSQL cannot be reached, rather than refusing what was asked.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Database(error) if shared::postgres::is_unavailable(error))
    }
}
