//! Consumer groups on Redis streams, for clients that replay over HTTP:
//! `/api/events/redis-streams/{stream}/groups/{group}/…`. `{stream}` is a domain stream
//! (`complaints-stream`, …) or a replay target the service wrote, without the configured
//! prefix; any other name is a 404 and never becomes a Redis key.

use super::{params, ApiState};
use crate::{
    error::Error,
    streams::{names, Claimed, Entry, Pending},
};
use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use shared::http::{ApiError, ErrorBody, Json, Path, Query};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

const MAX_COUNT: usize = 1000;
const MAX_BLOCK_MS: u64 = 30_000;
const MAX_IDLE_MS: u64 = 1_000_000_000_000;

#[derive(Debug, Deserialize)]
pub struct GroupPath {
    stream: String,
    group: String,
}

impl GroupPath {
    /// The stream and group, if both are valid names and the stream is one of ours.
    async fn checked(self, state: &ApiState) -> Result<(String, String), Error> {
        let stream = names::name("stream", &self.stream)?;
        let group = names::name("group", &self.group)?;
        if !state.redis.owns(&stream).await? {
            return Err(Error::NotFound(format!(
                "no stream {stream:?}: name a domain stream or a replay target"
            )));
        }
        Ok((stream, group))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CreateParams {
    /// `0` (default): from the start of the stream; `$`: only entries added from now; or an id.
    #[param(pattern = r"^(0|\$|[0-9]{1,19}(-[0-9]{1,19})?)$")]
    start_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub created: bool,
}

/// Creates a consumer group (idempotent): 201 if created, 200 if it existed.
#[utoipa::path(put, path = "/api/events/redis-streams/{stream}/groups/{group}", tag = "redis-streams",
    params(("stream" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"), ("group" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"), CreateParams),
    responses((status = 201, body = Created), (status = 200, body = Created), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "Not one of the service's streams")))]
pub async fn create(
    State(state): State<ApiState>,
    Path(path): Path<GroupPath>,
    Query(query): Query<CreateParams>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let (stream, group) = path.checked(&state).await?;
    let start = names::group_start(query.start_id.as_deref().unwrap_or("0"))?;
    let created = state.redis.create_group(&stream, &group, &start).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(Created { created })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// The reading consumer; entries become pending for it until acknowledged.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    consumer: String,
    /// At most this many entries (default 10, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    count: Option<usize>,
    /// Wait up to this long for entries when none is there (default 0: answer at once; at most 30000).
    #[param(maximum = 30000)]
    block_ms: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Entries {
    pub entries: Vec<Entry>,
}

/// XREADGROUP: entries never delivered to the group, in stream order. A group read for the
/// first time is created at the start of the stream.
#[utoipa::path(get, path = "/api/events/redis-streams/{stream}/groups/{group}/read", tag = "redis-streams",
    params(("stream" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"), ("group" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"), ReadParams),
    responses((status = 200, body = Entries), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "Not one of the service's streams"), (status = 503, body = ErrorBody)))]
pub async fn read(
    State(state): State<ApiState>,
    Path(path): Path<GroupPath>,
    Query(query): Query<ReadParams>,
) -> Result<Json<Entries>, ApiError> {
    let (stream, group) = path.checked(&state).await?;
    let consumer = names::name("consumer", &query.consumer)?;
    let count = params::limit(query.count, 10, MAX_COUNT)
        .map_err(|_| Error::invalid("count", format!("must be between 1 and {MAX_COUNT}")))?;
    let block = match query.block_ms {
        Some(ms) if ms > MAX_BLOCK_MS => {
            return Err(Error::invalid("blockMs", format!("at most {MAX_BLOCK_MS}")).into())
        }
        ms => Duration::from_millis(ms.unwrap_or(0)),
    };
    let entries = state
        .redis
        .read_group(&stream, &group, &consumer, count, block)
        .await?;
    Ok(Json(Entries { entries }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    /// Entry ids, as read.
    #[schema(value_type = Vec<EntryIdDoc>, min_items = 1, max_items = 1000)]
    ids: Vec<String>,
}

/// A stream entry id as Redis hands it out (`1700000000000-3`), for the OpenAPI document.
struct EntryIdDoc;

impl utoipa::PartialSchema for EntryIdDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{1,19}(-[0-9]{1,19})?$"))
            .into()
    }
}

