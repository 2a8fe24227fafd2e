//! The saga routes: where each saga of a complaint stands, one saga in full, and recovery:
//! the list of sagas by status and type, retry of a failed saga, abandon with a reason.

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use shared::http::cursor::Keyset;
use shared::{
    complaint::Reason,
    http::{ApiError, ErrorBody, Json, Path, Query},
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ApiState, ComplaintId};
use crate::{
    error::ServiceError,
    listing::{self, Cursor},
    saga::{
        model::{Saga, SagaKind, SagaStatus},
        recovery::{RecoveryError, SagaPage},
        store::{self, SagaFilter},
    },
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
    let saga_id = saga_id(&raw)?;
    match store::by_id(&state.pool, saga_id)
        .await
        .map_err(ServiceError::from)?
    {
        Some(saga) => Ok(Json(saga)),
        None => Err(not_found(&raw)),
    }
}

/// Filters and paging of the saga list; the filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SagaListParams {
    /// One status or several, comma-separated (`FAILED,RUNNING`), in any case: RUNNING,
    /// COMPLETED, FAILED, COMPENSATING, COMPENSATED, ABANDONED.
    #[param(
        pattern = "^ *(RUNNING|COMPLETED|FAILED|COMPENSATING|COMPENSATED|ABANDONED)? *(, *(RUNNING|COMPLETED|FAILED|COMPENSATING|COMPENSATED|ABANDONED)? *)*$"
    )]
    status: Option<String>,
    /// One saga type or several: ACKNOWLEDGEMENT, ASSIGNMENT, ESCALATION.
    #[serde(rename = "type")]
    #[param(
        rename = "type",
        pattern = "^ *(ACKNOWLEDGEMENT|ASSIGNMENT|ESCALATION)? *(, *(ACKNOWLEDGEMENT|ASSIGNMENT|ESCALATION)? *)*$"
    )]
    kind: Option<String>,
    /// The `nextCursor` of the previous page (the hex of `<micros>|<uuid>`, as the complaint
    /// list's).
    #[param(
        pattern = "^(3[0-9]){1,16}7c(3[0-9]|6[1-6]){8}2d(3[0-9]|6[1-6]){4}2d(3[0-9]|6[1-6]){4}2d(3[0-9]|6[1-6]){4}2d(3[0-9]|6[1-6]){12}$"
    )]
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Sagas of every complaint, newest first, one page at a time: the operator's view for
/// finding the failed ones.
#[utoipa::path(get, path = "/api/sagas", tag = "sagas", params(SagaListParams),
    responses(
        (status = 200, body = SagaPage),
        (status = 400, description = "Malformed cursor", body = ErrorBody),
        (status = 422, description = "Unknown status or type, limit out of range", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    Query(params): Query<SagaListParams>,
) -> Result<Json<SagaPage>, ApiError> {
    let filter = SagaFilter {
        statuses: listing::parse_list(params.status.as_deref(), SagaStatus::parse_filter)
            .map_err(ServiceError::from)?,
        kinds: listing::parse_list(params.kind.as_deref(), SagaKind::parse_filter)
            .map_err(ServiceError::from)?,
    };
    let cursor = params.cursor.as_deref().map(Cursor::decode).transpose()?;
    let limit = listing::parse_limit(params.limit).map_err(ServiceError::from)?;
    Ok(Json(state.sagas.list(&filter, cursor, limit).await?))
}

/// Resumes a FAILED saga at its failed step: the same saga, its next attempt, a new deadline
/// (SAGA_RETRIED). An answer that came after it failed completes the step at once.
#[utoipa::path(post, path = "/api/sagas/{sagaId}/retry", tag = "sagas",
    params(("sagaId" = Uuid, Path, description = "The saga's id")),
    responses(
        (status = 200, body = Saga, description = "Resumed (RUNNING or COMPENSATING), or \
            already COMPLETED by an answer that came late"),
        (status = 404, body = ErrorBody, description = "No such saga"),
        (status = 409, body = ErrorBody, description = "`SAGA_NOT_RETRYABLE`: not FAILED, \
            or failed by a refusal that waiting again would not change"),
    ))]
pub async fn retry(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
) -> Result<Json<Saga>, ApiError> {
    let saga_id = saga_id(&raw)?;
    Ok(Json(state.sagas.retry(saga_id).await?))
}

/// Why an operator closes a saga.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AbandonRequest {
    /// 1 to 500 characters; the audit trail keeps it (SAGA_ABANDONED).
    #[schema(value_type = Reason)]
    pub reason: String,
}

/// Closes a saga for good (ABANDONED) with a reason (SAGA_ABANDONED): a FAILED one nobody
/// will retry, or a RUNNING or COMPENSATING one nobody will answer.
#[utoipa::path(post, path = "/api/sagas/{sagaId}/abandon", tag = "sagas",
    request_body = AbandonRequest,
    params(("sagaId" = Uuid, Path, description = "The saga's id")),
    responses(
        (status = 200, body = Saga, description = "Abandoned"),
        (status = 404, body = ErrorBody, description = "No such saga"),
        (status = 409, body = ErrorBody, description = "`SAGA_CLOSED`: already COMPLETED, \
            COMPENSATED or ABANDONED"),
        (status = 422, body = ErrorBody, description = "No reason, or one too long"),
    ))]
pub async fn abandon(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
    Json(request): Json<AbandonRequest>,
) -> Result<Json<Saga>, ApiError> {
    let saga_id = saga_id(&raw)?;
    let reason = Reason::parse(request.reason).map_err(ServiceError::from)?;
    Ok(Json(state.sagas.abandon(saga_id, &reason).await?))
}

/// Anything that is not a saga id names no saga: 404, like an id that does not exist.
fn saga_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| not_found(raw))
}

fn not_found(raw: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "SAGA_NOT_FOUND",
        format!("no saga has the id {raw:?}"),
    )
}

impl From<RecoveryError> for ApiError {
    fn from(error: RecoveryError) -> Self {
        match error {
            RecoveryError::NotFound(id) => not_found(&id.to_string()),
            RecoveryError::NotRetryable(refusal) => {
                ApiError::conflict("SAGA_NOT_RETRYABLE", refusal.to_string())
            }
            RecoveryError::AlreadyClosed(refusal) => {
                ApiError::conflict("SAGA_CLOSED", refusal.to_string())
            }
            RecoveryError::Service(error) => error.into(),
        }
    }
}
