//! The service's errors as HTTP answers: a client's mistake is a 4xx naming what to fix;
//! PostgreSQL out of reach is a 503; anything else a 500 that leaks nothing.

use crate::error::AuditError;
use axum::response::{IntoResponse, Response};
use shared::http::ApiError;

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> ApiError {
        match error {
            AuditError::InvalidParameter { field, reason } => {
                ApiError::invalid_query(field, reason)
            }
            AuditError::InvalidCursor(error) => ApiError::invalid_cursor(&error),
            AuditError::NotFound(what) => ApiError::not_found(what),
            AuditError::Database(error) => ApiError::database(error),
            error => ApiError::internal(error),
        }
    }
}

impl IntoResponse for AuditError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
