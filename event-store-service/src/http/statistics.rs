//! `GET /api/events/statistics`.

use super::ApiState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::http::{ApiError, ErrorBody, Json};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatisticsView {
    /// Stored events (the last position: positions have no gaps).
    pub total_events: u64,
    /// The highest position (equal to `totalEvents`: positions have no gaps).
    pub last_position: i64,
    pub by_event_type: BTreeMap<String, u64>,
    pub by_aggregate_type: BTreeMap<String, u64>,
    /// Per Redis domain stream (`complaints-stream`, …), the events mirrored to it.
    pub by_domain_stream: BTreeMap<String, u64>,
}

/// Counts of stored events per type, aggregate type and domain stream, counted at most 5 s
/// ago (one count at a time, shared by concurrent requests). Meant for operators, not for
/// hot paths.
#[utoipa::path(get, path = "/api/events/statistics", tag = "events",
    responses((status = 200, body = StatisticsView), (status = 503, body = ErrorBody)))]
pub async fn statistics(State(state): State<ApiState>) -> Result<Json<StatisticsView>, ApiError> {
    let stats = state.store.statistics().await?;
    Ok(Json(StatisticsView {
        total_events: stats.total,
        last_position: stats.last_position,
        by_event_type: stats.by_event_type,
        by_aggregate_type: stats.by_aggregate_type,
        by_domain_stream: stats.by_domain_stream,
    }))
}
