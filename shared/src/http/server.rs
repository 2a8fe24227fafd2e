//! Turning a service's API router into the whole HTTP surface, and serving it until shutdown.

use super::{
    control_characters, correlation, dead_letters, deadline, error::ApiError, openapi, probes,
};
use crate::{auth::Access, messaging::Broker};
use axum::{
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::Response,
    routing::get,
    Json, Router,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    pub host: String,
    /// `PORT`; 0 picks a free port (tests).
    pub port: u16,
    /// `CORRELATION_ID_HEADER`.
    pub correlation_header: String,
    pub body_limit_bytes: usize,
    /// The longest a request may take before it is answered 503 `DEADLINE_EXCEEDED`
    /// (`APP_HTTP__REQUEST_TIMEOUT`, milliseconds).
    #[serde(with = "crate::config::millis")]
    pub request_timeout: Duration,
}

impl HttpSettings {
    pub fn on_port(port: u16) -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port,
            correlation_header: "x-correlation-id".to_owned(),
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }

    pub async fn bind(&self) -> std::io::Result<TcpListener> {
        TcpListener::bind((self.host.as_str(), self.port)).await
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self::on_port(0)
    }
}

/// What every service serves beside its own API.
pub struct Operations {
    pub readiness: probes::Readiness,
    pub broker: Broker,
    pub openapi: utoipa::openapi::OpenApi,
    /// Who may call which route of `api` (and the shared dead-letter routes).
    pub access: Access,
}

/// The service's API, guarded by `ops.access` (a bearer token with a role the route
/// admits), plus probes, metrics, dead-letter routes and its OpenAPI document, with
/// correlation ids, request metrics, a body limit, a deadline, control characters refused in
/// path and query, and JSON answers for unknown routes. The document lists the statuses this
/// edge adds to every operation.
pub fn service_router(api: Router, ops: Operations, settings: &HttpSettings) -> Router {
    let header = HeaderName::try_from(settings.correlation_header.as_str())
        .unwrap_or_else(|_| HeaderName::from_static("x-correlation-id"));
    let mut openapi = ops.openapi;
    openapi.merge(<dead_letters::DeadLetterApi as utoipa::OpenApi>::openapi());
    openapi::document_edge_responses(&mut openapi);
    let access = ops.access.with_rules(dead_letters::ACCESS);
    let unguarded = openapi::document_security(&mut openapi, &access);
    assert!(
        unguarded.is_empty(),
        "operations without an access rule: {unguarded:?}"
    );
    // Everything routed so far needs a token; the probes, /metrics and the document below
    // stay open.
    api.merge(dead_letters::routes(ops.broker))
        .route_layer(middleware::from_fn_with_state(access, Access::guard))
        .merge(probes::routes(ops.readiness, crate::telemetry::metrics()))
        .route(
            "/api-docs/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { Json(doc) }
            }),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(middleware::from_fn_with_state(
            settings.request_timeout,
            deadline::enforce,
        ))
        .layer(middleware::from_fn(control_characters::refuse))
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn_with_state(
            header,
            correlation::propagate,
        ))
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this route does not accept that method",
    )
}

/// `http_requests_total` and `http_request_duration_seconds`, labelled by route template
/// (never the raw path, which would make labels unbounded).
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Serves until `shutdown`, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
