//! The complaint API: commands and queries on `/api/complaints`, and the read model's
//! operations on `/api/admin/projections`.

mod access;
mod admin;
mod commands;
mod error;
mod headers;
mod queries;
mod requests;
mod sagas;

use axum::{
    extract::FromRequestParts,
    http::request::Parts,
    routing::{get, post, put},
    Router,
};
use shared::http::{ApiError, Path};
use std::sync::Arc;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::{
    commands::CommandService, projection::projector::Projections, queries::QueryService,
    saga::recovery::SagaRecovery,
};

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub commands: Arc<CommandService>,
    pub queries: Arc<QueryService>,
    pub projections: Projections,
    /// For the saga routes, which read the saga store directly.
    pub pool: sqlx::PgPool,
    /// Lists, retries and abandons sagas.
    pub sagas: Arc<SagaRecovery>,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/complaints", post(commands::create).get(queries::list))
        .route("/api/complaints/statistics", get(queries::statistics))
        .route("/api/complaints/{id}", get(queries::get_one))
        .route(
            "/api/complaints/{id}/assign",
            put(commands::assign).patch(commands::assign),
        )
        .route(
            "/api/complaints/{id}/process",
            put(commands::process).patch(commands::process),
        )
        .route(
            "/api/complaints/{id}/resolve",
            put(commands::resolve).patch(commands::resolve),
        )
        .route(
            "/api/complaints/{id}/close",
            put(commands::close).patch(commands::close),
        )
        .route(
            "/api/complaints/{id}/reopen",
            put(commands::reopen).patch(commands::reopen),
        )
        .route(
            "/api/complaints/{id}/priority",
            put(commands::change_priority).patch(commands::change_priority),
        )
        .route("/api/complaints/{id}/sagas", get(sagas::of_complaint))
        .route("/api/sagas", get(sagas::list))
        .route("/api/sagas/{saga_id}", get(sagas::one))
        .route("/api/sagas/{saga_id}/retry", post(sagas::retry))
        .route("/api/sagas/{saga_id}/abandon", post(sagas::abandon))
        .route("/api/admin/projections", get(admin::status))
        .route("/api/admin/projections/rebuild", post(admin::rebuild))
        .with_state(state)
}

/// The `{id}` of a complaint route. Anything that is not a complaint id names no complaint:
/// 404, like an id that does not exist.
#[derive(Debug, Clone, Copy, utoipa::IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct ComplaintId(
    /// The complaint's id (a UUID)
    pub Uuid,
);

impl<S: Send + Sync> FromRequestParts<S> for ComplaintId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        raw.parse().map(Self).map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "COMPLAINT_NOT_FOUND",
                format!("no complaint has the id {raw:?}"),
            )
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "complaint-service",
        description = "Commands and queries on complaints (CQRS, event-sourced). Commands \
            answer with the complaint's new `version` (also its `ETag`); reads come from \
            projections that may lag a few milliseconds behind: pass `minVersion` to wait for \
            your own write."
    ),
    paths(
        commands::create, commands::assign, commands::process, commands::resolve,
        commands::close, commands::reopen, commands::change_priority,
        queries::list, queries::get_one, queries::statistics,
        admin::rebuild, admin::status,
        sagas::of_complaint, sagas::one, sagas::list, sagas::retry, sagas::abandon,
    ),
    components(schemas(shared::http::ErrorBody)),
    tags(
        (name = "complaints", description = "Complaints: commands and queries"),
        (name = "admin", description = "The read model's operations"),
        (name = "sagas", description = "The choreographed sagas of each complaint, and their \
            recovery: list, retry, abandon"),
    )
)]
struct ApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub use access::ACCESS;