impl ToSchema for EntryIdDoc {}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Acked {
    /// How many of the ids were pending (and are not any more).
    pub acked: u64,
}

/// XACK: the entries are handled; they leave the group's pending list.
#[utoipa::path(post, path = "/api/events/redis-streams/{stream}/groups/{group}/ack", tag = "redis-streams",
    params(("stream" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"), ("group" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")), request_body = AckRequest,
    responses((status = 200, body = Acked), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ack(
    State(state): State<ApiState>,
    Path(path): Path<GroupPath>,
    Json(request): Json<AckRequest>,
) -> Result<Json<Acked>, ApiError> {
    let (stream, group) = path.checked(&state).await?;
    if request.ids.is_empty() || request.ids.len() > MAX_COUNT {
        return Err(Error::validation("ids", format!("give 1 to {MAX_COUNT} entry ids")).into());
    }
    let ids = request
        .ids
        .iter()
        .map(|id| names::entry_id("ids", id))
        .collect::<Result<Vec<_>, _>>()?;
    let acked = state.redis.ack(&stream, &group, &ids).await?;
    Ok(Json(Acked { acked }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimRequest {
    /// The consumer taking the entries over.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    consumer: String,
    /// Only entries pending for at least this long (their consumer is presumed dead); at
    /// most 10^12 ms (Redis takes a signed 64-bit count; past it, Redis itself fails).
    #[schema(maximum = 1_000_000_000_000_u64)]
    min_idle_ms: u64,
    /// Where to scan the pending list from (default `0-0`; then the previous `nextStart`).
    #[schema(pattern = r"^[0-9]{1,19}(-[0-9]{1,19})?$")]
    start: Option<String>,
    /// At most this many entries (default 100, at most 1000).
    #[schema(minimum = 1, maximum = 1000)]
    count: Option<usize>,
}

/// XAUTOCLAIM: a live consumer takes over what a dead one left pending.
#[utoipa::path(post, path = "/api/events/redis-streams/{stream}/groups/{group}/claim", tag = "redis-streams",
    params(("stream" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"), ("group" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")), request_body = ClaimRequest,
    responses((status = 200, body = Claimed), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn claim(
    State(state): State<ApiState>,
    Path(path): Path<GroupPath>,
    Json(request): Json<ClaimRequest>,
) -> Result<Json<Claimed>, ApiError> {
    let (stream, group) = path.checked(&state).await?;
    let consumer = names::name("consumer", &request.consumer)?;
    if request.min_idle_ms > MAX_IDLE_MS {
        return Err(Error::invalid("minIdleMs", format!("at most {MAX_IDLE_MS}")).into());
    }
    let start = names::entry_id("start", request.start.as_deref().unwrap_or("0-0"))?;
    let count = params::limit(request.count, 100, MAX_COUNT)
        .map_err(|_| Error::invalid("count", format!("must be between 1 and {MAX_COUNT}")))?;
    let claimed = state
        .redis
        .claim(
            &stream,
            &group,
            &consumer,
            Duration::from_millis(request.min_idle_ms),
            &start,
            count,
        )
        .await?;
    Ok(Json(claimed))
}

/// XPENDING: how many entries are delivered and not acknowledged, per consumer.
#[utoipa::path(get, path = "/api/events/redis-streams/{stream}/groups/{group}/pending", tag = "redis-streams",
    params(("stream" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"), ("group" = String, Path, pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")),
    responses((status = 200, body = Pending), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pending(
    State(state): State<ApiState>,
    Path(path): Path<GroupPath>,
) -> Result<Json<Pending>, ApiError> {
    let (stream, group) = path.checked(&state).await?;
    Ok(Json(state.redis.pending(&stream, &group).await?))
}
