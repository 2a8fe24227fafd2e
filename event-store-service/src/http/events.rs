//! Reading the log: one aggregate stream in version order, and every event in global order.

use super::{params, ApiState};
use crate::{
    error::{Error, Result},
    store::{AllFilter, EventDocument},
};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::{
    event::Envelope,
    http::{ApiError, ErrorBody, Json, Path, Query},
};
use utoipa::{IntoParams, ToSchema};

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

/// A stored event: the envelope as published, plus where the log keeps it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    /// The global position: 1, 2, 3… in the order the log stored events, with no gap.
    pub position: i64,
    /// `<aggregateType>-<aggregateId>`.
    #[schema(example = "Complaint-0190a6f2-7c3e-7b1a-9a4e-000000000001")]
    pub stream_id: String,
    pub stored_at: DateTime<Utc>,
    #[serde(flatten)]
    pub envelope: Envelope,
}

impl StoredEvent {
    pub fn from_document(document: &EventDocument) -> Result<Self> {
        Ok(Self {
            position: document.position,
            stream_id: document.stream_id.clone(),
            stored_at: document.stored_at(),
            envelope: document.envelope()?,
        })
    }
}

fn stored(documents: &[EventDocument]) -> Result<Vec<StoredEvent>> {
    documents.iter().map(StoredEvent::from_document).collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// The first version to return (default 1).
    #[param(minimum = 1)]
    from_version: Option<i64>,
    /// At most this many events (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// A page of one stream.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamPage {
    pub stream_id: String,
    pub events: Vec<StoredEvent>,
    /// The `fromVersion` of the next page, when there is one.
    pub next_from_version: Option<i64>,
}

/// The events of one aggregate stream, in version order.
///
/// In streams whose producers do not keep unique versions (everything but complaints),
/// events sharing a version come in storage order, and a page may end inside such a group:
/// page those with `GET /api/events/all?aggregateType=…&aggregateId=…` instead.
#[utoipa::path(get, path = "/api/events/stream/{streamId}", tag = "events",
    params(("streamId" = String, Path, description = "`<aggregateType>-<aggregateId>`, e.g. `Complaint-<id>`"), StreamParams),
    responses(
        (status = 200, body = StreamPage),
        (status = 400, body = ErrorBody, description = "A bad parameter"),
        (status = 404, body = ErrorBody, description = "No event in that stream"),
    ))]
pub async fn stream(
    State(state): State<ApiState>,
    Path(stream_id): Path<String>,
    Query(query): Query<StreamParams>,
) -> Result<Json<StreamPage>, ApiError> {
    let from_version = params::version("fromVersion", query.from_version)?.unwrap_or(1);
    let limit = params::limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let mut page = state
        .store
        .stream_page(&stream_id, (from_version, None), None, limit + 1)
        .await?;
    let has_more = page.len() > limit;
    page.truncate(limit);
    if page.is_empty() && from_version == 1 {
        return Err(Error::NotFound(format!("no events in stream {stream_id:?}")).into());
    }
    let next_from_version = has_more
        .then(|| page.last().map(|e| e.version + 1))
        .flatten();
    Ok(Json(StreamPage {
        stream_id,
        events: stored(&page)?,
        next_from_version,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AllParams {
    /// The cursor: return events after this position (default 0, the start of the log).
    #[param(minimum = 0)]
    after: Option<i64>,
    /// At most this many events (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Only events of this type (types outside the catalogue are stored too).
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$"
    )]
    event_type: Option<String>,
    /// Only events of this aggregate type, e.g. `Complaint`.
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$"
    )]
    aggregate_type: Option<String>,
    /// Only events of this aggregate.
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$"
    )]
    aggregate_id: Option<String>,
    /// Only events of this correlation id.
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$"
    )]
    correlation_id: Option<String>,
    /// Only events at or after this time (RFC 3339; write a `+` offset as `%2B`, or use `Z`).
    from: Option<DateTime<Utc>>,
    /// Only events before this time.
    to: Option<DateTime<Utc>>,
}

/// A page of the global log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllPage {
    pub events: Vec<StoredEvent>,
    /// Pass as `after` for the next page (also when this one is empty or the last: events
    /// stored later will follow it).
    pub next_after: i64,
    /// Whether more events may match after `nextAfter`.
    pub has_more: bool,
}

/// Every event in global order, paged with a cursor on the position. Paging from `after=0`
/// with each answer's `nextAfter` visits every event exactly once, also while events are
/// being stored: positions are written in order and never reused.
///
/// Without filters, or with one of `eventType`, `aggregateType`, `aggregateId`,
/// `correlationId`, a page holds `limit` events unless the log ends; so does a time range
/// alone that holds at most 5,000 events. With a larger time range or several filters, a page
/// looks at 10,000 positions of the log at most, so it may hold fewer events, even none,
/// while `hasMore` is true: keep following `nextAfter`.
#[utoipa::path(get, path = "/api/events/all", tag = "events", params(AllParams),
    responses(
        (status = 200, body = AllPage),
        (status = 400, body = ErrorBody, description = "A bad parameter"),
    ))]
pub async fn all(
    State(state): State<ApiState>,
    Query(query): Query<AllParams>,
) -> Result<Json<AllPage>, ApiError> {
    let after = match query.after {
        Some(after) if after < 0 => {
            return Err(Error::invalid("after", "a position is 0 or more").into())
        }
        other => other.unwrap_or(0),
    };
    let limit = params::limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let filter = AllFilter {
        event_type: params::not_blank("eventType", query.event_type)?,
        aggregate_type: params::not_blank("aggregateType", query.aggregate_type)?,
        aggregate_id: params::not_blank("aggregateId", query.aggregate_id)?,
        correlation_id: params::not_blank("correlationId", query.correlation_id)?,
        from: query.from,
        to: query.to,
    };
    // A `to` not after `from` is an empty interval, not a mistake (an OpenAPI document cannot
    // say that one parameter must exceed another): nothing matches, and the store is not asked.
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from >= to {
            return Ok(Json(AllPage {
                next_after: after,
                events: Vec::new(),
                has_more: false,
            }));
        }
    }
    let page = state.store.page_all(&filter, after, limit).await?;
    Ok(Json(AllPage {
        events: stored(&page.events)?,
        next_after: page.next_after,
        has_more: page.has_more,
    }))
}
