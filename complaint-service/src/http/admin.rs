//! Operators' routes for the read model: its lag, and a rebuild from the event store.

use axum::extract::State;
use shared::http::{ApiError, ErrorBody, Json};

use super::ApiState;
use crate::projection::{projector::ProjectionStatus, rebuild::Rebuilt};

/// Replays every event into a new read model beside the live one and swaps it in (readers
/// see the old read model until the swap commits). The result is the state the events
/// describe, whatever the read model held before.
#[utoipa::path(post, path = "/api/admin/projections/rebuild", tag = "admin",
    responses((status = 200, body = Rebuilt), (status = 503, body = ErrorBody)))]
pub async fn rebuild(State(state): State<ApiState>) -> Result<Json<Rebuilt>, ApiError> {
    Ok(Json(state.projections.rebuild().await?))
}

/// How far the read model is behind the event store.
#[utoipa::path(get, path = "/api/admin/projections", tag = "admin",
    responses((status = 200, body = ProjectionStatus)))]
pub async fn status(State(state): State<ApiState>) -> Result<Json<ProjectionStatus>, ApiError> {
    Ok(Json(state.projections.status().await?))
}
