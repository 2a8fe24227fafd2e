//! `X-Correlation-ID`: accepted from the caller (or generated), echoed on the response, put on
//! the request's tracing span so every log line carries it, and handed to handlers so it rides
//! on into event metadata and AMQP.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{request::Parts, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use std::convert::Infallible;
use tracing::Instrument;

/// The request's correlation id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationId(pub String);

const MAX_LEN: usize = 128;

/// Middleware; the state is the header name (`CORRELATION_ID_HEADER`, `x-correlation-id` by default).
pub async fn propagate(State(header): State<HeaderName>, mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= MAX_LEN)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(CorrelationId(id.clone()));
    let span = tracing::info_span!(
        "request",
        correlation_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let mut response = next.run(req).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(header, value);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for CorrelationId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CorrelationId>()
            .cloned()
            .unwrap_or_else(|| CorrelationId(uuid::Uuid::new_v4().to_string())))
    }
}
