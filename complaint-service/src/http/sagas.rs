//! The saga routes: where each saga of a complaint stands, and one saga in full.

use axum::extract::State;
use shared::http::{ApiError, ErrorBody, Json, Path};
use uuid::Uuid;

use super::{ApiState, ComplaintId};
use crate::{
    error::ServiceError,
    saga::{model::Saga, store},
};

/// The sagas of a complaint, oldest first, with their steps.
#[utoipa::path(get, path = "/api/complaints/{id}/sagas", tag = "sagas",
    params(ComplaintId),
    responses(
        (status = 200, body = [Saga], description = "Its sagas (none yet is an empty list)"),
        (status = 404, body = ErrorBody, description = "Not a complaint id"),
    ))]
pub async fn of_complaint(
    State(state): State<ApiState>,
    id: ComplaintId,
) -> Result<Json<Vec<Saga>>, ApiError> {
    let sagas = store::of_complaint(&state.pool, &id.0.to_string())
        .await
        .map_err(ServiceError::from)?;
    Ok(Json(sagas))
}

/// One saga with its steps and times.
#[utoipa::path(get, path = "/api/sagas/{sagaId}", tag = "sagas",
    params(("sagaId" = Uuid, Path, description = "The saga's id")),
    responses(
        (status = 200, body = Saga),
        (status = 404, body = ErrorBody, description = "No such saga"),
    ))]
pub async fn one(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
) -> Result<Json<Saga>, ApiError> {
    let not_found = || {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "SAGA_NOT_FOUND",
            format!("no saga has the id {raw:?}"),
        )
    };
    let Ok(saga_id) = raw.parse::<Uuid>() else {
        return Err(not_found());
    };
    match store::by_id(&state.pool, saga_id)
        .await
        .map_err(ServiceError::from)?
    {
        Some(saga) => Ok(Json(saga)),
        None => Err(not_found()),
    }
}
