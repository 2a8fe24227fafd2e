//! A server-side deadline on every request: a handler still working when it passes is
//! dropped (its database calls are cancelled with it) and the client gets a 503 with the JSON
//! error and `Retry-After`, instead of waiting on a request that holds connections and CPU.

use super::error::ApiError;
use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::time::Duration;

/// Middleware; the state is the deadline (`HttpSettings::request_timeout`).
pub async fn enforce(State(deadline): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                deadline_ms = deadline.as_millis(),
                "request deadline passed"
            );
            passed(deadline)
        }
    }
}

fn passed(deadline: Duration) -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "DEADLINE_EXCEEDED",
        format!(
            "the request did not complete within {} ms; try again shortly",
            deadline.as_millis()
        ),
    )
    .retry_after(1)
    .into_response()
}
