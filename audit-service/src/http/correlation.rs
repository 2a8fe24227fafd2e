//! `GET /api/audit/correlation/{correlationId}`: the whole causal chain of one request or
//! saga, across services.

use super::{
    params::NoParams,
    views::{with_marks, CausalEntryView, CorrelationView},
    AuditApi,
};
use crate::{
    causal::{causal_order, CausalNode},
    error::AuditError,
};
use axum::extract::State;
use shared::http::{ErrorBody, Json, Path, Query};

/// The most entries one answer holds.
const CAP: u32 = 5000;

/// Every entry sharing the correlation id, each after the event that caused it and otherwise
/// in time order, with its depth in the causal tree (see `causal`).
#[utoipa::path(
    get,
    path = "/api/audit/correlation/{correlationId}",
    tag = "audit",
    params(("correlationId" = String, Path, description = "The correlation id of a request or saga")),
    responses(
        (status = 200, description = "The causal chain", body = CorrelationView),
        (status = 400, description = "An unknown parameter", body = ErrorBody),
        (status = 404, description = "No entry has this correlation id", body = ErrorBody),
    )
)]
pub async fn correlation(
    State(api): State<AuditApi>,
    Path(correlation_id): Path<String>,
    Query(_no_params): Query<NoParams>,
) -> Result<Json<CorrelationView>, AuditError> {
    let page = api.store.correlation(&correlation_id, CAP).await?;
    if page.items.is_empty() {
        return Err(AuditError::NotFound(format!(
            "no audit entry has correlation id {correlation_id:?}"
        )));
    }
    let nodes: Vec<CausalNode> = page
        .items
        .iter()
        .map(|e| CausalNode {
            event_id: e.content.event_id,
            causation_id: e.content.causation_id.clone(),
            occurred_at: e.content.occurred_at,
            sequence: e.content.sequence,
        })
        .collect();
    let placements = causal_order(&nodes);
    let mut views: Vec<Option<_>> = with_marks(&api.store, page.items)
        .await?
        .into_iter()
        .map(Some)
        .collect();
    let entries = placements
        .into_iter()
        .filter_map(|p| {
            Some(CausalEntryView {
                entry: views[p.index].take()?,
                depth: p.depth,
                parent_event_id: p.parent.map(|parent| nodes[parent].event_id),
            })
        })
        .collect();
    Ok(Json(CorrelationView {
        correlation_id,
        entries,
        truncated: page.has_more,
    }))
}
