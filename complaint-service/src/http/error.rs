//! [`ServiceError`] as HTTP: one status and stable code per variant; internal failures are
//! logged with their cause and answered with a generic message.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use shared::{complaint::DomainError, http::ApiError};

use crate::error::ServiceError;

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(invalid) => ApiError::validation(invalid.field, invalid.message),
            ServiceError::Refused(DomainError::DoesNotExist) => {
                not_found("the complaint does not exist")
            }
            ServiceError::Refused(refusal) => refused(&refusal),
            ServiceError::Forbidden(reason) => ApiError::forbidden(reason),
            ServiceError::NotFound(id) => not_found(format!("complaint {id} does not exist")),
            ServiceError::VersionConflict { expected, current } => ApiError::conflict(
                "VERSION_CONFLICT",
                format!(
                    "the complaint is at version {current}, not {expected}: it changed since; \
                     read it again and retry"
                ),
            )
            .with_details(json!({ "expectedVersion": expected, "currentVersion": current })),
            ServiceError::VersionNotWritten { requested, current } => ApiError::conflict(
                "VERSION_NOT_WRITTEN",
                format!(
                    "the complaint is at version {current}; version {requested} has not been \
                     written (minVersion is a version a command answered with)"
                ),
            )
            .with_details(json!({ "requestedVersion": requested, "currentVersion": current }))
            .retry_after(1),
            ServiceError::ReadModelBehind { requested, shown } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "READ_MODEL_BEHIND",
                format!(
                    "version {requested} is written but the read model is still at {shown}; \
                     try again shortly"
                ),
            )
            .with_details(json!({ "requestedVersion": requested, "readModelVersion": shown }))
            .retry_after(1),
            ServiceError::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                "this Idempotency-Key was already used with a different request body; \
                 use a new key for a new request",
            ),
            ServiceError::BadHeader { header, message } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_HEADER",
                format!("{header}: {message}"),
            )
            .with_details(json!({ "header": header })),
            ServiceError::InvalidCursor(error) => ApiError::invalid_cursor(&error),
            ServiceError::Database(error) => ApiError::database(error),
            error @ (ServiceError::CorruptEvent(_) | ServiceError::Inconsistent(_)) => {
                ApiError::internal(error)
            }
        }
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "COMPLAINT_NOT_FOUND", message)
}

/// A command the complaint's state does not allow: 409 with the domain's own code.
fn refused(refusal: &DomainError) -> ApiError {
    let error = ApiError::conflict(refusal.code(), refusal.to_string());
    match refusal {
        DomainError::InvalidTransition { from, action } => {
            error.with_details(json!({ "status": from, "action": action }))
        }
        DomainError::ReopenWindowExpired { window_ended_at } => {
            error.with_details(json!({ "windowEndedAt": window_ended_at }))
        }
        _ => error,
    }
}
