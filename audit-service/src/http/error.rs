//! The service's errors as HTTP answers: a client's mistake is a 4xx naming what to fix;
//! PostgreSQL out of reach is a 503; anything else a 500 that leaks nothing.

use crate::error::AuditError;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use shared::http::ApiError;

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> ApiError {
        match error {
            AuditError::InvalidParameter { parameter, message } => {
                ApiError::invalid_query(parameter, message)
            }
            AuditError::InvalidCursor(error) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_CURSOR",
                format!("cursor: {error}; pass back the nextCursor of a previous page unchanged"),
            )
            .with_details(json!({ "field": "cursor" })),
            AuditError::NotFound(what) => ApiError::not_found(what),
            error if error.is_unavailable() => {
                tracing::warn!(%error, "PostgreSQL unavailable");
                ApiError::unavailable("the audit database")
            }
            error => ApiError::internal(error),
        }
    }
}

impl IntoResponse for AuditError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
