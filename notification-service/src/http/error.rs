//! The errors of the notification API and the JSON answer each one gets.

use axum::response::{IntoResponse, Response};
use shared::http::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{field}: {reason}")]
    InvalidParameter { field: &'static str, reason: String },
    /// The caller's roles do not allow the request as asked.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            field,
            reason: reason.into(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::NotFound { .. } => ApiError::not_found(message),
            Error::Forbidden(reason) => ApiError::forbidden(reason),
            Error::InvalidParameter { field, reason } => ApiError::invalid_query(field, reason),
            Error::Database(error) => ApiError::database(error),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
