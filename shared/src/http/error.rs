//! The one JSON error shape of every service: `{"error":{"code","message","details"}}`.
//!
//! Each service maps its own error enum into [`ApiError`]; an internal failure is logged with
//! its cause chain and answered with a generic message, so no response leaks internals.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Sent as `Retry-After` (seconds): when the same request may succeed.
    pub retry_after_seconds: Option<u16>,
}

/// The body of every error response (for OpenAPI documents).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorContent,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorContent {
    /// Stable, machine-readable: `VALIDATION_FAILED`, `NOT_FOUND`, `VERSION_CONFLICT`…
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after_seconds: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Tells the client to try the same request again after `seconds`.
    pub fn retry_after(mut self, seconds: u16) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// A value of the body that breaks its rules: 422 VALIDATION_FAILED naming the `field`.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::about_field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            field,
            message,
        )
    }

    /// A query-string parameter the client must fix: 400 INVALID_QUERY naming the `field`.
    pub fn invalid_query(field: &str, reason: impl Into<String>) -> Self {
        Self::about_field(StatusCode::BAD_REQUEST, "INVALID_QUERY", field, reason)
    }

    /// A `cursor` that is not the `nextCursor` of a previous page: 400 INVALID_CURSOR.
    pub fn invalid_cursor(error: &super::cursor::InvalidCursor) -> Self {
        Self::about_field(
            StatusCode::BAD_REQUEST,
            "INVALID_CURSOR",
            "cursor",
            format!("{error}; pass back the nextCursor of a previous page unchanged"),
        )
    }

    /// An error about one field, with the field and the reason under `details` as well, so a
    /// client can point at it without parsing the message.
    fn about_field(
        status: StatusCode,
        code: &'static str,
        field: &str,
        reason: impl Into<String>,
    ) -> Self {
        let reason = reason.into();
        Self::new(status, code, format!("{field}: {reason}"))
            .with_details(serde_json::json!({ "field": field, "reason": reason }))
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", what)
    }

    /// The caller is known but its roles do not allow the request.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unavailable(dependency: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "DEPENDENCY_UNAVAILABLE",
            format!("{dependency} is unavailable; try again shortly"),
        )
        .retry_after(1)
    }

    /// A PostgreSQL failure: 503 if the database cannot serve now
    /// ([`crate::postgres::is_unavailable`]), a logged 500 otherwise.
    pub fn database(error: sqlx::Error) -> Self {
        if crate::postgres::is_unavailable(&error) {
            tracing::warn!(%error, "PostgreSQL unavailable");
            Self::unavailable("PostgreSQL")
        } else {
            Self::internal(error)
        }
    }

    /// Logs `error` with its chain of causes; the client learns only that it was ours.
    pub fn internal(error: impl std::error::Error) -> Self {
        tracing::error!(error = %error, causes = %causes_of(&error), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "an internal error occurred",
        )
    }
}

impl From<super::cursor::InvalidCursor> for ApiError {
    fn from(error: super::cursor::InvalidCursor) -> Self {
        Self::invalid_cursor(&error)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// The sources under `error`, outermost first, joined by ": " ("" when it has none), so a
/// log line says why, not only what.
fn causes_of(error: &dyn std::error::Error) -> String {
    let mut causes = Vec::new();
    let mut next = error.source();
    while let Some(cause) = next {
        causes.push(cause.to_string());
        next = cause.source();
    }
    causes.join(": ")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorContent {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
