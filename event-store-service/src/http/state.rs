//! `GET /api/events/state/{aggregateId}`: a complaint rebuilt from its events, now or at a
//! version or time in the past.

use super::{params, ApiState};
use crate::{error::Error, placement, state};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::{
    complaint::{Complaint, AGGREGATE_TYPE},
    http::{ApiError, ErrorBody, Json, Path, Query},
};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StateParams {
    /// Fold the events up to this version only.
    #[param(minimum = 1)]
    at_version: Option<i64>,
    /// Fold the events recorded at or before this time only (RFC 3339).
    as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AggregateState {
    pub aggregate_id: String,
    #[schema(example = "Complaint")]
    pub aggregate_type: String,
    /// The version of the state (the number of events folded).
    pub version: i64,
    /// How many stored events were read.
    pub event_count: usize,
    /// When the last folded event was recorded.
    pub last_event_at: Option<DateTime<Utc>>,
    /// The complaint, field for field as `shared::complaint::Complaint` serializes it.
    pub state: Complaint,
}

/// The complaint `aggregateId` rebuilt with the aggregate's own `evolve`. `atVersion` and
/// `asOf` travel back in time. A 404 when no event matches.
#[utoipa::path(get, path = "/api/events/state/{aggregateId}", tag = "events",
    params(("aggregateId" = String, Path, description = "A complaint id"), StateParams),
    responses(
        (status = 200, body = AggregateState),
        (status = 400, body = ErrorBody, description = "A bad parameter"),
        (status = 404, body = ErrorBody, description = "No events for that complaint (then)"),
        (status = 422, body = ErrorBody, description = "A stored event does not decode"),
    ))]
pub async fn state(
    State(api): State<ApiState>,
    Path(aggregate_id): Path<String>,
    Query(query): Query<StateParams>,
) -> Result<Json<AggregateState>, ApiError> {
    let at_version = params::version("atVersion", query.at_version)?;
    let stream_id = placement::stream_id(AGGREGATE_TYPE, &aggregate_id);
    let events = api
        .store
        .events_until(&stream_id, at_version, query.as_of)
        .await?;
    let Some(last) = events.last() else {
        let when = match (at_version, query.as_of) {
            (None, None) => String::new(),
            _ => " at that version or time".to_owned(),
        };
        return Err(
            Error::NotFound(format!("no events for complaint {aggregate_id:?}{when}")).into(),
        );
    };
    let last_event_at = Some(last.metadata.timestamp);
    let complaint = state::rebuild(&aggregate_id, &events)?;
    Ok(Json(AggregateState {
        aggregate_id,
        aggregate_type: AGGREGATE_TYPE.to_owned(),
        version: complaint.version,
        event_count: events.len(),
        last_event_at,
        state: complaint,
    }))
}
