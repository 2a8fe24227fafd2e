//! The audit API (`/api/audit`).

mod access;
mod correlation;
mod error;
mod params;
mod search;
mod trail;
mod verify;
mod views;

use crate::store::Store;
use axum::{routing::get, Router};
use std::sync::Arc;
use tokio::sync::Mutex;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "audit-service",
        description = "Tamper-evident audit trail of every event of every service"
    ),
    paths(
        trail::trail,
        search::search,
        search::events,
        correlation::correlation,
        verify::verify
    ),
    tags((name = "audit", description = "The audit trail: queries and verification"))
)]
struct ApiDoc;

/// What the handlers share.
#[derive(Clone)]
pub struct AuditApi {
    store: Store,
    verify_page_size: u32,
    /// One walk of the chain at a time per instance: a verification reads every entry, so
    /// requests arriving together take turns instead of multiplying the load.
    verifying: Arc<Mutex<()>>,
}

impl AuditApi {
    pub fn new(store: Store, verify_page_size: u32) -> Self {
        Self {
            store,
            verify_page_size,
            verifying: Arc::default(),
        }
    }
}

pub fn router(api: AuditApi) -> Router {
    Router::new()
        .route("/api/audit/trail/{aggregate_id}", get(trail::trail))
        .route("/api/audit/search", get(search::search))
        .route("/api/audit/events", get(search::events))
        .route(
            "/api/audit/correlation/{correlation_id}",
            get(correlation::correlation),
        )
        .route("/api/audit/verify", get(verify::verify))
        .with_state(api)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub use access::ACCESS;
