//! `POST /api/events/replay/{streamId}`.

use super::{params, ApiState};
use crate::{
    error::Error,
    replay::{Targets, Versions},
    streams::names,
};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::http::{ApiError, ErrorBody, Json, Path};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplayRequest {
    /// A Redis stream to append the events to (the configured prefix is added); consume it
    /// with the consumer-group routes under `/api/events/redis-streams`.
    #[schema(
        example = "replay-complaint-1",
        pattern = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
    )]
    redis_stream: Option<String>,
    /// Also publish to the `events.replay` exchange, with the original routing keys and the
    /// header `x-replay: true`.
    #[serde(default)]
    exchange: bool,
    /// The first version to replay (default 1).
    #[schema(minimum = 1)]
    from_version: Option<i64>,
    /// The last version to replay (default: the stream's last). A replay sends at most
    /// 10,000 events: replay a longer stream in parts. Below `fromVersion` it selects nothing
    /// (404), like any range without events.
    #[schema(minimum = 1)]
    to_version: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayResult {
    /// Events replayed (to each target).
    pub count: usize,
    pub redis_stream: Option<String>,
    pub exchange: bool,
}

/// Re-publishes a stream's events, in version order and unchanged (same event ids), to a Redis
/// stream and/or the `events.replay` exchange. At least one target is needed. More than
/// 10,000 matching events is a 422 `TOO_LARGE` before anything is sent.
#[utoipa::path(post, path = "/api/events/replay/{streamId}", tag = "events",
    params(("streamId" = String, Path, description = "`<aggregateType>-<aggregateId>`")),
    request_body = ReplayRequest,
    responses(
        (status = 200, body = ReplayResult),
        (status = 400, body = ErrorBody, description = "A bad parameter"),
        (status = 404, body = ErrorBody, description = "No events to replay"),
        (status = 409, body = ErrorBody, description = "The Redis key exists and is not a stream"),
        (status = 422, body = ErrorBody, description = "No target, a body of the wrong shape, or more events than one replay sends (`TOO_LARGE`)"),
        (status = 503, body = ErrorBody, description = "A target is unavailable"),
    ))]
pub async fn replay(
    State(state): State<ApiState>,
    Path(stream_id): Path<String>,
    Json(request): Json<ReplayRequest>,
) -> Result<Json<ReplayResult>, ApiError> {
    let from_version = params::version("fromVersion", request.from_version)?.unwrap_or(1);
    let to_version = params::version("toVersion", request.to_version)?;
    let redis_stream = request
        .redis_stream
        .as_deref()
        .map(|name| names::name("redisStream", name))
        .transpose()?;
    if redis_stream.is_none() && !request.exchange {
        return Err(Error::validation(
            "redisStream",
            "name a Redis stream, or set `exchange` to true, or both",
        )
        .into());
    }
    let targets = Targets {
        redis_stream,
        exchange: request.exchange,
    };
    let count = state
        .replayer
        .replay(
            &stream_id,
            Versions {
                from: from_version,
                to: to_version,
            },
            &targets,
        )
        .await?;
    Ok(Json(ReplayResult {
        count,
        redis_stream: targets.redis_stream,
        exchange: targets.exchange,
    }))
}

/// What the derive cannot say of [`ReplayRequest`]: it needs `redisStream`, or `exchange`
/// true, or both (else 422). Written into the document as `allOf` with an `anyOf`.
pub fn require_a_target(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, Type};
    let Some(schemas) = doc.components.as_mut().map(|c| &mut c.schemas) else {
        return;
    };
    let Some(request) = schemas.remove("ReplayRequest") else {
        return;
    };
    let to_stream = ObjectBuilder::new().required("redisStream");
    let to_exchange = ObjectBuilder::new()
        .property(
            "exchange",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([true])),
        )
        .required("exchange");
    let targeted = AllOfBuilder::new()
        .item(request)
        .item(AnyOfBuilder::new().item(to_stream).item(to_exchange))
        .build();
    schemas.insert("ReplayRequest".to_owned(), Schema::AllOf(targeted).into());
}
