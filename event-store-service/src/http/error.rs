//! From the service's error to the JSON error every service answers with: one table from
//! variant to status and code. Dependencies that are down are a 503; our own failures are
//! logged with their cause and answered with a generic 500.

use crate::error::Error;
use axum::{http::StatusCode, response::IntoResponse};
use mongodb::error::ErrorKind;
use serde_json::json;
use shared::{http::ApiError, messaging::PublishError};

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidParameter { field, reason } => ApiError::invalid_query(field, reason),
            Error::Validation { field, reason } => ApiError::validation(field, reason),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::TooLarge { field, reason } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "TOO_LARGE",
                format!("{field}: {reason}"),
            )
            .with_details(json!({ "field": field, "reason": reason })),
            Error::Unreconstructible {
                ref event_id,
                version,
                ref reason,
            } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "STATE_NOT_RECONSTRUCTIBLE",
                format!("the stream cannot be folded into a state: event {event_id} (version {version}) does not decode"),
            )
            .with_details(json!({ "eventId": event_id, "version": version, "reason": reason })),
            Error::Mongo(ref cause) if mongo_unavailable(cause) => {
                tracing::warn!(%error, "MongoDB unavailable");
                ApiError::unavailable("MongoDB")
            }
            Error::Redis(ref cause) if cause.code() == Some("WRONGTYPE") => ApiError::conflict(
                "WRONG_KEY_TYPE",
                "that Redis key exists and is not a stream",
            ),
            Error::Redis(ref cause)
                if cause.is_io_error() || cause.is_timeout() || cause.is_connection_dropped() =>
            {
                tracing::warn!(%error, "Redis unavailable");
                ApiError::unavailable("Redis")
            }
            Error::Publish(PublishError::Unavailable(_) | PublishError::Timeout) => {
                tracing::warn!(%error, "RabbitMQ unavailable");
                ApiError::unavailable("RabbitMQ")
            }
            other => ApiError::internal(other),
        }
    }
}

fn mongo_unavailable(error: &mongodb::error::Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
    )
}

impl IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
