//! `GET /api/events/state/{aggregateId}`: a complaint rebuilt from its events, now or at a
//! version or time in the past, starting from the stream's snapshot when it can (and keeping
//! a new one every `limits.snapshot_every` events).

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
    /// How many stored events were read (those after the snapshot, when one was used).
    pub event_count: usize,
    /// The version of the snapshot the fold started from, if one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<i64>,
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
    let every = api.store.limits().snapshot_every;
    let kept = match every {
        0 => None,
        _ => api.store.snapshot(&stream_id).await?,
    };
    let start = kept
        .as_ref()
        .and_then(|kept| Some((kept, state::start_from(kept, at_version, query.as_of)?)));
    let (covered, snapshot_at, start) = match start {
        Some((kept, state)) => (kept.version, Some(kept.last_event_at), state),
        None => (0, None, Complaint::empty(&aggregate_id)),
    };
    let events = api
        .store
        .events_until(&stream_id, covered, at_version, query.as_of)
        .await?;
    let Some(last_event_at) = events.last().map(|e| e.metadata.timestamp).or(snapshot_at) else {
        let when = match (at_version, query.as_of) {
            (None, None) => String::new(),
            _ => " at that version or time".to_owned(),
        };
        return Err(
            Error::NotFound(format!("no events for complaint {aggregate_id:?}{when}")).into(),
        );
    };
    let complaint = state::rebuild_from(start, &events)?;
    if let Some(last) = events.last() {
        if let Some(snapshot) =
            state::snapshot_to_keep(every, covered, kept.as_ref(), last, &complaint)
        {
            // A snapshot is a shortcut: failing to keep one costs the next read time, not
            // this read its answer.
            if let Err(error) = api.store.save_snapshot(&snapshot).await {
                tracing::warn!(%stream_id, error = %error, "could not keep a snapshot");
            }
        }
    }
    Ok(Json(AggregateState {
        aggregate_id,
        aggregate_type: AGGREGATE_TYPE.to_owned(),
        version: complaint.version,
        event_count: events.len(),
        snapshot_version: (covered > 0).then_some(covered),
        last_event_at: Some(last_event_at),
        state: complaint,
    }))
}
