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

impl CorrelationId {
    /// A new id for a request that came without one. Time-ordered (UUIDv7), because the audit
    /// trail and the event store index every event by it: random ids land each insert on a
    /// random page of an index larger than the cache, new ids on its last pages.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

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
        .unwrap_or_else(|| CorrelationId::generate().0);
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
            .unwrap_or_else(CorrelationId::generate))
    }
}

#[cfg(test)]
mod tests {
    use super::CorrelationId;
    use std::time::Duration;

    #[test]
    fn generated_ids_sort_in_the_order_they_were_made() {
        let made: Vec<String> = (0..10)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(2));
                CorrelationId::generate().0
            })
            .collect();
        let mut sorted = made.clone();
        sorted.sort();
        assert_eq!(made, sorted);
        assert!(made.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
    }
}
